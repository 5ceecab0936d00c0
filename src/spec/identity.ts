/**
 * The array's identity strings in INQUIRY and VPD 83h.
 * @module
 */

/** T10 VENDOR IDENTIFICATION (8 ASCII characters, space padded). */
export const VENDOR_IDENTIFICATION = 'VAAISIM ';
/** PRODUCT IDENTIFICATION (16 ASCII characters, space padded). */
export const PRODUCT_IDENTIFICATION = 'VIRTUAL ARRAY   ';
/** PRODUCT REVISION LEVEL (4 ASCII characters). */
export const PRODUCT_REVISION_LEVEL = '0001';

/**
 * IEEE company identifier placed in NAA 6h designators. It has the locally-administered bit set
 * (bit 1 of the first octet), so it cannot collide with an identifier assigned to a real vendor.
 */
export const NAA_COMPANY_ID = 0x0a5a51;

/** The T10 vendor ID based designator (VPD 83h type 1) of a LUN with `serialNumber`. */
export function t10VendorIdDesignator(serialNumber: string): string {
  return `${VENDOR_IDENTIFICATION}${serialNumber}`;
}
