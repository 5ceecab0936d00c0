/**
 * How the benchmark measures: wall-clock with tinybench (the in-process simulator doing the work),
 * simulated time with the fabric model (the same host code through a {@link Fabric}).
 * @module
 */
import { Bench } from 'tinybench';
import type { Lun } from '../scsi/logical-unit.js';
import type { StorageArray } from '../scsi/storage-array.js';
import type { ScenarioResult } from './results.js';
import { Fabric, type FabricModel, type FabricPort, type FabricPreset } from '../host/fabric.js';

/** What every suite is given. */
export interface SuiteContext {
  /** The fabric model's preset name. */
  readonly preset: FabricPreset;
  /** The fabric model (the preset with any overrides). */
  readonly model: FabricModel;
  /** Scaled-down sizes for a fast run. */
  readonly quick: boolean;
  /** Measured runs per task for the heavy (whole-disk) tasks. */
  readonly iterations: number;
  /** Minimum measuring time per task in ms (fast tasks run until it is spent). */
  readonly timeMs: number;
  /** Reports progress to the user. */
  readonly progress: (message: string) => void;
  /** Resident memory against the bytes the scenarios hold. */
  readonly memory: MemoryWatch;
}

/** The memory figures of a run: the peak of resident memory against the data the scenarios held then. */
export interface MemoryPeak {
  /** The largest resident set size sampled, in bytes. */
  readonly rssBytes: number;
  /** The bytes the scenarios held at that sample (see {@link MemoryWatch}). */
  readonly heldBytes: number;
  /** How many samples were taken. */
  readonly samples: number;
}

/**
 * Samples the process's resident memory (`process.memoryUsage().rss`) together with the bytes the
 * running scenarios must hold at the same moment, and keeps the sample of the largest RSS with the
 * held bytes of that moment. Held bytes are what each scenario registered with {@link hold}: the
 * data its arrays store (allocated units, a unit shared by several extents counted once, plus the
 * freed unit buffers the pool keeps for reuse, which is memory the array holds) and its own large
 * host buffers.
 *
 * Why the sample of the largest RSS and not the largest ratio: the peak is what a machine must have
 * to run the benchmark, and the question is whether that peak is explained by data the benchmark
 * must hold. The ratio's maximum would come from moments with almost nothing held (Node's own
 * ~50 MiB over a few MiB of data) and say nothing about the peak.
 *
 * Samples are taken after every measured run (before the next run's preparation releases
 * anything), after every simulated run, when a scenario releases its data, and every 20 ms while
 * the event loop is free and a scenario holds data. Between scenarios (nothing held, the last
 * one's data not yet collected) no samples are taken; the operating system's maximum for the
 * process (`peakRss`) is reported beside the sampled peak, so a peak between samples stays visible.
 */
export class MemoryWatch {
  readonly #holders = new Set<() => number>();
  #peak: MemoryPeak = { rssBytes: 0, heldBytes: 0, samples: 0 };
  #timer: ReturnType<typeof setInterval> | undefined;
  /** True while {@link hold} collects the garbage of the scenarios before: no samples then. */
  #settling = false;

  /** Starts the periodic samples. */
  start(): void {
    this.#timer ??= setInterval(() => {
      if (this.#holders.size > 0 && !this.#settling) this.sample();
    }, 20);
    this.#timer.unref();
  }

  /** Stops the periodic samples and returns the peak. */
  stop(): MemoryPeak {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
    return this.#peak;
  }

  /**
   * Counts `bytes()` as held until the returned function is called. First, when Node runs with
   * --expose-gc (as `npm run bench` does), it lets one macrotask pass and collects garbage, so that
   * the data of scenarios that have ended (no longer held) is no longer resident either: the
   * promise jobs of a finished run keep its objects reachable until the next macrotask.
   */
  async hold(bytes: () => number): Promise<() => void> {
    if (globalThis.gc !== undefined) {
      this.#settling = true;
      await new Promise((resolve) => setImmediate(resolve));
      globalThis.gc();
      this.#settling = false;
    }
    this.#holders.add(bytes);
    return () => {
      this.sample();
      this.#holders.delete(bytes);
    };
  }

  /** Bytes held now. */
  get heldBytes(): number {
    let sum = 0;
    for (const b of this.#holders) sum += b();
    return sum;
  }

  /** Takes one sample. */
  sample(): void {
    const rss = process.memoryUsage().rss;
    const samples = this.#peak.samples + 1;
    this.#peak = rss > this.#peak.rssBytes ? { rssBytes: rss, heldBytes: this.heldBytes, samples } : { ...this.#peak, samples };
  }
}

/** The data `array` stores: its allocated units and the freed unit buffers its pool keeps for reuse. */
export function storedBytes(array: StorageArray): number {
  return array.poolStatus.allocatedUnits * array.poolStatus.unitBytes + array.pool.cachedBytes;
}

/** A task for {@link measureWall}. */
export interface WallTask {
  /** Task name, unique in the suite. */
  readonly name: string;
  /** The measured work. */
  readonly run: () => Promise<unknown> | unknown;
  /** Unmeasured preparation before each run (resetting a destination). */
  readonly beforeEach?: () => Promise<unknown> | unknown;
  /** Measured runs. @defaultValue the context's iterations */
  readonly iterations?: number;
  /** Minimum measuring time in ms: fast tasks get many samples, slow ones `iterations`. @defaultValue the context's timeMs */
  readonly timeMs?: number;
}

/** What tinybench measured of one task: the mean and its spread, in ms. */
export interface WallStats {
  /** Mean of the measured runs. */
  readonly ms: number;
  /** Number of measured runs. */
  readonly samples: number;
  /** Relative margin of error of the mean, in percent (95 % confidence). */
  readonly rmePercent: number;
  /** Median run. */
  readonly p50Ms: number;
  /** 99th-percentile run. */
  readonly p99Ms: number;
}

/** The {@link ScenarioResult} fields of a {@link WallStats}, `scale` dividing times (a batch of `scale` operations per run). */
export function wallFields(w: WallStats, scale = 1): Pick<ScenarioResult, 'wallMs' | 'wallSamples' | 'wallRmePercent' | 'wallP50Ms' | 'wallP99Ms'> {
  return { wallMs: w.ms / scale, wallSamples: w.samples, ...(Number.isFinite(w.rmePercent) ? { wallRmePercent: w.rmePercent } : {}), wallP50Ms: w.p50Ms / scale, wallP99Ms: w.p99Ms / scale };
}

/** Wall-clock statistics of each task, measured with tinybench in one run. */
export async function measureWall(ctx: SuiteContext, suite: string, tasks: readonly WallTask[]): Promise<Map<string, WallStats>> {
  const out = new Map<string, WallStats>();
  for (const task of tasks) {
    // One Bench per task, so that each task's own iteration count and time budget apply.
    const bench = new Bench({ name: `${suite}: ${task.name}`, iterations: task.iterations ?? ctx.iterations, time: task.timeMs ?? ctx.timeMs, warmup: true, warmupIterations: 1, warmupTime: 0, throws: true });
    bench.add(task.name, async () => {
      await task.run();
    }, {
      // After each run, before the next run's preparation frees anything: when a run's data is all held.
      afterEach: () => ctx.memory.sample(),
      ...(task.beforeEach === undefined ? {} : { beforeEach: async () => void (await task.beforeEach!()) }),
    });
    await bench.run();
    const result = bench.tasks[0]!.result;
    if (result.state !== 'completed') throw new Error(`benchmark task ${task.name} ended ${result.state}`);
    const l = result.latency;
    const stats: WallStats = { ms: l.mean, samples: l.samplesCount, rmePercent: l.rme, p50Ms: l.p50, p99Ms: l.p99 };
    out.set(task.name, stats);
    ctx.progress(`  ${task.name}: ${formatWall(stats.ms, stats)}`);
  }
  return out;
}

/** Figures of one run on the fabric model. */
export interface SimulatedRun {
  /** Simulated ms from start to finish. */
  readonly simulatedMs: number;
  /** Wall-clock ms the simulation took. */
  readonly wallMs: number;
  /** Payload bytes over the fabric. */
  readonly fabricBytes: number;
  /** Commands on the fabric. */
  readonly commands: number;
  /** Host CPU ms charged. */
  readonly hostCpuMs: number;
}

/** Runs `work` with one port per LUN for host `host` on a fresh fabric in front of `array`. */
export async function simulate(ctx: SuiteContext, array: StorageArray, work: (fabric: Fabric) => Promise<unknown>): Promise<SimulatedRun> {
  const fabric = new Fabric(array, { preset: ctx.preset, ...ctx.model });
  const start = performance.now();
  await fabric.clock.run(async () => {
    await work(fabric);
  });
  ctx.memory.sample();
  return {
    simulatedMs: fabric.clock.now,
    wallMs: performance.now() - start,
    fabricBytes: fabric.stats.fabricBytes,
    commands: fabric.stats.commands,
    hostCpuMs: fabric.stats.hostCpuMs,
  };
}

/** The figures of one simulated run as a scenario result carries them (one wall-clock sample: the simulator's own cost). */
export function simulatedFields(sim: SimulatedRun): Pick<ScenarioResult, 'wallMs' | 'wallSamples' | 'simulatedMs' | 'fabricBytes' | 'commands' | 'hostCpuMs'> {
  return { wallMs: sim.wallMs, wallSamples: 1, simulatedMs: sim.simulatedMs, fabricBytes: sim.fabricBytes, commands: sim.commands, hostCpuMs: sim.hostCpuMs };
}

/** The port of host `name` to `lun` on `fabric`. */
export function portOf(fabric: Fabric, name: string, lun: Lun): FabricPort {
  return fabric.host(name).port(lun);
}

/** `x` to three significant digits, without exponent: `1.52`, `15.2`, `152`, `1,520`. */
function sig3(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** A duration to three significant digits: `1.52 ms`, `4.56 s`, `789 µs`, `12.0 ns`; `0 ms` for zero. */
export function formatMs(ms: number): string {
  if (ms === 0) return '0 ms';
  if (ms >= 1000) return `${sig3(ms / 1000)} s`;
  if (ms >= 1) return `${sig3(ms)} ms`;
  if (ms >= 0.001) return `${sig3(ms * 1000)} µs`;
  return `${sig3(ms * 1e6)} ns`;
}

/** A mean with its spread: `1.52 ms ±2.1% (p99 1.90 ms, n=12)`; only the parts that are known. */
export function formatWall(ms: number, spread: { readonly samples?: number; readonly rmePercent?: number; readonly p99Ms?: number }): string {
  const parts: string[] = [];
  if (spread.p99Ms !== undefined && spread.samples !== undefined && spread.samples > 1) parts.push(`p99 ${formatMs(spread.p99Ms)}`);
  if (spread.samples !== undefined) parts.push(`n=${formatCount(spread.samples)}`);
  const rme = spread.rmePercent !== undefined && Number.isFinite(spread.rmePercent) ? ` ±${spread.rmePercent < 10 ? spread.rmePercent.toFixed(1) : spread.rmePercent.toFixed(0)}%` : '';
  return `${formatMs(ms)}${rme}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** A count with thousands separators; a mean that is not whole keeps one decimal: `12,345`, `21.7`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: Number.isInteger(n) ? 0 : 1 });
}

/** `1 GiB`, `256 MiB`, `1.5 KiB`, `300 B`: binary units, up to three significant digits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v.toLocaleString('en-US') : sig3(v)} ${units[i]}`;
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

