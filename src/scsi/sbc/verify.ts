/**
 * VERIFY(10)/(12)/(16) and WRITE AND VERIFY(10)/(12)/(16) (SBC-4). The CDBs put LOGICAL BLOCK
 * ADDRESS and VERIFICATION LENGTH / TRANSFER LENGTH where READ and WRITE of the same size put them,
 * so they share those layouts; byte 1 holds VRPROTECT/WRPROTECT (7:5), DPO (4) and BYTCHK (2:1).
 *
 * The array's media never fail a read, so verifying the medium (BYTCHK 00b) always succeeds; the
 * byte-by-byte compares are real compares against the block store (unmapped blocks compare as
 * zeros). Decisions where the sources differ: docs/decisions/libiscsi.md, "READ(6), VERIFY, WRITE AND VERIFY, PRE-FETCH".
 * @module
 */
import { readU16, readU32, readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { RW_LAYOUT_10, RW_LAYOUT_12, RW_LAYOUT_16, type RwLayout } from '../../spec/cdb-layouts.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, fail, failedAfter, goodWith, invalidCdbField, type Failure, type MediaWork, type Outcome } from '../outcome.js';
import { checkLbaRange } from './common.js';
import { executeWrite, rwUsage } from './read-write.js';

/** BYTCHK (byte 1 bits 2:1) values (SBC-4, VERIFY and WRITE AND VERIFY). */
const Bytchk = {
  /** Verify the medium; no Data-Out (VERIFY). Write, then verify the medium (WRITE AND VERIFY). */
  MEDIUM: 0,
  /** Compare the Data-Out with the medium, block for block. */
  COMPARE: 1,
  /** VERIFY only: one block of Data-Out, compared with every block of the range. */
  COMPARE_ONE_BLOCK: 3,
} as const;

/** @internal A decoded VERIFY or WRITE AND VERIFY. */
export interface VerifyCommand extends Decoded {
  readonly lba: number;
  readonly blocks: number;
  /** BYTCHK: 0, 1 or (VERIFY only) 3. */
  readonly bytchk: number;
}

/**
 * CDB USAGE DATA: byte 1 = VRPROTECT/WRPROTECT (7:5), DPO (4), BYTCHK (2:1). GROUP NUMBER is
 * accepted and not evaluated, as for READ and WRITE.
 */
const usage = (opcode: number, l: RwLayout): number[] => rwUsage(opcode, l, 0xf6);

/**
 * Decoder of VERIFY (`write` false) or WRITE AND VERIFY (`write` true) of one CDB size: VRPROTECT /
 * WRPROTECT must be zero (no protection information), BYTCHK 10b is reserved for both and 11b for
 * WRITE AND VERIFY, then the LBA range, then MAXIMUM TRANSFER LENGTH (the order READ and WRITE use).
 */
function decode(l: RwLayout, write: boolean): (cdb: Uint8Array, ctx: CommandContext) => VerifyCommand | Failure {
  return (cdb, ctx) => {
    const lun = ctx.lun;
    if ((cdb[1]! & 0xe0) !== 0) return invalidCdbField(1, 7);
    const bytchk = (cdb[1]! >>> 1) & 0x03;
    if (bytchk === 2 || (write && bytchk === 3)) return invalidCdbField(1, 2);
    const lba = l.lbaBytes === 4 ? readU32(cdb, l.lbaAt) : readU64(cdb, l.lbaAt);
    const blocks = l.lengthBytes === 2 ? readU16(cdb, l.lengthAt) : readU32(cdb, l.lengthAt);
    const range = checkLbaRange(lun, lba, blocks);
    if (range !== undefined) return range;
    if (blocks > lun.limits.maximumTransferLength) return invalidCdbField(l.lengthAt);
    const bytes = blocks * lun.blockSize;
    const dataOutLength = write || bytchk === Bytchk.COMPARE ? bytes : bytchk === Bytchk.COMPARE_ONE_BLOCK && blocks > 0 ? lun.blockSize : 0;
    return { dataOutLength, lba, blocks, bytchk };
  };
}

/** MISCOMPARE DURING VERIFY OPERATION with INFORMATION = `offset`, after the media work `work`. */
function miscompare(offset: number, work: MediaWork): Failure {
  return failedAfter(fail('MISCOMPARE_DURING_VERIFY_OPERATION', { information: offset }), work);
}

/**
 * VERIFY. A miscompare reports in INFORMATION the offset of the first differing byte from the start
 * of the Data-Out (BYTCHK 01b), or from the start of the verified range (BYTCHK 11b: block index
 * times block size plus the offset in the one Data-Out block), as COMPARE AND WRITE does.
 */
function executeVerify(cmd: VerifyCommand, dataOut: Uint8Array, ctx: CommandContext): Outcome {
  if (cmd.blocks === 0) return GOOD; // a VERIFICATION LENGTH of zero is not an error; nothing is read
  const store = ctx.lun.store;
  const bs = ctx.lun.blockSize;
  const offset = cmd.lba * bs;
  const bytes = cmd.blocks * bs;
  if (cmd.bytchk === Bytchk.COMPARE) {
    const at = store.compare(offset, dataOut, 0, bytes);
    if (at >= 0) return miscompare(at, { mediaReadBytes: bytes });
  } else if (cmd.bytchk === Bytchk.COMPARE_ONE_BLOCK) {
    for (let i = 0; i < cmd.blocks; i++) {
      const at = store.compare(offset + i * bs, dataOut, 0, bs);
      if (at >= 0) return miscompare(i * bs + at, { mediaReadBytes: bytes });
    }
  }
  return goodWith({ mediaReadBytes: bytes });
}

/**
 * WRITE AND VERIFY: the write of WRITE (same allocation and out-of-space rules), then the verify:
 * of the medium (BYTCHK 00b), or a compare of the medium with the Data-Out (01b).
 */
function executeWriteAndVerify(cmd: VerifyCommand, dataOut: Uint8Array, ctx: CommandContext): Outcome {
  const written = executeWrite(cmd, dataOut, ctx);
  if (!('media' in written)) return written; // zero blocks (GOOD), or the pool could not supply the space
  const bytes = dataOut.length;
  if (cmd.bytchk === Bytchk.COMPARE) {
    const at = ctx.lun.store.compare(cmd.lba * ctx.lun.blockSize, dataOut, 0, bytes);
    if (at >= 0) return miscompare(at, { mediaWriteBytes: bytes, mediaReadBytes: bytes });
  }
  return goodWith({ mediaWriteBytes: bytes, mediaReadBytes: bytes });
}

function verifySpec(opcode: number, name: string, l: RwLayout): CommandSpec {
  return defineCommand<VerifyCommand>({ opcode, name, cdbLength: l.cdbLength, usage: usage(opcode, l), reservationAccess: 'read', decode: decode(l, false), execute: executeVerify });
}

function writeAndVerifySpec(opcode: number, name: string, l: RwLayout): CommandSpec {
  return defineCommand<VerifyCommand>({ opcode, name, cdbLength: l.cdbLength, usage: usage(opcode, l), writesMedium: true, decode: decode(l, true), execute: executeWriteAndVerify });
}

/** @internal */
export const VERIFY_COMMANDS: readonly CommandSpec[] = [
  verifySpec(Opcode.VERIFY_10, 'VERIFY(10)', RW_LAYOUT_10),
  verifySpec(Opcode.VERIFY_12, 'VERIFY(12)', RW_LAYOUT_12),
  verifySpec(Opcode.VERIFY_16, 'VERIFY(16)', RW_LAYOUT_16),
  writeAndVerifySpec(Opcode.WRITE_AND_VERIFY_10, 'WRITE AND VERIFY(10)', RW_LAYOUT_10),
  writeAndVerifySpec(Opcode.WRITE_AND_VERIFY_12, 'WRITE AND VERIFY(12)', RW_LAYOUT_12),
  writeAndVerifySpec(Opcode.WRITE_AND_VERIFY_16, 'WRITE AND VERIFY(16)', RW_LAYOUT_16),
];
