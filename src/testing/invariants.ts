/**
 * Invariant helpers for your own tests, and for {@link checkTarget}'s `invariants` option: pool
 * accounting of an in-process array, acknowledged writes that must still read back, and unmapped
 * blocks that must read zero when the LUN says LBPRZ.
 * @module
 */
import * as cdb from '../codec/cdb-encoder.js';
import type { Extent } from '../array/block-store.js';
import type { StorageArray } from '../scsi/storage-array.js';
import { lbaStatusExtents } from '../host/lba-status.js';
import type { ScsiTarget } from '../host/target.js';
import type { Invariant } from './check-target.js';
import type { BlockRange } from './commands.js';

/**
 * The pool of an in-process array accounts exactly: allocated units equal the distinct extents
 * that thin LUNs reference (an extent shared by clones counts once), reserved units equal the thick
 * LUNs' sizes in units, and used bytes equal both together. A pool that leaks units, or charges a
 * write twice, breaks it at the step that did it.
 */
export function poolAccountingExact(array: StorageArray): Invariant {
  return () => {
    const status = array.poolStatus;
    const thinExtents = new Set<Extent>();
    let reserved = 0;
    for (const lun of array.luns) {
      if (lun.store.thin) for (const e of lun.store.units.values()) thinExtents.add(e);
      else reserved += Math.ceil(lun.sizeBytes / status.unitBytes);
    }
    if (status.allocatedUnits !== thinExtents.size) return `the pool counts ${status.allocatedUnits} allocated units, thin LUNs reference ${thinExtents.size} extents`;
    if (status.reservedUnits !== reserved) return `the pool counts ${status.reservedUnits} reserved units, thick LUNs need ${reserved}`;
    if (status.usedBytes !== (reserved + thinExtents.size) * status.unitBytes) return `the pool reports ${status.usedBytes} bytes used, not ${(reserved + thinExtents.size) * status.unitBytes}`;
    return undefined;
  };
}

/**
 * Acknowledged writes, block by block: record every write the target answered GOOD, then
 * {@link AcknowledgedWrites.verify} reads each block back and reports one that lost its data.
 */
export class AcknowledgedWrites {
  readonly #blocks = new Map<number, Uint8Array>();

  /** @param blockSize - the LUN's logical block size */
  constructor(readonly blockSize: number) {}

  /** Records `data` (whole blocks) as acknowledged at `lba`. */
  record(lba: number, data: Uint8Array): void {
    if (data.length % this.blockSize !== 0) throw new RangeError(`AcknowledgedWrites.record: ${data.length} bytes is not a whole number of ${this.blockSize}-byte blocks`);
    for (let i = 0; i * this.blockSize < data.length; i++) this.#blocks.set(lba + i, data.slice(i * this.blockSize, (i + 1) * this.blockSize));
  }

  /** Forgets blocks whose content changed by other means (zeroed, unmapped, copied over). */
  forget(range: BlockRange): void {
    for (let i = 0; i < range.blocks; i++) this.#blocks.delete(range.lba + i);
  }

  /** The bytes recorded for `lba`, if any. */
  blockAt(lba: number): Uint8Array | undefined {
    return this.#blocks.get(lba);
  }

  /** Number of blocks recorded. */
  get size(): number {
    return this.#blocks.size;
  }

  /** Reads every recorded block back through `target`; describes the first that lost its data. */
  async verify(target: ScsiTarget, initiator?: string): Promise<string | undefined> {
    for (const [lba, want] of [...this.#blocks].sort((a, b) => a[0] - b[0])) {
      const r = await target.execute(cdb.read16({ lba, blocks: 1 }), undefined, initiator === undefined ? undefined : { initiator });
      if (r.status !== 0 || r.data === undefined) return `READ of acknowledged LBA ${lba} failed with status ${r.status}`;
      for (let i = 0; i < want.length; i++) if (r.data[i] !== want[i]) return `acknowledged LBA ${lba} lost its data (byte ${i} reads ${r.data[i]}, was written ${want[i]})`;
    }
    return undefined;
  }
}

/**
 * Blocks GET LBA STATUS reports deallocated or anchored within `range` read as zeros (when the LUN
 * reports LBPRZ; call it only then). Describes the first that does not.
 */
export async function unmappedBlocksReadZero(target: ScsiTarget, range: BlockRange, initiator?: string): Promise<string | undefined> {
  const options = initiator === undefined ? undefined : { initiator };
  const walk = await lbaStatusExtents(target, range.lba, range.lba + range.blocks, initiator);
  if ('failedAt' in walk) return `GET LBA STATUS at ${walk.failedAt} failed with status ${walk.status}`;
  for (const e of walk.extents) {
    if (e.provisioning === 0) continue;
    const from = Math.max(e.lba, range.lba);
    const to = Math.min(e.lba + e.blocks, range.lba + range.blocks);
    for (let b = from; b < to; b += 128) {
      const n = Math.min(128, to - b);
      const r = await target.execute(cdb.read16({ lba: b, blocks: n }), undefined, options);
      if (r.status !== 0 || r.data === undefined) return `READ of unmapped LBA ${b} failed with status ${r.status}`;
      const i = r.data.findIndex((x) => x !== 0);
      if (i >= 0) return `unmapped LBA ${b + Math.floor(i / (r.data.length / n))} does not read zero`;
    }
  }
  return undefined;
}
