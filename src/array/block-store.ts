/**
 * The sparse block store behind one LUN. Data lives in allocation units (the pool's unit, 1 MiB by
 * default) that are allocated on first write; a LUN of any size costs nothing until written.
 *
 * Units are reference-counted extents with copy-on-write, so EXTENDED COPY can make two LUNs (or two
 * ranges of one LUN) share a unit instead of copying its bytes, as metadata-cloning arrays do.
 * Accounting rule: an extent is charged to the pool once while at least one *thin* LUN references it;
 * thick LUNs are covered by the reservation they made at creation.
 *
 * All offsets here are byte offsets on the LUN, always multiples of its block size. Every mutating
 * method assumes the caller checked {@link BlockStore.writeNeed} (or the piece-wise equivalent)
 * against the pool first, so that a command that cannot get its space changes nothing.
 * @module
 */
import { isAllZero, wordsOf } from '../codec/bytes.js';
import type { ThinPool } from './thin-pool.js';

/** @internal A reference-counted allocation unit. */
export interface Extent {
  /** The unit's bytes (shorter than a unit only for the last, partial unit of a LUN). */
  readonly data: Uint8Array;
  /** References from all LUN slots. */
  refs: number;
  /** References from thin LUN slots: the extent is charged to the pool while this is > 0. */
  thinRefs: number;
  /** A 32-bit view of `data`, made on first compare. */
  words?: Uint32Array;
}

/** @internal Bytes moved by a copy, by method. */
export interface CopyTally {
  /** Bytes moved as metadata: whole extents shared, or whole units deallocated where the source is unmapped. */
  shared: number;
  /** Bytes moved by copying (or zeroing) data. */
  copied: number;
}

/** @internal Result of {@link BlockStore.copyFrom}. */
export interface CopyOutcome {
  /** Bytes of the request completed, from its start (forward) or end (backward). */
  readonly done: number;
  /** True when the copy stopped because the pool had no space for the next piece. */
  readonly outOfSpace: boolean;
  /** Units the next piece needed when it stopped. */
  readonly neededUnits: number;
}

/** @internal */
export class BlockStore {
  readonly units = new Map<number, Extent>();
  readonly pool: ThinPool;
  readonly sizeBytes: number;
  readonly thin: boolean;
  readonly unitBytes: number;

  constructor(pool: ThinPool, sizeBytes: number, thin: boolean) {
    this.pool = pool;
    this.sizeBytes = sizeBytes;
    this.thin = thin;
    this.unitBytes = pool.unitBytes;
  }

  /** Length of unit `u` (the last unit of a LUN may be partial). */
  unitLength(u: number): number {
    return Math.min(this.unitBytes, this.sizeBytes - u * this.unitBytes);
  }

  // ---- references and accounting ------------------------------------------------------------

  #addRef(e: Extent): void {
    e.refs++;
    if (this.thin) {
      if (e.thinRefs === 0) this.pool.charge(1);
      e.thinRefs++;
    }
  }

  #dropRef(e: Extent): void {
    e.refs--;
    if (this.thin) {
      e.thinRefs--;
      if (e.thinRefs === 0) this.pool.release(1);
    }
    if (e.refs === 0) this.pool.recycle(e.data);
  }

  #install(u: number, data: Uint8Array): Extent {
    const e: Extent = { data, refs: 0, thinRefs: 0 };
    this.#addRef(e);
    const old = this.units.get(u);
    this.units.set(u, e);
    if (old !== undefined) this.#dropRef(old);
    return e;
  }

  /** Units a write to unit `u` must newly charge: 1 when unmapped or shared with another thin LUN. */
  unitWriteNeed(u: number): number {
    if (!this.thin) return 0;
    const e = this.units.get(u);
    if (e === undefined) return 1;
    // Shared: copy-on-write charges a new extent; the old one stays charged only if another thin
    // LUN still references it.
    return e.refs > 1 && e.thinRefs > 1 ? 1 : 0;
  }

  /**
   * Units a write of `length` bytes at `offset` must newly charge. When several of the written units
   * share one extent, each copy-on-write drops a reference, so the last of them may find the extent
   * private: the count follows the references as the write will see them, unit by unit.
   */
  writeNeed(offset: number, length: number, zeroDetect?: Uint8Array): number {
    if (!this.thin || length === 0) return 0;
    const first = Math.floor(offset / this.unitBytes);
    const last = Math.floor((offset + length - 1) / this.unitBytes);
    let need = 0;
    let dropped: Map<Extent, number> | undefined;
    for (let u = first; u <= last; u++) {
      const e = this.units.get(u);
      if (zeroDetect !== undefined && this.#zeroPieceNeedsNothing(u, e, offset, zeroDetect)) {
        // The unit is deallocated: its extent loses this reference, as a later piece will see.
        if (e !== undefined && e.refs > 1) (dropped ??= new Map()).set(e, (dropped.get(e) ?? 0) + 1);
        continue;
      }
      if (e === undefined) need++;
      else if (e.refs > 1) {
        const j = dropped?.get(e) ?? 0;
        if (e.refs - j > 1 && e.thinRefs - j > 1) need++;
        (dropped ??= new Map()).set(e, j + 1);
      }
    }
    return need;
  }

  /** Units zeroing `length` bytes at `offset` must charge: whole units are deallocated (free), partial mapped ones written. */
  zeroNeed(offset: number, length: number): number {
    if (!this.thin || length === 0) return 0;
    let need = 0;
    this.#forEachPiece(offset, length, (u, _inUnit, n) => {
      if (n < this.unitLength(u) && this.units.has(u)) need += this.unitWriteNeed(u);
    });
    return need;
  }

  /** Makes unit `u` privately writable: allocates it (zeroed) or breaks sharing (copy-on-write). */
  #writable(u: number): Extent {
    const e = this.units.get(u);
    if (e === undefined) return this.#install(u, this.pool.takeBuffer(this.unitLength(u), true));
    if (e.refs === 1) return e;
    const copy = this.pool.takeBuffer(e.data.length, false);
    copy.set(e.data);
    return this.#install(u, copy);
  }

  /** Calls `fn(unit, offsetInUnit, length)` for each unit piece of [offset, offset+length). */
  #forEachPiece(offset: number, length: number, fn: (u: number, inUnit: number, n: number) => void): void {
    const ub = this.unitBytes;
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const u = Math.floor(pos / ub);
      const inUnit = pos - u * ub;
      const n = Math.min(this.unitLength(u) - inUnit, end - pos);
      fn(u, inUnit, n);
      pos += n;
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Copies [offset, offset+length) into `out` at `outOffset`; unmapped bytes read as zero (LBPRZ). */
  read(offset: number, length: number, out: Uint8Array, outOffset: number): void {
    let o = outOffset;
    this.#forEachPiece(offset, length, (u, inUnit, n) => {
      const e = this.units.get(u);
      if (e === undefined) out.fill(0, o, o + n);
      else out.set(e.data.subarray(inUnit, inUnit + n), o);
      o += n;
    });
  }

  /**
   * Index (relative to `expectedOffset`) of the first byte of [offset, offset+length) that differs
   * from `expected[expectedOffset..]`, or -1 when all match. Unmapped bytes compare as zero.
   */
  compare(offset: number, expected: Uint8Array, expectedOffset: number, length: number): number {
    const ub = this.unitBytes;
    let pos = offset;
    const end = offset + length;
    let o = expectedOffset;
    while (pos < end) {
      const u = Math.floor(pos / ub);
      const inUnit = pos - u * ub;
      const n = Math.min(this.unitLength(u) - inUnit, end - pos);
      const at = compareRun(this.units.get(u), inUnit, expected, o, n);
      if (at >= 0) return o + at - expectedOffset;
      pos += n;
      o += n;
    }
    return -1;
  }

  /** True when unit `u` holds an extent (is mapped). */
  isMapped(u: number): boolean {
    return this.units.has(u);
  }

  /** Mapped unit indexes at or after `fromUnit`, ascending. */
  mappedUnitsFrom(fromUnit: number): number[] {
    const out: number[] = [];
    for (const u of this.units.keys()) if (u >= fromUnit) out.push(u);
    return out.sort((a, b) => a - b);
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Unit `u`'s piece of a write of `src` at `offset` is all zeros and, with zero detection, changes
   * nothing that needs space: the unit is unmapped (it already reads zeros) or wholly covered (it is
   * deallocated instead of written).
   */
  #zeroPieceNeedsNothing(u: number, e: Extent | undefined, offset: number, src: Uint8Array): boolean {
    const ub = this.unitBytes;
    const start = Math.max(offset, u * ub);
    const end = Math.min(offset + src.length, u * ub + this.unitLength(u));
    if (e !== undefined && end - start !== this.unitLength(u)) return false;
    return isAllZero(src.subarray(start - offset, end - offset));
  }

  /**
   * Writes `src` at `offset`. Whole units that are unmapped or shared get a fresh buffer, never a
   * copy. With `zeroDetect`, a piece of zeros deallocates a whole unit and leaves an unmapped one
   * alone, as arrays with inline zero detection do (per allocation unit).
   */
  write(offset: number, src: Uint8Array, zeroDetect = false): void {
    const ub = this.unitBytes;
    const end = offset + src.length;
    let pos = offset;
    let s = 0;
    while (pos < end) {
      const u = Math.floor(pos / ub);
      const inUnit = pos - u * ub;
      const n = Math.min(this.unitLength(u) - inUnit, end - pos);
      const e = this.units.get(u);
      if (zeroDetect && (e === undefined || n === this.unitLength(u)) && isAllZero(n === src.length ? src : src.subarray(s, s + n))) {
        if (e !== undefined) this.deallocate(u);
      } else if (e !== undefined && e.refs === 1) {
        e.data.set(n === src.length ? src : src.subarray(s, s + n), inUnit);
      } else if (n === this.unitLength(u)) {
        const data = this.pool.takeBuffer(n, false);
        data.set(src.subarray(s, s + n));
        this.#install(u, data);
      } else {
        this.#writable(u).data.set(src.subarray(s, s + n), inUnit);
      }
      pos += n;
      s += n;
    }
  }

  /** Writes `pattern` (one logical block, not all zero) repeatedly over [offset, offset+length). */
  fill(offset: number, length: number, pattern: Uint8Array): void {
    this.#forEachPiece(offset, length, (u, inUnit, n) => {
      const e = this.units.get(u);
      const target =
        n === this.unitLength(u) && (e === undefined || e.refs > 1)
          ? this.#install(u, this.pool.takeBuffer(n, false))
          : this.#writable(u);
      repeatPattern(target.data, inUnit, n, pattern);
    });
  }

  /** Zeroes [offset, offset+length): whole units are deallocated, partial mapped units zeroed in place. */
  zero(offset: number, length: number): void {
    this.#forEachPiece(offset, length, (u, inUnit, n) => {
      if (n === this.unitLength(u)) this.deallocate(u);
      else if (this.units.has(u)) this.#writable(u).data.fill(0, inUnit, inUnit + n);
    });
  }

  /**
   * UNMAP semantics: like {@link BlockStore.zero}, except that a partial piece of a shared unit that
   * would need a new unit while the pool is full is left mapped and unchanged (SBC-3 4.7.3.4: UNMAP is
   * advisory; an LBA that stays mapped keeps its data). Returns the bytes left mapped that way.
   */
  unmap(offset: number, length: number): number {
    let kept = 0;
    this.#forEachPiece(offset, length, (u, inUnit, n) => {
      if (n === this.unitLength(u)) this.deallocate(u);
      else if (this.units.has(u)) {
        if (this.unitWriteNeed(u) > this.pool.freeUnits) kept += n;
        else this.#writable(u).data.fill(0, inUnit, inUnit + n);
      }
    });
    return kept;
  }

  /** Drops unit `u` (reads as zero afterwards). */
  deallocate(u: number): void {
    const e = this.units.get(u);
    if (e === undefined) return;
    this.units.delete(u);
    this.#dropRef(e);
  }

  /** Drops every unit (LUN deletion). */
  clear(): void {
    for (const u of [...this.units.keys()]) this.deallocate(u);
  }

  // ---- copies ---------------------------------------------------------------------------------

  /**
   * Copies `length` bytes from `src` at `srcOffset` to this store at `dstOffset`, with the result of a
   * read of the whole source followed by a write (overlap within one store is handled like memmove:
   * pieces are taken from the end when the destination lies above the source).
   *
   * With `share`, a piece that is a whole unit on both sides makes the destination reference the
   * source extent (no bytes move); other pieces copy bytes. An unmapped source piece deallocates a
   * whole destination unit or zeroes a partial one. Before each piece the pool is checked; when it
   * cannot supply the piece, the copy stops there and reports what it completed.
   */
  copyFrom(src: BlockStore, srcOffset: number, dstOffset: number, length: number, share: boolean, tally: CopyTally): CopyOutcome {
    const backward = src === this && dstOffset > srcOffset && dstOffset < srcOffset + length;
    let done = 0;
    while (done < length) {
      const remaining = length - done;
      let sPos: number, dPos: number, n: number;
      if (backward) {
        const sEnd = srcOffset + remaining;
        const dEnd = dstOffset + remaining;
        const sStart = Math.max(srcOffset, Math.floor((sEnd - 1) / src.unitBytes) * src.unitBytes);
        const dStart = Math.max(dstOffset, Math.floor((dEnd - 1) / this.unitBytes) * this.unitBytes);
        n = Math.min(sEnd - sStart, dEnd - dStart);
        sPos = sEnd - n;
        dPos = dEnd - n;
      } else {
        sPos = srcOffset + done;
        dPos = dstOffset + done;
        const su = Math.floor(sPos / src.unitBytes);
        const du = Math.floor(dPos / this.unitBytes);
        n = Math.min(remaining, src.unitLength(su) - (sPos - su * src.unitBytes), this.unitLength(du) - (dPos - du * this.unitBytes));
      }
      const need = this.#copyPieceNeed(src, sPos, dPos, n, share);
      if (need > this.pool.freeUnits) return { done, outOfSpace: true, neededUnits: need };
      this.#copyPiece(src, sPos, dPos, n, share, tally);
      done += n;
    }
    return { done, outOfSpace: false, neededUnits: 0 };
  }

  #copyPieceNeed(src: BlockStore, sPos: number, dPos: number, n: number, share: boolean): number {
    if (!this.thin) return 0;
    const su = Math.floor(sPos / src.unitBytes);
    const du = Math.floor(dPos / this.unitBytes);
    const srcExtent = src.units.get(su);
    const whole = n === this.unitLength(du);
    if (srcExtent === undefined) return whole || !this.units.has(du) ? 0 : this.unitWriteNeed(du);
    if (share && whole && n === src.unitLength(su) && sPos === su * src.unitBytes) {
      const old = this.units.get(du);
      if (old === srcExtent) return 0;
      const gain = srcExtent.thinRefs === 0 ? 1 : 0;
      const loss = old !== undefined && old.thinRefs === 1 ? 1 : 0;
      return Math.max(0, gain - loss);
    }
    // A piece copied onto itself (same extent, same offset) changes nothing and needs no space.
    if (this.units.get(du) === srcExtent && sPos - su * src.unitBytes === dPos - du * this.unitBytes) return 0;
    return this.unitWriteNeed(du);
  }

  #copyPiece(src: BlockStore, sPos: number, dPos: number, n: number, share: boolean, tally: CopyTally): void {
    const su = Math.floor(sPos / src.unitBytes);
    const sIn = sPos - su * src.unitBytes;
    const du = Math.floor(dPos / this.unitBytes);
    const dIn = dPos - du * this.unitBytes;
    const srcExtent = src.units.get(su);
    const whole = n === this.unitLength(du);
    if (srcExtent === undefined) {
      // LBPRZ source: the copy manager knows these blocks are deallocated and reads them as zeros.
      // A whole destination unit is deallocated (metadata only); a partial one is zero-filled.
      if (whole) {
        this.deallocate(du);
        tally.shared += n;
      } else {
        if (this.units.has(du)) this.#writable(du).data.fill(0, dIn, dIn + n);
        tally.copied += n;
      }
      return;
    }
    const old = this.units.get(du);
    if (share && whole && n === src.unitLength(su) && sIn === 0) {
      if (old !== srcExtent) {
        this.#addRef(srcExtent);
        this.units.set(du, srcExtent);
        if (old !== undefined) this.#dropRef(old);
      }
      tally.shared += n;
      return;
    }
    const piece = srcExtent.data.subarray(sIn, sIn + n);
    if (old === srcExtent && sIn === dIn) {
      tally.copied += n;
      return;
    }
    if (whole && (old === undefined || old.refs > 1)) {
      const data = this.pool.takeBuffer(n, false);
      data.set(piece); // copy before installing: installing may drop the last reference to the source
      this.#install(du, data);
    } else {
      // TypedArray.prototype.set copies as if through a temporary when source and target overlap.
      this.#writable(du).data.set(piece, dIn);
    }
    tally.copied += n;
  }
}

/**
 * Offset (from `at`) of the first of `n` bytes of `expected` that differs from `extent` at `inUnit`
 * (zeros when unmapped), or -1. Compares 32-bit words when both sides are 4-byte aligned, which
 * they are for block-sized Data-Out buffers, then finds the byte inside the differing word.
 */
function compareRun(extent: Extent | undefined, inUnit: number, expected: Uint8Array, at: number, n: number): number {
  const start = expected.byteOffset + at;
  if (((start | inUnit | n) & 3) === 0) {
    const want = wordsOf(expected.buffer);
    const e0 = start >>> 2;
    const count = n >>> 2;
    if (extent === undefined) {
      for (let i = 0; i < count; i++) if (want[e0 + i] !== 0) return firstByte(expected, at + 4 * i, 4, undefined, 0) + 4 * i;
      return -1;
    }
    const words = (extent.words ??= new Uint32Array(extent.data.buffer, extent.data.byteOffset, extent.data.length >>> 2));
    const w0 = inUnit >>> 2;
    let i = 0;
    // Eight words per test: the XORs are OR-ed so the loop branches once per 32 bytes.
    for (; i + 8 <= count; i += 8) {
      const x = e0 + i;
      const y = w0 + i;
      const diff =
        (want[x]! ^ words[y]!) | (want[x + 1]! ^ words[y + 1]!) | (want[x + 2]! ^ words[y + 2]!) | (want[x + 3]! ^ words[y + 3]!) |
        (want[x + 4]! ^ words[y + 4]!) | (want[x + 5]! ^ words[y + 5]!) | (want[x + 6]! ^ words[y + 6]!) | (want[x + 7]! ^ words[y + 7]!);
      if (diff !== 0) return firstByte(expected, at + 4 * i, 32, extent.data, inUnit + 4 * i) + 4 * i;
    }
    for (; i < count; i++) {
      if (want[e0 + i] !== words[w0 + i]) return firstByte(expected, at + 4 * i, 4, extent.data, inUnit + 4 * i) + 4 * i;
    }
    return -1;
  }
  return firstByte(expected, at, n, extent?.data, inUnit);
}

/** Byte-wise: offset of the first of `n` bytes where `expected[at..]` differs from `actual[from..]` (zeros when absent), or -1. */
function firstByte(expected: Uint8Array, at: number, n: number, actual: Uint8Array | undefined, from: number): number {
  if (actual === undefined) {
    for (let i = 0; i < n; i++) if (expected[at + i] !== 0) return i;
  } else {
    for (let i = 0; i < n; i++) if (expected[at + i] !== actual[from + i]) return i;
  }
  return -1;
}

/** Fills target[offset, offset+length) with `pattern` repeated; `length` is a multiple of the pattern's. */
export function repeatPattern(target: Uint8Array, offset: number, length: number, pattern: Uint8Array): void {
  const p = Math.min(pattern.length, length);
  target.set(pattern.subarray(0, p), offset);
  let filled = p;
  while (filled < length) {
    const n = Math.min(filled, length - filled);
    target.copyWithin(offset + filled, offset, offset + n);
    filled += n;
  }
}
