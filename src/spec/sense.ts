/**
 * Sense is data: every failure inside the array is one of these typed reasons, and this one table
 * turns a reason into its sense key and ASC/ASCQ (SPC-4 4.5.6, annex D). Sources per row are in
 * docs/decisions/sense.md ("The rows and where each comes from").
 * @module
 */

/** Sense keys (SPC-4 table 27). */
export const SenseKey = {
  /** NO SENSE */
  NO_SENSE: 0x0,
  /** RECOVERED ERROR */
  RECOVERED_ERROR: 0x1,
  /** NOT READY */
  NOT_READY: 0x2,
  /** MEDIUM ERROR */
  MEDIUM_ERROR: 0x3,
  /** HARDWARE ERROR */
  HARDWARE_ERROR: 0x4,
  /** ILLEGAL REQUEST */
  ILLEGAL_REQUEST: 0x5,
  /** UNIT ATTENTION */
  UNIT_ATTENTION: 0x6,
  /** DATA PROTECT */
  DATA_PROTECT: 0x7,
  /** BLANK CHECK */
  BLANK_CHECK: 0x8,
  /** COPY ABORTED */
  COPY_ABORTED: 0xa,
  /** ABORTED COMMAND */
  ABORTED_COMMAND: 0xb,
  /** VOLUME OVERFLOW */
  VOLUME_OVERFLOW: 0xd,
  /** MISCOMPARE */
  MISCOMPARE: 0xe,
} as const;

/** Sense key, ASC and ASCQ of one condition. */
export interface SenseCode {
  /** Sense key (byte 2 bits 3:0 of fixed-format sense). */
  readonly key: number;
  /** ADDITIONAL SENSE CODE (byte 12). */
  readonly asc: number;
  /** ADDITIONAL SENSE CODE QUALIFIER (byte 13). */
  readonly ascq: number;
}

/** The table as written, typed by its own keys: they are the one declaration of the reasons. */
function senseTable<T extends { readonly [name: string]: SenseCode }>(rows: T): { readonly [K in keyof T]: SenseCode } {
  return rows;
}

/**
 * Every condition the array reports: typed reason to sense key and ASC/ASCQ. Handlers return the
 * reasons; this is the one table that turns them into bytes.
 */
export const SENSE_TABLE = senseTable({
  /** NO SENSE */
  NO_SENSE: { key: SenseKey.NO_SENSE, asc: 0x00, ascq: 0x00 },
  /** INVALID COMMAND OPERATION CODE */
  INVALID_COMMAND_OPERATION_CODE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x20, ascq: 0x00 },
  /** INVALID FIELD IN CDB */
  INVALID_FIELD_IN_CDB: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x24, ascq: 0x00 },
  /** INVALID FIELD IN PARAMETER LIST */
  INVALID_FIELD_IN_PARAMETER_LIST: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x00 },
  /** PARAMETER LIST LENGTH ERROR */
  PARAMETER_LIST_LENGTH_ERROR: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x1a, ascq: 0x00 },
  /** LOGICAL BLOCK ADDRESS OUT OF RANGE */
  LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x21, ascq: 0x00 },
  /** TOO MANY TARGET DESCRIPTORS (CSCD descriptors, SPC-4) */
  TOO_MANY_TARGET_DESCRIPTORS: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x06 },
  /** UNSUPPORTED TARGET DESCRIPTOR TYPE CODE */
  UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x07 },
  /** TOO MANY SEGMENT DESCRIPTORS */
  TOO_MANY_SEGMENT_DESCRIPTORS: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x08 },
  /** UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE */
  UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x09 },
  /** INLINE DATA LENGTH EXCEEDED */
  INLINE_DATA_LENGTH_EXCEEDED: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x0b },
  /** SAVING PARAMETERS NOT SUPPORTED */
  SAVING_PARAMETERS_NOT_SUPPORTED: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x39, ascq: 0x00 },
  /** LOGICAL UNIT NOT SUPPORTED */
  LOGICAL_UNIT_NOT_SUPPORTED: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x25, ascq: 0x00 },
  /** COPY ABORTED, no additional sense information (per-segment copy errors, with segment pointer) */
  COPY_ABORTED: { key: SenseKey.COPY_ABORTED, asc: 0x00, ascq: 0x00 },
  /** COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE */
  COPY_TARGET_DEVICE_NOT_REACHABLE: { key: SenseKey.COPY_ABORTED, asc: 0x0d, ascq: 0x02 },
  /** COPY ABORTED, INCORRECT COPY TARGET DEVICE TYPE */
  INCORRECT_COPY_TARGET_DEVICE_TYPE: { key: SenseKey.COPY_ABORTED, asc: 0x0d, ascq: 0x03 },
  /** MISCOMPARE DURING VERIFY OPERATION */
  MISCOMPARE_DURING_VERIFY_OPERATION: { key: SenseKey.MISCOMPARE, asc: 0x1d, ascq: 0x00 },
  /** SPACE ALLOCATION FAILED WRITE PROTECT (thin pool out of space, SBC-3 4.7.3.6) */
  SPACE_ALLOCATION_FAILED_WRITE_PROTECT: { key: SenseKey.DATA_PROTECT, asc: 0x27, ascq: 0x07 },
  /** WRITE PROTECTED (the Control mode page's SWP is one, SPC-5 7.5.10) */
  WRITE_PROTECTED: { key: SenseKey.DATA_PROTECT, asc: 0x27, ascq: 0x00 },
  /** MODE PARAMETERS CHANGED (unit attention to the other I_T nexuses after a MODE SELECT, SPC-5 6.13) */
  MODE_PARAMETERS_CHANGED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x01 },
  /** THIN PROVISIONING SOFT THRESHOLD REACHED (unit attention) */
  THIN_PROVISIONING_SOFT_THRESHOLD_REACHED: { key: SenseKey.UNIT_ATTENTION, asc: 0x38, ascq: 0x07 },
  /** CAPACITY DATA HAS CHANGED (unit attention) */
  CAPACITY_DATA_HAS_CHANGED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x09 },
  /** POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (unit attention) */
  POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x00 },
  /** BUS DEVICE RESET FUNCTION OCCURRED (unit attention after a LOGICAL UNIT RESET) */
  BUS_DEVICE_RESET_FUNCTION_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x03 },
  /** I_T NEXUS LOSS OCCURRED (unit attention of a nexus that was lost and continues: iSCSI session reinstatement) */
  I_T_NEXUS_LOSS_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x07 },
  /** COMMANDS CLEARED BY ANOTHER INITIATOR (unit attention) */
  COMMANDS_CLEARED_BY_ANOTHER_INITIATOR: { key: SenseKey.UNIT_ATTENTION, asc: 0x2f, ascq: 0x00 },
  /** LOGICAL UNIT COMMUNICATION FAILURE */
  LOGICAL_UNIT_COMMUNICATION_FAILURE: { key: SenseKey.ABORTED_COMMAND, asc: 0x08, ascq: 0x00 },
  /** LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS (SBC-4 4.11.1; with the progress indication in the sense-key specific field) */
  SANITIZE_IN_PROGRESS: { key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x1b },
  /** SANITIZE COMMAND FAILED (medium error: a media access in sanitize failure mode, SBC-4 4.11.3) */
  SANITIZE_COMMAND_FAILED: { key: SenseKey.MEDIUM_ERROR, asc: 0x31, ascq: 0x03 },
  /** LOGICAL UNIT NOT ACCESSIBLE, ASYMMETRIC ACCESS STATE TRANSITION (a target port in the transitioning state, SPC-4 5.16.2.4.5) */
  ASYMMETRIC_ACCESS_STATE_TRANSITION: { key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x0a },
  /** LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE (SPC-4 5.16.2.4.3) */
  TARGET_PORT_IN_STANDBY_STATE: { key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x0b },
  /** LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE (SPC-4 5.16.2.4.4) */
  TARGET_PORT_IN_UNAVAILABLE_STATE: { key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x0c },
  /** LOGICAL UNIT NOT READY, OFFLINE (a target port in the offline state; LIO's TCM_ALUA_OFFLINE) */
  LOGICAL_UNIT_OFFLINE: { key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x12 },
  /** ASYMMETRIC ACCESS STATE CHANGED (unit attention after an asymmetric access state change, SPC-4 5.16.2.6) */
  ASYMMETRIC_ACCESS_STATE_CHANGED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x06 },
  /** RESERVATIONS PREEMPTED (unit attention: CLEAR, or a PREEMPT that changed the reservation, SPC-4 5.13.11) */
  RESERVATIONS_PREEMPTED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x03 },
  /** RESERVATIONS RELEASED (unit attention: a registrants-only or all-registrants reservation released, SPC-4 5.13.10) */
  RESERVATIONS_RELEASED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x04 },
  /** REGISTRATIONS PREEMPTED (unit attention: this nexus's registration was removed by PREEMPT, SPC-4 5.13.11.2) */
  REGISTRATIONS_PREEMPTED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x05 },
  /** INVALID RELEASE OF PERSISTENT RESERVATION (RELEASE by the holder with another TYPE or SCOPE, SPC-4 5.13.10) */
  INVALID_RELEASE_OF_PERSISTENT_RESERVATION: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x04 },
  /** WRITE ERROR (medium error) */
  WRITE_ERROR: { key: SenseKey.MEDIUM_ERROR, asc: 0x0c, ascq: 0x00 },
  /** UNRECOVERED READ ERROR (medium error) */
  UNRECOVERED_READ_ERROR: { key: SenseKey.MEDIUM_ERROR, asc: 0x11, ascq: 0x00 },
  /** INTERNAL TARGET FAILURE (hardware error) */
  INTERNAL_TARGET_FAILURE: { key: SenseKey.HARDWARE_ERROR, asc: 0x44, ascq: 0x00 },
  /**
   * PROTOCOL SERVICE CRC ERROR (aborted command): the iSCSI target discarded Data-Out with a data
   * digest error (RFC 7143 11.4.7.2; SPC-4 annex D, 47h/05h).
   */
  PROTOCOL_SERVICE_CRC_ERROR: { key: SenseKey.ABORTED_COMMAND, asc: 0x47, ascq: 0x05 },
  /**
   * INVALID FIELD IN INFORMATION UNIT (illegal request): the transport's expected transfer length is
   * shorter than the Data-Out the CDB implies (RFC 7143 11.4.5.1 residual overflow; FCP-4 9.4.2 b),
   * SPC-5 annex D, 0Eh/03h.
   */
  INVALID_FIELD_IN_INFORMATION_UNIT: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x0e, ascq: 0x03 },
  /** DATA OFFSET ERROR (aborted command): a Data-Out's Buffer Offset is not where its data must go (SPC-5 annex D, 4Bh/05h). */
  DATA_OFFSET_ERROR: { key: SenseKey.ABORTED_COMMAND, asc: 0x4b, ascq: 0x05 },
});

/**
 * A typed sense reason: the key of one row of {@link SENSE_TABLE}, named after its T10 description.
 * Derived from the table's keys, so a reason is declared once.
 */
export type SenseReason = keyof typeof SENSE_TABLE;

/** True when `value` names a row of {@link SENSE_TABLE}. */
export function isSenseReason(value: unknown): value is SenseReason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SENSE_TABLE, value);
}
