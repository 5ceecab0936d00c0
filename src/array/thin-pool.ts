/**
 * The thin pool shared by every LUN of an array: exact accounting in allocation units, thick
 * reservations, the soft threshold, and a free list of unit buffers so that steady-state writes
 * reuse memory instead of allocating it.
 * @module
 */

/** Snapshot of the pool's accounting. */
export interface PoolStatus {
  /** Size of one allocation unit (the OPTIMAL UNMAP GRANULARITY every LUN advertises), in bytes. */
  readonly unitBytes: number;
  /** Capacity in bytes (whole units). */
  readonly capacityBytes: number;
  /** Bytes in use: thin allocations plus thick reservations. */
  readonly usedBytes: number;
  /** Bytes still free. */
  readonly freeBytes: number;
  /** Units allocated to thin LUNs (a shared extent counts once). */
  readonly allocatedUnits: number;
  /** Units reserved by thick LUNs. */
  readonly reservedUnits: number;
  /** Capacity in units. */
  readonly capacityUnits: number;
  /** The soft threshold in percent, when one is set. */
  readonly softThresholdPercent: number | undefined;
}

/**
 * Default bytes of freed unit buffers the pool keeps for reuse. Reuse avoids both the zeroing of a
 * fresh allocation and the page faults of touching new memory; the bound returns the rest to the GC.
 */
export const DEFAULT_BUFFER_CACHE_BYTES = 256 * 1024 * 1024;

/** @internal Pool accounting. Mutated only by block stores and the array. */
export class ThinPool {
  readonly unitBytes: number;
  capacityUnits: number;
  /** Units charged to extents referenced by at least one thin LUN. */
  allocatedUnits = 0;
  /** Units reserved by thick LUNs. */
  reservedUnits = 0;
  readonly softThresholdPercent: number | undefined;
  /** False after the threshold was reported, until use falls back below it (re-arm). */
  thresholdArmed = true;
  /** Set by charge/release; cleared by the array when it settles events after a command. */
  dirty = false;
  /** Use at the last settle, to report freed space. */
  usedAtSettle = 0;
  readonly #recycled: Uint8Array[] = [];
  readonly #maxRecycled: number;

  constructor(capacityUnits: number, unitBytes: number, softThresholdPercent: number | undefined, bufferCacheBytes = DEFAULT_BUFFER_CACHE_BYTES) {
    this.capacityUnits = capacityUnits;
    this.unitBytes = unitBytes;
    this.softThresholdPercent = softThresholdPercent;
    this.#maxRecycled = Math.floor(bufferCacheBytes / unitBytes);
  }

  get usedUnits(): number {
    return this.allocatedUnits + this.reservedUnits;
  }

  get freeUnits(): number {
    return Math.max(0, this.capacityUnits - this.usedUnits);
  }

  charge(units: number): void {
    this.allocatedUnits += units;
    this.dirty = true;
  }

  release(units: number): void {
    this.allocatedUnits -= units;
    this.dirty = true;
  }

  /** True when use is at or above the soft threshold. */
  aboveThreshold(): boolean {
    const t = this.softThresholdPercent;
    return t !== undefined && this.usedUnits * 100 >= t * this.capacityUnits;
  }

  /** A buffer of `length` bytes, reused when possible; zero-filled only when asked. */
  takeBuffer(length: number, zeroed: boolean): Uint8Array {
    if (length === this.unitBytes) {
      const buffer = this.#recycled.pop();
      if (buffer !== undefined) return zeroed ? buffer.fill(0) : buffer;
    }
    return new Uint8Array(length);
  }

  /** Bytes of freed unit buffers kept for reuse (memory the pool holds beyond its allocated units). */
  get cachedBytes(): number {
    return this.#recycled.length * this.unitBytes;
  }

  /** Returns a buffer no extent references any more. */
  recycle(buffer: Uint8Array): void {
    if (buffer.length === this.unitBytes && this.#recycled.length < this.#maxRecycled) this.#recycled.push(buffer);
  }

  status(): PoolStatus {
    const u = this.unitBytes;
    return {
      unitBytes: u,
      capacityBytes: this.capacityUnits * u,
      usedBytes: this.usedUnits * u,
      freeBytes: this.freeUnits * u,
      allocatedUnits: this.allocatedUnits,
      reservedUnits: this.reservedUnits,
      capacityUnits: this.capacityUnits,
      softThresholdPercent: this.softThresholdPercent,
    };
  }
}
