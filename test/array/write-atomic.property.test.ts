/**
 * WRITE ATOMIC(16) is all-or-nothing against concurrent COMPARE AND WRITE, EXTENDED COPY and READ
 * of overlapping ranges (SBC-4 5.48, 4.29; docs/decisions/write-atomic.md). fast-check's scheduler
 * decides the order in which the commands of a run reach the array; every READ must then see, of each
 * WRITE ATOMIC that overlaps it, either none of its data (the write ran later) or all of it (less what
 * later writes replaced), and every answer and the final medium must equal a one-at-a-time replay in
 * the order the commands ran. A target that splits WRITE ATOMIC into two writes with a yield between
 * them fails the same property, so the property can fail.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type Lun, type ScsiResult } from '../../src/index.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { copyList } from '../conformance/helpers.js';

const MiB = 1024 * 1024;
const BS = 512;
/** The window every command of a run touches. */
const WINDOW = 32;
/** EXTENDED COPY sources: outside the window, filled once with SOURCE_TAG and never written. */
const SOURCE_LBA = 4096;
const SOURCE_TAG = 0xee;

type Op =
  | { readonly kind: 'atomic'; readonly lba: number; readonly blocks: number }
  | { readonly kind: 'caw'; readonly lba: number; readonly blocks: number; readonly expectZeros: boolean }
  | { readonly kind: 'xcopy'; readonly lba: number; readonly blocks: number; readonly from: number }
  | { readonly kind: 'read'; readonly lba: number; readonly blocks: number };

const extent = (max: number) =>
  fc.integer({ min: 1, max }).chain((blocks) => fc.record({ lba: fc.integer({ min: 0, max: WINDOW - blocks }), blocks: fc.constant(blocks) }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: extent(12).map((e) => ({ kind: 'atomic' as const, ...e })) },
  { weight: 1, arbitrary: fc.tuple(extent(2), fc.boolean()).map(([e, expectZeros]) => ({ kind: 'caw' as const, ...e, expectZeros })) },
  { weight: 1, arbitrary: fc.tuple(extent(8), fc.integer({ min: 0, max: 8 })).map(([e, from]) => ({ kind: 'xcopy' as const, ...e, from })) },
  { weight: 3, arbitrary: extent(WINDOW).map((e) => ({ kind: 'read' as const, ...e })) },
);

/** Block `k` of a write tagged `tag`: byte 0 the tag, byte 1 the block's index, the rest the tag. */
function tagged(tag: number, blocks: number): Uint8Array {
  const b = new Uint8Array(blocks * BS).fill(tag);
  for (let k = 0; k < blocks; k++) b[k * BS + 1] = k;
  return b;
}

/** The tag of command `i` of a run: WRITE ATOMIC 1..63, COMPARE AND WRITE 64..127 (never SOURCE_TAG or 0). */
const tagOf = (op: Op, i: number): number => (op.kind === 'caw' ? 64 : 1) + i;

function freshLun(): { array: StorageArray; lun: Lun } {
  const array = new StorageArray({ capacityBytes: 64 * MiB, allocationUnitBytes: 4096 });
  const lun = array.createLun({ sizeBytes: 8 * MiB });
  const src = new Uint8Array(16 * BS).fill(SOURCE_TAG);
  const r = lun.execute(cdb.write16({ lba: SOURCE_LBA, blocks: 16 }), src) as ScsiResult;
  expect(r.status).toBe(0);
  return { array, lun };
}

/** The CDB and Data-Out of command `i`. */
function encode(op: Op, i: number, lun: Lun): { readonly c: Uint8Array; readonly data?: Uint8Array } {
  const { lba, blocks } = op;
  switch (op.kind) {
    case 'atomic':
      return { c: cdb.writeAtomic16({ lba, blocks }), data: tagged(tagOf(op, i), blocks) };
    case 'caw': {
      const data = new Uint8Array(2 * blocks * BS);
      if (!op.expectZeros) data.set(tagged(1, blocks)); // what WRITE ATOMIC 0 left there, when it did
      data.set(tagged(tagOf(op, i), blocks), blocks * BS);
      return { c: cdb.compareAndWrite({ lba, blocks }), data };
    }
    case 'xcopy': {
      const list = copyList([{ from: lun, to: lun, blocks, sourceLba: SOURCE_LBA + op.from, destinationLba: lba }]);
      return { c: cdb.extendedCopy(list.length), data: list };
    }
    case 'read':
      return { c: cdb.read16({ lba, blocks }) };
  }
}

interface Ran {
  /** Position in the order the commands reached the array. */
  readonly at: number;
  readonly result: ScsiResult;
}

/** Runs `ops` concurrently on `target`, the scheduler choosing the order; returns each one's position and answer. */
async function runConcurrently(s: fc.Scheduler, target: ScsiTarget, lun: Lun, ops: readonly Op[]): Promise<Ran[]> {
  let next = 0;
  const runs = ops.map((op, i) => {
    const { c, data } = encode(op, i, lun);
    return s.schedule(Promise.resolve(), `${op.kind}#${i}`).then(async () => {
      const at = next++;
      return { at, result: await target.execute(c, data, { initiator: `host-${i % 3}` }) };
    });
  });
  await s.waitAll();
  return Promise.all(runs);
}

/** Whether command `j` changed block `b` (it succeeded and its range covers `b`). */
function wrote(op: Op, r: Ran, b: number): boolean {
  return op.kind !== 'read' && r.result.status === 0 && b >= op.lba && b < op.lba + op.blocks;
}

/**
 * Why the run tore a WRITE ATOMIC, or undefined. For each READ and each WRITE ATOMIC `w` overlapping
 * it: if `w` ran after the read, no block shows `w`'s data; if before, every overlapping block that
 * no command between them changed shows exactly `w`'s data for that block.
 */
function tornRead(ops: readonly Op[], ran: readonly Ran[]): string | undefined {
  for (let ri = 0; ri < ops.length; ri++) {
    const read = ops[ri]!;
    if (read.kind !== 'read' || ran[ri]!.result.status !== 0) continue;
    const seen = ran[ri]!.result.data!;
    for (let wi = 0; wi < ops.length; wi++) {
      const w = ops[wi]!;
      if (w.kind !== 'atomic' || ran[wi]!.result.status !== 0) continue;
      const tag = tagOf(w, wi);
      const lo = Math.max(w.lba, read.lba);
      const hi = Math.min(w.lba + w.blocks, read.lba + read.blocks);
      for (let b = lo; b < hi; b++) {
        const block = seen.subarray((b - read.lba) * BS, (b - read.lba + 1) * BS);
        const shows = block[0] === tag && block[1] === b - w.lba && block[BS - 1] === tag;
        const after = ran[wi]!.at > ran[ri]!.at;
        const replaced = ops.some((o, j) => j !== wi && ran[j]!.at > ran[wi]!.at && ran[j]!.at < ran[ri]!.at && wrote(o, ran[j]!, b));
        if (after && block[0] === tag) return `read #${ri} saw block ${b} of WRITE ATOMIC #${wi}, which ran after it`;
        if (!after && !replaced && !shows) return `read #${ri} saw block ${b} without WRITE ATOMIC #${wi}'s data, though it ran before and nothing replaced it`;
      }
    }
  }
  return undefined;
}

/** Commands of each kind that completed GOOD, over every run (the property is vacuous for a kind that never succeeds). */
const succeeded: Record<Op['kind'], number> = { atomic: 0, caw: 0, xcopy: 0, read: 0 };

/** The property on a target built by `makeTarget` over a fresh LUN: no torn read, and the replay agrees. */
function property(makeTarget: (lun: Lun) => ScsiTarget) {
  return fc.asyncProperty(fc.scheduler(), fc.array(opArb, { minLength: 2, maxLength: 12 }), async (s, ops) => {
    const { lun } = freshLun();
    const ran = await runConcurrently(s, makeTarget(lun), lun, ops);
    ops.forEach((op, i) => (succeeded[op.kind] += ran[i]!.result.status === 0 ? 1 : 0));
    const torn = tornRead(ops, ran);
    if (torn !== undefined) throw new Error(torn);
    // One at a time, in the order they ran, on a fresh LUN: the same answers and the same medium.
    const replay = freshLun().lun;
    const order = ran.map((r, i) => ({ at: r.at, i })).sort((a, b) => a.at - b.at);
    for (const { i } of order) {
      const { c, data } = encode(ops[i]!, i, replay);
      const want = (await replay.execute(c, data)) as ScsiResult;
      const got = ran[i]!.result;
      expect({ status: got.status, sense: got.sense && [...got.sense], data: got.data && [...got.data] }, `${ops[i]!.kind} #${i}`).toEqual({
        status: want.status,
        sense: want.sense && [...want.sense],
        data: want.data && [...want.data],
      });
    }
    const final = (await lun.execute(cdb.read16({ lba: 0, blocks: WINDOW }))) as ScsiResult;
    const expected = (await replay.execute(cdb.read16({ lba: 0, blocks: WINDOW }))) as ScsiResult;
    expect([...final.data!]).toEqual([...expected.data!]);
  });
}

describe('WRITE ATOMIC(16) against concurrent COMPARE AND WRITE, EXTENDED COPY and READ', () => {
  it('no read ever sees a torn WRITE ATOMIC, and every run equals a one-at-a-time replay in its order', async () => {
    await fc.assert(property((lun) => lun), { numRuns: 150, seed: 20261126 });
    for (const kind of ['atomic', 'caw', 'xcopy', 'read'] as const) expect(succeeded[kind], `${kind} commands that completed GOOD`).toBeGreaterThan(10);
  });

  it('the property catches a WRITE ATOMIC split into two writes with a yield between them', async () => {
    const torn = (lun: Lun): ScsiTarget => ({
      async execute(c, dataOut, options) {
        if (c[0] !== 0x9c || dataOut === undefined) return await lun.execute(c, dataOut, options);
        const lba = Number(new DataView(c.buffer, c.byteOffset).getBigUint64(2));
        const blocks = (c[12]! << 8) | c[13]!;
        const first = blocks >>> 1;
        if (first > 0) await lun.execute(cdb.write16({ lba, blocks: first }), dataOut.subarray(0, first * BS), options);
        await new Promise((r) => setImmediate(r)); // another command may run here
        return await lun.execute(cdb.write16({ lba: lba + first, blocks: blocks - first }), dataOut.subarray(first * BS), options);
      },
    });
    const out = await fc.check(property(torn), { numRuns: 300, seed: 20261126 });
    expect(out.failed).toBe(true);
  });
});
