/**
 * SCSI operation codes and service actions implemented or referenced by the array, named as in T10
 * (SPC-4 / SBC-3). Values only: what the array does with each lives in the command table.
 * @module
 */

/** Operation codes (SPC-4 / SBC-3), T10 names in SCREAMING_SNAKE_CASE. */
export const Opcode = {
  /** TEST UNIT READY (SPC-4 6.37) */
  TEST_UNIT_READY: 0x00,
  /** REQUEST SENSE (SPC-4 6.29) */
  REQUEST_SENSE: 0x03,
  /** READ(6) (SBC-4) */
  READ_6: 0x08,
  /** WRITE(6) (SBC-4) */
  WRITE_6: 0x0a,
  /** INQUIRY (SPC-4 6.6) */
  INQUIRY: 0x12,
  /** RESERVE(6) (SPC-2 7.21) */
  RESERVE_6: 0x16,
  /** RELEASE(6) (SPC-2 7.19) */
  RELEASE_6: 0x17,
  /** MODE SELECT(6) (SPC-5 6.11) */
  MODE_SELECT_6: 0x15,
  /** MODE SENSE(6) (SPC-4 6.11) */
  MODE_SENSE_6: 0x1a,
  /** READ CAPACITY(10) (SBC-3 5.15) */
  READ_CAPACITY_10: 0x25,
  /** READ(10) (SBC-3 5.11) */
  READ_10: 0x28,
  /** WRITE(10) (SBC-3 5.35) */
  WRITE_10: 0x2a,
  /** WRITE AND VERIFY(10) (SBC-4) */
  WRITE_AND_VERIFY_10: 0x2e,
  /** VERIFY(10) (SBC-4) */
  VERIFY_10: 0x2f,
  /** PRE-FETCH(10) (SBC-4) */
  PRE_FETCH_10: 0x34,
  /** SYNCHRONIZE CACHE(10) (SBC-3 5.24) */
  SYNCHRONIZE_CACHE_10: 0x35,
  /** READ DEFECT DATA(10) (SBC-4) */
  READ_DEFECT_DATA_10: 0x37,
  /** WRITE SAME(10) (SBC-3 5.41) */
  WRITE_SAME_10: 0x41,
  /** UNMAP (SBC-3 5.28) */
  UNMAP: 0x42,
  /** SANITIZE (SBC-4 5.30) */
  SANITIZE: 0x48,
  /** RESERVE(10) (SPC-2 7.22) */
  RESERVE_10: 0x56,
  /** RELEASE(10) (SPC-2 7.20) */
  RELEASE_10: 0x57,
  /** MODE SELECT(10) (SPC-5 6.12) */
  MODE_SELECT_10: 0x55,
  /** MODE SENSE(10) (SPC-4 6.12) */
  MODE_SENSE_10: 0x5a,
  /** PERSISTENT RESERVE IN (SPC-4 6.13) */
  PERSISTENT_RESERVE_IN: 0x5e,
  /** PERSISTENT RESERVE OUT (SPC-4 6.14) */
  PERSISTENT_RESERVE_OUT: 0x5f,
  /** EXTENDED COPY (SPC-4 6.4) */
  EXTENDED_COPY: 0x83,
  /** RECEIVE COPY RESULTS (SPC-4 6.18) */
  RECEIVE_COPY_RESULTS: 0x84,
  /** READ(16) (SBC-3 5.13) */
  READ_16: 0x88,
  /** COMPARE AND WRITE (SBC-3 5.2) */
  COMPARE_AND_WRITE: 0x89,
  /** WRITE(16) (SBC-3 5.37) */
  WRITE_16: 0x8a,
  /** ORWRITE(16) (SBC-4) */
  ORWRITE_16: 0x8b,
  /** WRITE AND VERIFY(16) (SBC-4) */
  WRITE_AND_VERIFY_16: 0x8e,
  /** VERIFY(16) (SBC-4) */
  VERIFY_16: 0x8f,
  /** PRE-FETCH(16) (SBC-4) */
  PRE_FETCH_16: 0x90,
  /** SYNCHRONIZE CACHE(16) (SBC-3 5.25) */
  SYNCHRONIZE_CACHE_16: 0x91,
  /** WRITE SAME(16) (SBC-3 5.42) */
  WRITE_SAME_16: 0x93,
  /** WRITE ATOMIC(16) (SBC-4 5.48) */
  WRITE_ATOMIC_16: 0x9c,
  /** SERVICE ACTION IN(16): READ CAPACITY(16), GET LBA STATUS */
  SERVICE_ACTION_IN_16: 0x9e,
  /** REPORT LUNS (SPC-4 6.33) */
  REPORT_LUNS: 0xa0,
  /** MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES, REPORT TARGET PORT GROUPS */
  MAINTENANCE_IN: 0xa3,
  /** MAINTENANCE OUT: SET TARGET PORT GROUPS */
  MAINTENANCE_OUT: 0xa4,
  /** READ(12) (SBC-3 5.12) */
  READ_12: 0xa8,
  /** WRITE(12) (SBC-3 5.36) */
  WRITE_12: 0xaa,
  /** WRITE AND VERIFY(12) (SBC-4) */
  WRITE_AND_VERIFY_12: 0xae,
  /** VERIFY(12) (SBC-4) */
  VERIFY_12: 0xaf,
  /** READ DEFECT DATA(12) (SBC-4) */
  READ_DEFECT_DATA_12: 0xb7,
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
  /** MAINTENANCE IN, opcode A3h: REPORT TARGET PORT GROUPS (SPC-4 6.27). */
  REPORT_TARGET_PORT_GROUPS: 0x0a,
  /** MAINTENANCE IN, opcode A3h: REPORT SUPPORTED OPERATION CODES. */
  REPORT_SUPPORTED_OPERATION_CODES: 0x0c,
  /** MAINTENANCE OUT, opcode A4h: SET TARGET PORT GROUPS (SPC-4 6.31). */
  SET_TARGET_PORT_GROUPS: 0x0a,
} as const;

/** PERSISTENT RESERVE IN service actions (SPC-4 6.13.1 table 167). */
export const PrInServiceAction = {
  /** READ KEYS */
  READ_KEYS: 0x00,
  /** READ RESERVATION */
  READ_RESERVATION: 0x01,
  /** REPORT CAPABILITIES */
  REPORT_CAPABILITIES: 0x02,
  /** READ FULL STATUS */
  READ_FULL_STATUS: 0x03,
} as const;

/** PERSISTENT RESERVE OUT service actions (SPC-4 6.14.2 table 183). */
export const PrOutServiceAction = {
  /** REGISTER */
  REGISTER: 0x00,
  /** RESERVE */
  RESERVE: 0x01,
  /** RELEASE */
  RELEASE: 0x02,
  /** CLEAR */
  CLEAR: 0x03,
  /** PREEMPT */
  PREEMPT: 0x04,
  /** PREEMPT AND ABORT */
  PREEMPT_AND_ABORT: 0x05,
  /** REGISTER AND IGNORE EXISTING KEY */
  REGISTER_AND_IGNORE_EXISTING_KEY: 0x06,
  /** REGISTER AND MOVE */
  REGISTER_AND_MOVE: 0x07,
} as const;

/** Persistent reservation TYPE codes (SPC-4 6.14.2 table 184). */
export const PrType = {
  /** Write Exclusive */
  WRITE_EXCLUSIVE: 0x1,
  /** Exclusive Access */
  EXCLUSIVE_ACCESS: 0x3,
  /** Write Exclusive – Registrants Only */
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 0x5,
  /** Exclusive Access – Registrants Only */
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 0x6,
  /** Write Exclusive – All Registrants */
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 0x7,
  /** Exclusive Access – All Registrants */
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 0x8,
} as const;

/** SCSI status codes (SAM-5) that the array returns. */
export const ScsiStatus = {
  /** GOOD: the command completed. */
  GOOD: 0x00,
  /** CHECK CONDITION: sense data describes the failure. */
  CHECK_CONDITION: 0x02,
  /** BUSY (only by fault injection). */
  BUSY: 0x08,
  /** RESERVATION CONFLICT: another initiator holds a reservation. */
  RESERVATION_CONFLICT: 0x18,
  /** TASK SET FULL (only by fault injection). */
  TASK_SET_FULL: 0x28,
  /** TASK ABORTED: the settled answer of a command a PREEMPT AND ABORT aborted (in-process; docs/decisions/persistent-reservations.md). */
  TASK_ABORTED: 0x40,
} as const;

/** One of the {@link ScsiStatus} values. */
export type ScsiStatusCode = (typeof ScsiStatus)[keyof typeof ScsiStatus];

/** VPD page codes (SPC-4 7.8, SBC-3 6.6) that the array serves. */
export const VpdPage = {
  /** Supported VPD Pages */
  SUPPORTED_VPD_PAGES: 0x00,
  /** Unit Serial Number */
  UNIT_SERIAL_NUMBER: 0x80,
  /** Device Identification */
  DEVICE_IDENTIFICATION: 0x83,
  /** Third-party Copy */
  THIRD_PARTY_COPY: 0x8f,
  /** Block Limits (SBC-3) */
  BLOCK_LIMITS: 0xb0,
  /** Block Device Characteristics (SBC-3) */
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  /** Logical Block Provisioning (SBC-3) */
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const;
