/**
 * Array-side replication (site-recovery style): cycles ship only changed units and leave the
 * replica consistent at a point in time across LUNs; test failover, failover (also after a cycle
 * that failed half way) and failback; and a fast-check property over random histories.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrayReplication } from '../../src/scsi/replication.js';
import { Lun, StorageArray, cdb } from '../../src/index.js';
import { expectBytes, pattern } from './helpers.js';

const UNIT = 4096;
const BLOCKS = 128; // 16 units

function site(capacityBytes = 16 << 20, arrayId = 1) {
  const array = new StorageArray({ capacityBytes, allocationUnitBytes: UNIT, arrayId });
  return { array, luns: [array.createLun({ sizeBytes: BLOCKS * 512 }), array.createLun({ sizeBytes: BLOCKS * 512 })] };
}

function image(lun: Lun): Uint8Array {
  const r = lun.execute(cdb.read16({ lba: 0, blocks: BLOCKS }));
  if (r instanceof Promise) throw new Error('async');
  return r.data!;
}

function write(lun: Lun, lba: number, blocks: number, seed: number): void {
  const r = lun.execute(cdb.write16({ lba, blocks }), pattern(blocks * 512, seed));
  if (r instanceof Promise || r.status !== 0) throw new Error('write failed');
}

function setup(targetCapacity?: number) {
  const a = site(16 << 20, 0xa);
  const b = site(targetCapacity ?? 16 << 20, 0xb);
  const group = new ArrayReplication(a.array, b.array);
  a.luns.forEach((l, i) => group.pair(l, b.luns[i]!));
  return { a, b, group };
}

describe('array-side replication', () => {
  it('cycles ship only the units changed since the last cycle; the replica is the source at the cycle', () => {
    const { a, b, group } = setup();
    write(a.luns[0]!, 0, 64, 1);
    write(a.luns[1]!, 8, 8, 2);
    const first = group.cycle();
    expect(first.changedUnits).toBe(32); // the first cycle ships every unit (mapped: data; unmapped: unmap)
    expect(first.bytesShipped).toBe((8 + 1) * UNIT);
    expectBytes(image(b.luns[0]!), image(a.luns[0]!));
    expectBytes(image(b.luns[1]!), image(a.luns[1]!));
    write(a.luns[0]!, 10, 1, 3); // one unit
    const list = cdb.unmapParameterList([{ lba: 8, blocks: 8 }]);
    a.luns[1]!.execute(cdb.unmap({ parameterListLength: list.length }), list); // one unit unmapped
    const atCycle = [image(a.luns[0]!), image(a.luns[1]!)];
    const second = group.cycle();
    expect(second).toEqual({ changedUnits: 2, bytesShipped: UNIT, unmappedUnits: 1 });
    write(a.luns[0]!, 20, 4, 4); // after the cycle: not on the replica yet
    expectBytes(image(b.luns[0]!), atCycle[0]!);
    expectBytes(image(b.luns[1]!), atCycle[1]!);
    expect(group.cycle().changedUnits).toBe(1);
  });

  it('test failover: writable copies of the last consistent image; replication goes on', () => {
    const { a, b, group } = setup();
    write(a.luns[0]!, 0, 32, 5);
    group.cycle();
    const atCycle = image(a.luns[0]!);
    write(a.luns[0]!, 0, 8, 6);
    const [copy0] = group.testFailover();
    expectBytes(image(copy0!), atCycle);
    write(copy0!, 0, 8, 7); // the test writes to its copy
    expectBytes(image(b.luns[0]!), atCycle); // the replica is untouched
    group.cycle();
    expectBytes(image(b.luns[0]!), image(a.luns[0]!));
    group.cleanupTestFailover();
    expect(b.array.luns.includes(copy0!)).toBe(false);
    // Copies for a recovery test can be kept to the test's hosts.
    const [fenced] = group.testFailover(['dr-test-host']);
    expect((fenced!.execute(cdb.testUnitReady(), undefined, { initiator: 'production-host' }) as { status: number }).status).toBe(0x02);
    expect((fenced!.execute(cdb.read16({ lba: 0, blocks: 1 }), undefined, { initiator: 'dr-test-host' }) as { status: number }).status).toBe(0);
    group.cleanupTestFailover();
  });

  it('failover returns every replica to its last consistent image, even after a cycle that failed half way', () => {
    const { a, b, group } = setup(112 * 1024); // the target pool runs out during a cycle
    write(a.luns[0]!, 0, 8, 8);
    write(a.luns[1]!, 0, 8, 9);
    group.cycle();
    const consistent = [image(a.luns[0]!), image(a.luns[1]!)];
    write(a.luns[0]!, 0, BLOCKS, 10);
    write(a.luns[1]!, 0, BLOCKS, 11);
    expect(() => group.cycle()).toThrow(/failed/);
    expect(image(b.luns[0]!)).not.toEqual(consistent[0]); // torn: part of the cycle landed
    group.failover();
    expect(group.state).toBe('failed-over');
    expectBytes(image(b.luns[0]!), consistent[0]!);
    expectBytes(image(b.luns[1]!), consistent[1]!);
    expect(() => group.cycle()).toThrow(/failed over/);
  });

  it('failback ships only what differs, then replicates in the other direction', () => {
    const { a, b, group } = setup();
    write(a.luns[0]!, 0, BLOCKS, 12);
    group.cycle();
    write(a.luns[0]!, 0, 8, 13); // lost at failover: the old source will be overwritten there
    group.failover();
    write(b.luns[0]!, 64, 8, 14); // production runs on the promoted replica
    const report = group.failback();
    expect(report.changedUnits).toBe(2);
    expect(report.bytesShipped).toBe(2 * UNIT);
    expectBytes(image(a.luns[0]!), image(b.luns[0]!));
    expect(group.source).toBe(b.array);
    write(b.luns[0]!, 96, 8, 15); // one unit
    expect(group.cycle().changedUnits).toBe(1);
    expectBytes(image(a.luns[0]!), image(b.luns[0]!));
  });

  it('rejects programmer errors', () => {
    const a = site(16 << 20, 1);
    const other = new StorageArray({ capacityBytes: 16 << 20, allocationUnitBytes: 8192 });
    expect(() => new ArrayReplication(a.array, a.array)).toThrow(/two arrays/);
    expect(() => new ArrayReplication(a.array, other)).toThrow(/allocation unit/);
    const b = site(16 << 20, 2);
    const group = new ArrayReplication(a.array, b.array);
    expect(() => group.pair(b.luns[0]!, a.luns[0]!)).toThrow(/source array/);
    expect(() => group.pair(a.luns[0]!, b.array.createLun({ sizeBytes: 1 << 20 }))).toThrow(/size/);
    expect(() => group.failback()).toThrow(/fail over first/);
  });

  it('any history of writes, cycles, test failovers, failover and failback keeps the replica a consistent past of the source (fast-check)', () => {
    fc.assert(fc.property(history, (ops) => replayHolds(ops)), { numRuns: 150 });
  });

  it('the property fails for a replication engine whose unmaps do not reach the target', () => {
    const execute = Lun.prototype.execute;
    Lun.prototype.execute = function (this: Lun, c, d, o) {
      // The engine's WRITE SAME (how it ships an unmapped unit) answered GOOD and dropped.
      if (o?.initiator === 'vaai-sim:replication-engine' && c[0] === 0x93) return { status: 0x00 };
      return execute.call(this, c, d, o);
    };
    try {
      const details = fc.check(fc.property(history, (ops) => replayHolds(ops)), { numRuns: 300, seed: 4 });
      expect(details.failed).toBe(true);
    } finally {
      Lun.prototype.execute = execute;
    }
  });
});

/** One step of a replication history. */
type ReplayOp = { kind: 'write' | 'unmap'; lun: number; lba: number; blocks: number; seed: number } | { kind: 'cycle' } | { kind: 'test' } | { kind: 'failover' } | { kind: 'failback' };

const op: fc.Arbitrary<ReplayOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ lun: fc.nat({ max: 1 }), lba: fc.nat({ max: BLOCKS - 1 }), blocks: fc.integer({ min: 1, max: 24 }), seed: fc.integer({ min: 1, max: 99 }) }).map((w) => ({ kind: 'write' as const, ...w, blocks: Math.min(w.blocks, BLOCKS - w.lba) })) },
  { weight: 2, arbitrary: fc.record({ lun: fc.nat({ max: 1 }), lba: fc.nat({ max: BLOCKS - 1 }), blocks: fc.integer({ min: 1, max: 24 }) }).map((w) => ({ kind: 'unmap' as const, ...w, blocks: Math.min(w.blocks, BLOCKS - w.lba), seed: 0 })) },
  { weight: 3, arbitrary: fc.constant<ReplayOp>({ kind: 'cycle' }) },
  { weight: 1, arbitrary: fc.constantFrom<ReplayOp>({ kind: 'test' }, { kind: 'failover' }, { kind: 'failback' }) },
);
const history = fc.array(op, { maxLength: 30 });

/** Replays a history; throws (an assertion) when the replica is not the source at the last cycle. */
function replayHolds(ops: readonly ReplayOp[]): void {
  const { a, b, group } = setup();
  let lastCycle: Uint8Array[] | undefined;
  const prod = () => (group.source === a.array ? a.luns : b.luns);
  const replica = () => (group.source === a.array ? b.luns : a.luns);
  for (const o of ops) {
    if (o.kind === 'write') write(prod()[o.lun]!, o.lba, o.blocks, o.seed);
    else if (o.kind === 'unmap') {
      const list = cdb.unmapParameterList([{ lba: o.lba, blocks: o.blocks }]);
      prod()[o.lun]!.execute(cdb.unmap({ parameterListLength: list.length }), list);
    }
    else if (o.kind === 'cycle' && group.state === 'replicating') {
      lastCycle = prod().map(image);
      group.cycle();
      replica().forEach((l, i) => expectBytes(image(l), lastCycle![i]!));
    } else if (o.kind === 'test' && lastCycle !== undefined && group.state === 'replicating') {
      group.testFailover().forEach((l, i) => expectBytes(image(l), lastCycle![i]!));
      group.cleanupTestFailover();
    } else if (o.kind === 'failover' && lastCycle !== undefined && group.state === 'replicating') {
      const promoted = replica();
      group.failover();
      promoted.forEach((l, i) => expectBytes(image(l), lastCycle![i]!));
      // Production moves to the promoted LUNs until failback reverses the group.
    } else if (o.kind === 'failback' && group.state === 'failed-over') {
      const promoted = group.pairs.map((p) => p.target);
      group.failback();
      group.pairs.forEach((p, i) => expect(p.source).toBe(promoted[i]));
      group.pairs.forEach((p) => expectBytes(image(p.target), image(p.source)));
      lastCycle = group.pairs.map((p) => image(p.source));
    }
  }
}

