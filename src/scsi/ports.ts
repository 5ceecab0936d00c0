/**
 * Ports and I_T nexuses as values (SAM-5 4.6.4, 4.6.5, 4.7): a target port (its RELATIVE TARGET PORT
 * IDENTIFIER, its target port group and its SCSI name), an initiator port, and the I_T nexus, the
 * pair of the two. Unit attentions, SCSI-2 reservations and held copy results are kept per nexus, so
 * one initiator port reaching a logical unit through two target ports holds two nexuses.
 * @module
 */
import { InvalidArgumentError, checkInteger, checkOptionKeys } from '../common/errors.js';
import type { PortLink } from '../array/events.js';
import type { AluaState, TargetPortGroup } from './alua.js';
import type { Lun } from './logical-unit.js';

/**
 * A SCSI initiator port. In-process any string names one; over iSCSI its name is the initiator name,
 * `,i,0x` and the ISID (RFC 7143 13.4: `iqn.1993-08.org.debian:01:abc,i,0x00023d000001`).
 */
export interface InitiatorPort {
  /** The initiator port name (SPC-4 7.7.3.2 SCSI name string, or any string in-process). */
  readonly name: string;
  /**
   * The initiator device name: what ACLs and a LUN's `initiators` list name (the iSCSI initiator
   * name, without `,i,0x<ISID>`). The port name itself in-process.
   */
  readonly deviceName: string;
}

/** Access rules of a target port: which LUNs it exposes and which initiators may reach them. */
export interface TargetPortAccess {
  /** The LUNs reachable through the port; every LUN of the array when left out. */
  readonly luns?: readonly Lun[];
  /** Initiator device names allowed through the port (its ACL); any initiator when left out. */
  readonly initiators?: readonly string[];
}

/** Options of `StorageArray.addTargetPort`. */
export interface TargetPortOptions extends TargetPortAccess {
  /** The port's SCSI name, e.g. `iqn.2026-11.dev.vaai-sim:array0,t,0x0001` (unique in the array). */
  readonly name: string;
  /** RELATIVE TARGET PORT IDENTIFIER (1..65535, unique in the array). @defaultValue the lowest free one */
  readonly relativeId?: number;
  /** TARGET PORT GROUP the port belongs to (0..65535). @defaultValue 0 */
  readonly groupId?: number;
}

/** @internal What a target port asks of its array: its group, and where to report a change of its link or ALUA state. */
export interface TargetPortHooks {
  /** The target port group `id` (made if it does not exist yet). */
  groupOf(id: number): TargetPortGroup;
  /** The port's link or latency changed. */
  linkChanged(port: TargetPort): void;
}

const PORT_LINKS: readonly PortLink[] = ['up', 'down', 'black-hole'];

/**
 * A SCSI target port of an array. Make one with `StorageArray.addTargetPort`. Besides its identity
 * it carries link faults that a transport and the host model honour (the SCSI core has no transport
 * and does not act on them): {@link TargetPort.link} and {@link TargetPort.latencyMs}.
 */
export class TargetPort {
  /** RELATIVE TARGET PORT IDENTIFIER (SPC-4 7.8.6.5): 1..65535. */
  readonly relativeId: number;
  /** TARGET PORT GROUP (SPC-4 7.8.6.6). */
  readonly groupId: number;
  /** The port's SCSI name string, e.g. `iqn.…,t,0x0001`. */
  readonly name: string;
  readonly #luns: ReadonlySet<Lun> | undefined;
  readonly #initiators: ReadonlySet<string> | undefined;
  readonly #hooks: TargetPortHooks;
  readonly #group: TargetPortGroup;
  #link: PortLink = 'up';
  #latencyMs = 0;
  #offline = false;

  /** @internal Use `StorageArray.addTargetPort`. */
  constructor(name: string, relativeId: number, groupId: number, access: TargetPortAccess, hooks: TargetPortHooks) {
    this.name = name;
    this.relativeId = relativeId;
    this.groupId = groupId;
    this.#luns = access.luns === undefined ? undefined : new Set(access.luns);
    this.#initiators = access.initiators === undefined ? undefined : new Set(access.initiators);
    this.#hooks = hooks;
    // Groups are never removed, so the port keeps the one it was made in.
    this.#group = hooks.groupOf(groupId);
  }

  /** The target port group the port belongs to (the array's group {@link TargetPort.groupId}). */
  get group(): TargetPortGroup {
    return this.#group;
  }

  /**
   * True while the port is in the offline state on its own (SET TARGET PORT GROUPS with state Eh
   * naming this port, SPC-4 6.31), whatever its group's state; a later change of its group's state
   * brings it back.
   */
  get offline(): boolean {
    return this.#offline;
  }

  /** The asymmetric access state commands through this port meet: offline when the port is, else its group's. */
  get aluaState(): AluaState {
    return this.#offline ? 'offline' : this.#group.state;
  }

  /** @internal Sets or clears the port's own offline state (the caller tells the nexuses). */
  setOffline(offline: boolean): void {
    this.#offline = offline;
  }

  /**
   * The port's link as transports honour it: `up`; `down` (connections through the port dropped,
   * logins refused; in-process, `execute` through it fails with a transport error); `black-hole`
   * (connections accepted, nothing answered). @defaultValue 'up'
   */
  get link(): PortLink {
    return this.#link;
  }

  /** Delay, in ms, a transport adds to every answer through this port. @defaultValue 0 */
  get latencyMs(): number {
    return this.#latencyMs;
  }

  /** Sets the link fault; emits `portLinkChanged` on the array when it changes. Throws {@link InvalidArgumentError} for another value. */
  setLink(link: PortLink): void {
    if (!PORT_LINKS.includes(link)) throw new InvalidArgumentError(`setLink: link must be one of ${PORT_LINKS.join(', ')}`);
    if (link === this.#link) return;
    this.#link = link;
    this.#hooks.linkChanged(this);
  }

  /** Sets the latency (a finite number of ms, 0 or more); emits `portLinkChanged` when it changes. */
  setLatency(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('setLatency: ms must be a finite number of milliseconds, 0 or more');
    if (ms === this.#latencyMs) return;
    this.#latencyMs = ms;
    this.#hooks.linkChanged(this);
  }

  /** Clears the link faults: link up, latency 0 (one `portLinkChanged` when anything changed). */
  restore(): void {
    if (this.#link === 'up' && this.#latencyMs === 0) return;
    this.#link = 'up';
    this.#latencyMs = 0;
    this.#hooks.linkChanged(this);
  }

  /** True when `lun` is reachable through this port (its LUN map; the ACL is not consulted). */
  exposes(lun: Lun): boolean {
    return this.#luns === undefined || this.#luns.has(lun);
  }

  /** True when `initiator` may reach `lun` through this port (the port's LUN map and ACL only). */
  admits(initiator: InitiatorPort, lun: Lun): boolean {
    if (!this.exposes(lun)) return false;
    return this.#initiators === undefined || this.#initiators.has(initiator.deviceName);
  }
}

/** An I_T nexus (SAM-5 4.7): an initiator port and a target port. */
export interface ItNexus {
  /** The initiator port. */
  readonly initiator: InitiatorPort;
  /** The target port. */
  readonly target: TargetPort;
  /** A key naming the nexus, equal for equal nexuses: the two port names. */
  readonly key: string;
}

/** The initiator port an in-process name stands for (its device name is itself). */
export function initiatorPort(name: string): InitiatorPort {
  return { name, deviceName: name };
}

/** The iSCSI initiator port of `initiatorName` and `isidHex` (12 hex digits): `name,i,0x<ISID>` (RFC 7143 13.4). */
export function iscsiInitiatorPort(initiatorName: string, isidHex: string): InitiatorPort {
  return { name: `${initiatorName},i,0x${isidHex.toLowerCase()}`, deviceName: initiatorName };
}

/** The I_T nexus of `initiator` (a port, or an in-process name) and `target`. */
export function itNexus(initiator: InitiatorPort | string, target: TargetPort): ItNexus {
  const port = typeof initiator === 'string' ? initiatorPort(initiator) : initiator;
  return { initiator: port, target, key: `${port.name}\u0000${target.name}` };
}

/** True when `value` is an {@link ItNexus} (a shape check: `execute` never throws on bad input). */
export function isItNexus(value: unknown): value is ItNexus {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ItNexus>;
  return (
    v.target instanceof TargetPort &&
    typeof v.key === 'string' &&
    typeof v.initiator === 'object' &&
    v.initiator !== null &&
    typeof v.initiator.name === 'string' &&
    typeof v.initiator.deviceName === 'string'
  );
}

const PORT_OPTION_KEYS = ['name', 'relativeId', 'groupId', 'luns', 'initiators'];

/** @internal The target ports of one array, by relative identifier. */
export class TargetPortSet {
  readonly #ports = new Map<number, TargetPort>();
  #sorted: readonly TargetPort[] | undefined;

  /** Every port, by ascending relative identifier. */
  get all(): readonly TargetPort[] {
    this.#sorted ??= Object.freeze([...this.#ports.values()].sort((a, b) => a.relativeId - b.relativeId));
    return this.#sorted;
  }

  /** Validates `options` and adds the port. */
  add(options: TargetPortOptions, isLun: (value: unknown) => boolean, hooks: TargetPortHooks): TargetPort {
    checkOptionKeys(options, PORT_OPTION_KEYS, 'addTargetPort');
    if (typeof options.name !== 'string' || options.name.length === 0) throw new InvalidArgumentError('addTargetPort: name must be a non-empty string');
    // VPD 83h carries the name as a null-terminated SCSI name string of at most 256 bytes (SPC-4 7.8.6.10).
    if (new TextEncoder().encode(options.name).length > 252) throw new InvalidArgumentError('addTargetPort: name must be at most 252 bytes of UTF-8');
    if (this.all.some((p) => p.name === options.name)) throw new InvalidArgumentError(`addTargetPort: a port named '${options.name}' exists`);
    let id = options.relativeId;
    if (id === undefined) {
      id = 1;
      while (this.#ports.has(id)) id++;
    }
    checkInteger(id, 1, 0xffff, 'addTargetPort: relativeId');
    if (this.#ports.has(id)) throw new InvalidArgumentError(`addTargetPort: relative target port ${id} exists`);
    const group = checkInteger(options.groupId ?? 0, 0, 0xffff, 'addTargetPort: groupId');
    if (options.luns !== undefined && (!Array.isArray(options.luns) || !options.luns.every(isLun))) {
      throw new InvalidArgumentError('addTargetPort: luns must be an array of LUNs of this array');
    }
    if (options.initiators !== undefined && (!Array.isArray(options.initiators) || !options.initiators.every((i) => typeof i === 'string'))) {
      throw new InvalidArgumentError('addTargetPort: initiators must be an array of strings');
    }
    const port = new TargetPort(options.name, id, group, options, hooks);
    this.#ports.set(id, port);
    this.#sorted = undefined;
    return port;
  }

  /** Removes `port`; false when it is not one of these. */
  remove(port: TargetPort): boolean {
    if (this.#ports.get(port.relativeId) !== port) return false;
    this.#ports.delete(port.relativeId);
    this.#sorted = undefined;
    return true;
  }
}
