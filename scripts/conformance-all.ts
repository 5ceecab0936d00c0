/**
 * `npm run conformance:all`: every family `iscsi-test-cu --list` prints, each against a freshly
 * started `vaai-sim serve` (a thin 1 GiB LUN; `--dataloss`, and `--allow-sanitize` for Sanitize; a
 * second session URL for MultipathIO) and, where Debian's tgt is installed, against a fresh tgt
 * target per family. One fresh target per family, so that no family inherits what another left.
 * Prints a per-family table (vaai-sim and tgt side by side), the totals, each skip's reason and
 * each failure, and writes it all as JSON.
 *
 * Options: `--strict` (exit 1 on any failure, or on any "not implemented" skip outside the
 * persistent-reservation families Prin and Prout), `--timeout <s>` per family (default 120),
 * `--only <regexp>` (the families to run), `--no-tgt`, `--json <file>` (default
 * conformance-results/all.json). Without `--strict` the exit status is 0 when it ran, 2 when it
 * could not (no iscsi-test-cu).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { familyResult, parseList, parseRun, strictViolations, totals, type FamilyResult } from './conformance/parse.js';
import { details, table, totalsLines, type TargetResults } from './conformance/report.js';
import { cliCommand, haveTgt, runBounded, startTgtTarget, startVaaiSim, type RunningTarget } from './conformance/targets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    strict: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '120' },
    only: { type: 'string' },
    'no-tgt': { type: 'boolean', default: false },
    json: { type: 'string', default: 'conformance-results/all.json' },
  },
});
const timeoutMs = Number(opts.timeout) * 1000;
if (!(timeoutMs > 0)) {
  console.error(`conformance:all: --timeout wants a positive number of seconds, not ${opts.timeout}`);
  process.exit(2);
}

const list = spawnSync('iscsi-test-cu', ['--list'], { encoding: 'utf8' });
if (list.error !== undefined) {
  console.error("conformance:all: iscsi-test-cu not found; install Debian's libiscsi-bin (apt-get install -y libiscsi-bin)");
  process.exit(2);
}
const only = opts.only === undefined ? undefined : new RegExp(opts.only);
const families = [...parseList(list.stdout)].filter(([f]) => only === undefined || only.test(f));
const libiscsi = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libiscsi-bin'], { encoding: 'utf8' }).stdout || 'unknown';
const cli = cliCommand(root);
const notes: string[] = [];
console.log(`conformance:all: ${families.length} families, ${families.reduce((n, [, t]) => n + t.length, 0)} tests (libiscsi-bin ${libiscsi}); vaai-sim serve from ${cli.from}; ${opts.timeout} s per family`);

/** Runs every family against a fresh target from `start`. */
async function runAll(target: string, start: () => Promise<RunningTarget | undefined>): Promise<FamilyResult[]> {
  const out: FamilyResult[] = [];
  for (const [family, listed] of families) {
    let running: RunningTarget | undefined;
    try {
      running = await start();
    } catch (e) {
      notes.push(`${target} ${family}: the target did not start: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (running === undefined) {
      out.push(familyResult(family, listed, { tests: [] }, false, 0));
      continue;
    }
    const args = ['--dataloss', ...(/Sanitize/.test(family) ? ['--allow-sanitize'] : []), `--test=ALL.${family}`, running.url];
    // MultipathIO needs two paths: a second session to the same LUN.
    if (family === 'MultipathIO') args.push(running.url);
    const run = await runBounded('iscsi-test-cu', args, timeoutMs);
    const died = running.died();
    if (died !== undefined) notes.push(`${target} ${family}: the target ${died}`);
    await running.stop();
    const parsed = parseRun(run.output);
    const s = parsed.summary;
    // CUnit counts a skipped test as passed: its summary must agree with the tests read one by one.
    if (s !== undefined && (s.ran !== parsed.tests.length || s.passed !== parsed.tests.filter((t) => t.outcome !== 'failed').length)) {
      notes.push(`${target} ${family}: CUnit's summary (ran ${s.ran}, passed ${s.passed}) disagrees with the ${parsed.tests.length} tests read from the output`);
    }
    const r = familyResult(family, listed, parsed, run.timedOut, run.ms);
    out.push(r);
    const mark = r.incomplete === undefined ? '' : ` [${r.incomplete}${run.timedOut ? '' : `, exit ${run.code}`}]`;
    console.log(`  ${target} ${family}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped of ${r.tests.length} (${(run.ms / 1000).toFixed(1)} s)${mark}`);
  }
  return out;
}

const started = performance.now();
const results: TargetResults[] = [{ target: 'vaai-sim', families: await runAll('vaai-sim', () => startVaaiSim(root, cli.argv)) }];
if (opts['no-tgt']) notes.push('tgt left out (--no-tgt)');
else if (!haveTgt()) notes.push('Debian tgt (tgtd, tgtadm) is not installed here: its column is left out');
else results.push({ target: 'tgt', families: await runAll('tgt', startTgtTarget) });
const wallSeconds = (performance.now() - started) / 1000;

console.log('');
console.log(table(results));
console.log('');
for (const line of totalsLines(results)) console.log(line);
console.log('');
console.log(details(results));
for (const n of notes) console.log(`note: ${n}`);

const violations = strictViolations(results[0]!.families);
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown (not a git checkout)';
const dirty = (spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '') !== '';
const json = resolve(root, opts.json);
mkdirSync(dirname(json), { recursive: true });
writeFileSync(
  json,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      commit: `${commit}${dirty ? ' (with uncommitted changes under src)' : ''}`,
      libiscsi,
      vaaiSimFrom: cli.from,
      timeoutSeconds: timeoutMs / 1000,
      wallSeconds: Math.round(wallSeconds),
      notes,
      strictViolations: violations,
      targets: results.map((r) => ({ target: r.target, totals: totals(r.families), families: r.families })),
    },
    null,
    2,
  )}\n`,
);
console.log(`conformance:all: ${Math.round(wallSeconds)} s wall; results in ${opts.json}`);
if (opts.strict) {
  for (const v of violations) console.log(`strict: ${v}`);
  console.log(`conformance:all --strict: ${violations.length === 0 ? 'clean' : `${violations.length} violation(s)`}`);
  process.exit(violations.length === 0 ? 0 : 1);
}
process.exit(0);
