/**
 * The kit's command set for fast-check's model runs, and the start of a run (no reservation, the
 * window holding a known pattern).
 * @module
 */
import fc from 'fast-check';
import * as cdb from '../../codec/cdb-encoder.js';
import { checkOptions, checkPositiveInteger, is } from '../../common/errors.js';
import { commandArbitrary, defectsFor, malformedCommandArbitrary, prCommandArbitrary, rangeArbitrary, type CommandSpace } from '../arbitraries.js';
import { prKey, type KitCommand } from '../commands.js';
import { PR_IN_ACTIONS, PR_OUT_ACTIONS } from '../reference-pr.js';
import { decodePrReadKeys } from '../../codec/pr-decoder.js';
import { KitModel } from './model.js';
import { raceArbitrary, type RaceCommand } from './races.js';
import { describeResult } from './report.js';
import { CheckFailure, StepCommand, type KitSystem } from './steps.js';

const KIT_COMMANDS_OPTIONS = { malformed: is.boolean, races: is.boolean } as const;

/**
 * The kit's command set for `fc.commands` and `fc.asyncModelRun` (or `fc.scheduledModelRun`): single
 * commands from any nexus, malformed ones, and races between nexuses. With `sync`, plain commands
 * for `fc.modelRun` against an in-process LUN (no races: they need time to interleave).
 */
export function kitCommands(space: CommandSpace, nexusCount: number, options: { readonly malformed?: boolean; readonly races?: boolean } = {}): Array<fc.Arbitrary<StepCommand | RaceCommand>> {
  checkPositiveInteger(nexusCount, 'kitCommands: nexusCount');
  checkOptions(options, KIT_COMMANDS_OPTIONS, 'kitCommands');
  const nexusIndex = fc.nat({ max: nexusCount - 1 });
  const single = fc.tuple(nexusIndex, commandArbitrary(space)).map(([n, c]) => new StepCommand(n, c, undefined));
  const arbitraries: Array<fc.Arbitrary<StepCommand | RaceCommand>> = [single, single, single];
  if (space.ops === undefined || space.ops.has('READ(16)')) arbitraries.push(fc.tuple(nexusIndex, rangeArbitrary(space, 1)).map(([n, r]) => new StepCommand(n, { op: 'READ(16)', ...r }, undefined)));
  const ops = space.ops ?? new Set<KitCommand['op']>(['READ(16)']);
  const canBreak = [...ops].some((op) => defectsFor({ op } as KitCommand, space).length > 0 || op === 'READ(16)' || op === 'WRITE(16)');
  if (options.malformed !== false && canBreak) arbitraries.push(fc.tuple(nexusIndex, malformedCommandArbitrary(space)).map(([n, m]) => new StepCommand(n, m.command, m.defect)));
  if (options.races !== false && nexusCount >= 2) arbitraries.push(raceArbitrary(space, nexusCount), raceArbitrary(space, nexusCount));
  if (space.pr !== undefined && nexusCount >= 2) {
    const pr = nexusIndex.chain((n) => prCommandArbitrary(space, n, nexusCount).map((c) => [n, c] as const));
    arbitraries.push(pr.map(([n, c]) => new StepCommand(n, c, undefined)), pr.map(([n, c]) => new StepCommand(n, c, undefined)));
    const malformed = pr.filter(([, c]) => defectsFor(c, space).length > 0).chain(([n, c]) => fc.constantFrom(...defectsFor(c, space)).map((d) => new StepCommand(n, c, d)));
    if (options.malformed !== false) arbitraries.push(malformed);
  }
  return arbitraries;
}

/**
 * Leaves the LUN with no persistent reservation and no registration, and no unit attention pending
 * on any nexus: each nexus registers its key with REGISTER AND IGNORE EXISTING KEY, the first one
 * CLEARs (SPC-4 5.13.11.1), and every nexus takes the unit attentions that raised. Returns
 * PRGENERATION after it (READ KEYS).
 */
export async function clearPersistentReservations(real: KitSystem): Promise<number> {
  const step = (nexus: number, c: Uint8Array, dataOut: Uint8Array | undefined, what: string) => prStep(real, nexus, c, dataOut, `${what} (clearing persistent reservations)`);
  const out = prOut;
  await settleUnitAttentions(real);
  for (let n = 0; n < real.nexuses.length; n++) await step(n, ...out('REGISTER AND IGNORE EXISTING KEY', 0n, prKey(n)), `PERSISTENT RESERVE OUT REGISTER AND IGNORE EXISTING KEY sa-key ${prKey(n).toString(16)}h`);
  await step(0, ...out('CLEAR', prKey(0), 0n), `PERSISTENT RESERVE OUT CLEAR key ${prKey(0).toString(16)}h`);
  await settleUnitAttentions(real);
  const keys = decodePrReadKeys((await step(0, cdb.persistentReserveIn({ serviceAction: PR_IN_ACTIONS['READ KEYS'], allocationLength: 1024 }), undefined, 'PERSISTENT RESERVE IN READ KEYS')) ?? new Uint8Array(0));
  if (!keys.ok || keys.value.keys.length > 0) {
    const got = keys.ok ? `${keys.value.keys.length} keys` : keys.message;
    real.log.push({ nexus: real.nexuses[0]!.name, command: 'PERSISTENT RESERVE IN READ KEYS (after CLEAR)', expected: 'no keys', actual: got, ok: false });
    throw new CheckFailure(`PERSISTENT RESERVE IN READ KEYS after CLEAR: expected no keys, got ${got}`);
  }
  return keys.value.generation;
}

/** A setup command that must answer GOOD (else the run fails, logged): its Data-In. */
async function prStep(real: KitSystem, nexus: number, c: Uint8Array, dataOut: Uint8Array | undefined, command: string): Promise<Uint8Array | undefined> {
  const r = await real.nexuses[nexus]!.execute(c, dataOut);
  if (r.status !== 0) {
    real.log.push({ nexus: real.nexuses[nexus]!.name, command, expected: 'GOOD', actual: describeResult(r), ok: false });
    throw new CheckFailure(`${command}: expected GOOD, got ${describeResult(r)}`);
  }
  return r.data;
}

/** The CDB and parameter list of a basic PERSISTENT RESERVE OUT. */
function prOut(action: keyof typeof PR_OUT_ACTIONS, key: bigint, sark: bigint): readonly [Uint8Array, Uint8Array] {
  const list = cdb.prOutParameterList({ key, serviceActionKey: sark });
  return [cdb.persistentReserveOut({ serviceAction: PR_OUT_ACTIONS[action], parameterListLength: list.length }), list] as const;
}

/** Sends TEST UNIT READY on every nexus until it answers anything but CHECK CONDITION (at most 10 times each). */
async function settleUnitAttentions(real: KitSystem): Promise<void> {
  for (const n of real.nexuses) for (let i = 0; i < 10 && (await n.execute(cdb.testUnitReady())).status === 0x02; i++);
}

/** The same set as plain commands for `fc.commands` and `fc.modelRun` (the target must answer synchronously). */
export function kitSyncCommands(space: CommandSpace, nexusCount: number, options: { readonly malformed?: boolean } = {}): Array<fc.Arbitrary<fc.Command<KitModel, KitSystem>>> {
  checkOptions(options, { malformed: is.boolean }, 'kitSyncCommands');
  return kitCommands(space, nexusCount, { ...options, races: false }).map((a) =>
    a.map((c) => {
      const step = c as StepCommand;
      return { check: () => true, run: (m: KitModel, r: KitSystem) => step.runSync(m, r), toString: () => step.toString() };
    }),
  );
}

/**
 * The start of a run: no reservation held, and the window (the last `blockCount - first` blocks)
 * holding a known pattern. Returns the model of that state.
 */
export async function startKitRun(real: KitSystem, unmappedReadsZero: boolean): Promise<KitModel> {
  const model = new KitModel(real.space.first, real.space.blockCount - real.space.first, real.space.blockSize, unmappedReadsZero);
  for (const n of real.nexuses) if (real.space.ops?.has('RELEASE(6)') === true) await n.execute(cdb.release6());
  if (real.space.pr !== undefined && real.nexuses.length >= 2) {
    // A cluster where every node but one has joined: every nexus but the last registered with its
    // own key, no reservation (so reservations, conflicts and preemptions are a few steps away).
    model.pr.generation = await clearPersistentReservations(real);
    for (let n = 0; n < real.nexuses.length - 1; n++) {
      await prStep(real, n, ...prOut('REGISTER AND IGNORE EXISTING KEY', 0n, prKey(n)), `PERSISTENT RESERVE OUT REGISTER AND IGNORE EXISTING KEY sa-key ${prKey(n).toString(16)}h (starting the run)`);
      model.pr.out(n, 'REGISTER AND IGNORE EXISTING KEY', 0n, prKey(n), 0x1);
      real.log.push({ nexus: real.nexuses[n]!.name, command: `PERSISTENT RESERVE OUT REGISTER AND IGNORE EXISTING KEY sa-key ${prKey(n).toString(16)}h (the run's start: no reservation, every nexus but the last registered)`, expected: 'GOOD', actual: 'GOOD', ok: true });
    }
  }
  const bs = real.space.blockSize;
  const data = new Uint8Array(model.blocks * bs);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >>> 9)) & 0xff;
  for (let at = 0; at < model.blocks; at += real.space.maxBlocks ?? 16) {
    const blocks = Math.min(real.space.maxBlocks ?? 16, model.blocks - at);
    const r = await real.nexuses[0]!.execute(cdb.write16({ lba: model.first + at, blocks }), data.subarray(at * bs, (at + blocks) * bs));
    if (r.status !== 0) {
      const command = `WRITE(16) lba ${model.first + at} blocks ${blocks} (writing the check's window)`;
      real.log.push({ nexus: real.nexuses[0]!.name, command, expected: 'GOOD', actual: describeResult(r), ok: false });
      throw new CheckFailure(`${command}: expected GOOD, got ${describeResult(r)}`);
    }
  }
  model.ref.write16(0, 0, data);
  return model;
}
