/**
 * REPORT TARGET PORT GROUPS (MAINTENANCE IN A3h/0Ah, SPC-4 6.27) and SET TARGET PORT GROUPS
 * (MAINTENANCE OUT A4h/0Ah, SPC-4 6.31): the array's one ALUA view, as the logical unit the command
 * is sent to sees it (the groups with a target port that exposes it). Choices and sources:
 * docs/decisions/alua.md.
 * @module
 */
import { readU32, truncate, writeU16, writeU32 } from '../../codec/bytes.js';
import { ASYMMETRIC_ACCESS_STATE, SUPPORTED_STATE_BIT, aluaStateOfCode, type AluaState } from '../../spec/alua.js';
import { Opcode, ServiceAction } from '../../spec/opcodes.js';
import type { TargetPortGroup } from '../alua.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import type { Lun } from '../logical-unit.js';
import { GOOD, fail, invalidCdbField, invalidParameterField, withData, type Failure, type Outcome } from '../outcome.js';
import type { TargetPort } from '../ports.js';

/** @internal A target port group as `lun` sees it: the group and its ports that expose the LUN. */
export interface LunGroup {
  readonly group: TargetPortGroup;
  readonly ports: readonly TargetPort[];
}

/** @internal The target port groups through which `lun` is reachable, ascending, each with those of its ports that expose it. */
export function groupsOf(lun: Lun): LunGroup[] {
  const out: LunGroup[] = [];
  for (const group of lun.array.targetPortGroups) {
    const ports = group.ports.filter((p) => p.exposes(lun));
    if (ports.length > 0) out.push({ group, ports });
  }
  return out;
}

/** @internal True when SET TARGET PORT GROUPS may change one of the groups `lun` is reachable through (INQUIRY TPGS bit 5). */
export function explicitAluaSupported(lun: Lun): boolean {
  return groupsOf(lun).some((g) => g.group.explicitAllowed);
}

/** The supported-state bits of a group descriptor (byte 1): every state the group supports. */
function supportedStateBits(group: TargetPortGroup): number {
  let bits = 0;
  for (const s of group.supportedStates) bits |= SUPPORTED_STATE_BIT[s];
  return bits;
}

interface RtpgCommand extends Decoded {
  readonly extended: boolean;
  readonly allocationLength: number;
}

function decodeRtpg(cdb: Uint8Array): RtpgCommand | Failure {
  const format = cdb[1]! >>> 5;
  // PARAMETER DATA FORMAT: 000b length only, 001b extended header; the rest are reserved.
  if (format > 1) return invalidCdbField(1, 7);
  return { dataOutLength: 0, extended: format === 1, allocationLength: readU32(cdb, 6) };
}

/**
 * @internal The whole REPORT TARGET PORT GROUPS parameter data for `lun` through `port`, before the
 * ALLOCATION LENGTH cuts it.
 */
export function reportTargetPortGroupsData(lun: Lun, port: TargetPort, extended: boolean): Uint8Array {
  const groups = groupsOf(lun);
  const header = extended ? 8 : 4;
  // TARGET PORT COUNT is one byte: a group lists at most 255 of its ports.
  const counts = groups.map((g) => Math.min(g.ports.length, 0xff));
  const data = new Uint8Array(header + counts.reduce((n, c) => n + 8 + 4 * c, 0));
  writeU32(data, 0, data.length - 4); // RETURN DATA LENGTH: all of it, whatever ALLOCATION LENGTH keeps
  if (extended) {
    data[4] = 0x10; // FORMAT TYPE 001b
    data[5] = port.group.implicitTransitionSeconds; // IMPLICIT TRANSITION TIME of the group the command came through
  }
  let at = header;
  groups.forEach(({ group, ports }, i) => {
    data[at] = (group.preferred ? 0x80 : 0) | ASYMMETRIC_ACCESS_STATE[group.state];
    data[at + 1] = supportedStateBits(group);
    writeU16(data, at + 2, group.id);
    data[at + 5] = group.statusCode;
    data[at + 7] = counts[i]!;
    for (let p = 0; p < counts[i]!; p++) writeU16(data, at + 8 + 4 * p + 2, ports[p]!.relativeId);
    at += 8 + 4 * counts[i]!;
  });
  return data;
}

function executeRtpg(cmd: RtpgCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  return withData(truncate(reportTargetPortGroupsData(ctx.lun, ctx.itNexus.target, cmd.extended), cmd.allocationLength));
}

/** One validated SET TARGET PORT GROUPS descriptor. */
type StpgChange = { readonly group: TargetPortGroup; readonly state: AluaState } | { readonly port: TargetPort };

interface StpgCommand extends Decoded {
  readonly changes: readonly StpgChange[];
}

function decodeStpg(cdb: Uint8Array, ctx: CommandContext): StpgCommand | Failure {
  // LIO: SET TARGET PORT GROUPS through a port whose group does not allow explicit ALUA is an unsupported opcode.
  if (!ctx.itNexus.target.group.explicitAllowed) return fail('INVALID_COMMAND_OPERATION_CODE');
  return { dataOutLength: readU32(cdb, 6), changes: [] };
}

function decodeStpgList(cmd: StpgCommand, list: Uint8Array, ctx: CommandContext): StpgCommand | Failure {
  // PARAMETER LIST LENGTH 0: nothing transferred, nothing changed (SPC-4 6.31).
  if (list.length === 0) return cmd;
  if (list.length < 4 || list.length % 4 !== 0) return fail('PARAMETER_LIST_LENGTH_ERROR');
  const groups = groupsOf(ctx.lun);
  const seenGroups = new Set<number>();
  const seenPorts = new Set<number>();
  const primaries: StpgChange[] = [];
  const offline: StpgChange[] = [];
  for (let at = 4; at < list.length; at += 4) {
    const state = aluaStateOfCode(list[at]! & 0x0f);
    const id = (list[at + 2]! << 8) | list[at + 3]!;
    // Transitioning cannot be requested; LBA dependent (4h) and reserved codes are not supported.
    if (state === undefined || state === 'transitioning') return invalidParameterField(at, 3);
    if (state === 'offline') {
      // The offline state names a RELATIVE TARGET PORT IDENTIFIER (SPC-4 6.31).
      const port = groups.flatMap((g) => g.ports).find((p) => p.relativeId === id);
      if (port === undefined || !port.group.explicitAllowed || seenPorts.has(id)) return invalidParameterField(at + 2);
      seenPorts.add(id);
      offline.push({ port });
    } else {
      const group = groups.find((g) => g.group.id === id)?.group;
      if (group === undefined || !group.explicitAllowed || seenGroups.has(id)) return invalidParameterField(at + 2);
      seenGroups.add(id);
      primaries.push({ group, state });
    }
  }
  return { dataOutLength: cmd.dataOutLength, changes: [...primaries, ...offline] };
}

function executeStpg(cmd: StpgCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  for (const change of cmd.changes) {
    if ('port' in change) ctx.array.takePortOffline(change.port, ctx.itNexus);
    else ctx.array.changeAluaState(change.group, change.state, ctx.itNexus);
  }
  return GOOD;
}

/** @internal */
export const TARGET_PORT_GROUPS_COMMANDS: readonly CommandSpec[] = [
  defineCommand<RtpgCommand>({
    opcode: Opcode.MAINTENANCE_IN,
    serviceAction: ServiceAction.REPORT_TARGET_PORT_GROUPS,
    name: 'REPORT TARGET PORT GROUPS',
    reservationAccess: 'allowed',
    cdbLength: 12,
    usage: [Opcode.MAINTENANCE_IN, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    allowedUnderReservation: true,
    decode: decodeRtpg,
    execute: executeRtpg,
  }),
  defineCommand<StpgCommand>({
    opcode: Opcode.MAINTENANCE_OUT,
    serviceAction: ServiceAction.SET_TARGET_PORT_GROUPS,
    name: 'SET TARGET PORT GROUPS',
    cdbLength: 12,
    usage: [Opcode.MAINTENANCE_OUT, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    supported: explicitAluaSupported,
    decode: decodeStpg,
    decodeData: decodeStpgList,
    execute: executeStpg,
  }),
];
