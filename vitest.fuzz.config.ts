import { defineConfig } from 'vitest/config';

// `npm run fuzz`: the long fuzz and model runs (a million fuzz cases), kept out of `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.fuzz.test.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
  },
});
