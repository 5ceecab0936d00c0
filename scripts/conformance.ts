/**
 * `npm run conformance`: the whole of libiscsi's `iscsi-test-cu`. Every family `iscsi-test-cu
 * --list` prints runs against a freshly started `vaai-sim serve` (a thin 1 GiB LUN with 512-byte
 * logical and physical blocks, the 512n profile; `--dataloss`, and `--allow-sanitize` for Sanitize; a
 * second portal, `--portals 2`, for MultipathIO's second path) and, where Debian's tgt is installed, against a fresh tgt
 * target per family. One fresh target per family, so that no family inherits what another left.
 * The families that skip a test with "LBPPB < 2" run a second time on a fresh serve of the 512e
 * profile (4096-byte physical blocks), which can run those tests.
 *
 * Prints a per-family table (vaai-sim per profile, their combined count, tgt beside them), the
 * totals, each skip's reason and each failure, and writes it all as JSON. The combined count takes
 * each test once: by its 512e run when the 512n run skipped it for the block geometry alone, else
 * by its 512n run.
 *
 * Options: `--strict` (exit 1 on any failure, or on any "not implemented" skip outside the
 * persistent-reservation families Prin and Prout, in any vaai-sim run), `--timeout <s>` per family
 * (default 120), `--sanitize-timeout <s>` for the Sanitize family (default 360: a sanitize in
 * progress and libiscsi's Sanitize.Reset, which waits 60 s after one), `--only <regexp>` (the
 * families to run), `--no-tgt`, `--json <file>` (default conformance-results/all.json), `--test-tool
 * <path>` (default `iscsi-test-cu` on PATH, or the ISCSI_TEST_CU environment variable: a libiscsi
 * newer than Debian's 1.19 adds families such as ReportTargetPortGroups).
 * Exit status: 0 when every vaai-sim test that ran passed or skipped (and, with `--strict`, no
 * violation), 1 otherwise, 2 when it could not run (no iscsi-test-cu, a bad option). tgt's
 * results never change the exit status.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { familyResult, parseList, parseRun, strictViolations, totals, type FamilyResult } from './conformance/parse.js';
import { BASE_PROFILE, E512_PROFILE, combine, familiesForBlockProfile, type Profile } from './conformance/profiles.js';
import { details, groupName, table, totalsLines, type TargetResults } from './conformance/report.js';
import { cliCommand, haveTgt, runBounded, startTgtTarget, startVaaiSim, type RunningTarget } from './conformance/targets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The command-line options; a bad one exits 2. */
function options() {
  try {
    return parseArgs({
      options: {
        strict: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '120' },
        'sanitize-timeout': { type: 'string', default: '360' },
        only: { type: 'string' },
        'no-tgt': { type: 'boolean', default: false },
        json: { type: 'string', default: 'conformance-results/all.json' },
        'test-tool': { type: 'string', default: process.env['ISCSI_TEST_CU'] ?? 'iscsi-test-cu' },
      },
    }).values;
  } catch (e) {
    console.error(`conformance: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  }
}
const opts = options();
const seconds = (name: string, text: string): number => {
  const s = Number(text);
  if (!(s > 0)) {
    console.error(`conformance: ${name} wants a positive number of seconds, not ${text}`);
    process.exit(2);
  }
  return s;
};
/** Seconds per family: Sanitize has its own (its Reset test waits 60 s after a sanitize). */
const timeouts = { default: seconds('--timeout', opts.timeout), Sanitize: seconds('--sanitize-timeout', opts['sanitize-timeout']) };
const timeoutOf = (family: string): number => (family === 'Sanitize' ? timeouts.Sanitize : timeouts.default);

/** The test tool: Debian's, or a newer libiscsi's (`--test-tool`, or ISCSI_TEST_CU; master adds ReportTargetPortGroups among others). */
const testTool = opts['test-tool'];
const list = spawnSync(testTool, ['--list'], { encoding: 'utf8' });
if (list.error !== undefined) {
  console.error(`conformance: ${testTool} not found; install Debian's libiscsi-bin (apt-get install -y libiscsi-bin)`);
  process.exit(2);
}
let only: RegExp | undefined;
try {
  only = opts.only === undefined ? undefined : new RegExp(opts.only);
} catch (e) {
  console.error(`conformance: --only: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const families = [...parseList(list.stdout)].filter(([f]) => only === undefined || only.test(f));
const libiscsi =
  testTool === 'iscsi-test-cu' ? spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libiscsi-bin'], { encoding: 'utf8' }).stdout || 'unknown' : `${testTool} (not Debian's)`;
const cli = cliCommand(root);
const notes: string[] = [];
console.log(
  `conformance: ${families.length} families, ${families.reduce((n, [, t]) => n + t.length, 0)} tests (libiscsi-bin ${libiscsi}); vaai-sim serve from ${cli.from}; ${timeouts.default} s per family, Sanitize ${timeouts.Sanitize} s`,
);

/** Runs `which` families against a fresh target from `start`, one target per family. */
async function runAll(target: string, which: ReadonlyArray<readonly [string, readonly string[]]>, start: (family: string) => Promise<RunningTarget | undefined>): Promise<FamilyResult[]> {
  const out: FamilyResult[] = [];
  for (const [family, listed] of which) {
    let running: RunningTarget | undefined;
    try {
      running = await start(family);
    } catch (e) {
      notes.push(`${target} ${family}: the target did not start: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (running === undefined) {
      out.push(familyResult(family, listed, { tests: [] }, false, 0));
      continue;
    }
    const args = ['--dataloss', ...(/Sanitize/.test(family) ? ['--allow-sanitize'] : []), `--test=ALL.${family}`, running.url];
    // MultipathIO needs two paths to the same LUN: the second portal where the target has one (vaai-sim
    // serve --portals 2), else a second session through the same portal (tgt).
    if (family === 'MultipathIO') args.push(running.urls[1] ?? running.url);
    const run = await runBounded(testTool, args, timeoutOf(family) * 1000);
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
    const paths = family === 'MultipathIO' ? ` through ${args.slice(-2).join(' and ')}` : '';
    console.log(`  ${target} ${family}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped of ${r.tests.length} (${(run.ms / 1000).toFixed(1)} s)${paths}${mark}`);
  }
  return out;
}

/** Serves the profile; MultipathIO on two portals (target port groups 1 and 2), so that its two paths are two target ports. */
const serveOn = (p: Profile) => (family: string) => startVaaiSim(root, cli.argv, family === 'MultipathIO' ? [...p.serveArgs, '--portals', '2'] : p.serveArgs);
const started = performance.now();
const base = await runAll(`vaai-sim ${BASE_PROFILE.name}`, families, serveOn(BASE_PROFILE));
const again = new Set(familiesForBlockProfile(base));
const rerun = await runAll(`vaai-sim ${E512_PROFILE.name}`, families.filter(([f]) => again.has(f)), serveOn(E512_PROFILE));
const results: TargetResults[] = [{ target: 'vaai-sim', profile: BASE_PROFILE.name, families: base }];
const runs = [...results];
if (rerun.length === 0) notes.push(`no family skipped a test for LBPPB < 2: the ${E512_PROFILE.name} profile was not needed`);
else {
  const second: TargetResults = { target: 'vaai-sim', profile: E512_PROFILE.name, families: rerun };
  results.push(second, { target: 'vaai-sim', profile: 'combined', families: combine(base, rerun, BASE_PROFILE.name, E512_PROFILE.name) });
  runs.push(second);
}
if (opts['no-tgt']) notes.push('tgt left out (--no-tgt)');
else if (!haveTgt()) notes.push('Debian tgt (tgtd, tgtadm) is not installed here: its column is left out');
else {
  const tgt: TargetResults = { target: 'tgt', families: await runAll('tgt', families, startTgtTarget) };
  results.push(tgt);
  runs.push(tgt);
}
const wallSeconds = (performance.now() - started) / 1000;

console.log('');
for (const p of [BASE_PROFILE, ...(rerun.length === 0 ? [] : [E512_PROFILE])]) console.log(`vaai-sim ${p.name}: ${p.description}${p === E512_PROFILE ? `, for ${[...again].join(', ')}` : ''}`);
if (rerun.length > 0) console.log(`vaai-sim combined: each test once, by its ${E512_PROFILE.name} run where ${BASE_PROFILE.name} skipped it for LBPPB < 2 alone, else by its ${BASE_PROFILE.name} run`);
console.log('');
console.log(table(results));
console.log('');
for (const line of totalsLines(results)) console.log(line);
console.log('');
console.log(details(runs));
for (const n of notes) console.log(`note: ${n}`);

const vaaiSim = runs.filter((r) => r.target === 'vaai-sim');
const violations = vaaiSim.flatMap((r) => strictViolations(r.families).map((v) => `${groupName(r)}: ${v}`));
const failed = vaaiSim.reduce((n, r) => n + totals(r.families).failed, 0);
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
      timeoutSeconds: timeouts,
      wallSeconds: Math.round(wallSeconds),
      profiles: [
        { ...BASE_PROFILE, families: base.map((f) => f.family) },
        ...(rerun.length === 0 ? [] : [{ ...E512_PROFILE, families: rerun.map((f) => f.family) }]),
      ],
      notes,
      strictViolations: violations,
      targets: results.map((r) => ({ target: r.target, ...(r.profile === undefined ? {} : { profile: r.profile }), totals: totals(r.families), families: r.families })),
    },
    null,
    2,
  )}\n`,
);
console.log(`conformance: ${Math.round(wallSeconds)} s wall; results in ${opts.json}`);
if (opts.strict) {
  for (const v of violations) console.log(`strict: ${v}`);
  console.log(`conformance --strict: ${violations.length === 0 ? 'clean' : `${violations.length} violation(s)`}`);
  process.exit(violations.length === 0 ? 0 : 1);
}
console.log(`conformance: ${failed === 0 ? 'no vaai-sim test failed' : `${failed} vaai-sim test(s) failed`}`);
process.exit(failed === 0 ? 0 : 1);
