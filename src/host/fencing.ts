/**
 * Cluster fencing on a shared LUN, the two ways clusters have done it.
 *
 * {@link PrFencingNode}: SCSI-3 persistent reservations (SPC-4 5.13) in the manner of Linux's
 * `fence_scsi` / `fence_mpath` and Windows failover clustering. Every node registers its own key
 * through every I_T nexus it has to the LUN (each path of a multipath device); one node holds a
 * WRITE EXCLUSIVE – REGISTRANTS ONLY reservation, so every registered node may write and nothing
 * else may; a surviving node fences a failed one with PREEMPT AND ABORT (or PREEMPT) of the failed
 * node's key, after which the failed node's writes get RESERVATION CONFLICT on every path, and it
 * must register again before it may write. Fencing is one command and needs no wait.
 *
 * {@link Scsi2FencingNode}: SCSI-2 RESERVE/RELEASE (SPC-2 7.21/7.24) in the manner of the Windows
 * 2000/2003 challenge/defense protocol. One node (the defender) holds the reservation and renews
 * it every few seconds; a reservation belongs to one I_T nexus and only a reset (LOGICAL UNIT
 * RESET, target reset, bus reset) breaks it, so a challenger resets the LUN, waits longer than the
 * defender's renewal period, and reserves. Only the one holder can use the disk.
 *
 * docs/decisions/fencing.md gives the sources and the choices.
 * @module
 */
import { TypedEmitter } from '../array/events.js';
import * as cdb from '../codec/cdb-encoder.js';
import { decodePrReadKeys, decodePrReadReservation } from '../codec/pr-decoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { checkOptions, is, InvalidArgumentError, type ValueCheck } from '../common/errors.js';
import type { MaybePromise } from '../common/maybe-promise.js';
import type { ExecuteOptions } from '../scsi/context.js';
import type { ScsiResult } from '../scsi/outcome.js';
import { PrInServiceAction, PrOutServiceAction, PrType, ScsiStatus } from '../spec/opcodes.js';
import { SenseKey } from '../spec/sense.js';
import { FencingError, NodeFencedError, OutcomeUnknownError } from './errors.js';
import type { ScsiTarget } from './target.js';

/** How a {@link PrFencingNode} registers through several paths. */
export type RegistrationMode = 'per-path' | 'all-tg-pt';

/** Options of {@link PrFencingNode}. */
export interface PrFencingNodeOptions {
  /** The node's disk: a LUN, a fabric port, a multipath device, an iSCSI LUN. Its I/O goes here. */
  readonly target: ScsiTarget;
  /** The node's reservation key (1..2^64-1), unique in the cluster (fence_scsi derives it from the cluster name and the node id). */
  readonly key: bigint | number;
  /**
   * Every I_T nexus the node has to the LUN (the paths of its multipath device), for registration.
   * @defaultValue `[target]`
   */
  readonly paths?: readonly ScsiTarget[];
  /**
   * `per-path`: one REGISTER AND IGNORE EXISTING KEY down each path (mpathpersist's default; works on
   * targets without ALL_TG_PT, such as tgt). `all-tg-pt`: one registration with ALL_TG_PT down the
   * first path, which the target applies through every target port of the initiator port.
   * @defaultValue 'per-path'
   */
  readonly registration?: RegistrationMode;
  /** Fence with PREEMPT AND ABORT (fence_scsi; aborts the victim's queued commands) or PREEMPT. @defaultValue true */
  readonly abort?: boolean;
  /** The node's name in events and errors. @defaultValue the target's description, else `node-<key in hex>` */
  readonly name?: string;
}

/** The registered keys, as READ KEYS reports them. */
export interface RegisteredKeys {
  /** PRGENERATION. */
  readonly generation: number;
  /** One key per registered I_T nexus, in the target's order. */
  readonly keys: readonly bigint[];
}

/** The persistent reservation, as READ RESERVATION reports it. */
export interface HeldReservation {
  /** The holder's reservation key. */
  readonly key: bigint;
  /** The reservation TYPE (5h for fencing). */
  readonly type: number;
}

/** What {@link PrFencingNode.fence} did. */
export interface FenceReport {
  /** The fenced key. */
  readonly victim: bigint;
  /** Whether the victim held the reservation (the fencer holds it now). */
  readonly tookReservation: boolean;
  /** PREEMPT AND ABORT (true) or PREEMPT (false). */
  readonly aborted: boolean;
  /** PRGENERATION after the preemption. */
  readonly generation: number;
}

/** Every event of a {@link PrFencingNode}, by name. */
export interface PrFencingEvents {
  /** The node's key was registered through `paths` I_T nexuses. */
  registered: {
    /** The key. */
    readonly key: bigint;
    /** How many PERSISTENT RESERVE OUT commands registered it. */
    readonly commands: number;
  };
  /** The node holds the reservation now. */
  reserved: {
    /** The key. */
    readonly key: bigint;
    /** The reservation TYPE (5h, WRITE EXCLUSIVE – REGISTRANTS ONLY). */
    readonly type: number;
  };
  /** The node fenced another. */
  fenced: FenceReport;
  /** A command of the node got RESERVATION CONFLICT (it may have been fenced). */
  reservationConflict: {
    /** The command's operation code. */
    readonly opcode: number;
  };
  /** The node removed its registration. */
  left: {
    /** The key. */
    readonly key: bigint;
  };
}

/** The reservation type of PR fencing: WRITE EXCLUSIVE – REGISTRANTS ONLY (fence_scsi, Windows). */
export const FENCING_RESERVATION_TYPE = PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;

const PR_FENCING_OPTIONS = {
  target: is.target,
  key: (v, what) => {
    if ((typeof v !== 'bigint' && typeof v !== 'number') || (typeof v === 'number' && !Number.isSafeInteger(v))) throw new InvalidArgumentError(`${what} must be an integer or a bigint, got ${String(v)}`);
    const k = BigInt(v);
    if (k < 1n || k > 0xffff_ffff_ffff_ffffn) throw new InvalidArgumentError(`${what} must be in [1, 2^64-1] (0 is no key), got ${k}`);
  },
  paths: is.array(is.target, 1),
  registration: is.oneOf(['per-path', 'all-tg-pt']),
  abort: is.boolean,
  name: is.string,
} as const satisfies Record<keyof PrFencingNodeOptions, ValueCheck>;

/**
 * One cluster node's persistent-reservation fencing on a shared LUN. It is a {@link ScsiTarget}
 * itself: commands pass to the node's target unchanged (a RESERVATION CONFLICT answer is also
 * reported as a `reservationConflict` event), so the lock manager and the data mover run over it.
 */
export class PrFencingNode extends TypedEmitter<PrFencingEvents> implements ScsiTarget {
  /** The node's name. */
  readonly description: string;
  /** The node's reservation key. */
  readonly key: bigint;
  /** How it registers through several paths. */
  readonly registration: RegistrationMode;
  /** Whether it fences with PREEMPT AND ABORT. */
  readonly abort: boolean;
  readonly #target: ScsiTarget;
  readonly #paths: readonly ScsiTarget[];

  /** @param options - see {@link PrFencingNodeOptions} */
  constructor(options: PrFencingNodeOptions) {
    super();
    checkOptions(options, PR_FENCING_OPTIONS, 'PrFencingNode', ['target', 'key']);
    this.key = BigInt(options.key);
    this.#target = options.target;
    this.#paths = options.paths ?? [options.target];
    this.registration = options.registration ?? 'per-path';
    this.abort = options.abort ?? true;
    this.description = options.name ?? options.target.description ?? `node-${this.key.toString(16)}`;
  }

  /** Passes one command to the node's target; a RESERVATION CONFLICT answer is also emitted as `reservationConflict`. */
  async execute(c: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    const r = await this.#target.execute(c, dataOut, options);
    if (r.status === ScsiStatus.RESERVATION_CONFLICT) this.emit('reservationConflict', { opcode: c[0] ?? 0 });
    return r;
  }

  /** One PERSISTENT RESERVE OUT with the basic parameter list, through `via`. */
  async #prOut(via: ScsiTarget, serviceAction: number, list: cdb.PrOutParameters, type = 0): Promise<ScsiResult> {
    const data = cdb.prOutParameterList(list);
    return await pastUnitAttentions(via, cdb.persistentReserveOut({ serviceAction, type, parameterListLength: data.length }), data);
  }

  /** One PERSISTENT RESERVE IN of `serviceAction` through the node's target. */
  async #prIn(serviceAction: number): Promise<ScsiResult> {
    return await pastUnitAttentions(this.#target, cdb.persistentReserveIn({ serviceAction, allocationLength: 0xffff }));
  }

  /** Throws the error an answer that is not GOOD means for `step`. */
  #check(step: string, r: ScsiResult): void {
    if (r.status === ScsiStatus.GOOD) return;
    if (r.status === ScsiStatus.RESERVATION_CONFLICT) throw new NodeFencedError(this.description, step);
    throw new FencingError(this.description, step, r);
  }

  /**
   * Registers the node's key (fence_scsi's and fence_mpath's "on"/unfence): REGISTER AND IGNORE
   * EXISTING KEY (SPC-4 5.13.7), so it works whether the nexus was registered, under another key, or
   * fenced; per path, or once with ALL_TG_PT. A command lost in transport is sent again (a
   * registration repeated is the same registration).
   */
  async register(): Promise<void> {
    const vias = this.registration === 'all-tg-pt' ? this.#paths.slice(0, 1) : this.#paths;
    for (const via of vias) {
      const r = await retryUnknown(() => this.#prOut(via, PrOutServiceAction.REGISTER_AND_IGNORE_EXISTING_KEY, { serviceActionKey: this.key, allTgPt: this.registration === 'all-tg-pt' }));
      if (r.status !== ScsiStatus.GOOD) throw new FencingError(this.description, 'register', r);
    }
    this.emit('registered', { key: this.key, commands: vias.length });
  }

  /** The registered keys (READ KEYS, SPC-4 6.13.2), one per registered I_T nexus, and PRGENERATION. */
  async readKeys(): Promise<RegisteredKeys> {
    const r = await this.#prIn(PrInServiceAction.READ_KEYS);
    if (r.status !== ScsiStatus.GOOD || r.data === undefined) throw new FencingError(this.description, 'read keys', r);
    const d = decodePrReadKeys(r.data);
    if (!d.ok) throw new FencingError(this.description, `read keys (${d.problem})`, r);
    return { generation: d.value.generation, keys: d.value.keys };
  }

  /** The persistent reservation (READ RESERVATION, SPC-4 6.13.3): its holder's key and type, or undefined. */
  async readReservation(): Promise<HeldReservation | undefined> {
    const r = await this.#prIn(PrInServiceAction.READ_RESERVATION);
    if (r.status !== ScsiStatus.GOOD || r.data === undefined) throw new FencingError(this.description, 'read reservation', r);
    const d = decodePrReadReservation(r.data);
    if (!d.ok) throw new FencingError(this.description, `read reservation (${d.problem})`, r);
    return d.value.reservation === undefined ? undefined : { key: d.value.reservation.key, type: d.value.reservation.type };
  }

  /** True while the node's key is registered. */
  async isRegistered(): Promise<boolean> {
    return (await this.readKeys()).keys.includes(this.key);
  }

  /**
   * Makes sure a WRITE EXCLUSIVE – REGISTRANTS ONLY reservation exists, as fence_scsi does after
   * registering: when there is none, this node reserves (SPC-4 5.13.9); when another node won the
   * race, its reservation stands. Returns the holder's key.
   */
  async reserve(): Promise<bigint> {
    for (let attempt = 1; ; attempt++) {
      const held = await this.readReservation();
      if (held !== undefined) return held.key;
      const r = await retryUnknown(() => this.#prOut(this.#target, PrOutServiceAction.RESERVE, { key: this.key }, FENCING_RESERVATION_TYPE));
      if (r.status === ScsiStatus.GOOD) {
        this.emit('reserved', { key: this.key, type: FENCING_RESERVATION_TYPE });
        return this.key;
      }
      if (r.status !== ScsiStatus.RESERVATION_CONFLICT || !(await this.isRegistered())) this.#check('reserve', r);
      // RESERVATION CONFLICT to a registered node: another node reserved first, so read who. Still
      // none after three rounds: something else refuses it (a SCSI-2 reservation of another node).
      if (attempt >= 3) throw new FencingError(this.description, 'reserve (conflict with no persistent reservation held)', r);
    }
  }

  /** Joins the cluster's fencing: {@link register}, then {@link reserve}. Returns the holder's key. */
  async join(): Promise<bigint> {
    await this.register();
    return await this.reserve();
  }

  /**
   * Fences the node registered with `victim` (fence_scsi's "off"): PREEMPT AND ABORT (or PREEMPT) of
   * its key with TYPE 5h (SPC-4 5.13.11.2). Every registration with that key goes, on every path;
   * when the victim held the reservation, this node holds it now; the victim's commands then get
   * RESERVATION CONFLICT. Throws {@link NodeFencedError} when this node is itself not registered.
   * A PREEMPT lost in transport (a multipath device's `OutcomeUnknownError`) is settled by READ KEYS.
   */
  async fence(victim: bigint | number): Promise<FenceReport> {
    const key = BigInt(victim);
    if (key === this.key) throw new InvalidArgumentError(`PrFencingNode.fence: ${this.description} cannot fence its own key ${key.toString(16)}`);
    if (key === 0n) throw new InvalidArgumentError('PrFencingNode.fence: the victim key must not be 0');
    const holder = (await this.readReservation())?.key;
    const action = this.abort ? PrOutServiceAction.PREEMPT_AND_ABORT : PrOutServiceAction.PREEMPT;
    let r: ScsiResult | undefined;
    try {
      r = await this.#prOut(this.#target, action, { key: this.key, serviceActionKey: key }, FENCING_RESERVATION_TYPE);
    } catch (e) {
      if (!(e instanceof OutcomeUnknownError)) throw e;
    }
    if (r !== undefined) this.#check(this.abort ? 'preempt and abort' : 'preempt', r);
    const after = await this.readKeys();
    // Lost in transport and not executed: once more, now that the paths settled. (After a GOOD, a
    // victim key present again means the victim registered anew since; that is its next fence.)
    if (r === undefined && after.keys.includes(key)) return await this.fence(key);
    const report: FenceReport = { victim: key, tookReservation: holder === key, aborted: this.abort, generation: after.generation };
    this.emit('fenced', report);
    return report;
  }

  /**
   * Leaves the cluster cleanly: REGISTER AND IGNORE EXISTING KEY with SERVICE ACTION RESERVATION KEY 0 down each path (or
   * once, with ALL_TG_PT registration) removes the node's registrations (SPC-4 5.13.11.3); a holder's
   * WRITE EXCLUSIVE – REGISTRANTS ONLY reservation is released with its last registration.
   */
  async leave(): Promise<void> {
    const vias = this.registration === 'all-tg-pt' ? this.#paths.slice(0, 1) : this.#paths;
    for (const via of vias) {
      const r = await retryUnknown(() => this.#prOut(via, PrOutServiceAction.REGISTER_AND_IGNORE_EXISTING_KEY, { serviceActionKey: 0 }));
      this.#check('leave', r);
    }
    this.emit('left', { key: this.key });
  }
}

/**
 * Sends `c` and sends it again while it meets a UNIT ATTENTION (at most 4 times): a unit attention
 * (a preemption's 2A/05, a release's 2A/04, a reset's 29/03) reports an event and the command did not
 * execute (SAM-5 5.14), as a host's SCSI layer retries it.
 */
async function pastUnitAttentions(via: ScsiTarget, c: Uint8Array, dataOut?: Uint8Array): Promise<ScsiResult> {
  let r = await via.execute(c, dataOut);
  for (let i = 0; i < 4 && r.status === ScsiStatus.CHECK_CONDITION && decodeSense(r.sense)?.key === SenseKey.UNIT_ATTENTION; i++) r = await via.execute(c, dataOut);
  return r;
}

/** Runs a command that is safe to send again until its outcome is known (REGISTER AND IGNORE EXISTING KEY, RESERVE of the same type). */
async function retryUnknown(send: () => Promise<ScsiResult>, attempts = 3): Promise<ScsiResult> {
  for (let i = 1; ; i++) {
    try {
      return await send();
    } catch (e) {
      if (!(e instanceof OutcomeUnknownError) || i >= attempts) throw e;
    }
  }
}

/** Options of {@link Scsi2FencingNode}. */
export interface Scsi2FencingNodeOptions {
  /** The node's disk (one I_T nexus: a SCSI-2 reservation belongs to the nexus that made it). */
  readonly target: ScsiTarget;
  /**
   * Breaks every SCSI-2 reservation of the LUN: a LOGICAL UNIT RESET (SAM-5 6.3) or target reset by
   * task management, e.g. `() => lun.reset()` in-process. The only way past a dead node's reservation.
   */
  readonly reset: () => MaybePromise<void>;
  /** Waits `ms`: the simulated clock's sleep, or a real timer. */
  readonly sleep: (ms: number) => Promise<void>;
  /** How often the defender renews its reservation, in ms. @defaultValue 3000 (Windows 2003's challenge/defense) */
  readonly renewIntervalMs?: number;
  /** How long a challenger waits after its reset before it reserves, in ms; must exceed `renewIntervalMs`. @defaultValue 10000 (Windows 2003) */
  readonly challengeWaitMs?: number;
  /** The node's name in events and errors. @defaultValue the target's description, else 'node' */
  readonly name?: string;
}

/** Every event of a {@link Scsi2FencingNode}, by name. */
export interface Scsi2FencingEvents {
  /** The node holds the reservation now. */
  reserved: {
    /** The node. */
    readonly node: string;
  };
  /** The node reset the LUN to break a reservation. */
  reset: {
    /** The node. */
    readonly node: string;
  };
  /** The node lost a challenge: the defender renewed its reservation in time. */
  defended: {
    /** The node. */
    readonly node: string;
  };
  /** The defender found its reservation gone and took it back. */
  renewed: {
    /** The node. */
    readonly node: string;
  };
}

const SCSI2_FENCING_OPTIONS = {
  target: is.target,
  reset: is.function,
  sleep: is.function,
  renewIntervalMs: is.number(0.001, 3_600_000),
  challengeWaitMs: is.number(0.001, 3_600_000),
  name: is.string,
} as const satisfies Record<keyof Scsi2FencingNodeOptions, ValueCheck>;

/**
 * One node's SCSI-2 reservation fencing (challenge/defense): the defender holds RESERVE(6) and
 * renews it; a challenger resets the LUN, waits, and reserves. A ScsiTarget that passes commands on.
 */
export class Scsi2FencingNode extends TypedEmitter<Scsi2FencingEvents> implements ScsiTarget {
  /** The node's name. */
  readonly description: string;
  /** The defender's renewal period, in ms. */
  readonly renewIntervalMs: number;
  /** The challenger's wait after a reset, in ms. */
  readonly challengeWaitMs: number;
  readonly #target: ScsiTarget;
  readonly #reset: () => MaybePromise<void>;
  readonly #sleep: (ms: number) => Promise<void>;
  #defending = false;

  /** @param options - see {@link Scsi2FencingNodeOptions} */
  constructor(options: Scsi2FencingNodeOptions) {
    super();
    checkOptions(options, SCSI2_FENCING_OPTIONS, 'Scsi2FencingNode', ['target', 'reset', 'sleep']);
    this.#target = options.target;
    this.#reset = options.reset;
    this.#sleep = options.sleep;
    this.renewIntervalMs = options.renewIntervalMs ?? 3000;
    this.challengeWaitMs = options.challengeWaitMs ?? 10_000;
    if (this.challengeWaitMs <= this.renewIntervalMs) throw new InvalidArgumentError(`Scsi2FencingNode: challengeWaitMs (${this.challengeWaitMs}) must exceed renewIntervalMs (${this.renewIntervalMs}), or a live defender loses its disk`);
    this.description = options.name ?? options.target.description ?? 'node';
  }

  /** Passes one command to the node's target. */
  async execute(c: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    return await this.#target.execute(c, dataOut, options);
  }

  /** RESERVE(6) (SPC-2 7.21): true when this node holds the reservation now, false on RESERVATION CONFLICT. */
  async reserve(): Promise<boolean> {
    const r = await pastUnitAttentions(this.#target, cdb.reserve6());
    if (r.status === ScsiStatus.RESERVATION_CONFLICT) return false;
    if (r.status !== ScsiStatus.GOOD) throw new FencingError(this.description, 'reserve', r);
    this.emit('reserved', { node: this.description });
    return true;
  }

  /** RELEASE(6) (SPC-2 7.24): gives the reservation up (GOOD also when this node did not hold it). */
  async release(): Promise<void> {
    const r = await pastUnitAttentions(this.#target, cdb.release6());
    if (r.status !== ScsiStatus.GOOD) throw new FencingError(this.description, 'release', r);
  }

  /**
   * Defends the disk until {@link stopDefending}: renews the reservation every `renewIntervalMs`
   * (a RESERVE by the holder is GOOD; after a challenger's reset it takes the disk back). Resolves
   * when stopped; rejects with {@link NodeFencedError} when another node holds the disk.
   */
  async defend(): Promise<void> {
    this.#defending = true;
    let held = true;
    while (this.#defending) {
      const r = await this.#target.execute(cdb.reserve6());
      if (r.status === ScsiStatus.RESERVATION_CONFLICT) {
        this.#defending = false;
        throw new NodeFencedError(this.description, 'renew reservation');
      }
      const ua = r.status === ScsiStatus.CHECK_CONDITION && decodeSense(r.sense)?.key === SenseKey.UNIT_ATTENTION;
      if (!ua && r.status !== ScsiStatus.GOOD) throw new FencingError(this.description, 'renew reservation', r);
      if (ua) {
        held = false; // the reset released it; the next round reserves again
        continue;
      }
      if (!held) this.emit('renewed', { node: this.description });
      held = true;
      await this.#sleep(this.renewIntervalMs);
    }
  }

  /** Ends {@link defend} after its current round. */
  stopDefending(): void {
    this.#defending = false;
  }

  /**
   * Challenges the holder (challenge/defense): resets the LUN, which releases every SCSI-2
   * reservation, waits `challengeWaitMs` for a live defender to reserve again, then reserves. True
   * when this node holds the disk; false when the defender renewed in time.
   */
  async challenge(): Promise<boolean> {
    await this.#reset();
    this.emit('reset', { node: this.description });
    await this.#sleep(this.challengeWaitMs);
    const won = await this.reserve();
    if (!won) this.emit('defended', { node: this.description });
    return won;
  }
}
