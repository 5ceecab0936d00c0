/**
 * Eager zeroing of a range, as a hypervisor creates an eager-zeroed disk: WRITE SAME with one zero
 * block (with UNMAP where the LUN is thin, so the array can deallocate), falling back to writing
 * zero buffers from the host when the array refuses.
 * @module
 */
import { checkInteger, checkOptions, is, type ValueCheck } from '../common/errors.js';
import * as cdb from '../codec/cdb-encoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { SenseKey } from '../spec/sense.js';
import { HostIoError } from './errors.js';
import { probeLun } from './probe.js';
import type { ScsiTarget } from './target.js';

/** Options of {@link zeroRange}. */
export interface ZeroOptions {
  /** The LUN to zero. */
  readonly target: ScsiTarget;
  /** First LBA. @defaultValue 0 */
  readonly lba?: number;
  /** Blocks to zero. @defaultValue the whole LUN from `lba` */
  readonly blocks?: number;
  /** Use WRITE SAME; `false` writes zero buffers from the host. @defaultValue true */
  readonly offload?: boolean;
  /** Bytes per host WRITE (and per WRITE SAME, unless the array allows more). @defaultValue 1 MiB, as ESXi's WRITE SAME I/Os */
  readonly transferBytes?: number;
  /** Commands in flight at once. @defaultValue 4 */
  readonly parallel?: number;
  /** Initiator name for every command. */
  readonly initiator?: string;
}

/** What a zeroing did. */
export interface ZeroReport {
  /** Bytes zeroed. */
  readonly bytes: number;
  /** Bytes zeroed by WRITE SAME. */
  readonly offloadedBytes: number;
  /** Bytes zeroed by host writes of zero buffers. */
  readonly hostBytes: number;
  /** WRITE SAME commands issued. */
  readonly writeSameCommands: number;
  /** WRITE commands issued. */
  readonly writeCommands: number;
  /** Whether WRITE SAME carried the UNMAP bit. */
  readonly unmap: boolean;
}

/** What {@link zeroRange} accepts (the range is checked against the LUN once probed). */
const ZERO_OPTIONS = {
  target: is.target,
  lba: is.integer(0, Number.MAX_SAFE_INTEGER),
  blocks: is.integer(0, Number.MAX_SAFE_INTEGER),
  offload: is.boolean,
  transferBytes: is.integer(512, 256 * 1024 * 1024),
  parallel: is.integer(1, 1024),
  initiator: is.string,
} as const satisfies Record<keyof ZeroOptions, ValueCheck>;

/** Zeroes a range through `execute`. */
export async function zeroRange(options: ZeroOptions): Promise<ZeroReport> {
  checkOptions(options, ZERO_OPTIONS, 'zeroRange', ['target']);
  const target = options.target;
  const exec = options.initiator === undefined ? undefined : { initiator: options.initiator };
  const info = await probeLun(target, options.initiator);
  const bs = info.blockSize;
  const lba = checkInteger(options.lba ?? 0, 0, info.blockCount, 'zeroRange: lba');
  const blocks = checkInteger(options.blocks ?? info.blockCount - lba, 0, info.blockCount - lba, 'zeroRange: blocks');
  const transfer = checkInteger(options.transferBytes ?? 1024 * 1024, bs, 256 * 1024 * 1024, 'zeroRange: transferBytes');
  const parallel = checkInteger(options.parallel ?? 4, 1, 1024, 'zeroRange: parallel');
  let hostBlocks = Math.max(1, Math.floor(transfer / bs));
  if (info.maxTransferBlocks > 0) hostBlocks = Math.min(hostBlocks, info.maxTransferBlocks);
  // WRITE SAME moves no data, so one command may cover as much as the array allows.
  const sameBlocks = info.maxWriteSameBlocks > 0 ? Math.min(info.maxWriteSameBlocks, 0xffffffff) : Math.max(1, Math.floor(transfer / bs));
  const unmap = info.thin && info.unmappedReadsZero;
  let offload = options.offload !== false;
  const zeroBlock = new Uint8Array(bs);
  const zeros = new Uint8Array(hostBlocks * bs); // shared by every write: never modified
  let offloadedBytes = 0;
  let hostBytes = 0;
  let writeSameCommands = 0;
  let writeCommands = 0;

  const hostZero = async (from: number, count: number): Promise<void> => {
    for (let done = 0; done < count; ) {
      const n = Math.min(hostBlocks, count - done);
      const c = cdb.write16({ lba: from + done, blocks: n });
      writeCommands++;
      const r = await target.execute(c, n === hostBlocks ? zeros : zeros.subarray(0, n * bs), exec);
      if (r.status !== 0) throw new HostIoError('zero: host WRITE', c, r);
      done += n;
      hostBytes += n * bs;
    }
  };

  const chunk = offload ? sameBlocks : hostBlocks;
  const chunks = Math.ceil(blocks / chunk);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= chunks) return;
      const from = lba + i * chunk;
      const count = Math.min(chunk, blocks - i * chunk);
      if (offload) {
        const c = cdb.writeSame16({ lba: from, blocks: count, unmap });
        writeSameCommands++;
        const r = await target.execute(c, zeroBlock, exec);
        if (r.status === 0) {
          offloadedBytes += count * bs;
          continue;
        }
        if (decodeSense(r.sense)?.key !== SenseKey.ILLEGAL_REQUEST) throw new HostIoError('zero: WRITE SAME', c, r);
        offload = false; // the array refuses WRITE SAME: zero from the host from now on
      }
      await hostZero(from, count);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, chunks)) }, worker));
  return { bytes: blocks * bs, offloadedBytes, hostBytes, writeSameCommands, writeCommands, unmap };
}
