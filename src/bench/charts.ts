/**
 * Charts of a benchmark run, drawn by Vega-Lite and rendered to SVG by Vega (headless, no canvas).
 * Both are optional peer dependencies: without them the run writes its JSON and report only.
 * @module
 */
import type { ScenarioResult } from './results.js';

/** A chart: its file name and its Vega-Lite specification. */
export interface ChartSpec {
  /** File name, `*.svg`. */
  readonly file: string;
  /** The Vega-Lite specification (with its data inlined). */
  readonly spec: Record<string, unknown>;
}

function label(r: ScenarioResult): string {
  return r.variant === undefined ? r.path : `${r.path}: ${r.variant}`;
}

function bars(file: string, title: string, rows: readonly ScenarioResult[], field: 'wallMs' | 'simulatedMs' | 'fabricBytes', axis: string): ChartSpec {
  return {
    file,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: 110,
      height: 220,
      data: { values: rows.map((r) => ({ scenario: r.scenario, how: label(r), value: Math.max(r[field] ?? 0, 1e-3) })) },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        column: { field: 'scenario', type: 'nominal', title: null },
        x: { field: 'how', type: 'nominal', axis: null },
        y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: axis },
        color: { field: 'how', type: 'nominal', title: 'path' },
      },
    },
  };
}

function lines(file: string, title: string, rows: readonly ScenarioResult[], metric: string, axis: string): ChartSpec {
  return {
    file,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      width: 360,
      height: 240,
      data: { values: rows.map((r) => ({ hosts: r.metrics!['hosts'], method: r.variant, value: r.metrics![metric] })) },
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'hosts', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'hosts' },
        y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: axis },
        color: { field: 'method', type: 'nominal', title: 'locking' },
      },
    },
  };
}

/** The charts of a run. */
export function chartSpecs(results: readonly ScenarioResult[]): ChartSpec[] {
  const data = results.filter((r) => r.bytes > 512 && !r.scenario.startsWith('thin-pool'));
  const locking = results.filter((r) => r.scenario.startsWith('locking-'));
  const specs: ChartSpec[] = [];
  if (data.length > 0) {
    specs.push(bars('wall-clock.svg', 'Measured: the simulator doing the work in-process (ms, log)', data, 'wallMs', 'wall-clock ms'));
    specs.push(bars('simulated.svg', 'Modelled: the same work on the fabric (simulated ms, log)', data, 'simulatedMs', 'simulated ms'));
    specs.push(bars('fabric-bytes.svg', 'Modelled: payload bytes over the fabric (log)', data, 'fabricBytes', 'bytes'));
  }
  if (locking.length > 0) {
    specs.push(lines('locking-lock-ops.svg', 'Lock operations per simulated second', locking, 'lockOpsPerSecond', 'lock ops / s'));
    specs.push(lines('locking-vm-io.svg', 'VM I/O per simulated second while locking', locking, 'vmIoPerSecond', 'VM I/O / s'));
  }
  return specs;
}

/** Renders `specs` to SVG text; `undefined` when Vega and Vega-Lite are not installed. */
export async function renderCharts(specs: readonly ChartSpec[]): Promise<Map<string, string> | undefined> {
  let vega: typeof import('vega');
  let vegaLite: typeof import('vega-lite');
  try {
    vega = await import('vega');
    vegaLite = await import('vega-lite');
  } catch {
    return undefined;
  }
  const out = new Map<string, string>();
  for (const { file, spec } of specs) {
    const compiled = vegaLite.compile(spec as never).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    out.set(file, await view.toSVG());
    view.finalize();
  }
  return out;
}
