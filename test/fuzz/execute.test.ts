/**
 * Fuzzing `Lun.execute` in `npm test`: a few thousand generated cases (see execute.fuzz-cases.ts for
 * the generator and the invariants). `npm run fuzz` runs a million. `FUZZ_SEED` and `FUZZ_CASES`
 * override the seed and the count; a failure names its case index, which regenerates it exactly.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense } from '../../src/index.js';
import { runFuzz, summarize } from './execute.fuzz-cases.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed);
const CASES = Number(process.env['FUZZ_CASES'] ?? 20_000);

describe('execute fuzz', () => {
  it(`${CASES} cases of seed ${SEED} satisfy every invariant`, () => {
    const report = runFuzz({ seed: SEED, cases: CASES });
    console.log(summarize(report));
    expect(report.cases).toBe(CASES);
    expect(report.failures, summarize(report)).toBe(0);
  });

  // Not part of the generated cases (the brief of the fuzzer covers the CDB, Data-Out and initiator),
  // but the same invariant: a caller-supplied Data-In buffer that is not a Uint8Array must not turn
  // into HARDWARE ERROR / INTERNAL TARGET FAILURE, nor into Data-In of another type.
  describe('junk ExecuteOptions.dataIn', () => {
    const array = new StorageArray({ capacityBytes: 1 << 20, allocationUnitBytes: 4096, arrayId: 1 });
    const lun = array.createLun({ sizeBytes: 65536 });
    const cases: Array<[string, unknown]> = [
      ['null', null],
      ['a long string', 'x'.repeat(4096)],
      ['a number', 42],
      ['a plain array', new Array(4096).fill(0)],
      ['a Uint16Array', new Uint16Array(4096)],
      ['an object with a length', { length: 4096 }],
    ];
    it('READ(16) with a dataIn that is not a Uint8Array: no internal failure, and Data-In a Uint8Array', () => {
      const wrong: string[] = [];
      for (const [name, dataIn] of cases) {
        const r = lun.execute(cdb.read16({ lba: 0, blocks: 2 }), undefined, { dataIn } as never);
        if (r instanceof Promise) throw new Error('unexpected Promise');
        const reason = decodeSense(r.sense)?.reason;
        if (reason === 'INTERNAL_TARGET_FAILURE') wrong.push(`${name}: 04/44/00 INTERNAL TARGET FAILURE`);
        else if (r.status === 0 && !(r.data?.constructor === Uint8Array)) wrong.push(`${name}: Data-In is a ${r.data?.constructor.name}`);
      }
      expect(wrong).toEqual([]);
    });
  });
});
