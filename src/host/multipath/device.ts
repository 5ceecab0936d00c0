/**
 * A multipath device in the manner of ESXi's native multipathing plug-in (NMP): any number of paths
 * to one logical unit (in-process LUNs through different target ports, iSCSI sessions to different
 * portals, any {@link ScsiTarget}), claimed by their VPD 83h logical-unit designator, made into one
 * device that keeps the `execute` contract. A storage-array type policy (SATP) says what the paths'
 * answers mean (ALUA: REPORT TARGET PORT GROUPS, 06/2A/06, 02/04/0A, 02/04/0B), a path selection
 * policy (PSP) chooses the path of each command, and a path checker (TEST UNIT READY every interval)
 * finds dead paths again. Choices and sources: docs/decisions/multipath.md.
 * @module
 */
import { TypedEmitter } from '../../array/events.js';
import { toHex } from '../../codec/bytes.js';
import * as cdb from '../../codec/cdb-encoder.js';
import { decodeSense } from '../../codec/sense-decoder.js';
import { decodeDeviceIdentification } from '../../codec/vpd-decoder.js';
import { checkOptions, is, type ValueCheck } from '../../common/errors.js';
import type { AluaState } from '../../spec/alua.js';
import { SenseKey } from '../../spec/sense.js';
import type { ExecuteOptions } from '../../scsi/context.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import { AllPathsDownError, OutcomeUnknownError, PathClaimError, PathTransportError, PermanentDeviceLossError } from '../errors.js';
import type { ScsiTarget } from '../target.js';
import { readTargetPortGroups, setTargetPortGroupActive, type GroupReport } from './alua.js';
import { checkVerdict, classifyAnswer, isIdempotent } from './classify.js';
import { isPathSelectionPolicy, selectorFor, type PathSelectionPolicy, type PathSelector, type SelectablePath } from './psp.js';
import { clockTimers, realTimers, type MultipathClock, type Timers } from './timers.js';

/** A path's state, as ESXi shows it: `active` (may carry I/O), `standby` (reachable, its port group refuses I/O), `dead`. */
export type PathState = 'active' | 'standby' | 'dead';

/** One path given to a device: a target, and optionally its name. */
export interface PathSpec {
  /** The path: anything with `execute` (an `InProcessPath`, an iSCSI session's LUN, a `Lun`). */
  readonly target: ScsiTarget;
  /** Its name in reports and events. @defaultValue the target's `description`, else `path<N>` */
  readonly name?: string;
}

/** Options of {@link MultipathDevice.create}. */
export interface MultipathDeviceOptions {
  /** The paths (at least one); every one must report the same logical-unit designator. */
  readonly paths: readonly (ScsiTarget | PathSpec)[];
  /** The device's name. @defaultValue `naa.<designator in hex>` */
  readonly name?: string;
  /**
   * The storage-array type policy: `alua` (VMW_SATP_ALUA: port groups, 06/2A/06 and 02/04/0B are
   * failover triggers) or `default` (VMW_SATP_DEFAULT_AA: every path active, only transport loss,
   * 02/04/03 and 02/04/0A fail over). @defaultValue `alua` when INQUIRY's TPGS is not 0 and VPD 83h names a target port group, else `default`
   */
  readonly satp?: 'alua' | 'default';
  /** The path selection policy. @defaultValue `{ policy: 'mru' }` with ALUA (VMW_SATP_ALUA's default PSP), else `{ policy: 'fixed' }` */
  readonly policy?: PathSelectionPolicy;
  /** The clock timeouts, back-off and the checker run on (a `SimClock`, for one). @defaultValue real timers */
  readonly clock?: MultipathClock;
  /** How long a path may take to answer one command before it is given up as lost, in ms. @defaultValue 30000 */
  readonly commandTimeoutMs?: number;
  /** All paths down: how long commands wait for a path before failing with `AllPathsDownError`, in ms. @defaultValue 140000 (ESXi's Misc.APDTimeout) */
  readonly apdTimeoutMs?: number;
  /** TEST UNIT READY down every path this often, in ms; 0: no checker. @defaultValue 5000 (multipathd's polling_interval) */
  readonly checkerIntervalMs?: number;
  /**
   * How long a path may stay in transition (02/04/0A) before it is treated as standby, in ms.
   * @defaultValue the IMPLICIT TRANSITION TIME REPORT TARGET PORT GROUPS reports, or 60000 when it is 0 (Linux's ALUA_FAILOVER_TIMEOUT)
   */
  readonly transitionTimeoutMs?: number;
  /** Activate a standby group with SET TARGET PORT GROUPS when no path is active, where TPGS says explicit ALUA. @defaultValue false */
  readonly activateStandby?: boolean;
}

/** Counters of one path. */
export interface PathStats {
  /** Commands sent down the path (device commands, retries, the checker's and the SATP's own). */
  commands: number;
  /** Data-Out bytes of the commands the path answered. */
  bytesOut: number;
  /** Data-In bytes the path returned. */
  bytesIn: number;
  /** Commands lost in transport (link down, timeout). */
  transportErrors: number;
  /** TEST UNIT READY commands of the path checker. */
  checks: number;
}

/** Counters of one device. */
export interface MultipathStats {
  /** Commands given to the device. */
  commands: number;
  /** Commands that moved to another path after a failover trigger. */
  failovers: number;
  /** Times a command was sent again (on the same or another path) after an answer or loss that said it had not completed. */
  retries: number;
  /** Commands failed with `OutcomeUnknownError`. */
  outcomeUnknown: number;
  /** Commands failed with `AllPathsDownError`. */
  apdTimeouts: number;
  /** REPORT TARGET PORT GROUPS reads. */
  groupReads: number;
}

/** What a device reports about one of its paths. */
export interface PathInfo {
  /** The path's name. */
  readonly name: string;
  /** Its state. */
  readonly state: PathState;
  /** TARGET PORT GROUP of its target port (VPD 83h designator type 5), when it reports one. */
  readonly groupId: number | undefined;
  /** RELATIVE TARGET PORT IDENTIFIER (VPD 83h type 4), when reported. */
  readonly relativePortId: number | undefined;
  /** The asymmetric access state of its group as last read, with ALUA. */
  readonly aluaState: AluaState | undefined;
  /** Its counters. */
  readonly stats: Readonly<PathStats>;
}

/** A path's state changed. */
export interface PathStateChangedEvent {
  /** The path. */
  readonly path: string;
  /** Its state before. */
  readonly from: PathState;
  /** Its state now. */
  readonly to: PathState;
  /** What changed it: the answer (`2/04/0b ...`), `transport: ...`, `checker: ...`, `REPORT TARGET PORT GROUPS`. */
  readonly reason: string;
}

/** A command moved from one path to another. */
export interface FailoverEvent {
  /** The path it left. */
  readonly from: string;
  /** The path it moved to. */
  readonly to: string;
  /** Its operation code. */
  readonly opcode: number;
  /** Why: `transport`, or the sense that triggered the failover. */
  readonly reason: string;
}

/** A target port group's asymmetric access state changed, as REPORT TARGET PORT GROUPS (or a sense) told. */
export interface GroupStateChangedEvent {
  /** TARGET PORT GROUP. */
  readonly groupId: number;
  /** The state before (undefined before the first read). */
  readonly from: AluaState | undefined;
  /** The state now. */
  readonly to: AluaState;
}

/** Every event of a {@link MultipathDevice}, by name. */
export interface MultipathEvents {
  /** A path's state changed. */
  pathStateChanged: PathStateChangedEvent;
  /** A command moved from one path to another. */
  failover: FailoverEvent;
  /** A target port group's state changed. */
  groupStateChanged: GroupStateChangedEvent;
  /** No path left: commands wait (all paths down) from `since` (ms on the device's clock). */
  allPathsDown: {
    /** When the device found itself without a path. */
    readonly since: number;
  };
  /** A path is usable again after all paths were down. */
  pathsRestored: {
    /** How long the device was without a path, in ms. */
    readonly downMs: number;
  };
  /** Every path answered LOGICAL UNIT NOT SUPPORTED: the device is lost. */
  deviceLost: {
    /** The device's name. */
    readonly device: string;
  };
}

interface PathRecord {
  readonly name: string;
  readonly target: ScsiTarget;
  readonly groupId: number | undefined;
  readonly relativePortId: number | undefined;
  readonly stats: PathStats;
  /** The path carries commands (false after a transport loss or a dead verdict, until the checker finds it up). */
  alive: boolean;
  /** It answered LOGICAL UNIT NOT SUPPORTED. */
  lost: boolean;
  /** Non-ALUA devices: it answered 02/04/0B (standby) to the checker. */
  standby: boolean;
  /** It answered 02/04/0A (or its group is transitioning): retried after back-off until this time. */
  pendingUntil: number | undefined;
  /** The checker's TEST UNIT READY under way on it. */
  checking: Promise<void> | undefined;
}

interface GroupRecord {
  state: AluaState | undefined;
  preferred: boolean;
}

const DEVICE_OPTIONS = {
  paths: is.array((v, what) => {
    if (typeof (v as { execute?: unknown } | null)?.execute === 'function') return;
    checkOptions(v, { target: is.target, name: is.string }, what, ['target']);
  }, 1),
  name: is.string,
  satp: is.oneOf(['alua', 'default']),
  policy: isPathSelectionPolicy,
  clock: is.object,
  commandTimeoutMs: is.integer(1, 3_600_000),
  apdTimeoutMs: is.integer(0, 99_999_000),
  checkerIntervalMs: is.integer(0, 3_600_000),
  transitionTimeoutMs: is.integer(0, 3_600_000),
  activateStandby: is.boolean,
} as const satisfies Record<keyof MultipathDeviceOptions, ValueCheck>;

/** What a path says about itself when it is claimed. */
interface Identity {
  readonly designator: string;
  readonly tpgs: number;
  readonly groupId: number | undefined;
  readonly relativePortId: number | undefined;
}

const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2000;
const CHECK_UNIT_ATTENTION_RETRIES = 5;

/** A multipath device over any number of paths to one logical unit; itself a {@link ScsiTarget}. */
export class MultipathDevice extends TypedEmitter<MultipathEvents> implements ScsiTarget {
  /** The device's name (`naa.<hex>` unless given). */
  readonly description: string;
  /** The logical-unit designator every path reports, in hex. */
  readonly designator: string;
  /** The storage-array type policy in use. */
  readonly satp: 'alua' | 'default';
  /** INQUIRY's TPGS field (00b none, 01b implicit, 10b explicit, 11b both). */
  readonly tpgs: number;
  /** The device's counters. */
  readonly stats: MultipathStats = { commands: 0, failovers: 0, retries: 0, outcomeUnknown: 0, apdTimeouts: 0, groupReads: 0 };
  readonly #paths: PathRecord[] = [];
  readonly #groups = new Map<number, GroupRecord>();
  readonly #timers: Timers;
  readonly #selector: PathSelector;
  readonly #commandTimeoutMs: number;
  readonly #apdTimeoutMs: number;
  readonly #checkerIntervalMs: number;
  readonly #transitionTimeoutMs: number | undefined;
  readonly #activateStandby: boolean;
  #implicitTransitionMs = 0;
  #extendedHeader = true;
  #lost = false;
  #closed = false;
  #apdSince: number | undefined;
  #activationTried = false;
  #refreshing: Promise<boolean> | undefined;
  #waiters: Array<() => void> = [];
  #checker: Promise<void> | undefined;
  #cancelCheckerSleep: (() => void) | undefined;

  private constructor(options: MultipathDeviceOptions, first: Identity, timers: Timers) {
    super();
    this.#timers = timers;
    this.designator = first.designator;
    this.description = options.name ?? `naa.${first.designator}`;
    const alua = first.tpgs !== 0 && first.groupId !== undefined;
    this.satp = options.satp ?? (alua ? 'alua' : 'default');
    this.tpgs = first.tpgs;
    this.#selector = selectorFor(options.policy ?? (this.satp === 'alua' ? { policy: 'mru' } : { policy: 'fixed' }), () => this.#paths.map((p) => p.name));
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    this.#apdTimeoutMs = options.apdTimeoutMs ?? 140_000;
    this.#checkerIntervalMs = options.checkerIntervalMs ?? 5000;
    this.#transitionTimeoutMs = options.transitionTimeoutMs;
    this.#activateStandby = options.activateStandby === true;
  }

  /**
   * Claims `options.paths` (INQUIRY and VPD 83h down each), reads the port groups with ALUA, and
   * starts the path checker. Throws {@link PathClaimError} when a path reports another logical
   * unit's designator or none.
   */
  static async create(options: MultipathDeviceOptions): Promise<MultipathDevice> {
    checkOptions(options, DEVICE_OPTIONS, 'MultipathDevice', ['paths']);
    const timers = options.clock === undefined ? realTimers : clockTimers(options.clock);
    const specs = options.paths.map((p) => ('execute' in p ? { target: p, name: undefined } : p)).map((p, i) => ({ target: p.target, name: p.name ?? p.target.description ?? `path${i + 1}` }));
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new PathClaimError(s.name, 'another path has the same name');
      names.add(s.name);
    }
    const commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    const identities = await Promise.all(specs.map((s) => identify(s.name, s.target, timers, commandTimeoutMs)));
    const device = new MultipathDevice(options, identities[0]!, timers);
    specs.forEach((s, i) => device.#claim(s.name, s.target, identities[i]!));
    // REPORT TARGET PORT GROUPS down every path at claim, as ESXi's SATP_ALUA does (one view: each answer is the whole picture).
    if (device.satp === 'alua') for (const p of device.#paths) await device.#readGroupsVia(p);
    if (device.#checkerIntervalMs > 0) device.#checker = device.#checkLoop();
    return device;
  }

  /** Adds a path, after checking that it reaches the same logical unit ({@link PathClaimError} otherwise). */
  async addPath(path: ScsiTarget | PathSpec): Promise<void> {
    const spec = 'execute' in path ? { target: path, name: undefined } : path;
    is.target(spec.target, 'MultipathDevice.addPath: target');
    const name = spec.name ?? spec.target.description ?? `path${this.#paths.length + 1}`;
    if (this.#paths.some((p) => p.target === spec.target)) throw new PathClaimError(name, 'it is already a path of this device');
    if (this.#paths.some((p) => p.name === name)) throw new PathClaimError(name, 'another path has the same name');
    this.#claim(name, spec.target, await identify(name, spec.target, this.#timers, this.#commandTimeoutMs));
    if (this.satp === 'alua') await this.#readGroupsVia(this.#paths.at(-1)!);
    this.#notify();
  }

  /**
   * Removes the path named `name` (an iSCSI session that will not come back, to be replaced by a
   * new one with {@link MultipathDevice.addPath}); commands under way on it end as they would. False
   * when the device has no such path; the last path cannot be removed ({@link PathClaimError}).
   */
  removePath(name: string): boolean {
    const at = this.#paths.findIndex((p) => p.name === name);
    if (at < 0) return false;
    if (this.#paths.length === 1) throw new PathClaimError(name, 'it is the device\'s last path');
    this.#paths.splice(at, 1);
    this.#notify();
    return true;
  }

  #claim(name: string, target: ScsiTarget, id: Identity): void {
    if (id.designator !== this.designator) throw new PathClaimError(name, `it reaches logical unit ${id.designator}, not ${this.designator}`);
    if (this.satp === 'alua' && id.groupId === undefined) throw new PathClaimError(name, 'VPD 83h names no target port group (designator type 5), which ALUA needs');
    this.#paths.push({
      name,
      target,
      groupId: id.groupId,
      relativePortId: id.relativePortId,
      stats: { commands: 0, bytesOut: 0, bytesIn: 0, transportErrors: 0, checks: 0 },
      alive: true,
      lost: false,
      standby: false,
      pendingUntil: undefined,
      checking: undefined,
    });
    if (id.groupId !== undefined && !this.#groups.has(id.groupId)) this.#groups.set(id.groupId, { state: undefined, preferred: false });
  }

  /** The paths, in the order they were claimed. */
  get paths(): readonly PathInfo[] {
    return this.#paths.map((p) => ({
      name: p.name,
      state: this.#stateOf(p),
      groupId: p.groupId,
      relativePortId: p.relativePortId,
      aluaState: p.groupId === undefined ? undefined : this.#groups.get(p.groupId)?.state,
      stats: { ...p.stats },
    }));
  }

  /** The path the policy last chose (MRU, Round Robin) or prefers (Fixed). */
  get currentPath(): string | undefined {
    return this.#selector.current;
  }

  /** True once every path answered LOGICAL UNIT NOT SUPPORTED (permanent device loss). */
  get lost(): boolean {
    return this.#lost;
  }

  /**
   * Stops the path checker (commands still run). Checks already sent end with their answer or
   * timeout. On real timers the checker alone does not keep a process alive.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelCheckerSleep?.();
    await this.#checker;
  }

  /**
   * Executes `cdb` down the path the policy chooses, failing over as the SATP says, and answers as a
   * LUN does. Rejects (never with a SCSI answer it did not have) with {@link AllPathsDownError} when
   * no path came back within the APD timeout, {@link PermanentDeviceLossError} on permanent device
   * loss, and {@link OutcomeUnknownError} when a command that is not safe to re-issue was lost after
   * it may have executed.
   */
  async execute(cdb: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    this.stats.commands++;
    let previous: PathRecord | undefined;
    let reason = '';
    const wait = { backoffMs: BACKOFF_FIRST_MS };
    for (;;) {
      const path = await this.#choose(dataOut?.length ?? 0, wait);
      if (previous !== undefined) {
        this.stats.retries++;
        if (previous !== path) {
          this.stats.failovers++;
          this.emit('failover', { from: previous.name, to: path.name, opcode: cdb[0] ?? 0, reason });
        }
      }
      previous = path;
      let result: ScsiResult;
      try {
        result = await this.#send(path, cdb, dataOut, options);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        this.#update([path], () => (path.alive = false), `transport: ${error.message}`);
        const sent = !(error instanceof PathTransportError && !error.sent);
        if (sent && !isIdempotent(cdb, dataOut)) {
          this.stats.outcomeUnknown++;
          throw new OutcomeUnknownError(this.description, path.name, cdb, error);
        }
        reason = 'transport';
        continue;
      }
      this.#selector.received(path.name, result.data?.length ?? 0);
      const answer = classifyAnswer(result);
      if (answer === 'done' || (this.satp === 'default' && (answer === 'standby' || answer === 'state-changed')) || ((answer === 'unavailable' || answer === 'offline') && !this.#believedActive(path))) {
        if (path.pendingUntil !== undefined) this.#update([path], () => (path.pendingUntil = undefined), 'answered');
        return result;
      }
      reason = formatAnswer(result);
      switch (answer) {
        case 'manual-intervention':
          this.#update([path], () => (path.alive = false), reason);
          break;
        case 'transitioning':
          this.#transitioning(path, reason);
          if (this.satp === 'alua') void this.#refreshVia(path);
          break;
        case 'standby':
          this.#groupState(path.groupId, 'standby', reason);
          void this.#refreshVia(path);
          break;
        case 'state-changed':
          await this.#refreshVia(path);
          break;
        case 'unavailable':
          // The state changed and another command on this nexus took the unit attention.
          this.#groupState(path.groupId, 'unavailable', reason);
          await this.#refreshVia(path);
          break;
        case 'offline':
          // Offline is a port's own state (SPC-4 5.16.2.4.7): this path is dead until the checker finds it back.
          this.#update([path], () => (path.alive = false), reason);
          await this.#refreshVia(path);
          break;
        case 'not-supported':
          this.#update([path], () => (path.lost = true), reason);
          if (this.#paths.every((p) => p.lost)) this.#declareLost();
          break;
      }
    }
  }

  /**
   * Sends TEST UNIT READY down every path now (what the checker does every interval) and updates
   * their states; a path whose previous check is still waiting for its answer is not asked twice.
   */
  async checkPaths(): Promise<void> {
    await Promise.all(this.#paths.map((p) => this.#checkOnce(p)));
  }

  #checkOnce(p: PathRecord): Promise<void> {
    p.checking ??= this.#check(p).finally(() => (p.checking = undefined));
    return p.checking;
  }

  /** Reads the port groups (REPORT TARGET PORT GROUPS) through the first path that answers it; false when none did. */
  async refreshGroups(): Promise<boolean> {
    for (const p of this.#orderedForRefresh()) {
      if (await this.#readGroupsVia(p)) return true;
    }
    return false;
  }

  // ---- path choice ----------------------------------------------------------------------------

  #stateOf(p: PathRecord): PathState {
    if (!p.alive || p.lost) return 'dead';
    if (p.pendingUntil !== undefined && p.pendingUntil <= this.#timers.now()) return 'standby';
    if (this.satp === 'default') return p.standby ? 'standby' : 'active';
    const state = p.groupId === undefined ? undefined : this.#groups.get(p.groupId)?.state;
    if (state === 'standby') return 'standby';
    if (state === 'unavailable' || state === 'offline') return 'dead';
    return 'active';
  }

  #usable(p: PathRecord): boolean {
    if (this.#stateOf(p) !== 'active' || p.pendingUntil !== undefined) return false;
    if (this.satp === 'default') return true;
    const state = this.#groups.get(p.groupId!)?.state;
    return state === undefined || state === 'active/optimized' || state === 'active/non-optimized';
  }

  /** With ALUA, the device's view has `p`'s group active (or in transition): a refusal contradicting it means the view is stale. */
  #believedActive(p: PathRecord): boolean {
    if (this.satp !== 'alua') return false;
    const state = this.#groups.get(p.groupId!)?.state;
    return state === undefined || state === 'active/optimized' || state === 'active/non-optimized' || state === 'transitioning';
  }

  #optimized(p: PathRecord): boolean {
    return this.satp === 'default' || this.#groups.get(p.groupId!)?.state !== 'active/non-optimized';
  }

  /** The path for the next try of a command; `wait` carries its back-off from try to try. */
  async #choose(bytes: number, wait: { backoffMs: number }): Promise<PathRecord> {
    for (;;) {
      if (this.#lost) throw new PermanentDeviceLossError(this.description);
      const usable = this.#paths.filter((p) => this.#usable(p));
      if (usable.length > 0) {
        if (this.#apdSince !== undefined) {
          this.emit('pathsRestored', { downMs: this.#timers.now() - this.#apdSince });
          this.#apdSince = undefined;
        }
        this.#activationTried = false;
        const view = usable.map((p): SelectablePath => ({ name: p.name, optimized: this.#optimized(p) }));
        const best = view.some((p) => p.optimized) ? view.filter((p) => p.optimized) : view;
        const chosen = this.#selector.select(best, view, bytes);
        return usable.find((p) => p.name === chosen.name)!;
      }
      const now = this.#timers.now();
      const pending = this.#paths.find((p) => p.alive && !p.lost && p.pendingUntil !== undefined && p.pendingUntil > now);
      if (pending !== undefined) {
        // In transition: retry after a back-off (doubling to 2 s, Linux's ALUA_RTPG_RETRY_DELAY), on the same path.
        await this.#timers.after(Math.min(wait.backoffMs, pending.pendingUntil! - now)).fired;
        wait.backoffMs = Math.min(2 * wait.backoffMs, BACKOFF_MAX_MS);
        // With ALUA the command goes back only once the groups were read and still say in transition:
        // a port whose state could not be read may have gone unavailable or offline meanwhile.
        const known = this.satp !== 'alua' || (await this.#refreshVia(pending));
        if (known && pending.pendingUntil !== undefined && pending.alive && !pending.lost && this.#stateOf(pending) === 'active') return pending;
        continue;
      }
      if (await this.#activate()) continue;
      if (this.#apdSince === undefined) {
        this.#apdSince = now;
        this.emit('allPathsDown', { since: now });
      }
      const deadline = this.#apdSince + this.#apdTimeoutMs;
      if (now >= deadline) {
        this.stats.apdTimeouts++;
        throw new AllPathsDownError(this.description, now - this.#apdSince);
      }
      await this.#waitForChange(deadline - now);
    }
  }

  /** Explicit ALUA: with no usable path, SET TARGET PORT GROUPS a live standby group to active/optimized, once per outage. */
  async #activate(): Promise<boolean> {
    if (!this.#activateStandby || this.satp !== 'alua' || (this.tpgs & 0b10) === 0 || this.#activationTried) return false;
    this.#activationTried = true;
    const candidate = this.#paths.find((p) => this.#stateOf(p) === 'standby' && p.pendingUntil === undefined);
    if (candidate === undefined) return false;
    try {
      const ok = await setTargetPortGroupActive((c, d) => this.#send(candidate, c, d), candidate.groupId!);
      if (ok) await this.#readGroupsVia(candidate);
      return ok;
    } catch {
      this.#update([candidate], () => (candidate.alive = false), 'transport: SET TARGET PORT GROUPS lost');
      return true;
    }
  }

  #waitForChange(ms: number): Promise<void> {
    const timer = this.#timers.after(ms);
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        timer.cancel();
        resolve();
      };
      this.#waiters.push(wake);
      void timer.fired.then(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve();
      });
    });
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Applies `change` to the state of `paths`, emitting `pathStateChanged` for each whose state it changed, and wakes waiting commands. */
  #update(paths: readonly PathRecord[], change: () => void, reason: string): void {
    const before = paths.map((p) => this.#stateOf(p));
    change();
    paths.forEach((p, i) => {
      const to = this.#stateOf(p);
      if (to !== before[i]) this.emit('pathStateChanged', { path: p.name, from: before[i]!, to, reason });
    });
    this.#notify();
  }

  #transitioning(path: PathRecord, reason: string): void {
    const now = this.#timers.now();
    const until = now + (this.#transitionTimeoutMs ?? (this.#implicitTransitionMs > 0 ? this.#implicitTransitionMs : 60_000));
    const group = this.satp === 'alua' ? this.#paths.filter((p) => p.groupId === path.groupId) : [path];
    this.#update(group, () => {
      for (const p of group) p.pendingUntil ??= until;
    }, reason);
    if (this.satp === 'alua') this.#groupState(path.groupId, 'transitioning', reason);
  }

  #groupState(groupId: number | undefined, state: AluaState, reason: string): void {
    if (groupId === undefined || this.satp !== 'alua') return;
    const group = this.#groups.get(groupId) ?? { state: undefined, preferred: false };
    this.#groups.set(groupId, group);
    if (group.state === state) return;
    const members = this.#paths.filter((p) => p.groupId === groupId);
    const from = group.state;
    this.#update(members, () => {
      group.state = state;
      if (state !== 'transitioning') for (const p of members) p.pendingUntil = undefined;
    }, reason);
    this.emit('groupStateChanged', { groupId, from, to: state });
  }

  #declareLost(): void {
    if (this.#lost) return;
    this.#lost = true;
    this.emit('deviceLost', { device: this.description });
    this.#notify();
  }

  // ---- the SATP: port groups ------------------------------------------------------------------

  #orderedForRefresh(): PathRecord[] {
    return [...this.#paths].sort((a, b) => Number(b.alive && !b.lost) - Number(a.alive && !a.lost));
  }

  /** Re-reads the port groups through `path` (falling back to any other), one read at a time. */
  async #refreshVia(path: PathRecord): Promise<boolean> {
    if (this.satp !== 'alua') return false;
    if (this.#refreshing !== undefined) return await this.#refreshing;
    this.#refreshing = (async () => {
      try {
        return (await this.#readGroupsVia(path)) || (await this.refreshGroups());
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return await this.#refreshing;
  }

  /** REPORT TARGET PORT GROUPS through `path`; false when it could not be read there. */
  async #readGroupsVia(path: PathRecord): Promise<boolean> {
    let report: GroupReport | undefined;
    try {
      this.stats.groupReads++;
      const read = await readTargetPortGroups((c) => this.#send(path, c), this.#extendedHeader);
      this.#extendedHeader = read.extendedHeader;
      report = read.report;
      // RTPG is allowed in every state but offline (SPC-4 5.16.2.4): a port that refuses it with
      // NOT READY (02/04/12, or 02/04/0C from a stricter target) cannot carry I/O either.
      if (read.refusal !== undefined && checkVerdict(read.refusal) === 'down') this.#update([path], () => (path.alive = false), `REPORT TARGET PORT GROUPS: ${formatAnswer(read.refusal)}`);
    } catch (e) {
      this.#update([path], () => (path.alive = false), `transport: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
    if (report === undefined) return false;
    if (report.implicitTransitionSeconds !== undefined) this.#implicitTransitionMs = report.implicitTransitionSeconds * 1000;
    for (const g of report.groups) {
      const record = this.#groups.get(g.id) ?? { state: undefined, preferred: false };
      this.#groups.set(g.id, record);
      record.preferred = g.preferred;
      if (g.state === undefined) continue;
      if (g.state === 'transitioning') {
        const member = this.#paths.find((p) => p.groupId === g.id);
        if (member !== undefined) this.#transitioning(member, 'REPORT TARGET PORT GROUPS: transitioning');
      } else this.#groupState(g.id, g.state, 'REPORT TARGET PORT GROUPS');
    }
    return true;
  }

  // ---- the path checker -----------------------------------------------------------------------

  async #checkLoop(): Promise<void> {
    while (!this.#closed) {
      const timer = this.#timers.after(this.#checkerIntervalMs, true);
      const cancelled = new Promise<void>((resolve) => {
        this.#cancelCheckerSleep = () => {
          timer.cancel();
          resolve();
        };
      });
      await Promise.race([timer.fired, cancelled]);
      if (this.#closed) return;
      // Each path is checked on its own: a black hole holds its own check until the timeout, not the others'.
      for (const p of this.#paths) void this.#checkOnce(p);
    }
  }

  async #check(p: PathRecord): Promise<void> {
    for (let attempt = 0; attempt <= CHECK_UNIT_ATTENTION_RETRIES; attempt++) {
      let result: ScsiResult;
      p.stats.checks++;
      try {
        result = await this.#send(p, cdb.testUnitReady());
      } catch (e) {
        this.#update([p], () => (p.alive = false), `checker: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      const verdict = checkVerdict(result);
      const why = `checker: ${result.status === 0 ? 'GOOD' : formatAnswer(result)}`;
      switch (verdict) {
        case 'retry':
          if (classifyAnswer(result) === 'state-changed') await this.#refreshVia(p);
          continue;
        case 'up': {
          const stale = this.satp === 'alua' && !this.#usable({ ...p, alive: true, lost: false, pendingUntil: undefined });
          this.#update([p], () => {
            p.alive = true;
            p.lost = false;
            p.standby = false;
            p.pendingUntil = undefined;
          }, why);
          // TEST UNIT READY works through the port: its group is active whatever was last read.
          if (stale) await this.#refreshVia(p);
          return;
        }
        case 'standby':
          this.#update([p], () => {
            p.alive = true;
            p.lost = false;
            p.standby = true;
          }, why);
          this.#groupState(p.groupId, 'standby', why);
          return;
        case 'transitioning':
          this.#update([p], () => ((p.alive = true), (p.lost = false)), why);
          this.#transitioning(p, why);
          return;
        case 'lost':
          this.#update([p], () => (p.lost = true), why);
          if (this.#paths.every((q) => q.lost)) this.#declareLost();
          return;
        case 'down':
          this.#update([p], () => (p.alive = false), why);
          return;
      }
    }
  }

  // ---- one command down one path --------------------------------------------------------------

  /** Sends one command down `path` with the command timeout, counting it. */
  async #send(path: PathRecord, c: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    path.stats.commands++;
    try {
      const result = await withTimeout(this.#timers, this.#commandTimeoutMs, path.name, path.target, c, dataOut, options);
      path.stats.bytesOut += dataOut?.length ?? 0;
      path.stats.bytesIn += result.data?.length ?? 0;
      return result;
    } catch (e) {
      path.stats.transportErrors++;
      throw e;
    }
  }
}

/** `target.execute(...)`, or a {@link PathTransportError} (`timeout`) when it has not answered within `ms`. */
async function withTimeout(timers: Timers, ms: number, name: string, target: ScsiTarget, c: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
  const timer = timers.after(ms);
  const answer = Promise.resolve().then(() => target.execute(c, dataOut, options));
  answer.catch(() => undefined); // it may still reject after the timeout won
  try {
    return await Promise.race([
      answer,
      timer.fired.then((): never => {
        throw new PathTransportError(name, 'timeout', true);
      }),
    ]);
  } finally {
    timer.cancel();
  }
}

/** `key/asc/ascq` of a CHECK CONDITION, or the status in hex. */
function formatAnswer(r: ScsiResult): string {
  const s = decodeSense(r.sense);
  if (r.status !== 2 || s === undefined) return `status ${r.status.toString(16).padStart(2, '0')}h`;
  return `${s.key.toString(16)}/${s.asc.toString(16).padStart(2, '0')}/${s.ascq.toString(16).padStart(2, '0')}${s.reason === undefined ? '' : ` ${s.reason}`}`;
}

/**
 * What a path says about itself: INQUIRY's TPGS, and from VPD 83h the logical-unit designator (NAA
 * first, else the first association-0 designator, as Linux's scsi_vpd_lun_id), the relative target
 * port (type 4) and the target port group (type 5).
 */
async function identify(name: string, target: ScsiTarget, timers: Timers, timeoutMs: number): Promise<Identity> {
  const ask = async (c: Uint8Array): Promise<ScsiResult> => {
    try {
      return await withTimeout(timers, timeoutMs, name, target, c);
    } catch (e) {
      throw new PathClaimError(name, `INQUIRY failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const std = await ask(cdb.inquiry({ allocationLength: 36 }));
  if (std.status !== 0 || std.data === undefined || std.data.length < 6) throw new PathClaimError(name, `standard INQUIRY answered status ${std.status.toString(16)}h`);
  const tpgs = (std.data[5]! >>> 4) & 0x03;
  const vpd = await ask(cdb.inquiry({ page: 0x83, allocationLength: 0xffff }));
  const page = vpd.status === 0 && vpd.data !== undefined ? decodeDeviceIdentification(vpd.data) : undefined;
  if (page?.ok !== true) throw new PathClaimError(name, vpd.status === 0 ? 'its VPD page 83h cannot be decoded' : `VPD page 83h answered ${decodeSense(vpd.sense)?.key === SenseKey.ILLEGAL_REQUEST ? 'ILLEGAL REQUEST' : `status ${vpd.status.toString(16)}h`}`);
  let naa: string | undefined;
  let other: string | undefined;
  let groupId: number | undefined;
  let relativePortId: number | undefined;
  for (const d of page.value.designationDescriptors) {
    if (d.association === 0 && d.designatorType === 3) naa ??= toHex(d.designator);
    if (d.association === 0 && (d.designatorType === 2 || d.designatorType === 8)) other ??= `${d.designatorType === 2 ? 'eui' : 'name'}:${toHex(d.designator)}`;
    if (d.designatorType === 5 && d.designator.length >= 4) groupId = (d.designator[2]! << 8) | d.designator[3]!;
    if (d.designatorType === 4 && d.designator.length >= 4) relativePortId = (d.designator[2]! << 8) | d.designator[3]!;
  }
  const lu = naa ?? other;
  if (lu === undefined) throw new PathClaimError(name, 'its VPD page 83h has no logical-unit designator (NAA, EUI-64 or SCSI name string)');
  return { designator: lu, tpgs, groupId, relativePortId };
}
