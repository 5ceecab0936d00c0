/**
 * Ports and I_T nexuses as values (SAM-5 4.6.4, 4.6.5, 4.7): a target port (its RELATIVE TARGET PORT
 * IDENTIFIER, its target port group and its SCSI name), an initiator port, and the I_T nexus, the
 * pair of the two. Unit attentions, SCSI-2 reservations and held copy results are kept per nexus, so
 * one initiator port reaching a logical unit through two target ports holds two nexuses.
 * @module
 */
import { InvalidArgumentError, checkInteger, checkOptionKeys } from '../common/errors.js';
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

/** A SCSI target port of an array. Make one with `StorageArray.addTargetPort`. */
export class TargetPort {
  /** RELATIVE TARGET PORT IDENTIFIER (SPC-4 7.8.6.5): 1..65535. */
  readonly relativeId: number;
  /** TARGET PORT GROUP (SPC-4 7.8.6.6). */
  readonly groupId: number;
  /** The port's SCSI name string, e.g. `iqn.…,t,0x0001`. */
  readonly name: string;
  readonly #luns: ReadonlySet<Lun> | undefined;
  readonly #initiators: ReadonlySet<string> | undefined;

  /** @internal Use `StorageArray.addTargetPort`. */
  constructor(name: string, relativeId: number, groupId: number, access: TargetPortAccess) {
    this.name = name;
    this.relativeId = relativeId;
    this.groupId = groupId;
    this.#luns = access.luns === undefined ? undefined : new Set(access.luns);
    this.#initiators = access.initiators === undefined ? undefined : new Set(access.initiators);
  }

  /** True when `initiator` may reach `lun` through this port (the port's LUN map and ACL only). */
  admits(initiator: InitiatorPort, lun: Lun): boolean {
    if (this.#luns !== undefined && !this.#luns.has(lun)) return false;
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
  add(options: TargetPortOptions, isLun: (value: unknown) => boolean): TargetPort {
    checkOptionKeys(options, PORT_OPTION_KEYS, 'addTargetPort');
    if (typeof options.name !== 'string' || options.name.length === 0) throw new InvalidArgumentError('addTargetPort: name must be a non-empty string');
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
    const port = new TargetPort(options.name, id, group, options);
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
