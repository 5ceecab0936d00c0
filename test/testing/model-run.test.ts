/**
 * The kit's command set used directly, as a user's own suite would: `fc.modelRun` (synchronous, an
 * in-process LUN), `fc.asyncModelRun`, and `fc.scheduledModelRun`. Each passes against the array
 * and fails against one that answers WRITE SAME with UNMAP without doing it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageArray } from '../../src/index.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { kitCommands, kitSetup, kitSyncCommands, startKitRun, type KitSetup, type KitSystem } from '../../src/testing/index.js';

function lun(): ScsiTarget {
  return new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096 }).createLun({ sizeBytes: 8 << 20 });
}

/** WRITE SAME(16) with UNMAP answered GOOD and not done. */
function stale(t: ScsiTarget): ScsiTarget {
  return { execute: (c, d, o) => (c[0] === 0x93 && (c[1]! & 0x08) !== 0 ? { status: 0x00 } : t.execute(c, d, o)) };
}

const system = (kit: KitSetup): KitSystem => ({ nexuses: kit.nexuses, space: kit.space, invariants: [], log: [], count: 0 });

async function syncProperty(target: ScsiTarget, seed: number) {
  const kit = await kitSetup(target, { initiators: ['a', 'b'] });
  return await fc.check(
    fc.asyncProperty(fc.commands(kitSyncCommands(kit.space, 2), { maxCommands: 20 }), async (cmds) => {
      const real = system(kit);
      const model = await startKitRun(real, kit.capabilities.unmappedReadsZero);
      fc.modelRun(() => ({ model, real }), cmds);
    }),
    { numRuns: 100, seed },
  );
}

async function asyncProperty(target: ScsiTarget, seed: number, scheduled: boolean) {
  const kit = await kitSetup(target, { initiators: ['a', 'b'] });
  if (scheduled) {
    return await fc.check(
      fc.asyncProperty(fc.scheduler(), fc.commands(kitCommands(kit.space, 2), { maxCommands: 20 }), async (s, cmds) => {
        const real = system(kit);
        const model = await startKitRun(real, kit.capabilities.unmappedReadsZero);
        await fc.scheduledModelRun(s, () => ({ model, real }), cmds);
      }),
      { numRuns: 100, seed },
    );
  }
  return await fc.check(
    fc.asyncProperty(fc.commands(kitCommands(kit.space, 2), { maxCommands: 20 }), async (cmds) => {
      const real = system(kit);
      const model = await startKitRun(real, kit.capabilities.unmappedReadsZero);
      await fc.asyncModelRun(() => ({ model, real }), cmds);
    }),
    { numRuns: 100, seed },
  );
}

describe('the kit command set with fast-check directly', () => {
  it('fc.modelRun: passes against the array, fails against a stale WRITE SAME UNMAP', async () => {
    expect((await syncProperty(lun(), 3)).failed).toBe(false);
    expect((await syncProperty(stale(lun()), 3)).failed).toBe(true);
  });

  it('fc.asyncModelRun: the same', async () => {
    expect((await asyncProperty(lun(), 4, false)).failed).toBe(false);
    expect((await asyncProperty(stale(lun()), 4, false)).failed).toBe(true);
  });

  it('fc.scheduledModelRun: the same, with the runs of the commands ordered by the scheduler', async () => {
    expect((await asyncProperty(lun(), 5, true)).failed).toBe(false);
    expect((await asyncProperty(stale(lun()), 5, true)).failed).toBe(true);
  });

  it('fc.modelRun refuses a target that answers asynchronously, saying why', async () => {
    const inner = lun();
    const slow: ScsiTarget = { execute: async (c, d, o) => await inner.execute(c, d, o) };
    const details = await syncProperty(slow, 1);
    expect(details.failed).toBe(true);
    expect(String(details.errorInstance)).toMatch(/answers synchronously/);
  });
});
