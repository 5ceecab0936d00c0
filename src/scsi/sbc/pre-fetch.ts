/**
 * PRE-FETCH(10)/(16) (SBC-4). The array has no cache between the initiator and its media (every
 * write is durable when it completes; MODE SENSE reports WCE = 0), so there is no cache into which
 * the blocks could be transferred. SBC-4 answers GOOD, not CONDITION MET, when the cache cannot
 * accept all of the specified blocks, with IMMED = 0 and IMMED = 1 alike; so every PRE-FETCH
 * whose CDB is valid answers GOOD and does no media work (docs/decisions/libiscsi.md, "READ(6), VERIFY, WRITE AND VERIFY, PRE-FETCH").
 * @module
 */
import { readU16, readU32, readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, type Failure, type Outcome } from '../outcome.js';
import { checkLbaRange } from './common.js';

/** @internal A decoded PRE-FETCH: the range (blocks 0 = from LBA to the last logical block). */
export interface PreFetchCommand extends Decoded {
  readonly lba: number;
  readonly blocks: number;
}

/**
 * PRE-FETCH(10) (LBA in bytes 2-5, NUMBER OF LOGICAL BLOCKS in 7-8) or (16) (bytes 2-9, 10-13).
 * NUMBER OF LOGICAL BLOCKS 0 means "to the last logical block", so only the LBA must then lie in the
 * medium. No data moves, so MAXIMUM TRANSFER LENGTH does not apply; IMMED (byte 1 bit 1) and GROUP
 * NUMBER are accepted: with no cache, neither changes the answer.
 */
function decode(sixteen: boolean): (cdb: Uint8Array, ctx: CommandContext) => PreFetchCommand | Failure {
  return (cdb, ctx) => {
    const lba = sixteen ? readU64(cdb, 2) : readU32(cdb, 2);
    const blocks = sixteen ? readU32(cdb, 10) : readU16(cdb, 7);
    return checkLbaRange(ctx.lun, lba, blocks) ?? { dataOutLength: 0, lba, blocks };
  };
}

/** Nothing to transfer into a cache the array does not have: GOOD (not CONDITION MET). */
const execute = (): Outcome => GOOD;

/** @internal */
export const PRE_FETCH_COMMANDS: readonly CommandSpec[] = [
  defineCommand<PreFetchCommand>({
    opcode: Opcode.PRE_FETCH_10,
    name: 'PRE-FETCH(10)',
    reservationAccess: 'read',
    cdbLength: 10,
    // byte 1: IMMED (1); LBA; NUMBER OF LOGICAL BLOCKS
    usage: [Opcode.PRE_FETCH_10, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00],
    decode: decode(false),
    execute,
  }),
  defineCommand<PreFetchCommand>({
    opcode: Opcode.PRE_FETCH_16,
    name: 'PRE-FETCH(16)',
    reservationAccess: 'read',
    cdbLength: 16,
    usage: [Opcode.PRE_FETCH_16, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    decode: decode(true),
    execute,
  }),
];
