/**
 * Checks shared by the block commands: LBA range, transfer limits and thin-pool space.
 * @module
 */
import type { CommandContext } from '../context.js';
import { fail, type Failure } from '../outcome.js';

/** @internal The one LBA-range check (admission), re-exported where the block commands look for it. */
export { checkLbaRange } from '../admission.js';

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
