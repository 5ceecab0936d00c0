/**
 * The SCSI logical unit that exports a volume: its per-I_T-nexus state (unit attentions, held copy
 * results), its SCSI-2 reservation, its access rule and `execute`, the one entry point for commands.
 * @module
 */
import type { MaybePromise } from '../common/maybe-promise.js';
import type { SenseFormat } from '../codec/sense-encoder.js';
import type { ThinPool } from '../array/thin-pool.js';
import { Volume, type VolumeInit } from '../array/volume.js';
import type { ExecuteOptions, NexusState } from './context.js';
import { dispatch } from './dispatch.js';
import type { ScsiResult } from './outcome.js';
import { isItNexus, type ItNexus } from './ports.js';
import { ModePages } from './spc/mode-pages.js';
import { DEFAULT_SANITIZE_OVERWRITE_RATE, SanitizeState } from './sbc/sanitize.js';
import { checkPositiveInteger } from '../common/errors.js';
import { PersistentReservations, registrationMatches, type Registration } from './pr/state.js';
import type { StorageArray } from './storage-array.js';

/** A logical unit. Create one with {@link StorageArray.createLun}. */
export class Lun extends Volume {
  /** The array this LUN belongs to. */
  readonly array: StorageArray;
  /** @internal The I_T nexus holding the SCSI-2 reservation, if any. */
  reservation: ItNexus | undefined;
  /** @internal The current values of the mode pages (MODE SELECT sets them, MODE SENSE reports them). */
  readonly modePages = new ModePages();
  #sanitizeOverwriteRate = DEFAULT_SANITIZE_OVERWRITE_RATE;
  /** @internal The sanitize in progress, or sanitize failure mode (SBC-4 4.11); a reset leaves it as it is. */
  readonly sanitizeState: SanitizeState = new SanitizeState(this);
  /** @internal The persistent reservation state (SPC-4 5.13): it survives resets and I_T nexus loss. */
  readonly persistentReservations = new PersistentReservations();
  /** @internal Commands waiting to run (a fault rule's delay), each with the nexus it came on and how to abort it. */
  readonly delayedTasks = new Set<{ readonly nexus: ItNexus; readonly abort: () => void }>();
  readonly #nexuses = new Map<string, NexusState>();

  /** @internal Use {@link StorageArray.createLun}. */
  constructor(array: StorageArray, pool: ThinPool, init: VolumeInit) {
    super(pool, init);
    this.array = array;
  }

  /** The initiator port holding a SCSI-2 reservation on this LUN, if any (its name). */
  get reservedBy(): string | undefined {
    return this.reservation?.initiator.name;
  }

  /** True when `initiator` (a nexus, or an in-process name through the default target port) may access this LUN. */
  accessibleBy(initiator: string | ItNexus): boolean {
    const nexus = typeof initiator === 'string' ? this.array.nexusOf(initiator) : initiator;
    if (this.initiators !== undefined && !this.initiators.has(nexus.initiator.deviceName)) return false;
    return this.array.hasTargetPort(nexus.target) && nexus.target.admits(nexus.initiator, this);
  }

  /**
   * Executes one SCSI command: `cdb` is the CDB, `dataOut` the Data-Out buffer (its length must be what
   * the CDB implies). Never throws: malformed input is answered with CHECK CONDITION and sense, and a
   * failed command changes nothing (except an EXTENDED COPY that ran out of space, which keeps what it
   * copied and reports it through COPY STATUS). Returns synchronously unless a fault rule delays the command,
   * or it comes through an active/non-optimized port whose group has a `nonOptimizedDelayMs`.
   */
  execute(cdb: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): MaybePromise<ScsiResult> {
    return dispatch(this, cdb, dataOut, options);
  }

  /** The format of the sense data this LUN returns: descriptor while the Control mode page's D_SENSE is one (SPC-5 7.5.10), else fixed. */
  get senseFormat(): SenseFormat {
    return this.modePages.descriptorSense ? 'descriptor' : 'fixed';
  }

  /**
   * Media overwrite rate of SANITIZE OVERWRITE, in bytes per second (a positive integer; anything else
   * throws `InvalidArgumentError`): each pass over the LUN takes its size divided by this, during which
   * the sanitize is in progress. Read when each slice is written, so a change applies to a sanitize
   * already running. @defaultValue 100 MiB/s
   */
  get sanitizeOverwriteRate(): number {
    return this.#sanitizeOverwriteRate;
  }

  /** Sets the rate; throws `InvalidArgumentError` unless `bytesPerSecond` is a positive integer. */
  set sanitizeOverwriteRate(bytesPerSecond: number) {
    this.#sanitizeOverwriteRate = checkPositiveInteger(bytesPerSecond, 'Lun.sanitizeOverwriteRate');
  }

  /** True while a sanitize operation (SANITIZE OVERWRITE) is in progress on this LUN. */
  get sanitizeInProgress(): boolean {
    return this.sanitizeState.inProgress;
  }

  /** True while software write protect (the Control mode page's SWP, set by MODE SELECT) stands. */
  get writeProtected(): boolean {
    return this.modePages.softwareWriteProtect;
  }

  /**
   * LOGICAL UNIT RESET (SAM-5 6.3), as a task management request does it: the SCSI-2 reservation is
   * released, the mode parameters return to their default values (SAM-5 6.3.3: there are no saved
   * values) and every nexus, the requester's included, gets UNIT ATTENTION 06/29/03 (libiscsi's
   * MultipathIO.Reset checks both paths).
   */
  reset(): void {
    this.reservation = undefined;
    this.modePages.restoreDefaults();
    this.raiseUnitAttention('BUS_DEVICE_RESET_FUNCTION_OCCURRED');
  }

  /**
   * I_T nexus loss (SAM-5 6.3.4; a session logged out or its connection dropped): the nexus's SCSI-2
   * reservation is released and its state (unit attentions, held copy results) forgotten. A string
   * names the in-process initiator's nexus through the default target port.
   */
  nexusLost(initiator: string | ItNexus): void {
    const nexus = typeof initiator === 'string' ? this.array.nexusOf(initiator) : initiator;
    if (!isItNexus(nexus)) return;
    if (this.reservation?.key === nexus.key) this.reservation = undefined;
    this.#nexuses.delete(nexus.key);
  }

  /** @internal Forgets every nexus through `port` (the port was removed: an I_T nexus loss for each). */
  portLost(port: ItNexus['target']): void {
    if (this.reservation?.target === port) this.reservation = undefined;
    for (const [key, state] of this.#nexuses) if (state.nexus.target === port) this.#nexuses.delete(key);
  }

  /** @internal State of `nexus`, created on first use. */
  nexus(nexus: ItNexus): NexusState {
    let state = this.#nexuses.get(nexus.key);
    if (state === undefined) {
      state = { nexus, unitAttentions: [], copyResults: new Map() };
      // A nexus that first appears while the soft threshold stands crossed is told too.
      if (this.thin && this.array.thresholdReported) state.unitAttentions.push('THIN_PROVISIONING_SOFT_THRESHOLD_REACHED');
      this.#nexuses.set(nexus.key, state);
    }
    return state;
  }

  /**
   * @internal Queues a unit attention for the I_T nexus of a persistent reservation registration (once):
   * for a registration by iSCSI name, every nexus of that name through its port that has state here.
   */
  unitAttentionFor(reg: Registration, reason: NexusState['unitAttentions'][number]): void {
    const states = reg.byName ? [...this.#nexuses.values()].filter((s) => registrationMatches(reg, s.nexus)) : [this.nexus(PersistentReservations.nexusOf(reg))];
    for (const state of states) if (!state.unitAttentions.includes(reason)) state.unitAttentions.push(reason);
  }

  /** @internal Aborts the delayed commands of every nexus `match` accepts (PREEMPT AND ABORT, SPC-4 5.13.11.2.6). */
  abortTasksOf(match: (nexus: ItNexus) => boolean): void {
    for (const task of [...this.delayedTasks]) if (match(task.nexus)) task.abort();
  }

  /**
   * @internal Queues a unit attention on every nexus but `except` (once: a pending identical one is
   * not repeated).
   */
  raiseUnitAttention(reason: NexusState['unitAttentions'][number], except?: ItNexus): void {
    for (const state of this.#nexuses.values()) {
      if (state.nexus.key === except?.key) continue;
      if (!state.unitAttentions.includes(reason)) state.unitAttentions.push(reason);
    }
  }
}
