/**
 * Charts of a benchmark run, drawn by Vega-Lite and rendered to SVG by Vega (headless, no canvas).
 * Both are optional peer dependencies: without them the run writes its JSON and report only, and
 * says how to add them ({@link CHARTS_NEED}).
 *
 * Every bar is drawn from an explicit base to its value (`x2`), never stacked from zero, so that
 * log scales can draw it: the figure charts start their bars at a floor below the smallest value,
 * the speed-up chart at ×1 (no gain), so bars left of it are losses. Each bar carries its value as
 * text; each scenario is a row headed by its name, with one bar per way the work was done.
 * @module
 */
import { checkOptionKeys } from '../common/errors.js';
import { formatBytes, formatMs } from './measure.js';
import type { ScenarioResult } from './results.js';

/** A chart: its file name, its title and its Vega-Lite specification. */
export interface ChartSpec {
  /** File name, `*.svg`. */
  readonly file: string;
  /** What the chart shows, in words (the `report.md` caption). */
  readonly title: string;
  /** The Vega-Lite specification (with its data inlined). */
  readonly spec: Record<string, unknown>;
}

/** What to tell a user whose installation cannot draw charts. */
export const CHARTS_NEED = 'Charts need the optional packages vega and vega-lite, which are not installed here: `npm install vega vega-lite` adds them.';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Colours of the two paths (and of the three measures of the speed-up chart), readable in grey too. */
const PATH_COLOURS = { domain: ['offload', 'host'], range: ['#1f77b4', '#ff7f0e'] };
const FONT = { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' };
/** Labels are never cut: Vega, without a canvas, estimates text widths generously. */
const LABEL_LIMIT = 1000;

/** Common layout: fonts, no chart border, left-aligned titles. */
const CONFIG = { ...FONT, view: { stroke: null }, title: { anchor: 'start', fontSize: 15, subtitleFontSize: 12, subtitleColor: '#444' }, axis: { labelFontSize: 11, titleFontSize: 12 }, header: { labelFontSize: 12, labelFontWeight: 'bold' }, legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: LABEL_LIMIT } };

/** Scenarios whose work is a simulated timeline (their wall-clock is the simulator's own cost, not the work's). */
function isTimeline(r: ScenarioResult): boolean {
  return r.scenario.startsWith('locking-') || r.scenario.startsWith('thin-pool');
}

/** The scenarios drawn in the figure charts: whole-disk work both ways (not the per-command iSCSI rates, ATS or timelines). */
function isWork(r: ScenarioResult): boolean {
  return r.bytes > 512 && !isTimeline(r) && !/^(iscsi-(read|caw)|multipath-)/.test(r.scenario);
}

/** The facet of one row per scenario, headed by its name, in the order of the run. */
function rowsOf(rows: ReadonlyArray<{ readonly scenario: string }>): Record<string, unknown> {
  return { row: { field: 'scenario', type: 'nominal', sort: [...new Set(rows.map((r) => r.scenario))], title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelPadding: 4 } } };
}

type Figure = 'wallMs' | 'simulatedMs' | 'fabricBytes';

/**
 * The ticks of a log axis over `values`, powers of `base` (10 for times and ratios; 32 for bytes,
 * so that they fall on 1 KiB, 32 KiB, 1 MiB, ...): from one at or below a quarter of the smallest
 * value (where the bars start) to one above twenty times the largest (room for the value labels).
 */
function logTicks(values: readonly number[], base: number): number[] {
  const log = (x: number): number => Math.log(x) / Math.log(base);
  const out: number[] = [];
  for (let e = Math.floor(log(Math.min(...values) / 4)); e <= Math.ceil(log(Math.max(...values) * 20)); e++) out.push(base === 10 ? Number(`1e${e}`) : base ** e);
  return out;
}

/** Vega expression that writes a tick of a log axis in ms with its unit: `1 µs`, `10 ms`, `1 s`. */
const MS_LABEL = "datum.value >= 1000 ? format(datum.value / 1000, '~g') + ' s' : datum.value >= 1 ? format(datum.value, '~g') + ' ms' : datum.value >= 0.001 ? format(datum.value * 1000, '~g') + ' µs' : format(datum.value * 1e6, '~g') + ' ns'";
/** Vega expression that writes a tick of a log axis in bytes with a binary unit: `32 B`, `1 KiB`, `32 MiB`. */
const BYTES_LABEL = "datum.value >= pow(2, 40) ? format(datum.value / pow(2, 40), '~g') + ' TiB' : datum.value >= pow(2, 30) ? format(datum.value / pow(2, 30), '~g') + ' GiB' : datum.value >= pow(2, 20) ? format(datum.value / pow(2, 20), '~g') + ' MiB' : datum.value >= 1024 ? format(datum.value / 1024, '~g') + ' KiB' : format(datum.value, '~g') + ' B'";

/**
 * One horizontal bar per scenario and path, grouped in rows by scenario, on a log axis: the bars
 * start at a floor below the smallest value (a log axis has no zero); the value is written at the
 * end of each bar. Rows with a zero value have no bar, only their label ("0 B").
 */
function figureChart(file: string, title: string, subtitle: string, rows: readonly ScenarioResult[], figure: Figure, axisTitle: string): ChartSpec {
  const valued = rows.filter((r) => r[figure] !== null);
  const ticks = logTicks(valued.map((r) => r[figure]!).filter((v) => v > 0), figure === 'fabricBytes' ? 32 : 10);
  const floor = ticks[0]!;
  const ceiling = ticks.at(-1)!;
  const values = valued.map((r) => {
    const v = r[figure]!;
    return {
      scenario: r.scenario,
      how: r.variant === undefined ? r.path : `${r.path}: ${r.variant}`,
      path: r.path,
      value: v,
      // Zero has no place on a log axis: no bar, and the label at the floor.
      at: v > 0 ? v : floor,
      base: floor,
      text: figure === 'fabricBytes' ? formatBytes(v) : formatMs(v),
    };
  });
  const x = { field: 'at', type: 'quantitative', scale: { type: 'log', domain: [floor, ceiling] }, title: axisTitle, axis: { values: ticks, labelExpr: figure === 'fabricBytes' ? BYTES_LABEL : MS_LABEL, grid: true, labelFlush: false } };
  // An explicit order: the bars' layer leaves out zero rows, and would otherwise put them last.
  const y = { field: 'how', type: 'nominal', sort: [...new Set(values.map((v) => v.how))], title: null, axis: { labelLimit: LABEL_LIMIT, ticks: false, domain: false } };
  return { file, title, spec: barRows({ title, subtitle, values, x, y, color: { field: 'path', type: 'nominal', scale: PATH_COLOURS, legend: null }, hasBar: 'datum.value > 0' }) };
}

/** What {@link barRows} draws. */
interface BarRows {
  readonly title: string;
  readonly subtitle: string;
  /** One row of data per bar: `scenario`, the bar's base `base` and end `at`, and its label `text`. */
  readonly values: ReadonlyArray<{ readonly scenario: string }>;
  /** The x encoding (of `at`: scale, axis, title). */
  readonly x: Record<string, unknown>;
  /** The y encoding: one bar per value of it in a row. */
  readonly y: Record<string, unknown>;
  /** The colour encoding. */
  readonly color: Record<string, unknown>;
  /** Vega expression: whether a row has a bar (the others have their label only). */
  readonly hasBar: string;
}

/** Horizontal bars from `base` to `at`, each labelled at its end, in one row of bars per scenario headed by its name. */
function barRows(o: BarRows): Record<string, unknown> {
  return {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: o.subtitle },
    config: CONFIG,
    data: { values: o.values },
    facet: rowsOf(o.values),
    spacing: 8,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 420,
      height: { step: 18 },
      layer: [
        { transform: [{ filter: o.hasBar }], mark: { type: 'bar', tooltip: true }, encoding: { x: o.x, x2: { field: 'base' }, y: o.y, color: o.color } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { x: { field: 'at', type: 'quantitative' }, y: o.y, text: { field: 'text' } } },
      ],
    },
  };
}

/** What offload buys in one scenario, by one measure: host ÷ offload. */
export interface OffloadGain {
  /** Scenario name. */
  readonly scenario: string;
  /** `wall-clock time (measured)`, `simulated time (fabric model)` or `payload bytes over the fabric`. */
  readonly measure: string;
  /** Host ÷ offload; `Infinity` where offload moved no bytes at all. */
  readonly ratio: number;
  /** The label on the bar: `×149 (32.2 ms vs 216 µs)`. */
  readonly text: string;
}

const MEASURES = ['wall-clock time (measured)', 'simulated time (fabric model)', 'payload bytes over the fabric'] as const;

/**
 * The headline figures: for every scenario done both ways, host ÷ offload of the wall-clock time,
 * the simulated time and the fabric bytes. The first offload and the first host row of a scenario
 * are compared (shared extents against READ/WRITE; the same target on iSCSI). Scenarios that are
 * simulated timelines compare simulated time and bytes only. Where offload moved no bytes at all
 * the ratio is infinite: no bar, and the label says so.
 */
export function offloadGains(results: readonly ScenarioResult[]): OffloadGain[] {
  const out: OffloadGain[] = [];
  const names = [...new Set(results.map((r) => r.scenario))];
  for (const scenario of names) {
    const offload = results.find((r) => r.scenario === scenario && r.path === 'offload');
    const host = results.find((r) => r.scenario === scenario && r.path === 'host');
    if (offload === undefined || host === undefined || offload.bytes === 0 || offload.scenario.startsWith('locking-')) continue;
    const add = (measure: (typeof MEASURES)[number], h: number | null, o: number | null, what: (v: number) => string): void => {
      if (h === null || o === null || h <= 0) return;
      const ratio = o > 0 ? h / o : Infinity;
      out.push({ scenario, measure, ratio, text: o > 0 ? `×${ratio >= 10 ? Math.round(ratio).toLocaleString('en-US') : ratio.toFixed(2)} (${what(h)} vs ${what(o)})` : `offload moved ${what(0)} (host ${what(h)})` });
    };
    if (!isTimeline(offload)) add(MEASURES[0], host.wallMs, offload.wallMs, formatMs);
    add(MEASURES[1], host.simulatedMs, offload.simulatedMs, formatMs);
    add(MEASURES[2], host.fabricBytes, offload.fabricBytes, formatBytes);
  }
  return out;
}

function gainChart(results: readonly ScenarioResult[]): ChartSpec | undefined {
  const gains = offloadGains(results);
  const finite = gains.filter((g) => Number.isFinite(g.ratio)).map((g) => g.ratio);
  if (finite.length === 0) return undefined;
  const ticks = logTicks([...finite, 0.4], 10);
  const floor = ticks[0]!;
  const ceiling = ticks.at(-1)!;
  const values = gains.map((g) => ({ ...g, ratio: Number.isFinite(g.ratio) ? g.ratio : null, at: Number.isFinite(g.ratio) ? g.ratio : 1, base: 1 }));
  const title = 'What offload buys: host ÷ offload, per scenario';
  const y = { field: 'measure', type: 'nominal', sort: [...MEASURES], title: null, axis: { labelLimit: LABEL_LIMIT, ticks: false, domain: false } };
  const x = {
    field: 'at',
    type: 'quantitative',
    scale: { type: 'log', domain: [floor, ceiling] },
    title: 'host ÷ offload (×, log scale; ×1 = no gain)',
    axis: { values: ticks, labelExpr: "'×' + (datum.value < 1 ? format(datum.value, '~g') : format(datum.value, '~s'))", grid: true, labelFlush: false },
  };
  const color = { field: 'measure', type: 'nominal', scale: { domain: [...MEASURES], range: ['#1f77b4', '#2ca02c', '#9467bd'] }, legend: null };
  const subtitle = 'Bars right of ×1 are gains (time saved, bytes kept off the fabric); left of ×1, losses. Log scale.';
  return { file: 'offload-gain.svg', title, spec: barRows({ title, subtitle, values, x, y, color, hasBar: 'datum.ratio !== null' }) };
}

/** Lines of a locking metric against the host count, one per locking method. */
function lockingChart(file: string, title: string, rows: readonly ScenarioResult[], metric: string, axis: string): ChartSpec {
  const values = rows.map((r) => r.metrics![metric]!).filter((v) => v > 0);
  const floor = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const ceiling = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  // Offload (ATS) first, in the offload colour.
  const methods = [...new Set([...rows].sort((x, y) => (x.path === y.path ? 0 : x.path === 'offload' ? -1 : 1)).map((r) => r.variant ?? r.path))];
  const ticks: number[] = [];
  for (let t = floor; t <= ceiling * 1.001; t *= 10) ticks.push(Number(t.toPrecision(1)));
  return {
    file,
    title,
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: ['Modelled on the fabric clock: every host locks its own metadata', 'and runs VM I/O to the same LUN. Log scales.'] },
      config: CONFIG,
      width: 520,
      height: 300,
      data: { values: rows.map((r) => ({ hosts: r.metrics!['hosts'], method: r.variant ?? r.path, value: r.metrics![metric] })) },
      layer: [
        {
          mark: { type: 'line', point: { size: 60 }, tooltip: true },
          encoding: {
            x: { field: 'hosts', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'hosts sharing the LUN (log scale)', axis: { values: [...new Set(rows.map((r) => r.metrics!['hosts']))], format: 'd' } },
            y: { field: 'value', type: 'quantitative', scale: { type: 'log', domain: [floor, ceiling] }, title: axis, axis: { values: ticks, format: ',~g' } },
            color: { field: 'method', type: 'nominal', title: 'locking method', scale: { domain: methods, range: PATH_COLOURS.range.slice(0, methods.length) }, legend: { orient: 'bottom', direction: 'vertical' } },
          },
        },
      ],
    },
  };
}

/** The charts of a run: the offload gains, the three figures by scenario, and the locking lines. */
export function chartSpecs(results: readonly ScenarioResult[]): ChartSpec[] {
  const work = results.filter(isWork);
  const locking = results.filter((r) => r.scenario.startsWith('locking-') && r.metrics !== undefined);
  const specs: ChartSpec[] = [];
  const gain = gainChart(results);
  if (gain !== undefined) specs.push(gain);
  if (work.some((r) => r.wallMs > 0)) {
    specs.push(figureChart('wall-clock.svg', 'Measured: the simulator doing the work in-process', 'Wall-clock time per run (tinybench mean); shorter is better. Log scale.', work, 'wallMs', 'wall-clock time (log scale)'));
  }
  const simulated = work.filter((r) => r.simulatedMs !== null);
  if (simulated.some((r) => r.simulatedMs! > 0)) {
    specs.push(figureChart('simulated.svg', 'Modelled: the same work on the fabric', 'Simulated time on the fabric model; shorter is better. Loopback iSCSI runs have no simulated clock and are left out. Log scale.', simulated, 'simulatedMs', 'simulated time (log scale)'));
  }
  if (work.some((r) => r.fabricBytes > 0)) {
    specs.push(figureChart('fabric-bytes.svg', 'Payload bytes over the fabric', 'Data the host moved over the fabric (read and written back); less is better. Log scale; 0 B has no bar.', work, 'fabricBytes', 'payload bytes (log scale)'));
  }
  specs.push(...multipathCharts(results));
  const fencing = results.filter((r) => r.scenario.startsWith('fencing-') && r.metrics?.['takeoverMs'] !== undefined);
  if (fencing.length > 0) specs.push(fencingChart(fencing));
  if (locking.length > 0) {
    specs.push(lockingChart('locking-lock-ops.svg', 'Lock operations per simulated second', locking, 'lockOpsPerSecond', 'lock operations per simulated second'));
    specs.push(lockingChart('locking-vm-io.svg', 'VM I/O per simulated second while the hosts lock', locking, 'vmIoPerSecond', 'VM I/Os (64 KiB reads) per simulated second'));
  }
  return specs;
}

/** Colours of the multipath policies and faults. */
const MULTIPATH_COLOURS = ['#ff7f0e', '#aec7e8', '#1f77b4', '#08306b'];

/** Round Robin against Fixed: simulated MB/s of streaming 1 MiB reads and writes, one row each, a bar per policy and path count. */
function multipathThroughputChart(rows: readonly ScenarioResult[]): ChartSpec {
  const fixed = (scenario: string): number => rows.find((r) => r.scenario === scenario && r.variant?.startsWith('Fixed'))?.metrics?.['mbPerSecond'] ?? NaN;
  const values = rows.map((r) => {
    const mb = r.metrics!['mbPerSecond']!;
    const base = fixed(r.scenario);
    return { scenario: r.scenario, how: r.variant ?? r.path, at: mb, base: 0, text: `${Math.round(mb).toLocaleString('en-US')} MB/s${Number.isFinite(base) ? ` (×${(mb / base).toFixed(2)} Fixed)` : ''}` };
  });
  const top = Math.max(...values.map((v) => v.at));
  const hows = [...new Set(values.map((v) => v.how))];
  const title = 'Multipath: Round Robin over 1, 2 and 4 paths against Fixed';
  const link = rows[0]?.metrics?.['linkMbPerSecond'];
  const subtitle = `Streaming 1 MiB commands at queue depth ${rows[0]?.metrics?.['queueDepth'] ?? '?'}, simulated; each path its own ${link === undefined ? '' : `${Math.round(link).toLocaleString('en-US')} MB/s `}link. Round Robin switches every command.`;
  const x = { field: 'at', type: 'quantitative', scale: { domain: [0, top * 1.6] }, title: 'throughput (MB/s, simulated)', axis: { grid: true, format: ',d' } };
  const y = { field: 'how', type: 'nominal', sort: hows, title: null, axis: { labelLimit: LABEL_LIMIT, ticks: false, domain: false } };
  const color = { field: 'how', type: 'nominal', scale: { domain: hows, range: MULTIPATH_COLOURS.slice(0, hows.length) }, legend: null };
  return { file: 'multipath-throughput.svg', title, spec: barRows({ title, subtitle, values, x, y, color, hasBar: 'datum.at > 0' }) };
}

/** The I/O pause of each fault: simulated on the fabric, and measured on the loopback iSCSI clone. Log scale. */
function multipathFailoverChart(rows: readonly ScenarioResult[]): ChartSpec {
  const values = rows.map((r) => {
    const pause = r.metrics!['pauseMs']!;
    const scenario = r.simulatedMs === null ? `${r.scenario} (measured, real time)` : `${r.scenario} (simulated)`;
    return { scenario, how: r.variant ?? r.path, at: pause, base: 0, text: formatMs(pause) };
  });
  const ticks = logTicks(values.map((v) => v.at).filter((v) => v > 0), 10);
  for (const v of values) v.base = ticks[0]!;
  const hows = [...new Set(values.map((v) => v.how))];
  const title = 'Multipath: the I/O pause when a path fails';
  const timeout = rows.find((r) => r.variant === 'black hole')?.metrics?.['commandTimeoutMs'];
  const subtitle = `Longest time with no command completing after the fault. Link down and standby are reported at once; a black hole waits out the ${timeout === undefined ? '' : `${formatMs(timeout)} `}command timeout. Log scale.`;
  const x = { field: 'at', type: 'quantitative', scale: { type: 'log', domain: [ticks[0]!, ticks.at(-1)!] }, title: 'I/O pause (log scale)', axis: { values: ticks, labelExpr: MS_LABEL, grid: true, labelFlush: false } };
  const y = { field: 'how', type: 'nominal', sort: hows, title: null, axis: { labelLimit: LABEL_LIMIT, ticks: false, domain: false } };
  const color = { field: 'how', type: 'nominal', scale: { domain: hows, range: ['#2ca02c', '#1f77b4', '#d62728', '#9467bd'].slice(0, hows.length) }, legend: null };
  return { file: 'multipath-failover.svg', title, spec: barRows({ title, subtitle, values, x, y, color, hasBar: 'datum.at > 0' }) };
}

/** A black-holed path: the I/O pause against the command timeout, and the time the checker takes to find it dead with no I/O, per checker interval. */
function multipathBlackHoleChart(rows: readonly ScenarioResult[]): ChartSpec {
  const values: Array<{ timeout: number; seconds: number; series: string }> = [];
  const series: string[] = [`I/O pause under streaming reads (checker every ${formatMs(rows[0]!.metrics!['checkerIntervalMs']!)})`];
  for (const r of rows) values.push({ timeout: r.metrics!['commandTimeoutMs']! / 1000, seconds: r.metrics!['pauseMs']! / 1000, series: series[0]! });
  const intervals = [...new Set(rows.flatMap((r) => Object.keys(r.metrics!).filter((k) => k.startsWith('idleDetectionMs@')).map((k) => Number(k.slice('idleDetectionMs@'.length)))))].sort((a, b) => a - b);
  for (const interval of intervals) {
    const name = `checker finds it dead with no I/O, interval ${formatMs(interval)} (worst case)`;
    series.push(name);
    for (const r of rows) values.push({ timeout: r.metrics!['commandTimeoutMs']! / 1000, seconds: r.metrics![`idleDetectionMs@${interval}`]! / 1000, series: name });
  }
  const title = 'Multipath: a black-holed path costs the command timeout';
  return {
    file: 'multipath-black-hole.svg',
    title,
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: ['Simulated. Commands in flight on the path wait out the command timeout, then move to the other path;', 'with no I/O, the path checker needs up to one interval more to send the TEST UNIT READY that times out.'] },
      config: CONFIG,
      width: 520,
      height: 300,
      data: { values },
      layer: [
        {
          mark: { type: 'line', point: { size: 60 }, tooltip: true },
          encoding: {
            x: { field: 'timeout', type: 'quantitative', title: 'command timeout (s)', axis: { values: [...new Set(values.map((v) => v.timeout))], format: 'd' } },
            y: { field: 'seconds', type: 'quantitative', title: 'time (s, simulated)', axis: { format: '~g' } },
            color: { field: 'series', type: 'nominal', title: null, sort: series, scale: { domain: series, range: ['#d62728', '#aec7e8', '#1f77b4', '#08306b'].slice(0, series.length) }, legend: { orient: 'bottom', direction: 'vertical' } },
          },
        },
      ],
    },
  };
}

/** The multipath suite's charts, for those of its scenarios the run has. */
function multipathCharts(results: readonly ScenarioResult[]): ChartSpec[] {
  const specs: ChartSpec[] = [];
  const streaming = results.filter((r) => /^multipath-(read|write)-/.test(r.scenario) && r.metrics?.['mbPerSecond'] !== undefined);
  if (streaming.length > 0) specs.push(multipathThroughputChart(streaming));
  const faults = results.filter((r) => (r.scenario === 'multipath-failover' || r.scenario === 'multipath-iscsi-clone') && r.metrics?.['pauseMs'] !== undefined);
  if (faults.length > 0) specs.push(multipathFailoverChart(faults));
  const holes = results.filter((r) => r.scenario === 'multipath-black-hole' && r.metrics?.['pauseMs'] !== undefined);
  if (holes.length >= 2) specs.push(multipathBlackHoleChart(holes));
  return specs;
}

/** Fencing: the time from node 1's failure until a survivor owns the disk and node 1 is refused, a bar per method in a row per cluster size. */
function fencingChart(rows: readonly ScenarioResult[]): ChartSpec {
  const values = rows.map((r) => {
    const m = r.metrics!;
    const text = `${formatMs(m['takeoverMs']!)}: ${m['survivorsWithAccess']} of ${m['nodes']! - 1} survivors write; ${m['unsafeWrites']} of node 1's writes landed after it failed`;
    return { scenario: r.scenario.replace(/^fencing-(\d+)-nodes$/, '$1-node cluster'), how: r.variant ?? r.path, at: m['takeoverMs']! / 1000, base: 0, text };
  });
  const top = Math.max(...values.map((v) => v.at));
  const hows = [...new Set(values.map((v) => v.how))];
  const detection = rows[0]?.metrics?.['detectionMs'] ?? 0;
  const title = 'Fencing a failed node: persistent reservations against SCSI-2 RESERVE';
  const subtitle = `Simulated. Node 1 holds the disk and fails (heartbeats stop, its writes go on); the survivors notice after ${formatMs(detection)}. Shorter is better.`;
  const x = { field: 'at', type: 'quantitative', scale: { domain: [0, top * 2.8] }, title: 'time from the failure until a survivor owns the disk and node 1 is refused (s)', axis: { grid: true, format: '~g' } };
  const y = { field: 'how', type: 'nominal', sort: hows, title: null, axis: { labelLimit: LABEL_LIMIT, ticks: false, domain: false } };
  const color = { field: 'how', type: 'nominal', scale: { domain: hows, range: PATH_COLOURS.range.slice(0, hows.length) }, legend: null };
  return { file: 'fencing.svg', title, spec: barRows({ title, subtitle, values, x, y, color, hasBar: 'datum.at > 0' }) };
}

/** The Vega and Vega-Lite modules, or `undefined` when either cannot be imported. */
export async function loadVega(): Promise<{ vega: typeof import('vega'); vegaLite: typeof import('vega-lite') } | undefined> {
  try {
    return { vega: await import('vega'), vegaLite: await import('vega-lite') };
  } catch {
    return undefined;
  }
}

/**
 * Vega-Lite's warning about facets whose layers filter the same data differently (the bars leave
 * out zero values, the labels keep them). Harmless here: the labels' rows include the bars' rows,
 * so the union of the domains is the labels' domain.
 */
const KNOWN_WARNING = /faceted independent scales that union domain/;

/** Options of {@link renderCharts}. */
export interface RenderChartsOptions {
  /** Receives Vega-Lite's and Vega's warnings (except one known to be harmless). @defaultValue written to stderr */
  readonly warn?: (message: string) => void;
}

/** Renders `specs` to SVG text, by file name; `undefined` when Vega and Vega-Lite are not installed ({@link CHARTS_NEED}). */
export async function renderCharts(specs: readonly ChartSpec[], options: RenderChartsOptions = {}): Promise<Map<string, string> | undefined> {
  checkOptionKeys(options, ['warn'], 'renderCharts');
  const modules = await loadVega();
  if (modules === undefined) return undefined;
  const { vega, vegaLite } = modules;
  const warn = options.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
  const out = new Map<string, string>();
  for (const { file, spec } of specs) {
    const logger = vega.logger(vega.Warn);
    const forward = (...args: readonly unknown[]): typeof logger => {
      const message = args.map(String).join(' ');
      if (!KNOWN_WARNING.test(message)) warn(`${file}: ${message}`);
      return logger;
    };
    logger.warn = forward;
    const compiled = vegaLite.compile(spec as never, { logger }).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
    out.set(file, await view.toSVG());
    view.finalize();
  }
  return out;
}
