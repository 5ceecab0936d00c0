/**
 * Array-side replication in the manner of a site-recovery adapter: LUN pairs between two arrays in
 * one consistency group, replicated asynchronously in cycles, with test failover (a writable copy
 * of the replica), failover (promote the replica) and failback (reverse the direction).
 *
 * Each cycle takes a point-in-time snapshot of every source LUN at the same instant (shared-extent
 * clones inside the source array, all in one synchronous step, so the group is consistent across
 * LUNs), finds the allocation units that changed since the previous cycle's snapshot by comparing
 * extent identity (no data is read to find them), and ships only those to the target array. When a
 * cycle has been applied, the target keeps its own snapshot: the last consistent image, which test
 * failover and failover use, so a failure in the middle of a cycle never exposes a torn replica.
 * With `cloneMode: 'copy'` the snapshots copy bytes and every unit counts as changed: correct, slow.
 * @module
 */
import * as cdb from '../codec/cdb-encoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { SenseKey } from '../spec/sense.js';
import type { CopyTally, Extent } from '../array/block-store.js';
import { InvalidArgumentError } from '../common/errors.js';
import type { Lun } from './logical-unit.js';
import type { StorageArray } from './storage-array.js';

/** One replicated LUN pair. */
export interface ReplicaPair {
  /** The LUN written by hosts (on the source array). */
  readonly source: Lun;
  /** Its replica (on the target array). */
  readonly target: Lun;
}

/** Where the group stands. */
export type ReplicationGroupState = 'replicating' | 'failed-over';

/** What a cycle shipped. */
export interface CycleReport {
  /** Allocation units found changed (over all pairs). */
  readonly changedUnits: number;
  /** Bytes written to the target array. */
  readonly bytesShipped: number;
  /** Units the target unmapped (the source unit had become unmapped). */
  readonly unmappedUnits: number;
}

/** The initiator name the replication engine uses on both arrays. */
const ENGINE = 'vaai-sim:replication-engine';

interface PairState {
  source: Lun;
  target: Lun;
  /** Snapshot of the source at the last shipped cycle (on the source array). */
  sourceSnap: Lun | undefined;
  /** The target's last consistent image (on the target array). */
  targetSnap: Lun | undefined;
}

function snapshotOf(array: StorageArray, lun: Lun, into?: Lun): Lun {
  const snap = into ?? array.createLun({ sizeBytes: lun.sizeBytes, blockSize: lun.blockSize, physicalBlockSize: lun.physicalBlockSize, initiators: [ENGINE] });
  const tally: CopyTally = { shared: 0, copied: 0 };
  const outcome = snap.store.copyFrom(lun.store, 0, 0, lun.sizeBytes, array.cloneMode === 'share', tally);
  if (outcome.outOfSpace) throw new InvalidArgumentError(`replication: the array has no space for a snapshot of LUN ${lun.id}`);
  return snap;
}

/** Runs a command as the replication engine (past a pending unit attention); throws unless GOOD. */
function run(lun: Lun, c: Uint8Array, dataOut: Uint8Array, what: string): void {
  for (let attempt = 0; ; attempt++) {
    const r = lun.execute(c, dataOut, { initiator: ENGINE });
    if (r instanceof Promise) throw new Error(`replication: ${what} answered asynchronously (a fault delay on the engine's commands?)`);
    if (r.status === 0) return;
    if (attempt < 3 && r.status === 0x02 && decodeSense(r.sense)?.key === SenseKey.UNIT_ATTENTION) continue;
    throw new Error(`replication: ${what} on LUN ${lun.id} failed with status ${r.status}`);
  }
}

/** The largest logical block: WRITE SAME's Data-Out when a unit is shipped as unmapped. */
const ZERO_BLOCK = new Uint8Array(4096);

/**
 * Writes unit `u` of `from` (as it holds it) to the same place on `to`: data, or an unmap when
 * unmapped. The Data-Out is a view of the source extent (WRITE copies it into the target).
 */
function shipUnit(from: Lun, to: Lun, u: number, unitBytes: number): number {
  const offset = u * unitBytes;
  const length = Math.min(unitBytes, from.sizeBytes - offset);
  const lba = offset / from.blockSize;
  const blocks = length / from.blockSize;
  const extent = from.store.units.get(u);
  if (extent === undefined) {
    run(to, cdb.writeSame16({ lba, blocks, unmap: to.thin }), ZERO_BLOCK.subarray(0, to.blockSize), 'WRITE SAME');
    return 0;
  }
  run(to, cdb.write16({ lba, blocks }), extent.data.subarray(0, length), 'WRITE');
  return length;
}

/** A consistency group of LUN pairs replicated from one array to another. */
export class ArrayReplication {
  #source: StorageArray;
  #target: StorageArray;
  #pairs: PairState[] = [];
  #state: ReplicationGroupState = 'replicating';
  #testLuns: Lun[] = [];

  /** @param source - the array hosts write to; @param target - the array holding the replicas */
  constructor(source: StorageArray, target: StorageArray) {
    if (source === target) throw new InvalidArgumentError('ArrayReplication: source and target must be two arrays');
    // Changed units are found by allocation unit on both sides (failback compares both).
    if (source.pool.unitBytes !== target.pool.unitBytes) throw new InvalidArgumentError('ArrayReplication: the arrays must use the same allocation unit size');
    this.#source = source;
    this.#target = target;
  }

  /** The array hosts write to (after failback, the original target). */
  get source(): StorageArray {
    return this.#source;
  }

  /** The array holding the replicas. */
  get target(): StorageArray {
    return this.#target;
  }

  /** The pairs, source to target. */
  get pairs(): readonly ReplicaPair[] {
    return this.#pairs.map((p) => ({ source: p.source, target: p.target }));
  }

  /** Where the group stands. */
  get state(): ReplicationGroupState {
    return this.#state;
  }

  /** Pairs `source` (on the source array) with `target` (same size and block size, on the target array). Shipped by the next cycle. */
  pair(source: Lun, target: Lun): void {
    if (source.array !== this.#source || target.array !== this.#target) throw new InvalidArgumentError('ArrayReplication.pair: the source LUN must be on the source array and the target LUN on the target array');
    if (source.sizeBytes !== target.sizeBytes || source.blockSize !== target.blockSize) throw new InvalidArgumentError('ArrayReplication.pair: the LUNs differ in size or block size');
    if (this.#pairs.some((p) => p.source === source || p.target === target)) throw new InvalidArgumentError('ArrayReplication.pair: LUN already paired');
    this.#pairs.push({ source, target, sourceSnap: undefined, targetSnap: undefined });
  }

  /**
   * One replication cycle: a consistent point-in-time snapshot of every source LUN, the changed
   * units shipped, and the target's consistent image advanced to that point.
   */
  cycle(): CycleReport {
    if (this.#state !== 'replicating') throw new InvalidArgumentError('ArrayReplication.cycle: the group is failed over; fail back first');
    // The point in time: every snapshot in this one synchronous step, so no write falls between them.
    const points = this.#pairs.map((p) => ({ p, snap: snapshotOf(this.#source, p.source) }));
    let changedUnits = 0;
    let bytesShipped = 0;
    let unmappedUnits = 0;
    for (const { p, snap } of points) {
      const unitBytes = this.#source.pool.unitBytes;
      const units = Math.ceil(p.source.sizeBytes / unitBytes);
      for (let u = 0; u < units; u++) {
        const now: Extent | undefined = snap.store.units.get(u);
        // The first cycle ships every unit; later ones only units whose extent changed.
        if (p.sourceSnap !== undefined && now === p.sourceSnap.store.units.get(u)) continue;
        changedUnits++;
        const shipped = shipUnit(snap, p.target, u, unitBytes);
        bytesShipped += shipped;
        if (now === undefined) unmappedUnits++;
      }
      if (p.sourceSnap !== undefined) this.#source.deleteLun(p.sourceSnap);
      p.sourceSnap = snap;
    }
    // Applied everywhere: the target's consistent image moves to this point, for every pair at once.
    for (const p of this.#pairs) p.targetSnap = snapshotOf(this.#target, p.target, p.targetSnap);
    return { changedUnits, bytesShipped, unmappedUnits };
  }

  /**
   * Test failover: a writable copy of every replica's last consistent image, on the target array
   * (shared extents: instant), for a recovery test while replication goes on.
   * @param initiators - who may see the copies (all initiators when left out)
   */
  testFailover(initiators?: readonly string[]): Lun[] {
    const copies = this.#pairs.map((p) => {
      if (p.targetSnap === undefined) throw new InvalidArgumentError('ArrayReplication.testFailover: no cycle has completed yet');
      const copy = this.#target.createLun({ sizeBytes: p.target.sizeBytes, blockSize: p.target.blockSize, physicalBlockSize: p.target.physicalBlockSize, ...(initiators === undefined ? {} : { initiators }) });
      snapshotOf(this.#target, p.targetSnap, copy);
      return copy;
    });
    this.#testLuns.push(...copies);
    return copies;
  }

  /** Deletes the copies made by {@link ArrayReplication.testFailover}. */
  cleanupTestFailover(): void {
    for (const l of this.#testLuns.splice(0)) this.#target.deleteLun(l);
  }

  /**
   * Failover: every replica returns to its last consistent image and becomes the LUN hosts use;
   * replication stops. Writes the source took after the last cycle are not on the replica.
   */
  failover(): void {
    if (this.#state !== 'replicating') throw new InvalidArgumentError('ArrayReplication.failover: already failed over');
    for (const p of this.#pairs) {
      if (p.targetSnap === undefined) throw new InvalidArgumentError('ArrayReplication.failover: no cycle has completed yet');
      snapshotOf(this.#target, p.targetSnap, p.target);
    }
    this.#state = 'failed-over';
  }

  /**
   * Failback: the direction reverses (the old target array becomes the source), and the first
   * cycle ships only what differs: units changed on the promoted replicas since failover, and units
   * the old source changed after its last shipped cycle (those writes are overwritten).
   */
  failback(): CycleReport {
    if (this.#state !== 'failed-over') throw new InvalidArgumentError('ArrayReplication.failback: fail over first');
    const differs: Array<Set<number>> = this.#pairs.map((p) => {
      const set = new Set<number>();
      const units = Math.ceil(p.source.sizeBytes / this.#source.pool.unitBytes);
      for (let u = 0; u < units; u++) {
        if (p.target.store.units.get(u) !== p.targetSnap!.store.units.get(u)) set.add(u);
        if (p.source.store.units.get(u) !== p.sourceSnap!.store.units.get(u)) set.add(u);
      }
      return set;
    });
    // Reverse: ship the differing units from the promoted replica to the old source.
    let changedUnits = 0;
    let bytesShipped = 0;
    let unmappedUnits = 0;
    this.#pairs.forEach((p, i) => {
      const unitBytes = this.#target.pool.unitBytes;
      for (const u of [...differs[i]!].sort((a, b) => a - b)) {
        changedUnits++;
        if (p.target.store.units.get(u) === undefined) unmappedUnits++;
        bytesShipped += shipUnit(p.target, p.source, u, unitBytes);
      }
    });
    // The new direction, with snapshots matching what each side now holds.
    for (const p of this.#pairs) {
      if (p.sourceSnap !== undefined) this.#source.deleteLun(p.sourceSnap);
      const newSourceSnap = snapshotOf(this.#target, p.target, p.targetSnap);
      const newTargetSnap = snapshotOf(this.#source, p.source);
      [p.source, p.target] = [p.target, p.source];
      p.sourceSnap = newSourceSnap;
      p.targetSnap = newTargetSnap;
    }
    [this.#source, this.#target] = [this.#target, this.#source];
    this.#state = 'replicating';
    return { changedUnits, bytesShipped, unmappedUnits };
  }
}
