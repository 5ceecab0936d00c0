/**
 * The I/O filter chain and changed block tracking: filters pass, alter, fail, delay and issue their
 * own I/O; the host paths work through a chain unchanged; change notifications cover offloads; CBT
 * never misses a changed block (a fast-check property, shown able to fail) and refuses stale IDs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type Lun, type ScsiResult } from '../../src/index.js';
import { cloneRange } from '../../src/host/data-mover.js';
import { ChangeTrackingError, ChangedBlockTracker, allocatedAreas } from '../../src/host/filters/cbt.js';
import { FilterChain, FilterDomain, type IoFilter } from '../../src/host/filters/chain.js';
import type { LbaRange } from '../../src/host/filters/changes.js';
import { LockManager } from '../../src/host/lock-manager.js';
import { zeroRange } from '../../src/host/zeroing.js';
import { expectBytes, pattern } from '../array/helpers.js';

const BLOCKS = 256;

function disks(n = 2, unit = 4096) {
  const array = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: unit });
  return { array, luns: Array.from({ length: n }, () => array.createLun({ sizeBytes: BLOCKS * 512 })) };
}

async function contents(lun: Lun): Promise<Uint8Array> {
  return (await lun.execute(cdb.read16({ lba: 0, blocks: BLOCKS }))).data!;
}

/** Blocks whose bytes differ between two images of the disk. */
function differing(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = [];
  for (let blk = 0; blk < a.length / 512; blk++) {
    for (let i = blk * 512; i < (blk + 1) * 512; i++) {
      if (a[i] !== b[i]) {
        out.push(blk);
        break;
      }
    }
  }
  return out;
}

function covered(areas: readonly LbaRange[], lba: number): boolean {
  return areas.some((r) => lba >= r.lba && lba < r.lba + r.blocks);
}

describe('filter chain', () => {
  it('keeps the execute contract: the data mover, zeroing and the lock manager work through a chain', async () => {
    const { luns } = disks();
    const domain = new FilterDomain();
    const [a, b] = await Promise.all(luns.map((l) => FilterChain.create(l, { domain })));
    await a!.execute(cdb.write16({ lba: 0, blocks: 64 }), pattern(64 * 512, 3));
    const report = await cloneRange({ source: a!, destination: b!, blocks: 64 });
    expect(report.offloadedBytes).toBe(64 * 512);
    expectBytes((await luns[1]!.execute(cdb.read16({ lba: 0, blocks: 64 }))).data, pattern(64 * 512, 3));
    expect((await zeroRange({ target: b!, lba: 0, blocks: 16 })).offloadedBytes).toBe(16 * 512);
    const locks = new LockManager({ target: a!, hostId: 1, method: 'ats', sleep: async () => undefined });
    await locks.acquire(200);
    await locks.release(200);
    expect(locks.stats.acquisitions).toBe(1);
  });

  it('filters pass, alter, fail and delay commands, and issue their own I/O below themselves', async () => {
    const { luns } = disks(1);
    const seen: string[] = [];
    const log: IoFilter = {
      name: 'log',
      async execute(r, next) {
        seen.push(`down ${r.cdb[0]!.toString(16)}`);
        const result = await next(r);
        seen.push(`up ${result.status}`);
        return result;
      },
    };
    // Alters every WRITE(16) to LBA 5 into a WRITE(16) to LBA 6.
    const redirect: IoFilter = {
      name: 'redirect',
      execute: async (r, next) => (r.cdb[0] === 0x8a && r.cdb[9] === 5 ? await next({ ...r, cdb: cdb.write16({ lba: 6, blocks: 1 }) }) : await next(r)),
    };
    // Fails UNMAP without passing it on.
    const noUnmap: IoFilter = { name: 'no-unmap', execute: async (r, next) => (r.cdb[0] === 0x42 ? ({ status: 0x02, sense: Uint8Array.of(0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0) } satisfies ScsiResult) : await next(r)) };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const delay: IoFilter = { name: 'delay', execute: async (r, next) => (r.cdb[0] === 0x35 ? (await gate, await next(r)) : await next(r)) };
    const chain = await FilterChain.create(luns[0]!, { filters: [log, redirect, noUnmap, delay] });
    seen.length = 0;
    expect((await chain.execute(cdb.write16({ lba: 5, blocks: 1 }), pattern(512, 9))).status).toBe(0);
    expect(seen).toEqual(['down 8a', 'up 0']);
    expectBytes((await luns[0]!.execute(cdb.read16({ lba: 6, blocks: 1 }))).data, pattern(512, 9));
    expect((await luns[0]!.execute(cdb.read16({ lba: 5, blocks: 1 }))).data!.every((x) => x === 0)).toBe(true);
    const list = cdb.unmapParameterList([{ lba: 6, blocks: 1 }]);
    expect((await chain.execute(cdb.unmap({ parameterListLength: list.length }), list)).status).toBe(0x02);
    expectBytes((await luns[0]!.execute(cdb.read16({ lba: 6, blocks: 1 }))).data, pattern(512, 9)); // not unmapped
    let synced = false;
    const pending = chain.execute(cdb.synchronizeCache10()).then(() => (synced = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(synced).toBe(false);
    release();
    await pending;
    expect(synced).toBe(true);
    // Own I/O from 'redirect' goes below it: 'log' (above) does not see it.
    seen.length = 0;
    const own = await chain.issueBelow(redirect, cdb.read16({ lba: 6, blocks: 1 }));
    expectBytes(own.data, pattern(512, 9));
    expect(seen).toEqual([]);
  });

  it('tells filters what changed, offloads included, on the disk the offload named', async () => {
    const { luns } = disks(2);
    const domain = new FilterDomain();
    const heard: Array<[number, LbaRange[]]> = [];
    const listener = (disk: number): IoFilter => ({ name: `listen-${disk}`, changed: (r) => void heard.push([disk, [...r]]) });
    const [a, b] = [await FilterChain.create(luns[0]!, { domain, filters: [listener(0)] }), await FilterChain.create(luns[1]!, { domain, filters: [listener(1)] })];
    const step = async (fn: () => Promise<unknown>) => {
      heard.length = 0;
      await fn();
      return heard.slice();
    };
    expect(await step(() => a.execute(cdb.write10({ lba: 3, blocks: 2 }), new Uint8Array(1024)))).toEqual([[0, [{ lba: 3, blocks: 2 }]]]);
    expect(await step(() => a.execute(cdb.writeSame16({ lba: 250, blocks: 0 }), new Uint8Array(512)))).toEqual([[0, [{ lba: 250, blocks: 6 }]]]); // to the last LBA
    const list = cdb.unmapParameterList([{ lba: 10, blocks: 4 }, { lba: 100, blocks: 1 }]);
    expect(await step(() => a.execute(cdb.unmap({ parameterListLength: list.length }), list))).toEqual([[0, [{ lba: 10, blocks: 4 }, { lba: 100, blocks: 1 }]]]);
    const miscompare = new Uint8Array(1024);
    miscompare[0] = 1;
    expect(await step(() => a.execute(cdb.compareAndWrite({ lba: 20, blocks: 1 }), miscompare))).toEqual([]);
    expect(await step(() => a.execute(cdb.compareAndWrite({ lba: 20, blocks: 1 }), new Uint8Array(1024)))).toEqual([[0, [{ lba: 20, blocks: 1 }]]]);
    expect(await step(() => a.execute(cdb.write16({ lba: 255, blocks: 2 }), new Uint8Array(1024)))).toEqual([]); // refused: nothing changed
    const xcopy = cdb.extendedCopyParameterList({
      cscds: [{ designator: luns[0]!.naaDesignator, blockSize: 512 }, { designator: luns[1]!.naaDesignator, blockSize: 512 }],
      segments: [{ source: 0, destination: 1, blocks: 8, sourceLba: 0, destinationLba: 40 }, { source: 0, destination: 0, blocks: 2, sourceLba: 0, destinationLba: 1 }],
    });
    // Sent through disk 0's chain, the first segment changes disk 1: its chain hears it.
    expect(await step(() => a.execute(cdb.extendedCopy(xcopy.length), xcopy))).toEqual([[1, [{ lba: 40, blocks: 8 }]], [0, [{ lba: 1, blocks: 2 }]]]);
    expect(b.designator).toEqual(luns[1]!.naaDesignator);
  });
});

describe('changed block tracking', () => {
  /** One guest or offload operation through the chains. */
  type Op =
    | { kind: 'write'; disk: number; lba: number; blocks: number; seed: number }
    | { kind: 'zero'; disk: number; lba: number; blocks: number; unmap: boolean }
    | { kind: 'unmap'; disk: number; lba: number; blocks: number }
    | { kind: 'caw'; disk: number; lba: number; seed: number }
    | { kind: 'copy'; from: number; to: number; src: number; dst: number; blocks: number }
    | { kind: 'checkpoint' };
  const disk = fc.nat({ max: 1 });
  const extent = fc.tuple(fc.nat({ max: BLOCKS - 1 }), fc.integer({ min: 1, max: 40 })).map(([lba, n]) => ({ lba, blocks: Math.min(n, BLOCKS - lba) }));
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ disk, e: extent, seed: fc.integer({ min: 1, max: 1000 }) }).map(({ disk, e, seed }) => ({ kind: 'write' as const, disk, ...e, seed })) },
    { weight: 1, arbitrary: fc.record({ disk, e: extent, unmap: fc.boolean() }).map(({ disk, e, unmap }) => ({ kind: 'zero' as const, disk, ...e, unmap })) },
    { weight: 1, arbitrary: fc.record({ disk, e: extent }).map(({ disk, e }) => ({ kind: 'unmap' as const, disk, ...e })) },
    { weight: 1, arbitrary: fc.record({ disk, lba: fc.nat({ max: BLOCKS - 1 }), seed: fc.integer({ min: 1, max: 1000 }) }).map((r) => ({ kind: 'caw' as const, ...r })) },
    { weight: 2, arbitrary: fc.record({ from: disk, to: disk, e: extent, dst: fc.nat({ max: BLOCKS - 1 }) }).map(({ from, to, e, dst }) => ({ kind: 'copy' as const, from, to, src: e.lba, dst, blocks: Math.min(e.blocks, BLOCKS - dst) })) },
    { weight: 2, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  );

  async function apply(o: Exclude<Op, { kind: 'checkpoint' }>, chains: FilterChain[], luns: Lun[]): Promise<void> {
    switch (o.kind) {
      case 'write':
        await chains[o.disk]!.execute(cdb.write16({ lba: o.lba, blocks: o.blocks }), pattern(o.blocks * 512, o.seed));
        return;
      case 'zero':
        await chains[o.disk]!.execute(cdb.writeSame16({ lba: o.lba, blocks: o.blocks, unmap: o.unmap }), new Uint8Array(512));
        return;
      case 'unmap': {
        const list = cdb.unmapParameterList([{ lba: o.lba, blocks: o.blocks }]);
        await chains[o.disk]!.execute(cdb.unmap({ parameterListLength: list.length }), list);
        return;
      }
      case 'caw': {
        const current = (await luns[o.disk]!.execute(cdb.read16({ lba: o.lba, blocks: 1 }))).data!;
        const payload = new Uint8Array(1024);
        payload.set(current);
        payload.set(pattern(512, o.seed), 512);
        await chains[o.disk]!.execute(cdb.compareAndWrite({ lba: o.lba, blocks: 1 }), payload);
        return;
      }
      case 'copy': {
        const list = cdb.extendedCopyParameterList({
          cscds: luns.map((l) => ({ designator: l.naaDesignator, blockSize: 512 })),
          segments: [{ source: o.from, destination: o.to, blocks: o.blocks, sourceLba: o.src, destinationLba: o.dst }],
        });
        // Issued through the *other* disk's chain half the time: the destination must still hear it.
        await chains[(o.src + o.dst) % 2]!.execute(cdb.extendedCopy(list.length), list);
        return;
      }
    }
  }

  /** Runs ops; at each checkpoint takes (change ID, image); after each op, every block that differs from an image is in the changed areas since its ID. */
  async function neverMisses(ops: readonly Op[], trackerFor: () => ChangedBlockTracker): Promise<string | undefined> {
    const { luns } = disks(2);
    const domain = new FilterDomain();
    const trackers = [trackerFor(), trackerFor()];
    const chains = [await FilterChain.create(luns[0]!, { domain, filters: [trackers[0]!] }), await FilterChain.create(luns[1]!, { domain, filters: [trackers[1]!] })];
    let checkpoints: Array<{ id: string; image: Uint8Array }[]> = [[], []];
    for (const o of ops) {
      if (o.kind === 'checkpoint') {
        checkpoints = await Promise.all([0, 1].map(async (d) => [...checkpoints[d]!.slice(-2), { id: trackers[d]!.changeId, image: await contents(luns[d]!) }]));
        continue;
      }
      await apply(o, chains, luns);
      for (const d of [0, 1]) {
        const now = await contents(luns[d]!);
        for (const cp of checkpoints[d]!) {
          const areas = trackers[d]!.changedAreas(cp.id);
          const missed = differing(cp.image, now).find((blk) => !covered(areas, blk));
          if (missed !== undefined) return `disk ${d}: block ${missed} changed since ${cp.id} but is not in ${JSON.stringify(areas)}`;
        }
      }
    }
    return undefined;
  }

  it('never misses a changed block, offloads included (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
          expect(await neverMisses(ops, () => new ChangedBlockTracker())).toBeUndefined();
        }),
      { numRuns: 150 },
    );
  });

  it('the property fails for a tracker that ignores EXTENDED COPY destinations', async () => {
    class Blind extends ChangedBlockTracker {
      override changed(ranges: readonly LbaRange[], cause?: { opcode: number }): void {
        if (cause?.opcode !== 0x83) super.changed(ranges);
      }
    }
    const details = await fc.check(fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => (await neverMisses(ops, () => new Blind())) === undefined), { numRuns: 300, seed: 3 });
    expect(details.failed).toBe(true);
    expect(details.counterexample![0].some((o) => o.kind === 'copy')).toBe(true);
  });

  it('answers precisely: only what changed since the ID, merged; nothing since the current ID', async () => {
    const { luns } = disks(1);
    const cbt = new ChangedBlockTracker();
    const chain = await FilterChain.create(luns[0]!, { filters: [cbt] });
    const start = cbt.changeId;
    await chain.execute(cdb.write16({ lba: 10, blocks: 5 }), new Uint8Array(5 * 512));
    const mid = cbt.changeId;
    await chain.execute(cdb.write16({ lba: 15, blocks: 5 }), new Uint8Array(5 * 512));
    await chain.execute(cdb.write16({ lba: 100, blocks: 1 }), new Uint8Array(512));
    expect(cbt.changedAreas(start)).toEqual([{ lba: 10, blocks: 10 }, { lba: 100, blocks: 1 }]);
    expect(cbt.changedAreas(mid)).toEqual([{ lba: 15, blocks: 5 }, { lba: 100, blocks: 1 }]);
    expect(cbt.changedAreas(mid, 0, 50)).toEqual([{ lba: 15, blocks: 5 }]);
    expect(cbt.changedAreas(cbt.changeId)).toEqual([]);
    await chain.execute(cdb.write16({ lba: 12, blocks: 1 }), new Uint8Array(512)); // rewrites inside: no growth beyond a split
    expect(cbt.trackedExtents).toBeLessThanOrEqual(5);
  });

  it('refuses a change ID from before a reset, from the future, or malformed: never answers it wrongly', async () => {
    const { luns } = disks(1);
    const cbt = new ChangedBlockTracker();
    const chain = await FilterChain.create(luns[0]!, { filters: [cbt] });
    await chain.execute(cdb.write16({ lba: 1, blocks: 1 }), new Uint8Array(512));
    const old = cbt.changeId;
    cbt.reset();
    await chain.execute(cdb.write16({ lba: 2, blocks: 1 }), new Uint8Array(512));
    expect(() => cbt.changedAreas(old)).toThrow(ChangeTrackingError);
    expect(() => cbt.changedAreas(old)).toThrow(/before the tracking was reset/);
    const [epoch] = cbt.changeId.split(':');
    expect(() => cbt.changedAreas(`${epoch}:99`)).toThrow(/newer than the disk/);
    expect(() => cbt.changedAreas('yesterday')).toThrow(/not a change ID/);
  });

  it('allocated areas: mapped extents of a thin LUN for the first full backup, the whole disk otherwise', async () => {
    const array = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096 });
    const thin = array.createLun({ sizeBytes: BLOCKS * 512 });
    await thin.execute(cdb.write16({ lba: 8, blocks: 16 }), pattern(16 * 512, 1));
    await thin.execute(cdb.write16({ lba: 200, blocks: 8 }), pattern(8 * 512, 2));
    expect(await allocatedAreas(thin, BLOCKS)).toEqual([{ lba: 8, blocks: 16 }, { lba: 200, blocks: 8 }]);
    const thick = array.createLun({ sizeBytes: BLOCKS * 512, thin: false });
    expect(await allocatedAreas(thick, BLOCKS)).toEqual([{ lba: 0, blocks: BLOCKS }]);
  });
});
