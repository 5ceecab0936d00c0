/**
 * The whole-suite runner's reading of libiscsi's iscsi-test-cu (1.19.0) output, on snippets
 * captured from real runs against vaai-sim and tgt.
 */
import { describe, expect, it } from 'vitest';
import { classifySkip, familyResult, isPersistentReservationFamily, parseList, parseRun, strictViolations, totals } from '../../scripts/conformance/parse.js';
import { table } from '../../scripts/conformance/report.js';

const BANNER = `    [SKIPPED] PERSISTENT RESERVE IN is not implemented.



     CUnit - A unit testing framework for C - Version 2.1-3
     http://cunit.sourceforge.net/


`;

const summary = (total: number, passed: number, failed: number, asserts: string): string => `

Run Summary:    Type  Total    Ran Passed Failed Inactive
              suites      1      1    n/a      0        0
               tests      ${total}      ${total}      ${passed}      ${failed}        0
             asserts   ${asserts}      n/a

Elapsed time =    0.000 seconds
Tests completed with return value: 0
`;

// A family whose command is not implemented: each test skips (CUnit counts it passed).
const PREFETCH10 = `${BANNER}Suite: Prefetch10
  Test: Simple ...    [SKIPPED] PREFETCH10 is not implemented.
    [SKIPPED] PREFETCH10 is not implemented.
passed
  Test: BeyondEol ...    [SKIPPED] PREFETCH10 is not implemented.
    [SKIPPED] PREFETCH10 is not implemented.
passed
  Test: ZeroBlocks ...passed
  Test: Flags ...    [SKIPPED] PREFETCH10 is not implemented.
    [SKIPPED] PREFETCH10 is not implemented.
passed    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
${summary(4, 4, 0, '4      4      4      0')}`;

// Failures, the second followed on its last assertion line by the suite's clean-up probe.
const CMDSN = `${BANNER}Suite: iSCSIcmdsn
  Test: iSCSICmdSnTooHigh ...    [FAILED] TESTUNITREADY successful but should have failed with NO SENSE(0x00)/NO ASCQ(0x0000)
FAILED
    1. test_iscsi_cmdsn_toohigh.c:80  - CU_ASSERT_EQUAL(ret,0)
  Test: iSCSICmdSnTooLow ...    [FAILED] TESTUNITREADY successful but should have failed with NO SENSE(0x00)/NO ASCQ(0x0000)
FAILED
    1. test_iscsi_cmdsn_toolow.c:80  - CU_ASSERT_EQUAL(ret,0)    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
${summary(2, 0, 2, '4      4      2      2')}`;

// A failure with no [FAILED] line, and a test that skips for three reasons.
const SANITIZE = `${BANNER}Suite: Sanitize
  Test: BlockEraseReserved ...    [SKIPPED] SANITIZE is not implemented.
    [SKIPPED] SANITIZE is not implemented.
passed
  Test: Readonly ...    SWP is not changeable
FAILED
    1. test_sanitize_readonly.c:60  - CU_ASSERT_EQUAL(ret,0)
  Test: Reservations ...    [SKIPPED] SANITIZE OVERWRITE is not implemented according to REPORT_SUPPORTED_OPCODES.
    [SKIPPED] SANITIZE BLOCK_ERASE is not implemented according to REPORT_SUPPORTED_OPCODES.
    [SKIPPED] SANITIZE CRYPTO_ERASE is not implemented according to REPORT_SUPPORTED_OPCODES.
passed    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
${summary(3, 2, 1, '3      3      2      1')}`;

const PRIN = `${BANNER}Suite: PrinReadKeys
  Test: Simple ...    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
passed
  Test: Truncate ...    [SKIPPED] PROUT Not Supported
passed    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
${summary(2, 2, 0, '2      2      2      0')}`;

describe('parseList', () => {
  it('takes the ALL families with their tests, not the SCSI/iSCSI/LINUX repeats', () => {
    const list = 'ALL\nALL.Read6\nALL.Read6.Simple\nALL.Read6.BeyondEol\nALL.iSCSIcmdsn\nALL.iSCSIcmdsn.iSCSICmdSnTooHigh\nSCSI\nSCSI.Read6\nSCSI.Read6.Simple\niSCSI.iSCSIcmdsn\nLINUX.Read6.Simple\n';
    expect([...parseList(list)]).toEqual([
      ['Read6', ['Simple', 'BeyondEol']],
      ['iSCSIcmdsn', ['iSCSICmdSnTooHigh']],
    ]);
  });
});

describe('parseRun', () => {
  it('counts a test that printed [SKIPPED] before its result as skipped, with its reason once', () => {
    const run = parseRun(PREFETCH10);
    expect(run.tests.map((t) => [t.name, t.outcome, t.skipReasons])).toEqual([
      ['Simple', 'skipped', ['PREFETCH10 is not implemented.']],
      ['BeyondEol', 'skipped', ['PREFETCH10 is not implemented.']],
      ['ZeroBlocks', 'passed', []],
      ['Flags', 'skipped', ['PREFETCH10 is not implemented.']],
    ]);
    expect(run.summary).toEqual({ total: 4, ran: 4, passed: 4, failed: 0, inactive: 0 });
  });

  it('reads failures with their [FAILED] messages and assertion lines, without the clean-up text after them', () => {
    const run = parseRun(CMDSN);
    expect(run.tests).toEqual([
      { name: 'iSCSICmdSnTooHigh', outcome: 'failed', skipReasons: [], failures: ['TESTUNITREADY successful but should have failed with NO SENSE(0x00)/NO ASCQ(0x0000)', 'test_iscsi_cmdsn_toohigh.c:80  - CU_ASSERT_EQUAL(ret,0)'] },
      { name: 'iSCSICmdSnTooLow', outcome: 'failed', skipReasons: [], failures: ['TESTUNITREADY successful but should have failed with NO SENSE(0x00)/NO ASCQ(0x0000)', 'test_iscsi_cmdsn_toolow.c:80  - CU_ASSERT_EQUAL(ret,0)'] },
    ]);
    expect(run.summary).toEqual({ total: 2, ran: 2, passed: 0, failed: 2, inactive: 0 });
  });

  it('keeps every distinct reason of a test that skips for several, and a failure without a [FAILED] line', () => {
    const run = parseRun(SANITIZE);
    expect(run.tests.map((t) => [t.name, t.outcome, t.skipReasons.length, t.failures])).toEqual([
      ['BlockEraseReserved', 'skipped', 1, []],
      ['Readonly', 'failed', 0, ['test_sanitize_readonly.c:60  - CU_ASSERT_EQUAL(ret,0)']],
      ['Reservations', 'skipped', 3, []],
    ]);
  });

  it('does not give a test the [SKIPPED] the suite prints after its result', () => {
    expect(parseRun(CMDSN).tests.every((t) => t.skipReasons.length === 0)).toBe(true);
    expect(parseRun(PREFETCH10).tests[2]).toEqual({ name: 'ZeroBlocks', outcome: 'passed', skipReasons: [], failures: [] });
  });

  it('has no summary and no unfinished test when the run was killed mid-test', () => {
    const killed = PREFETCH10.slice(0, PREFETCH10.indexOf('  Test: Flags')) + '  Test: Flags ...    [SKIPPED] PREFETCH10 is not implemented.\n';
    const run = parseRun(killed);
    expect(run.summary).toBeUndefined();
    expect(run.tests.map((t) => t.name)).toEqual(['Simple', 'BeyondEol', 'ZeroBlocks']);
  });
});

describe('classifySkip', () => {
  it.each([
    ['READ6 is not implemented.', 'not implemented'],
    ['SANITIZE OVERWRITE is not implemented according to REPORT_SUPPORTED_OPCODES.', 'not implemented'],
    ['PROUT Not Supported', 'other'],
    ['LBPPB < 2. Skipping test', 'block profile'],
    ['Logical unit is fully provisioned. Skipping test', 'other'],
    ['Multipath unavailable. Skipping test', 'other'],
  ])('%s → %s', (reason, cls) => {
    expect(classifySkip(reason)).toBe(cls);
  });
});

describe('familyResult and totals', () => {
  it('counts each outcome, and the skips that are "not implemented"', () => {
    const r = familyResult('Sanitize', ['BlockEraseReserved', 'Readonly', 'Reservations'], parseRun(SANITIZE), false, 5);
    expect([r.passed, r.failed, r.skipped, r.notImplemented, r.incomplete]).toEqual([0, 1, 2, 2, undefined]);
  });

  it('counts a listed test without a result as failed: "timeout" when killed for time, else "no result"', () => {
    const killed = parseRun(PREFETCH10.slice(0, PREFETCH10.indexOf('  Test: Flags')));
    const timedOut = familyResult('Prefetch10', ['Simple', 'BeyondEol', 'ZeroBlocks', 'Flags'], killed, true, 120_000);
    expect([timedOut.passed, timedOut.failed, timedOut.skipped, timedOut.incomplete]).toEqual([1, 1, 2, 'timeout']);
    expect(timedOut.tests[3]).toEqual({ name: 'Flags', outcome: 'failed', skipReasons: [], failures: ['timeout'] });
    const noStart = familyResult('Read6', ['Simple', 'BeyondEol'], { tests: [] }, false, 0);
    expect([noStart.failed, noStart.incomplete]).toEqual([2, 'no result']);
  });

  it('sums families', () => {
    const fs = [familyResult('Prefetch10', ['Simple', 'BeyondEol', 'ZeroBlocks', 'Flags'], parseRun(PREFETCH10), false, 1), familyResult('iSCSIcmdsn', ['iSCSICmdSnTooHigh', 'iSCSICmdSnTooLow'], parseRun(CMDSN), false, 1)];
    expect(totals(fs)).toEqual({ tests: 6, passed: 1, failed: 2, skipped: 3, notImplemented: 3 });
  });
});

describe('strictViolations', () => {
  it('refuses failures and "not implemented" skips, except in the persistent-reservation families', () => {
    const prin = familyResult('PrinReadKeys', ['Simple', 'Truncate'], parseRun(PRIN), false, 1);
    expect([prin.skipped, prin.notImplemented]).toEqual([2, 1]);
    expect(strictViolations([prin])).toEqual([]);
    const sanitize = familyResult('Sanitize', ['BlockEraseReserved', 'Readonly', 'Reservations'], parseRun(SANITIZE), false, 1);
    expect(strictViolations([prin, sanitize])).toEqual([
      'Sanitize.BlockEraseReserved: skipped, SANITIZE is not implemented.',
      'Sanitize.Readonly: failed (test_sanitize_readonly.c:60  - CU_ASSERT_EQUAL(ret,0))',
      'Sanitize.Reservations: skipped, SANITIZE OVERWRITE is not implemented according to REPORT_SUPPORTED_OPCODES.; SANITIZE BLOCK_ERASE is not implemented according to REPORT_SUPPORTED_OPCODES.; SANITIZE CRYPTO_ERASE is not implemented according to REPORT_SUPPORTED_OPCODES.',
    ]);
  });

  it('knows the persistent-reservation families by name', () => {
    expect(['PrinReadKeys', 'PrinServiceactionRange', 'PrinReportCapabilities', 'ProutRegister', 'ProutPreempt'].every(isPersistentReservationFamily)).toBe(true);
    expect(['PreventAllow', 'Prefetch10', 'Read6', 'MultipathIO'].some(isPersistentReservationFamily)).toBe(false);
  });
});

describe('table', () => {
  it('puts the targets side by side with a totals row', () => {
    const v = [familyResult('Prefetch10', ['Simple', 'BeyondEol', 'ZeroBlocks', 'Flags'], parseRun(PREFETCH10), false, 1)];
    const t = [familyResult('Prefetch10', ['Simple', 'BeyondEol', 'ZeroBlocks', 'Flags'], { tests: [] }, true, 1)];
    expect(table([{ target: 'vaai-sim', families: v }, { target: 'tgt', families: t }]).split('\n')).toEqual([
      '                        tests | vaai-sim            | tgt                 ',
      'family                        | pass fail skip  n/i | pass fail skip  n/i ',
      'Prefetch10                  4 |    1    0    3    3 |    0    4    0    0   (tgt: timeout)',
      'TOTAL                       4 |    1    0    3    3 |    0    4    0    0',
    ]);
  });
});
