/**
 * An in-process path: a LUN reached through one target port of its array, as one I_T nexus, with
 * the port's link faults honoured the way a transport would: a port that is `down` refuses the
 * command (it never reaches the array); a `black-hole` port swallows it (no answer, ever: the
 * multipath device's command timeout ends the wait); latency delays every answer. A fault that
 * arrives while an answer is on its way loses the answer of a command the array has executed.
 * @module
 */
import { checkOptions, checkInteger, is, type ValueCheck } from '../../common/errors.js';
import type { ExecuteOptions } from '../../scsi/context.js';
import type { Lun } from '../../scsi/logical-unit.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import { itNexus, TargetPort, type ItNexus } from '../../scsi/ports.js';
import { PathTransportError } from '../errors.js';
import type { ScsiTarget } from '../target.js';
import { clockTimers, realTimers, type MultipathClock, type Timers } from './timers.js';

/** Options of {@link InProcessPath}. */
export interface InProcessPathOptions {
  /** The initiator port's name (the host's side of the I_T nexus). @defaultValue 'host' */
  readonly initiator?: string;
  /** The clock latency is spent on. @defaultValue real timers */
  readonly clock?: MultipathClock;
  /** The path's name in reports and events. @defaultValue `<initiator>-><port name>` */
  readonly name?: string;
}

const IN_PROCESS_PATH_OPTIONS = {
  initiator: is.string,
  clock: is.object,
  name: is.string,
} as const satisfies Record<keyof InProcessPathOptions, ValueCheck>;

const never = new Promise<never>(() => undefined);

/** The port's link now (read through a call: it changes while a command is under way). */
function linkOf(port: TargetPort): TargetPort['link'] {
  return port.link;
}

/** A LUN through one target port, as one path; a {@link ScsiTarget}. */
export class InProcessPath implements ScsiTarget {
  /** The path's name. */
  readonly description: string;
  /** The I_T nexus every command of this path arrives on. */
  readonly nexus: ItNexus;
  readonly #lun: Lun;
  readonly #timers: Timers;

  /** @param lun - the logical unit; @param port - the target port of its array the path goes through; @param options - see {@link InProcessPathOptions} */
  constructor(lun: Lun, port: TargetPort, options: InProcessPathOptions = {}) {
    checkOptions(options, IN_PROCESS_PATH_OPTIONS, 'InProcessPath');
    is.target(lun, 'InProcessPath: lun');
    is.instanceOf(TargetPort, 'TargetPort')(port, 'InProcessPath: port');
    const initiator = options.initiator ?? 'host';
    this.nexus = itNexus(initiator, port);
    this.description = options.name ?? `${initiator}->${port.name}`;
    this.#lun = lun;
    this.#timers = options.clock === undefined ? realTimers : clockTimers(options.clock);
  }

  /** The target port. */
  get port(): TargetPort {
    return this.nexus.target;
  }

  /**
   * Executes `cdb` on the LUN through this path's nexus (the caller's `initiator` is not used: the
   * path is the nexus); `dataIn` is passed on. Rejects with {@link PathTransportError} when the link
   * is down (`sent` false before the command left, true when the answer was lost); never settles
   * on a black hole.
   */
  async execute(cdb: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    const port = this.nexus.target;
    if (port.link === 'down') throw new PathTransportError(this.description, 'down', false);
    if (port.link === 'black-hole') return await never;
    const result = await this.#lun.execute(cdb, dataOut, options?.dataIn === undefined ? { nexus: this.nexus } : { nexus: this.nexus, dataIn: options.dataIn });
    const latency = checkInteger(Math.round(port.latencyMs), 0, Number.MAX_SAFE_INTEGER, 'TargetPort.latencyMs');
    if (latency > 0) await this.#timers.after(latency).fired;
    // The answer travels back over the same link: a fault meanwhile loses it.
    const back = linkOf(port);
    if (back === 'down') throw new PathTransportError(this.description, 'down', true);
    if (back === 'black-hole') return await never;
    return result;
  }
}
