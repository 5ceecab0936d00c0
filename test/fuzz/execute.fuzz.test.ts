/**
 * The long fuzz run (`npm run fuzz`): one million generated cases against `Lun.execute`, with the
 * generator and invariants of execute.fuzz-cases.ts. The seed is random unless `FUZZ_SEED` is set,
 * and printed, so that any failure is reproduced with `FUZZ_SEED=<seed>` and its case index.
 * `FUZZ_CASES` overrides the count.
 */
import { expect, it } from 'vitest';
import { runFuzz, summarize } from './execute.fuzz-cases.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? crypto.getRandomValues(new Uint32Array(1))[0]);
const CASES = Number(process.env['FUZZ_CASES'] ?? 1_000_000);

it(`execute: ${CASES} fuzz cases (seed ${SEED}) satisfy every invariant`, () => {
  console.log(`[fuzz] seed ${SEED}, ${CASES} cases`);
  const report = runFuzz({
    seed: SEED,
    cases: CASES,
    progressEvery: 100_000,
    onProgress: (done, r) => console.log(`[fuzz] ${done} cases, ${r.failures} failures, ${(r.milliseconds / 1000).toFixed(0)} s`),
  });
  console.log(summarize(report));
  expect(report.cases).toBe(CASES);
  expect(report.failures, summarize(report)).toBe(0);
});
