import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share network namespaces, systemd containers and ports: run files one by one.
    fileParallelism: false,
    reporters: ['default'],
  },
});
