/**
 * The text `vaai-sim bench` prints after a run: one line per scenario and path under its
 * scenario's heading, with each measured figure's spread, then the targets met or missed, then the
 * notes (what could not be measured or drawn here, and how to add it). Fits a given width.
 * @module
 */
import { InvalidArgumentError, checkOptionKeys } from '../common/errors.js';
import { formatBytes, formatCount, formatMs, formatWall } from './measure.js';
import type { BenchResults, ScenarioResult } from './results.js';

/** Options of {@link formatConsoleReport}. */
export interface ConsoleReportOptions {
  /** Columns the text may use (the table's text column is shortened to fit; prose wraps). At least 80. @defaultValue 120 */
  readonly width?: number;
}

const OPTION_KEYS = ['width'];
/** The narrowest width the table can be laid out in. */
const MIN_WIDTH = 80;
const NA = 'n/a';

/** One table line: the text column, then the figures. */
interface Line {
  readonly how: string;
  readonly cells: readonly string[];
}

const HEAD = ['wall (mean ±rme, p99, n)', 'simulated', 'fabric', 'commands', 'host CPU'];
/** Right-aligned figure columns, except the wall column which is left-aligned (its spread varies in length). */
const RIGHT = [false, true, true, true, true];

function line(s: ScenarioResult): Line {
  const wall = formatWall(s.wallMs, {
    samples: s.wallSamples,
    ...(s.wallRmePercent === undefined ? {} : { rmePercent: s.wallRmePercent }),
    ...(s.wallP99Ms === undefined ? {} : { p99Ms: s.wallP99Ms }),
  });
  return {
    how: s.variant === undefined ? s.path : `${s.path}: ${s.variant}`,
    cells: [wall, s.simulatedMs === null ? NA : formatMs(s.simulatedMs), formatBytes(s.fabricBytes), formatCount(s.commands), s.hostCpuMs === null ? NA : formatMs(s.hostCpuMs)],
  };
}

/** `text` cut to `n` columns, with an ellipsis when cut. */
function fit(text: string, n: number): string {
  return text.length <= n ? text.padEnd(n) : `${text.slice(0, n - 1)}…`;
}

/** Words of `text` in lines of at most `width` columns, the first prefixed by `first` and the rest by `rest`. */
function wrap(text: string, width: number, first = '', rest = ' '.repeat(first.length)): string[] {
  const out: string[] = [];
  let current = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (!empty && current.length + 1 + word.length > width) {
      out.push(current);
      current = rest + word;
    } else {
      current += (empty ? '' : ' ') + word;
    }
    empty = false;
  }
  out.push(current);
  return out;
}

/** The scenario heading: name, the bytes it moves, and where it ran. */
function heading(rows: readonly ScenarioResult[]): string {
  const s = rows[0]!;
  const parts: string[] = [];
  if (s.bytes > 0) parts.push(formatBytes(s.bytes));
  if (rows.some((r) => r.simulatedMs === null)) parts.push('measured on loopback iSCSI, no simulated clock');
  return parts.length > 0 ? `${s.scenario} (${parts.join(', ')})` : s.scenario;
}

/**
 * The whole text `vaai-sim bench` prints after a run: how it was made, the scenarios (grouped by
 * scenario, one line per path, each wall-clock mean with its relative margin of error, p99 and
 * number of runs), the targets with `met`/`MISSED`, the peak memory and the notes. No line is
 * longer than `width`; it ends with a newline.
 * @throws `InvalidArgumentError` (`ERR_INVALID_ARGUMENT`) for an unknown option or a width that is not an integer of at least 80.
 */
export function formatConsoleReport(results: BenchResults, options: ConsoleReportOptions = {}): string {
  checkOptionKeys(options, OPTION_KEYS, 'formatConsoleReport');
  const width = options.width ?? 120;
  if (!Number.isInteger(width) || width < MIN_WIDTH) throw new InvalidArgumentError(`formatConsoleReport: width must be an integer of at least ${MIN_WIDTH}, got ${String(width)}`);
  const out: string[] = [];
  const m = results.fabric.model;
  const about = `vaai-sim benchmark${results.quick ? ' (--quick sizes)' : ''}: Node ${results.machine.node}, ${results.machine.platform}, ${results.machine.cpus} CPU(s); fabric ${results.fabric.preset} (${formatCount(Math.round(m.linkBytesPerSecond / 1e6))} MB/s per direction, ${m.commandLatencyMs} ms per command, queue depth ${m.queueDepth}); ${formatMs(results.totalWallMs)} in all.`;
  out.push(...wrap(about, width));
  out.push(...wrap('wall: measured in-process by tinybench (mean ±relative margin of error at 95 %, p99, runs). simulated, fabric, commands, host CPU: the same host code on the fabric model. n/a: no model applies (loopback iSCSI).', width));
  out.push('');

  // Group rows by scenario, in the order they first appear.
  const groups = new Map<string, ScenarioResult[]>();
  for (const s of results.scenarios) (groups.get(s.scenario) ?? groups.set(s.scenario, []).get(s.scenario)!).push(s);
  const lines = new Map([...groups].map(([name, rows]) => [name, rows.map(line)]));
  const all = [...lines.values()].flat();
  const widths = HEAD.map((h, i) => Math.max(h.length, ...all.map((l) => l.cells[i]!.length)));
  const gap = 2;
  const indent = 2;
  const figures = widths.reduce((a, b) => a + b + gap, 0);
  const howWidth = Math.max(12, Math.min(width - indent - figures, Math.max(...all.map((l) => l.how.length), 'scenario / path: how'.length)));
  const render = (how: string, cells: readonly string[]): string =>
    `${' '.repeat(indent)}${fit(how, howWidth)}${cells.map((c, i) => ' '.repeat(gap) + (RIGHT[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('')}`.trimEnd().slice(0, width);
  out.push(render('path: how', HEAD));
  for (const [name, rows] of groups) {
    out.push(fit(heading(rows), width).trimEnd());
    for (const l of lines.get(name)!) out.push(render(l.how, l.cells));
  }

  out.push('');
  const missed = results.targets.filter((t) => !t.met).length;
  out.push(`Targets: ${results.targets.length - missed} of ${results.targets.length} met${missed > 0 ? `, ${missed} MISSED` : ''} (ratios measured in this run)`);
  for (const t of results.targets) {
    out.push(...wrap(`${t.name}: ${t.measured}`, width, `  ${(t.met ? 'met' : 'MISSED').padEnd(7)}`, ' '.repeat(9)));
    out.push(...wrap(`target: ${t.target}`, width, ' '.repeat(9)));
  }
  if (results.figures.length > 0) {
    out.push('', ...wrap('Reported, not judged (absolute rates depend on the machine):', width));
    for (const f of results.figures) out.push(...wrap(`${f.name}: ${f.value}`, width, '  - ', '    '));
  }
  if (results.notes.length > 0) {
    out.push('', 'Notes:');
    for (const n of results.notes) out.push(...wrap(n, width, '  - ', '    '));
  }
  return `${out.join('\n')}\n`;
}
