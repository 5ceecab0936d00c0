/**
 * The multipath suite: its measure of an I/O pause, its targets, its three charts (rendered by Vega
 * from a real `--quick` run's results, every mark checked), and the suite itself at small sizes,
 * whose simulated figures follow from the fabric model (nothing here depends on wall-clock time).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartSpecs, renderCharts } from '../../src/bench/charts.js';
import type { BenchResults, ScenarioResult } from '../../src/bench/index.js';
import { MemoryWatch, type SuiteContext } from '../../src/bench/measure.js';
import { checkTargets, reportedFigures } from '../../src/bench/report.js';
import { ioPause, multipathSuite } from '../../src/bench/suites/multipath.js';
import { FABRIC_PRESETS } from '../../src/host/fabric.js';
import { inspectChart } from './scenegraph.js';

/** The multipath scenarios of a real `--quick` run, as results.json wrote them. */
const results = JSON.parse(readFileSync(new URL('./fixtures/multipath-quick-results.json', import.meta.url), 'utf8')) as BenchResults;
const scenarios = results.scenarios;
const memory = { sampledPeakRssBytes: 1, heldBytesAtPeak: 1, ratio: 1, startRssBytes: 1, samples: 1 };

describe('ioPause', () => {
  it('is the longest stretch after the fault with no completion, counted from the fault', () => {
    expect(ioPause([1, 2, 3, 10, 11, 12.5], 3.5)).toBe(6.5);
    expect(ioPause([1, 2, 3, 4, 30], 4)).toBe(26);
    // Gaps before the fault are the workload's own.
    expect(ioPause([0, 50, 51, 52], 51)).toBe(1);
    expect(ioPause([5, 1, 9, 7], 6)).toBe(2);
    expect(ioPause([1, 2], 3)).toBe(0);
  });
});

describe('multipath targets, judged from one run', () => {
  const rate = (scenario: string, variant: string, mbPerSecond: number): ScenarioResult => ({ scenario, path: 'host', variant, bytes: 1 << 30, wallMs: 1, wallSamples: 1, simulatedMs: 1, fabricBytes: 1, commands: 1, hostCpuMs: 1, metrics: { mbPerSecond } });
  const fault = (variant: string, pauseMs: number): ScenarioResult => ({ scenario: 'multipath-failover', path: 'host', variant, bytes: 0, wallMs: 1, wallSamples: 1, simulatedMs: 1, fabricBytes: 1, commands: 1, hostCpuMs: 1, metrics: { pauseMs, checkerIntervalMs: 5000, roundTripMs: 0.05, commandTimeoutMs: 30000, failovers: 1 } });

  it('Round Robin over 2 paths: met at 1.8x Fixed, missed below', () => {
    const at = (rr: number) => checkTargets([rate('multipath-read-1MiB', 'Fixed, 2 paths (uses 1)', 1000), rate('multipath-read-1MiB', 'Round Robin, 2 paths', rr)], { memory });
    expect(at(1800)).toEqual([{ name: 'multipath, streaming 1 MiB reads (fabric model): Round Robin over 2 paths, each its own link, vs Fixed', target: 'at least 1.8x', measured: '1.80x (1,800 vs 1,000 MB/s)', met: true }]);
    expect(at(1799)[0]!.met).toBe(false);
  });

  it('a reported failure pauses at most the checker interval + one round trip; the black hole is reported, not judged', () => {
    const checks = checkTargets([fault('link down', 5000.05), fault('standby (02/04/0B)', 5000.06), fault('black hole', 30000)], { memory });
    expect(checks.map((c) => [c.name, c.target, c.met])).toEqual([
      ['multipath failover, link down under streaming reads (fabric model): the I/O pause', 'at most the checker interval + one round trip (5.00 s)', true],
      ['multipath failover, standby (02/04/0B) under streaming reads (fabric model): the I/O pause', 'at most the checker interval + one round trip (5.00 s)', false],
    ]);
  });

  it('the iSCSI clone: met only when the copy verified; the real run met every multipath target', () => {
    const clone = scenarios.find((s) => s.scenario === 'multipath-iscsi-clone')!;
    const judged = (verified: number) => checkTargets([{ ...clone, metrics: { ...clone.metrics, verified } }], { memory })[0]!;
    expect(judged(1)).toMatchObject({ target: 'completes, and the copy equals its source', met: true });
    expect(judged(1).measured).toMatch(/^verified in .*; I\/O pause .* ms, \d+ failovers$/);
    expect(judged(0)).toMatchObject({ met: false });
    expect(judged(0).measured).toMatch(/^NOT verified/);
    const all = checkTargets(scenarios, { memory });
    expect(all.length).toBe(5);
    expect(all.every((t) => t.met)).toBe(true);
    const figures = reportedFigures(scenarios, { ...memory, heldBytesAtPeak: 2 ** 31 }).map((f) => f.name);
    expect(figures).toEqual([
      'multipath, black-holed path, command timeout 1.00 s (fabric model)',
      'multipath, black-holed path, command timeout 5.00 s (fabric model)',
      'multipath, black-holed path, command timeout 30.0 s (fabric model)',
      'multipath, streaming 1 MiB reads, Round Robin over 4 paths (fabric model)',
      'multipath, streaming 1 MiB writes, Round Robin over 4 paths (fabric model)',
    ]);
  });
});

describe('multipath charts, rendered by Vega from a real run', () => {
  const specs = chartSpecs(scenarios);
  const byFile = new Map(specs.map((s) => [s.file, s]));

  it('are the throughput, failover and black-hole charts (and none of the figure charts)', () => {
    expect(specs.map((s) => s.file)).toEqual(['multipath-throughput.svg', 'multipath-failover.svg', 'multipath-black-hole.svg']);
  });

  it('multipath-throughput.svg: a bar of positive extent per policy and operation, each labelled with its rate and its gain over Fixed', async () => {
    const scene = await inspectChart(byFile.get('multipath-throughput.svg')!.spec);
    expect(scene.empty).toEqual([]);
    const streaming = scenarios.filter((s) => /^multipath-(read|write)-/.test(s.scenario));
    expect(scene.marks['rect']).toBe(streaming.length);
    expect(streaming.length).toBe(8);
    for (const name of ['multipath-read-1MiB', 'multipath-write-1MiB', 'Fixed, 2 paths (uses 1)', 'Round Robin, 1 path', 'Round Robin, 2 paths', 'Round Robin, 4 paths']) expect(scene.texts, name).toContain(name);
    expect(scene.texts).toContain('3,168 MB/s (×1.99 Fixed)');
    expect(scene.axisTitles['bottom']?.join(' ')).toMatch(/throughput \(MB\/s, simulated\)/);
    expect(scene.texts.some((t) => t.includes('…'))).toBe(false);
  });

  it('multipath-failover.svg: one bar per fault, simulated and measured apart, each with its pause', async () => {
    const scene = await inspectChart(byFile.get('multipath-failover.svg')!.spec);
    expect(scene.empty).toEqual([]);
    expect(scene.marks['rect']).toBe(4);
    for (const name of ['multipath-failover (simulated)', 'multipath-iscsi-clone (measured, real time)', 'link down', 'standby (02/04/0B)', 'black hole', 'host READ/WRITE, portal 1 down half-way', '30.0 s']) expect(scene.texts, name).toContain(name);
    expect(scene.axisTitles['bottom']?.join(' ')).toMatch(/I\/O pause \(log scale\)/);
  });

  it('multipath-black-hole.svg: a line of the I/O pause and one per checker interval, each of several points', async () => {
    const scene = await inspectChart(byFile.get('multipath-black-hole.svg')!.spec);
    expect(scene.empty).toEqual([]);
    expect(scene.marks['line']).toBe(3);
    expect(scene.marks['symbol']).toBe(9);
    for (const name of ['I/O pause under streaming reads (checker every 5.00 s)', 'checker finds it dead with no I/O, interval 1.00 s (worst case)', 'checker finds it dead with no I/O, interval 5.00 s (worst case)']) expect(scene.texts, name).toContain(name);
    expect(scene.axisTitles['bottom']?.join(' ')).toBe('command timeout (s)');
    expect(scene.axisTitles['left']?.join(' ')).toBe('time (s, simulated)');
  });

  it('render to SVG without warnings', async () => {
    const warnings: string[] = [];
    const svgs = (await renderCharts(specs, { warn: (m) => warnings.push(m) }))!;
    expect([...svgs.keys()]).toEqual(specs.map((s) => s.file));
    expect(warnings).toEqual([]);
  });
});

describe('the multipath suite at small sizes', () => {
  it('Round Robin spreads over its paths and Fixed keeps to one; failovers pause as the model says; the iSCSI clone verifies', async () => {
    const progress: string[] = [];
    const ctx: SuiteContext = { preset: '16gfc', model: FABRIC_PRESETS['16gfc'], quick: true, iterations: 1, timeMs: 10, progress: (m) => progress.push(m), memory: new MemoryWatch() };
    const out = await multipathSuite(ctx, { streamBytes: 32 << 20, cloneBytes: 8 << 20, commandTimeoutsMs: [1000, 2000, 30_000], checkerIntervalsMs: [1000] });
    const mb = (scenario: string, variant: string) => out.find((r) => r.scenario === scenario && r.variant === variant)!.metrics!;
    for (const op of ['read', 'write']) {
      const s = `multipath-${op}-1MiB`;
      expect(mb(s, 'Fixed, 2 paths (uses 1)')['pathsUsed']).toBe(1);
      expect(mb(s, 'Round Robin, 2 paths')['pathsUsed']).toBe(2);
      expect(mb(s, 'Round Robin, 4 paths')['pathsUsed']).toBe(4);
      // Link-bound: one 1,600 MB/s link, or two.
      expect(mb(s, 'Fixed, 2 paths (uses 1)')['mbPerSecond']).toBeLessThanOrEqual(1600);
      expect(mb(s, 'Round Robin, 1 path')['mbPerSecond']).toBeCloseTo(mb(s, 'Fixed, 2 paths (uses 1)')['mbPerSecond']!, 6);
      expect(mb(s, 'Round Robin, 2 paths')['mbPerSecond']! / mb(s, 'Fixed, 2 paths (uses 1)')['mbPerSecond']!).toBeGreaterThanOrEqual(1.8);
      expect(mb(s, 'Round Robin, 2 paths')['mbPerSecond']).toBeLessThanOrEqual(3200);
    }
    const pause = (variant: string) => mb('multipath-failover', variant)['pauseMs']!;
    // Reported at once: a 64 KiB retry on the other path, well inside a millisecond.
    expect(pause('link down')).toBeGreaterThan(0);
    expect(pause('link down')).toBeLessThan(1);
    expect(pause('standby (02/04/0B)')).toBeLessThan(1);
    expect(mb('multipath-failover', 'standby (02/04/0B)')['failovers']).toBeGreaterThan(0);
    // Not reported: the commands in flight wait out the command timeout (30 s by default), less what they had waited already.
    expect(pause('black hole')).toBeGreaterThan(29_999);
    expect(pause('black hole')).toBeLessThanOrEqual(30_000);
    const holes = out.filter((r) => r.scenario === 'multipath-black-hole').map((r) => r.metrics!);
    expect(holes.map((m) => [m['commandTimeoutMs'], Math.ceil(m['pauseMs']!), m['idleDetectionMs@1000']])).toEqual([
      [1000, 1000, 1999],
      [2000, 2000, 2999],
      // The default timeout's run is the failover run's black hole, reused.
      [30_000, 30_000, 30_999],
    ]);
    expect(mb('multipath-black-hole', 'command timeout 30.0 s')['pauseMs']).toBe(pause('black hole'));
    const clone = out.find((r) => r.scenario === 'multipath-iscsi-clone')!;
    expect(clone.metrics).toMatchObject({ verified: 1 });
    expect(clone.metrics!['failovers']).toBeGreaterThan(0);
    expect(clone.metrics!['portal2Bytes']).toBeGreaterThan(0);
    expect(clone.bytes).toBe(8 << 20);
    expect(progress.some((m) => m.includes('verified'))).toBe(true);
  }, 120_000);
});
