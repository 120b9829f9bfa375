// Run by store.test.ts as a separate process: saves a baseline with a hook that stops between the
// write (done and fsync'd) and the rename, says where the temporary file is, and waits to be killed.
// argv: <URL of the compiled store.js> <baseline file> <marker written into the baseline's host>
const [storeUrl, file, marker] = process.argv.slice(2);
const { saveBaseline } = await import(storeUrl);
const baseline = { whyport: 'baseline', version: 1, host: marker, savedAt: new Date().toISOString(), listeners: [] };
await saveBaseline(file, baseline, {
  beforeRename: (temp) => {
    process.stdout.write(`paused ${temp}\n`);
    // Keep the process alive (an unsettled promise alone would let node exit).
    setInterval(() => {}, 1000);
    return new Promise(() => {});
  },
});
process.stdout.write('renamed\n');
