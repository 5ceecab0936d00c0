/**
 * The fabric cost model: hosts with a CPU, a queue depth and a full-duplex link, connected to one
 * array with a pool of back-end engines, all on a {@link SimClock}. Every command really executes
 * on the in-process array (when it reaches the array in simulated time, so hosts race as they
 * would), and is charged simulated time for each resource it uses: the link for the Data-Out it
 * sends and the Data-In it gets back, the array's back end for the work the array reports it did
 * (the result's `work` record; the model never decodes a CDB). The same host code that drives a
 * plain LUN drives a {@link FabricPort}.
 *
 * A host reaches the array over its own link ({@link FabricHost.port}) or over paths
 * ({@link FabricHost.path}): a path is host port -> its own link -> one target port of the array,
 * so a multipath device over several paths spreads its transfers over several links. A path honours
 * its target port's link faults as a transport does: `down` refuses a command at once and loses the
 * answer of one under way, `black-hole` never answers, and the port's latency delays every answer.
 * @module
 */
import { InvalidArgumentError, checkOptionKeys } from '../common/errors.js';
import type { Lun } from '../scsi/logical-unit.js';
import type { StorageArray } from '../scsi/storage-array.js';
import type { ExecuteOptions } from '../scsi/context.js';
import type { CommandWork, ScsiResult } from '../scsi/outcome.js';
import { Resource, SimClock } from './sim/clock.js';
import type { ScsiTarget } from './target.js';
import { itNexus, type ItNexus, type TargetPort } from '../scsi/ports.js';
import { PathTransportError } from './errors.js';

/** Parameters of the cost model. Every field is documented with the default's source in the README. */
export interface FabricModel {
  /** Payload bandwidth of each host's link, per direction, in bytes per second. */
  readonly linkBytesPerSecond: number;
  /** Round-trip time of one command through the fabric and the target's front end, in milliseconds. */
  readonly commandLatencyMs: number;
  /** Bandwidth at which the array's back end reads or writes host data, in bytes per second, shared by all commands. */
  readonly arrayMediaBytesPerSecond: number;
  /** Bandwidth at which the array copies data internally (EXTENDED COPY that moves bytes), in bytes per second, shared. */
  readonly arrayCopyBytesPerSecond: number;
  /** Allocation units the array shares or deallocates per second (metadata-only work), shared. */
  readonly arrayMetadataUnitsPerSecond: number;
  /** Bandwidth at which the array writes zeros it cannot deallocate (WRITE SAME of zeros on a thick LUN), bytes per second, shared. */
  readonly arrayZeroBytesPerSecond: number;
  /** Host CPU time per command, in microseconds. */
  readonly hostCpuPerCommandUs: number;
  /** Host CPU time per byte moved through host memory, in nanoseconds. */
  readonly hostCpuPerByteNs: number;
  /** Commands each host keeps outstanding at most. */
  readonly queueDepth: number;
}

const MB = 1_000_000;

/**
 * Fabric presets. Link payload rates: 16GFC carries 1600 MB/s per direction (FCIA speed map);
 * 10GbE and 25GbE carry 94.1 % of the line rate as TCP payload at MTU 1500 (1448 of 1538 bytes per
 * frame), less the 48-byte iSCSI header per PDU. Latency, array and host figures are modelling
 * assumptions, stated in the README, and every one can be overridden.
 */
export const FABRIC_PRESETS: { readonly [P in '16gfc' | '10gbe-iscsi' | '25gbe-iscsi']: FabricModel } = {
  /** 16 Gb/s Fibre Channel. */
  '16gfc': {
    linkBytesPerSecond: 1600 * MB,
    commandLatencyMs: 0.05,
    arrayMediaBytesPerSecond: 4000 * MB,
    arrayCopyBytesPerSecond: 2000 * MB,
    arrayMetadataUnitsPerSecond: 200_000,
    arrayZeroBytesPerSecond: 8000 * MB,
    hostCpuPerCommandUs: 5,
    hostCpuPerByteNs: 0.25,
    queueDepth: 32,
  },
  /** 10 Gb/s Ethernet, iSCSI. */
  '10gbe-iscsi': {
    linkBytesPerSecond: 1170 * MB,
    commandLatencyMs: 0.1,
    arrayMediaBytesPerSecond: 4000 * MB,
    arrayCopyBytesPerSecond: 2000 * MB,
    arrayMetadataUnitsPerSecond: 200_000,
    arrayZeroBytesPerSecond: 8000 * MB,
    hostCpuPerCommandUs: 15,
    hostCpuPerByteNs: 0.5,
    queueDepth: 32,
  },
  /** 25 Gb/s Ethernet, iSCSI. */
  '25gbe-iscsi': {
    linkBytesPerSecond: 2930 * MB,
    commandLatencyMs: 0.08,
    arrayMediaBytesPerSecond: 4000 * MB,
    arrayCopyBytesPerSecond: 2000 * MB,
    arrayMetadataUnitsPerSecond: 200_000,
    arrayZeroBytesPerSecond: 8000 * MB,
    hostCpuPerCommandUs: 15,
    hostCpuPerByteNs: 0.5,
    queueDepth: 32,
  },
};

/** Name of a {@link FABRIC_PRESETS} entry. */
export type FabricPreset = keyof typeof FABRIC_PRESETS;

/** Counters of one host (or of the whole fabric). */
export interface FabricStats {
  /** Commands completed. */
  commands: number;
  /** Payload bytes that crossed the fabric: Data-Out plus Data-In (parameter lists included). */
  fabricBytes: number;
  /** Host CPU time charged, in simulated milliseconds. */
  hostCpuMs: number;
}

function emptyStats(): FabricStats {
  return { commands: 0, fabricBytes: 0, hostCpuMs: 0 };
}

const MODEL_KEYS = Object.keys(FABRIC_PRESETS['16gfc']);

/** A fabric of hosts in front of one array, on one simulated clock. */
export class Fabric {
  /** The simulated clock. */
  readonly clock: SimClock;
  /** The model in force. */
  readonly model: FabricModel;
  /** The array behind the fabric. */
  readonly array: StorageArray;
  /** Totals over every host. */
  readonly stats: FabricStats = emptyStats();
  /** @internal The array's back end. */
  readonly backEnd: Resource;
  readonly #hosts = new Map<string, FabricHost>();

  /**
   * @param array - the in-process array the hosts reach
   * @param model - a preset name, or a preset with fields overridden
   */
  constructor(array: StorageArray, model: FabricPreset | (Partial<FabricModel> & { preset?: FabricPreset }) = '16gfc', clock = new SimClock()) {
    this.array = array;
    this.clock = clock;
    if (typeof model === 'string') {
      if (!(model in FABRIC_PRESETS)) throw new InvalidArgumentError(`Fabric: unknown preset '${model}' (known: ${Object.keys(FABRIC_PRESETS).join(', ')})`);
      this.model = FABRIC_PRESETS[model];
    } else {
      checkOptionKeys(model, [...MODEL_KEYS, 'preset'], 'Fabric');
      const { preset, ...overrides } = model;
      const merged: FabricModel = { ...FABRIC_PRESETS[preset ?? '16gfc'], ...overrides };
      for (const [k, v] of Object.entries(merged)) {
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`Fabric: ${k} must be a positive number, got ${String(v)}`);
      }
      if (!Number.isInteger(merged.queueDepth)) throw new InvalidArgumentError('Fabric: queueDepth must be an integer');
      this.model = merged;
    }
    // The back end's bandwidths are the array's totals: commands take their turn on one server.
    this.backEnd = new Resource(clock, 1);
  }

  /** The host named `name` (its initiator name), created on first use. */
  host(name: string): FabricHost {
    let h = this.#hosts.get(name);
    if (h === undefined) {
      h = new FabricHost(this, name);
      this.#hosts.set(name, h);
    }
    return h;
  }

  /** Every host, in creation order. */
  get hosts(): readonly FabricHost[] {
    return [...this.#hosts.values()];
  }
}

/** One host on the fabric: a CPU, a queue depth, a full-duplex link, and its counters. */
export class FabricHost {
  /** Initiator name: the I_T nexus its commands use. */
  readonly name: string;
  /** This host's counters. */
  readonly stats: FabricStats = emptyStats();
  readonly #fabric: Fabric;
  readonly #queue: Resource;
  readonly #cpu: Resource;
  readonly #link: Link;

  /** @internal Use {@link Fabric.host}. */
  constructor(fabric: Fabric, name: string) {
    this.#fabric = fabric;
    this.name = name;
    const clock = fabric.clock;
    this.#queue = new Resource(clock, fabric.model.queueDepth);
    this.#cpu = new Resource(clock, 1);
    this.#link = newLink(clock, fabric.model.linkBytesPerSecond);
  }

  /** A port through which this host reaches `lun`. */
  port(lun: Lun): FabricPort {
    return new FabricPort(this.#fabric, this, lun);
  }

  /**
   * A path from this host to `lun` through the array's target port `port`, over a link of its own
   * (the host's queue depth and CPU are shared by all its paths and ports).
   */
  path(lun: Lun, port: TargetPort, options: FabricPathOptions = {}): FabricPath {
    checkOptionKeys(options, ['linkBytesPerSecond', 'name'], 'FabricHost.path');
    const bandwidth = options.linkBytesPerSecond ?? this.#fabric.model.linkBytesPerSecond;
    if (typeof bandwidth !== 'number' || !Number.isFinite(bandwidth) || bandwidth <= 0) throw new InvalidArgumentError(`FabricHost.path: linkBytesPerSecond must be a positive number, got ${String(bandwidth)}`);
    const nexus = itNexus(this.name, port);
    return new FabricPath(this, lun, nexus, newLink(this.#fabric.clock, bandwidth), options.name ?? `${this.name}->${port.name}`);
  }

  /** @internal Runs one command through the model, over the host's own link or a path's. */
  async run(lun: Lun, cdb: Uint8Array, dataOut: Uint8Array | undefined, options: ExecuteOptions | undefined, via?: PathRoute): Promise<ScsiResult> {
    const fabric = this.#fabric;
    const m = fabric.model;
    const clock = fabric.clock;
    const out = dataOut?.length ?? 0;
    const link = via?.link ?? this.#link;
    const port = via?.nexus.target;
    if (port?.link === 'down') throw new PathTransportError(via!.name, 'down', false);
    if (port?.link === 'black-hole') return await never;
    let lost: TargetPort['link'] = 'up';
    let result: ScsiResult;
    await this.#queue.acquire();
    try {
      const cpuOut = m.hostCpuPerCommandUs / 1000 + (out * m.hostCpuPerByteNs) / 1e6;
      await this.#cpu.use(cpuOut);
      await link.tx.use((out / link.bytesPerSecond) * 1000);
      await clock.sleep(m.commandLatencyMs / 2);
      // The command executes when it reaches the array, so concurrent hosts race as on a real fabric.
      result = await lun.execute(cdb, dataOut, via === undefined ? { ...options, initiator: this.name } : { ...options, nexus: via.nexus });
      await fabric.backEnd.use(arrayServiceMs(m, fabric.array.pool.unitBytes, result.work));
      await clock.sleep(m.commandLatencyMs / 2 + (port?.latencyMs ?? 0));
      const inBytes = result.work?.dataInBytes ?? 0;
      await link.rx.use((inBytes / link.bytesPerSecond) * 1000);
      // The answer came back over the path's link: a fault meanwhile loses it (its slot is freed).
      lost = port === undefined ? 'up' : linkOf(port);
      const cpuIn = lost === 'up' ? (inBytes * m.hostCpuPerByteNs) / 1e6 : 0;
      await this.#cpu.use(cpuIn);
      for (const s of [this.stats, fabric.stats]) {
        s.commands++;
        s.fabricBytes += out + inBytes;
        s.hostCpuMs += cpuOut + cpuIn;
      }
    } finally {
      this.#queue.release();
    }
    if (lost === 'down') throw new PathTransportError(via!.name, 'down', true);
    if (lost === 'black-hole') return await never;
    return result;
  }
}

/** @internal One direction each way, with its bandwidth. */
interface Link {
  readonly tx: Resource;
  readonly rx: Resource;
  readonly bytesPerSecond: number;
}

function newLink(clock: SimClock, bytesPerSecond: number): Link {
  return { tx: new Resource(clock, 1), rx: new Resource(clock, 1), bytesPerSecond };
}

/** @internal How a path's command travels: its link, its nexus, its name. */
interface PathRoute {
  readonly link: Link;
  readonly nexus: ItNexus;
  readonly name: string;
}

const never = new Promise<never>(() => undefined);

/** The port's link now (read through a call: it changes while a command is under way). */
function linkOf(port: TargetPort): TargetPort['link'] {
  return port.link;
}

/** Options of {@link FabricHost.path}. */
export interface FabricPathOptions {
  /** Payload bandwidth of this path's link, per direction, in bytes per second. @defaultValue the model's `linkBytesPerSecond` */
  readonly linkBytesPerSecond?: number;
  /** The path's name in reports and errors. @defaultValue `<host>-><target port name>` */
  readonly name?: string;
}

/**
 * One path through the fabric: host port -> its own link -> one target port of the array, as one
 * I_T nexus (the {@link ScsiTarget} contract, on simulated time). Give several to a multipath
 * device. Rejects with `PathTransportError` when the port's link is down (`sent` false before the
 * command left, true when its answer was lost); never settles on a black hole.
 */
export class FabricPath implements ScsiTarget {
  /** The path's name. */
  readonly description: string;
  /** The host whose queue depth and CPU the path uses. */
  readonly host: FabricHost;
  /** The LUN behind it. */
  readonly lun: Lun;
  /** The I_T nexus its commands arrive on. */
  readonly nexus: ItNexus;
  readonly #route: PathRoute;

  /** @internal Use {@link FabricHost.path}. */
  constructor(host: FabricHost, lun: Lun, nexus: ItNexus, link: Link, name: string) {
    this.host = host;
    this.lun = lun;
    this.nexus = nexus;
    this.description = name;
    this.#route = { link, nexus, name };
  }

  /** Payload bandwidth of this path's link, per direction, in bytes per second. */
  get linkBytesPerSecond(): number {
    return this.#route.link.bytesPerSecond;
  }

  /** Simulated ms this path's link carried data: Data-Out (`tx`) and Data-In (`rx`). */
  get linkBusyMs(): {
    /** Host to array (Data-Out). */
    readonly tx: number;
    /** Array to host (Data-In). */
    readonly rx: number;
  } {
    return { tx: this.#route.link.tx.busyTime, rx: this.#route.link.rx.busyTime };
  }

  /** Executes one command through the fabric model over this path (always asynchronous). */
  execute(cdb: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    return this.host.run(this.lun, cdb, dataOut, options, this.#route);
  }
}

/** A LUN as one host sees it through the fabric: the {@link ScsiTarget} contract, on simulated time. */
export class FabricPort implements ScsiTarget {
  readonly #fabric: Fabric;
  /** The host this port belongs to. */
  readonly host: FabricHost;
  /** The LUN behind it. */
  readonly lun: Lun;

  /** @internal Use {@link FabricHost.port}. */
  constructor(fabric: Fabric, host: FabricHost, lun: Lun) {
    this.#fabric = fabric;
    this.host = host;
    this.lun = lun;
  }

  /** The simulated clock this port runs on. */
  get clock(): SimClock {
    return this.#fabric.clock;
  }

  /** Executes one command through the fabric model (always asynchronous). */
  execute(cdb: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    return this.host.run(this.lun, cdb, dataOut, options);
  }
}

/**
 * Simulated milliseconds the array's back end spends on the work a command did (its
 * {@link CommandWork} record, as the array reports it): media time for host data it read or wrote,
 * metadata time per allocation unit it shared or deallocated, copy time for bytes it copied
 * internally, zeroing time for zeros a fully provisioned LUN wrote. A command refused before it
 * executed has no record and costs nothing beyond the fabric round trip.
 */
function arrayServiceMs(m: FabricModel, unitBytes: number, work: CommandWork | undefined): number {
  if (work === undefined) return 0;
  const metadataUnits = Math.ceil(work.sharedBytes / unitBytes) + Math.ceil(work.deallocatedBytes / unitBytes);
  return (
    ((work.mediaReadBytes + work.mediaWriteBytes) / m.arrayMediaBytesPerSecond) * 1000 +
    (metadataUnits / m.arrayMetadataUnitsPerSecond) * 1000 +
    (work.copiedBytes / m.arrayCopyBytesPerSecond) * 1000 +
    (work.zeroedBytes / m.arrayZeroBytesPerSecond) * 1000
  );
}
