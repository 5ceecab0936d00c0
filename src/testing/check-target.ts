/**
 * `checkTarget`: a model-based check of anything with the `execute(cdb, dataOut, { initiator })`
 * contract (an in-process LUN, or a remote LUN through the iSCSI initiator) against the reference
 * model, limited to the commands and limits the target advertises. It works in a window at the end
 * of the LUN (so the last LBA is always in play), rewriting that window at the start of every run,
 * and reports the shrunk counterexample as a list of decoded commands with what was expected and
 * what came back.
 *
 * The kit by concern, in `check/`: `options` (what it accepts), `probe` (what the target offers),
 * `model` (the window's state), `predict` (what a step should answer and whether it did), `steps`
 * and `races` (the commands of a run), `run` (the command set and a run's start), `report`.
 * @module
 */
import fc from 'fast-check';
import * as cdb from '../codec/cdb-encoder.js';
import type { ScsiTarget } from '../host/target.js';
import { checkOptions, is } from '../common/errors.js';
import { CHECK_TARGET_OPTIONS, type CheckTargetOptions } from './check/options.js';
import { setUp } from './check/probe.js';
import type { CheckReport, Counterexample } from './check/report.js';
import { clearPersistentReservations, kitCommands, startKitRun } from './check/run.js';
import type { Real } from './check/steps.js';

export type { CheckTargetOptions, Invariant, KitSetupOptions } from './check/options.js';
export type { CheckReport, Counterexample, StepRecord, TargetCapabilities } from './check/report.js';
export { describeResult, formatReport } from './check/report.js';
export { KitModel } from './check/model.js';
export { StepCommand, type KitNexus, type KitSystem } from './check/steps.js';
export { RaceCommand, type RaceStep } from './check/races.js';
export { kitSetup, type KitSetup } from './check/probe.js';
export { kitCommands, kitSyncCommands, startKitRun, clearPersistentReservations } from './check/run.js';
export { accessClass } from './check/model.js';
export { prSpaceOf } from './check/probe.js';

/**
 * Runs the model-based suite against `target`, limited to what it advertises (VPD B0h, B2h, 83h,
 * the copy manager's operating parameters, REPORT SUPPORTED OPERATION CODES; with two or more
 * nexuses and PERSISTENT RESERVE IN/OUT listed, persistent reservations, each run starting from none). Changes only the
 * last `windowBlocks` blocks of the LUN. Resolves with a report; it never throws for a target that
 * misbehaves (only when READ CAPACITY fails, or for a bad option).
 *
 * @example
 * ```ts
 * import { StorageArray } from 'vaai-sim';
 * import { checkTarget, formatReport } from 'vaai-sim/testing';
 * const array = new StorageArray({ capacityBytes: 1 << 30 });
 * const lun = array.createLun({ sizeBytes: 64 << 20 });
 * const report = await checkTarget(lun, { initiators: ['host-a', 'host-b'], numRuns: 50 });
 * if (!report.passed) throw new Error(formatReport(report));
 * ```
 */
export async function checkTarget(target: ScsiTarget, options: CheckTargetOptions = {}): Promise<CheckReport> {
  is.target(target, 'checkTarget: target');
  checkOptions(options, CHECK_TARGET_OPTIONS, 'checkTarget');
  const { nexuses, space, capabilities } = await setUp(target, options, 'checkTarget');
  const ops = space.ops!;
  const unmappedReadsZero = capabilities.unmappedReadsZero;
  const arbitraries = kitCommands(space, nexuses.length, { malformed: options.malformed !== false, races: options.races !== false });

  const invariants = options.invariants ?? [];
  let commands = 0;
  let runs = 0;
  let lastFailure: Counterexample | undefined;
  const property = fc.asyncProperty(fc.commands(arbitraries, { maxCommands: options.maxCommands ?? 25, size: 'max' }), async (cmds) => {
    runs++;
    const real: Real = { nexuses, space, invariants, log: [], count: 0 };
    try {
      const model = await startKitRun(real, unmappedReadsZero);
      await fc.asyncModelRun(() => ({ model, real }), cmds);
    } catch (e) {
      lastFailure = { steps: real.log, failure: e instanceof Error ? e.message : String(e) };
      throw e;
    } finally {
      commands += real.count;
    }
  });
  const seed = options.seed ?? (Date.now() ^ 0x5eed) >>> 0;
  const details = await fc.check(property, { numRuns: options.numRuns ?? 100, seed });
  // Leave no reservation (or registration) behind.
  if (ops.has('RELEASE(6)')) for (const n of nexuses) await n.execute(cdb.release6());
  if (space.pr !== undefined) await clearPersistentReservations({ nexuses, space, invariants: [], log: [], count: 0 }).catch(() => undefined);
  return {
    passed: !details.failed,
    runs,
    commands,
    capabilities,
    seed,
    ...(details.failed ? { path: details.counterexamplePath ?? '' } : {}),
    ...(details.failed && lastFailure !== undefined ? { counterexample: lastFailure } : {}),
  };
}
