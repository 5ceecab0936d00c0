/**
 * WRITE ATOMIC(16) (SBC-4 5.48). The write either lands completely or not at all, and no other
 * command ever observes a part of it. The array makes that true by construction: a command runs
 * synchronously inside `execute` (commands execute one at a time on the array, see
 * compare-and-write.ts), decode checks every CDB field and the LBA range before anything happens,
 * the thin pool is asked for all the space the write needs before the first byte lands (an
 * exhausted pool answers DATA PROTECT / SPACE ALLOCATION FAILED WRITE PROTECT with nothing written),
 * and the data then lands through one block-store write. No open-source target implements the
 * command; the semantics follow the SBC-4 text (docs/decisions/write-atomic.md).
 * @module
 */
import { readU16, readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec } from '../command.js';
import type { CommandContext } from '../context.js';
import type { Lun } from '../logical-unit.js';
import { invalidCdbField, type Failure } from '../outcome.js';
import { checkLbaRange } from './common.js';
import { executeWrite, type RwCommand } from './read-write.js';

/**
 * @internal The atomic limits the Block Limits VPD page (B0h, SBC-4 6.6.4) reports and WRITE
 * ATOMIC(16) enforces. Any write the array accepts is atomic, so the limits are those of a plain
 * write, capped at what the 16-bit TRANSFER LENGTH of WRITE ATOMIC(16) can carry; there is no
 * alignment or granularity constraint (0 in both fields).
 */
export interface AtomicLimits {
  /** MAXIMUM ATOMIC TRANSFER LENGTH (blocks), for ATOMIC BOUNDARY = 0. */
  readonly maximumAtomicTransferLength: number;
  /** ATOMIC ALIGNMENT: 0, any LBA. */
  readonly atomicAlignment: number;
  /** ATOMIC TRANSFER LENGTH GRANULARITY: 0, any length. */
  readonly atomicTransferLengthGranularity: number;
  /** MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY (blocks), for ATOMIC BOUNDARY > 0. */
  readonly maximumAtomicTransferLengthWithAtomicBoundary: number;
  /** MAXIMUM ATOMIC BOUNDARY SIZE (blocks): the largest ATOMIC BOUNDARY accepted. */
  readonly maximumAtomicBoundarySize: number;
}

/** The largest TRANSFER LENGTH a WRITE ATOMIC(16) CDB can carry (bytes 12-13). */
const CDB_MAXIMUM = 0xffff;

/** @internal The atomic limits of `lun` (see {@link AtomicLimits}). */
export function atomicLimits(lun: Lun): AtomicLimits {
  const max = Math.min(lun.limits.maximumTransferLength, CDB_MAXIMUM);
  return {
    maximumAtomicTransferLength: max,
    atomicAlignment: 0,
    atomicTransferLengthGranularity: 0,
    maximumAtomicTransferLengthWithAtomicBoundary: max,
    maximumAtomicBoundarySize: max,
  };
}

/**
 * WRITE ATOMIC(16): byte 1 WRPROTECT (7:5), DPO (4), FUA (3); LBA in bytes 2-9; ATOMIC BOUNDARY in
 * 10-11; TRANSFER LENGTH in 12-13; GROUP NUMBER in byte 14. A TRANSFER LENGTH of 0 is not an error
 * (nothing is written). ATOMIC BOUNDARY = 0: TRANSFER LENGTH over MAXIMUM ATOMIC TRANSFER LENGTH is
 * INVALID FIELD IN CDB. ATOMIC BOUNDARY > 0 asks that each boundary-sized piece be atomic; the whole
 * write is atomic, which satisfies that, but a boundary over MAXIMUM ATOMIC BOUNDARY SIZE or a
 * length over MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY is INVALID FIELD IN CDB.
 */
function decode(cdb: Uint8Array, ctx: CommandContext): RwCommand | Failure {
  const lun = ctx.lun;
  // WRPROTECT without protection information (libiscsi WriteAtomic16.WriteProtect). DPO and FUA are
  // accepted: MODE SENSE reports DPOFUA = 1, and every write is durable at completion.
  if ((cdb[1]! & 0xe0) !== 0) return invalidCdbField(1, 7);
  const lba = readU64(cdb, 2);
  const boundary = readU16(cdb, 10);
  const blocks = readU16(cdb, 12);
  const range = checkLbaRange(lun, lba, blocks);
  if (range !== undefined) return range;
  const limits = atomicLimits(lun);
  if (boundary === 0) {
    if (blocks > limits.maximumAtomicTransferLength) return invalidCdbField(12);
  } else {
    if (boundary > limits.maximumAtomicBoundarySize) return invalidCdbField(10);
    if (blocks > limits.maximumAtomicTransferLengthWithAtomicBoundary) return invalidCdbField(12);
  }
  return { dataOutLength: blocks * lun.blockSize, lba, blocks };
}

/** @internal */
export const WRITE_ATOMIC_COMMAND: CommandSpec = defineCommand<RwCommand>({
  opcode: Opcode.WRITE_ATOMIC_16,
  name: 'WRITE ATOMIC(16)',
  cdbLength: 16,
  // byte 1: WRPROTECT, DPO, FUA; LBA; ATOMIC BOUNDARY; TRANSFER LENGTH (GROUP NUMBER not evaluated, as in WRITE(16))
  usage: [Opcode.WRITE_ATOMIC_16, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
  writesMedium: true,
  decode,
  // Space for the whole write is checked before the first byte lands, then one store write.
  execute: executeWrite,
});
