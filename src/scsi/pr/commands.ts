/**
 * PERSISTENT RESERVE IN (5Eh, SPC-4 6.13) and PERSISTENT RESERVE OUT (5Fh, SPC-4 6.14): one row per
 * service action. The state they read and change is the LUN's {@link PersistentReservations};
 * admission applies the reservation to every other command (src/scsi/admission.ts). Every PR OUT
 * checks everything first and changes nothing when it fails. Decisions and their sources:
 * docs/decisions/persistent-reservations.md.
 * @module
 */
import { readU16, readU32, truncate, writeU16, writeU32 } from '../../codec/bytes.js';
import { decodeIscsiTransportId, prTypeMask, type IscsiTransportId } from '../../codec/pr-decoder.js';
import { Opcode, PrInServiceAction as In, PrOutServiceAction as Out, ScsiStatus } from '../../spec/opcodes.js';
import type { SenseReason } from '../../spec/sense.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, fail, invalidCdbField, invalidParameterField, withData, type Failure, type Outcome, type ScsiResult } from '../outcome.js';
import { iscsiInitiatorPort, initiatorPort, type InitiatorPort, type ItNexus, type TargetPort } from '../ports.js';
import { PR_TYPES, PersistentReservations, isAllRegistrants, isRegistrantsType, overlaps, registrationMatches, type Registration } from './state.js';

const CONFLICT: ScsiResult = Object.freeze({ status: ScsiStatus.RESERVATION_CONFLICT });

/** The longest PERSISTENT RESERVE OUT parameter list taken: 28 bytes and 256 TransportIDs of the longest iSCSI name (docs/decisions/persistent-reservations.md). */
export const PR_OUT_MAX_PARAMETER_LIST = 28 + 256 * 264;

// ---- PERSISTENT RESERVE IN -----------------------------------------------------------------

interface PrInCommand extends Decoded {
  readonly allocationLength: number;
}

const prInUsage = (): number[] => [Opcode.PERSISTENT_RESERVE_IN, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0];

function decodePrIn(cdb: Uint8Array): PrInCommand {
  return { dataOutLength: 0, allocationLength: readU16(cdb, 7) };
}

/** A SCSI-2 reservation stands: every PERSISTENT RESERVE IN and OUT conflicts (LIO; docs/decisions/persistent-reservations.md). */
function scsi2Held(ctx: CommandContext): boolean {
  return ctx.lun.reservation !== undefined;
}

function header(pr: PersistentReservations, additional: number): Uint8Array {
  const data = new Uint8Array(8 + additional);
  writeU32(data, 0, pr.generation);
  writeU32(data, 4, additional);
  return data;
}

function writeKey(data: Uint8Array, at: number, key: bigint): void {
  new DataView(data.buffer, data.byteOffset, data.byteLength).setBigUint64(at, key);
}

function readKeys(cmd: PrInCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  if (scsi2Held(ctx)) return CONFLICT;
  const pr = ctx.lun.persistentReservations;
  const data = header(pr, 8 * pr.registrations.length);
  pr.registrations.forEach((r, i) => writeKey(data, 8 + 8 * i, r.key));
  // ADDITIONAL LENGTH stays the full length when the allocation length cuts the list (SPC-4 6.13.2).
  return withData(truncate(data, cmd.allocationLength));
}

function readReservation(cmd: PrInCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  if (scsi2Held(ctx)) return CONFLICT;
  const pr = ctx.lun.persistentReservations;
  const r = pr.reservation;
  const data = header(pr, r === undefined ? 0 : 16);
  if (r !== undefined) {
    // The all-registrants types report key 0 (SPC-4 6.13.3.3).
    writeKey(data, 8, isAllRegistrants(r.type) ? 0n : r.holder.key);
    data[21] = (r.scope << 4) | r.type;
  }
  return withData(truncate(data, cmd.allocationLength));
}

/** ALLOW COMMANDS 011b: TEST UNIT READY through every type; MODE SENSE, RSOC, READ DEFECT DATA and the reads through Write Exclusive (SPC-4 6.13.4). */
const ALLOW_COMMANDS = 0b011;

function reportCapabilities(cmd: PrInCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  if (scsi2Held(ctx)) return CONFLICT;
  const data = new Uint8Array(8);
  writeU16(data, 0, 8);
  // CRH 1 (SPC-4 5.13.3 handling of RESERVE/RELEASE), SIP_C 1, ATP_C 1, PTPL_C 0: nothing persists through power loss.
  data[2] = 0x10 | 0x08 | 0x04;
  // TMV 1, ALLOW COMMANDS, PTPL_A 0.
  data[3] = 0x80 | (ALLOW_COMMANDS << 4);
  writeU16(data, 4, prTypeMask(PR_TYPES));
  return withData(truncate(data, cmd.allocationLength));
}

/** The TransportID that names `reg`'s initiator: format 01b for an iSCSI initiator port (`name,i,0x<ISID>`), else 00b with the name. */
function transportIdOf(reg: Registration): Uint8Array {
  const text = new TextEncoder().encode(reg.byName ? reg.initiator.deviceName : reg.initiator.name);
  const withIsid = !reg.byName && reg.initiator.name.toLowerCase().includes(',i,0x');
  const additional = Math.max(20, Math.ceil((text.length + 1) / 4) * 4);
  const id = new Uint8Array(4 + additional);
  id[0] = (withIsid ? 0x40 : 0x00) | 0x05;
  writeU16(id, 2, additional);
  id.set(text, 4);
  return id;
}

function readFullStatus(cmd: PrInCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  if (scsi2Held(ctx)) return CONFLICT;
  const pr = ctx.lun.persistentReservations;
  const ids = pr.registrations.map(transportIdOf);
  const data = header(pr, ids.reduce((n, id) => n + 24 + id.length, 0));
  let at = 8;
  pr.registrations.forEach((reg, i) => {
    writeKey(data, at, reg.key);
    const holder = pr.isHolder(reg);
    data[at + 12] = (reg.allTgPt ? 0x02 : 0) | (holder ? 0x01 : 0);
    if (holder) data[at + 13] = (pr.reservation!.scope << 4) | pr.reservation!.type;
    writeU16(data, at + 18, reg.target.relativeId);
    writeU32(data, at + 20, ids[i]!.length);
    data.set(ids[i]!, at + 24);
    at += 24 + ids[i]!.length;
  });
  return withData(truncate(data, cmd.allocationLength));
}

// ---- PERSISTENT RESERVE OUT ----------------------------------------------------------------

interface PrOutCommand extends Decoded {
  readonly serviceAction: number;
  readonly scope: number;
  readonly type: number;
  readonly key: bigint;
  readonly serviceActionKey: bigint;
  readonly specIPt: boolean;
  readonly allTgPt: boolean;
  /** REGISTER with SPEC_I_PT: the TransportIDs, each with its offset in the parameter list. */
  readonly transportIds: readonly { readonly id: IscsiTransportId; readonly at: number }[];
  /** REGISTER AND MOVE: UNREG, the RELATIVE TARGET PORT IDENTIFIER and the TransportID. */
  readonly unreg: boolean;
  readonly relativeTargetPort: number;
  readonly moveTo?: IscsiTransportId;
}

const prOutUsage = (typed: boolean): number[] => [Opcode.PERSISTENT_RESERVE_OUT, 0x1f, typed ? 0xff : 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0];

/** The service actions whose TYPE and SCOPE are used (SPC-4 6.14.2 table 185); the others ignore them. */
const TYPED = new Set<number>([Out.RESERVE, Out.RELEASE, Out.PREEMPT, Out.PREEMPT_AND_ABORT]);

function decodePrOut(serviceAction: number) {
  return (cdb: Uint8Array): PrOutCommand | Failure => {
    const scope = cdb[2]! >> 4;
    const type = cdb[2]! & 0x0f;
    if (TYPED.has(serviceAction)) {
      if (scope !== 0) return invalidCdbField(2, 7); // only LU_SCOPE (SPC-4 6.14.2)
      if (!PR_TYPES.includes(type)) return invalidCdbField(2, 3);
    }
    const listLength = readU32(cdb, 5);
    if (listLength < 24 || listLength > PR_OUT_MAX_PARAMETER_LIST) return fail('PARAMETER_LIST_LENGTH_ERROR');
    return { dataOutLength: listLength, serviceAction, scope, type, key: 0n, serviceActionKey: 0n, specIPt: false, allTgPt: false, transportIds: [], unreg: false, relativeTargetPort: 0 };
  };
}

function keyAt(list: Uint8Array, at: number): bigint {
  return new DataView(list.buffer, list.byteOffset, list.byteLength).getBigUint64(at);
}

/** A TransportID problem at `base` + its byte: INVALID FIELD IN PARAMETER LIST there. */
function transportIdAt(list: Uint8Array, base: number): IscsiTransportId | Failure {
  const id = decodeIscsiTransportId(list, base);
  return 'format' in id ? id : invalidParameterField(base + id.byte);
}

function decodePrOutList(cmd: PrOutCommand, list: Uint8Array): PrOutCommand | Failure {
  const key = keyAt(list, 0);
  const serviceActionKey = keyAt(list, 8);
  if (cmd.serviceAction === Out.REGISTER_AND_MOVE) {
    if (readU32(list, 20) !== list.length - 24) return fail('PARAMETER_LIST_LENGTH_ERROR');
    if ((list[17]! & 0x01) !== 0) return invalidParameterField(17, 0); // APTPL: PTPL_C = 0
    const moveTo = transportIdAt(list, 24);
    if ('fail' in moveTo) return moveTo;
    if (moveTo.length !== list.length - 24) return fail('PARAMETER_LIST_LENGTH_ERROR');
    return { ...cmd, key, serviceActionKey, unreg: (list[17]! & 0x02) !== 0, relativeTargetPort: readU16(list, 18), moveTo };
  }
  const specIPt = (list[20]! & 0x08) !== 0;
  const allTgPt = (list[20]! & 0x04) !== 0;
  const registering = cmd.serviceAction === Out.REGISTER || cmd.serviceAction === Out.REGISTER_AND_IGNORE_EXISTING_KEY;
  if (specIPt && cmd.serviceAction !== Out.REGISTER) return invalidParameterField(20, 3);
  if (!specIPt && list.length !== 24) return fail('PARAMETER_LIST_LENGTH_ERROR');
  if (registering && (list[20]! & 0x01) !== 0) return invalidParameterField(20, 0); // APTPL: PTPL_C = 0
  const transportIds: { id: IscsiTransportId; at: number }[] = [];
  if (specIPt) {
    if (list.length < 28 || readU32(list, 24) !== list.length - 28) return fail('PARAMETER_LIST_LENGTH_ERROR');
    for (let at = 28; at < list.length; ) {
      const id = transportIdAt(list, at);
      if ('fail' in id) return id;
      transportIds.push({ id, at });
      at += id.length;
    }
  }
  return { ...cmd, key, serviceActionKey, specIPt, allTgPt: registering && allTgPt, transportIds };
}

/** The initiator side a TransportID names: an initiator port (format 01b) or an iSCSI name (00b). */
function initiatorOf(id: IscsiTransportId): { readonly port: InitiatorPort; readonly byName: boolean } {
  if (id.format === 1) return { port: iscsiInitiatorPort(id.name, id.isid!), byName: false };
  return { port: initiatorPort(id.name), byName: true };
}

/** Queues `reason` for every nexus `regs` name (SPC-4 establishes PR unit attentions per registered I_T nexus). */
function tell(ctx: CommandContext, regs: readonly Registration[], reason: SenseReason): void {
  for (const r of regs) ctx.lun.unitAttentionFor(r, reason);
}

/**
 * New registrations of `initiator` with `key`: through `port`, or (ALL_TG_PT) through every target
 * port of the array that admits the initiator to this LUN (its LUN map and ACL; LIO likewise registers
 * through each target portal group where the initiator's ACL maps the LUN).
 */
function newRegistrations(ctx: CommandContext, initiator: InitiatorPort, byName: boolean, port: TargetPort, key: bigint, allTgPt: boolean): Registration[] {
  const group: Registration[] = [];
  const ports = allTgPt ? ctx.array.targetPorts.filter((p) => p === port || p.admits(initiator, ctx.lun)) : [port];
  for (const target of ports) group.push({ initiator, byName, target, key, allTgPt, group });
  return group;
}

/** Those of `regs` (one group) that name no registered I_T nexus and none of `made`; the group keeps only them. */
function unregisteredOf(pr: PersistentReservations, regs: Registration[], made: readonly Registration[]): Registration[] {
  const kept = regs.filter((r) => !pr.isRegistered(r) && !made.some((m) => overlaps(m, r)));
  regs[0]?.group.splice(0, Infinity, ...kept);
  return kept;
}

function register(cmd: PrOutCommand, ctx: CommandContext): Outcome {
  const pr = ctx.lun.persistentReservations;
  const nexus = ctx.itNexus;
  const reg = pr.registrationOf(nexus);
  const ignoreKey = cmd.serviceAction === Out.REGISTER_AND_IGNORE_EXISTING_KEY;
  if (reg === undefined) {
    if (!ignoreKey && cmd.key !== 0n) return CONFLICT;
    if (cmd.serviceActionKey === 0n) return GOOD; // nothing to register (SPC-4 5.13.7)
    const made = unregisteredOf(pr, newRegistrations(ctx, nexus.initiator, false, nexus.target, cmd.serviceActionKey, cmd.allTgPt), []);
    // Each TransportID's I_T nexuses, but those already registered or named before (the issuing one
    // included), which are skipped as LIO skips them (docs/decisions/persistent-reservations.md).
    for (const { id } of cmd.transportIds) {
      const { port, byName } = initiatorOf(id);
      made.push(...unregisteredOf(pr, newRegistrations(ctx, port, byName, nexus.target, cmd.serviceActionKey, cmd.allTgPt), made));
    }
    pr.registrations.push(...made);
    pr.bump();
    return GOOD;
  }
  if (!ignoreKey && cmd.key !== reg.key) return CONFLICT;
  if (cmd.specIPt) return invalidParameterField(20, 3); // SPEC_I_PT from a registered I_T nexus (SPC-4 6.14.3)
  // An ALL_TG_PT registration changes only as a whole (LIO).
  if (reg.allTgPt && !cmd.allTgPt) return invalidParameterField(20, 2);
  const all = reg.allTgPt ? [...reg.group] : [reg];
  if (cmd.serviceActionKey !== 0n) {
    for (const r of all) r.key = cmd.serviceActionKey;
    pr.bump();
    return GOOD;
  }
  unregister(ctx, all);
  pr.bump();
  return GOOD;
}

/** Removes `regs`; a holder's reservation goes with it (all-registrants: with the last registrant), RESERVATIONS RELEASED to the rest for 5h/6h (SPC-4 5.13.11.3). */
function unregister(ctx: CommandContext, regs: readonly Registration[]): void {
  const pr = ctx.lun.persistentReservations;
  const r = pr.reservation;
  pr.remove(regs);
  if (r === undefined) return;
  if (isAllRegistrants(r.type)) {
    if (pr.registrations.length === 0) pr.reservation = undefined;
    else if (regs.includes(r.holder)) r.holder = pr.registrations[0]!;
    return;
  }
  if (!regs.includes(r.holder)) return;
  pr.reservation = undefined;
  if (isRegistrantsType(r.type)) tell(ctx, pr.registrations, 'RESERVATIONS_RELEASED');
}

/** A PR OUT service action of a registered I_T nexus, given its registration and the LUN's state. */
type KeyedAction = (cmd: PrOutCommand, ctx: CommandContext, reg: Registration, pr: PersistentReservations) => Outcome;

/** Runs `action` for the caller's registration when RESERVATION KEY is its key; otherwise RESERVATION CONFLICT (SPC-4 5.13.9-5.13.11). */
function keyed(action: KeyedAction): (cmd: PrOutCommand, ctx: CommandContext) => Outcome {
  return (cmd, ctx) => {
    const pr = ctx.lun.persistentReservations;
    const reg = pr.registrationOf(ctx.itNexus);
    return reg === undefined || reg.key !== cmd.key ? CONFLICT : action(cmd, ctx, reg, pr);
  };
}

function reserve(cmd: PrOutCommand, ctx: CommandContext, reg: Registration, pr: PersistentReservations): Outcome {
  const r = pr.reservation;
  if (r !== undefined) {
    // The holder asking for the same TYPE and SCOPE: nothing changes; anything else conflicts (SPC-4 5.13.9).
    return pr.isHolder(reg) && r.type === cmd.type && r.scope === cmd.scope ? GOOD : CONFLICT;
  }
  pr.reservation = { holder: reg, type: cmd.type, scope: cmd.scope };
  return GOOD;
}

function release(cmd: PrOutCommand, ctx: CommandContext): Outcome {
  const pr = ctx.lun.persistentReservations;
  const reg = pr.registrationOf(ctx.itNexus);
  if (reg === undefined) return CONFLICT;
  const r = pr.reservation;
  // SPC-4 5.13.10: with no reservation, or from a registered nexus that does not hold it, GOOD and
  // nothing changes, whatever RESERVATION KEY says (LIO checks the key only after this too).
  if (r === undefined || !pr.isHolder(reg)) return GOOD;
  if (reg.key !== cmd.key) return CONFLICT;
  if (r.type !== cmd.type || r.scope !== cmd.scope) return fail('INVALID_RELEASE_OF_PERSISTENT_RESERVATION');
  pr.reservation = undefined;
  if (isRegistrantsType(r.type)) tell(ctx, pr.registrations.filter((x) => x !== reg && !x.group.includes(reg)), 'RESERVATIONS_RELEASED');
  return GOOD;
}

function clear(cmd: PrOutCommand, ctx: CommandContext, reg: Registration, pr: PersistentReservations): Outcome {
  const others = pr.registrations.filter((x) => x !== reg);
  pr.reservation = undefined;
  pr.remove([...pr.registrations]);
  pr.bump();
  tell(ctx, others, 'RESERVATIONS_PREEMPTED');
  return GOOD;
}

function preempt(cmd: PrOutCommand, ctx: CommandContext, reg: Registration, pr: PersistentReservations): Outcome {
  const r = pr.reservation;
  const sark = cmd.serviceActionKey;
  const allRegistrants = r !== undefined && isAllRegistrants(r.type);
  const takesReservation = r !== undefined && (allRegistrants ? sark === 0n : sark === r.holder.key);
  if (sark === 0n && !takesReservation) return invalidParameterField(8); // SPC-4 5.13.11.2.3
  // Taking the reservation, or under an all-registrants type, the caller's own registration stays;
  // removing the registrations of a key no holder has, the caller's goes too when it has that key
  // (SPC-4 5.13.11.2.3 names every I_T nexus with the key; LIO likewise), with no unit attention for it.
  const keepsCaller = takesReservation || allRegistrants;
  const removed = pr.registrations.filter((x) => (x !== reg || !keepsCaller) && (allRegistrants && sark === 0n ? true : x.key === sark));
  const victims = removed.filter((x) => x !== reg);
  if (!takesReservation && !pr.registrations.some((x) => x.key === sark)) return CONFLICT;
  pr.remove(removed);
  if (takesReservation) {
    const changed = r.type !== cmd.type || r.scope !== cmd.scope;
    pr.reservation = { holder: reg, type: cmd.type, scope: cmd.scope };
    // SPC-4 5.13.11.2.4: a new TYPE or SCOPE is news to every registrant kept, but the caller.
    if (changed) tell(ctx, pr.registrations.filter((x) => x !== reg), 'RESERVATIONS_RELEASED');
  } else if (r !== undefined && !pr.registrations.includes(r.holder)) {
    // An all-registrants reservation keeps a holder among those left.
    r.holder = reg;
  }
  pr.bump();
  tell(ctx, victims, 'REGISTRATIONS_PREEMPTED');
  // PREEMPT AND ABORT: the preempted nexuses' tasks end too (SPC-4 5.13.11.2.6).
  if (cmd.serviceAction === Out.PREEMPT_AND_ABORT) ctx.lun.abortTasksOf((n: ItNexus) => victims.some((v) => registrationMatches(v, n)));
  return GOOD;
}

function registerAndMove(cmd: PrOutCommand, ctx: CommandContext, reg: Registration, pr: PersistentReservations): Outcome {
  // The parameter list first, then the reservation, in LIO's order (SPC-4 5.13.8, 6.14.4).
  if (cmd.serviceActionKey === 0n) return invalidParameterField(8);
  const target = ctx.array.targetPorts.find((p) => p.relativeId === cmd.relativeTargetPort);
  if (target === undefined) return invalidParameterField(18);
  const { port, byName } = initiatorOf(cmd.moveTo!);
  // A TransportID naming the initiator port the command came from (through any target port) is refused (SPC-4 6.14.4).
  const self = ctx.itNexus.initiator;
  if (byName ? port.deviceName.toLowerCase() === self.deviceName.toLowerCase() : port.name.toLowerCase() === self.name.toLowerCase()) return invalidParameterField(24);
  const r = pr.reservation;
  // No persistent reservation to move: INVALID FIELD IN CDB (SPC-4 5.13.8; LIO the same).
  if (r === undefined) return fail('INVALID_FIELD_IN_CDB');
  // Only the holder of a reservation that is not all-registrants may move it.
  if (isAllRegistrants(r.type) || r.holder !== reg) return CONFLICT;
  const dest: Registration = newRegistrations(ctx, port, byName, target, cmd.serviceActionKey, false)[0]!;
  // The destination is registered with SARK; one already registered takes SARK as its key (SPC-4 5.13.8 c), LIO).
  const existing = pr.registrations.find((x) => overlaps(x, dest));
  if (existing === undefined) pr.registrations.push(dest);
  else existing.key = cmd.serviceActionKey;
  pr.reservation = { holder: existing ?? dest, type: r.type, scope: r.scope };
  if (cmd.unreg) pr.remove(reg.allTgPt ? [...reg.group] : [reg]);
  pr.bump();
  return GOOD;
}

const PR_OUT_EXECUTE: Record<number, (cmd: PrOutCommand, ctx: CommandContext) => Outcome> = {
  [Out.REGISTER]: register,
  [Out.RESERVE]: keyed(reserve),
  [Out.RELEASE]: release,
  [Out.CLEAR]: keyed(clear),
  [Out.PREEMPT]: keyed(preempt),
  [Out.PREEMPT_AND_ABORT]: keyed(preempt),
  [Out.REGISTER_AND_IGNORE_EXISTING_KEY]: register,
  [Out.REGISTER_AND_MOVE]: keyed(registerAndMove),
};

const PR_OUT_NAMES: Record<number, string> = {
  [Out.REGISTER]: 'REGISTER',
  [Out.RESERVE]: 'RESERVE',
  [Out.RELEASE]: 'RELEASE',
  [Out.CLEAR]: 'CLEAR',
  [Out.PREEMPT]: 'PREEMPT',
  [Out.PREEMPT_AND_ABORT]: 'PREEMPT AND ABORT',
  [Out.REGISTER_AND_IGNORE_EXISTING_KEY]: 'REGISTER AND IGNORE EXISTING KEY',
  [Out.REGISTER_AND_MOVE]: 'REGISTER AND MOVE',
};

function prIn(serviceAction: number, name: string, execute: (cmd: PrInCommand, d: Uint8Array, ctx: CommandContext) => Outcome): CommandSpec {
  return defineCommand<PrInCommand>({
    opcode: Opcode.PERSISTENT_RESERVE_IN,
    serviceAction,
    name: `PERSISTENT RESERVE IN(${name})`,
    cdbLength: 10,
    usage: prInUsage(),
    reservationAccess: 'allowed',
    decode: decodePrIn,
    execute,
  });
}

/** @internal The PERSISTENT RESERVE IN and OUT rows, one per service action. */
export const PERSISTENT_RESERVE_COMMANDS: readonly CommandSpec[] = [
  prIn(In.READ_KEYS, 'READ KEYS', readKeys),
  prIn(In.READ_RESERVATION, 'READ RESERVATION', readReservation),
  prIn(In.REPORT_CAPABILITIES, 'REPORT CAPABILITIES', reportCapabilities),
  prIn(In.READ_FULL_STATUS, 'READ FULL STATUS', readFullStatus),
  ...Object.values(Out).map((sa) =>
    defineCommand<PrOutCommand>({
      opcode: Opcode.PERSISTENT_RESERVE_OUT,
      serviceAction: sa,
      name: `PERSISTENT RESERVE OUT(${PR_OUT_NAMES[sa]!})`,
      cdbLength: 10,
      usage: prOutUsage(TYPED.has(sa)),
      // PR OUT applies its own rules to a nexus that does not hold the reservation (SPC-4 5.13.1 table 67).
      reservationAccess: 'allowed',
      decode: decodePrOut(sa),
      decodeData: (cmd, list) => decodePrOutList(cmd, list),
      execute: (cmd, _d, ctx) => (scsi2Held(ctx) ? CONFLICT : PR_OUT_EXECUTE[sa]!(cmd, ctx)),
    }),
  ),
];
