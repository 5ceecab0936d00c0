/**
 * The copy manager's limits, reported identically by RECEIVE COPY RESULTS (OPERATING PARAMETERS)
 * and VPD page 8Fh, and enforced by the EXTENDED COPY decoder.
 * @module
 */

/** Limits of the array's copy manager (SPC-4 6.18.4, 7.8.17). */
export const COPY_LIMITS = {
  /** MAXIMUM CSCD DESCRIPTOR COUNT (LIO and tcmu-runner allow 2). */
  maximumCscdDescriptorCount: 16,
  /** MAXIMUM SEGMENT DESCRIPTOR COUNT (LIO and tcmu-runner allow 1). */
  maximumSegmentDescriptorCount: 64,
  /** MAXIMUM DESCRIPTOR LIST LENGTH in bytes: room for the maximum counts above (16 x 32 + 64 x 28 = 2304). */
  maximumDescriptorListLength: 4096,
  /** MAXIMUM SEGMENT LENGTH in bytes (as LIO and SCST). */
  maximumSegmentLength: 256 * 1024 * 1024,
  /** MAXIMUM INLINE DATA LENGTH: inline data is not supported. */
  maximumInlineDataLength: 0,
  /** HELD DATA LIMIT: RECEIVE DATA is not supported, so no data is held. */
  heldDataLimit: 0,
  /** TOTAL CONCURRENT COPIES: copies complete within their command, so any number may be in flight. */
  totalConcurrentCopies: 0xffff,
  /** MAXIMUM CONCURRENT COPIES (LIST ID USAGE 00b or 10b, per nexus). */
  maximumConcurrentCopies: 0xff,
  /** Completed results held per nexus for RECEIVE COPY RESULTS; the oldest is dropped beyond this. */
  heldResultsPerNexus: 64,
  /** Implemented descriptor type codes, ascending: block-to-block segment 02h, identification CSCD E4h. */
  descriptorTypeCodes: [0x02, 0xe4] as readonly number[],
} as const;

/** Length of every CSCD descriptor type the decoder can walk (SPC-4 6.4.5: CSCD descriptors are 32 bytes). */
export const CSCD_DESCRIPTOR_LENGTH = 32;
/** The identification descriptor CSCD type (SPC-4 6.4.5.2). */
export const CSCD_IDENTIFICATION = 0xe4;
/** Block device to block device segment descriptor type (SPC-4 6.4.6.5). */
export const SEGMENT_BLOCK_TO_BLOCK = 0x02;
/** DESCRIPTOR LENGTH of a block-to-block segment descriptor (28 bytes in all). */
export const SEGMENT_BLOCK_TO_BLOCK_LENGTH = 0x18;
