/**
 * `vaai-sim/bench`: the offload-versus-host benchmark as a library: run it with options and get
 * the same results `vaai-sim bench` writes to results.json.
 * @module vaai-sim/bench
 */

export { runBenchmark, BENCH_DEFAULTS, SUITES } from './run.js';
export type { BenchOptions, BenchSizes, SuiteName } from './run.js';
export type { BenchResults, ScenarioResult, TargetCheck, BenchPath, MachineInfo, FabricInfo, MemoryInfo, ReportedFigure } from './results.js';
export { checkTargets, renderReport, reportedFigures, MAX_RSS_PER_HELD_BYTE, MEMORY_TARGET_MIN_HELD_BYTES } from './report.js';
export type { TargetInputs } from './report.js';
export { chartSpecs, renderCharts, offloadGains, CHARTS_NEED } from './charts.js';
export { formatConsoleReport } from './console.js';
export type { ConsoleReportOptions } from './console.js';
export type { ChartSpec, RenderChartsOptions, OffloadGain } from './charts.js';
