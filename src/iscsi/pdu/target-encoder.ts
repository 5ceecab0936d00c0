/**
 * Encoders of the PDUs a target sends (RFC 7143 11): each writes a Basic Header Segment into a new
 * buffer followed by the padded data segment and, when negotiated, the digests.
 * @module
 */
import { writeU16, writeU24, writeU32 } from '../../codec/bytes.js';
export type { Digests } from './assemble.js';
import { assemblePdu, writeLe32, type Digests } from './assemble.js';
import { crc32c } from './crc32c.js';
import { BHS_LENGTH } from './framer.js';
import { TargetOpcode } from './opcodes.js';

/** Fields of a Data-In PDU (RFC 7143 11.7); with `status` set it carries the command's status (phase collapse). */
export interface DataInFields extends Sequence {
  /** F bit: the last PDU of the sequence (or of the command). */
  readonly final: boolean;
  /** Initiator Task Tag of the command. */
  readonly itt: number;
  /** DataSN of this PDU within the command. */
  readonly dataSN: number;
  /** Buffer Offset of this PDU's data. */
  readonly offset: number;
  /** The LUN field of the command (8 bytes). */
  readonly lun: Uint8Array;
  /** The command's SCSI status, on the PDU that carries it (S bit). */
  readonly status?: number;
  /** Residual overflow count (O bit when non-zero; with a status only). */
  readonly overflow: number;
  /** Residual underflow count (U bit when non-zero; with a status only). */
  readonly underflow: number;
}

/** The empty trailer of a Data-In whose data needs no padding and carries no digest. */
const NO_TRAILER = new Uint8Array(0);

/**
 * A Data-In PDU as parts to write in order, without copying the data: the header (with its digest),
 * the data itself, and a trailer (padding and data digest; empty when there is neither), so a large
 * read goes to the socket as is. The parts written one after the other are the bytes of
 * {@link dataIn} for the same fields and data.
 */
export function dataInParts(f: DataInFields, data: Uint8Array, digests: Digests): [header: Uint8Array, data: Uint8Array, trailer: Uint8Array] {
  const head = new Uint8Array(BHS_LENGTH + (digests.header ? 4 : 0));
  head[0] = TargetOpcode.SCSI_DATA_IN;
  writeU24(head, 5, data.length);
  fillDataIn(head, f);
  if (digests.header) writeLe32(head, BHS_LENGTH, crc32c(head.subarray(0, BHS_LENGTH)));
  const pad = ((data.length + 3) & ~3) - data.length;
  const digest = digests.data && data.length > 0;
  if (pad === 0 && !digest) return [head, data, NO_TRAILER];
  const trailer = new Uint8Array(pad + (digest ? 4 : 0));
  if (digest) writeLe32(trailer, pad, crc32c(trailer.subarray(0, pad), crc32c(data)));
  return [head, data, trailer];
}

/** Sequence numbers every target PDU carries. */
export interface Sequence {
  /** StatSN. */
  readonly statSN: number;
  /** ExpCmdSN. */
  readonly expCmdSN: number;
  /** MaxCmdSN. */
  readonly maxCmdSN: number;
}

function sequence(b: Uint8Array, s: Sequence): void {
  writeU32(b, 24, s.statSN >>> 0);
  writeU32(b, 28, s.expCmdSN >>> 0);
  writeU32(b, 32, s.maxCmdSN >>> 0);
}

/** Login Response (RFC 7143 11.13). */
export function loginResponse(
  f: { transit: boolean; csg: number; nsg: number; isid: Uint8Array; tsih: number; itt: number; statusClass: number; statusDetail: number } & Sequence,
  data: Uint8Array,
  digests: Digests,
): Uint8Array {
  return assemblePdu(TargetOpcode.LOGIN_RESPONSE, data, digests, (b) => {
    b[1] = (f.transit ? 0x80 : 0) | ((f.csg & 3) << 2) | (f.transit ? f.nsg & 3 : 0);
    b[2] = 0x00; // Version-max
    b[3] = 0x00; // Version-active
    b.set(f.isid.subarray(0, 6), 8);
    writeU16(b, 14, f.tsih);
    writeU32(b, 16, f.itt);
    sequence(b, f);
    b[36] = f.statusClass;
    b[37] = f.statusDetail;
  });
}

/** Text Response (RFC 7143 11.11). */
export function textResponse(f: { final: boolean; itt: number; ttt: number; lun: Uint8Array } & Sequence, data: Uint8Array, digests: Digests): Uint8Array {
  return assemblePdu(TargetOpcode.TEXT_RESPONSE, data, digests, (b) => {
    b[1] = f.final ? 0x80 : 0x40;
    b.set(f.lun.subarray(0, 8), 8);
    writeU32(b, 16, f.itt);
    writeU32(b, 20, f.ttt);
    sequence(b, f);
  });
}

/** SCSI Response (RFC 7143 11.4): status, residuals, and sense (SenseLength + sense) as data. */
export function scsiResponse(
  f: { itt: number; status: number; response: number; overflow: number; underflow: number; expDataSN: number } & Sequence,
  sense: Uint8Array | undefined,
  digests: Digests,
): Uint8Array {
  let data: Uint8Array | undefined;
  if (sense !== undefined && sense.length > 0) {
    data = new Uint8Array(2 + sense.length);
    writeU16(data, 0, sense.length);
    data.set(sense, 2);
  }
  return assemblePdu(TargetOpcode.SCSI_RESPONSE, data, digests, (b) => {
    b[1] = 0x80 | (f.overflow > 0 ? 0x04 : 0) | (f.underflow > 0 ? 0x02 : 0);
    b[2] = f.response;
    b[3] = f.status;
    writeU32(b, 16, f.itt);
    sequence(b, f);
    writeU32(b, 36, f.expDataSN);
    writeU32(b, 44, f.overflow > 0 ? f.overflow : f.underflow);
  });
}

/** SCSI Data-In (RFC 7143 11.7); with `status` set it carries the command's status (phase collapse). */
export function dataIn(f: DataInFields, data: Uint8Array, digests: Digests): Uint8Array {
  return assemblePdu(TargetOpcode.SCSI_DATA_IN, data, digests, (b) => fillDataIn(b, f));
}

/** The opcode-specific bytes of a Data-In header (RFC 7143 11.7). */
function fillDataIn(b: Uint8Array, f: DataInFields): void {
  const withStatus = f.status !== undefined;
  b[1] = (f.final ? 0x80 : 0) | (withStatus ? 0x01 | (f.overflow > 0 ? 0x04 : 0) | (f.underflow > 0 ? 0x02 : 0) : 0);
  if (withStatus) b[3] = f.status!;
  b.set(f.lun.subarray(0, 8), 8);
  writeU32(b, 16, f.itt);
  writeU32(b, 20, 0xffffffff); // Target Transfer Tag
  if (withStatus) writeU32(b, 24, f.statSN >>> 0);
  writeU32(b, 28, f.expCmdSN >>> 0);
  writeU32(b, 32, f.maxCmdSN >>> 0);
  writeU32(b, 36, f.dataSN);
  writeU32(b, 40, f.offset);
  if (withStatus) writeU32(b, 44, f.overflow > 0 ? f.overflow : f.underflow);
}

/** Ready To Transfer (RFC 7143 11.8). */
export function readyToTransfer(f: { itt: number; ttt: number; lun: Uint8Array; r2tSN: number; offset: number; length: number } & Sequence, digests: Digests): Uint8Array {
  return assemblePdu(TargetOpcode.READY_TO_TRANSFER, undefined, digests, (b) => {
    b[1] = 0x80;
    b.set(f.lun.subarray(0, 8), 8);
    writeU32(b, 16, f.itt);
    writeU32(b, 20, f.ttt);
    sequence(b, f);
    writeU32(b, 36, f.r2tSN);
    writeU32(b, 40, f.offset);
    writeU32(b, 44, f.length);
  });
}

/** NOP-In (RFC 7143 11.19). */
export function nopIn(f: { itt: number; ttt: number; lun: Uint8Array } & Sequence, data: Uint8Array, digests: Digests): Uint8Array {
  return assemblePdu(TargetOpcode.NOP_IN, data, digests, (b) => {
    b[1] = 0x80;
    b.set(f.lun.subarray(0, 8), 8);
    writeU32(b, 16, f.itt);
    writeU32(b, 20, f.ttt);
    sequence(b, f);
  });
}

/** Task Management Function Response (RFC 7143 11.6). */
export function taskManagementResponse(f: { itt: number; response: number } & Sequence, digests: Digests): Uint8Array {
  return assemblePdu(TargetOpcode.TASK_MANAGEMENT_RESPONSE, undefined, digests, (b) => {
    b[1] = 0x80;
    b[2] = f.response;
    writeU32(b, 16, f.itt);
    sequence(b, f);
  });
}

/** Logout Response (RFC 7143 11.15). */
export function logoutResponse(f: { itt: number; response: number } & Sequence, digests: Digests): Uint8Array {
  return assemblePdu(TargetOpcode.LOGOUT_RESPONSE, undefined, digests, (b) => {
    b[1] = 0x80;
    b[2] = f.response;
    writeU32(b, 16, f.itt);
    sequence(b, f);
  });
}

/** Reject (RFC 7143 11.17): the rejected PDU's header is the data. */
export function reject(f: { reason: number } & Sequence, rejectedHeader: Uint8Array, digests: Digests): Uint8Array {
  return assemblePdu(TargetOpcode.REJECT, rejectedHeader.subarray(0, BHS_LENGTH), digests, (b) => {
    b[1] = 0x80;
    b[2] = f.reason;
    writeU32(b, 16, 0xffffffff);
    sequence(b, f);
  });
}
