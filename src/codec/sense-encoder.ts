/**
 * Encodes sense data: fixed format (response code 70h, SPC-4 4.5.3), the one place where a typed
 * {@link SenseReason} becomes the bytes the array returns, and descriptor format (72h, SPC-4 4.5.2),
 * which a LUN returns while its Control page has D_SENSE = 1 (as real targets do) and every reader
 * outside the core must understand. {@link encodeSense} picks one of the two by format.
 * @module
 */
import { SENSE_TABLE, type SenseCode, type SenseReason } from '../spec/sense.js';
import { writeU16, writeU32, writeU64 } from './bytes.js';

/**
 * The two sense data formats (SPC-5 4.4.1): fixed (response code 70h) and descriptor (72h). A logical
 * unit returns the one its Control mode page's D_SENSE bit selects; REQUEST SENSE returns the one its
 * DESC bit asks for.
 */
export type SenseFormat = 'fixed' | 'descriptor';

/** Encodes sense for `reason` (or an explicit {@link SenseCode}) in `format`: {@link encodeFixedSense} or {@link encodeDescriptorSense}. */
export function encodeSense(format: SenseFormat, reason: SenseReason | SenseCode, details?: SenseDetails): Uint8Array {
  return format === 'descriptor' ? encodeDescriptorSense(reason, details) : encodeFixedSense(reason, details);
}

/** Length of the fixed-format sense data the array returns: 8-byte header + ADDITIONAL SENSE LENGTH 10. */
export const FIXED_SENSE_LENGTH = 18;

/**
 * Where the SENSE-KEY SPECIFIC field points (SPC-4 4.5.2.4). `cdb`: a byte of the CDB (C/D = 1);
 * `parameter`: a byte of the parameter list (C/D = 0); `segment`: a byte of the failing EXTENDED COPY
 * segment descriptor (COPY ABORTED segment pointer with SD = 1, SPC-4 4.5.2.4.5).
 */
export interface FieldPointer {
  /** What the pointer indexes into. */
  readonly in: 'cdb' | 'parameter' | 'segment';
  /** FIELD POINTER: the byte offset of the offending field. */
  readonly byte: number;
  /** BIT POINTER (0..7) of the field's most significant bit, when the field is not a whole byte. */
  readonly bit?: number;
}

/** Optional contents of a fixed-format sense record beyond key/ASC/ASCQ. */
export interface SenseDetails {
  /** INFORMATION (bytes 3..6), sets VALID. COMPARE AND WRITE puts the miscompare offset here. */
  readonly information?: number;
  /** COMMAND-SPECIFIC INFORMATION (bytes 8..11). EXTENDED COPY puts the failing segment index here. */
  readonly commandSpecificInformation?: number;
  /** SENSE-KEY SPECIFIC field pointer (bytes 15..17), sets SKSV. */
  readonly fieldPointer?: FieldPointer;
  /**
   * SENSE-KEY SPECIFIC progress indication (SPC-5 4.4.2.4.4; NOT READY while an operation such as a
   * sanitize runs): the fraction done, numerator over 65536 (0..65535), sets SKSV. Ignored when
   * {@link SenseDetails.fieldPointer} is given.
   */
  readonly progress?: number;
}

/** Encodes fixed-format sense for `reason` (or an explicit {@link SenseCode}) into a new 18-byte array. */
export function encodeFixedSense(reason: SenseReason | SenseCode, details?: SenseDetails): Uint8Array {
  const code = typeof reason === 'string' ? SENSE_TABLE[reason] : reason;
  const sense = new Uint8Array(FIXED_SENSE_LENGTH);
  sense[0] = 0x70; // RESPONSE CODE: current error, fixed format
  sense[2] = code.key & 0x0f;
  sense[7] = FIXED_SENSE_LENGTH - 8; // ADDITIONAL SENSE LENGTH
  sense[12] = code.asc;
  sense[13] = code.ascq;
  if (details === undefined) return sense;
  if (details.information !== undefined) {
    sense[0] |= 0x80; // VALID
    writeU32(sense, 3, details.information >>> 0);
  }
  if (details.commandSpecificInformation !== undefined) {
    writeU32(sense, 8, details.commandSpecificInformation >>> 0);
  }
  if (details.fieldPointer !== undefined) writeSenseKeySpecific(sense, 15, details.fieldPointer);
  else if (details.progress !== undefined) writeProgress(sense, 15, details.progress);
  return sense;
}

/** Writes the 3-byte SENSE-KEY SPECIFIC field for `pointer` at `at` (SPC-4 4.5.2.4.2, 4.5.2.4.5). */
function writeSenseKeySpecific(sense: Uint8Array, at: number, pointer: FieldPointer): void {
  let sks = 0x80; // SKSV
  if (pointer.in === 'cdb') sks |= 0x40; // C/D
  if (pointer.in === 'segment') sks |= 0x20; // SD
  if (pointer.bit !== undefined) sks |= 0x08 | (pointer.bit & 0x07); // BPV, BIT POINTER
  sense[at] = sks;
  writeU16(sense, at + 1, pointer.byte);
}

/** Writes the 3-byte SENSE-KEY SPECIFIC progress indication at `at` (SPC-5 4.4.2.4.4): SKSV, then PROGRESS INDICATION. */
function writeProgress(sense: Uint8Array, at: number, progress: number): void {
  sense[at] = 0x80; // SKSV
  writeU16(sense, at + 1, Math.min(0xffff, Math.max(0, Math.floor(progress))));
}

/**
 * Encodes descriptor-format sense (response code 72h, SPC-4 4.5.2) for `reason` (or an explicit
 * {@link SenseCode}): the 8-byte header, then an information descriptor (00h, VALID = 1), a
 * command-specific information descriptor (01h) and a sense key specific descriptor (02h) for the
 * `details` given, in that order. INFORMATION and COMMAND-SPECIFIC INFORMATION are 8-byte fields here.
 */
export function encodeDescriptorSense(reason: SenseReason | SenseCode, details?: SenseDetails): Uint8Array {
  const code = typeof reason === 'string' ? SENSE_TABLE[reason] : reason;
  const length =
    8 +
    (details?.information !== undefined ? 12 : 0) +
    (details?.commandSpecificInformation !== undefined ? 12 : 0) +
    (details?.fieldPointer !== undefined || details?.progress !== undefined ? 8 : 0);
  const sense = new Uint8Array(length);
  sense[0] = 0x72; // RESPONSE CODE: current error, descriptor format
  sense[1] = code.key & 0x0f;
  sense[2] = code.asc;
  sense[3] = code.ascq;
  sense[7] = length - 8; // ADDITIONAL SENSE LENGTH
  let at = 8;
  if (details?.information !== undefined) {
    sense[at] = 0x00; // DESCRIPTOR TYPE: information
    sense[at + 1] = 0x0a; // ADDITIONAL LENGTH
    sense[at + 2] = 0x80; // VALID
    writeU64(sense, at + 4, details.information);
    at += 12;
  }
  if (details?.commandSpecificInformation !== undefined) {
    sense[at] = 0x01; // DESCRIPTOR TYPE: command-specific information
    sense[at + 1] = 0x0a;
    writeU64(sense, at + 4, details.commandSpecificInformation);
    at += 12;
  }
  if (details?.fieldPointer !== undefined) {
    sense[at] = 0x02; // DESCRIPTOR TYPE: sense key specific
    sense[at + 1] = 0x06;
    writeSenseKeySpecific(sense, at + 4, details.fieldPointer);
  } else if (details?.progress !== undefined) {
    sense[at] = 0x02; // DESCRIPTOR TYPE: sense key specific
    sense[at + 1] = 0x06;
    writeProgress(sense, at + 4, details.progress);
  }
  return sense;
}
