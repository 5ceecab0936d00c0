import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartSpecs, offloadGains, renderCharts } from '../../src/bench/charts.js';
import type { BenchResults, ScenarioResult } from '../../src/bench/index.js';
import { inspectChart } from './scenegraph.js';
import { FENCING_VARIANTS } from '../../src/bench/suites/fencing.js';

/** A real `--quick` run of every suite (iSCSI included), as results.json wrote it. */
const results = JSON.parse(readFileSync(new URL('./fixtures/quick-results.json', import.meta.url), 'utf8')) as BenchResults;
const scenarios = results.scenarios;
const names = (keep: (s: ScenarioResult) => boolean): string[] => [...new Set(scenarios.filter(keep).map((s) => s.scenario))];
const work = (s: ScenarioResult): boolean => s.bytes > 512 && !/^(locking-|thin-pool|iscsi-read|iscsi-caw)/.test(s.scenario);

const specs = chartSpecs(scenarios);
const byFile = new Map(specs.map((s) => [s.file, s]));

describe('benchmark charts, rendered by Vega from a real run', () => {
  it('are the headline gain chart, the three figure charts and the two locking charts', () => {
    expect(specs.map((s) => s.file)).toEqual(['offload-gain.svg', 'wall-clock.svg', 'simulated.svg', 'fabric-bytes.svg', 'locking-lock-ops.svg', 'locking-vm-io.svg']);
    for (const s of specs) expect(s.title.length).toBeGreaterThan(10);
  });

  const expected: Record<string, { scenarios: string[]; rects?: number; lines?: number; axis: RegExp }> = {
    'wall-clock.svg': { scenarios: names(work), rects: scenarios.filter(work).length, axis: /wall-clock time/ },
    'simulated.svg': { scenarios: names((s) => work(s) && s.simulatedMs !== null), rects: scenarios.filter((s) => work(s) && s.simulatedMs !== null).length, axis: /simulated time/ },
    // The one zero (EXTENDED COPY over iSCSI moves no payload) has a label and no bar.
    'fabric-bytes.svg': { scenarios: names(work), rects: scenarios.filter((s) => work(s) && s.fabricBytes > 0).length, axis: /payload bytes/ },
    'offload-gain.svg': { scenarios: ['clone-128MiB', 'clone-256MiB-thin-30pct', 'eager-zero-256MiB', 'iscsi-clone-64MiB', 'replication-clone-and-zero', 'thin-pool-out-of-space'], rects: offloadGains(scenarios).filter((g) => Number.isFinite(g.ratio)).length, axis: /host ÷ offload/ },
    'locking-lock-ops.svg': { scenarios: [], lines: 2, axis: /hosts sharing the LUN/ },
    'locking-vm-io.svg': { scenarios: [], lines: 2, axis: /hosts sharing the LUN/ },
  };

  for (const [file, want] of Object.entries(expected)) {
    it(`${file}: every mark has a positive extent, every scenario is named, the axes have titles`, async () => {
      const scene = await inspectChart(byFile.get(file)!.spec);
      expect(scene.empty).toEqual([]);
      if (want.rects !== undefined) expect(scene.marks['rect']).toBe(want.rects);
      if (want.lines !== undefined) expect(scene.marks['line']).toBe(want.lines);
      for (const name of want.scenarios) expect(scene.texts, name).toContain(name);
      expect(scene.axisTitles['bottom']?.join(' ')).toMatch(want.axis);
      if (file.startsWith('locking-')) {
        // Full legend labels, and the y axis title with its unit.
        expect(scene.texts).toContain('ATS (COMPARE AND WRITE)');
        expect(scene.texts).toContain('SCSI-2 RESERVE/RELEASE');
        expect(scene.axisTitles['left']?.join(' ')).toMatch(file === 'locking-vm-io.svg' ? /VM I\/Os \(64 KiB reads\) per simulated second/ : /lock operations per simulated second/);
        expect(scene.marks['symbol']).toBe(scenarios.filter((s) => s.scenario.startsWith('locking-')).length);
      } else {
        // Every bar says what it is (path and how, uncut) and carries its value.
        for (const s of scenarios.filter(work)) if (file !== 'offload-gain.svg' && (file !== 'simulated.svg' || s.simulatedMs !== null)) expect(scene.texts).toContain(`${s.path}: ${s.variant}`);
        expect(scene.texts.some((t) => t.includes('…'))).toBe(false);
      }
    });
  }

  it('the gain chart compares host with offload: clone-128MiB is 35.3 ms / 234 µs wall-clock', () => {
    const clone = offloadGains(scenarios).filter((g) => g.scenario === 'clone-128MiB');
    expect(clone.map((g) => g.measure)).toEqual(['wall-clock time (measured)', 'simulated time (fabric model)', 'payload bytes over the fabric']);
    expect(clone[0]!.ratio).toBeCloseTo(35.284495000000035 / 0.23399883391812967, 6);
    expect(clone[0]!.text).toBe('×151 (35.3 ms vs 234 µs)');
    // EXTENDED COPY over iSCSI moved no payload: an infinite ratio, told in words.
    const iscsi = offloadGains(scenarios).find((g) => g.scenario === 'iscsi-clone-64MiB' && g.measure === 'payload bytes over the fabric')!;
    expect(iscsi.ratio).toBe(Infinity);
    expect(iscsi.text).toBe('offload moved 0 B (host 128 MiB)');
    // No simulated clock on loopback iSCSI, and a timeline's wall-clock is not the work's.
    expect(offloadGains(scenarios).filter((g) => g.scenario === 'iscsi-clone-64MiB').map((g) => g.measure)).toEqual(['wall-clock time (measured)', 'payload bytes over the fabric']);
    expect(offloadGains(scenarios).filter((g) => g.scenario === 'thin-pool-out-of-space').map((g) => g.measure)).toEqual(['simulated time (fabric model)', 'payload bytes over the fabric']);
  });

  it('renderCharts writes SVG that names every scenario it draws', async () => {
    const warnings: string[] = [];
    const svgs = (await renderCharts(specs, { warn: (m) => warnings.push(m) }))!;
    expect([...svgs.keys()]).toEqual(specs.map((s) => s.file));
    for (const name of names(work)) expect(svgs.get('wall-clock.svg')).toContain(`>${name}<`);
    for (const svg of svgs.values()) expect(svg).toMatch(/^<svg/);
    expect(warnings).toEqual([]);
  });

  it('renderCharts rejects an unknown option', async () => {
    await expect(renderCharts(specs, { colour: 'red' } as never)).rejects.toThrow(/renderCharts.*colour/);
  });
});

describe('the chart checker', () => {
  it('finds the empty bars of the old charts (log scale, bars stacked from zero)', async () => {
    // The spec wall-clock.svg had before: Vega-Lite stacks bars from 0, which a log scale cannot draw.
    const old = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 110,
      height: 220,
      data: { values: scenarios.filter(work).map((r) => ({ scenario: r.scenario, how: `${r.path}: ${r.variant}`, value: Math.max(r.wallMs, 1e-3) })) },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        column: { field: 'scenario', type: 'nominal', title: null },
        x: { field: 'how', type: 'nominal', axis: null },
        y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'wall-clock ms' },
        color: { field: 'how', type: 'nominal', title: 'path' },
      },
    };
    const scene = await inspectChart(old);
    expect(scene.marks['rect']).toBe(scenarios.filter(work).length);
    expect(scene.empty.length).toBe(scenarios.filter(work).length);
    // ... and that it has no x axis.
    expect(scene.axisTitles['bottom']).toBeUndefined();
  });

  it('finds a line of one point', async () => {
    const scene = await inspectChart({ data: { values: [{ x: 1, y: 1 }] }, mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
    expect(scene.empty).toEqual(['line marks with 1 distinct point(s)']);
  });
});

describe('the fencing chart, rendered by Vega from a real `--suite fencing` run', () => {
  const results = JSON.parse(readFileSync(new URL('./fixtures/fencing-results.json', import.meta.url), 'utf8')) as BenchResults;
  const fencingSpecs = chartSpecs(results.scenarios);

  it('is the one chart of the suite: a positive bar per method and cluster size, each labelled with its time and who writes', async () => {
    expect(fencingSpecs.map((s) => s.file)).toEqual(['fencing.svg']);
    const scene = await inspectChart(fencingSpecs[0]!.spec);
    expect(scene.empty).toEqual([]);
    expect(scene.marks['rect']).toBe(4);
    for (const t of ['2-node cluster', '4-node cluster', FENCING_VARIANTS.pr, FENCING_VARIANTS.scsi2]) expect(scene.texts).toContain(t);
    expect(scene.texts).toContain("3.00 s: 3 of 3 survivors write; 296 of node 1's writes landed after it failed");
    expect(scene.texts).toContain("13.0 s: 1 of 3 survivors write; 1283 of node 1's writes landed after it failed");
    expect(scene.axisTitles['bottom']?.join(' ')).toMatch(/until a survivor owns the disk and node 1 is refused \(s\)/);
    expect(scene.texts.some((t) => t.includes('…'))).toBe(false);
  });
});
