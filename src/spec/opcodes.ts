/**
 * SCSI operation codes and service actions implemented or referenced by the array, named as in T10
 * (SPC-4 / SBC-3). Values only: what the array does with each lives in the command table.
 * @module
 */

/** Operation codes (SPC-4 / SBC-3), T10 names in SCREAMING_SNAKE_CASE. */
export const Opcode = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  INQUIRY: 0x12,
  RESERVE_6: 0x16,
  RELEASE_6: 0x17,
  MODE_SENSE_6: 0x1a,
  READ_CAPACITY_10: 0x25,
  READ_10: 0x28,
  WRITE_10: 0x2a,
  SYNCHRONIZE_CACHE_10: 0x35,
  WRITE_SAME_10: 0x41,
  UNMAP: 0x42,
  RESERVE_10: 0x56,
  RELEASE_10: 0x57,
  MODE_SENSE_10: 0x5a,
  EXTENDED_COPY: 0x83,
  RECEIVE_COPY_RESULTS: 0x84,
  READ_16: 0x88,
  COMPARE_AND_WRITE: 0x89,
  WRITE_16: 0x8a,
  SYNCHRONIZE_CACHE_16: 0x91,
  WRITE_SAME_16: 0x93,
  SERVICE_ACTION_IN_16: 0x9e,
  REPORT_LUNS: 0xa0,
  MAINTENANCE_IN: 0xa3,
  READ_12: 0xa8,
  WRITE_12: 0xaa,
} as const;

/** Service actions of the opcodes that have them. */
export const ServiceAction = {
  /** EXTENDED COPY (LID1), opcode 83h. */
  EXTENDED_COPY_LID1: 0x00,
  /** RECEIVE COPY RESULTS, opcode 84h: COPY STATUS. */
  COPY_STATUS: 0x00,
  /** RECEIVE COPY RESULTS, opcode 84h: OPERATING PARAMETERS. */
  OPERATING_PARAMETERS: 0x03,
  /** RECEIVE COPY RESULTS, opcode 84h: FAILED SEGMENT DETAILS. */
  FAILED_SEGMENT_DETAILS: 0x04,
  /** SERVICE ACTION IN(16), opcode 9Eh: READ CAPACITY(16). */
  READ_CAPACITY_16: 0x10,
  /** SERVICE ACTION IN(16), opcode 9Eh: GET LBA STATUS. */
  GET_LBA_STATUS: 0x12,
  /** MAINTENANCE IN, opcode A3h: REPORT SUPPORTED OPERATION CODES. */
  REPORT_SUPPORTED_OPERATION_CODES: 0x0c,
} as const;

/** SCSI status codes (SAM-5) that the array returns. */
export const ScsiStatus = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x02,
  BUSY: 0x08,
  RESERVATION_CONFLICT: 0x18,
  TASK_SET_FULL: 0x28,
} as const;

/** One of the {@link ScsiStatus} values. */
export type ScsiStatusCode = (typeof ScsiStatus)[keyof typeof ScsiStatus];

/** VPD page codes (SPC-4 7.8, SBC-3 6.6) that the array serves. */
export const VpdPage = {
  SUPPORTED_VPD_PAGES: 0x00,
  UNIT_SERIAL_NUMBER: 0x80,
  DEVICE_IDENTIFICATION: 0x83,
  THIRD_PARTY_COPY: 0x8f,
  BLOCK_LIMITS: 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const;
