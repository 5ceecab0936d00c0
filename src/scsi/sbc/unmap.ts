/**
 * UNMAP (SBC-3 5.28). Whole allocation units are returned to the pool; partial ones are zeroed so
 * that LBPRZ holds. UNMAP never needs space to succeed, so it works on an exhausted pool.
 * @module
 */
import { readU16, readU32, readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded, type LbaRange } from '../command.js';
import type { CommandContext } from '../context.js';
import { fail, goodWith, invalidCdbField, invalidParameterField, type Failure, type Outcome } from '../outcome.js';
import { checkLbaRange } from './common.js';

/** @internal */
export interface UnmapCommand extends Decoded {
  readonly ranges: readonly LbaRange[];
}

/** Parameter list header: UNMAP DATA LENGTH (0..1), UNMAP BLOCK DESCRIPTOR DATA LENGTH (2..3), reserved (4..7). */
const HEADER_LENGTH = 8;
/** Block descriptor: LBA (0..7), NUMBER OF LOGICAL BLOCKS (8..11), reserved (12..15). */
const DESCRIPTOR_LENGTH = 16;

function decode(cdb: Uint8Array): UnmapCommand | Failure {
  if ((cdb[1]! & 0x01) !== 0) return invalidCdbField(1, 0); // ANCHOR: ANC_SUP = 0
  return { dataOutLength: readU16(cdb, 7), ranges: [] };
}

function decodeData(cmd: UnmapCommand, list: Uint8Array, ctx: CommandContext): UnmapCommand | Failure {
  if (list.length === 0) return cmd; // PARAMETER LIST LENGTH 0: nothing to do (SBC-3 5.28)
  if (list.length < HEADER_LENGTH) return fail('PARAMETER_LIST_LENGTH_ERROR');
  const lun = ctx.lun;
  // A descriptor length beyond the list, or not a multiple of 16, leaves the partial descriptor out.
  const available = Math.min(readU16(list, 2), list.length - HEADER_LENGTH);
  const count = Math.floor(available / DESCRIPTOR_LENGTH);
  if (count > lun.limits.maximumUnmapBlockDescriptorCount) return invalidParameterField(2);
  const ranges: LbaRange[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const at = HEADER_LENGTH + i * DESCRIPTOR_LENGTH;
    const lba = readU64(list, at);
    const blocks = readU32(list, at + 8);
    const outOfRange = checkLbaRange(lun, lba, blocks);
    if (outOfRange !== undefined) return outOfRange;
    total += blocks;
    if (blocks > 0) ranges.push({ lba, blocks });
  }
  const maxLbas = lun.limits.maximumUnmapLbaCount;
  if (maxLbas !== 0xffffffff && total > maxLbas) return invalidParameterField(HEADER_LENGTH + 8);
  return { dataOutLength: cmd.dataOutLength, ranges };
}

function execute(cmd: UnmapCommand, _list: Uint8Array, ctx: CommandContext): Outcome {
  const bs = ctx.lun.blockSize;
  let deallocatedBytes = 0;
  // A piece the store had to leave mapped (a partial unit of a full pool) was not deallocated.
  for (const r of cmd.ranges) deallocatedBytes += r.blocks * bs - ctx.lun.store.unmap(r.lba * bs, r.blocks * bs);
  return goodWith({ deallocatedBytes });
}

/** @internal */
export const UNMAP_COMMAND: CommandSpec = defineCommand<UnmapCommand>({
  opcode: Opcode.UNMAP,
  name: 'UNMAP',
  cdbLength: 10,
  // byte 1 bit 0 ANCHOR is rejected (ANC_SUP = 0), so it is not reported as used
  usage: [Opcode.UNMAP, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00],
  supported: (lun) => lun.thin,
  writesMedium: true,
  decode,
  decodeData,
  execute,
});
