/**
 * ORWRITE(16) (SBC-4, opcode 8Bh): each byte of the Data-Out is ORed into the byte the medium holds
 * at that place, and the result is written back. The CDB has the WRITE(16) layout: ORPROTECT (byte 1
 * bits 7:5), DPO (4), FUA (3), LOGICAL BLOCK ADDRESS (bytes 2-9), TRANSFER LENGTH (bytes 10-13) and
 * GROUP NUMBER (byte 14 bits 4:0). The BMOP and PREVIOUS GENERATION PROCESSING fields belong to
 * ORWRITE(32) only, which the array does not implement. Decisions: docs/decisions/libiscsi.md,
 * "ORWRITE(16) and READ DEFECT DATA".
 * @module
 */
import { Opcode } from '../../spec/opcodes.js';
import { RW_LAYOUT_16 } from '../../spec/cdb-layouts.js';
import { defineCommand, type CommandSpec } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, goodWith, type Outcome } from '../outcome.js';
import { decodeRw, executeWrite, rwUsage, type RwCommand } from './read-write.js';

/** ORs `from` into `into` (same length), a 32-bit word at a time where both are word-aligned. */
function orInto(into: Uint8Array, from: Uint8Array): void {
  let i = 0;
  if (into.byteOffset % 4 === 0 && from.byteOffset % 4 === 0) {
    const words = into.length >>> 2;
    const a = new Uint32Array(into.buffer, into.byteOffset, words);
    const b = new Uint32Array(from.buffer, from.byteOffset, words);
    for (let w = 0; w < words; w++) a[w] = a[w]! | b[w]!;
    i = words << 2;
  }
  for (; i < into.length; i++) into[i] = into[i]! | from[i]!;
}

/**
 * ORWRITE: reads the range (unmapped blocks read as zeros), ORs the Data-Out into it and writes the
 * result with WRITE's allocation rules (zero detection; SPACE ALLOCATION FAILED WRITE PROTECT on an
 * exhausted pool, with nothing changed). Execution is synchronous, so no other command sees the
 * range between the read and the write.
 */
function executeOrWrite(cmd: RwCommand, dataOut: Uint8Array, ctx: CommandContext): Outcome {
  if (cmd.blocks === 0) return GOOD; // a TRANSFER LENGTH of zero is not an error
  const bytes = dataOut.length;
  const merged = new Uint8Array(bytes);
  ctx.lun.store.read(cmd.lba * ctx.lun.blockSize, bytes, merged, 0);
  orInto(merged, dataOut);
  const written = executeWrite(cmd, merged, ctx);
  if (!('media' in written)) return written; // the pool could not supply the space: nothing changed
  return goodWith({ mediaReadBytes: bytes, mediaWriteBytes: bytes });
}

/** @internal */
export const ORWRITE_COMMAND: CommandSpec = defineCommand<RwCommand>({
  opcode: Opcode.ORWRITE_16,
  name: 'ORWRITE(16)',
  cdbLength: 16,
  usage: rwUsage(Opcode.ORWRITE_16, RW_LAYOUT_16),
  writesMedium: true,
  // WRITE(16)'s decoder: ORPROTECT (where WRPROTECT sits) must be zero, as the array has no
  // protection information; DPO and FUA are accepted (MODE SENSE reports DPOFUA = 1); the obsolete
  // bit 1 and GROUP NUMBER are not evaluated, as for WRITE(16).
  decode: decodeRw(RW_LAYOUT_16, true),
  execute: executeOrWrite,
});
