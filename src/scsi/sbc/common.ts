/**
 * Checks shared by the block commands: LBA range, transfer limits and thin-pool space.
 * @module
 */
import type { Lun } from '../../array/lun.js';
import type { CommandContext } from '../context.js';
import { fail, type Failure } from '../outcome.js';

/** @internal LOGICAL BLOCK ADDRESS OUT OF RANGE unless [lba, lba+blocks) lies within the LUN (SBC-3 4.5). */
export function checkLbaRange(lun: Lun, lba: number, blocks: number): Failure | undefined {
  // lba may be Infinity (a 64-bit field at or above 2^53): both comparisons reject it.
  if (lba > lun.blockCount || lba + blocks > lun.blockCount) return fail('LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE');
  return undefined;
}

/**
 * @internal Fails with SPACE ALLOCATION FAILED WRITE PROTECT when the pool cannot supply `needUnits`
 * (SBC-3 4.7.3.6), reporting the `outOfSpace` event; otherwise `undefined`.
 */
export function checkSpace(ctx: CommandContext, needUnits: number, opcode: number): Failure | undefined {
  if (needUnits === 0) return undefined;
  const free = ctx.array.pool.freeUnits;
  if (needUnits <= free) return undefined;
  ctx.array.reportOutOfSpace(ctx, opcode, needUnits, free);
  return fail('SPACE_ALLOCATION_FAILED_WRITE_PROTECT');
}
