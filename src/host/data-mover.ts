/**
 * A data mover in the manner of a hypervisor's: it clones a range (or a whole LUN, also between
 * LUNs of one array) with EXTENDED COPY in segments of a transfer size, and falls back to host
 * READ/WRITE for any segment the array refuses. It talks to targets only through `execute`.
 * @module
 */
import { InvalidArgumentError, checkInteger, checkOptions, is, type ValueCheck } from '../common/errors.js';
import * as cdb from '../codec/cdb-encoder.js';
import { decodeSense, type DecodedSense } from '../codec/sense-decoder.js';
import { SenseKey } from '../spec/sense.js';
import type { ScsiResult } from '../scsi/outcome.js';
import { HostIoError } from './errors.js';
import { probeLun, type LunInfo } from './probe.js';
import type { ScsiTarget } from './target.js';

const MiB = 1024 * 1024;
/** A hypervisor's default hardware transfer size (ESXi /DataMover/MaxHWTransferSize = 4096 KB). */
export const DEFAULT_TRANSFER_BYTES = 4 * MiB;
/** The largest transfer size a hypervisor uses (16384 KB). */
export const MAX_TRANSFER_BYTES = 16 * MiB;

/** Options of {@link cloneRange}. */
export interface CloneOptions {
  /** Where to read. */
  readonly source: ScsiTarget;
  /** Where to write. @defaultValue the source */
  readonly destination?: ScsiTarget;
  /** First source LBA. @defaultValue 0 */
  readonly sourceLba?: number;
  /** First destination LBA. @defaultValue 0 */
  readonly destinationLba?: number;
  /** Blocks to copy. @defaultValue the whole source LUN from `sourceLba` */
  readonly blocks?: number;
  /** Bytes per EXTENDED COPY segment and per host I/O, at most 16 MiB; capped by the array's limits. @defaultValue 4 MiB */
  readonly transferBytes?: number;
  /** Try EXTENDED COPY first; `false` copies from the host only. @defaultValue true */
  readonly offload?: boolean;
  /** Commands in flight at once. @defaultValue 4 */
  readonly parallel?: number;
  /** Initiator name (the I_T nexus) for every command. */
  readonly initiator?: string;
}

/** What a clone did, by path. */
export interface CloneReport {
  /** Bytes copied in all. */
  readonly bytes: number;
  /** Bytes moved by EXTENDED COPY. */
  readonly offloadedBytes: number;
  /** Bytes moved by host READ/WRITE (fallback or `offload: false`). */
  readonly hostBytes: number;
  /** EXTENDED COPY commands issued (including refused ones). */
  readonly xcopyCommands: number;
  /** Segments the array refused that were copied by the host instead. */
  readonly fallbackSegments: number;
  /** READ commands issued. */
  readonly readCommands: number;
  /** WRITE commands issued. */
  readonly writeCommands: number;
  /** Effective transfer size used, in bytes. */
  readonly transferBytes: number;
}

/** What {@link cloneRange} accepts (ranges are checked against the LUNs once probed). */
const CLONE_OPTIONS = {
  source: is.target,
  destination: is.target,
  sourceLba: is.integer(0, Number.MAX_SAFE_INTEGER),
  destinationLba: is.integer(0, Number.MAX_SAFE_INTEGER),
  blocks: is.integer(0, Number.MAX_SAFE_INTEGER),
  transferBytes: is.integer(512, MAX_TRANSFER_BYTES),
  offload: is.boolean,
  parallel: is.integer(1, 1024),
  initiator: is.string,
} as const satisfies Record<keyof CloneOptions, ValueCheck>;

/**
 * The sense of a refused EXTENDED COPY after which a hypervisor copies the segment with its own data
 * mover, or `undefined` when the failure is a real I/O error. Fixed or descriptor format alike.
 */
function refusedOffload(r: ScsiResult): DecodedSense | undefined {
  const sense = r.status === 2 ? decodeSense(r.sense) : undefined;
  // ILLEGAL REQUEST (not implemented, limits) and COPY ABORTED: fall back. DATA PROTECT (out of
  // space) and others are real I/O errors that the host copy would hit too.
  return sense?.key === SenseKey.ILLEGAL_REQUEST || sense?.key === SenseKey.COPY_ABORTED ? sense : undefined;
}

/** Clones a range through `execute`: EXTENDED COPY per segment, host READ/WRITE for refused segments. */
export async function cloneRange(options: CloneOptions): Promise<CloneReport> {
  checkOptions(options, CLONE_OPTIONS, 'cloneRange', ['source']);
  const source = options.source;
  const destination = options.destination ?? source;
  const initiator = options.initiator;
  const exec = initiator === undefined ? undefined : { initiator };
  const transfer = checkInteger(options.transferBytes ?? DEFAULT_TRANSFER_BYTES, 512, MAX_TRANSFER_BYTES, 'cloneRange: transferBytes');
  const parallel = checkInteger(options.parallel ?? 4, 1, 1024, 'cloneRange: parallel');
  const [src, dst] = await Promise.all([probeLun(source, initiator), destination === source ? undefined : probeLun(destination, initiator)]);
  const dstInfo: LunInfo = dst ?? src;
  if (src.blockSize !== dstInfo.blockSize) throw new InvalidArgumentError('cloneRange: source and destination block sizes differ');
  const bs = src.blockSize;
  const sourceLba = checkInteger(options.sourceLba ?? 0, 0, src.blockCount, 'cloneRange: sourceLba');
  const destinationLba = checkInteger(options.destinationLba ?? 0, 0, dstInfo.blockCount, 'cloneRange: destinationLba');
  const blocks = checkInteger(options.blocks ?? src.blockCount - sourceLba, 0, src.blockCount - sourceLba, 'cloneRange: blocks');
  if (destinationLba + blocks > dstInfo.blockCount) throw new InvalidArgumentError('cloneRange: the destination range ends beyond the destination LUN');

  // One segment moves at most 65535 blocks (a 16-bit field) and at most the copy manager's MAXIMUM SEGMENT LENGTH.
  let segmentBlocks = Math.floor(transfer / bs);
  segmentBlocks = Math.min(segmentBlocks, 0xffff);
  const limits = src.copyManager ?? dstInfo.copyManager;
  if (limits !== undefined && limits.maxSegmentBytes > 0) segmentBlocks = Math.min(segmentBlocks, Math.floor(limits.maxSegmentBytes / bs));
  let hostBlocks = Math.floor(transfer / bs);
  for (const info of [src, dstInfo]) if (info.maxTransferBlocks > 0) hostBlocks = Math.min(hostBlocks, info.maxTransferBlocks);
  segmentBlocks = Math.max(1, segmentBlocks);
  hostBlocks = Math.max(1, hostBlocks);

  const canOffload =
    options.offload !== false && src.designator !== undefined && dstInfo.designator !== undefined && (src.supported === undefined || src.supported.has('131/0')) && limits !== undefined;
  const cscds = canOffload
    ? [src.designator!, ...(dst === undefined ? [] : [dstInfo.designator!])].map((d) => ({ designator: d.bytes, codeSet: d.codeSet, associationAndType: d.associationAndType, blockSize: bs }))
    : [];

  let offloadedBytes = 0;
  let hostBytes = 0;
  let xcopyCommands = 0;
  let fallbackSegments = 0;
  let readCommands = 0;
  let writeCommands = 0;
  let offloadWorks = canOffload;

  const hostCopy = async (from: number, to: number, count: number, buffer: Uint8Array): Promise<void> => {
    for (let done = 0; done < count; ) {
      const n = Math.min(hostBlocks, count - done);
      const read = cdb.read16({ lba: from + done, blocks: n });
      readCommands++;
      const r = await source.execute(read, undefined, { ...exec, dataIn: buffer });
      if (r.status !== 0 || r.data === undefined) throw new HostIoError('clone: host READ', read, r);
      const write = cdb.write16({ lba: to + done, blocks: n });
      writeCommands++;
      const w = await destination.execute(write, r.data, exec);
      if (w.status !== 0) throw new HostIoError('clone: host WRITE', write, w);
      done += n;
      hostBytes += n * bs;
    }
  };

  const segmentCount = Math.ceil(blocks / segmentBlocks);
  let next = 0;
  const worker = async (): Promise<void> => {
    let buffer: Uint8Array | undefined; // one reusable buffer per worker, made on its first host copy
    for (;;) {
      const i = next++;
      if (i >= segmentCount) return;
      const from = sourceLba + i * segmentBlocks;
      const to = destinationLba + i * segmentBlocks;
      const count = Math.min(segmentBlocks, blocks - i * segmentBlocks);
      if (offloadWorks) {
        const list = cdb.extendedCopyParameterList({
          cscds,
          segments: [{ source: 0, destination: cscds.length - 1, blocks: count, sourceLba: from, destinationLba: to }],
        });
        const command = cdb.extendedCopy(list.length);
        xcopyCommands++;
        const r = await destination.execute(command, list, exec);
        if (r.status === 0) {
          offloadedBytes += count * bs;
          continue;
        }
        const refused = refusedOffload(r);
        if (refused === undefined) throw new HostIoError('clone: EXTENDED COPY', command, r);
        // INVALID COMMAND OPERATION CODE: the array has no copy manager; stop asking it.
        if (refused.asc === 0x20) offloadWorks = false;
        fallbackSegments++;
      }
      buffer ??= new Uint8Array(hostBlocks * bs);
      await hostCopy(from, to, count, buffer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, segmentCount)) }, worker));
  return { bytes: blocks * bs, offloadedBytes, hostBytes, xcopyCommands, fallbackSegments, readCommands, writeCommands, transferBytes: segmentBlocks * bs };
}
