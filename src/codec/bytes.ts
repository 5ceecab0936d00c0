/**
 * Big-endian field readers and a small writer over `Uint8Array`, shared by every codec.
 * SCSI fields are big-endian (SAM-5 3.5). 64-bit fields are read as JavaScript numbers: values at or
 * above 2^53 become `Infinity`, which every range check rejects, so no LBA arithmetic can wrap.
 * @module
 */

/** Reads an unsigned 16-bit big-endian field at `offset`. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/** Reads an unsigned 24-bit big-endian field at `offset`. */
export function readU24(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
}

/** Reads an unsigned 32-bit big-endian field at `offset`. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset]! * 0x1000000 + ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!)
  );
}

/**
 * Reads an unsigned 64-bit big-endian field at `offset` as a number. Exact below 2^53; larger
 * values return `Infinity` (every capacity is below 2^53 blocks, so they are out of range anyway).
 */
export function readU64(bytes: Uint8Array, offset: number): number {
  const high = readU32(bytes, offset);
  if (high >= 0x200000) return Infinity;
  return high * 0x100000000 + readU32(bytes, offset + 4);
}

/** Writes `value` (0..2^16-1) big-endian at `offset`. */
export function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 8) & 0xff;
  bytes[offset + 1] = value & 0xff;
}

/** Writes `value` (0..2^24-1) big-endian at `offset`. */
export function writeU24(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 16) & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = value & 0xff;
}

/** Writes `value` (0..2^32-1) big-endian at `offset`. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

/** Writes a non-negative integer below 2^53 as a 64-bit big-endian field at `offset`. */
export function writeU64(bytes: Uint8Array, offset: number, value: number): void {
  writeU32(bytes, offset, Math.floor(value / 0x100000000));
  writeU32(bytes, offset + 4, value >>> 0);
}

/** Writes `text` as space-padded ASCII into `length` bytes at `offset` (SPC-4 4.4.1). */
export function writeAscii(bytes: Uint8Array, offset: number, length: number, text: string): void {
  for (let i = 0; i < length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x20;
    bytes[offset + i] = c >= 0x20 && c < 0x7f ? c : 0x20;
  }
}

/**
 * Returns the first `allocationLength` bytes of a response as a view (SPC-4 4.2.5.6: data beyond
 * the ALLOCATION LENGTH is not transferred, and a short allocation is not an error).
 */
export function truncate(data: Uint8Array, allocationLength: number): Uint8Array {
  return allocationLength >= data.length ? data : data.subarray(0, allocationLength);
}

/**
 * A 32-bit view of a whole ArrayBuffer, cached: callers reuse their Data-Out buffers, so the view is
 * made once per buffer instead of once per command.
 */
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

/** The cached 32-bit view of `buffer` (its trailing 0..3 bytes are not covered). */
export function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  let view = wordViews.get(buffer);
  if (view === undefined || view.length !== buffer.byteLength >>> 2) {
    view = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    wordViews.set(buffer, view);
  }
  return view;
}

/** True when every byte of `bytes` is zero (word-wise over the aligned middle). */
export function isAllZero(bytes: Uint8Array): boolean {
  const n = bytes.length;
  const start = bytes.byteOffset;
  let i = 0;
  // bytes up to the first 4-byte boundary
  for (; i < n && ((start + i) & 3) !== 0; i++) if (bytes[i] !== 0) return false;
  const wordCount = (n - i) >>> 2;
  if (wordCount > 0) {
    const words = wordsOf(bytes.buffer);
    const w0 = (start + i) >>> 2;
    for (let w = 0; w < wordCount; w++) if (words[w0 + w] !== 0) return false;
    i += wordCount * 4;
  }
  for (; i < n; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Index of the first byte where `a` and `b` differ over `length` bytes, or -1 when they are equal.
 * Used by COMPARE AND WRITE, whose miscompare sense reports that offset.
 */
export function firstMismatch(a: Uint8Array, b: Uint8Array, length: number): number {
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** `bytes` as lower-case hex digits, two per byte (designators, ISIDs). */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}
