/**
 * TEST UNIT READY, REQUEST SENSE, REPORT LUNS and SCSI-2 RESERVE/RELEASE(6)/(10) (SPC-4 6.36, 6.29,
 * 6.33; SPC-2 7.21-7.24). RESERVE/RELEASE is the whole-LUN locking path that ATS replaces: while one
 * initiator holds the reservation, every other initiator's media commands get RESERVATION CONFLICT.
 * @module
 */
import { readU32, truncate, writeU32 } from '../../codec/bytes.js';
import { encodeSense } from '../../codec/sense-encoder.js';
import { Opcode, ScsiStatus } from '../../spec/opcodes.js';
import { NO_DATA, defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, invalidCdbField, withData, type Failure, type Outcome, type ScsiResult } from '../outcome.js';
import { isRegistrantsType } from '../pr/state.js';

interface AllocationCommand extends Decoded {
  readonly allocationLength: number;
}

interface RequestSenseCommand extends AllocationCommand {
  /** DESC: descriptor-format sense data asked for (SPC-5 6.39). */
  readonly descriptor: boolean;
}

interface ReportLunsCommand extends AllocationCommand {
  readonly selectReport: number;
}

function requestSense(cmd: RequestSenseCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  // A LUN the initiator may not access answers with LOGICAL UNIT NOT SUPPORTED as sense data
  // (SAM-5 5.9.4); otherwise a pending unit attention is returned and cleared (SPC-4 6.29). The
  // format is the one DESC asks for, whatever D_SENSE says (SPC-5 6.39).
  const reason = !ctx.lun.accessibleBy(ctx.itNexus) ? 'LOGICAL_UNIT_NOT_SUPPORTED' : ctx.nexus.unitAttentions.shift();
  // No unit attention and a sanitize in progress: its NOT READY sense, with the progress (SPC-5 6.39, SBC-4 4.11.1).
  const sanitizing = reason === undefined && ctx.lun.sanitizeState.inProgress ? ctx.lun.sanitizeState.inProgressSense() : undefined;
  if (sanitizing !== undefined) return withData(truncate(encodeSense(cmd.descriptor ? 'descriptor' : 'fixed', sanitizing.fail, sanitizing.details), cmd.allocationLength));
  const data = encodeSense(cmd.descriptor ? 'descriptor' : 'fixed', reason ?? 'NO_SENSE');
  return withData(truncate(data, cmd.allocationLength));
}

/** Single-level LUN (SAM-5 4.7.7): peripheral addressing below 256, flat space addressing above. */
export function encodeLun(id: number, into: Uint8Array, at: number): void {
  if (id < 256) {
    into[at] = 0x00;
    into[at + 1] = id;
  } else {
    into[at] = 0x40 | ((id >>> 8) & 0x3f);
    into[at + 1] = id & 0xff;
  }
}

function reportLuns(cmd: ReportLunsCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  // SELECT REPORT 01h asks for well-known LUNs only, and the array has none.
  const ids = cmd.selectReport === 0x01 ? [] : ctx.array.visibleLunIds(ctx.itNexus);
  const data = new Uint8Array(8 + 8 * ids.length);
  writeU32(data, 0, 8 * ids.length); // LUN LIST LENGTH
  ids.forEach((id, i) => encodeLun(id, data, 8 + 8 * i));
  return withData(truncate(data, cmd.allocationLength));
}

/**
 * RESERVE and RELEASE beside persistent reservations (SPC-4 5.13.3, CRH = 1): from a holder of the
 * persistent reservation, or from a registered nexus under a registrants-only or all-registrants
 * type, GOOD with no effect (`'ignored'`); otherwise, while any I_T nexus is registered, RESERVATION
 * CONFLICT (SPC-2 5.5.1). Without registrations, `undefined`: SPC-2 applies.
 */
function persistentInterplay(ctx: CommandContext): 'ignored' | typeof CONFLICT | undefined {
  const pr = ctx.lun.persistentReservations;
  if (pr.registrations.length === 0) return undefined;
  const reg = pr.registrationOf(ctx.itNexus);
  if (reg !== undefined && (pr.isHolder(reg) || (pr.reservation !== undefined && isRegistrantsType(pr.reservation.type)))) return 'ignored';
  return CONFLICT;
}

const CONFLICT: ScsiResult = Object.freeze({ status: ScsiStatus.RESERVATION_CONFLICT });

function reserve(_cmd: Decoded, _d: Uint8Array, ctx: CommandContext): Outcome {
  const pr = persistentInterplay(ctx);
  if (pr !== undefined) return pr === 'ignored' ? GOOD : pr;
  // A conflicting holder was already answered with RESERVATION CONFLICT by the dispatcher.
  ctx.lun.reservation = ctx.itNexus;
  return GOOD;
}

function release(_cmd: Decoded, _d: Uint8Array, ctx: CommandContext): Outcome {
  const pr = persistentInterplay(ctx);
  if (pr !== undefined) return pr === 'ignored' ? GOOD : pr;
  // RELEASE from a non-holder is GOOD and changes nothing (SPC-2 7.21.2).
  if (ctx.lun.reservation?.key === ctx.itNexus.key) ctx.lun.reservation = undefined;
  return GOOD;
}

/** RESERVE/RELEASE(6): byte 1 bit 0 was EXTENT (obsolete): extent reservations are not supported. */
function decodeReserve6(cdb: Uint8Array): Decoded | Failure {
  if ((cdb[1]! & 0x01) !== 0) return invalidCdbField(1, 0);
  return NO_DATA;
}

/** RESERVE/RELEASE(10): byte 1 bit 4 3RDPTY, bit 1 LONGID: third-party reservations are not supported. */
function decodeReserve10(cdb: Uint8Array): Decoded | Failure {
  if ((cdb[1]! & 0x10) !== 0) return invalidCdbField(1, 4);
  if ((cdb[1]! & 0x02) !== 0) return invalidCdbField(1, 1);
  return NO_DATA;
}

/** @internal */
export const BASIC_COMMANDS: readonly CommandSpec[] = [
  defineCommand<Decoded>({
    opcode: Opcode.TEST_UNIT_READY,
    name: 'TEST UNIT READY',
    reservationAccess: 'allowed',
    cdbLength: 6,
    usage: [Opcode.TEST_UNIT_READY, 0, 0, 0, 0, 0],
    decode: () => NO_DATA,
    execute: () => GOOD,
  }),
  defineCommand<RequestSenseCommand>({
    opcode: Opcode.REQUEST_SENSE,
    name: 'REQUEST SENSE',
    reservationAccess: 'allowed',
    cdbLength: 6,
    usage: [Opcode.REQUEST_SENSE, 0x01, 0, 0, 0xff, 0],
    allowedUnderReservation: true,
    ignoresUnitAttention: true,
    decode: (cdb) => ({ dataOutLength: 0, allocationLength: cdb[4]!, descriptor: (cdb[1]! & 0x01) !== 0 }),
    execute: requestSense,
  }),
  defineCommand<ReportLunsCommand>({
    opcode: Opcode.REPORT_LUNS,
    name: 'REPORT LUNS',
    reservationAccess: 'allowed',
    cdbLength: 12,
    usage: [Opcode.REPORT_LUNS, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0],
    allowedUnderReservation: true,
    ignoresUnitAttention: true,
    decode: (cdb) => {
      const selectReport = cdb[2]!;
      if (selectReport > 0x02) return invalidCdbField(2);
      const allocationLength = readU32(cdb, 6);
      if (allocationLength < 16) return invalidCdbField(6); // SPC-4 6.33: at least 16 bytes
      return { dataOutLength: 0, allocationLength, selectReport };
    },
    execute: reportLuns,
  }),
  defineCommand<Decoded>({
    opcode: Opcode.RESERVE_6,
    name: 'RESERVE(6)',
    reservationAccess: 'allowed',
    cdbLength: 6,
    usage: [Opcode.RESERVE_6, 0x01, 0, 0, 0, 0],
    decode: decodeReserve6,
    execute: reserve,
  }),
  defineCommand<Decoded>({
    opcode: Opcode.RELEASE_6,
    name: 'RELEASE(6)',
    reservationAccess: 'allowed',
    cdbLength: 6,
    usage: [Opcode.RELEASE_6, 0x01, 0, 0, 0, 0],
    allowedUnderReservation: true,
    decode: decodeReserve6,
    execute: release,
  }),
  defineCommand<Decoded>({
    opcode: Opcode.RESERVE_10,
    name: 'RESERVE(10)',
    reservationAccess: 'allowed',
    cdbLength: 10,
    usage: [Opcode.RESERVE_10, 0x12, 0, 0, 0, 0, 0, 0, 0, 0],
    decode: decodeReserve10,
    execute: reserve,
  }),
  defineCommand<Decoded>({
    opcode: Opcode.RELEASE_10,
    name: 'RELEASE(10)',
    reservationAccess: 'allowed',
    cdbLength: 10,
    usage: [Opcode.RELEASE_10, 0x12, 0, 0, 0, 0, 0, 0, 0, 0],
    allowedUnderReservation: true,
    decode: decodeReserve10,
    execute: release,
  }),
];

