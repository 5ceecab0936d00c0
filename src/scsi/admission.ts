/**
 * The one admission path: what is checked for every logical unit a command touches before the
 * command may act on it. The dispatcher calls {@link admitAddressed} for the LUN a command is sent
 * to; the EXTENDED COPY copy manager calls {@link admitTouched} for each source and destination
 * LUN of each segment; every block command's LBA range goes through {@link checkLbaRange}.
 *
 * Unit attentions on the LUNs a copy touches besides the one it was sent to are **left pending**:
 * SAM-5 5.14 (and SPC-4 5.x, "unit attention conditions") establishes a unit attention condition
 * for an I_T nexus on a logical unit and reports it to "the next command" that nexus sends *to that
 * logical unit*. The copy manager's reads and writes of a CSCD are not commands the initiator sent
 * to that LUN, so the condition is neither reported through EXTENDED COPY (whose status reports the
 * copy, not another LUN's events) nor consumed; the initiator meets it on its next command to that
 * LUN. LIO behaves so too: its copy manager issues the segment I/O on an internal session
 * (`xcopy_pt_sess`), which has no unit attentions of the initiator's nexus.
 * @module
 */
import { encodeSense } from '../codec/sense-encoder.js';
import { ScsiStatus } from '../spec/opcodes.js';
import type { Volume } from '../array/volume.js';
import { aluaRefusal } from './alua.js';
import type { CommandSpec } from './command.js';
import type { NexusState } from './context.js';
import type { FaultProbe } from './faults.js';
import type { Lun } from './logical-unit.js';
import { fail, invalidCdbField, type Failure, type ScsiResult } from './outcome.js';
import type { ItNexus } from './ports.js';

/** @internal Why a command may not act on a LUN: a status without sense, or a typed failure. */
export type Refusal = ScsiResult | Failure;

const RESERVATION_CONFLICT: ScsiResult = Object.freeze({ status: ScsiStatus.RESERVATION_CONFLICT });

/** DATA PROTECT / WRITE PROTECTED: a command that changes the medium while the Control page's SWP is one (SPC-5 7.5.10). */
const WRITE_PROTECTED: Failure = Object.freeze(fail('WRITE_PROTECTED'));

/** @internal LOGICAL BLOCK ADDRESS OUT OF RANGE (SBC-3 4.5), the failure of a command's own range. */
export const LBA_OUT_OF_RANGE: Failure = Object.freeze(fail('LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE'));

/**
 * @internal The one LBA-range check: `failure` unless [lba, lba+blocks) lies within `volume`. Each
 * command chooses its failure: {@link LBA_OUT_OF_RANGE} for its own range, COPY ABORTED with the
 * segment pointer for an EXTENDED COPY segment.
 */
export function checkLbaRange(volume: Volume, lba: number, blocks: number, failure: Failure = LBA_OUT_OF_RANGE): Failure | undefined {
  // lba may be Infinity (a 64-bit field at or above 2^53): both comparisons reject it.
  if (lba > volume.blockCount || lba + blocks > volume.blockCount) return failure;
  return undefined;
}

/**
 * @internal True when the persistent reservation on `lun` refuses a command of access class `access`
 * from `nexus` (SPC-4 5.13.1; the class is the opcode table row's `reservationAccess`).
 */
export function persistentConflict(lun: Lun, nexus: ItNexus, access: 'allowed' | 'read' | 'write' | undefined): boolean {
  return lun.persistentReservations.conflicts(nexus, access ?? 'write');
}

/** @internal True when a SCSI-2 reservation of another I_T nexus stands on `lun` (SPC-2 5.5.1). */
export function reservedByOther(lun: Lun, nexus: ItNexus): boolean {
  const holder = lun.reservation;
  return holder !== undefined && holder.key !== nexus.key;
}

/**
 * @internal Admission of a command on the LUN it was sent to, in this order: a pending unit attention
 * (SAM-5 5.14; not for INQUIRY, REPORT LUNS, REQUEST SENSE), an unknown opcode or service action,
 * access (a LUN the nexus may not reach answers only INQUIRY and REQUEST SENSE), the asymmetric
 * access state of the nexus's target port (SPC-4 5.16.2.4), the CDB length,
 * a sanitize in progress or sanitize failure mode (SBC-4 4.11), the SCSI-2 reservation, and
 * software write protect (a row marked `writesMedium` on a LUN whose Control mode page has SWP =
 * 1). Returns the row to execute, or the answer to give instead.
 */
export function admitAddressed(
  lun: Lun,
  nexus: ItNexus,
  state: NexusState,
  spec: CommandSpec | 'INVALID_OPCODE' | 'INVALID_SERVICE_ACTION',
  cdbLength: number,
): CommandSpec | Refusal {
  const ignoresUa = typeof spec !== 'string' && spec.ignoresUnitAttention === true;
  if (state.unitAttentions.length > 0 && !ignoresUa) return fail(state.unitAttentions.shift()!);
  // While a sanitize runs, a command the LUN does not implement is one it does not allow either: NOT READY (SBC-4 4.11.1).
  if (typeof spec === 'string' && lun.sanitizeState.inProgress && lun.accessibleBy(nexus)) return lun.sanitizeState.inProgressSense();
  if (spec === 'INVALID_OPCODE') return fail('INVALID_COMMAND_OPERATION_CODE');
  // SPC-4: an unsupported service action is an invalid field in CDB byte 1, bits 4:0.
  if (spec === 'INVALID_SERVICE_ACTION') return invalidCdbField(1, 4);
  if (!lun.accessibleBy(nexus) && spec.opcode !== 0x12 && spec.opcode !== 0x03) return fail('LOGICAL_UNIT_NOT_SUPPORTED');
  // The asymmetric access state of the target port the command came through (SPC-4 5.16.2.4; docs/decisions/alua.md).
  const alua = aluaRefusal(nexus.target.aluaState, spec.opcode, spec.serviceAction);
  if (alua !== undefined) return fail(alua);
  if (cdbLength < spec.cdbLength) return fail('INVALID_FIELD_IN_CDB');
  // A sanitize in progress or sanitize failure mode holds off every command it does not allow (SBC-4 4.11).
  const sanitizing = lun.sanitizeState.refusal(spec.opcode);
  if (sanitizing !== undefined) return sanitizing;
  if (spec.allowedUnderReservation !== true && reservedByOther(lun, nexus)) return RESERVATION_CONFLICT;
  if (persistentConflict(lun, nexus, spec.reservationAccess)) return RESERVATION_CONFLICT;
  if (spec.writesMedium === true && lun.writeProtected) return WRITE_PROTECTED;
  return spec;
}

/** @internal One LUN a command touches besides the one it was sent to, and the ranges it touches there. */
export interface TouchedLun {
  readonly lun: Lun;
  readonly lba: number;
  readonly blocks: number;
  /** The failure when the range does not lie within the LUN (chosen by the command). */
  readonly outOfRange: Failure;
  /** The command writes this range (an EXTENDED COPY destination): refused while the LUN is write protected. */
  readonly writes?: boolean;
}

/**
 * @internal Admission of a LUN a command touches on behalf of the nexus (an EXTENDED COPY source or
 * destination), as a READ or WRITE of that range from the nexus would be admitted: its range
 * ({@link TouchedLun.outOfRange}), then the SCSI-2 reservation (RESERVATION CONFLICT), then software
 * write protect of the LUNs it writes (DATA PROTECT / WRITE PROTECTED); the ranges of all `touched`
 * first (one segment's source and destination), then their reservations, then write protection. Access was
 * settled when the CSCD was resolved among the LUNs the nexus may reach (an inaccessible LUN is a
 * CSCD the copy manager cannot reach). Unit attentions are left pending (see the module comment).
 */
export function admitTouched(nexus: ItNexus, touched: readonly TouchedLun[]): Refusal | undefined {
  for (const t of touched) {
    const range = checkLbaRange(t.lun, t.lba, t.blocks, t.outOfRange);
    if (range !== undefined) return range;
  }
  for (const t of touched) if (reservedByOther(t.lun, nexus)) return RESERVATION_CONFLICT;
  // The persistent reservation of each LUN, as a READ of a source or a WRITE of a destination from the nexus would meet it (SPC-4 6.4).
  for (const t of touched) if (persistentConflict(t.lun, nexus, t.writes === true ? 'write' : 'read')) return RESERVATION_CONFLICT;
  for (const t of touched) if (t.writes === true && t.lun.writeProtected) return WRITE_PROTECTED;
  return undefined;
}

/**
 * @internal Fault rules for a LUN a command touches besides the one it was sent to: the rules are
 * matched as for the command (same opcode and initiator) with that LUN's number and range. Only a
 * failing effect (sense or status) applies there: the copy manager's segment I/O is synchronous, so
 * a rule's delay is applied only on the LUN the command was sent to. The sense is in the format of
 * `addressed`, the LUN the command was sent to (it is that device server that returns it).
 */
export function touchedFault(lun: Lun, probe: Omit<FaultProbe, 'lunId'>, addressed: Lun): Refusal | undefined {
  const faults = lun.array.faults;
  if (!faults.active) return undefined;
  const effect = faults.matchFailure({ ...probe, lunId: lun.id });
  if (effect === undefined) return undefined;
  if (effect.sense !== undefined) return { status: ScsiStatus.CHECK_CONDITION, sense: encodeSense(addressed.senseFormat, effect.sense) };
  return { status: effect.status as ScsiResult['status'] };
}
