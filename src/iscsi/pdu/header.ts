/**
 * What both directions' decoders share: the digest check of a framed PDU and the LUN field.
 * @module
 */
import { crc32c } from './crc32c.js';
import { BHS_LENGTH, type FramedPdu } from './framer.js';

/** Why a framed PDU could not be decoded. */
export type PduDecodeFailure =
  /** The header digest does not match: nothing in the header can be trusted (RFC 7143 7.8). */
  | 'header-digest'
  /** The data digest does not match: the header is sound, the data is not (RFC 7143 7.8). */
  | 'data-digest';

/**
 * Checks the digests a framed PDU carries (when the connection negotiated them).
 * @returns the failure, or `undefined` when the PDU is sound
 */
export function checkDigests(pdu: FramedPdu): PduDecodeFailure | undefined {
  const headerEnd = BHS_LENGTH + pdu.ahs.length;
  if (pdu.headerDigest !== undefined && crc32c(pdu.raw.subarray(0, headerEnd)) !== pdu.headerDigest) return 'header-digest';
  if (pdu.dataDigest !== undefined) {
    const dataStart = headerEnd + (pdu.headerDigest === undefined ? 0 : 4);
    const padded = (pdu.data.length + 3) & ~3;
    if (crc32c(pdu.raw.subarray(dataStart, dataStart + padded)) !== pdu.dataDigest) return 'data-digest';
  }
  return undefined;
}

/**
 * The LUN number in an 8-byte LUN field: single level, peripheral (00b) or flat (01b) addressing
 * (SAM-5 4.7). Other methods give `undefined`.
 */
export function lunNumber(field: Uint8Array): number | undefined {
  const method = field[0]! >>> 6;
  if (method === 0 && (field[0]! & 0x3f) === 0) return field[1]!;
  if (method === 1) return ((field[0]! & 0x3f) << 8) | field[1]!;
  return undefined;
}
