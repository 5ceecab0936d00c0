/**
 * The kit's command set for fast-check's model runs, and the start of a run (no reservation, the
 * window holding a known pattern).
 * @module
 */
import fc from 'fast-check';
import * as cdb from '../../codec/cdb-encoder.js';
import { checkOptions, checkPositiveInteger, is } from '../../common/errors.js';
import { commandArbitrary, defectsFor, malformedCommandArbitrary, rangeArbitrary, type CommandSpace } from '../arbitraries.js';
import type { KitCommand } from '../commands.js';
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
  return arbitraries;
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
