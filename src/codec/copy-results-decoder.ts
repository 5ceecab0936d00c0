/**
 * Decoder for RECEIVE COPY RESULTS with service action OPERATING PARAMETERS (SPC-4 6.18.4): the copy
 * manager's limits, with the T10 field names. Data cut by the ALLOCATION LENGTH is a `truncated`
 * failure with the length that holds it.
 * @module
 */
import { readU16, readU32 } from './bytes.js';
import { decoded, short, truncated, type DataInResult } from './data-in.js';

/** OPERATING PARAMETERS parameter data. */
export interface OperatingParameters {
  /** AVAILABLE DATA: the bytes after this field. */
  readonly availableData: number;
  /** SNLID: the copy manager supports LIST ID USAGE 11b. */
  readonly snlid: boolean;
  /** MAXIMUM CSCD DESCRIPTOR COUNT. */
  readonly maximumCscdDescriptorCount: number;
  /** MAXIMUM SEGMENT DESCRIPTOR COUNT. */
  readonly maximumSegmentDescriptorCount: number;
  /** MAXIMUM DESCRIPTOR LIST LENGTH in bytes. */
  readonly maximumDescriptorListLength: number;
  /** MAXIMUM SEGMENT LENGTH in bytes (0: no limit reported). */
  readonly maximumSegmentLength: number;
  /** MAXIMUM INLINE DATA LENGTH in bytes. */
  readonly maximumInlineDataLength: number;
  /** HELD DATA LIMIT in bytes. */
  readonly heldDataLimit: number;
  /** MAXIMUM STREAM DEVICE TRANSFER SIZE in bytes. */
  readonly maximumStreamDeviceTransferSize: number;
  /** TOTAL CONCURRENT COPIES. */
  readonly totalConcurrentCopies: number;
  /** MAXIMUM CONCURRENT COPIES. */
  readonly maximumConcurrentCopies: number;
  /** DATA SEGMENT GRANULARITY (log 2). */
  readonly dataSegmentGranularity: number;
  /** INLINE DATA GRANULARITY (log 2). */
  readonly inlineDataGranularity: number;
  /** HELD DATA GRANULARITY (log 2). */
  readonly heldDataGranularity: number;
  /** The implemented descriptor type codes (segment and CSCD descriptors). */
  readonly implementedDescriptorTypeCodes: readonly number[];
}

/** The fixed part of the parameter data, up to IMPLEMENTED DESCRIPTOR LIST LENGTH (byte 43). */
const FIXED_LENGTH = 44;

/** Decodes OPERATING PARAMETERS parameter data. */
export function decodeOperatingParameters(data: Uint8Array): DataInResult<OperatingParameters> {
  const what = 'RECEIVE COPY RESULTS (OPERATING PARAMETERS)';
  if (data.length < 4) return short(what, data.length, FIXED_LENGTH);
  const availableData = readU32(data, 0);
  const required = Math.max(FIXED_LENGTH, 4 + availableData);
  if (data.length < required) return truncated(what, data.length, required);
  return decoded({
    availableData,
    snlid: (data[4]! & 0x01) !== 0,
    maximumCscdDescriptorCount: readU16(data, 8),
    maximumSegmentDescriptorCount: readU16(data, 10),
    maximumDescriptorListLength: readU32(data, 12),
    maximumSegmentLength: readU32(data, 16),
    maximumInlineDataLength: readU32(data, 20),
    heldDataLimit: readU32(data, 24),
    maximumStreamDeviceTransferSize: readU32(data, 28),
    totalConcurrentCopies: readU16(data, 34),
    maximumConcurrentCopies: data[36]!,
    dataSegmentGranularity: data[37]!,
    inlineDataGranularity: data[38]!,
    heldDataGranularity: data[39]!,
    implementedDescriptorTypeCodes: [...data.subarray(FIXED_LENGTH, Math.min(FIXED_LENGTH + data[43]!, 4 + availableData))],
  });
}
