import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { BENCH_DEFAULTS, checkTargets, reportedFigures, renderReport, runBenchmark, type BenchResults, type MemoryInfo } from '../../src/bench/index.js';

const results = JSON.parse(readFileSync(new URL('./fixtures/quick-results.json', import.meta.url), 'utf8')) as BenchResults;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const memory = (rss: number, held: number): MemoryInfo => ({ sampledPeakRssBytes: rss, heldBytesAtPeak: held, ratio: rss / held, startRssBytes: 90 * MiB, samples: 10 });

describe('benchmark targets', () => {
  it('are ratios of this run: no absolute per-second rate is judged', () => {
    const targets = checkTargets(results.scenarios, { memory: results.memory });
    expect(targets.length).toBeGreaterThan(5);
    for (const t of targets) expect(t.target).not.toMatch(/per second/);
    expect(targets.map((t) => t.name)).toContain('COMPARE AND WRITE of one block through execute vs a raw compare-then-copy loop, per second');
  });

  it('peak RSS ÷ bytes held is judged at most 1.3 from 1 GiB held, and reported (not judged) below', () => {
    const met = checkTargets([], { memory: memory(3.21 * GiB, 3.06 * GiB) });
    expect(met).toEqual([{ name: 'peak RSS ÷ the bytes the scenarios held at that moment', target: 'at most 1.3', measured: '1.05 (3.21 GiB resident, 3.06 GiB held; 90 MiB resident before the first scenario)', met: true }]);
    expect(checkTargets([], { memory: memory(4 * GiB, 3 * GiB) })[0]!.met).toBe(false);
    expect(checkTargets([], { memory: memory(387 * MiB, 192 * MiB) })).toEqual([]);
    expect(reportedFigures([], memory(387 * MiB, 192 * MiB))).toEqual([{ name: "peak RSS ÷ the bytes the scenarios held at that moment (judged from 1 GiB held, where Node's own memory weighs little)", value: '2.02 (387 MiB resident, 192 MiB held; 90 MiB resident before the first scenario)' }]);
    expect(reportedFigures([], memory(3.21 * GiB, 3.06 * GiB))).toEqual([]);
  });

  it('the absolute rates are reported figures', () => {
    const names = results.figures.map((f) => f.name);
    expect(names).toContain('COMPARE AND WRITE of one block through execute, in-process');
    expect(names).toContain('COMPARE AND WRITE of one block over loopback iSCSI at queue depth 8');
    expect(results.figures.find((f) => f.name.startsWith('COMPARE AND WRITE of one block through'))!.value).toMatch(/^[\d,]+ per second$/);
  });
});

describe('report.md', () => {
  it('embeds every chart with its title, says when charts could not be drawn, and shows the memory figures', () => {
    const charts = [{ file: 'offload-gain.svg', title: 'What offload buys: host ÷ offload, per scenario' }, { file: 'wall-clock.svg', title: 'Measured' }];
    const md = renderReport(results, charts);
    expect(md).toContain('![What offload buys: host ÷ offload, per scenario](offload-gain.svg)');
    expect(md).toContain('![Measured](wall-clock.svg)');
    expect(md).toContain('## Memory');
    const none = renderReport({ ...results, notes: ['Charts need the optional packages vega and vega-lite, which are not installed here: `npm install vega vega-lite` adds them.'] }, []);
    expect(none).toMatch(/## Charts\n\nCharts need the optional packages vega and vega-lite.*npm install vega vega-lite/);
  });
});

describe('runBenchmark options', () => {
  it('rejects unknown keys, suites and presets before running anything', async () => {
    await expect(runBenchmark({ quick: true, outDir: null, speed: 'max' } as never)).rejects.toThrow(InvalidArgumentError);
    await expect(runBenchmark({ suites: ['teleport' as never], outDir: null })).rejects.toThrow(/unknown suite 'teleport'/);
    await expect(runBenchmark({ preset: 'carrier-pigeon' as never, outDir: null })).rejects.toThrow(/unknown fabric preset/);
  });

  it('quick sizes are smaller than the full ones', () => {
    for (const key of ['cloneBytes', 'thinDiskBytes', 'zeroBytes', 'lockingMs', 'backupDiskBytes', 'iterations'] as const) expect(BENCH_DEFAULTS.quick[key]).toBeLessThan(BENCH_DEFAULTS.full[key]);
  });
});
