/**
 * Changed block tracking as an I/O filter, in the manner of a hypervisor's CBT: per disk, the
 * blocks changed since a change ID, answered as extents ("changed disk areas"), and the extents in
 * use for a first full backup.
 *
 * Why a filter and not an array feature: it sees exactly what the host did to the disk, on any
 * target (in-process, remote over iSCSI, a real array), and through the chain it sees offloads as
 * well (EXTENDED COPY destinations, WRITE SAME, UNMAP, COMPARE AND WRITE), which is where
 * array-side tracking in real products is weakest. What it cannot see is a write that bypasses this
 * host's chain (another host writing the same disk); a disk has one owner, as a virtual disk does.
 *
 * A change ID is `epoch:sequence`. Resetting the tracking (`reset()`, as after a crash that lost
 * the tracking state) starts a new epoch, and every change ID of an earlier epoch is refused with
 * {@link ChangeTrackingError}: never answered wrongly.
 * @module
 */
import { VaaiSimError } from '../../common/errors.js';
import { lbaStatusExtents } from '../lba-status.js';
import type { ScsiTarget } from '../target.js';
import type { LbaRange } from './changes.js';
import type { IoFilter } from './chain.js';

/** A change ID that cannot be answered: from before a reset, from another disk, or malformed. */
export class ChangeTrackingError extends VaaiSimError {
  /** @param message - why */
  constructor(message: string) {
    super('CHANGE_ID_REFUSED', message);
  }
}

/** One tracked extent: `[start, end)` last changed at `seq`. */
interface Tracked {
  start: number;
  end: number;
  seq: number;
}

let epochs = 0;

/** Changed block tracking for one disk; add it to the disk's {@link FilterChain}. */
export class ChangedBlockTracker implements IoFilter {
  /** Filter name. */
  readonly name = 'changed-block-tracking';
  #epoch = '';
  #seq = 0;
  /** Sorted, non-overlapping. */
  #extents: Tracked[] = [];

  constructor() {
    this.reset();
  }

  /** The change ID of the disk as it is now: pass it to {@link ChangedBlockTracker.changedAreas} later. */
  get changeId(): string {
    return `${this.#epoch}:${this.#seq}`;
  }

  /** Number of tracked extents (the memory the tracking costs). */
  get trackedExtents(): number {
    return this.#extents.length;
  }

  /** Forgets every change and starts a new epoch: change IDs from before are refused from now on. */
  reset(): void {
    epochs++;
    this.#epoch = `${Date.now().toString(36)}${epochs.toString(36)}`;
    this.#seq = 0;
    this.#extents = [];
  }

  /** Records changed blocks (called by the chain after every command that changed data). */
  changed(ranges: readonly LbaRange[]): void {
    if (ranges.length === 0) return;
    this.#seq++;
    for (const r of ranges) if (r.blocks > 0) this.#mark(r.lba, r.lba + r.blocks, this.#seq);
  }

  #mark(start: number, end: number, seq: number): void {
    const out: Tracked[] = [];
    let placed = false;
    for (const e of this.#extents) {
      if (e.end <= start || e.start >= end) {
        if (!placed && e.start >= end) {
          out.push({ start, end, seq });
          placed = true;
        }
        out.push(e);
        continue;
      }
      // Overlap: keep the parts of the older extent outside [start, end).
      if (e.start < start) out.push({ start: e.start, end: start, seq: e.seq });
      if (!placed) {
        out.push({ start, end, seq });
        placed = true;
      }
      if (e.end > end) out.push({ start: end, end: e.end, seq: e.seq });
    }
    if (!placed) out.push({ start, end, seq });
    // Join neighbours of the same sequence, so that rewriting a region does not grow the list.
    const joined: Tracked[] = [];
    for (const e of out) {
      const last = joined[joined.length - 1];
      if (last !== undefined && last.end === e.start && last.seq === e.seq) last.end = e.end;
      else joined.push({ ...e });
    }
    this.#extents = joined;
  }

  /**
   * The extents changed since `changeId` within `[startLba, startLba + blocks)`, merged and sorted.
   * Throws {@link ChangeTrackingError} for a change ID of an earlier epoch (the tracking was reset
   * since), one from the future, or a malformed one.
   */
  changedAreas(changeId: string, startLba = 0, blocks = Number.MAX_SAFE_INTEGER): LbaRange[] {
    const m = /^([0-9a-z]+):(\d+)$/.exec(changeId);
    if (m === null) throw new ChangeTrackingError(`'${changeId}' is not a change ID`);
    if (m[1] !== this.#epoch) throw new ChangeTrackingError(`change ID ${changeId} is from before the tracking was reset (now ${this.changeId}): take a full backup`);
    const since = Number(m[2]);
    if (since > this.#seq) throw new ChangeTrackingError(`change ID ${changeId} is newer than the disk (${this.changeId})`);
    const end = startLba + blocks;
    const out: LbaRange[] = [];
    for (const e of this.#extents) {
      if (e.seq <= since || e.end <= startLba || e.start >= end) continue;
      const s = Math.max(e.start, startLba);
      const t = Math.min(e.end, end);
      const last = out[out.length - 1];
      if (last !== undefined && last.lba + last.blocks === s) out[out.length - 1] = { lba: last.lba, blocks: t - last.lba };
      else out.push({ lba: s, blocks: t - s });
    }
    return out;
  }
}

/**
 * The extents of `target` in use ("allocated disk areas", for a first full backup): mapped blocks
 * by GET LBA STATUS on a thin LUN; the whole disk when the LUN is not thin or does not answer it.
 */
export async function allocatedAreas(target: ScsiTarget, blockCount: number, initiator?: string): Promise<LbaRange[]> {
  const walk = await lbaStatusExtents(target, 0, blockCount, initiator);
  if ('failedAt' in walk) return [{ lba: 0, blocks: blockCount }];
  const out: LbaRange[] = [];
  for (const e of walk.extents) {
    if (e.provisioning !== 0) continue; // deallocated or anchored
    const last = out[out.length - 1];
    if (last !== undefined && last.lba + last.blocks === e.lba) out[out.length - 1] = { lba: last.lba, blocks: last.blocks + e.blocks };
    else out.push({ lba: e.lba, blocks: e.blocks });
  }
  return out;
}
