/**
 * READ CAPACITY(10)/(16), GET LBA STATUS and SYNCHRONIZE CACHE(10)/(16) (SBC-3 5.16, 5.17, 5.7,
 * 5.25, 5.26): the commands that report on, rather than change, the medium.
 * @module
 */
import { readU16, readU32, readU64, truncate, writeU32, writeU64 } from '../../codec/bytes.js';
import { Opcode, ServiceAction } from '../../spec/opcodes.js';
import { NO_DATA, defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, fail, invalidCdbField, withData, type Failure, type Outcome } from '../outcome.js';
import { checkLbaRange } from './common.js';

interface AllocationCommand extends Decoded {
  readonly allocationLength: number;
}

interface LbaStatusCommand extends AllocationCommand {
  readonly startingLba: number;
}

/** READ CAPACITY(10): RETURNED LOGICAL BLOCK ADDRESS saturates at FFFFFFFFh (SBC-3 5.16.2). */
function readCapacity10(_cmd: Decoded, _d: Uint8Array, ctx: CommandContext): Outcome {
  const data = new Uint8Array(8);
  const lastLba = ctx.lun.blockCount - 1;
  writeU32(data, 0, lastLba > 0xffffffff ? 0xffffffff : lastLba);
  writeU32(data, 4, ctx.lun.blockSize);
  return withData(data);
}

/** READ CAPACITY(16) parameter data (SBC-3 5.17.2; SBC-4 5.20.2), 32 bytes. */
function readCapacity16(cmd: AllocationCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const lun = ctx.lun;
  const data = new Uint8Array(32);
  writeU64(data, 0, lun.blockCount - 1); // RETURNED LOGICAL BLOCK ADDRESS
  writeU32(data, 8, lun.blockSize); // LOGICAL BLOCK LENGTH IN BYTES
  // byte 12: P_TYPE/PROT_EN = 0
  data[13] = lun.physicalBlockExponent; // P_I_EXPONENT = 0 (7:4), LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (3:0)
  // bytes 14-15: LBPME, LBPRZ, LOWEST ALIGNED LOGICAL BLOCK ADDRESS = 0 (13:0): LBA 0 starts a
  // physical block, since the volume starts at one (docs/decisions/unmap-and-provisioning.md)
  if (lun.thin) data[14] = 0x80 | 0x40;
  return withData(truncate(data, cmd.allocationLength));
}

/** Largest NUMBER OF LOGICAL BLOCKS one LBA status descriptor can hold. */
const MAX_DESCRIPTOR_BLOCKS = 0xffffffff;
/**
 * Descriptors returned at most (the rest is fetched with a later STARTING LBA). Fixed, so that a
 * short ALLOCATION LENGTH gets a prefix of the same data (SPC-4 4.2.5.6).
 */
const MAX_LBA_STATUS_DESCRIPTORS = 1024;

/**
 * GET LBA STATUS (SBC-3 5.7): runs of mapped (0) and deallocated (1) blocks from STARTING LBA, at
 * allocation-unit granularity, up to {@link MAX_LBA_STATUS_DESCRIPTORS}, truncated to ALLOCATION LENGTH.
 */
function getLbaStatus(cmd: LbaStatusCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const lun = ctx.lun;
  const unitBlocks = lun.unitBlocks;
  const mapped = lun.store.mappedUnitsFrom(Math.floor(cmd.startingLba / unitBlocks));
  const runs: Array<{ lba: number; blocks: number; status: number }> = [];
  let cursor = cmd.startingLba;
  let m = 0;
  while (cursor < lun.blockCount && runs.length < MAX_LBA_STATUS_DESCRIPTORS) {
    const unit = Math.floor(cursor / unitBlocks);
    while (m < mapped.length && mapped[m]! < unit) m++;
    let end: number;
    let status: number;
    if (m < mapped.length && mapped[m] === unit) {
      let last = unit;
      while (m + 1 < mapped.length && mapped[m + 1] === last + 1) last = mapped[++m]!;
      m++;
      end = (last + 1) * unitBlocks;
      status = 0; // mapped
    } else {
      end = m < mapped.length ? mapped[m]! * unitBlocks : lun.blockCount;
      status = 1; // deallocated
    }
    end = Math.min(end, lun.blockCount, cursor + MAX_DESCRIPTOR_BLOCKS);
    runs.push({ lba: cursor, blocks: end - cursor, status });
    cursor = end;
  }
  const data = new Uint8Array(8 + 16 * runs.length);
  writeU32(data, 0, data.length - 4); // PARAMETER DATA LENGTH
  runs.forEach((r, i) => {
    const at = 8 + 16 * i;
    writeU64(data, at, r.lba);
    writeU32(data, at + 8, r.blocks);
    data[at + 12] = r.status; // PROVISIONING STATUS
  });
  return withData(truncate(data, cmd.allocationLength));
}

function decodeSync(lbaBytes: 4 | 8, blocksAt: number, blocksBytes: 2 | 4) {
  return (cdb: Uint8Array, ctx: CommandContext): Decoded | Failure => {
    const lba = lbaBytes === 4 ? readU32(cdb, 2) : readU64(cdb, 2);
    const blocks = blocksBytes === 2 ? readU16(cdb, blocksAt) : readU32(cdb, blocksAt);
    // NUMBER OF LOGICAL BLOCKS = 0 means "to the end of the medium": only the LBA must be in range.
    return checkLbaRange(ctx.lun, lba, blocks) ?? NO_DATA;
  };
}

/** Every write is durable when it completes, so there is nothing to flush (MODE SENSE reports WCE = 0). */
const synchronizeCache = (): Outcome => GOOD;

/** @internal */
export const CAPACITY_COMMANDS: readonly CommandSpec[] = [
  defineCommand<Decoded>({
    opcode: Opcode.READ_CAPACITY_10,
    name: 'READ CAPACITY(10)',
    reservationAccess: 'allowed',
    cdbLength: 10,
    usage: [Opcode.READ_CAPACITY_10, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00],
    decode: (cdb) => {
      // LOGICAL BLOCK ADDRESS must be zero when PMI is zero (SBC-3 5.16.1); PMI = 1 is obsolete.
      if ((cdb[8]! & 0x01) !== 0) return invalidCdbField(8, 0);
      if (readU32(cdb, 2) !== 0) return invalidCdbField(2);
      return NO_DATA;
    },
    execute: readCapacity10,
  }),
  defineCommand<AllocationCommand>({
    opcode: Opcode.SERVICE_ACTION_IN_16,
    serviceAction: ServiceAction.READ_CAPACITY_16,
    name: 'READ CAPACITY(16)',
    reservationAccess: 'allowed',
    cdbLength: 16,
    usage: [Opcode.SERVICE_ACTION_IN_16, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    decode: (cdb) => ({ dataOutLength: 0, allocationLength: readU32(cdb, 10) }),
    execute: readCapacity16,
  }),
  defineCommand<LbaStatusCommand>({
    opcode: Opcode.SERVICE_ACTION_IN_16,
    serviceAction: ServiceAction.GET_LBA_STATUS,
    name: 'GET LBA STATUS',
    reservationAccess: 'read',
    cdbLength: 16,
    usage: [Opcode.SERVICE_ACTION_IN_16, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    supported: (lun) => lun.thin,
    decode: (cdb, ctx) => {
      const startingLba = readU64(cdb, 2);
      if (startingLba >= ctx.lun.blockCount) return fail('LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE');
      return { dataOutLength: 0, startingLba, allocationLength: readU32(cdb, 10) };
    },
    execute: getLbaStatus,
  }),
  defineCommand<Decoded>({
    opcode: Opcode.SYNCHRONIZE_CACHE_10,
    name: 'SYNCHRONIZE CACHE(10)',
    cdbLength: 10,
    usage: [Opcode.SYNCHRONIZE_CACHE_10, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x00],
    decode: decodeSync(4, 7, 2),
    execute: synchronizeCache,
  }),
  defineCommand<Decoded>({
    opcode: Opcode.SYNCHRONIZE_CACHE_16,
    name: 'SYNCHRONIZE CACHE(16)',
    cdbLength: 16,
    usage: [Opcode.SYNCHRONIZE_CACHE_16, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    decode: decodeSync(8, 10, 4),
    execute: synchronizeCache,
  }),
];
