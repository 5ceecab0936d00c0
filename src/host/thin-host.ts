/**
 * Thin provisioning as a host sees it. A soft-threshold unit attention (06/38/07) becomes a
 * `thresholdWarning` event and the command is reissued; SPACE ALLOCATION FAILED WRITE PROTECT
 * (07/27/07) pauses ("stuns") only the virtual machine whose write needed new blocks, which retries
 * until space is freed or the pool grows, while every other VM keeps running.
 * @module
 */
import { checkOptions, is, type ValueCheck } from '../common/errors.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { TypedEmitter } from '../array/events.js';
import type { ExecuteOptions } from '../scsi/context.js';
import type { ScsiResult } from '../scsi/outcome.js';
import type { ScsiTarget } from './target.js';

/** Events of a {@link ThinHost}. */
export interface ThinHostEvents {
  /** The array reported its soft threshold (unit attention 06/38/07): a datastore usage warning. */
  thresholdWarning: VmEvent;
  /** A VM's write hit an exhausted pool; the VM is paused until its write succeeds. */
  stunned: VmEvent & {
    /** Operation code of the write that needed space. */
    readonly opcode: number;
  };
  /** A stunned VM's write succeeded: the VM runs again. */
  resumed: VmEvent & {
    /** How long the VM was paused, in ms of the host's clock. */
    readonly pausedMs: number;
  };
}

/** What every {@link ThinHostEvents} payload carries. */
export interface VmEvent {
  /** The VM concerned. */
  readonly vm: string;
}

/** Options of {@link ThinHost}. */
export interface ThinHostOptions {
  /** The LUN the VMs' disks live on. */
  readonly target: ScsiTarget;
  /** Waits `ms`: a simulated clock's sleep, or a real timer. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Current time in ms, to report how long a VM was paused. */
  readonly now: () => number;
  /** How often a stunned VM retries its write, in ms. @defaultValue 100 */
  readonly retryIntervalMs?: number;
  /** Initiator name of the host. */
  readonly initiator?: string;
}

/** What {@link ThinHost} accepts. */
const THIN_HOST_OPTIONS = {
  target: is.target,
  sleep: is.function,
  now: is.function,
  retryIntervalMs: is.integer(1, 3_600_000),
  initiator: is.string,
} as const satisfies Record<keyof ThinHostOptions, ValueCheck>;

/** One host running VMs on a thin LUN. */
export class ThinHost extends TypedEmitter<ThinHostEvents> {
  readonly #options: ThinHostOptions;
  readonly #retry: number;
  readonly #stunned = new Set<string>();

  /** @param options - see {@link ThinHostOptions} */
  constructor(options: ThinHostOptions) {
    super();
    checkOptions(options, THIN_HOST_OPTIONS, 'ThinHost', ['target', 'sleep', 'now']);
    this.#options = options;
    this.#retry = options.retryIntervalMs ?? 100;
  }

  /** VMs paused right now, waiting for space. */
  get stunnedVms(): readonly string[] {
    return [...this.#stunned];
  }

  /** The LUN as VM `name` uses it: same contract, with the host's thin-provisioning handling. */
  vm(name: string): ScsiTarget {
    return { execute: (cdb, dataOut, options) => this.#execute(name, cdb, dataOut, options) };
  }

  async #execute(vm: string, cdb: Uint8Array, dataOut: Uint8Array | undefined, options: ExecuteOptions | undefined): Promise<ScsiResult> {
    const o = this.#options;
    const exec = o.initiator === undefined ? options : { ...options, initiator: o.initiator };
    let stunnedAt: number | undefined;
    for (;;) {
      const r = await o.target.execute(cdb, dataOut, exec);
      const reason = r.status === 2 ? decodeSense(r.sense)?.reason : undefined;
      if (reason === 'THIN_PROVISIONING_SOFT_THRESHOLD_REACHED') {
        // The unit attention replaced the command, which did not run: warn and reissue.
        this.emit('thresholdWarning', { vm });
        continue;
      }
      if (reason === 'SPACE_ALLOCATION_FAILED_WRITE_PROTECT') {
        if (stunnedAt === undefined) {
          stunnedAt = o.now();
          this.#stunned.add(vm);
          this.emit('stunned', { vm, opcode: cdb[0]! });
        }
        await o.sleep(this.#retry);
        continue;
      }
      if (stunnedAt !== undefined) {
        this.#stunned.delete(vm);
        this.emit('resumed', { vm, pausedMs: o.now() - stunnedAt });
      }
      return r;
    }
  }
}
