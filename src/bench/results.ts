/**
 * The benchmark's result types: one {@link ScenarioResult} per scenario and path, the targets
 * checked against them, and the file written as `bench-results/results.json`.
 * @module
 */
import type { FabricModel } from '../host/fabric.js';

/** Which way the work was done. */
export type BenchPath = 'offload' | 'host';

/** One scenario done one way: measured on the simulator and modelled on the fabric clock. */
export interface ScenarioResult {
  /** Scenario name, e.g. `clone-1GiB`. */
  readonly scenario: string;
  /** `offload` (EXTENDED COPY, WRITE SAME, COMPARE AND WRITE, UNMAP) or `host` (the same work done by the host). */
  readonly path: BenchPath;
  /** What distinguishes results of one path, e.g. `shared extents` or `byte copy`. */
  readonly variant?: string;
  /** Bytes of user data the scenario moves or zeroes (0 for locking). */
  readonly bytes: number;
  /** Measured wall-clock time of the simulator doing the work in-process, in ms (mean of `wallSamples`). */
  readonly wallMs: number;
  /** How many measured runs `wallMs` averages. */
  readonly wallSamples: number;
  /**
   * Relative margin of error of `wallMs` in percent (tinybench's `rme`: the 95 % confidence interval's
   * half-width over the mean). Absent where the figure is one run or comes from another tool.
   */
  readonly wallRmePercent?: number;
  /** Median of the measured runs, in ms. Absent where the runs were not kept one by one. */
  readonly wallP50Ms?: number;
  /** 99th percentile of the measured runs, in ms. Absent where the runs were not kept one by one. */
  readonly wallP99Ms?: number;
  /**
   * Simulated time on the fabric model, in ms; `null` for scenarios run on real (loopback) iSCSI,
   * which have no simulated clock (their time is `wallMs`).
   */
  readonly simulatedMs: number | null;
  /** Payload bytes that crossed the modelled fabric. */
  readonly fabricBytes: number;
  /** SCSI commands issued on the modelled fabric. */
  readonly commands: number;
  /** Host CPU time charged by the model, in ms; `null` where no model ran (loopback iSCSI). */
  readonly hostCpuMs: number | null;
  /** Scenario-specific figures (lock operations per simulated second, stun time, ...). */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** One performance target of the project, checked against this run. */
export interface TargetCheck {
  /** What is measured. */
  readonly name: string;
  /** The target, in words. */
  readonly target: string;
  /** What this run measured, in words. */
  readonly measured: string;
  /** Whether the target was met. */
  readonly met: boolean;
}

/** The machine a run was made on. */
export interface MachineInfo {
  /** Node.js version. */
  readonly node: string;
  /** Platform and architecture. */
  readonly platform: string;
  /** Number of CPUs. */
  readonly cpus: number;
}

/** The fabric model of a run. */
export interface FabricInfo {
  /** Preset name. */
  readonly preset: string;
  /** The parameters in force (the preset with any overrides). */
  readonly model: FabricModel;
}

/** Resident memory of a run against the data its scenarios held (see `MemoryWatch`). */
export interface MemoryInfo {
  /** The largest resident set size sampled during the run, in bytes. */
  readonly sampledPeakRssBytes: number;
  /** Bytes the scenarios held at that sample: their arrays' stored data and large host buffers. */
  readonly heldBytesAtPeak: number;
  /** `sampledPeakRssBytes / heldBytesAtPeak`: the target is at most 1.3. */
  readonly ratio: number;
  /** Resident set size before the first scenario (Node, the loaded modules), in bytes. */
  readonly startRssBytes: number;
  /** Samples taken. */
  readonly samples: number;
}

/** A figure the run reports without judging it (an absolute rate, which depends on the machine). */
export interface ReportedFigure {
  /** What is measured. */
  readonly name: string;
  /** The figure, in words with its unit. */
  readonly value: string;
}

/** Everything one benchmark run produced (`results.json`). */
export interface BenchResults {
  /** ISO time the run finished. */
  readonly generatedAt: string;
  /** The machine the run was made on. */
  readonly machine: MachineInfo;
  /** The fabric model used for simulated figures. */
  readonly fabric: FabricInfo;
  /** Whether the scaled-down `--quick` sizes were used. */
  readonly quick: boolean;
  /** Every scenario result. */
  readonly scenarios: readonly ScenarioResult[];
  /** The project's targets, met or missed. */
  readonly targets: readonly TargetCheck[];
  /** Absolute figures of this machine, reported and not judged (rates per second). */
  readonly figures: readonly ReportedFigure[];
  /** Peak resident set size of the process during the run (getrusage's maximum), in bytes. */
  readonly peakRssBytes: number;
  /** The sampled peak of resident memory against the data held at that moment. */
  readonly memory: MemoryInfo;
  /** Total wall-clock time of the run, in ms. */
  readonly totalWallMs: number;
  /** What the run could not measure here, and why. */
  readonly notes: readonly string[];
}
