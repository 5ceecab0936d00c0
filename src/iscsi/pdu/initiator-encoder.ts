/**
 * Encoders of the PDUs an initiator sends (RFC 7143 11): Login, Text, SCSI Command, Data-Out,
 * NOP-Out, Task Management and Logout requests.
 * @module
 */
import { writeU16, writeU32 } from '../../codec/bytes.js';
import { assemblePdu, type Digests } from './assemble.js';
import { InitiatorOpcode } from './opcodes.js';

/** Single-level LUN field (SAM-5 4.7.7). */
export function lunField(lun: number): Uint8Array {
  const f = new Uint8Array(8);
  if (lun < 256) f[1] = lun;
  else {
    f[0] = 0x40 | ((lun >>> 8) & 0x3f);
    f[1] = lun & 0xff;
  }
  return f;
}

/** Login Request (RFC 7143 11.12). */
export function loginRequest(f: { transit: boolean; csg: number; nsg: number; isid: Uint8Array; tsih: number; itt: number; cid: number; cmdSN: number; expStatSN: number }, data: Uint8Array): Uint8Array {
  return assemblePdu(0x40 | InitiatorOpcode.LOGIN_REQUEST, data, { header: false, data: false }, (b) => {
    b[1] = (f.transit ? 0x80 : 0) | ((f.csg & 3) << 2) | (f.transit ? f.nsg & 3 : 0);
    b.set(f.isid, 8);
    writeU16(b, 14, f.tsih);
    writeU32(b, 16, f.itt);
    writeU16(b, 20, f.cid);
    writeU32(b, 24, f.cmdSN);
    writeU32(b, 28, f.expStatSN);
  });
}

/** SCSI Command (RFC 7143 11.3) with up to 16 bytes of CDB and immediate data. */
export function scsiCommand(
  f: { read: boolean; write: boolean; final: boolean; lun: Uint8Array; itt: number; expectedLength: number; cmdSN: number; expStatSN: number; cdb: Uint8Array },
  immediate: Uint8Array | undefined,
  digests: Digests,
): Uint8Array {
  return assemblePdu(InitiatorOpcode.SCSI_COMMAND, immediate, digests, (b) => {
    b[1] = (f.final ? 0x80 : 0) | (f.read ? 0x40 : 0) | (f.write ? 0x20 : 0) | 0x01; // ATTR: SIMPLE
    b.set(f.lun, 8);
    writeU32(b, 16, f.itt);
    writeU32(b, 20, f.expectedLength);
    writeU32(b, 24, f.cmdSN);
    writeU32(b, 28, f.expStatSN);
    b.set(f.cdb.subarray(0, 16), 32);
  });
}

/** SCSI Data-Out (RFC 7143 11.7). */
export function dataOut(f: { final: boolean; lun: Uint8Array; itt: number; ttt: number; expStatSN: number; dataSN: number; offset: number }, data: Uint8Array, digests: Digests): Uint8Array {
  return assemblePdu(InitiatorOpcode.SCSI_DATA_OUT, data, digests, (b) => {
    b[1] = f.final ? 0x80 : 0;
    b.set(f.lun, 8);
    writeU32(b, 16, f.itt);
    writeU32(b, 20, f.ttt);
    writeU32(b, 28, f.expStatSN);
    writeU32(b, 36, f.dataSN);
    writeU32(b, 40, f.offset);
  });
}

/** NOP-Out (RFC 7143 11.18). */
export function nopOut(f: { itt: number; ttt: number; cmdSN: number; expStatSN: number; immediate: boolean }, data: Uint8Array, digests: Digests): Uint8Array {
  return assemblePdu((f.immediate ? 0x40 : 0) | InitiatorOpcode.NOP_OUT, data, digests, (b) => {
    b[1] = 0x80;
    writeU32(b, 16, f.itt);
    writeU32(b, 20, f.ttt);
    writeU32(b, 24, f.cmdSN);
    writeU32(b, 28, f.expStatSN);
  });
}

/** Logout Request (RFC 7143 11.14), reason 0: close the session. */
export function logoutRequest(f: { itt: number; cmdSN: number; expStatSN: number }, digests: Digests): Uint8Array {
  return assemblePdu(0x40 | InitiatorOpcode.LOGOUT_REQUEST, undefined, digests, (b) => {
    b[1] = 0x80;
    writeU32(b, 16, f.itt);
    writeU32(b, 24, f.cmdSN);
    writeU32(b, 28, f.expStatSN);
  });
}

/** Task Management Function Request (RFC 7143 11.5). */
export function taskManagementRequest(f: { fn: number; lun: Uint8Array; itt: number; referencedItt: number; cmdSN: number; expStatSN: number }, digests: Digests): Uint8Array {
  return assemblePdu(0x40 | InitiatorOpcode.TASK_MANAGEMENT_REQUEST, undefined, digests, (b) => {
    b[1] = 0x80 | (f.fn & 0x7f);
    b.set(f.lun, 8);
    writeU32(b, 16, f.itt);
    writeU32(b, 20, f.referencedItt);
    writeU32(b, 24, f.cmdSN);
    writeU32(b, 28, f.expStatSN);
  });
}
