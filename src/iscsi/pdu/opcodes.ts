/**
 * iSCSI opcodes and header fields (RFC 7143 11), named as in the RFC.
 * @module
 */

/** Initiator opcodes (RFC 7143 11.1.1). */
export const InitiatorOpcode = {
  /** NOP OUT */
  NOP_OUT: 0x00,
  /** SCSI COMMAND */
  SCSI_COMMAND: 0x01,
  /** TASK MANAGEMENT REQUEST */
  TASK_MANAGEMENT_REQUEST: 0x02,
  /** LOGIN REQUEST */
  LOGIN_REQUEST: 0x03,
  /** TEXT REQUEST */
  TEXT_REQUEST: 0x04,
  /** SCSI DATA OUT */
  SCSI_DATA_OUT: 0x05,
  /** LOGOUT REQUEST */
  LOGOUT_REQUEST: 0x06,
  /** SNACK REQUEST */
  SNACK_REQUEST: 0x10,
} as const;

/** Target opcodes (RFC 7143 11.1.1). */
export const TargetOpcode = {
  /** NOP IN */
  NOP_IN: 0x20,
  /** SCSI RESPONSE */
  SCSI_RESPONSE: 0x21,
  /** TASK MANAGEMENT RESPONSE */
  TASK_MANAGEMENT_RESPONSE: 0x22,
  /** LOGIN RESPONSE */
  LOGIN_RESPONSE: 0x23,
  /** TEXT RESPONSE */
  TEXT_RESPONSE: 0x24,
  /** SCSI DATA IN */
  SCSI_DATA_IN: 0x25,
  /** LOGOUT RESPONSE */
  LOGOUT_RESPONSE: 0x26,
  /** READY TO TRANSFER */
  READY_TO_TRANSFER: 0x31,
  /** ASYNC MESSAGE */
  ASYNC_MESSAGE: 0x32,
  /** REJECT */
  REJECT: 0x3f,
} as const;

/** Reject reasons (RFC 7143 11.17.1). */
export const RejectReason = {
  /** DATA DIGEST ERROR */
  DATA_DIGEST_ERROR: 0x02,
  /** SNACK REJECT */
  SNACK_REJECT: 0x03,
  /** PROTOCOL ERROR */
  PROTOCOL_ERROR: 0x04,
  /** COMMAND NOT SUPPORTED */
  COMMAND_NOT_SUPPORTED: 0x05,
  /** IMMEDIATE COMMAND REJECT */
  IMMEDIATE_COMMAND_REJECT: 0x06,
  /** TASK IN PROGRESS */
  TASK_IN_PROGRESS: 0x07,
  /** INVALID DATA ACK */
  INVALID_DATA_ACK: 0x08,
  /** INVALID PDU FIELD */
  INVALID_PDU_FIELD: 0x09,
  /** LONG OPERATION REJECT */
  LONG_OPERATION_REJECT: 0x0a,
  /** WAITING FOR LOGOUT */
  WAITING_FOR_LOGOUT: 0x0c,
} as const;

/** The reserved Initiator Task Tag / Target Transfer Tag value. */
export const RESERVED_TAG = 0xffffffff;
