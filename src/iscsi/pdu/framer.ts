/**
 * The stream framer: turns the bytes of a TCP connection into whole iSCSI PDUs (RFC 7143 11.1),
 * keeping an unfinished tail until the rest arrives. It never throws for short input; it reports a
 * malformed header as a framing error, after which the connection cannot be resynchronised.
 * @module
 */
import { checkOptions, is, type ValueCheck } from '../../common/errors.js';

/** Length of the Basic Header Segment. */
export const BHS_LENGTH = 48;

/** One framed PDU: views of the connection's bytes (valid until the next `push`). */
export interface FramedPdu {
  /** The 48-byte Basic Header Segment. */
  readonly bhs: Uint8Array;
  /** Additional Header Segments (TotalAHSLength x 4 bytes). */
  readonly ahs: Uint8Array;
  /** The data segment, without padding. */
  readonly data: Uint8Array;
  /** The header digest received, when header digests are on. */
  readonly headerDigest?: number;
  /** The data digest received, when data digests are on and there is data. */
  readonly dataDigest?: number;
  /** The whole PDU as received (header, digests, padding and all). */
  readonly raw: Uint8Array;
}

/** {@link PduFramer.push} framed these PDUs (possibly none). */
export interface FramedPdus {
  /** Discriminant. */
  readonly kind: 'pdus';
  /** The complete PDUs, in order. */
  readonly pdus: readonly FramedPdu[];
}

/** {@link PduFramer.push} found a header it cannot frame; the connection cannot be resynchronised. */
export interface FramingError {
  /** Discriminant. */
  readonly kind: 'error';
  /** What was wrong. */
  readonly reason: string;
}

/** What {@link PduFramer.push} found. */
export type FrameResult = FramedPdus | FramingError;

/** Limits the framer enforces on hostile input. */
export interface FramerLimits {
  /** Largest data segment accepted, in bytes. */
  readonly maxDataSegmentLength: number;
}

function readLe32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Frames one direction of one connection. Digest settings change after login negotiation. */
export class PduFramer {
  /** Whether PDUs carry a header digest. */
  headerDigest = false;
  /** Whether PDUs with data carry a data digest. */
  dataDigest = false;
  readonly #limits: FramerLimits;
  #buffer: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** @param limits - see {@link FramerLimits} */
  constructor(limits: FramerLimits) {
    // DataSegmentLength is a 24-bit field: a larger limit accepts every PDU.
    checkOptions(limits, { maxDataSegmentLength: is.integer(0, 2 ** 32 - 1) } satisfies Record<keyof FramerLimits, ValueCheck>, 'PduFramer', ['maxDataSegmentLength']);
    this.#limits = limits;
  }

  /** Bytes received and not yet framed. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /**
   * Total length of the PDU whose header starts at `at`, or `undefined` when fewer than 48 bytes
   * are there; a string when the header is malformed.
   */
  lengthAt(bytes: Uint8Array, at: number, available: number): number | string | undefined {
    if (available < BHS_LENGTH) return undefined;
    const ahs = bytes[at + 4]! * 4;
    const dsl = (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!;
    if (dsl > this.#limits.maxDataSegmentLength) return `data segment of ${dsl} bytes exceeds ${this.#limits.maxDataSegmentLength}`;
    const padded = (dsl + 3) & ~3;
    return BHS_LENGTH + ahs + (this.headerDigest ? 4 : 0) + padded + (this.dataDigest && dsl > 0 ? 4 : 0);
  }

  /** Adds received bytes; returns the PDUs now complete (possibly none). */
  push(chunk: Uint8Array): FrameResult {
    this.#append(chunk);
    const pdus: FramedPdu[] = [];
    for (;;) {
      const available = this.#end - this.#start;
      const total = this.lengthAt(this.#buffer, this.#start, available);
      if (total === undefined || (typeof total === 'number' && total > available)) break;
      if (typeof total === 'string') return { kind: 'error', reason: total };
      pdus.push(this.#cut(this.#start, total));
      this.#start += total;
    }
    return { kind: 'pdus', pdus };
  }

  #cut(at: number, total: number): FramedPdu {
    const b = this.#buffer;
    const raw = b.subarray(at, at + total);
    const bhs = raw.subarray(0, BHS_LENGTH);
    const ahsLength = raw[4]! * 4;
    const dsl = (raw[5]! << 16) | (raw[6]! << 8) | raw[7]!;
    let p = BHS_LENGTH + ahsLength;
    const ahs = raw.subarray(BHS_LENGTH, p);
    let headerDigest: number | undefined;
    if (this.headerDigest) {
      headerDigest = readLe32(raw, p);
      p += 4;
    }
    const data = raw.subarray(p, p + dsl);
    p += (dsl + 3) & ~3;
    const dataDigest = this.dataDigest && dsl > 0 ? readLe32(raw, p) : undefined;
    return { bhs, ahs, data, raw, ...(headerDigest === undefined ? {} : { headerDigest }), ...(dataDigest === undefined ? {} : { dataDigest }) };
  }

  #append(chunk: Uint8Array): void {
    const live = this.#end - this.#start;
    if (live === 0 && this.#start > 0) {
      this.#start = 0;
      this.#end = 0;
    }
    if (this.#end + chunk.length > this.#buffer.length) {
      // Grow (or compact into a new buffer): earlier PDUs' views stay valid on the old buffer.
      const next = new Uint8Array(Math.max(live + chunk.length, this.#buffer.length * 2, 64 * 1024));
      next.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = next;
      this.#start = 0;
      this.#end = live;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}
