/**
 * The workload and the plain model of the multipath properties: one-block WRITEs and READs on a few
 * LBAs, and increments of a counter block with COMPARE AND WRITE (this host its only writer), run
 * one command at a time through any target. A violation is any of: a read the model does not allow,
 * a CHECK CONDITION (other than a miscompare) or any status but GOOD reaching the caller, an error
 * that is not one of the library's typed errors, a command that took longer than `bound` ms, a
 * miscompare or a counter that disagrees with the acknowledged increments.
 */
import fc from 'fast-check';
import { cdb, decodeSense, type ScsiResult } from '../../../src/index.js';
import { VaaiSimError } from '../../../src/common/errors.js';
import { OutcomeUnknownError } from '../../../src/host/errors.js';
import type { ScsiTarget } from '../../../src/host/target.js';
import { BLOCK } from './helpers.js';

/** The counter block's LBA. */
export const COUNTER = 100;
/** Data LBAs 0..DATA_LBAS-1. */
export const DATA_LBAS = 8;

/** One step of the workload. */
export type Op = { readonly kind: 'write'; readonly lba: number; readonly fill: number } | { readonly kind: 'read'; readonly lba: number } | { readonly kind: 'increment' };

/** A workload over `target`: `run` the ops, then `finish` (reads the counter once more); `violation` is the first one found. */
export function workload(target: ScsiTarget, now: () => number, bound: number) {
  // What each data block may hold: one value once known, several while a failed write may or may not have landed.
  const model = Array.from({ length: DATA_LBAS }, () => new Set([0]));
  let counter = 0;
  const state = { violation: undefined as string | undefined };
  const fail = (why: string): void => {
    state.violation ??= why;
  };
  const timed = async (what: string, run: () => Promise<ScsiResult>): Promise<ScsiResult | VaaiSimError> => {
    const started = now();
    try {
      const result = await run();
      if (now() - started > bound) fail(`${what} took ${now() - started} ms`);
      if (result.status !== 0 && decodeSense(result.sense)?.key !== 0x0e) {
        const sense = decodeSense(result.sense);
        fail(`${what} answered status ${result.status}${sense === undefined ? '' : ` ${sense.key}/${sense.asc}/${sense.ascq}`}`);
      }
      return result;
    } catch (e) {
      if (!(e instanceof VaaiSimError)) fail(`${what} threw an untyped ${String(e)}`);
      if (now() - started > bound) fail(`${what} failed after ${now() - started} ms`);
      return e as VaaiSimError;
    }
  };
  const readBlock = async (lba: number): Promise<number | undefined> => {
    const res = await timed(`READ ${lba}`, async () => await target.execute(cdb.read16({ lba, blocks: 1 })));
    if (res instanceof VaaiSimError || res.status !== 0) return undefined;
    const v = res.data![0]!;
    if (!res.data!.every((b) => b === v)) fail(`READ ${lba}: a torn block`);
    return v;
  };
  const increment = async (): Promise<void> => {
    for (let attempt = 0; attempt < 4 && state.violation === undefined; attempt++) {
      const v = await readBlock(COUNTER);
      if (v === undefined) return;
      if (v !== counter % 256) return fail(`the counter reads ${v}, ${counter} increments were acknowledged`);
      const payload = new Uint8Array(2 * BLOCK);
      payload.fill(v, 0, BLOCK);
      payload.fill((v + 1) % 256, BLOCK);
      const res = await timed('COMPARE AND WRITE', async () => await target.execute(cdb.compareAndWrite({ lba: COUNTER, blocks: 1 }), payload));
      if (res instanceof OutcomeUnknownError) {
        // Find out, as the lock manager does.
        const after = await readBlock(COUNTER);
        if (after === (v + 1) % 256) counter++;
        else if (after === v) continue;
        else if (after !== undefined) fail(`after an unknown outcome the counter reads ${after}, not ${v} or ${v + 1}`);
        return;
      }
      if (res instanceof VaaiSimError) return;
      if (res.status === 0) counter++;
      else fail('COMPARE AND WRITE miscompared: the counter has no other writer');
      return;
    }
  };
  return {
    get violation(): string | undefined {
      return state.violation;
    },
    /** Runs `ops` in order, stopping at the first violation; `before(i)` runs before op i. */
    async run(ops: readonly Op[], before?: (i: number) => void | Promise<void>): Promise<void> {
      for (const [i, op] of ops.entries()) {
        if (state.violation !== undefined) return;
        await before?.(i);
        if (op.kind === 'write') {
          const res = await timed(`WRITE ${op.lba}`, async () => await target.execute(cdb.write16({ lba: op.lba, blocks: 1 }), new Uint8Array(BLOCK).fill(op.fill)));
          if (res instanceof VaaiSimError) model[op.lba]!.add(op.fill);
          else if (res.status === 0) model[op.lba] = new Set([op.fill]);
        } else if (op.kind === 'read') {
          const v = await readBlock(op.lba);
          if (v === undefined) continue;
          if (!model[op.lba]!.has(v)) fail(`READ ${op.lba} returned ${v}, the model allows ${[...model[op.lba]!].join(', ')}`);
          model[op.lba] = new Set([v]);
        } else await increment();
      }
    },
    /** The counter, read once more, must equal the acknowledged increments. */
    async finish(): Promise<void> {
      const final = await readBlock(COUNTER);
      if (final !== undefined && final !== counter % 256) fail(`the counter ends at ${final} after ${counter} acknowledged increments`);
    },
  };
}

/** One random op; increments (the interesting ones) weigh most. */
export const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('write' as const), lba: fc.integer({ min: 0, max: DATA_LBAS - 1 }), fill: fc.integer({ min: 1, max: 255 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('read' as const), lba: fc.integer({ min: 0, max: DATA_LBAS - 1 }) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'increment' as const }), weight: 3 },
);
