/**
 * READ(6)/(10)/(12)/(16) and WRITE(6)/(10)/(12)/(16) (SBC-3 5.11-5.13, 5.29-5.31; SBC-4 READ(6),
 * WRITE(6)). The 10-, 12- and 16-byte CDBs differ only in where LBA and TRANSFER LENGTH sit, so the
 * layouts are data and one decoder serves all; the 6-byte CDBs have their own decoder and share the
 * executors.
 * @module
 */
import { readU16, readU24, readU32, readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { RW_LAYOUT_10 as LAYOUT_10, RW_LAYOUT_12 as LAYOUT_12, RW_LAYOUT_16 as LAYOUT_16, type RwLayout } from '../../spec/cdb-layouts.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import { dataInBuffer, type CommandContext } from '../context.js';
import { GOOD, goodWith, invalidCdbField, withData, type Failure } from '../outcome.js';
import { checkLbaRange, checkSpace } from './common.js';

/** @internal A decoded READ or WRITE. */
export interface RwCommand extends Decoded {
  readonly lba: number;
  readonly blocks: number;
}

/**
 * @internal CDB USAGE DATA of a CDB with the READ/WRITE layout `l`: byte 1 = `byte1` (for READ and
 * WRITE: RDPROTECT/WRPROTECT (7:5), DPO (4), FUA (3)); LBA and length all ones.
 */
export function rwUsage(opcode: number, l: RwLayout, byte1 = 0xf8): number[] {
  const u = new Array<number>(l.cdbLength).fill(0);
  u[0] = opcode;
  u[1] = byte1;
  for (let i = 0; i < l.lbaBytes; i++) u[l.lbaAt + i] = 0xff;
  for (let i = 0; i < l.lengthBytes; i++) u[l.lengthAt + i] = 0xff;
  return u;
}

/**
 * @internal Decoder of a READ (`write` false) or WRITE-shaped CDB with layout `l`: RDPROTECT/WRPROTECT
 * zero, then the LBA range, then MAXIMUM TRANSFER LENGTH; a write's Data-Out is the blocks.
 */
export function decodeRw(l: RwLayout, write: boolean): (cdb: Uint8Array, ctx: CommandContext) => RwCommand | Failure {
  return (cdb, ctx) => {
    const lun = ctx.lun;
    // RDPROTECT/WRPROTECT: no protection information, so any non-zero value is invalid (SBC-3 5.13).
    if ((cdb[1]! & 0xe0) !== 0) return invalidCdbField(1, 7);
    const lba = l.lbaBytes === 4 ? readU32(cdb, l.lbaAt) : readU64(cdb, l.lbaAt);
    const blocks = l.lengthBytes === 2 ? readU16(cdb, l.lengthAt) : readU32(cdb, l.lengthAt);
    const range = checkLbaRange(lun, lba, blocks);
    if (range !== undefined) return range;
    if (blocks > lun.limits.maximumTransferLength) return invalidCdbField(l.lengthAt);
    return { dataOutLength: write ? blocks * lun.blockSize : 0, lba, blocks };
  };
}

/** The 21-bit LOGICAL BLOCK ADDRESS of a READ(6)/WRITE(6) CDB (byte 1 bits 4:0, bytes 2-3). */
const LBA_6_MASK = 0x1fffff;

/**
 * READ(6)/WRITE(6) (SBC-4): LOGICAL BLOCK ADDRESS in byte 1 bits 4:0 and bytes 2-3, TRANSFER LENGTH
 * in byte 4, where 0 means 256 blocks. There are no RDPROTECT/WRPROTECT, DPO or FUA bits; byte 1
 * bits 7:5 are reserved (the SCSI-2 LUN field) and, like the reserved bits of the larger CDBs, not
 * evaluated (docs/decisions/libiscsi.md, "READ(6), VERIFY, WRITE AND VERIFY, PRE-FETCH").
 */
function decodeRw6(write: boolean): (cdb: Uint8Array, ctx: CommandContext) => RwCommand | Failure {
  return (cdb, ctx) => {
    const lun = ctx.lun;
    const lba = readU24(cdb, 1) & LBA_6_MASK;
    const blocks = cdb[4] === 0 ? 256 : cdb[4]!;
    const range = checkLbaRange(lun, lba, blocks);
    if (range !== undefined) return range;
    if (blocks > lun.limits.maximumTransferLength) return invalidCdbField(4);
    return { dataOutLength: write ? blocks * lun.blockSize : 0, lba, blocks };
  };
}

/** CDB USAGE DATA of READ(6)/WRITE(6): the 21-bit LBA and TRANSFER LENGTH. */
const usage6 = (opcode: number): number[] => [opcode, 0x1f, 0xff, 0xff, 0xff, 0x00];

/** @internal READ: the blocks as the medium holds them (unmapped blocks read as zeros). */
export function executeRead(cmd: RwCommand, _dataOut: Uint8Array, ctx: CommandContext) {
  const bs = ctx.lun.blockSize;
  if (cmd.blocks === 0) return GOOD; // SBC-3: a TRANSFER LENGTH of zero is not an error
  const data = dataInBuffer(ctx, cmd.blocks * bs);
  ctx.lun.store.read(cmd.lba * bs, data.length, data, 0);
  return withData(data, { mediaReadBytes: data.length });
}

/** @internal WRITE: allocates like every write (zero detection, SPACE ALLOCATION FAILED on an exhausted pool). */
export function executeWrite(cmd: RwCommand, dataOut: Uint8Array, ctx: CommandContext) {
  if (cmd.blocks === 0) return GOOD;
  const store = ctx.lun.store;
  const offset = cmd.lba * ctx.lun.blockSize;
  // Zero detection: all-zero pieces have the effect of storing zeros without allocating for them.
  const zeroDetect = ctx.array.zeroDetect;
  const noSpace = checkSpace(ctx, store.writeNeed(offset, dataOut.length, zeroDetect ? dataOut : undefined), ctx.opcode);
  if (noSpace !== undefined) return noSpace;
  store.write(offset, dataOut, zeroDetect);
  return goodWith({ mediaWriteBytes: dataOut.length });
}

function readSpec(opcode: number, name: string, l: RwLayout): CommandSpec {
  return defineCommand<RwCommand>({ opcode, name, cdbLength: l.cdbLength, usage: rwUsage(opcode, l), reservationAccess: 'read', decode: decodeRw(l, false), execute: executeRead });
}

function writeSpec(opcode: number, name: string, l: RwLayout): CommandSpec {
  return defineCommand<RwCommand>({ opcode, name, cdbLength: l.cdbLength, usage: rwUsage(opcode, l), writesMedium: true, decode: decodeRw(l, true), execute: executeWrite });
}

/** @internal */
export const READ_WRITE_COMMANDS: readonly CommandSpec[] = [
  defineCommand<RwCommand>({ opcode: Opcode.READ_6, name: 'READ(6)', cdbLength: 6, usage: usage6(Opcode.READ_6), reservationAccess: 'read', decode: decodeRw6(false), execute: executeRead }),
  defineCommand<RwCommand>({ opcode: Opcode.WRITE_6, name: 'WRITE(6)', cdbLength: 6, usage: usage6(Opcode.WRITE_6), writesMedium: true, decode: decodeRw6(true), execute: executeWrite }),
  readSpec(Opcode.READ_10, 'READ(10)', LAYOUT_10),
  readSpec(Opcode.READ_12, 'READ(12)', LAYOUT_12),
  readSpec(Opcode.READ_16, 'READ(16)', LAYOUT_16),
  writeSpec(Opcode.WRITE_10, 'WRITE(10)', LAYOUT_10),
  writeSpec(Opcode.WRITE_12, 'WRITE(12)', LAYOUT_12),
  writeSpec(Opcode.WRITE_16, 'WRITE(16)', LAYOUT_16),
];
