import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { manPage, manSources } from './man-page.js';

// Run at build, after emit-schema: writes dist/whyport.1 (package.json's "man", so npm install -g
// installs it) from the programs --help prints, the built-in playbooks and the code's exit statuses.
writeFileSync(join(PACKAGE_ROOT, 'dist', 'whyport.1'), manPage(await manSources()));
