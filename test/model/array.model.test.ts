/**
 * Model-based test of the array (style.md item 9): random sequences of WRITE(16), READ(16),
 * WRITE SAME(16) (zero, pattern, NDOB, with and without UNMAP), UNMAP, COMPARE AND WRITE, EXTENDED
 * COPY and growPool run on a share-mode and on a copy-mode array and on the reference model; after
 * every command status, sense, Data-In, every LUN's contents and mapped units, and the pool's
 * accounting must agree. `broken-arrays.test.ts` shows that the same property fails for broken arrays.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { arrayMatchesModel, commandsFrom as c, modelStats, runScenario } from './model-commands.js';

/**
 * Runs per property and commands per run. `MODEL_RUNS=5000 npx vitest run test/model/array.model.test.ts`
 * runs more (about 14 s per 1000 runs).
 */
const NUM_RUNS = Number(process.env['MODEL_RUNS'] ?? 500);
const MAX_COMMANDS = 60;
const TIMEOUT = 60_000 + NUM_RUNS * 100;

describe('array vs reference model', () => {
  for (const mode of ['share', 'copy'] as const) {
    it(`${mode} mode: ${NUM_RUNS} runs of up to ${MAX_COMMANDS} commands agree with the model`, () => {
      fc.assert(arrayMatchesModel(mode, MAX_COMMANDS), { numRuns: NUM_RUNS });
    }, TIMEOUT);
  }

  describe('regressions found by this property', () => {
    it('EXTENDED COPY of a piece onto itself (an extent the destination shares) is a no-op that needs no space', () => {
      // Unit 0 of LUN 0 is shared with unit 0 of LUN 1; copying block 0 of LUN 0 onto itself changed
      // nothing but asked the pool for a unit, so on a full pool it failed with 07/27/07.
      const { real } = runScenario('share', [
        c.write16(0, 0, 8, 1),
        c.extendedCopy(0, [{ src: 0, dst: 1, srcLba: 0, dstLba: 0, blocks: 8 }]),
        c.extendedCopy(0, [{ src: 0, dst: 0, srcLba: 0, dstLba: 0, blocks: 1 }]),
      ]);
      expect(real.array.poolStatus.allocatedUnits).toBe(1);
    });
  });

  // Directed scenarios for rules the random runs reach only now and then; each is checked against
  // the model step by step, and its end state against numbers worked out by hand. Pool: 12 units,
  // 4 reserved by the thick LUN 2, so 8 for the thin LUNs 0 and 1.
  describe('directed scenarios', () => {
    it('UNMAP keeps a partial piece of a shared unit when the pool is full; partial zeroing needs a unit', () => {
      const { real, rulesHit } = runScenario('share', [
        c.write16(0, 0, 8, 1),
        c.extendedCopy(0, [{ src: 0, dst: 1, srcLba: 0, dstLba: 0, blocks: 8 }]), // LUN 1 unit 0 shares LUN 0 unit 0
        c.write16(0, 8, 56, 2), // 8 units allocated: the pool is full
        c.unmap(1, [{ lba: 2, blocks: 3 }]), // would need a unit: kept, GOOD
        c.writeSame16(1, 2, 3, false, 'zero'), // needs a unit: 07/27/07
        c.writeSame16(1, 0, 16, true, 'ndob'), // whole units only: GOOD
        c.unmap(0, [{ lba: 56, blocks: 8 }, { lba: 2, blocks: 3 }]), // frees unit 7, then zeroes in place
      ]);
      expect(rulesHit).toContain('unmap: partial piece kept for lack of space');
      expect(rulesHit).toContain('out of space: partial zeroing');
      expect(real.array.poolStatus.allocatedUnits).toBe(7);
    });

    it('sharing a thick LUN unit charges it once; short last units are shared too', () => {
      const { real, rulesHit } = runScenario('share', [
        c.write16(2, 0, 8, 3),
        c.write16(0, 0, 64, 4), // the pool is full
        c.extendedCopy(1, [{ src: 2, dst: 0, srcLba: 0, dstLba: 0, blocks: 8 }]), // +1 charged, -1 released: GOOD
        c.extendedCopy(1, [{ src: 2, dst: 1, srcLba: 0, dstLba: 0, blocks: 8 }]), // already charged: GOOD
        c.write16(2, 0, 1, 5), // copy-on-write on the thick side
        c.write16(2, 8, 8, 6),
        c.extendedCopy(2, [{ src: 2, dst: 1, srcLba: 8, dstLba: 8, blocks: 8 }]), // needs a unit: 07/27/07
        c.write16(2, 24, 4, 7),
        c.extendedCopy(2, [{ src: 2, dst: 1, srcLba: 24, dstLba: 56, blocks: 4 }]), // short unit: needs a unit
        c.unmap(0, [{ lba: 8, blocks: 8 }]),
        c.extendedCopy(2, [{ src: 2, dst: 1, srcLba: 24, dstLba: 56, blocks: 4 }]), // short unit shared
        c.read16(1, 56, 4),
      ]);
      expect(rulesHit).toContain('xcopy piece: share');
      expect(rulesHit).toContain('write to a shared slot');
      expect(rulesHit).toContain('out of space: xcopy at first piece');
      expect(real.array.poolStatus.allocatedUnits).toBe(8);
    });

    it('an overlapping backward copy that runs out of space keeps the pieces done from the end', () => {
      const { real, rulesHit } = runScenario('copy', [
        c.write16(0, 0, 24, 8),
        c.write16(1, 0, 40, 9), // the pool is full
        c.unmap(1, [{ lba: 32, blocks: 8 }]), // one unit free
        c.extendedCopy(0, [{ src: 0, dst: 0, srcLba: 4, dstLba: 20, blocks: 20 }]), // last piece done, then 07/27/07
        c.read16(0, 0, 40),
      ]);
      expect(rulesHit).toContain('xcopy: overlapping, backward');
      expect(rulesHit).toContain('out of space: xcopy after progress');
      expect(real.array.poolStatus.allocatedUnits).toBe(8);
    });
  });

  afterAll(() => {
    const commands = [...modelStats.byCommand].map(([k, v]) => `${k}: ${v}`).join(', ');
    const outcomes = [...modelStats.outcomes].map(([k, v]) => `${k}: ${v}`).join(', ');
    const coverage = [...modelStats.coverage].sort().map(([k, v]) => `  ${k}: ${v}`).join('\n');
    console.log(`[model] ${modelStats.runs} runs, ${modelStats.steps} model steps (${commands}); outcomes ${outcomes}\nrules hit:\n${coverage}`);
  });
});
