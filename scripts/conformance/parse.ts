/**
 * Reading libiscsi's `iscsi-test-cu`: the families and tests `--list` prints, and the CUnit
 * "basic" output of one run, test by test. CUnit counts a test that returns early with
 * `CU_PASS("[SKIPPED] ...")` as passed; here a test that printed `[SKIPPED]` before its result
 * counts as skipped, with the reasons it printed.
 * @module
 */

/** What became of one test. */
export type Outcome = 'passed' | 'failed' | 'skipped';

/** One test of a run, as its output shows it. */
export interface TestResult {
  /** The test's name within its family (`Simple`, `BeyondEol`, ...). */
  readonly name: string;
  readonly outcome: Outcome;
  /** Each distinct `[SKIPPED]` text the test printed before its result, without the tag. */
  readonly skipReasons: readonly string[];
  /** For a failed test: the `[FAILED]` messages it printed and CUnit's failed-assertion lines. */
  readonly failures: readonly string[];
}

/** CUnit's "tests" summary row. */
export interface CunitSummary {
  readonly total: number;
  readonly ran: number;
  readonly passed: number;
  readonly failed: number;
  readonly inactive: number;
}

/** One run of `iscsi-test-cu`, parsed. */
export interface ParsedRun {
  readonly tests: readonly TestResult[];
  /** Absent when the run ended before CUnit printed its summary (killed, crashed). */
  readonly summary?: CunitSummary;
}

/**
 * The families of `iscsi-test-cu --list` (the `ALL.<Family>` lines) with their tests, in the
 * order listed. The same tests are listed again under SCSI, iSCSI and LINUX; ALL holds every one.
 */
export function parseList(list: string): Map<string, string[]> {
  const families = new Map<string, string[]>();
  for (const line of list.split('\n')) {
    const parts = line.trim().split('.');
    if (parts[0] !== 'ALL' || parts.length < 2 || parts.some((p) => p === '')) continue;
    const tests = families.get(parts[1]!) ?? [];
    if (parts.length === 3) tests.push(parts[2]!);
    families.set(parts[1]!, tests);
  }
  return families;
}

/** Where a test's result word stands: right after CUnit's `...` or at the start of a line. */
const RESULT = /(?:\.\.\.|\n)(passed|FAILED)(?=\s|$)/;
const SUMMARY = /^\s*tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m;

/**
 * Parses the output of one `iscsi-test-cu` run (stdout and stderr together). Text printed
 * after a test's result (the suite's clean-up probes, which print `[SKIPPED] PERSISTENT RESERVE
 * IN is not implemented.` after the last test) belongs to no test. A test the output started but
 * never finished (the run was killed) is not in `tests`.
 */
export function parseRun(output: string): ParsedRun {
  const text = output.replace(/\r\n/g, '\n');
  const summaryAt = text.search(/\n\s*Run Summary:/);
  const body = summaryAt < 0 ? text : text.slice(0, summaryAt);
  const tests: TestResult[] = [];
  // Each segment runs from one "  Test: <name> ..." to the next (or to the summary).
  const segments = body.split(/^ {2}Test: /m).slice(1);
  for (const segment of segments) {
    const name = /^(\S+) \.\.\./.exec(segment)?.[1];
    if (name === undefined) continue;
    const rest = segment.slice(name.length);
    const result = RESULT.exec(rest);
    if (result === null) continue;
    const during = rest.slice(0, result.index);
    const after = rest.slice(result.index + result[0].length);
    const skipReasons = [...new Set([...during.matchAll(/\[SKIPPED\]\s*([^\n]*)/g)].map((m) => m[1]!.trim()))];
    const failed = result[1] === 'FAILED';
    const failures = failed
      ? [
          ...[...during.matchAll(/\[FAILED\]\s*([^\n]*)/g)].map((m) => m[1]!.trim()),
          // The suite's clean-up may print on the same line as the last assertion.
          ...[...after.matchAll(/^\s+\d+\.\s+(\S+:\d+\s+-\s+[^\n]*)$/gm)].map((m) => m[1]!.replace(/\s+\[SKIPPED\].*$/, '').trim()),
        ]
      : [];
    tests.push({ name, outcome: failed ? 'failed' : skipReasons.length > 0 ? 'skipped' : 'passed', skipReasons, failures });
  }
  const s = SUMMARY.exec(summaryAt < 0 ? '' : text.slice(summaryAt));
  if (s === null) return { tests };
  const [total, ran, passed, failed, inactive] = s.slice(1).map(Number) as [number, number, number, number, number];
  return { tests, summary: { total, ran, passed, failed, inactive } };
}

/**
 * How a skip is classed: the target lacks the command (or service action); the LUN's block
 * geometry cannot run the test (another LUN profile can); or anything else.
 */
export type SkipClass = 'not implemented' | 'block profile' | 'other';

/**
 * Classes one `[SKIPPED]` text. libiscsi says "<COMMAND> is not implemented." when the target
 * answered INVALID COMMAND OPERATION CODE (or INVALID FIELD IN CDB for a service action), and
 * "... is not implemented according to REPORT_SUPPORTED_OPCODES." when the target does not
 * advertise it; "LBPPB < 2. Skipping test" when READ CAPACITY(16) reports one logical block per
 * physical block (a LUN with physical blocks of several logical blocks runs it); every other text
 * ("PROUT Not Supported", "Multipath unavailable") is another reason.
 */
export function classifySkip(reason: string): SkipClass {
  if (/\bnot implemented\b/i.test(reason)) return 'not implemented';
  return /\bLBPPB\b/.test(reason) ? 'block profile' : 'other';
}

/** The persistent-reservation families (PERSISTENT RESERVE IN/OUT), left to a later issue. */
export function isPersistentReservationFamily(family: string): boolean {
  return /^Pr(in|out)/.test(family);
}

/** Why a family has no result for some of its tests. */
export type Incomplete = 'timeout' | 'no result';

/** One family's results on one target. */
export interface FamilyResult {
  readonly family: string;
  /** Every test of the family as `--list` names it, in that order. */
  readonly tests: readonly TestResult[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Skipped tests with at least one "not implemented" reason. */
  readonly notImplemented: number;
  /** Set when some tests have no result: the run timed out, or ended without them. */
  readonly incomplete?: Incomplete;
  /** Wall time of the run, in milliseconds. */
  readonly ms: number;
}

/**
 * One family's result from its run: each listed test as the output gives it; a listed test
 * without a result counts as failed, with "timeout" when the run was killed for time, else
 * "no result" (its suite failed to initialise, the tool or the target stopped).
 */
export function familyResult(family: string, listed: readonly string[], run: ParsedRun, timedOut: boolean, ms: number): FamilyResult {
  const byName = new Map(run.tests.map((t) => [t.name, t]));
  const missing: Incomplete = timedOut ? 'timeout' : 'no result';
  const names = listed.length > 0 ? listed : run.tests.map((t) => t.name);
  const tests = names.map((name): TestResult => byName.get(name) ?? { name, outcome: 'failed', skipReasons: [], failures: [missing] });
  const incomplete = tests.some((t) => !byName.has(t.name)) || names.length === 0 ? missing : undefined;
  return summarize(family, tests, incomplete, ms);
}

/** A family's counts from its tests (a family with no tests at all counts one failure: it gave no result). */
export function summarize<T extends TestResult>(family: string, tests: readonly T[], incomplete: Incomplete | undefined, ms: number): FamilyResult & { readonly tests: readonly T[] } {
  const count = (o: Outcome): number => tests.filter((t) => t.outcome === o).length;
  const notImplemented = tests.filter((t) => t.outcome === 'skipped' && t.skipReasons.some((r) => classifySkip(r) === 'not implemented')).length;
  return { family, tests, passed: count('passed'), failed: count('failed') + (tests.length === 0 ? 1 : 0), skipped: count('skipped'), notImplemented, ...(incomplete === undefined ? {} : { incomplete }), ms };
}

/** Sums over families. */
export interface Totals {
  readonly tests: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly notImplemented: number;
}

/** The totals of `families`. */
export function totals(families: readonly FamilyResult[]): Totals {
  const sum = (f: (r: FamilyResult) => number): number => families.reduce((n, r) => n + f(r), 0);
  return { tests: sum((r) => r.tests.length), passed: sum((r) => r.passed), failed: sum((r) => r.failed), skipped: sum((r) => r.skipped), notImplemented: sum((r) => r.notImplemented) };
}

/**
 * What `--strict` refuses: every failed test, and every test skipped as "not implemented"
 * outside the persistent-reservation families. One line each, `Family.Test: why`.
 */
export function strictViolations(families: readonly FamilyResult[]): string[] {
  const out: string[] = [];
  for (const f of families) {
    if (f.failed > 0 && f.tests.length === 0) out.push(`${f.family}: ${f.incomplete ?? 'no result'}`);
    for (const t of f.tests) {
      if (t.outcome === 'failed') out.push(`${f.family}.${t.name}: failed${t.failures.length > 0 ? ` (${t.failures[0]})` : ''}`);
      else if (t.outcome === 'skipped' && !isPersistentReservationFamily(f.family)) {
        const ni = t.skipReasons.filter((r) => classifySkip(r) === 'not implemented');
        if (ni.length > 0) out.push(`${f.family}.${t.name}: skipped, ${ni.join('; ')}`);
      }
    }
  }
  return out;
}
