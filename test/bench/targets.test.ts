import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { BENCH_DEFAULTS, checkTargets, reportedFigures, renderReport, runBenchmark, type BenchResults, type MemoryInfo, type ScenarioResult } from '../../src/bench/index.js';

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

/** A read result of the iSCSI suite: `who` is the variant's start (vaai-sim, tgt) or the ceiling's variant. */
function read(size: '64KiB' | '1MiB', variant: string, mbPerSecond: number, extra: Record<string, number> = {}): ScenarioResult {
  const bytes = size === '1MiB' ? MiB : 64 * 1024;
  return { scenario: `iscsi-read-${size}-qd8`, path: 'host', variant, bytes, wallMs: 1, wallSamples: 1, simulatedMs: null, fabricBytes: 0, commands: 1, hostCpuMs: null, metrics: { mbPerSecond, iops: (mbPerSecond * MiB) / bytes, ...extra } };
}
const CEILING = 'raw TCP ceiling (Node loopback)';
const readTargets = (rows: ScenarioResult[]) => checkTargets(rows, { memory: memory(1, 1) }).filter((t) => t.name.startsWith('iSCSI') && t.name.includes('reads'));

describe('read targets (issue 12): every figure of a verdict from one run', () => {
  it.each([
    // 64 KiB vs tgt, 1 MiB vs 64 KiB, 1 MiB vs 2x tgt, 1 MiB vs 75 % of the ceiling
    { ours: [2000, 3000], tgt: [1500, 1500], ceiling: [4000, 4000], met: [true, true, true, true] },
    { ours: [2000, 1999], tgt: [2000, 999], ceiling: [4000, 2665], met: [true, false, true, true] },
    { ours: [1999, 2999], tgt: [2000, 1499], ceiling: [4000, 3998], met: [false, true, true, true] },
    { ours: [1000, 2999], tgt: [900, 1500], ceiling: [4000, 4000], met: [true, true, false, false] },
    { ours: [1000, 3000], tgt: [900, 1501], ceiling: [4000, 4001], met: [true, true, false, false] },
  ])('ours $ours, tgt $tgt, ceiling $ceiling MB/s (64 KiB, 1 MiB): met $met', ({ ours, tgt, ceiling, met }) => {
    const rows = [read('64KiB', 'vaai-sim (iscsi-perf)', ours[0]!), read('64KiB', 'tgt (iscsi-perf)', tgt[0]!), read('64KiB', CEILING, ceiling[0]!), read('1MiB', 'vaai-sim (iscsi-perf)', ours[1]!), read('1MiB', 'tgt (iscsi-perf)', tgt[1]!), read('1MiB', CEILING, ceiling[1]!)];
    const t = readTargets(rows);
    expect(t.map((x) => [x.target, x.met])).toEqual([
      ['at least as fast', met[0]],
      ['at least the 64 KiB throughput', met[1]],
      ['at least 2x', met[2]],
      ['at least 75 %', met[3]],
    ]);
  });

  it('says what it compared, with the figures', () => {
    const rows = [read('64KiB', 'vaai-sim (iscsi-perf)', 2213), read('64KiB', 'tgt (iscsi-perf)', 813), read('64KiB', CEILING, 4719), read('1MiB', 'vaai-sim (iscsi-perf)', 2940), read('1MiB', 'tgt (iscsi-perf)', 1110), read('1MiB', CEILING, 3529)];
    expect(readTargets(rows)).toEqual([
      { name: 'iSCSI 64KiB sequential reads at queue depth 8 (iscsi-perf), vs Debian tgt', target: 'at least as fast', measured: '2,213 MB/s vs 813 MB/s', met: true },
      { name: 'iSCSI sequential reads at queue depth 8 (iscsi-perf): 1MiB vs 64KiB', target: 'at least the 64 KiB throughput', measured: '2,940 MB/s vs 2,213 MB/s', met: true },
      { name: 'iSCSI 1MiB sequential reads at queue depth 8 (iscsi-perf), vs Debian tgt', target: 'at least 2x', measured: '2.65x (2,940 MB/s vs 1,110 MB/s)', met: true },
      { name: 'iSCSI 1MiB sequential reads at queue depth 8 (iscsi-perf), vs the raw TCP ceiling (a Node loopback stream of the same sizes)', target: 'at least 75 %', measured: '83 % (2,940 MB/s vs 3,529 MB/s)', met: true },
    ]);
  });

  it('judges only what this run measured: no tgt, no ceiling, or no 64 KiB row leaves those verdicts out', () => {
    const ours = [read('64KiB', 'vaai-sim (iscsi-perf)', 2000), read('1MiB', 'vaai-sim (iscsi-perf)', 3000)];
    expect(readTargets(ours).map((t) => t.target)).toEqual(['at least the 64 KiB throughput']);
    expect(readTargets([...ours, read('1MiB', CEILING, 3500)]).map((t) => t.target)).toEqual(['at least the 64 KiB throughput', 'at least 75 %']);
    expect(readTargets([read('1MiB', 'vaai-sim (iscsi-perf)', 3000), read('1MiB', 'tgt (iscsi-perf)', 1000)]).map((t) => t.target)).toEqual(['at least 2x']);
    expect(readTargets([read('1MiB', 'tgt (iscsi-perf)', 1000), read('1MiB', CEILING, 3500)])).toEqual([]);
  });

  it('reports the 64 KiB row against tgt and the ceiling, the CPU shares, and the ceiling client\'s capacity', () => {
    const rows = [
      read('64KiB', 'vaai-sim (iscsi-perf)', 2213, { targetCpuPercent: 83.7 }),
      read('64KiB', 'tgt (iscsi-perf)', 813, { tcpRetransmits: 1234 }),
      read('64KiB', CEILING, 4719, { clientCpuPercent: 85.2, serverCpuPercent: 95.4 }),
      read('1MiB', CEILING, 3529, { clientCpuPercent: 61.2, serverCpuPercent: 54.5, clientStreamMbPerSecond: 5139, clientStreamCpuPercent: 65.9 }),
    ];
    const figures = reportedFigures(rows, memory(2 * GiB, 2 * GiB));
    expect(figures).toEqual([
      { name: 'iscsi-read-64KiB-qd8: vaai-sim (iscsi-perf)', value: '2,213 MB/s, 35,408 IOPS; the target at 83.7 % of a core' },
      { name: 'iscsi-read-64KiB-qd8: tgt (iscsi-perf)', value: '813 MB/s, 13,008 IOPS; 1,234 TCP segments retransmitted meanwhile' },
      { name: `iscsi-read-64KiB-qd8: ${CEILING}`, value: '4,719 MB/s, 75,504 IOPS; client at 85.2 %, server at 95.4 % of a core' },
      { name: `iscsi-read-1MiB-qd8: ${CEILING}`, value: '3,529 MB/s, 3,529 IOPS; client at 61.2 %, server at 54.5 % of a core' },
      { name: 'raw TCP ceiling: its client receiving 1 MiB payloads sent back to back (what the client can take when the server never waits)', value: "5,139 MB/s (1.46x the ceiling's 1 MiB rate), the client at 65.9 % of a core" },
      { name: 'iSCSI 64KiB sequential reads at queue depth 8 (iscsi-perf), vaai-sim', value: '2.72x Debian tgt, 47 % of the raw TCP ceiling' },
    ]);
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
