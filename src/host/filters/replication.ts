/**
 * Replication without snapshots, as an I/O filter: every change to the disk is mirrored to a
 * replica disk (in-process, or remote over iSCSI: anything with `execute`), synchronously (the
 * guest's write is acknowledged once the replica has it) or asynchronously (shipped in order
 * behind the guest, with a bounded lag: the guest waits once `maxLag` changes are queued).
 *
 * - Plain writes (WRITE, WRITE SAME, UNMAP, and the write half of a COMPARE AND WRITE) are shipped
 *   as the same command.
 * - In sync mode an EXTENDED COPY is shipped as an EXTENDED COPY on the replica array when every
 *   disk it names has a replica there (`pairs`), so an offload on the source stays an offload on
 *   the replica; otherwise (and in async mode) its destination blocks are read and written.
 * - Changes reach the replica in the order the source completed them, provided the replica runs
 *   commands in the order it receives them (an in-process LUN, one iSCSI session).
 * - When the link fails, the guest keeps writing; changes are tracked, and `resync()` ships only
 *   the blocks changed meanwhile. `initialSync()` copies the disk while the guest keeps writing.
 *
 * Both copies work the same way: take a dirty extent, clear it, read the source, write the
 * replica; a guest write to that extent in the meantime marks it dirty again, so it is copied
 * again. Mirroring starts once nothing is dirty.
 * @module
 */
import { checkOptions, is, type ValueCheck } from '../../common/errors.js';
import { readU16, readU64, toHex as hex } from '../../codec/bytes.js';
import * as cdb from '../../codec/cdb-encoder.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import type { ScsiTarget } from '../target.js';
import { changesOf, mayHaveChanged, type LbaRange } from './changes.js';
import type { ChangeCause, FilterChain, FilterRequest, IoFilter, NextLayer } from './chain.js';

/** Options of {@link ReplicationFilter}. */
export interface ReplicationOptions {
  /** The replica disk: same block size and at least as many blocks. */
  readonly replica: ScsiTarget;
  /** `sync`: a change is on the replica before the guest's command completes; `async`: shipped behind it. */
  readonly mode: 'sync' | 'async';
  /** Async only: changes that may be queued before the guest waits (the lag bound, in changes). @defaultValue 64 */
  readonly maxLag?: number;
  /**
   * The replica designator of each source disk (by the hex of its designator), for shipping an
   * EXTENDED COPY as an EXTENDED COPY on the replica array.
   */
  readonly pairs?: ReadonlyMap<string, Uint8Array>;
  /** Blocks per copy command of a resync or initial sync. @defaultValue 2048 (1 MiB of 512-byte blocks) */
  readonly copyBlocks?: number;
}

/** Where the replica stands. */
export type ReplicationState =
  /** Every change is mirrored. */
  | 'mirroring'
  /** The link failed: changes are tracked, waiting for `resync()`. */
  | 'tracking'
  /** A resync or initial sync is copying tracked blocks. */
  | 'syncing';

/** What the filter shipped to the replica. */
export interface ReplicationStats {
  /** Commands sent to the replica. */
  commands: number;
  /** Data bytes sent to the replica (Data-Out of writes; parameter lists not counted). */
  bytes: number;
  /** EXTENDED COPY commands shipped as EXTENDED COPY. */
  offloadedCopies: number;
  /** Blocks copied by resyncs and initial syncs. */
  resyncBlocks: number;
  /** Times the link failed. */
  linkFailures: number;
}

/** A set of blocks as sorted, disjoint, non-adjacent ranges. */
class BlockSet {
  #ranges: Array<{ start: number; end: number }> = [];

  get size(): number {
    return this.#ranges.reduce((n, r) => n + r.end - r.start, 0);
  }

  add(lba: number, blocks: number): void {
    if (blocks <= 0) return;
    let start = lba;
    let end = lba + blocks;
    const out: Array<{ start: number; end: number }> = [];
    for (const r of this.#ranges) {
      if (r.end < start || r.start > end) out.push(r);
      else {
        start = Math.min(start, r.start);
        end = Math.max(end, r.end);
      }
    }
    out.push({ start, end });
    out.sort((a, b) => a.start - b.start);
    this.#ranges = out;
  }

  /** Removes and returns up to `max` blocks from the start of the first range. */
  take(max: number): LbaRange | undefined {
    const r = this.#ranges[0];
    if (r === undefined) return undefined;
    const blocks = Math.min(max, r.end - r.start);
    const taken = { lba: r.start, blocks };
    r.start += blocks;
    if (r.start >= r.end) this.#ranges.shift();
    return taken;
  }
}

class LinkFailure extends Error {}

/** What {@link ReplicationFilter} accepts. */
const REPLICATION_OPTIONS = {
  replica: is.target,
  mode: is.oneOf(['sync', 'async']),
  maxLag: is.positiveInteger,
  pairs: is.instanceOf(Map, 'Map of source designator (hex) to replica designator'),
  copyBlocks: is.integer(1, 0xffff),
} as const satisfies Record<keyof ReplicationOptions, ValueCheck>;

/** Mirrors one disk's changes to a replica; add it to the disk's {@link FilterChain} (at the bottom). */
export class ReplicationFilter implements IoFilter {
  /** Filter name. */
  readonly name = 'replication';
  /** What was shipped. */
  readonly stats: ReplicationStats = { commands: 0, bytes: 0, offloadedCopies: 0, resyncBlocks: 0, linkFailures: 0 };
  readonly #o: ReplicationOptions;
  #chain: FilterChain | undefined;
  #state: ReplicationState = 'mirroring';
  readonly #dirty = new BlockSet();
  /** Async: shipping work in order. */
  #queue: Array<() => Promise<void>> = [];
  #draining: Promise<void> | undefined;
  readonly #roomWaiters: Array<() => void> = [];
  #enqueued = 0;
  #shipped = 0;
  #syncing: Promise<void> | undefined;

  /** @param options - see {@link ReplicationOptions} */
  constructor(options: ReplicationOptions) {
    checkOptions(options, REPLICATION_OPTIONS, 'ReplicationFilter', ['replica', 'mode']);
    this.#o = options;
  }

  /** Where the replica stands. */
  get state(): ReplicationState {
    return this.#state;
  }

  /** Blocks changed on the source and not yet on the replica (tracked, not queued). */
  get dirtyBlocks(): number {
    return this.#dirty.size;
  }

  /** Changes queued for the replica and not yet shipped (async), acknowledged to the guest or not. */
  get lag(): number {
    return this.#queue.length;
  }

  /** Remembers the chain, to read the source below this filter during a resync. */
  attached(chain: FilterChain): void {
    this.#chain = chain;
  }

  /** Passes the guest's command down, then ships its change (sync: before answering). */
  async execute(request: FilterRequest, next: NextLayer): Promise<ScsiResult> {
    const result = await next(request);
    const ship = this.#shipping(request, result);
    if (ship !== undefined) await this.#dispatch(ship, this.#rangesOf(request));
    return result;
  }

  /**
   * EXTENDED COPY destinations on this disk (from whichever chain issued the copy). Sync: shipped
   * as an EXTENDED COPY on the replica array where the pairs allow, else as blocks. Async: the
   * blocks are read now, before the guest's command completes, so that what is queued is the disk
   * as the copy left it (the replica stays an earlier state of the source, never a mix).
   */
  async changed(ranges: readonly LbaRange[], cause: ChangeCause): Promise<void> {
    if (cause.opcode !== 0x83) return; // plain writes are shipped by execute
    if (this.#o.mode === 'sync' || this.#state !== 'mirroring') {
      await this.#dispatch(() => this.#shipCopy(ranges, cause), ranges);
      return;
    }
    const captured: Array<[LbaRange, Uint8Array]> = [];
    for (const r of ranges) {
      const read = await this.#chain!.issueBelow(this, cdb.read16({ lba: r.lba, blocks: r.blocks }));
      if (read.status !== 0 || read.data === undefined) {
        this.#linkFailed(ranges);
        return;
      }
      captured.push([r, read.data]); // a READ's Data-In belongs to its caller: no copy
    }
    await this.#dispatch(async () => {
      for (const [r, data] of captured) await this.#send(cdb.write16({ lba: r.lba, blocks: r.blocks }), data);
    }, ranges);
  }

  /** How to ship a plain write, or undefined when it changed nothing. */
  #shipping(r: FilterRequest, result: ScsiResult): (() => Promise<void>) | undefined {
    const opcode = r.cdb[0]!;
    if (!mayHaveChanged(opcode, result)) return undefined;
    switch (opcode) {
      case 0x2a:
      case 0xaa:
      case 0x8a:
      case 0x41:
      case 0x93:
      case 0x42:
        // A failure that may have written part of its range is resynced from the source instead.
        if (result.status !== 0) return () => Promise.reject(new LinkFailure('partial source write'));
        return () => this.#send(r.cdb, r.dataOut);
      case 0x89: {
        if (result.status !== 0) return undefined;
        // The write half, as a WRITE(16) of the same blocks.
        const write = cdb.write16({ lba: readU64(r.cdb, 2), blocks: r.cdb[13]! });
        return () => this.#send(write, r.dataOut!.subarray((r.dataOut?.length ?? 0) / 2));
      }
      default:
        return undefined;
    }
  }

  /** The blocks of this disk a plain write covers, whatever its result (for tracking when it cannot be shipped). */
  #rangesOf(r: FilterRequest): readonly LbaRange[] {
    return this.#chain === undefined ? [] : changesOf(r.cdb, r.dataOut, { status: 0x00 }, this.#chain.blockCount).own;
  }

  /** Ships now (sync), queues (async), or tracks (link down or syncing). */
  async #dispatch(ship: () => Promise<void>, ranges: readonly LbaRange[]): Promise<void> {
    if (this.#state !== 'mirroring') {
      for (const r of ranges) this.#dirty.add(r.lba, r.blocks);
      return;
    }
    const guarded = async (): Promise<void> => {
      if (this.#state !== 'mirroring') {
        for (const r of ranges) this.#dirty.add(r.lba, r.blocks);
        return;
      }
      try {
        await ship();
      } catch {
        this.#linkFailed(ranges);
      }
    };
    if (this.#o.mode === 'sync') return await guarded();
    // Queued in completion order; the guest is answered once fewer than maxLag changes ahead of
    // its own are still unshipped, so at most maxLag acknowledged changes are missing on the replica.
    const seq = this.#enqueued++;
    this.#queue.push(guarded);
    this.#draining ??= this.#drain();
    while (seq - this.#shipped >= (this.#o.maxLag ?? 64)) await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const work = this.#queue[0]!;
        await work();
        this.#queue.shift();
        this.#shipped++;
        for (const w of this.#roomWaiters.splice(0)) w();
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** Waits until everything queued has been shipped (or tracked). */
  async drained(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  #linkFailed(ranges: readonly LbaRange[]): void {
    if (this.#state === 'mirroring') this.stats.linkFailures++;
    this.#state = 'tracking';
    for (const r of ranges) this.#dirty.add(r.lba, r.blocks);
  }

  async #send(c: Uint8Array, dataOut: Uint8Array | undefined): Promise<void> {
    const r = await this.#o.replica.execute(c, dataOut);
    this.stats.commands++;
    if (r.status !== 0) throw new LinkFailure(`replica answered status ${r.status}`);
    if (c[0] !== 0x83 && c[0] !== 0x42) this.stats.bytes += dataOut?.length ?? 0;
  }

  /** An EXTENDED COPY as an EXTENDED COPY on the replica array, when every CSCD has a replica; else the blocks. */
  async #shipCopy(ranges: readonly LbaRange[], cause: ChangeCause): Promise<void> {
    const list = cause.dataOut;
    const pairs = this.#o.pairs;
    if (cause.good && list !== undefined && pairs !== undefined && list.length >= 16) {
      const translated = list.slice();
      const cscdLength = readU16(list, 2);
      let all = true;
      for (let at = 16; at + 32 <= Math.min(list.length, 16 + cscdLength); at += 32) {
        const n = list[at + 7]!;
        const mapped = list[at] === 0xe4 ? pairs.get(hex(list.subarray(at + 8, at + 8 + n))) : undefined;
        if (mapped === undefined || mapped.length !== n) {
          all = false;
          break;
        }
        translated.set(mapped, at + 8);
      }
      if (all) {
        await this.#send(cdb.extendedCopy(translated.length), translated);
        this.stats.offloadedCopies++;
        return;
      }
    }
    for (const r of ranges) await this.#copyBlocks(r);
  }

  /** Reads `r` from the source (below this filter) and writes it to the replica. */
  async #copyBlocks(r: LbaRange): Promise<void> {
    const chain = this.#chain;
    if (chain === undefined) throw new Error('ReplicationFilter: not attached to a chain');
    const read = await chain.issueBelow(this, cdb.read16({ lba: r.lba, blocks: r.blocks }));
    if (read.status !== 0 || read.data === undefined) throw new LinkFailure(`source READ failed with status ${read.status}`);
    await this.#send(cdb.write16({ lba: r.lba, blocks: r.blocks }), read.data);
  }

  /**
   * After a link failure: ships the blocks changed meanwhile (read from the source as they are
   * now), then mirrors again. Resolves false when the link failed again (the blocks stay tracked).
   */
  async resync(): Promise<boolean> {
    if (this.#syncing !== undefined) return await this.#syncing.then(() => this.#state === 'mirroring');
    this.#syncing = this.#copyDirty();
    try {
      await this.#syncing;
    } finally {
      this.#syncing = undefined;
    }
    return this.#state === 'mirroring';
  }

  /**
   * Copies the whole disk (or `areas` of it, e.g. its allocated areas) to the replica while the
   * guest keeps writing, then mirrors. Resolves false when the link failed on the way.
   */
  async initialSync(areas?: readonly LbaRange[]): Promise<boolean> {
    const chain = this.#chain;
    if (chain === undefined) throw new Error('ReplicationFilter: not attached to a chain');
    await this.drained();
    this.#state = 'syncing';
    for (const r of areas ?? [{ lba: 0, blocks: chain.blockCount }]) this.#dirty.add(r.lba, r.blocks);
    return await this.resync();
  }

  async #copyDirty(): Promise<void> {
    await this.drained();
    this.#state = 'syncing';
    const step = this.#o.copyBlocks ?? 2048;
    for (;;) {
      const r = this.#dirty.take(step);
      if (r === undefined) break;
      try {
        await this.#copyBlocks(r);
        this.stats.resyncBlocks += r.blocks;
      } catch {
        this.#dirty.add(r.lba, r.blocks);
        this.stats.linkFailures++;
        this.#state = 'tracking';
        return;
      }
    }
    // Nothing dirty, and JavaScript runs this line before any other change can land: mirror from here.
    this.#state = 'mirroring';
  }
}
