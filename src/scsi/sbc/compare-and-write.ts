/**
 * COMPARE AND WRITE (SBC-3 5.2), the ATS primitive. Commands execute one at a time on the array,
 * so the compare and the write are atomic with respect to every other command on every nexus.
 * @module
 */
import { readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, fail, failedAfter, goodWith, invalidCdbField, type Failure, type Outcome } from '../outcome.js';
import { checkLbaRange, checkSpace } from './common.js';

/** @internal */
export interface CompareAndWriteCommand extends Decoded {
  readonly lba: number;
  readonly blocks: number;
}

function decode(cdb: Uint8Array, ctx: CommandContext): CompareAndWriteCommand | Failure {
  const lun = ctx.lun;
  if ((cdb[1]! & 0xe0) !== 0) return invalidCdbField(1, 7); // WRPROTECT without protection information
  // DPO and FUA are accepted: MODE SENSE reports DPOFUA = 1, and every write is durable at completion.
  const blocks = cdb[13]!;
  if (blocks > lun.limits.maximumCompareAndWriteLength) return invalidCdbField(13);
  const lba = readU64(cdb, 2);
  const range = checkLbaRange(lun, lba, blocks);
  if (range !== undefined) return range;
  // Data-Out carries the verify instance and then the write instance (SBC-3 5.2).
  return { dataOutLength: 2 * blocks * lun.blockSize, lba, blocks };
}

function execute(cmd: CompareAndWriteCommand, dataOut: Uint8Array, ctx: CommandContext): Outcome {
  if (cmd.blocks === 0) return GOOD; // SBC-4 5.3: zero blocks is not an error; nothing is compared or written
  const store = ctx.lun.store;
  const offset = cmd.lba * ctx.lun.blockSize;
  const half = dataOut.length >>> 1;
  const mismatch = store.compare(offset, dataOut, 0, half);
  if (mismatch >= 0) {
    // INFORMATION = offset of the first differing byte in the verify data (SBC-3 5.2); unmapped
    // blocks compare as zeros and report the same 1D/00.
    // The compare read the blocks, so that work is recorded though nothing was written.
    return failedAfter(fail('MISCOMPARE_DURING_VERIFY_OPERATION', { information: mismatch }), { mediaReadBytes: half });
  }
  const noSpace = checkSpace(ctx, store.writeNeed(offset, half), ctx.opcode);
  if (noSpace !== undefined) return noSpace;
  store.write(offset, dataOut.subarray(half));
  return goodWith({ mediaReadBytes: half, mediaWriteBytes: half });
}

/** @internal */
export const COMPARE_AND_WRITE_COMMAND: CommandSpec = defineCommand<CompareAndWriteCommand>({
  opcode: Opcode.COMPARE_AND_WRITE,
  name: 'COMPARE AND WRITE',
  cdbLength: 16,
  // byte 1: WRPROTECT (7:5), DPO (4), FUA (3); byte 13: NUMBER OF LOGICAL BLOCKS
  usage: [Opcode.COMPARE_AND_WRITE, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00],
  writesMedium: true,
  decode,
  execute,
});
