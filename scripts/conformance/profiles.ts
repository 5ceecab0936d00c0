/**
 * The LUN profiles the whole-suite runner serves, and how their results add up. Every family runs
 * on the base profile (512n); a family some of whose tests skip because the LUN has one logical
 * block per physical block ("LBPPB < 2") runs again on the 512e profile. The combined count takes
 * each test once: from the 512e run when the base run skipped it only for its block geometry,
 * else from the base run.
 * @module
 */
import { classifySkip, summarize, type FamilyResult, type TestResult } from './parse.js';

/** A LUN profile: how `vaai-sim serve` is started for it. */
export interface Profile {
  /** Short name, as the table and the JSON show it. */
  readonly name: string;
  /** What the LUN is, in words. */
  readonly description: string;
  /** Arguments added to `vaai-sim serve` for this profile. */
  readonly serveArgs: readonly string[];
}

/** The base profile every family runs on: 512-byte logical and physical blocks. */
export const BASE_PROFILE: Profile = { name: '512n', description: '512-byte logical and physical blocks (LBPPB 1)', serveArgs: [] };

/** The profile for the tests that need several logical blocks per physical block. */
export const E512_PROFILE: Profile = {
  name: '512e',
  description: '512-byte logical blocks on 4096-byte physical blocks (LBPPB 8)',
  serveArgs: ['--physical-block-size', '4096'],
};

/** True when a test skipped for the LUN's block geometry alone (every reason it gave is of that class). */
export function skippedForBlockProfile(t: TestResult): boolean {
  return t.outcome === 'skipped' && t.skipReasons.length > 0 && t.skipReasons.every((r) => classifySkip(r) === 'block profile');
}

/** The families of `base` with a test skipped for the block geometry alone: the ones to run on {@link E512_PROFILE}. */
export function familiesForBlockProfile(base: readonly FamilyResult[]): string[] {
  return base.filter((f) => f.tests.some(skippedForBlockProfile)).map((f) => f.family);
}

/** A test of the combined count, with the profile whose run it is counted by. */
export interface CombinedTest extends TestResult {
  readonly profile: string;
}

/** A family of the combined count. */
export interface CombinedFamily extends FamilyResult {
  readonly tests: readonly CombinedTest[];
  /** How many of its tests are counted by their run on the second profile. */
  readonly fromRerun: number;
}

/**
 * The combined count: each test of `base` once, taken from `rerun` (the same family on
 * `rerunProfile`) when `base` skipped it for the block geometry alone and `rerun` has it, else
 * from `base`. A family's incomplete mark and time are the base run's, unless a test comes from
 * an incomplete rerun.
 */
export function combine(base: readonly FamilyResult[], rerun: readonly FamilyResult[], baseProfile: string, rerunProfile: string): CombinedFamily[] {
  const reruns = new Map(rerun.map((f) => [f.family, f]));
  return base.map((f) => {
    const again = reruns.get(f.family);
    const byName = new Map(again?.tests.map((t) => [t.name, t]));
    let fromRerun = 0;
    const tests = f.tests.map((t): CombinedTest => {
      const other = skippedForBlockProfile(t) ? byName.get(t.name) : undefined;
      if (other === undefined) return { ...t, profile: baseProfile };
      fromRerun++;
      return { ...other, profile: rerunProfile };
    });
    const incomplete = f.incomplete ?? (fromRerun > 0 ? again?.incomplete : undefined);
    return { ...summarize(f.family, tests, incomplete, f.ms + (again?.ms ?? 0)), fromRerun };
  });
}
