/**
 * WRITE SAME(10) and WRITE SAME(16) (SBC-3 5.41, 5.42), with UNMAP and NDOB. A zero pattern (or
 * NDOB) deallocates whole allocation units and zeroes partial ones, so zeroing costs no space;
 * ANCHOR is rejected because the array reports ANC_SUP = 0.
 * @module
 */
import { isAllZero, readU16, readU32, readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { goodWith, invalidCdbField, type Failure, type Outcome } from '../outcome.js';
import { checkLbaRange, checkSpace } from './common.js';

/** @internal */
export interface WriteSameCommand extends Decoded {
  readonly lba: number;
  readonly blocks: number;
  readonly unmap: boolean;
  /** NDOB: no Data-Out, the pattern is all zeros. */
  readonly noDataOutBuffer: boolean;
}

interface WriteSameLayout {
  readonly lbaBytes: 4 | 8;
  readonly blocksAt: number;
  readonly blocksBytes: 2 | 4;
  readonly sixteen: boolean;
}

function decodeWriteSame(l: WriteSameLayout) {
  return (cdb: Uint8Array, ctx: CommandContext): WriteSameCommand | Failure => {
    const lun = ctx.lun;
    const flags = cdb[1]!;
    if ((flags & 0xe0) !== 0) return invalidCdbField(1, 7); // WRPROTECT without protection information
    if ((flags & 0x10) !== 0) return invalidCdbField(1, 4); // ANCHOR: ANC_SUP = 0
    if ((flags & 0x06) !== 0) return invalidCdbField(1, (flags & 0x04) !== 0 ? 2 : 1); // PBDATA/LBDATA (obsolete)
    const unmap = (flags & 0x08) !== 0;
    if (unmap && !lun.thin) return invalidCdbField(1, 3); // LBPWS/LBPWS10 = 0 on a fully provisioned LUN
    const noDataOutBuffer = l.sixteen && (flags & 0x01) !== 0;
    const lba = l.lbaBytes === 4 ? readU32(cdb, 2) : readU64(cdb, 2);
    let blocks = l.blocksBytes === 2 ? readU16(cdb, l.blocksAt) : readU32(cdb, l.blocksAt);
    const range = checkLbaRange(lun, lba, blocks);
    if (range !== undefined) return range;
    // WSNZ = 0: NUMBER OF LOGICAL BLOCKS = 0 means from LBA to the last LBA (SBC-3 5.41), and that
    // count is held to MAXIMUM WRITE SAME LENGTH like any other.
    if (blocks === 0) blocks = lun.blockCount - lba;
    if (blocks > lun.limits.maximumWriteSameLength) return invalidCdbField(l.blocksAt);
    return { dataOutLength: noDataOutBuffer ? 0 : lun.blockSize, lba, blocks, unmap, noDataOutBuffer };
  };
}

function executeWriteSame(cmd: WriteSameCommand, dataOut: Uint8Array, ctx: CommandContext): Outcome {
  const store = ctx.lun.store;
  const bs = ctx.lun.blockSize;
  const offset = cmd.lba * bs;
  const length = cmd.blocks * bs;
  if (cmd.unmap || cmd.noDataOutBuffer || isAllZero(dataOut)) {
    // UNMAP = 1 unmaps whatever the Data-Out block holds (as LIO does, and libiscsi's UnmapUntilEnd
    // checks that the blocks then read zero); an all-zero pattern is the same as deallocation.
    const noSpace = checkSpace(ctx, store.zeroNeed(offset, length), ctx.opcode);
    if (noSpace !== undefined) return noSpace;
    store.zero(offset, length);
    // Deallocation is metadata work on a thin LUN; a fully provisioned one writes the zeros.
    return goodWith(ctx.lun.thin ? { deallocatedBytes: length } : { zeroedBytes: length });
  }
  const noSpace = checkSpace(ctx, store.writeNeed(offset, length), ctx.opcode);
  if (noSpace !== undefined) return noSpace;
  store.fill(offset, length, dataOut);
  return goodWith({ mediaWriteBytes: length });
}

/** @internal */
export const WRITE_SAME_COMMANDS: readonly CommandSpec[] = [
  defineCommand<WriteSameCommand>({
    opcode: Opcode.WRITE_SAME_10,
    name: 'WRITE SAME(10)',
    cdbLength: 10,
    // byte 1: WRPROTECT (7:5), UNMAP (3) on thin LUNs; ANCHOR and the obsolete PBDATA/LBDATA are rejected
    usage: (lun) => [Opcode.WRITE_SAME_10, lun.thin ? 0xe8 : 0xe0, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00],
    writesMedium: true,
    decode: decodeWriteSame({ lbaBytes: 4, blocksAt: 7, blocksBytes: 2, sixteen: false }),
    execute: executeWriteSame,
  }),
  defineCommand<WriteSameCommand>({
    opcode: Opcode.WRITE_SAME_16,
    name: 'WRITE SAME(16)',
    cdbLength: 16,
    // byte 1: WRPROTECT (7:5), UNMAP (3) on thin LUNs, NDOB (0); ANCHOR and the obsolete bits are rejected
    usage: (lun) => [Opcode.WRITE_SAME_16, lun.thin ? 0xe9 : 0xe1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    writesMedium: true,
    decode: decodeWriteSame({ lbaBytes: 8, blocksAt: 10, blocksBytes: 4, sixteen: true }),
    execute: executeWriteSame,
  }),
];

