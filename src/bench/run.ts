/**
 * The benchmark run: every suite in turn, progress as it goes, then `results.json`, `report.md`
 * and SVG charts in the output folder. `npm run bench` and `vaai-sim bench` both come here.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, checkOptionKeys } from '../common/errors.js';
import { FABRIC_PRESETS, type FabricModel, type FabricPreset } from '../host/fabric.js';
import { CHARTS_NEED, chartSpecs, renderCharts } from './charts.js';
import { MemoryWatch, formatBytes, formatMs, peakRss, type SuiteContext } from './measure.js';
import { checkTargets, renderReport, reportedFigures } from './report.js';
import type { BenchResults, ScenarioResult } from './results.js';
import { atsSuite } from './suites/ats.js';
import { cloneSuite } from './suites/clone.js';
import { lockingSuite } from './suites/locking.js';
import { thinPoolSuite } from './suites/thin-pool.js';
import { zeroSuite } from './suites/zero.js';
import { backupSuite } from './suites/backup.js';
import { replicationSuite } from './suites/replication.js';
import { iscsiSuite, remoteSuite } from './suites/iscsi.js';
import { multipathSuite } from './suites/multipath.js';
import { fencingSuite } from './suites/fencing.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

/** The suites, one per primitive. */
export const SUITES = ['clone', 'zero', 'ats', 'locking', 'thin', 'backup', 'replication', 'iscsi', 'multipath', 'fencing'] as const;
/** One of {@link SUITES}. */
export type SuiteName = (typeof SUITES)[number];

/** Options of {@link runBenchmark}; sizes default to the full scenarios, or to small ones with `quick`. */
export interface BenchOptions {
  /** Small sizes and short measurements, for a run of under 30 s on two cores. @defaultValue false */
  readonly quick?: boolean;
  /** Which suites to run. @defaultValue all */
  readonly suites?: readonly SuiteName[];
  /** Folder for results.json, report.md and the charts; nothing is written when null. @defaultValue 'bench-results' */
  readonly outDir?: string | null;
  /** Fabric preset for simulated figures. @defaultValue '16gfc' */
  readonly preset?: FabricPreset;
  /** Fabric model fields that differ from the preset. */
  readonly model?: Partial<FabricModel>;
  /** Size of the fully written disk that is cloned. @defaultValue 1 GiB (quick: 128 MiB) */
  readonly cloneBytes?: number;
  /** Size of the thin disk that is cloned. @defaultValue 10 GiB (quick: 256 MiB) */
  readonly thinDiskBytes?: number;
  /** Fraction of the thin disk that is written. @defaultValue 0.3 */
  readonly thinWrittenFraction?: number;
  /** Size of the disk that is eager-zeroed both ways. @defaultValue 10 GiB (quick: 256 MiB) */
  readonly zeroBytes?: number;
  /** Host counts of the locking suite. @defaultValue [1, 8, 32, 64] (quick: [1, 8, 32]) */
  readonly hosts?: readonly number[];
  /** Simulated duration of each locking run, ms. @defaultValue 500 (quick: 100) */
  readonly lockingMs?: number;
  /** Size of the disk of the backup scenario. @defaultValue 256 MiB (32 MiB quick) */
  readonly backupDiskBytes?: number;
  /** Measured runs of each whole-disk task. @defaultValue 3 (quick: 2) */
  readonly iterations?: number;
  /** An iSCSI LUN URL (a scratch LUN of a real array, say) to run the host paths against as well. */
  readonly remote?: string;
  /** Progress messages. @defaultValue written to stderr */
  readonly progress?: (message: string) => void;
}

/** The sizes and counts of {@link BenchOptions} that have defaults. */
export type BenchSizes = Required<Pick<BenchOptions, 'cloneBytes' | 'thinDiskBytes' | 'thinWrittenFraction' | 'zeroBytes' | 'hosts' | 'lockingMs' | 'backupDiskBytes' | 'iterations'>>;

/** The defaults of the sizes {@link BenchOptions} can set, full and `quick` (what `vaai-sim bench --help` shows). */
export const BENCH_DEFAULTS: Readonly<Record<'full' | 'quick', BenchSizes>> = {
  full: { cloneBytes: GiB, thinDiskBytes: 10 * GiB, thinWrittenFraction: 0.3, zeroBytes: 10 * GiB, hosts: [1, 8, 32, 64], lockingMs: 500, backupDiskBytes: 256 * MiB, iterations: 3 },
  quick: { cloneBytes: 128 * MiB, thinDiskBytes: 256 * MiB, thinWrittenFraction: 0.3, zeroBytes: 256 * MiB, hosts: [1, 8, 32], lockingMs: 100, backupDiskBytes: 32 * MiB, iterations: 2 },
};

const OPTION_KEYS = ['quick', 'suites', 'outDir', 'preset', 'model', 'cloneBytes', 'thinDiskBytes', 'thinWrittenFraction', 'zeroBytes', 'hosts', 'lockingMs', 'backupDiskBytes', 'iterations', 'remote', 'progress'];

/** Runs the benchmark and writes its results; returns them. */
export async function runBenchmark(options: BenchOptions = {}): Promise<BenchResults> {
  checkOptionKeys(options, OPTION_KEYS, 'runBenchmark');
  const quick = options.quick ?? false;
  const preset = options.preset ?? '16gfc';
  if (!(preset in FABRIC_PRESETS)) throw new InvalidArgumentError(`runBenchmark: unknown fabric preset '${preset}'`);
  const model: FabricModel = { ...FABRIC_PRESETS[preset], ...options.model };
  const suites = new Set(options.suites ?? SUITES);
  for (const s of suites) if (!SUITES.includes(s)) throw new InvalidArgumentError(`runBenchmark: unknown suite '${s}' (known: ${SUITES.join(', ')})`);
  const started = performance.now();
  const say = options.progress ?? ((m: string) => process.stderr.write(`${m}\n`));
  const progress = (m: string): void => say(`[${formatMs(performance.now() - started).padStart(9)}] ${m}`);
  const memory = new MemoryWatch();
  globalThis.gc?.();
  const startRssBytes = process.memoryUsage().rss;
  memory.start();
  const d = quick ? BENCH_DEFAULTS.quick : BENCH_DEFAULTS.full;
  const ctx: SuiteContext = { preset, model, quick, iterations: options.iterations ?? d.iterations, timeMs: quick ? 200 : 1000, progress, memory };
  const cloneBytes = options.cloneBytes ?? d.cloneBytes;
  const thinBytes = options.thinDiskBytes ?? d.thinDiskBytes;
  const fraction = options.thinWrittenFraction ?? d.thinWrittenFraction;
  const zeroBytes = options.zeroBytes ?? d.zeroBytes;
  const bigZero = quick ? 64 * GiB : TiB;
  const smallZero = quick ? 64 * MiB : GiB;

  const scenarios: ScenarioResult[] = [];
  let typedArraySetMs: number | undefined;
  const cloneName = `clone-${formatBytes(cloneBytes).replace(' ', '')}`;
  const zeroPair: [string, string] = [`zero-${formatBytes(bigZero).replace(' ', '')}`, `zero-${formatBytes(smallZero).replace(' ', '')}`];
  if (suites.has('clone')) {
    const full = await cloneSuite(ctx, { scenario: cloneName, bytes: cloneBytes, writtenFraction: 1, withByteCopy: true });
    scenarios.push(...full.results);
    typedArraySetMs = full.extras.typedArraySetMs;
    const thin = await cloneSuite(ctx, { scenario: `clone-${formatBytes(thinBytes).replace(' ', '')}-thin-${Math.round(fraction * 100)}pct`, bytes: thinBytes, writtenFraction: fraction, withByteCopy: false });
    scenarios.push(...thin.results);
  }
  if (suites.has('zero')) {
    const eager = `eager-zero-${formatBytes(zeroBytes).replace(' ', '')}`;
    scenarios.push(
      ...(await zeroSuite(ctx, [
        { scenario: eager, bytes: zeroBytes, path: 'offload' },
        { scenario: eager, bytes: zeroBytes, path: 'host' },
        { scenario: zeroPair[0], bytes: bigZero, path: 'offload' },
        { scenario: zeroPair[1], bytes: smallZero, path: 'host' },
      ])),
    );
  }
  if (suites.has('ats')) scenarios.push(...(await atsSuite(ctx)));
  if (suites.has('locking')) {
    ctx.progress('locking');
    scenarios.push(...(await lockingSuite(ctx, options.hosts ?? d.hosts, { durationMs: options.lockingMs ?? d.lockingMs })));
  }
  const notes: string[] = [];
  if (suites.has('iscsi')) {
    const over = await iscsiSuite(ctx, quick ? { seconds: 1, cloneBytes: 64 * MiB } : { seconds: 5, cloneBytes: 256 * MiB });
    scenarios.push(...over.results);
    notes.push(...over.notes);
  }
  if (options.remote !== undefined) {
    const remote = await remoteSuite(ctx, options.remote, quick ? 2 : 5);
    scenarios.push(...remote.results);
    notes.push(...remote.notes);
  }
  if (suites.has('fencing')) {
    ctx.progress('fencing');
    scenarios.push(...(await fencingSuite(ctx, [2, 4])));
  }
  if (suites.has('multipath')) {
    scenarios.push(
      ...(await multipathSuite(
        ctx,
        quick
          ? { streamBytes: 128 * MiB, cloneBytes: 128 * MiB, commandTimeoutsMs: [1000, 5000, 30_000], checkerIntervalsMs: [1000, 5000] }
          : { streamBytes: GiB, cloneBytes: GiB, commandTimeoutsMs: [1000, 5000, 10_000, 30_000], checkerIntervalsMs: [1000, 5000, 20_000] },
      )),
    );
  }
  if (suites.has('backup')) {
    const diskBytes = options.backupDiskBytes ?? d.backupDiskBytes;
    scenarios.push(...(await backupSuite(ctx, { diskBytes, writtenFraction: 0.5, rounds: quick ? 3 : 5, changedFractionPerRound: 0.02 })));
  }
  if (suites.has('replication')) {
    scenarios.push(...(await replicationSuite(ctx, quick ? { diskBytes: 32 * MiB, cloneBytes: 8 * MiB } : { diskBytes: 256 * MiB, cloneBytes: 64 * MiB })));
  }
  if (suites.has('thin')) {
    scenarios.push(...(await thinPoolSuite(ctx, quick ? { poolBytes: 64 * MiB, bytesPerGrower: 14 * MiB } : { poolBytes: 512 * MiB, bytesPerGrower: 112 * MiB })));
  }

  const peak = memory.stop();
  const memoryInfo = { sampledPeakRssBytes: peak.rssBytes, heldBytesAtPeak: peak.heldBytes, ratio: peak.rssBytes / Math.max(1, peak.heldBytes), startRssBytes, samples: peak.samples };
  const peakRssBytes = peakRss();
  const outDir = options.outDir === undefined ? 'bench-results' : options.outDir;
  const charts = outDir === null ? [] : chartSpecs(scenarios);
  const svgs = charts.length === 0 ? new Map<string, string>() : await renderCharts(charts, { warn: progress });
  if (svgs === undefined) notes.push(CHARTS_NEED);
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length },
    fabric: { preset, model },
    quick,
    scenarios,
    targets: checkTargets(scenarios, {
      ...(typedArraySetMs === undefined ? {} : { typedArraySetMs }),
      ...(suites.has('clone') ? { cloneScenario: cloneName } : {}),
      ...(suites.has('zero') ? { zeroPair } : {}),
      memory: memoryInfo,
    }),
    figures: reportedFigures(scenarios, memoryInfo),
    peakRssBytes,
    memory: memoryInfo,
    totalWallMs: performance.now() - started,
    notes,
  };

  if (outDir !== null) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const written = charts.filter((c) => svgs?.has(c.file));
    for (const c of written) writeFileSync(join(outDir, c.file), svgs!.get(c.file)!);
    writeFileSync(join(outDir, 'report.md'), renderReport(results, written));
    progress(`wrote ${join(outDir, 'results.json')}, ${join(outDir, 'report.md')}${written.length > 0 ? ` and ${written.length} charts (report.md shows them)` : ''}`);
  }
  return results;
}
