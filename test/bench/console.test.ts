import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { CHARTS_NEED } from '../../src/bench/charts.js';
import { formatConsoleReport, type BenchResults } from '../../src/bench/index.js';
import { formatBytes, formatCount, formatMs, formatWall } from '../../src/bench/measure.js';

/** A real `--quick` run of every suite (iSCSI included), as results.json wrote it. */
const results = JSON.parse(readFileSync(new URL('./fixtures/quick-results.json', import.meta.url), 'utf8')) as BenchResults;

describe('formatConsoleReport', () => {
  const text = formatConsoleReport(results);
  const lines = text.split('\n');

  it('fits 120 columns, has no (index) column and no unformatted numbers', () => {
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    expect(text).not.toContain('(index)');
    expect(text).not.toMatch(/\d\.\d{4,}/);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('prints each scenario once as a heading, then one line per path with the wall figure and its spread', () => {
    for (const name of new Set(results.scenarios.map((s) => s.scenario))) expect(lines.filter((l) => l.startsWith(`${name} (`) || l === name)).toHaveLength(1);
    const clone = results.scenarios.find((s) => s.scenario.startsWith('clone-') && s.variant === 'shared extents')!;
    const line = lines.find((l) => l.startsWith('  offload: shared extents '))!;
    expect(line).toContain(formatWall(clone.wallMs, { samples: clone.wallSamples, rmePercent: clone.wallRmePercent!, p99Ms: clone.wallP99Ms! }));
    expect(line).toMatch(/±\d+(\.\d)?% \(p99 [\d.,]+ (ns|µs|ms|s), n=[\d,]+\)/);
    expect(line).toContain(formatMs(clone.simulatedMs!));
    expect(line).toContain(formatBytes(clone.fabricBytes));
  });

  it('says n/a where no clock or CPU model applies (loopback iSCSI) and counts those rows\' commands', () => {
    const iscsi = results.scenarios.filter((s) => s.simulatedMs === null);
    expect(iscsi.length).toBeGreaterThan(0);
    expect(lines.find((l) => l.startsWith('iscsi-clone-'))).toMatch(/measured on loopback iSCSI, no simulated clock/);
    for (const s of iscsi) {
      const heading = lines.findIndex((l) => l.startsWith(`${s.scenario} (`));
      const line = lines.slice(heading + 1).find((l) => l.startsWith(`  ${s.path}: ${s.variant}`.slice(0, 40)))!;
      expect(line.match(/ n\/a/g)).toHaveLength(2);
      expect(line).toContain(formatCount(s.commands));
    }
    expect(iscsi.every((s) => s.commands > 0)).toBe(true);
  });

  it('lists every target with met or MISSED, the reported figures and the notes', () => {
    for (const t of results.targets) expect(text).toContain(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}:`);
    const met = results.targets.filter((t) => t.met).length;
    expect(text).toContain(`Targets: ${met} of ${results.targets.length} met`);
    for (const f of results.figures) expect(text.replace(/\n +/g, ' ')).toContain(`${f.name}: ${f.value}`);
    for (const n of results.notes) expect(text.replace(/\n +/g, ' ')).toContain(n);
  });

  it('shows a missed target and the note that charts need vega', () => {
    const missed = { ...results, targets: [{ name: 'a ratio', target: 'at least 2x', measured: '1.5x', met: false }], notes: [CHARTS_NEED] };
    const t = formatConsoleReport(missed);
    expect(t).toContain('Targets: 0 of 1 met, 1 MISSED');
    expect(t).toContain('  MISSED a ratio: 1.5x\n         target: at least 2x\n');
    expect(t.replace(/\n +/g, ' ')).toContain('`npm install vega vega-lite`');
  });

  it('fits a narrower width, shortening the path column', () => {
    const narrow = formatConsoleReport(results, { width: 100 });
    expect(Math.max(...narrow.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(narrow).toContain('…');
  });

  it('rejects unknown options and widths below 80', () => {
    expect(() => formatConsoleReport(results, { width: 79 })).toThrow(InvalidArgumentError);
    expect(() => formatConsoleReport(results, { width: 100.5 })).toThrow(/width must be an integer of at least 80, got 100.5/);
    expect(() => formatConsoleReport(results, { colour: true } as never)).toThrow(/formatConsoleReport.*colour/);
  });
});

describe('number formats', () => {
  it('three significant digits with units, thousands separators', () => {
    expect([formatMs(0), formatMs(0.000587), formatMs(0.216), formatMs(17.85), formatMs(547.45), formatMs(1070.78), formatMs(123456)]).toEqual(['0 ms', '587 ns', '216 µs', '17.9 ms', '547 ms', '1.07 s', '123 s']);
    expect([formatBytes(0), formatBytes(950), formatBytes(4332), formatBytes(2 ** 30), formatBytes(1024 ** 4 * 1024)]).toEqual(['0 B', '950 B', '4.23 KiB', '1 GiB', '1,024 TiB']);
    expect([formatCount(21.666666666666668), formatCount(1703752), formatCount(3)]).toEqual(['21.7', '1,703,752', '3']);
    expect(formatWall(1.52, { samples: 12, rmePercent: 2.14, p99Ms: 1.9 })).toBe('1.52 ms ±2.1% (p99 1.90 ms, n=12)');
    expect(formatWall(638, { samples: 1 })).toBe('638 ms (n=1)');
  });
});
