/**
 * `vaai-sim/bench`: the offload-versus-host benchmark as a library: run it with options and get
 * the same results `vaai-sim bench` writes to results.json.
 * @module vaai-sim/bench
 */

export { runBenchmark, resultTable, SUITES } from './run.js';
export type { BenchOptions, SuiteName } from './run.js';
export type { BenchResults, ScenarioResult, TargetCheck, BenchPath, MachineInfo, FabricInfo } from './results.js';
export { checkTargets, renderReport } from './report.js';
export type { TargetInputs } from './report.js';
export { chartSpecs, renderCharts } from './charts.js';
export { formatConsoleReport } from './console.js';
export type { ConsoleReportOptions } from './console.js';
export type { ChartSpec } from './charts.js';
