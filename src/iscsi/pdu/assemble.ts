/**
 * Assembling a PDU, for either direction: the 48-byte header (opcode-specific bytes written by the
 * caller), its digest, the data segment padded to 4 bytes, and the data digest (RFC 7143 11.1).
 * @module
 */
import { writeU24 } from '../../codec/bytes.js';
import { crc32c } from './crc32c.js';
import { BHS_LENGTH } from './framer.js';

/** Digest settings of a connection. */
export interface Digests {
  /** CRC32C header digest. */
  readonly header: boolean;
  /** CRC32C data digest. */
  readonly data: boolean;
}

/** Writes a digest: CRC32C values travel least significant byte first (RFC 3720 B.4). */
export function writeLe32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** A whole PDU: byte 0 is `first` (opcode and I bit); `fill` writes the rest of the header. */
export function assemblePdu(first: number, data: Uint8Array | undefined, digests: Digests, fill: (bhs: Uint8Array) => void): Uint8Array {
  const dsl = data?.length ?? 0;
  const padded = (dsl + 3) & ~3;
  const out = new Uint8Array(BHS_LENGTH + (digests.header ? 4 : 0) + padded + (digests.data && dsl > 0 ? 4 : 0));
  out[0] = first;
  writeU24(out, 5, dsl);
  fill(out);
  let p = BHS_LENGTH;
  if (digests.header) {
    writeLe32(out, p, crc32c(out.subarray(0, BHS_LENGTH)));
    p += 4;
  }
  if (data !== undefined && dsl > 0) {
    out.set(data, p);
    p += padded;
    if (digests.data) writeLe32(out, p, crc32c(out.subarray(p - padded, p)));
  }
  return out;
}
