/**
 * The whole-suite runner's LUN profiles: which families run again on the 512e profile, the
 * combined count (each test once), and the table with a group that holds only some families.
 * Run output captured from iscsi-test-cu 1.19.0 against vaai-sim serve (512n, then 512e).
 */
import { describe, expect, it } from 'vitest';
import { familyResult, parseRun, strictViolations, totals, type FamilyResult, type ParsedRun } from '../../scripts/conformance/parse.js';
import { combine, familiesForBlockProfile, skippedForBlockProfile } from '../../scripts/conformance/profiles.js';
import { table, totalsLines } from '../../scripts/conformance/report.js';

const summary = (n: number): string => `

Run Summary:    Type  Total    Ran Passed Failed Inactive
              suites      1      1    n/a      0        0
               tests     ${n}     ${n}     ${n}      0        0
             asserts   5396   5396   5396      0      n/a
`;

const WS16_TESTS = ['Simple', 'UnmapUnaligned', 'Check', 'InvalidDataOutSize'];
// 512n: two tests skip for the block geometry.
const WS16_512N = `Suite: WriteSame16
  Test: Simple ...passed
  Test: UnmapUnaligned ...    [SKIPPED] LBPPB < 2. Skipping test
passed
  Test: Check ...passed
  Test: InvalidDataOutSize ...    [SKIPPED] LBPPB < 2. Skipping test
passed    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
${summary(4)}`;
// 512e: everything runs; suppose Check fails there (a defect the second profile shows).
const WS16_512E = `Suite: WriteSame16
  Test: Simple ...passed
  Test: UnmapUnaligned ...passed
  Test: Check ...    [FAILED] WRITESAME16 failed
FAILED
    1. test_writesame16_check.c:80  - CU_ASSERT_EQUAL(ret,0)
  Test: InvalidDataOutSize ...passed    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
${summary(4)}`;

const run = (family: string, tests: string[], text: string | ParsedRun): FamilyResult => familyResult(family, tests, typeof text === 'string' ? parseRun(text) : text, false, 1000);
// A family whose test skips for two reasons, one of them the geometry: the geometry alone does not explain it.
const MIXED = run('Mixed', ['A', 'B'], { tests: [
  { name: 'A', outcome: 'skipped', skipReasons: ['LBPPB < 2. Skipping test', 'Logical unit is fully provisioned. Skipping test'], failures: [] },
  { name: 'B', outcome: 'skipped', skipReasons: ['READ6 is not implemented.'], failures: [] },
] });
const READ6 = run('Read6', ['Simple'], { tests: [{ name: 'Simple', outcome: 'passed', skipReasons: [], failures: [] }] });

describe('the 512e profile', () => {
  it('a test counts as skipped for the block geometry only when every reason it gave is LBPPB', () => {
    const ws = run('WriteSame16', WS16_TESTS, WS16_512N);
    expect(ws.tests.map(skippedForBlockProfile)).toEqual([false, true, false, true]);
    expect(MIXED.tests.map(skippedForBlockProfile)).toEqual([false, false]);
  });

  it('runs again exactly the families with such a test', () => {
    expect(familiesForBlockProfile([READ6, run('WriteSame16', WS16_TESTS, WS16_512N), MIXED])).toEqual(['WriteSame16']);
    expect(familiesForBlockProfile([READ6, MIXED])).toEqual([]);
  });
});

describe('combine', () => {
  const base = [READ6, run('WriteSame16', WS16_TESTS, WS16_512N), MIXED];
  const rerun = [run('WriteSame16', WS16_TESTS, WS16_512E)];
  const combined = combine(base, rerun, '512n', '512e');

  it('takes a test from the 512e run only where 512n skipped it for LBPPB alone, each test once', () => {
    const ws = combined[1]!;
    expect(ws.tests.map((t) => [t.name, t.outcome, t.profile])).toEqual([
      ['Simple', 'passed', '512n'],
      ['UnmapUnaligned', 'passed', '512e'],
      ['Check', 'passed', '512n'],
      ['InvalidDataOutSize', 'passed', '512e'],
    ]);
    expect([ws.passed, ws.failed, ws.skipped, ws.fromRerun, ws.ms]).toEqual([4, 0, 0, 2, 2000]);
    expect(combined[0]).toMatchObject({ family: 'Read6', passed: 1, fromRerun: 0 });
    expect(combined[2]).toMatchObject({ family: 'Mixed', skipped: 2, notImplemented: 1, fromRerun: 0 });
  });

  it('never counts a test twice: the combined total has the 512n run\'s tests', () => {
    expect(totals(combined)).toEqual({ tests: 7, passed: 5, failed: 0, skipped: 2, notImplemented: 1 });
    expect(totals(base)).toEqual({ tests: 7, passed: 3, failed: 0, skipped: 4, notImplemented: 1 });
  });

  it('keeps the 512n result when the rerun has no result for the test, and marks the family incomplete when a counted test timed out', () => {
    const none = combine(base, [], '512n', '512e');
    expect(totals(none)).toEqual(totals(base));
    const killed = combine(base, [familyResult('WriteSame16', WS16_TESTS, { tests: [] }, true, 5)], '512n', '512e');
    expect(killed[1]).toMatchObject({ failed: 2, fromRerun: 2, incomplete: 'timeout' });
  });

  it('the 512e run\'s failures are strict violations of their own, though the combined count takes Check from 512n', () => {
    expect(strictViolations(rerun)).toEqual(['WriteSame16.Check: failed (WRITESAME16 failed)']);
  });
});

describe('the table with profiles', () => {
  it('shows the 512e group only for the families it ran, then the combined count', () => {
    const base = [READ6, run('WriteSame16', WS16_TESTS, WS16_512N)];
    const rerun = [run('WriteSame16', WS16_TESTS, WS16_512E)];
    const groups = [
      { target: 'vaai-sim', profile: '512n', families: base },
      { target: 'vaai-sim', profile: '512e', families: rerun },
      { target: 'vaai-sim', profile: 'combined', families: combine(base, rerun, '512n', '512e') },
    ];
    expect(table(groups).split('\n')).toEqual([
      '                        tests | vaai-sim 512n       | vaai-sim 512e       | vaai-sim combined   ',
      'family                        | pass fail skip  n/i | pass fail skip  n/i | pass fail skip  n/i ',
      'Read6                       1 |    1    0    0    0 |    -    -    -    - |    1    0    0    0',
      'WriteSame16                 4 |    2    0    2    0 |    3    1    0    0 |    4    0    0    0',
      'TOTAL                       5 |    3    0    2    0 |    3    1    0    0 |    5    0    0    0',
    ]);
    expect(totalsLines(groups)).toEqual([
      'vaai-sim 512n: 3 passed, 0 failed, 2 skipped (0 "not implemented", 2 for other reasons) of 5 tests in 2 families',
      'vaai-sim 512e: 3 passed, 1 failed, 0 skipped (0 "not implemented", 0 for other reasons) of 4 tests in 1 families',
      'vaai-sim combined: 5 passed, 0 failed, 0 skipped (0 "not implemented", 0 for other reasons) of 5 tests in 2 families',
    ]);
  });
});
