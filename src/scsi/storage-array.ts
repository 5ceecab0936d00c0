/**
 * The array as a SCSI target device: the volume manager's pool and volumes, each exported as a
 * logical unit, its target ports (relative target port 1 is the default one in-process callers use),
 * the access rules those ports carry, and fault injection.
 * @module
 */
import type { VolumeInit } from '../array/volume.js';
import { VolumeManager, type StorageArrayOptions } from '../array/volume-manager.js';
import { InvalidArgumentError, checkOptionKeys } from '../common/errors.js';
import type { CommandContext } from './context.js';
import { FaultInjector } from './faults.js';
import { Lun } from './logical-unit.js';
import { TargetPortSet, isItNexus, itNexus, type ItNexus, type TargetPort, type TargetPortOptions } from './ports.js';

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
  /** Nexuses of in-process names (through the default port), made once each. */
  readonly #nexuses = new Map<string, ItNexus>();

  /** Creates an array; throws {@link InvalidArgumentError} for invalid options. */
  constructor(options: StorageArrayOptions) {
    super(options);
    this.defaultTargetPort = this.#ports.add({ name: defaultPortName(this.arrayId), relativeId: 1 }, () => true);
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
    return this.#ports.add(options, (l) => l instanceof Lun && l.array === this);
  }

  /**
   * Removes a target port: every nexus through it is lost (SAM-5 6.3.4: its reservations released,
   * its unit attentions and held copy results forgotten). The default port cannot be removed.
   */
  removeTargetPort(port: TargetPort): void {
    if (port === this.defaultTargetPort) throw new InvalidArgumentError('removeTargetPort: the default target port stays');
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
