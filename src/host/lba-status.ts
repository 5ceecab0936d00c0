/**
 * Walking GET LBA STATUS (SBC-4 5.8) over a range: the provisioning status of every extent, in order,
 * one command per batch of descriptors.
 * @module
 */
import * as cdb from '../codec/cdb-encoder.js';
import { decodeLbaStatus } from '../codec/sbc-data-decoder.js';
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
    const status = s.status === 0 && s.data !== undefined ? decodeLbaStatus(s.data) : undefined;
    if (status?.ok !== true || status.value.descriptors.length === 0) return { failedAt: at, status: s.status };
    let next = at;
    for (const d of status.value.descriptors) {
      const extent = { lba: d.lbaStatusLogicalBlockAddress, blocks: d.numberOfLogicalBlocks, provisioning: d.provisioningStatus };
      next = Math.max(next, extent.lba + extent.blocks);
      if (extent.blocks > 0) extents.push(extent);
    }
    if (next <= at) break;
    at = next;
  }
  return { extents };
}
