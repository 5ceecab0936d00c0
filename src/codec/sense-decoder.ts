/**
 * Decodes sense data returned by the array (or by any target) into named fields, for tests and tools.
 * Accepts fixed (70h/71h) and descriptor (72h/73h) formats; never throws.
 * @module
 */
import { SENSE_TABLE, type SenseReason } from '../spec/sense.js';
import { readU16, readU32, readU64 } from './bytes.js';
import type { FieldPointer } from './sense-encoder.js';

/** Sense data decoded into named fields. */
export interface DecodedSense {
  /** RESPONSE CODE (70h, 71h, 72h or 73h). */
  readonly responseCode: number;
  /** SENSE KEY. */
  readonly key: number;
  /** ADDITIONAL SENSE CODE. */
  readonly asc: number;
  /** ADDITIONAL SENSE CODE QUALIFIER. */
  readonly ascq: number;
  /** INFORMATION, when VALID (fixed format) or an information descriptor (00h) with VALID = 1 is present. */
  readonly information?: number;
  /** COMMAND-SPECIFIC INFORMATION: bytes 8..11 of fixed format, or a command-specific information descriptor (01h). */
  readonly commandSpecificInformation?: number;
  /** SENSE-KEY SPECIFIC field/segment pointer, when SKSV = 1 (and the key is neither NO SENSE nor NOT READY). */
  readonly fieldPointer?: FieldPointer;
  /** SENSE-KEY SPECIFIC PROGRESS INDICATION (numerator over 65536), when SKSV = 1 with NO SENSE or NOT READY (SPC-5 4.4.2.4.4). */
  readonly progress?: number;
  /** The {@link SenseReason} whose key/ASC/ASCQ match, when one does. */
  readonly reason?: SenseReason;
}

const reasonByCode = new Map<number, SenseReason>();
for (const [name, code] of Object.entries(SENSE_TABLE)) {
  const k = (code.key << 16) | (code.asc << 8) | code.ascq;
  if (!reasonByCode.has(k)) reasonByCode.set(k, name as SenseReason);
}

/** The SENSE-KEY SPECIFIC progress indication at `at`: with NO SENSE or NOT READY and SKSV = 1 (SPC-5 4.4.2.4.4). */
function decodeProgress(sense: Uint8Array, at: number, key: number): { progress?: number } {
  if ((key !== 0x00 && key !== 0x02) || (sense[at]! & 0x80) === 0) return {};
  return { progress: readU16(sense, at + 1) };
}

function decodeSks(sense: Uint8Array, at: number, key: number): FieldPointer | undefined {
  const sks = sense[at]!;
  if ((sks & 0x80) === 0 || key === 0x00 || key === 0x02) return undefined;
  const byte = readU16(sense, at + 1);
  const bit = (sks & 0x08) !== 0 ? sks & 0x07 : undefined;
  const where: FieldPointer['in'] =
    key === 0x0a ? ((sks & 0x20) !== 0 ? 'segment' : 'parameter') : (sks & 0x40) !== 0 ? 'cdb' : 'parameter';
  return bit === undefined ? { in: where, byte } : { in: where, byte, bit };
}

/** Decodes `sense`; returns `undefined` when it is too short or its response code is unknown. */
export function decodeSense(sense: Uint8Array | undefined): DecodedSense | undefined {
  if (sense === undefined || sense.length < 8) return undefined;
  const responseCode = sense[0]! & 0x7f;
  if (responseCode === 0x70 || responseCode === 0x71) {
    if (sense.length < 14) return undefined;
    const key = sense[2]! & 0x0f;
    const asc = sense[12]!;
    const ascq = sense[13]!;
    const valid = (sense[0]! & 0x80) !== 0;
    // SENSE-KEY SPECIFIC (bytes 15..17) is there when ADDITIONAL SENSE LENGTH reaches it (SPC-4 4.5.3).
    const hasSks = sense.length >= 18 && sense[7]! >= 10;
    const fieldPointer = hasSks ? decodeSks(sense, 15, key) : undefined;
    return {
      responseCode,
      key,
      asc,
      ascq,
      ...(valid ? { information: readU32(sense, 3) } : {}),
      commandSpecificInformation: readU32(sense, 8),
      ...(fieldPointer ? { fieldPointer } : {}),
      ...(hasSks ? decodeProgress(sense, 15, key) : {}),
      ...withReason(key, asc, ascq),
    };
  }
  if (responseCode === 0x72 || responseCode === 0x73) {
    const key = sense[1]! & 0x0f;
    const asc = sense[2]!;
    const ascq = sense[3]!;
    let information: number | undefined;
    let commandSpecificInformation: number | undefined;
    let fieldPointer: FieldPointer | undefined;
    let progress: { progress?: number } = {};
    // Sense data descriptors (SPC-4 4.5.2.1): DESCRIPTOR TYPE, ADDITIONAL LENGTH, then the body. A
    // descriptor cut by the allocation length or ADDITIONAL SENSE LENGTH is left out.
    const end = Math.min(sense.length, 8 + sense[7]!);
    for (let at = 8; at + 2 <= end; at += 2 + sense[at + 1]!) {
      const type = sense[at]!;
      // Information (00h, 4.5.2.2) and command-specific information (01h, 4.5.2.3): 8-byte field at byte 4.
      if (type === 0x00 && at + 12 <= end && (sense[at + 2]! & 0x80) !== 0) information = readU64(sense, at + 4);
      if (type === 0x01 && at + 12 <= end) commandSpecificInformation = readU64(sense, at + 4);
      // Sense key specific (02h, 4.5.2.4): the 3-byte field at byte 4.
      if (type === 0x02 && at + 7 <= end) {
        fieldPointer = decodeSks(sense, at + 4, key);
        progress = decodeProgress(sense, at + 4, key);
      }
    }
    return {
      responseCode,
      key,
      asc,
      ascq,
      ...(information !== undefined ? { information } : {}),
      ...(commandSpecificInformation !== undefined ? { commandSpecificInformation } : {}),
      ...(fieldPointer ? { fieldPointer } : {}),
      ...progress,
      ...withReason(key, asc, ascq),
    };
  }
  return undefined;
}

function withReason(key: number, asc: number, ascq: number): { reason?: SenseReason } {
  const reason = reasonByCode.get((key << 16) | (asc << 8) | ascq);
  return reason === undefined ? {} : { reason };
}
