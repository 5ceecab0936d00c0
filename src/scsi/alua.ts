/**
 * Asymmetric logical unit access (SPC-4 5.16), the array side: target port groups and their
 * asymmetric access states, and what a command sent through a port in each state may do. One ALUA
 * view for the whole array (every LUN sees the same groups, as ESXi and Windows expect when they ask
 * REPORT TARGET PORT GROUPS down any path). Choices and sources: docs/decisions/alua.md.
 * @module
 */
import { InvalidArgumentError, checkInteger, checkOptionKeys } from '../common/errors.js';
import { ALUA_STATES, AluaStatus, type AluaState, type AluaStatusCode } from '../spec/alua.js';
import { Opcode, ServiceAction } from '../spec/opcodes.js';
import type { SenseReason } from '../spec/sense.js';
import type { TargetPort } from './ports.js';

export type { AluaState, AluaStatusCode } from '../spec/alua.js';

/** Settings of a target port group (`StorageArray.configureTargetPortGroup`). */
export interface TargetPortGroupSettings {
  /**
   * The asymmetric access state, set as configuration: no unit attention, no event, STATUS CODE
   * unchanged (use `StorageArray.setTargetPortGroupState` for a change hosts are told about).
   * @defaultValue 'active/optimized'
   */
  readonly state?: AluaState;
  /** PREF: the group is a preferred group (hosts' path priority). @defaultValue false */
  readonly preferred?: boolean;
  /** IMPLICIT TRANSITION TIME reported by the extended REPORT TARGET PORT GROUPS header (0..255 s; 0: not specified). @defaultValue 0 */
  readonly implicitTransitionSeconds?: number;
  /** SET TARGET PORT GROUPS may change the group, and may be sent through its ports (explicit ALUA). @defaultValue true */
  readonly explicitAllowed?: boolean;
  /**
   * Delay of every command sent through a port of the group while it is active/non-optimized, in ms
   * (0..10000; LIO's nonop_delay_msecs, whose default is 100). @defaultValue 0
   */
  readonly nonOptimizedDelayMs?: number;
}

const SETTING_KEYS = ['state', 'preferred', 'implicitTransitionSeconds', 'explicitAllowed', 'nonOptimizedDelayMs'];

/** True when `value` is an {@link AluaState}. */
export function isAluaState(value: unknown): value is AluaState {
  return typeof value === 'string' && (ALUA_STATES as readonly string[]).includes(value);
}

/**
 * A target port group (SPC-4 5.16.2.2): target ports that share one asymmetric access state. Every
 * group id a target port names exists, active/optimized unless configured otherwise. Make and
 * change them through `StorageArray.configureTargetPortGroup` and `setTargetPortGroupState`.
 */
export class TargetPortGroup {
  /** TARGET PORT GROUP (0..65535). */
  readonly id: number;
  #state: AluaState = 'active/optimized';
  #preferred = false;
  #implicitTransitionSeconds = 0;
  #explicitAllowed = true;
  #nonOptimizedDelayMs = 0;
  #statusCode: AluaStatusCode = AluaStatus.NONE;
  readonly #allPorts: () => readonly TargetPort[];
  /** @internal Bumped by every change of state: a pending implicit transition commits only if it is still the latest. */
  generation = 0;

  /** @internal Use `StorageArray.configureTargetPortGroup`. */
  constructor(id: number, allPorts: () => readonly TargetPort[]) {
    this.id = id;
    this.#allPorts = allPorts;
  }

  /** The group's asymmetric access state. */
  get state(): AluaState {
    return this.#state;
  }

  /** PREF: a preferred target port group. */
  get preferred(): boolean {
    return this.#preferred;
  }

  /** IMPLICIT TRANSITION TIME, in seconds (0: not specified). */
  get implicitTransitionSeconds(): number {
    return this.#implicitTransitionSeconds;
  }

  /** SET TARGET PORT GROUPS may change this group and may be sent through its ports. */
  get explicitAllowed(): boolean {
    return this.#explicitAllowed;
  }

  /** Delay of each command through the group's ports while it is active/non-optimized, in ms. */
  get nonOptimizedDelayMs(): number {
    return this.#nonOptimizedDelayMs;
  }

  /** STATUS CODE: 00h none, 01h altered by SET TARGET PORT GROUPS, 02h altered by an implicit transition. */
  get statusCode(): AluaStatusCode {
    return this.#statusCode;
  }

  /** The group's target ports, by ascending relative target port identifier. */
  get ports(): readonly TargetPort[] {
    return this.#allPorts().filter((p) => p.groupId === this.id);
  }

  /** The states the group supports (its supported-state bits): all but LBA dependent. */
  get supportedStates(): readonly AluaState[] {
    return ALUA_STATES;
  }

  /** @internal Validates and applies `settings` (no unit attention, no event). */
  configure(settings: TargetPortGroupSettings, what: string): void {
    checkOptionKeys(settings, SETTING_KEYS, what);
    const s = settings;
    if (s.state !== undefined && !isAluaState(s.state)) throw new InvalidArgumentError(`${what}: state must be one of ${ALUA_STATES.join(', ')}`);
    if (s.preferred !== undefined && typeof s.preferred !== 'boolean') throw new InvalidArgumentError(`${what}: preferred must be a boolean`);
    if (s.explicitAllowed !== undefined && typeof s.explicitAllowed !== 'boolean') throw new InvalidArgumentError(`${what}: explicitAllowed must be a boolean`);
    if (s.implicitTransitionSeconds !== undefined) checkInteger(s.implicitTransitionSeconds, 0, 255, `${what}: implicitTransitionSeconds`);
    if (s.nonOptimizedDelayMs !== undefined) checkInteger(s.nonOptimizedDelayMs, 0, 10_000, `${what}: nonOptimizedDelayMs`);
    if (s.state !== undefined && s.state !== this.#state) {
      this.#state = s.state;
      this.generation++;
    }
    if (s.preferred !== undefined) this.#preferred = s.preferred;
    if (s.explicitAllowed !== undefined) this.#explicitAllowed = s.explicitAllowed;
    if (s.implicitTransitionSeconds !== undefined) this.#implicitTransitionSeconds = s.implicitTransitionSeconds;
    if (s.nonOptimizedDelayMs !== undefined) this.#nonOptimizedDelayMs = s.nonOptimizedDelayMs;
  }

  /** @internal Sets the state with its STATUS CODE; the caller tells the nexuses and emits the event. */
  setState(state: AluaState, statusCode: AluaStatusCode): void {
    this.#state = state;
    this.#statusCode = statusCode;
    this.generation++;
  }
}

/** A command by opcode, and service action where the opcode has them. */
type CommandKey = readonly [opcode: number, serviceAction?: number];

const INQUIRY: CommandKey = [Opcode.INQUIRY];
const REPORT_LUNS: CommandKey = [Opcode.REPORT_LUNS];
const REQUEST_SENSE: CommandKey = [Opcode.REQUEST_SENSE];
const RTPG: CommandKey = [Opcode.MAINTENANCE_IN, ServiceAction.REPORT_TARGET_PORT_GROUPS];
const STPG: CommandKey = [Opcode.MAINTENANCE_OUT, ServiceAction.SET_TARGET_PORT_GROUPS];
/** READ BUFFER (3Ch) and WRITE BUFFER (3Bh): allowed in every accessible state by SPC-4; the array implements neither. */
const BUFFER: readonly CommandKey[] = [[0x3c], [0x3b]];

/**
 * The commands each refusing state allows (SPC-4 5.16.2.4.4 to 5.16.2.4.6, as LIO's
 * core_alua_state_standby/unavailable/transition list them; docs/decisions/alua.md says where SCST
 * differs and which the array follows). A state not listed allows everything (the two active
 * states); offline allows nothing.
 */
const ALLOWED: { readonly [S in AluaState]?: readonly CommandKey[] } = {
  standby: [
    INQUIRY,
    REPORT_LUNS,
    REQUEST_SENSE,
    RTPG,
    STPG,
    [Opcode.MODE_SELECT_6],
    [Opcode.MODE_SELECT_10],
    [Opcode.MODE_SENSE_6],
    [Opcode.MODE_SENSE_10],
    [Opcode.READ_CAPACITY_10],
    [Opcode.SERVICE_ACTION_IN_16, ServiceAction.READ_CAPACITY_16],
    [0x4c], // LOG SELECT
    [0x4d], // LOG SENSE
    [0x1c], // RECEIVE DIAGNOSTIC RESULTS
    [0x1d], // SEND DIAGNOSTIC
    [0x5e], // PERSISTENT RESERVE IN
    [0x5f], // PERSISTENT RESERVE OUT
    ...BUFFER,
  ],
  unavailable: [INQUIRY, REPORT_LUNS, REQUEST_SENSE, RTPG, STPG, ...BUFFER],
  transitioning: [INQUIRY, REPORT_LUNS, REQUEST_SENSE, RTPG, ...BUFFER],
  offline: [],
};

/** The sense a refusing state answers (SPC-4 5.16.2.4; offline as LIO's TCM_ALUA_OFFLINE). */
const REFUSAL: { readonly [S in AluaState]?: SenseReason } = {
  standby: 'TARGET_PORT_IN_STANDBY_STATE',
  unavailable: 'TARGET_PORT_IN_UNAVAILABLE_STATE',
  transitioning: 'ASYMMETRIC_ACCESS_STATE_TRANSITION',
  offline: 'LOGICAL_UNIT_OFFLINE',
};

/**
 * @internal The sense reason a command (`opcode`, with `serviceAction` for opcodes that have them)
 * sent through a target port in `state` is refused with, or `undefined` when the state allows it.
 */
export function aluaRefusal(state: AluaState, opcode: number, serviceAction: number | undefined): SenseReason | undefined {
  const allowed = ALLOWED[state];
  if (allowed === undefined) return undefined;
  for (const [op, sa] of allowed) if (op === opcode && (sa === undefined || sa === serviceAction)) return undefined;
  return REFUSAL[state];
}

/**
 * @internal The delay, in ms, a command sent through `port` waits before it runs: the group's
 * `nonOptimizedDelayMs` while the port is active/non-optimized, else 0.
 */
export function nonOptimizedDelay(port: TargetPort): number {
  const group = port.group;
  return group.nonOptimizedDelayMs > 0 && port.aluaState === 'active/non-optimized' ? group.nonOptimizedDelayMs : 0;
}
