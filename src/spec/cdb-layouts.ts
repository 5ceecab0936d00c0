/**
 * Where LOGICAL BLOCK ADDRESS and the block count sit in the READ/WRITE CDB sizes (SBC-3 5.11-5.13,
 * 5.35-5.37): data shared by the decoder and the encoder, so the three sizes are not written out three times.
 * @module
 */

/** Positions of the LBA and TRANSFER LENGTH fields in one CDB size. */
export interface RwLayout {
  /** CDB length in bytes. */
  readonly cdbLength: 10 | 12 | 16;
  /** Offset of LOGICAL BLOCK ADDRESS. */
  readonly lbaAt: number;
  /** Width of LOGICAL BLOCK ADDRESS in bytes. */
  readonly lbaBytes: 4 | 8;
  /** Offset of TRANSFER LENGTH. */
  readonly lengthAt: number;
  /** Width of TRANSFER LENGTH in bytes. */
  readonly lengthBytes: 2 | 4;
}

/** READ(10) / WRITE(10). */
export const RW_LAYOUT_10: RwLayout = { cdbLength: 10, lbaAt: 2, lbaBytes: 4, lengthAt: 7, lengthBytes: 2 };
/** READ(12) / WRITE(12). */
export const RW_LAYOUT_12: RwLayout = { cdbLength: 12, lbaAt: 2, lbaBytes: 4, lengthAt: 6, lengthBytes: 4 };
/** READ(16) / WRITE(16). */
export const RW_LAYOUT_16: RwLayout = { cdbLength: 16, lbaAt: 2, lbaBytes: 8, lengthAt: 10, lengthBytes: 4 };
