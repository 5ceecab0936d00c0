/**
 * Decoder of the PDUs a target sends (RFC 7143 11), as the initiator receives them: each framed
 * PDU becomes a typed record named after the RFC's fields. `data` and `sense` are views into the
 * framed bytes, valid until the framer's next `push`.
 * @module
 */
import { readU16, readU32 } from '../../codec/bytes.js';
import type { FramedPdu } from './framer.js';
import { checkDigests, type PduDecodeFailure } from './header.js';
import { TargetOpcode } from './opcodes.js';

/** StatSN, ExpCmdSN and MaxCmdSN, which every target PDU carries (StatSN only where it has status). */
export interface TargetSequence {
  /** StatSN. */
  readonly statSN: number;
  /** ExpCmdSN. */
  readonly expCmdSN: number;
  /** MaxCmdSN. */
  readonly maxCmdSN: number;
}

/** Login Response (RFC 7143 11.13). */
export interface LoginResponsePdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'login-response';
  /** The T bit. */
  readonly transit: boolean;
  /** The C bit. */
  readonly continue: boolean;
  /** Current stage. */
  readonly csg: number;
  /** Next stage. */
  readonly nsg: number;
  /** Version-max. */
  readonly versionMax: number;
  /** Version-active. */
  readonly versionActive: number;
  /** ISID (6 bytes). */
  readonly isid: Uint8Array;
  /** TSIH (set on the final response). */
  readonly tsih: number;
  /** Initiator Task Tag. */
  readonly itt: number;
  /** Status-Class (0 success, 1 redirection, 2 initiator error, 3 target error). */
  readonly statusClass: number;
  /** Status-Detail. */
  readonly statusDetail: number;
  /** Text keys. */
  readonly data: Uint8Array;
}

/** Text Response (RFC 7143 11.11). */
export interface TextResponsePdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'text-response';
  /** The F bit. */
  readonly final: boolean;
  /** The C bit. */
  readonly continue: boolean;
  /** Initiator Task Tag. */
  readonly itt: number;
  /** Target Transfer Tag. */
  readonly ttt: number;
  /** Text keys. */
  readonly data: Uint8Array;
}

/** Residual counts (RFC 7143 11.4.5). */
export interface Residual {
  /** The O bit: the command wanted to move more than the Expected Data Transfer Length. */
  readonly overflow: boolean;
  /** The U bit: it moved less. */
  readonly underflow: boolean;
  /** Residual Count. */
  readonly residualCount: number;
}

/** SCSI Response (RFC 7143 11.4). */
export interface ScsiResponsePdu extends TargetSequence, Residual {
  /** Discriminant. */
  readonly kind: 'scsi-response';
  /** Initiator Task Tag. */
  readonly itt: number;
  /** iSCSI Response (0 Command Completed at Target). */
  readonly response: number;
  /** SCSI status. */
  readonly status: number;
  /** ExpDataSN. */
  readonly expDataSN: number;
  /** The sense data (without its 2-byte SenseLength), when any. */
  readonly sense: Uint8Array | undefined;
}

/** SCSI Data-In (RFC 7143 11.7). */
export interface DataInPdu extends TargetSequence, Residual {
  /** Discriminant. */
  readonly kind: 'data-in';
  /** The F bit. */
  readonly final: boolean;
  /** The A bit (acknowledge request, ERL above 0). */
  readonly acknowledge: boolean;
  /** The S bit: this PDU carries the command's status (phase collapse). */
  readonly hasStatus: boolean;
  /** SCSI status, meaningful when `hasStatus`. */
  readonly status: number;
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Initiator Task Tag. */
  readonly itt: number;
  /** Target Transfer Tag. */
  readonly ttt: number;
  /** DataSN. */
  readonly dataSN: number;
  /** Buffer Offset. */
  readonly offset: number;
  /** The data. */
  readonly data: Uint8Array;
}

/** Ready To Transfer (RFC 7143 11.8). */
export interface ReadyToTransferPdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'r2t';
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Initiator Task Tag. */
  readonly itt: number;
  /** Target Transfer Tag, to put in the Data-Out PDUs that answer it. */
  readonly ttt: number;
  /** R2TSN. */
  readonly r2tSN: number;
  /** Buffer Offset. */
  readonly offset: number;
  /** Desired Data Transfer Length. */
  readonly length: number;
}

/** NOP-In (RFC 7143 11.19). */
export interface NopInPdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'nop-in';
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Initiator Task Tag (reserved when the target pings). */
  readonly itt: number;
  /** Target Transfer Tag (not reserved: the target wants a NOP-Out back). */
  readonly ttt: number;
  /** Ping data. */
  readonly data: Uint8Array;
}

/** Task Management Function Response (RFC 7143 11.6). */
export interface TaskManagementResponsePdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'task-management-response';
  /** Response (0 function complete, 1 task does not exist, ...). */
  readonly response: number;
  /** Initiator Task Tag. */
  readonly itt: number;
}

/** Logout Response (RFC 7143 11.15). */
export interface LogoutResponsePdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'logout-response';
  /** Response (0 closed successfully). */
  readonly response: number;
  /** Initiator Task Tag. */
  readonly itt: number;
  /** Time2Wait. */
  readonly time2Wait: number;
  /** Time2Retain. */
  readonly time2Retain: number;
}

/** Reject (RFC 7143 11.17). */
export interface RejectPdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'reject';
  /** Reason (see `RejectReason`). */
  readonly reason: number;
  /** The header of the rejected PDU. */
  readonly rejectedHeader: Uint8Array;
}

/** Asynchronous Message (RFC 7143 11.9). */
export interface AsyncMessagePdu extends TargetSequence {
  /** Discriminant. */
  readonly kind: 'async-message';
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** AsyncEvent (0 SCSI event, 1 logout request, 2 connection drop, ...). */
  readonly asyncEvent: number;
  /** AsyncVCode. */
  readonly asyncVCode: number;
  /** Parameter1..3. */
  readonly parameters: readonly [number, number, number];
  /** Sense data or iSCSI event data. */
  readonly data: Uint8Array;
}

/** An opcode this decoder does not know. */
export interface UnsupportedTargetPdu {
  /** Discriminant. */
  readonly kind: 'unsupported';
  /** The opcode. */
  readonly opcode: number;
}

/** A PDU whose fields break the RFC's rules. */
export interface InvalidTargetPdu {
  /** Discriminant. */
  readonly kind: 'invalid';
  /** The opcode. */
  readonly opcode: number;
  /** What is wrong. */
  readonly reason: string;
}

/** A PDU whose digest failed. */
export interface CorruptTargetPdu {
  /** Discriminant. */
  readonly kind: 'corrupt';
  /** Which digest failed. */
  readonly failure: PduDecodeFailure;
}

/** Any PDU a target sends, decoded. */
export type TargetPdu =
  | LoginResponsePdu
  | TextResponsePdu
  | ScsiResponsePdu
  | DataInPdu
  | ReadyToTransferPdu
  | NopInPdu
  | TaskManagementResponsePdu
  | LogoutResponsePdu
  | RejectPdu
  | AsyncMessagePdu
  | UnsupportedTargetPdu
  | InvalidTargetPdu
  | CorruptTargetPdu;

function sequence(b: Uint8Array): TargetSequence {
  return { statSN: readU32(b, 24), expCmdSN: readU32(b, 28), maxCmdSN: readU32(b, 32) };
}

function residual(b: Uint8Array): Residual {
  return { overflow: (b[1]! & 0x04) !== 0, underflow: (b[1]! & 0x02) !== 0, residualCount: readU32(b, 44) };
}

/**
 * Decodes one framed PDU received from a target: checks its digests, then its opcode's fields.
 * Never throws; a PDU it cannot accept comes back as `corrupt`, `invalid` or `unsupported`.
 */
export function decodeTargetPdu(pdu: FramedPdu): TargetPdu {
  const failure = checkDigests(pdu);
  if (failure !== undefined) return { kind: 'corrupt', failure };
  const b = pdu.bhs;
  const opcode = b[0]! & 0x3f;
  switch (opcode) {
    case TargetOpcode.LOGIN_RESPONSE:
      return {
        kind: 'login-response',
        ...sequence(b),
        transit: (b[1]! & 0x80) !== 0,
        continue: (b[1]! & 0x40) !== 0,
        csg: (b[1]! >>> 2) & 3,
        nsg: b[1]! & 3,
        versionMax: b[2]!,
        versionActive: b[3]!,
        isid: b.subarray(8, 14),
        tsih: readU16(b, 14),
        itt: readU32(b, 16),
        statusClass: b[36]!,
        statusDetail: b[37]!,
        data: pdu.data,
      };
    case TargetOpcode.TEXT_RESPONSE:
      return { kind: 'text-response', ...sequence(b), final: (b[1]! & 0x80) !== 0, continue: (b[1]! & 0x40) !== 0, itt: readU32(b, 16), ttt: readU32(b, 20), data: pdu.data };
    case TargetOpcode.SCSI_RESPONSE: {
      let sense: Uint8Array | undefined;
      if (pdu.data.length > 0) {
        // RFC 7143 11.4.7: SenseLength, then the sense data.
        if (pdu.data.length < 2) return { kind: 'invalid', opcode, reason: 'SCSI Response data shorter than its SenseLength field' };
        const senseLength = readU16(pdu.data, 0);
        if (senseLength + 2 > pdu.data.length) return { kind: 'invalid', opcode, reason: `SenseLength ${senseLength} exceeds the data segment` };
        if (senseLength > 0) sense = pdu.data.subarray(2, 2 + senseLength);
      }
      return { kind: 'scsi-response', ...sequence(b), ...residual(b), itt: readU32(b, 16), response: b[2]!, status: b[3]!, expDataSN: readU32(b, 36), sense };
    }
    case TargetOpcode.SCSI_DATA_IN: {
      const hasStatus = (b[1]! & 0x01) !== 0;
      // RFC 7143 11.7.2: S may be set only together with F.
      if (hasStatus && (b[1]! & 0x80) === 0) return { kind: 'invalid', opcode, reason: 'Data-In with S set and F clear' };
      return {
        kind: 'data-in',
        ...sequence(b),
        ...residual(b),
        final: (b[1]! & 0x80) !== 0,
        acknowledge: (b[1]! & 0x40) !== 0,
        hasStatus,
        status: b[3]!,
        lun: b.subarray(8, 16),
        itt: readU32(b, 16),
        ttt: readU32(b, 20),
        dataSN: readU32(b, 36),
        offset: readU32(b, 40),
        data: pdu.data,
      };
    }
    case TargetOpcode.READY_TO_TRANSFER:
      return { kind: 'r2t', ...sequence(b), lun: b.subarray(8, 16), itt: readU32(b, 16), ttt: readU32(b, 20), r2tSN: readU32(b, 36), offset: readU32(b, 40), length: readU32(b, 44) };
    case TargetOpcode.NOP_IN:
      return { kind: 'nop-in', ...sequence(b), lun: b.subarray(8, 16), itt: readU32(b, 16), ttt: readU32(b, 20), data: pdu.data };
    case TargetOpcode.TASK_MANAGEMENT_RESPONSE:
      return { kind: 'task-management-response', ...sequence(b), response: b[2]!, itt: readU32(b, 16) };
    case TargetOpcode.LOGOUT_RESPONSE:
      return { kind: 'logout-response', ...sequence(b), response: b[2]!, itt: readU32(b, 16), time2Wait: readU16(b, 40), time2Retain: readU16(b, 42) };
    case TargetOpcode.REJECT:
      return { kind: 'reject', ...sequence(b), reason: b[2]!, rejectedHeader: pdu.data };
    case TargetOpcode.ASYNC_MESSAGE:
      return {
        kind: 'async-message',
        ...sequence(b),
        lun: b.subarray(8, 16),
        asyncEvent: b[36]!,
        asyncVCode: b[37]!,
        parameters: [readU16(b, 38), readU16(b, 40), readU16(b, 42)],
        data: pdu.data,
      };
    default:
      return { kind: 'unsupported', opcode };
  }
}
