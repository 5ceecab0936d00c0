/**
 * An on-disk lock manager in the manner of a clustered file system (VMFS): each lock is one block
 * holding its owner and a generation, and hosts prove liveness by rewriting a heartbeat block.
 * Two methods: `ats` takes and gives locks with COMPARE AND WRITE on the lock's block alone;
 * `reservation` brackets a READ and a WRITE with SCSI-2 RESERVE/RELEASE of the whole LUN, which
 * blocks every other host's I/O to that LUN while held.
 * @module
 */
import { InvalidArgumentError, checkOptions, is, type ValueCheck } from '../common/errors.js';
import { readU32, writeU32 } from '../codec/bytes.js';
import * as cdb from '../codec/cdb-encoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { SenseKey } from '../spec/sense.js';
import type { ScsiResult } from '../scsi/outcome.js';
import { HostIoError, OutcomeUnknownError } from './errors.js';
import type { ScsiTarget } from './target.js';

/** How locks are taken. */
export type LockMethod = 'ats' | 'reservation';

/** Options of {@link LockManager}. */
export interface LockManagerOptions {
  /** The shared LUN. */
  readonly target: ScsiTarget;
  /** This host's id (1..2^32-1), written into the locks it holds. */
  readonly hostId: number;
  /** `ats` (COMPARE AND WRITE) or `reservation` (SCSI-2 RESERVE/RELEASE). */
  readonly method: LockMethod;
  /** Waits `ms` before a retry: the simulated clock's sleep, or a real timer. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Delay between attempts on a busy lock or a reservation conflict, in ms. @defaultValue 1 */
  readonly retryDelayMs?: number;
  /** Logical block size of the LUN. @defaultValue 512 */
  readonly blockSize?: number;
  /** Initiator name for every command. */
  readonly initiator?: string;
}

/** Counters of one lock manager. */
export interface LockStats {
  /** Locks acquired. */
  acquisitions: number;
  /** Locks released. */
  releases: number;
  /** Heartbeats written. */
  heartbeats: number;
  /** COMPARE AND WRITE miscompares (lost races). */
  miscompares: number;
  /** RESERVATION CONFLICT answers. */
  reservationConflicts: number;
  /** Attempts that found the lock held by another host. */
  busy: number;
  /** Commands issued. */
  commands: number;
}

const MAGIC = 0x564c434b; // 'VLCK'

/** A lock block: MAGIC (0..3), OWNER (4..7, 0 = free), GENERATION (8..11). */
function lockImage(blockSize: number, owner: number, generation: number): Uint8Array {
  const b = new Uint8Array(blockSize);
  writeU32(b, 0, MAGIC);
  writeU32(b, 4, owner);
  writeU32(b, 8, generation >>> 0);
  return b;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What {@link LockManager} accepts. */
const LOCK_MANAGER_OPTIONS = {
  target: is.target,
  hostId: is.integer(1, 0xffffffff),
  method: is.oneOf(['ats', 'reservation']),
  sleep: is.function,
  retryDelayMs: is.number(0, 3_600_000),
  blockSize: is.integer(512, 65536),
  initiator: is.string,
} as const satisfies Record<keyof LockManagerOptions, ValueCheck>;

/** One host's view of the on-disk locks of a shared LUN. */
export class LockManager {
  /** This host's counters. */
  readonly stats: LockStats = { acquisitions: 0, releases: 0, heartbeats: 0, miscompares: 0, reservationConflicts: 0, busy: 0, commands: 0 };
  /** This host's id. */
  readonly hostId: number;
  /** The method in use. */
  readonly method: LockMethod;
  readonly #target: ScsiTarget;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #retry: number;
  readonly #bs: number;
  readonly #exec: { initiator: string } | undefined;
  /** Generation of each lock this host holds, by LBA. */
  readonly #held = new Map<number, number>();
  /** Last heartbeat image written, by LBA. */
  readonly #beats = new Map<number, Uint8Array>();
  /** Settles when this host's previous reservation bracket has ended. */
  #reservationTurn: Promise<void> = Promise.resolve();

  /** @param options - see {@link LockManagerOptions} */
  constructor(options: LockManagerOptions) {
    checkOptions(options, LOCK_MANAGER_OPTIONS, 'LockManager', ['target', 'hostId', 'method', 'sleep']);
    this.hostId = options.hostId;
    this.method = options.method;
    this.#target = options.target;
    this.#sleep = options.sleep;
    this.#retry = options.retryDelayMs ?? 1;
    this.#bs = options.blockSize ?? 512;
    this.#exec = options.initiator === undefined ? undefined : { initiator: options.initiator };
  }

  /** True while this host holds the lock at `lba`. */
  holds(lba: number): boolean {
    return this.#held.has(lba);
  }

  async #run(c: Uint8Array, dataOut?: Uint8Array): Promise<ScsiResult> {
    this.stats.commands++;
    return await this.#target.execute(c, dataOut, this.#exec);
  }

  async #readBlock(lba: number): Promise<Uint8Array> {
    const c = cdb.read16({ lba, blocks: 1 });
    const r = await this.#run(c);
    if (r.status !== 0 || r.data === undefined) throw new HostIoError('lock: READ', c, r);
    return r.data.slice();
  }

  async #compareAndWrite(lba: number, expected: Uint8Array, next: Uint8Array): Promise<boolean> {
    const payload = new Uint8Array(2 * this.#bs);
    payload.set(expected, 0);
    payload.set(next, this.#bs);
    const c = cdb.compareAndWrite({ lba, blocks: 1 });
    let r: ScsiResult;
    try {
      r = await this.#run(c, payload);
    } catch (e) {
      if (!(e instanceof OutcomeUnknownError)) throw e;
      // The path died after the array may have executed it (a multipath device does not replay a
      // COMPARE AND WRITE): find out from the block itself, as VMFS does with ATS on a path failure.
      // Only this host writes its own id with this generation, so the new image means it landed.
      const now = await this.#readBlock(lba);
      if (equalBytes(now, next)) return true;
      if (equalBytes(now, expected)) return await this.#compareAndWrite(lba, expected, next);
      this.stats.miscompares++;
      return false;
    }
    if (r.status === 0) return true;
    if (r.status === 2 && decodeSense(r.sense)?.key === SenseKey.MISCOMPARE) {
      this.stats.miscompares++;
      return false;
    }
    throw new HostIoError('lock: COMPARE AND WRITE', c, r);
  }

  async #write(lba: number, image: Uint8Array): Promise<void> {
    const c = cdb.write16({ lba, blocks: 1 });
    const r = await this.#run(c, image);
    if (r.status !== 0) throw new HostIoError('lock: WRITE', c, r);
  }

  /** RESERVE(6), retried while another host holds the LUN. */
  async #reserve(): Promise<void> {
    for (;;) {
      const c = cdb.reserve6();
      const r = await this.#run(c);
      if (r.status === 0) return;
      if (r.status !== 0x18) throw new HostIoError('lock: RESERVE', c, r);
      this.stats.reservationConflicts++;
      await this.#sleep(this.#retry);
    }
  }

  /**
   * Runs `work` while holding the LUN's SCSI-2 reservation: RESERVE (retried), work, RELEASE. A
   * reservation belongs to the initiator, not to one task, so this host's own brackets (a lock
   * operation and a heartbeat, say) take turns: otherwise one's RELEASE would end the other's.
   */
  async #reserved<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.#reservationTurn;
    let done!: () => void;
    this.#reservationTurn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      await this.#reserve();
      try {
        return await work();
      } finally {
        const c = cdb.release6();
        const r = await this.#run(c);
        if (r.status !== 0) throw new HostIoError('lock: RELEASE', c, r);
      }
    } finally {
      done();
    }
  }

  /** Takes the lock at `lba`, waiting (and retrying) while another host holds it. */
  async acquire(lba: number): Promise<void> {
    if (this.#held.has(lba)) throw new InvalidArgumentError(`LockManager: host ${this.hostId} already holds the lock at LBA ${lba}`);
    for (;;) {
      if (this.method === 'ats') {
        const current = await this.#readBlock(lba);
        if (readU32(current, 4) === 0) {
          const generation = (readU32(current, 8) + 1) >>> 0;
          if (await this.#compareAndWrite(lba, current, lockImage(this.#bs, this.hostId, generation))) {
            this.#held.set(lba, generation);
            this.stats.acquisitions++;
            return;
          }
          continue; // lost the race: look again at once
        }
      } else {
        const taken = await this.#reserved(async () => {
          const current = await this.#readBlock(lba);
          if (readU32(current, 4) !== 0) return false;
          const generation = (readU32(current, 8) + 1) >>> 0;
          await this.#write(lba, lockImage(this.#bs, this.hostId, generation));
          this.#held.set(lba, generation);
          return true;
        });
        if (taken) {
          this.stats.acquisitions++;
          return;
        }
      }
      this.stats.busy++;
      await this.#sleep(this.#retry);
    }
  }

  /** Gives back the lock at `lba`. Throws if the on-disk lock is no longer this host's. */
  async release(lba: number): Promise<void> {
    const generation = this.#held.get(lba);
    if (generation === undefined) throw new InvalidArgumentError(`LockManager: host ${this.hostId} does not hold the lock at LBA ${lba}`);
    const free = lockImage(this.#bs, 0, generation);
    if (this.method === 'ats') {
      if (!(await this.#compareAndWrite(lba, lockImage(this.#bs, this.hostId, generation), free))) {
        throw new Error(`LockManager: the lock at LBA ${lba} was taken from host ${this.hostId}`);
      }
    } else {
      await this.#reserved(() => this.#write(lba, free));
    }
    this.#held.delete(lba);
    this.stats.releases++;
  }

  /** Writes this host's heartbeat at `lba` (its own block): COMPARE AND WRITE, or a reserved WRITE. */
  async heartbeat(lba: number): Promise<void> {
    const previous = this.#beats.get(lba);
    const generation = previous === undefined ? 1 : readU32(previous, 8) + 1;
    const next = lockImage(this.#bs, this.hostId, generation);
    if (this.method === 'ats') {
      const expected = previous ?? (await this.#readBlock(lba));
      // A miscompare on one's own heartbeat means another host wrote it: VMFS treats that as lost access.
      if (!(await this.#compareAndWrite(lba, expected, next))) throw new Error(`LockManager: heartbeat at LBA ${lba} of host ${this.hostId} was overwritten`);
    } else {
      await this.#reserved(() => this.#write(lba, next));
    }
    this.#beats.set(lba, next);
    this.stats.heartbeats++;
  }
}
