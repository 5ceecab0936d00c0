/**
 * Decodes the EXTENDED COPY (LID1) parameter list (SPC-4 6.4): header, CSCD descriptors, segment
 * descriptors. The checks run in the order that makes each error unambiguous (docs/decisions/extended-copy.md, "Check order"):
 * lengths, then LIST ID USAGE, then descriptor counts, then descriptor types, then fields.
 * @module
 */
import { readU16, readU24, readU32, readU64 } from '../../codec/bytes.js';
import { fail, invalidParameterField, type Failure } from '../outcome.js';
import {
  COPY_LIMITS,
  CSCD_DESCRIPTOR_LENGTH,
  CSCD_IDENTIFICATION,
  SEGMENT_BLOCK_TO_BLOCK,
  SEGMENT_BLOCK_TO_BLOCK_LENGTH,
} from './limits.js';

/** Parameter list header length (SPC-4 table 102). */
export const HEADER_LENGTH = 16;

/** LIST ID USAGE (byte 1 bits 4:3). */
export const ListIdUsage = {
  /** 00b: hold results for RECEIVE COPY RESULTS. */
  HOLD: 0,
  /** 10b: discard results; the list ID is still unique while active. */
  DISCARD: 2,
  /** 11b: no list identifier (LIST IDENTIFIER must be 0). */
  NONE: 3,
} as const;

/** @internal An identification (E4h) CSCD descriptor. */
export interface IdentificationCscd {
  /** Offset of the descriptor in the parameter list. */
  readonly at: number;
  /** PERIPHERAL DEVICE TYPE (byte 1 bits 4:0). */
  readonly peripheralDeviceType: number;
  /** CODE SET (byte 4 bits 3:0). */
  readonly codeSet: number;
  /** ASSOCIATION and DESIGNATOR TYPE (byte 5 bits 5:0). */
  readonly associationAndType: number;
  /** DESIGNATOR (bytes 8.., DESIGNATOR LENGTH bytes). A view of the parameter list. */
  readonly designator: Uint8Array;
  /** DISK BLOCK LENGTH (bytes 29..31). */
  readonly diskBlockLength: number;
}

/** @internal A block-to-block (02h) segment descriptor. */
export interface BlockToBlockSegment {
  /** Offset of the descriptor in the parameter list. */
  readonly at: number;
  /** DC: NUMBER OF BLOCKS counts destination blocks. */
  readonly destinationCount: boolean;
  readonly sourceCscdId: number;
  readonly destinationCscdId: number;
  /** BLOCK DEVICE NUMBER OF BLOCKS. */
  readonly blocks: number;
  readonly sourceLba: number;
  readonly destinationLba: number;
}

/** @internal A decoded parameter list. */
export interface CopyParameterList {
  readonly listId: number;
  readonly listIdUsage: number;
  readonly cscds: readonly IdentificationCscd[];
  readonly segments: readonly BlockToBlockSegment[];
}

/** @internal Decodes `list` (already of PARAMETER LIST LENGTH bytes, at least 1). */
export function decodeCopyParameterList(list: Uint8Array): CopyParameterList | Failure {
  if (list.length < HEADER_LENGTH) return fail('PARAMETER_LIST_LENGTH_ERROR');
  const listId = list[0]!;
  const listIdUsage = (list[1]! >>> 3) & 0x03;
  const cscdListLength = readU16(list, 2);
  const segmentListLength = readU32(list, 8);
  const inlineDataLength = readU32(list, 12);

  if (listIdUsage === 1) return invalidParameterField(1, 4); // 01b is reserved
  if (listIdUsage === ListIdUsage.NONE && listId !== 0) return invalidParameterField(0);
  if (cscdListLength + segmentListLength > COPY_LIMITS.maximumDescriptorListLength) return fail('PARAMETER_LIST_LENGTH_ERROR');
  if (HEADER_LENGTH + cscdListLength + segmentListLength + inlineDataLength > list.length) {
    return fail('PARAMETER_LIST_LENGTH_ERROR');
  }
  if (inlineDataLength > COPY_LIMITS.maximumInlineDataLength) return fail('INLINE_DATA_LENGTH_EXCEEDED');
  if (cscdListLength % CSCD_DESCRIPTOR_LENGTH !== 0) return invalidParameterField(2);

  // Counts first: every CSCD type is 32 bytes; segments are walked by their DESCRIPTOR LENGTH.
  const cscdCount = cscdListLength / CSCD_DESCRIPTOR_LENGTH;
  if (cscdCount > COPY_LIMITS.maximumCscdDescriptorCount) return fail('TOO_MANY_TARGET_DESCRIPTORS');
  const segmentStart = HEADER_LENGTH + cscdListLength;
  const segmentEnd = segmentStart + segmentListLength;
  const segmentOffsets: number[] = [];
  for (let at = segmentStart; at < segmentEnd; ) {
    if (at + 4 > segmentEnd) return invalidParameterField(at);
    segmentOffsets.push(at);
    if (segmentOffsets.length > COPY_LIMITS.maximumSegmentDescriptorCount) return fail('TOO_MANY_SEGMENT_DESCRIPTORS');
    at += 4 + readU16(list, at + 2);
  }

  const cscds: IdentificationCscd[] = [];
  for (let i = 0; i < cscdCount; i++) {
    const at = HEADER_LENGTH + i * CSCD_DESCRIPTOR_LENGTH;
    if (list[at] !== CSCD_IDENTIFICATION) {
      return fail('UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE', { fieldPointer: { in: 'parameter', byte: at } });
    }
    // Byte 1 bits 7:6 LU ID TYPE is ignored (SPC-4), as is the obsolete NUL bit.
    const designatorLength = list[at + 7]!;
    if (designatorLength === 0 || designatorLength > 20) return invalidParameterField(at + 7);
    cscds.push({
      at,
      peripheralDeviceType: list[at + 1]! & 0x1f,
      codeSet: list[at + 4]! & 0x0f,
      associationAndType: list[at + 5]! & 0x3f,
      designator: list.subarray(at + 8, at + 8 + designatorLength),
      diskBlockLength: readU24(list, at + 29),
    });
  }

  const segments: BlockToBlockSegment[] = [];
  for (const at of segmentOffsets) {
    if (list[at] !== SEGMENT_BLOCK_TO_BLOCK) {
      return fail('UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE', { fieldPointer: { in: 'parameter', byte: at } });
    }
    if (readU16(list, at + 2) !== SEGMENT_BLOCK_TO_BLOCK_LENGTH || at + 28 > segmentEnd) return invalidParameterField(at + 2);
    segments.push({
      at,
      destinationCount: (list[at + 1]! & 0x02) !== 0,
      sourceCscdId: readU16(list, at + 4),
      destinationCscdId: readU16(list, at + 6),
      blocks: readU16(list, at + 10),
      sourceLba: readU64(list, at + 12),
      destinationLba: readU64(list, at + 20),
    });
  }
  return { listId, listIdUsage, cscds, segments };
}
