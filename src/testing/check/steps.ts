/**
 * The commands of the model-based run: one command from one nexus, checked against the model, with
 * the reads that settle blocks of unknown content and the invariants after every step.
 * @module
 */
import type fc from 'fast-check';
import * as cdb from '../../codec/cdb-encoder.js';
import type { MaybePromise } from '../../common/maybe-promise.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import type { CommandSpace } from '../arbitraries.js';
import { describeCommand, encodeCommand, type BlockRange, type Defect, type EncodedCommand, type KitCommand } from '../commands.js';
import type { KitModel } from './model.js';
import type { Invariant } from './options.js';
import { describePrediction, disagreement, type Prediction } from './predict.js';
import { describeResult, type StepRecord } from './report.js';

/** One I_T nexus to the LUN under test. */
export interface KitNexus {
  /** A name for reports. */
  readonly name: string;
  /** Executes a command through this nexus. */
  execute(c: Uint8Array, dataOut?: Uint8Array): MaybePromise<ScsiResult>;
}

/** The system the kit's commands run against: the LUN through its nexuses, and the run's log. */
export interface KitSystem {
  /** The LUN through each nexus. */
  readonly nexuses: readonly KitNexus[];
  /** Where commands go and which are offered (its `first` is the start of the model's window). */
  readonly space: CommandSpace;
  /** Checks to run after every step. */
  readonly invariants: readonly Invariant[];
  /** The steps of the run so far. */
  readonly log: StepRecord[];
  /** Commands executed. */
  count: number;
}

/** The kit's name for the system under test inside its commands. */
export type Real = KitSystem;

/** A step disagreed with the model, or an invariant broke: fails the run (fast-check shrinks it). */
export class CheckFailure extends Error {}

/** The ranges whose content the model does not know (unmapped with LBPRZ = 0), to read before a command depends on them. */
function unknownRanges(model: KitModel, ranges: readonly BlockRange[]): BlockRange[] {
  return model.lbprz ? [] : ranges.filter((r) => r.blocks > 0 && model.touchesUnknown(r));
}

/** Takes what the target returned for unknown blocks into the model. */
function adoptRead(model: KitModel, real: Real, nexus: number, r: BlockRange, got: ScsiResult): void {
  if (got.status !== 0 || got.data === undefined || got.data.length !== r.blocks * model.blockSize) return;
  real.log.push({ nexus: real.nexuses[nexus]!.name, command: `READ(16) lba ${r.lba} blocks ${r.blocks} (content of unmapped blocks, LBPRZ = 0)`, expected: 'any', actual: describeResult(got), ok: true });
  model.adopt(r, got.data);
}

/** Reads the blocks of `ranges` whose content the model does not know, and adopts what comes back. */
export async function settleUnknown(model: KitModel, real: Real, nexus: number, ranges: readonly BlockRange[]): Promise<void> {
  for (const r of unknownRanges(model, ranges)) adoptRead(model, real, nexus, r, await real.nexuses[nexus]!.execute(cdb.read16(r)));
}

/** The result of a target that must answer synchronously. */
export function sync(r: MaybePromise<ScsiResult>): ScsiResult {
  if (r instanceof Promise) throw new TypeError('fc.modelRun needs a target that answers synchronously (an in-process Lun); use fc.asyncModelRun');
  return r;
}

function settleUnknownSync(model: KitModel, real: Real, nexus: number, ranges: readonly BlockRange[]): void {
  for (const r of unknownRanges(model, ranges)) adoptRead(model, real, nexus, r, sync(real.nexuses[nexus]!.execute(cdb.read16(r))));
}

/** The blocks a command reads (whose content its answer depends on). */
export function rangesRead(c: KitCommand): BlockRange[] {
  if (c.op === 'COMPARE AND WRITE' || c.op === 'ORWRITE(16)') return [c];
  if ((c.op === 'VERIFY(10)' || c.op === 'VERIFY(16)') && c.bytchk !== 0) return [c];
  if (c.op === 'EXTENDED COPY') return c.segments.map((s) => ({ lba: s.srcLba, blocks: s.blocks }));
  return [];
}

function invariantBroken(real: Real, after: string, wrong: string): never {
  real.log.push({ nexus: '-', command: `invariant after ${after}`, expected: 'holds', actual: wrong, ok: false });
  throw new CheckFailure(`invariant broken after ${after}: ${wrong}`);
}

/** Runs every invariant; the first that is broken fails the run. */
export async function runInvariants(real: Real, after: string): Promise<void> {
  for (const inv of real.invariants) {
    const wrong = await inv();
    if (wrong !== undefined) invariantBroken(real, after, wrong);
  }
}

/** One command from one nexus, checked against the model (for `fc.asyncModelRun`; `runSync` for `fc.modelRun`). */
export class StepCommand implements fc.AsyncCommand<KitModel, KitSystem> {
  /**
   * @param nexus - index of the nexus that sends it
   * @param command - the command
   * @param defect - a defect to apply (the command must then be refused and change nothing)
   */
  constructor(
    readonly nexus: number,
    readonly command: KitCommand,
    readonly defect: Defect | undefined,
  ) {}
  /** Every command may run in every state: errors are predicted, not avoided. */
  check(): boolean {
    return true;
  }
  /** Runs the command on the target and the model, and compares. */
  async run(model: KitModel, real: Real): Promise<void> {
    if (this.#settles(model)) await settleUnknown(model, real, this.nexus, rangesRead(this.command));
    const step = this.#predict(model, real);
    this.#finish(model, real, step, await real.nexuses[this.nexus]!.execute(step.encoded.cdb, step.encoded.dataOut));
    await runInvariants(real, step.text);
  }

  /** The same step for `fc.modelRun`: the target must answer synchronously (an in-process LUN). */
  runSync(model: KitModel, real: Real): void {
    if (this.#settles(model)) settleUnknownSync(model, real, this.nexus, rangesRead(this.command));
    const step = this.#predict(model, real);
    this.#finish(model, real, step, sync(real.nexuses[this.nexus]!.execute(step.encoded.cdb, step.encoded.dataOut)));
    for (const inv of real.invariants) {
      const wrong = inv();
      if (wrong instanceof Promise) throw new TypeError('fc.modelRun needs synchronous invariants');
      if (wrong !== undefined) invariantBroken(real, step.text, wrong);
    }
  }

  #settles(model: KitModel): boolean {
    return this.defect === undefined && model.mayRead(this.nexus);
  }

  #predict(model: KitModel, real: Real): { encoded: EncodedCommand; prediction: Prediction; unknownBefore: Set<number>; text: string } {
    const encoded = encodeCommand(this.command, real.space, (r) => model.current(r), this.defect);
    const unknownBefore = new Set(model.unknown);
    return { encoded, unknownBefore, prediction: model.predict(this.nexus, this.command, encoded, this.defect), text: describeCommand(this.command, this.defect, real.space) };
  }

  #finish(model: KitModel, real: Real, step: { prediction: Prediction; unknownBefore: Set<number>; text: string }, actual: ScsiResult): void {
    real.count++;
    const n = real.nexuses[this.nexus]!;
    const c = this.command;
    const unknown = c.op === 'READ(16)' || c.op === 'READ(10)' || c.op === 'READ(6)' ? (i: number) => step.unknownBefore.has(c.lba - model.first + i) : undefined;
    const wrong = disagreement(step.prediction, actual, real.space.blockSize, unknown) ?? (step.prediction.kind === 'unit-attention' ? model.received(this.nexus, actual) : undefined);
    real.log.push({ nexus: n.name, command: step.text, expected: describePrediction(step.prediction), actual: describeResult(actual), ok: wrong === undefined });
    if (wrong !== undefined) throw new CheckFailure(`${n.name}: ${step.text}: ${wrong}`);
  }
  /** The command, for fast-check's counterexample. */
  toString(): string {
    return `[nexus ${this.nexus}] ${describeCommand(this.command, this.defect)}`;
  }
}
