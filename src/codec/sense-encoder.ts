/**
 * Encodes fixed-format sense data (response code 70h, SPC-4 4.5.3): the one place where a typed
 * {@link SenseReason} becomes bytes.
 * @module
 */
import { SENSE_TABLE, type SenseCode, type SenseReason } from '../spec/sense.js';
import { writeU16, writeU32 } from './bytes.js';

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
  const pointer = details.fieldPointer;
  if (pointer !== undefined) {
    let sks = 0x80; // SKSV
    if (pointer.in === 'cdb') sks |= 0x40; // C/D
    if (pointer.in === 'segment') sks |= 0x20; // SD
    if (pointer.bit !== undefined) sks |= 0x08 | (pointer.bit & 0x07); // BPV, BIT POINTER
    sense[15] = sks;
    writeU16(sense, 16, pointer.byte);
  }
  return sense;
}
