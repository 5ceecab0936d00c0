/**
 * Asymmetric logical unit access (SPC-4 5.16) as data: the target port asymmetric access states,
 * their 4-bit codes in REPORT TARGET PORT GROUPS and SET TARGET PORT GROUPS (SPC-4 6.27, 6.31), and
 * the STATUS CODE values of a target port group descriptor. What the array does in each state is in
 * src/scsi/alua.ts; the choices are in docs/decisions/alua.md.
 * @module
 */

/**
 * A target port asymmetric access state (SPC-4 5.16.2.4). LBA-dependent (4h) is not implemented by
 * the array and so is not one of these (its supported-state bit LBD_SUP is zero).
 */
export type AluaState = 'active/optimized' | 'active/non-optimized' | 'standby' | 'unavailable' | 'offline' | 'transitioning';

/** Every {@link AluaState}, in the order of their codes. */
export const ALUA_STATES: readonly AluaState[] = Object.freeze(['active/optimized', 'active/non-optimized', 'standby', 'unavailable', 'offline', 'transitioning']);

/** ASYMMETRIC ACCESS STATE codes (SPC-4 6.27 table 167): the 4-bit value of each state. */
export const ASYMMETRIC_ACCESS_STATE: { readonly [S in AluaState]: number } = Object.freeze({
  'active/optimized': 0x0,
  'active/non-optimized': 0x1,
  standby: 0x2,
  unavailable: 0x3,
  offline: 0xe,
  transitioning: 0xf,
});

/** ASYMMETRIC ACCESS STATE 4h, logical block dependent: not implemented, refused by SET TARGET PORT GROUPS. */
export const LBA_DEPENDENT_STATE_CODE = 0x4;

/** The state named by a 4-bit ASYMMETRIC ACCESS STATE code; `undefined` for 4h (LBA dependent) and reserved codes. */
export function aluaStateOfCode(code: number): AluaState | undefined {
  return ALUA_STATES.find((s) => ASYMMETRIC_ACCESS_STATE[s] === code);
}

/**
 * The supported-state bit of each state in byte 1 of a target port group descriptor (SPC-4 6.27):
 * T_SUP bit 7, O_SUP bit 6, U_SUP bit 3, S_SUP bit 2, AN_SUP bit 1, AO_SUP bit 0 (LBD_SUP, bit 4, is
 * the LBA-dependent state's).
 */
export const SUPPORTED_STATE_BIT: { readonly [S in AluaState]: number } = Object.freeze({
  'active/optimized': 0x01,
  'active/non-optimized': 0x02,
  standby: 0x04,
  unavailable: 0x08,
  offline: 0x40,
  transitioning: 0x80,
});

/**
 * STATUS CODE of a target port group descriptor (SPC-4 6.27 table 168): 00h no status available,
 * 01h the state was altered by a SET TARGET PORT GROUPS command, 02h altered by an implicit
 * asymmetric access state transition.
 */
export type AluaStatusCode = 0x00 | 0x01 | 0x02;

/** The {@link AluaStatusCode} values by name. */
export const AluaStatus = Object.freeze({
  /** 00h: no status available. */
  NONE: 0x00,
  /** 01h: altered by SET TARGET PORT GROUPS. */
  EXPLICIT: 0x01,
  /** 02h: altered by implicit asymmetric access behaviour. */
  IMPLICIT: 0x02,
} as const);
