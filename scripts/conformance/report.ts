/**
 * The whole-suite runner's printed report: one row per family with a column group per run (vaai-sim
 * on each LUN profile, their combined count, and tgt beside them when it ran), the totals, then each
 * skip reason and each failure.
 * @module
 */
import { classifySkip, totals, type FamilyResult, type Totals } from './parse.js';

/**
 * One column group: a target's results over the families, on one LUN profile when `profile` is
 * set. The first group gives the rows; a later group may hold only some families (the others show
 * `-`).
 */
export interface TargetResults {
  readonly target: string;
  /** The LUN profile (`512n`, `512e`), or `combined` for the combined count; absent for a target with one profile. */
  readonly profile?: string;
  readonly families: readonly FamilyResult[];
}

/** A group's heading: the target, and its profile when it has one. */
export function groupName(r: TargetResults): string {
  return r.profile === undefined ? r.target : `${r.target} ${r.profile}`;
}

const COUNTS = ['pass', 'fail', 'skip', 'n/i'] as const;

function counts(r: FamilyResult | Totals | undefined): string {
  if (r === undefined) return COUNTS.map((c) => '-'.padStart(Math.max(4, c.length))).join(' ');
  return [r.passed, r.failed, r.skipped, r.notImplemented].map((n) => String(n).padStart(4)).join(' ');
}

/**
 * The per-family table and the totals: `n/i` counts the skipped tests whose reason is "not
 * implemented"; a family whose run timed out or ended early is marked after its row.
 */
export function table(results: readonly TargetResults[]): string {
  const families = results[0]?.families.map((f) => f.family) ?? [];
  const byFamily = results.map((r) => new Map(r.families.map((f) => [f.family, f])));
  const width = Math.max(24, ...families.map((f) => f.length + 2));
  const group = (name: string): string => `| ${name.padEnd(COUNTS.length * 5 - 1)} `;
  const lines: string[] = [];
  lines.push(`${''.padEnd(width)}${'tests'.padStart(5)} ${results.map((r) => group(groupName(r))).join('')}`);
  lines.push(`${'family'.padEnd(width)}${''.padStart(5)} ${results.map(() => `| ${COUNTS.map((c) => c.padStart(4)).join(' ')} `).join('')}`);
  for (const family of families) {
    const rows = byFamily.map((m) => m.get(family));
    const marks = results.flatMap((r, i) => (rows[i]?.incomplete === undefined || r.profile === 'combined' ? [] : [`${groupName(r)}: ${rows[i]!.incomplete}`]));
    const n = rows[0]?.tests.length ?? 0;
    lines.push(`${family.padEnd(width)}${String(n).padStart(5)} ${rows.map((r) => `| ${counts(r)} `).join('')}${marks.length > 0 ? `  (${marks.join(', ')})` : ''}`.trimEnd());
  }
  const all = results.map((r) => totals(r.families));
  lines.push(`${'TOTAL'.padEnd(width)}${String(all[0]?.tests ?? 0).padStart(5)} ${all.map((t) => `| ${counts(t)} `).join('')}`.trimEnd());
  return lines.join('\n');
}

/** One line per group: its totals in words. */
export function totalsLines(results: readonly TargetResults[]): string[] {
  return results.map((r) => {
    const t = totals(r.families);
    return `${groupName(r)}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped (${t.notImplemented} "not implemented", ${t.skipped - t.notImplemented} for other reasons) of ${t.tests} tests in ${r.families.length} families`;
  });
}

/** Each target's skip reasons (with the tests that gave them) and failures, family by family. */
export function details(results: readonly TargetResults[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const skips: string[] = [];
    const fails: string[] = [];
    for (const f of r.families) {
      const byReason = new Map<string, string[]>();
      for (const t of f.tests) if (t.outcome === 'skipped') for (const reason of t.skipReasons) byReason.set(reason, [...(byReason.get(reason) ?? []), t.name]);
      for (const [reason, tests] of byReason) skips.push(`  ${f.family}: [${classifySkip(reason)}] ${reason} — ${tests.join(', ')}`);
      for (const t of f.tests) if (t.outcome === 'failed') fails.push(`  ${f.family}.${t.name}: ${t.failures.slice(0, 3).join(' / ') || 'FAILED'}`);
    }
    lines.push(`${groupName(r)}: skip reasons`, ...(skips.length > 0 ? skips : ['  (none)']));
    lines.push(`${groupName(r)}: failures`, ...(fails.length > 0 ? fails : ['  (none)']));
  }
  return lines.join('\n');
}
