/**
 * Walking GET LBA STATUS (SBC-4 5.8) over a range: the provisioning status of every extent, in order,
 * one command per batch of descriptors.
 * @module
 */
import { readU32, readU64 } from '../codec/bytes.js';
import * as cdb from '../codec/cdb-encoder.js';
import type { ScsiTarget } from './target.js';

/** One LBA status descriptor. */
export interface LbaStatusExtent {
  /** First LBA. */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
  /** PROVISIONING STATUS: 0 mapped, 1 deallocated, 2 anchored. */
  readonly provisioning: number;
}

/** What {@link lbaStatusExtents} found: the extents, or where GET LBA STATUS failed. */
export type LbaStatusWalk =
  | {
      /** The extents, in order. */
      readonly extents: LbaStatusExtent[];
    }
  | {
      /** The STARTING LOGICAL BLOCK ADDRESS of the GET LBA STATUS that failed. */
      readonly failedAt: number;
      /** Its status. */
      readonly status: number;
    };

/** The extents from `lba` up to `end` (the last may reach beyond), as the LUN reports them. */
export async function lbaStatusExtents(target: ScsiTarget, lba: number, end: number, initiator?: string): Promise<LbaStatusWalk> {
  const options = initiator === undefined ? undefined : { initiator };
  const extents: LbaStatusExtent[] = [];
  for (let at = lba; at < end; ) {
    const s = await target.execute(cdb.getLbaStatus({ lba: at, allocationLength: 8 + 16 * 256 }), undefined, options);
    if (s.status !== 0 || s.data === undefined || s.data.length < 24) return { failedAt: at, status: s.status };
    const stop = Math.min(s.data.length, 4 + readU32(s.data, 0));
    let next = at;
    for (let d = 8; d + 16 <= stop; d += 16) {
      const extent = { lba: readU64(s.data, d), blocks: readU32(s.data, d + 8), provisioning: s.data[d + 12]! & 0x0f };
      next = Math.max(next, extent.lba + extent.blocks);
      if (extent.blocks > 0) extents.push(extent);
    }
    if (next <= at) break;
    at = next;
  }
  return { extents };
}
