/**
 * Decoder of the PDUs an initiator sends (RFC 7143 11), as the target receives them: each framed
 * PDU becomes a typed record named after the RFC's fields. Views, not copies: `cdb`, `lun`, `isid`
 * and `data` point into the framed bytes and are valid until the framer's next `push`.
 * @module
 */
import { readU16, readU32 } from '../../codec/bytes.js';
import type { FramedPdu } from './framer.js';
import { checkDigests, type PduDecodeFailure } from './header.js';
import { InitiatorOpcode } from './opcodes.js';

/** Fields every initiator PDU except Data-Out carries. */
interface Ordered {
  /** The I bit: an immediate PDU does not advance CmdSN. */
  readonly immediate: boolean;
  /** Initiator Task Tag. */
  readonly itt: number;
  /** CmdSN. */
  readonly cmdSN: number;
  /** ExpStatSN. */
  readonly expStatSN: number;
}

/** Login Request (RFC 7143 11.12). */
export interface LoginRequestPdu extends Ordered {
  /** Discriminant. */
  readonly kind: 'login';
  /** The T bit: the initiator wants to move to `nsg`. */
  readonly transit: boolean;
  /** The C bit: the text continues in the next PDU. */
  readonly continue: boolean;
  /** Current stage (0 security, 1 operational). */
  readonly csg: number;
  /** Next stage (1 operational, 3 full feature phase), meaningful with `transit`. */
  readonly nsg: number;
  /** Version-max. */
  readonly versionMax: number;
  /** Version-min. */
  readonly versionMin: number;
  /** Initiator Session ID (6 bytes). */
  readonly isid: Uint8Array;
  /** Target Session Identifying Handle (0 for a new session). */
  readonly tsih: number;
  /** Connection ID. */
  readonly cid: number;
  /** Text keys (part of them when `continue`). */
  readonly data: Uint8Array;
}

/** Text Request (RFC 7143 11.10). */
export interface TextRequestPdu extends Ordered {
  /** Discriminant. */
  readonly kind: 'text';
  /** The F bit. */
  readonly final: boolean;
  /** The C bit. */
  readonly continue: boolean;
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Target Transfer Tag. */
  readonly ttt: number;
  /** Text keys. */
  readonly data: Uint8Array;
}

/** SCSI Command (RFC 7143 11.3). */
export interface ScsiCommandPdu extends Ordered {
  /** Discriminant. */
  readonly kind: 'scsi-command';
  /** The F bit: no unsolicited Data-Out follows. */
  readonly final: boolean;
  /** The R bit: the command expects Data-In. */
  readonly read: boolean;
  /** The W bit: the command carries Data-Out. */
  readonly write: boolean;
  /** Task attribute (0 untagged, 1 simple, 2 ordered, 3 head of queue, 4 ACA). */
  readonly attribute: number;
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Expected Data Transfer Length. */
  readonly expectedLength: number;
  /** The CDB (16 bytes; a longer CDB would need an extended-CDB AHS, which this decoder refuses). */
  readonly cdb: Uint8Array;
  /** Immediate data. */
  readonly data: Uint8Array;
}

/** SCSI Data-Out (RFC 7143 11.7). */
export interface DataOutPdu {
  /** Discriminant. */
  readonly kind: 'data-out';
  /** The F bit: the last PDU of a sequence. */
  readonly final: boolean;
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Initiator Task Tag. */
  readonly itt: number;
  /** Target Transfer Tag (the R2T's, or the reserved value for unsolicited data). */
  readonly ttt: number;
  /** ExpStatSN. */
  readonly expStatSN: number;
  /** DataSN. */
  readonly dataSN: number;
  /** Buffer Offset. */
  readonly offset: number;
  /** The data. */
  readonly data: Uint8Array;
}

/** NOP-Out (RFC 7143 11.18). */
export interface NopOutPdu extends Ordered {
  /** Discriminant. */
  readonly kind: 'nop-out';
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Target Transfer Tag (answering a NOP-In when not reserved). */
  readonly ttt: number;
  /** Ping data, echoed in the NOP-In. */
  readonly data: Uint8Array;
}

/** Task Management Function Request (RFC 7143 11.5). */
export interface TaskManagementRequestPdu extends Ordered {
  /** Discriminant. */
  readonly kind: 'task-management';
  /** Function (1 ABORT TASK ... 8 TASK REASSIGN). */
  readonly function: number;
  /** LUN field (8 bytes). */
  readonly lun: Uint8Array;
  /** Referenced Task Tag. */
  readonly referencedItt: number;
  /** RefCmdSN. */
  readonly refCmdSN: number;
  /** ExpDataSN. */
  readonly expDataSN: number;
}

/** Logout Request (RFC 7143 11.14). */
export interface LogoutRequestPdu extends Ordered {
  /** Discriminant. */
  readonly kind: 'logout';
  /** Reason code (0 close the session, 1 the connection, 2 remove the connection for recovery). */
  readonly reason: number;
  /** Connection ID (reasons 1 and 2). */
  readonly cid: number;
}

/** An opcode this decoder does not know (or SNACK, which needs ErrorRecoveryLevel above 0). */
export interface UnsupportedInitiatorPdu {
  /** Discriminant. */
  readonly kind: 'unsupported';
  /** The opcode. */
  readonly opcode: number;
  /** The I bit. */
  readonly immediate: boolean;
  /** CmdSN (bytes 24-27, where the RFC keeps it for every ordered PDU). */
  readonly cmdSN: number;
}

/** A PDU whose fields break the RFC's rules, with the Reject reason a target answers it with. */
export interface InvalidInitiatorPdu {
  /** Discriminant. */
  readonly kind: 'invalid';
  /** The opcode. */
  readonly opcode: number;
  /** What is wrong. */
  readonly reason: string;
}

/** A PDU whose digest failed; `dataOut` is set for a Data-Out whose header is sound. */
export interface CorruptInitiatorPdu {
  /** Discriminant. */
  readonly kind: 'corrupt';
  /** Which digest failed. */
  readonly failure: PduDecodeFailure;
  /** For a data digest failure of a Data-Out: its header, still usable (RFC 7143 7.8). */
  readonly dataOut?: DataOutPdu;
}

/** Any PDU an initiator sends, decoded. */
export type InitiatorPdu =
  | LoginRequestPdu
  | TextRequestPdu
  | ScsiCommandPdu
  | DataOutPdu
  | NopOutPdu
  | TaskManagementRequestPdu
  | LogoutRequestPdu
  | UnsupportedInitiatorPdu
  | InvalidInitiatorPdu
  | CorruptInitiatorPdu;

function ordered(b: Uint8Array): Ordered {
  return { immediate: (b[0]! & 0x40) !== 0, itt: readU32(b, 16), cmdSN: readU32(b, 24), expStatSN: readU32(b, 28) };
}

function dataOut(b: Uint8Array, data: Uint8Array): DataOutPdu {
  return { kind: 'data-out', final: (b[1]! & 0x80) !== 0, lun: b.subarray(8, 16), itt: readU32(b, 16), ttt: readU32(b, 20), expStatSN: readU32(b, 28), dataSN: readU32(b, 36), offset: readU32(b, 40), data };
}

/**
 * Decodes one framed PDU received from an initiator: checks its digests, then its opcode's fields.
 * Never throws; a PDU it cannot accept comes back as `corrupt`, `invalid` or `unsupported`.
 */
export function decodeInitiatorPdu(pdu: FramedPdu): InitiatorPdu {
  const b = pdu.bhs;
  const opcode = b[0]! & 0x3f;
  const failure = checkDigests(pdu);
  if (failure !== undefined) {
    return failure === 'data-digest' && opcode === InitiatorOpcode.SCSI_DATA_OUT ? { kind: 'corrupt', failure, dataOut: dataOut(b, pdu.data) } : { kind: 'corrupt', failure };
  }
  switch (opcode) {
    case InitiatorOpcode.LOGIN_REQUEST: {
      const transit = (b[1]! & 0x80) !== 0;
      const cont = (b[1]! & 0x40) !== 0;
      // RFC 7143 11.12.2: T and C must not both be set.
      if (transit && cont) return { kind: 'invalid', opcode, reason: 'Login Request with both T and C set' };
      return {
        kind: 'login',
        ...ordered(b),
        transit,
        continue: cont,
        csg: (b[1]! >>> 2) & 3,
        nsg: b[1]! & 3,
        versionMax: b[2]!,
        versionMin: b[3]!,
        isid: b.subarray(8, 14),
        tsih: readU16(b, 14),
        cid: readU16(b, 20),
        data: pdu.data,
      };
    }
    case InitiatorOpcode.TEXT_REQUEST: {
      const final = (b[1]! & 0x80) !== 0;
      const cont = (b[1]! & 0x40) !== 0;
      if (final && cont) return { kind: 'invalid', opcode, reason: 'Text Request with both F and C set' };
      return { kind: 'text', ...ordered(b), final, continue: cont, lun: b.subarray(8, 16), ttt: readU32(b, 20), data: pdu.data };
    }
    case InitiatorOpcode.SCSI_COMMAND: {
      if (pdu.ahs.length > 0) return { kind: 'invalid', opcode, reason: 'additional header segments (extended CDB, bidirectional length) are not supported' };
      // Lengths are the target's to judge against the CDB (residuals, RFC 7143 11.4.5), not the decoder's.
      return {
        kind: 'scsi-command',
        ...ordered(b),
        final: (b[1]! & 0x80) !== 0,
        read: (b[1]! & 0x40) !== 0,
        write: (b[1]! & 0x20) !== 0,
        attribute: b[1]! & 7,
        lun: b.subarray(8, 16),
        expectedLength: readU32(b, 20),
        cdb: b.subarray(32, 48),
        data: pdu.data,
      };
    }
    case InitiatorOpcode.SCSI_DATA_OUT:
      return dataOut(b, pdu.data);
    case InitiatorOpcode.NOP_OUT:
      return { kind: 'nop-out', ...ordered(b), lun: b.subarray(8, 16), ttt: readU32(b, 20), data: pdu.data };
    case InitiatorOpcode.TASK_MANAGEMENT_REQUEST:
      return { kind: 'task-management', ...ordered(b), function: b[1]! & 0x7f, lun: b.subarray(8, 16), referencedItt: readU32(b, 20), refCmdSN: readU32(b, 32), expDataSN: readU32(b, 36) };
    case InitiatorOpcode.LOGOUT_REQUEST:
      return { kind: 'logout', ...ordered(b), reason: b[1]! & 0x7f, cid: readU16(b, 20) };
    default:
      return { kind: 'unsupported', opcode, immediate: (b[0]! & 0x40) !== 0, cmdSN: readU32(b, 24) };
  }
}

