/**
 * How the benchmark measures: wall-clock with tinybench (the in-process simulator doing the work),
 * simulated time with the fabric model (the same host code through a {@link Fabric}).
 * @module
 */
import { Bench } from 'tinybench';
import type { Lun } from '../array/lun.js';
import type { StorageArray } from '../array/storage-array.js';
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
  /** Reports progress to the user. */
  readonly progress: (message: string) => void;
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
  /** Minimum measuring time in ms: fast tasks get many samples, slow ones `iterations`. @defaultValue 1000 */
  readonly timeMs?: number;
}

/** Mean wall-clock ms and sample count of each task, measured with tinybench in one run. */
export async function measureWall(ctx: SuiteContext, suite: string, tasks: readonly WallTask[]): Promise<Map<string, { ms: number; samples: number }>> {
  const out = new Map<string, { ms: number; samples: number }>();
  for (const task of tasks) {
    // One Bench per task, so that each task's own iteration count and time budget apply.
    const bench = new Bench({ name: `${suite}: ${task.name}`, iterations: task.iterations ?? ctx.iterations, time: task.timeMs ?? 1000, warmup: true, warmupIterations: 1, warmupTime: 0, throws: true });
    bench.add(task.name, async () => {
      await task.run();
    }, task.beforeEach === undefined ? {} : { beforeEach: async () => void (await task.beforeEach!()) });
    await bench.run();
    const result = bench.tasks[0]!.result;
    if (result.state !== 'completed') throw new Error(`benchmark task ${task.name} ended ${result.state}`);
    out.set(task.name, { ms: result.latency.mean, samples: result.latency.samplesCount });
    ctx.progress(`  ${task.name}: ${formatMs(result.latency.mean)} (mean of ${result.latency.samplesCount})`);
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
  return {
    simulatedMs: fabric.clock.now,
    wallMs: performance.now() - start,
    fabricBytes: fabric.stats.fabricBytes,
    commands: fabric.stats.commands,
    hostCpuMs: fabric.stats.hostCpuMs,
  };
}

/** The port of host `name` to `lun` on `fabric`. */
export function portOf(fabric: Fabric, name: string, lun: Lun): FabricPort {
  return fabric.host(name).port(lun);
}

/** `12.3 ms`, `4.56 s`, `789 µs`. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

/** `1.0 GiB`, `256 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

