/**
 * The array as a SCSI target device: the volume manager's pool and volumes, each exported as a
 * logical unit, its target ports (relative target port 1 is the default one in-process callers use),
 * the access rules those ports carry, and fault injection.
 * @module
 */
import type { VolumeInit } from '../array/volume.js';
import { VolumeManager, type StorageArrayOptions } from '../array/volume-manager.js';
import { InvalidArgumentError, checkInteger, checkOptionKeys } from '../common/errors.js';
import { AluaStatus, type AluaState } from '../spec/alua.js';
import { TargetPortGroup, isAluaState, type TargetPortGroupSettings } from './alua.js';
import type { CommandContext } from './context.js';
import { FaultInjector } from './faults.js';
import { Lun } from './logical-unit.js';
import { TargetPortSet, isItNexus, itNexus, type ItNexus, type TargetPort, type TargetPortHooks, type TargetPortOptions } from './ports.js';

export type { StorageArrayOptions, CloneMode } from '../array/volume-manager.js';

/** Name of the default target port: the array's own, `vaai-sim.<arrayId>,t,0x0001`. */
function defaultPortName(arrayId: number): string {
  return `vaai-sim.${arrayId.toString(16).padStart(8, '0')},t,0x0001`;
}

/** A simulated block-storage array with one thin pool: a SCSI target device with one or more target ports. */
export class StorageArray extends VolumeManager<Lun> {
  /** Fault injection rules (none by default). */
  readonly faults = new FaultInjector();
  /**
   * The default target port (RELATIVE TARGET PORT IDENTIFIER 1): the one `{ initiator }` in
   * `execute`'s options goes through. It exposes every LUN to every initiator (each LUN's own
   * `initiators` list still applies).
   */
  readonly defaultTargetPort: TargetPort;
  readonly #ports = new TargetPortSet();
  /** Target port groups by id. */
  readonly #groups = new Map<number, TargetPortGroup>();
  readonly #portHooks: TargetPortHooks = {
    groupOf: (id) => this.#groupOf(id),
    linkChanged: (port) => {
      if (this.hasListeners('portLinkChanged')) this.emit('portLinkChanged', { relativeId: port.relativeId, link: port.link, latencyMs: port.latencyMs });
    },
  };
  /** Nexuses of in-process names (through the default port), made once each. */
  readonly #nexuses = new Map<string, ItNexus>();

  /** Creates an array; throws {@link InvalidArgumentError} for invalid options. */
  constructor(options: StorageArrayOptions) {
    super(options);
    this.defaultTargetPort = this.#ports.add({ name: defaultPortName(this.arrayId), relativeId: 1 }, () => true, this.#portHooks);
  }

  #groupOf(id: number): TargetPortGroup {
    let group = this.#groups.get(id);
    if (group === undefined) {
      group = new TargetPortGroup(id, () => this.#ports.all);
      this.#groups.set(id, group);
    }
    return group;
  }

  /**
   * Every target port group, by ascending TARGET PORT GROUP: one for every group id a target port
   * names (group 0 holds the default port) and every group configured with
   * {@link StorageArray.configureTargetPortGroup}.
   */
  get targetPortGroups(): readonly TargetPortGroup[] {
    return [...this.#groups.values()].sort((a, b) => a.id - b.id);
  }

  /** The target port group `id`, if it exists. */
  targetPortGroup(id: number): TargetPortGroup | undefined {
    return this.#groups.get(id);
  }

  /**
   * Configures target port group `id` (0..65535), making it if it does not exist yet (ports added
   * later with that `groupId` join it). A `state` here is configuration, as set up before hosts
   * connect: no unit attention, no `aluaStateChanged`, STATUS CODE unchanged; a change hosts must be
   * told about is {@link StorageArray.setTargetPortGroupState}. Throws {@link InvalidArgumentError}
   * for an invalid id or setting.
   */
  configureTargetPortGroup(id: number, settings: TargetPortGroupSettings): TargetPortGroup {
    checkInteger(id, 0, 0xffff, 'configureTargetPortGroup: id');
    if (typeof settings !== 'object' || settings === null) throw new InvalidArgumentError('configureTargetPortGroup: settings must be an object');
    const existing = this.#groups.get(id);
    const group = existing ?? new TargetPortGroup(id, () => this.#ports.all);
    group.configure(settings, 'configureTargetPortGroup');
    if (existing === undefined) this.#groups.set(id, group);
    return group;
  }

  /**
   * An implicit asymmetric access state change of group `id` (SPC-4 5.16.2.8), as the array's own
   * failover makes it: with `transitionMs` > 0 the group is first transitioning for that long, then
   * in `state`. Each change sets STATUS CODE 02h, establishes UNIT ATTENTION 06/2A/06 ASYMMETRIC
   * ACCESS STATE CHANGED for every I_T nexus of every LUN the group's ports expose, and emits
   * `aluaStateChanged` (`explicit: false`). Resolves once the group is in `state`, or when a later
   * change of the group overtook this one (that change then stands). Throws
   * {@link InvalidArgumentError} for a group that does not exist or an invalid state or option.
   */
  async setTargetPortGroupState(id: number, state: AluaState, options: { readonly transitionMs?: number } = {}): Promise<void> {
    const group = this.#groups.get(id);
    if (group === undefined) throw new InvalidArgumentError(`setTargetPortGroupState: no target port group ${String(id)}`);
    if (!isAluaState(state)) throw new InvalidArgumentError(`setTargetPortGroupState: state must be an asymmetric access state, not ${String(state)}`);
    checkOptionKeys(options, ['transitionMs'], 'setTargetPortGroupState');
    const ms = options.transitionMs ?? 0;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError('setTargetPortGroupState: transitionMs must be a finite number of ms, 0 or more');
    // Already there (and no port of it offline): nothing to do, no transition either (as LIO).
    if (group.state === state && group.ports.every((p) => !p.offline)) return;
    if (ms > 0 && state !== 'transitioning') {
      this.changeAluaState(group, 'transitioning', undefined);
      const generation = group.generation;
      await new Promise<void>((resolve) => setTimeout(resolve, ms));
      if (group.generation !== generation) return;
    }
    this.changeAluaState(group, state, undefined);
  }

  /**
   * @internal Changes `group` to `state` (and brings its offline ports back): STATUS CODE 01h when
   * `issuer` (the nexus of a SET TARGET PORT GROUPS) is given, else 02h; UNIT ATTENTION 06/2A/06 for
   * every nexus of every LUN the group exposes but `issuer`; `aluaStateChanged`. Nothing when the
   * group already is in `state` with no port offline.
   */
  changeAluaState(group: TargetPortGroup, state: AluaState, issuer: ItNexus | undefined): void {
    const from = group.state;
    const ports = group.ports;
    const offline = ports.filter((p) => p.offline);
    if (from === state && offline.length === 0) return;
    group.setState(state, issuer === undefined ? AluaStatus.IMPLICIT : AluaStatus.EXPLICIT);
    for (const port of offline) port.setOffline(false);
    this.#tellNexuses(ports, issuer);
    if (this.hasListeners('aluaStateChanged')) this.emit('aluaStateChanged', { groupId: group.id, from, to: state, explicit: issuer !== undefined });
  }

  /** @internal SET TARGET PORT GROUPS' offline descriptor: `port` alone goes offline, everyone but `issuer` is told. */
  takePortOffline(port: TargetPort, issuer: ItNexus): void {
    if (port.offline) return;
    const from = port.aluaState;
    port.setOffline(true);
    port.group.generation++;
    this.#tellNexuses([port], issuer);
    if (this.hasListeners('aluaStateChanged')) this.emit('aluaStateChanged', { groupId: port.groupId, relativeId: port.relativeId, from, to: 'offline', explicit: true });
  }

  /** UNIT ATTENTION 06/2A/06 for every nexus of every LUN one of `ports` exposes, but `except`. */
  #tellNexuses(ports: readonly TargetPort[], except: ItNexus | undefined): void {
    for (const lun of this.luns) {
      if (ports.some((p) => p.exposes(lun))) lun.raiseUnitAttention('ASYMMETRIC_ACCESS_STATE_CHANGED', except);
    }
  }

  /** The array's target ports, by ascending relative target port identifier. */
  get targetPorts(): readonly TargetPort[] {
    return this.#ports.all;
  }

  /**
   * Adds a target port: its name, relative identifier and group, and which LUNs it exposes to which
   * initiators. A transport (the iSCSI server) adds one per target it serves and removes it on close.
   */
  addTargetPort(options: TargetPortOptions): TargetPort {
    return this.#ports.add(options, (l) => l instanceof Lun && l.array === this, this.#portHooks);
  }

  /**
   * Removes a target port: every nexus through it is lost (SAM-5 6.3.4: its reservations released,
   * its unit attentions and held copy results forgotten). The default port may be removed too, for
   * an array reached only through a transport (`vaai-sim serve` does so): REPORT TARGET PORT GROUPS,
   * VPD 83h and ALL_TG_PT then name only the transport's ports, and `{ initiator }` in-process
   * reaches no LUN (LOGICAL UNIT NOT SUPPORTED).
   */
  removeTargetPort(port: TargetPort): void {
    if (!this.#ports.remove(port)) throw new InvalidArgumentError(`removeTargetPort: no port '${String(port?.name)}' in this array`);
    for (const lun of this.luns) lun.portLost(port);
  }

  /** True when `port` is one of this array's target ports. */
  hasTargetPort(port: TargetPort): boolean {
    return this.#ports.all.includes(port);
  }

  /**
   * The I_T nexus `execute`'s `{ initiator }` shorthand stands for: that initiator port through the
   * default target port.
   */
  nexusOf(initiator: string): ItNexus {
    let nexus = this.#nexuses.get(initiator);
    if (nexus === undefined) {
      nexus = itNexus(initiator, this.defaultTargetPort);
      this.#nexuses.set(initiator, nexus);
    }
    return nexus;
  }

  /**
   * I_T nexus loss (SAM-5 6.3.4) of `nexus` on every LUN, as a transport reports it when a session
   * ends: the nexus's SCSI-2 reservation is released, its pending unit attentions and held copy results
   * are forgotten. With `reinstated` (an iSCSI session reinstatement, RFC 7143 6.3.5: the same nexus
   * continues at once in a new session), every LUN the nexus may access then establishes UNIT
   * ATTENTION 06/29/07 I_T NEXUS LOSS OCCURRED for it (SAM-5 6.3.4). Other nexuses are not told.
   */
  nexusLost(nexus: ItNexus, options: { readonly reinstated?: boolean } = {}): void {
    if (!isItNexus(nexus)) throw new InvalidArgumentError('nexusLost: nexus must be an I_T nexus (itNexus)');
    checkOptionKeys(options, ['reinstated'], 'nexusLost');
    for (const lun of this.luns) {
      lun.nexusLost(nexus);
      if (options.reinstated === true && lun.accessibleBy(nexus)) lun.nexus(nexus).unitAttentions.unshift('I_T_NEXUS_LOSS_OCCURRED');
    }
  }

  /** @internal LUNs `initiator` (a nexus, or an in-process name) may access. */
  lunsVisibleTo(initiator: string | ItNexus): readonly Lun[] {
    const nexus = typeof initiator === 'string' ? this.nexusOf(initiator) : initiator;
    const all = this.luns;
    return all.every((lun) => lun.accessibleBy(nexus)) ? all : all.filter((lun) => lun.accessibleBy(nexus));
  }

  /** @internal Numbers of the LUNs `initiator` may access, ascending. */
  visibleLunIds(initiator: string | ItNexus): number[] {
    return this.lunsVisibleTo(initiator).map((lun) => lun.id);
  }

  /** @internal */
  reportOutOfSpace(ctx: CommandContext, opcode: number, neededUnits: number, freeUnits: number): void {
    if (this.hasListeners('outOfSpace')) this.emit('outOfSpace', { lunId: ctx.lun.id, initiator: ctx.initiator, opcode, neededUnits, freeUnits });
  }

  /** @internal */
  reportCopyProgress(ctx: CommandContext, listId: number, segmentsProcessed: number, segmentCount: number, bytesTransferred: number, bytesShared: number): void {
    if (this.hasListeners('copyProgress')) {
      this.emit('copyProgress', { lunId: ctx.lun.id, initiator: ctx.initiator, listId, segmentsProcessed, segmentCount, bytesTransferred, bytesShared });
    }
  }

  /** @internal */
  protected newVolume(init: VolumeInit): Lun {
    return new Lun(this, this.pool, init);
  }

  /** @internal Every nexus of every thin LUN gets UNIT ATTENTION 06/38/07 (SBC-3 4.7.3.7). */
  protected onThresholdCrossed(): void {
    for (const lun of this.luns) if (lun.thin) lun.raiseUnitAttention('THIN_PROVISIONING_SOFT_THRESHOLD_REACHED');
  }
}
