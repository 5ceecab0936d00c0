/**
 * SANITIZE (SBC-4 5.30): BLOCK ERASE (02h), CRYPTOGRAPHIC ERASE (03h) and EXIT FAILURE MODE (1Fh),
 * on thin LUNs. A thin LUN holds no user data outside its mapped allocation units, so both erases
 * are metadata work: every unit of the LUN goes back to the pool, after which each block reads as
 * zeros (LBPRZ = 1) and GOOD (WABEREQ = WACEREQ = 01b in the Block Device Characteristics page).
 * The erase finishes before the command's status is returned, with IMMED = 0 and 1 alike, so no
 * sanitize is ever in progress and none ever fails: EXIT FAILURE MODE has no failure mode to leave
 * and answers GOOD. OVERWRITE (01h) is not implemented (docs/decisions/sanitize.md).
 * @module
 */
import { readU16 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, goodWith, invalidCdbField, type Failure, type Outcome } from '../outcome.js';

/** @internal SANITIZE service actions (SBC-4 table 83). */
export const SanitizeAction = Object.freeze({
  BLOCK_ERASE: 0x02,
  CRYPTOGRAPHIC_ERASE: 0x03,
  EXIT_FAILURE_MODE: 0x1f,
} as const);

/**
 * Byte 1: IMMED (bit 7), reserved (bit 6), AUSE (bit 5), SERVICE ACTION (4:0); bytes 2-6 reserved;
 * PARAMETER LIST LENGTH in 7-8, which these three service actions require to be zero (SBC-4 5.30.1).
 * IMMED and AUSE are accepted: the erase completes before status either way, and never fails.
 */
function decode(cdb: Uint8Array): Decoded | Failure {
  if ((cdb[1]! & 0x40) !== 0) return invalidCdbField(1, 6);
  for (let i = 2; i <= 6; i++) if (cdb[i] !== 0) return invalidCdbField(i);
  if (readU16(cdb, 7) !== 0) return invalidCdbField(7);
  return { dataOutLength: 0 };
}

/** Returns every allocation unit of the LUN to the pool: reads then return zeros (LBPRZ = 1). */
function erase(_cmd: Decoded, _dataOut: Uint8Array, ctx: CommandContext): Outcome {
  const lun = ctx.lun;
  const bytes = lun.blockCount * lun.blockSize;
  return goodWith({ deallocatedBytes: bytes - lun.store.unmap(0, bytes) });
}

/** No sanitize operation ever fails, so the LUN is never in sanitize failure mode: nothing to leave. */
const exitFailureMode = (): Outcome => GOOD;

/** CDB USAGE DATA: IMMED, AUSE and the SERVICE ACTION bits in byte 1, PARAMETER LIST LENGTH (7-8). */
function usage(): readonly number[] {
  return [Opcode.SANITIZE, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00];
}

function row(serviceAction: number, name: string, execute: CommandSpec['execute']): CommandSpec {
  return defineCommand<Decoded>({
    opcode: Opcode.SANITIZE,
    serviceAction,
    name,
    cdbLength: 10,
    usage: usage(),
    supported: (lun) => lun.thin,
    writesMedium: true,
    decode,
    execute,
  });
}

/** @internal */
export const SANITIZE_COMMANDS: readonly CommandSpec[] = [
  row(SanitizeAction.BLOCK_ERASE, 'SANITIZE BLOCK ERASE', erase),
  row(SanitizeAction.CRYPTOGRAPHIC_ERASE, 'SANITIZE CRYPTOGRAPHIC ERASE', erase),
  row(SanitizeAction.EXIT_FAILURE_MODE, 'SANITIZE EXIT FAILURE MODE', exitFailureMode),
];
