/**
 * `checkTarget`: a model-based check of anything with the `execute(cdb, dataOut, { initiator })`
 * contract (an in-process LUN, or a remote LUN through the iSCSI initiator) against the reference
 * model, limited to the commands and limits the target advertises. It works in a window at the end
 * of the LUN (so the last LBA is always in play), rewriting that window at the start of every run,
 * and reports the shrunk counterexample as a list of decoded commands with what was expected and
 * what came back.
 * @module
 */
import fc from 'fast-check';
import * as cdb from '../codec/cdb-encoder.js';
import { readU32, readU64 } from '../codec/bytes.js';
import { decodeOneCommand } from '../codec/rsoc-decoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { decodeLogicalBlockProvisioning } from '../codec/vpd-decoder.js';
import { probeLun, type LunInfo } from '../host/probe.js';
import type { ScsiTarget } from '../host/target.js';
import type { MaybePromise } from '../common/maybe-promise.js';
import type { ScsiResult } from '../scsi/outcome.js';
import { commandArbitrary, defectsFor, malformedCommandArbitrary, rangeArbitrary, type CommandSpace } from './arbitraries.js';
import { KIT_OPS, describeCommand, encodeCommand, hasRange, type BlockRange, type Defect, type EncodedCommand, type KitCommand } from './commands.js';
import { InvalidArgumentError, checkOptions, checkPositiveInteger, describeValue, is, type ValueCheck } from '../common/errors.js';
import { ReferenceArray, type Expected } from './reference-array.js';

/** A check that runs after every step; returns a description of what is wrong, or nothing. */
export type Invariant = () => string | undefined | Promise<string | undefined>;

/** Options of {@link checkTarget}. */
export interface CheckTargetOptions {
  /**
   * The same LUN through other I_T nexuses (for a remote target: other iSCSI sessions). With them
   * the check also races commands between initiators (COMPARE AND WRITE atomicity, reservations).
   */
  readonly others?: readonly ScsiTarget[];
  /**
   * For an in-process LUN: initiator names passed as `options.initiator`, each its own nexus (the
   * first is the main one). Ignored when `others` is given.
   */
  readonly initiators?: readonly string[];
  /**
   * Blocks at the end of the LUN the check may change: an integer from 1 to 65,536, at most the
   * LUN's size. @defaultValue 64, or the whole LUN when it is smaller
   */
  readonly windowBlocks?: number;
  /** Runs: a positive integer. @defaultValue 100 */
  readonly numRuns?: number;
  /** Longest command sequence of a run: an integer from 1 to 10,000. @defaultValue 25 */
  readonly maxCommands?: number;
  /** fast-check seed (to replay a run): a 32-bit integer, signed or unsigned. */
  readonly seed?: number;
  /** Race commands between nexuses, when there are several. @defaultValue true */
  readonly races?: boolean;
  /** Also send malformed commands (each must be refused and change nothing). @defaultValue true */
  readonly malformed?: boolean;
  /** Checks to run after every step (see `poolAccountingExact`). */
  readonly invariants?: readonly Invariant[];
  /**
   * Restricts the commands further (the target's own list applies in any case): names from
   * {@link KIT_OPS}, as a Set or an array.
   */
  readonly ops?: ReadonlySet<KitCommand['op']> | readonly KitCommand['op'][];
}

/** The largest window {@link CheckTargetOptions.windowBlocks} allows (the model holds it in memory, and each run rewrites it). */
const MAX_WINDOW_BLOCKS = 65536;

/** Names from {@link KIT_OPS}, in a Set or an array (at least one). */
const isOps: ValueCheck = (v, what) => {
  if (!(v instanceof Set) && !Array.isArray(v)) throw new InvalidArgumentError(`${what} must be a Set or an array of command names, got ${describeValue(v)}`);
  const names = [...(v as Iterable<unknown>)];
  if (names.length === 0) throw new InvalidArgumentError(`${what} is empty; name at least one of ${KIT_OPS.join(', ')}`);
  const unknown = names.filter((n) => !(KIT_OPS as readonly unknown[]).includes(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`${what}: unknown command ${unknown.map((n) => describeValue(n)).join(', ')} (known: ${KIT_OPS.join(', ')})`);
};

/** What {@link checkTarget} accepts, option by option. */
const CHECK_TARGET_OPTIONS = {
  others: is.array(is.target),
  initiators: is.array(is.string, 1),
  windowBlocks: is.integer(1, MAX_WINDOW_BLOCKS),
  numRuns: is.positiveInteger,
  maxCommands: is.integer(1, 10_000),
  seed: is.integer(-0x80000000, 0xffffffff),
  races: is.boolean,
  malformed: is.boolean,
  invariants: is.array(is.function),
  ops: isOps,
} as const satisfies Record<keyof CheckTargetOptions, ValueCheck>;

/** The options {@link kitSetup} takes: those of {@link checkTarget} that choose the nexuses, the window and the commands. */
export type KitSetupOptions = Pick<CheckTargetOptions, 'others' | 'initiators' | 'windowBlocks' | 'ops'>;

const SETUP_OPTIONS = { others: CHECK_TARGET_OPTIONS.others, initiators: CHECK_TARGET_OPTIONS.initiators, windowBlocks: CHECK_TARGET_OPTIONS.windowBlocks, ops: CHECK_TARGET_OPTIONS.ops } as const satisfies Record<keyof KitSetupOptions, ValueCheck>;

/** One step of a run, as a counterexample lists it. */
export interface StepRecord {
  /** The nexus that sent it (several for a race). */
  readonly nexus: string;
  /** The command, decoded. */
  readonly command: string;
  /** What the model expected. */
  readonly expected: string;
  /** What came back. */
  readonly actual: string;
  /** Whether they agree. */
  readonly ok: boolean;
}

/** What the target offers, as the check found it. */
export interface TargetCapabilities {
  /** Logical block size. */
  readonly blockSize: number;
  /** Number of logical blocks. */
  readonly blockCount: number;
  /** The window the check works in. */
  readonly window: BlockRange;
  /** Commands the check sends. */
  readonly ops: readonly KitCommand['op'][];
  /** LBPRZ: unmapped blocks read zero (otherwise their content is not checked). */
  readonly unmappedReadsZero: boolean;
  /** Number of nexuses. */
  readonly nexuses: number;
}

/** A shrunk counterexample. */
export interface Counterexample {
  /** The steps of the failing run, up to and including the one that failed. */
  readonly steps: readonly StepRecord[];
  /** What failed. */
  readonly failure: string;
}

/** The result of {@link checkTarget}. */
export interface CheckReport {
  /** True when every run agreed with the model. */
  readonly passed: boolean;
  /** Runs executed. */
  readonly runs: number;
  /** Commands executed, over all runs (shrinking included). */
  readonly commands: number;
  /** What the target offers. */
  readonly capabilities: TargetCapabilities;
  /** fast-check seed of the check. */
  readonly seed: number;
  /** fast-check path of the counterexample. */
  readonly path?: string;
  /** The shrunk counterexample, when a run failed. */
  readonly counterexample?: Counterexample;
}

/** One I_T nexus to the LUN under test. */
export interface KitNexus {
  /** A name for reports. */
  readonly name: string;
  /** Executes a command through this nexus. */
  execute(c: Uint8Array, dataOut?: Uint8Array): MaybePromise<ScsiResult>;
}

/** What a step should answer. */
type Prediction =
  | { readonly kind: 'exact'; readonly expected: Expected }
  | { readonly kind: 'refused'; readonly keys: readonly number[]; readonly ascs?: readonly number[]; readonly text: string }
  | { readonly kind: 'conflict' }
  /** GOOD with Data-In of a shape `test` checks (what the model cannot give byte for byte). */
  | { readonly kind: 'shape'; readonly text: string; readonly test: (data: Uint8Array) => string | undefined }
  | { readonly kind: 'skip' };

const RESERVATION_CONFLICT = 0x18;

// ---- the model of the LUN's window ------------------------------------------------------------------------

/** Commands that touch no medium: targets differ in how a SCSI-2 reservation of another nexus treats them. */
const NO_MEDIUM: ReadonlySet<KitCommand['op']> = new Set(['TEST UNIT READY', 'READ CAPACITY(16)', 'RECEIVE COPY RESULTS', 'GET LBA STATUS', 'SYNCHRONIZE CACHE(16)']);

/**
 * The model of the LUN's window: the reference array (one thin LUN the size of the window, a pool
 * that never runs out), the SCSI-2 reservation holder, and blocks whose content is unknown
 * (unmapped where the LUN does not promise zeros).
 */
export class KitModel {
  /** The reference array holding the window's data (model LBA 0 is the window's first block). */
  ref: ReferenceArray;
  /** Nexus index holding a RESERVE(6), if any. */
  holder: number | undefined;
  /** Model LBAs whose content is unknown (unmapped with LBPRZ = 0). */
  readonly unknown: Set<number>;

  /**
   * @param first - the window's first LBA on the LUN
   * @param blocks - the window's length in blocks (it ends at the LUN's last LBA)
   * @param blockSize - logical block size
   * @param lbprz - unmapped blocks read zero
   * @param from - a model to copy the state of
   */
  constructor(
    /** The window's first LBA. */
    readonly first: number,
    /** The window's length in blocks. */
    readonly blocks: number,
    /** Logical block size. */
    readonly blockSize: number,
    /** LBPRZ. */
    readonly lbprz: boolean,
    from?: KitModel,
  ) {
    this.ref = from?.ref.clone() ?? new ReferenceArray({ blockSize, unitBlocks: 1, capacityUnits: Number.MAX_SAFE_INTEGER, share: false, luns: [{ thin: true, blockCount: blocks }] });
    this.holder = from?.holder;
    this.unknown = new Set(from?.unknown);
  }

  /** An independent copy in the same state. */
  clone(): KitModel {
    return new KitModel(this.first, this.blocks, this.blockSize, this.lbprz, this);
  }

  /** Takes the state of `other` (a clone of this model that went another way). */
  become(other: KitModel): void {
    this.ref = other.ref;
    this.holder = other.holder;
    this.unknown.clear();
    for (const b of other.unknown) this.unknown.add(b);
  }

  /** What the medium holds over `r` (real LBAs), per the model. */
  current(r: BlockRange): Uint8Array {
    return this.ref.read16(0, r.lba - this.first, r.blocks).data?.slice() ?? new Uint8Array(r.blocks * this.blockSize);
  }

  /** Whether any block of `r` has unknown content. */
  touchesUnknown(r: BlockRange): boolean {
    for (let i = 0; i < r.blocks; i++) if (this.unknown.has(r.lba - this.first + i)) return true;
    return false;
  }

  /** Adopts what the target returned for unknown blocks of `r`. */
  adopt(r: BlockRange, data: Uint8Array): void {
    this.ref.write16(0, r.lba - this.first, data);
    for (let i = 0; i < r.blocks; i++) this.unknown.delete(r.lba - this.first + i);
  }

  #known(lba: number, blocks: number): void {
    for (let i = 0; i < blocks; i++) this.unknown.delete(lba + i);
  }

  #forget(lba: number, blocks: number): void {
    if (this.lbprz) return;
    for (let i = 0; i < blocks; i++) this.unknown.add(lba + i);
  }

  /**
   * Predicts the answer to `command` from nexus `nexus` and applies its effect.
   * @internal
   */
  predict(nexus: number, command: KitCommand, encoded: EncodedCommand, defect: Defect | undefined): Prediction {
    const other = this.holder !== undefined && this.holder !== nexus;
    if (other && command.op !== 'INQUIRY') {
      // SPC-2 5.5.1: INQUIRY and RELEASE are allowed under another initiator's reservation (RELEASE
      // then does nothing); media access conflicts.
      if (command.op === 'RELEASE(6)') return { kind: 'exact', expected: { status: 0 } };
      // Commands that touch no medium, and the order of the checks of a malformed command against
      // a reservation, differ between targets: not checked.
      if (NO_MEDIUM.has(command.op) || defect !== undefined) return { kind: 'skip' };
      return { kind: 'conflict' };
    }
    if (defect !== undefined) return refusal(defect);
    const m = (lba: number) => lba - this.first;
    const bs = this.blockSize;
    switch (command.op) {
      case 'TEST UNIT READY':
        return { kind: 'exact', expected: { status: 0 } };
      case 'RESERVE(6)':
        this.holder = nexus;
        return { kind: 'exact', expected: { status: 0 } };
      case 'RELEASE(6)':
        this.holder = undefined;
        return { kind: 'exact', expected: { status: 0 } };
      case 'READ(10)':
      case 'READ(16)':
        return { kind: 'exact', expected: this.ref.read16(0, m(command.lba), command.blocks) };
      case 'WRITE(10)':
      case 'WRITE(16)':
        this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected: this.ref.write16(0, m(command.lba), encoded.dataOut ?? new Uint8Array(0)) };
      case 'SYNCHRONIZE CACHE(16)':
        return { kind: 'exact', expected: { status: 0 } };
      case 'GET LBA STATUS': {
        const lba = command.lba;
        return {
          kind: 'shape',
          text: `GOOD, a first descriptor starting at LBA ${lba}`,
          test: (d) => (d.length < 24 ? `${d.length} bytes of parameter data, not 24` : readU64(d, 8) !== lba ? `the first descriptor starts at LBA ${readU64(d, 8)}` : undefined),
        };
      }
      case 'READ CAPACITY(16)': {
        const last = this.first + this.blocks - 1;
        return {
          kind: 'shape',
          text: `GOOD, RETURNED LOGICAL BLOCK ADDRESS ${last}, block length ${bs}`,
          test: (d) => (d.length < 12 ? `${d.length} bytes` : readU64(d, 0) !== last || readU32(d, 8) !== bs ? `last LBA ${readU64(d, 0)}, block length ${readU32(d, 8)}` : undefined),
        };
      }
      case 'INQUIRY':
        return { kind: 'shape', text: 'GOOD, a direct access block device', test: (d) => (d.length < 36 ? `${d.length} bytes of INQUIRY data` : (d[0]! & 0x1f) !== 0 ? `PERIPHERAL DEVICE TYPE ${d[0]! & 0x1f}` : undefined) };
      case 'RECEIVE COPY RESULTS':
        return { kind: 'shape', text: 'GOOD, operating parameters', test: (d) => (d.length < 44 ? `${d.length} bytes of operating parameters` : undefined) };
      case 'WRITE SAME(10)':
      case 'WRITE SAME(16)': {
        const expected = this.ref.writeSame16(0, m(command.lba), command.blocks, command.unmap, encoded.dataOut);
        if (command.unmap) this.#forget(m(command.lba), command.blocks);
        else this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected };
      }
      case 'UNMAP': {
        const expected = this.ref.unmap(0, command.ranges.map((r) => ({ lba: m(r.lba), blocks: r.blocks })));
        for (const r of command.ranges) this.#forget(m(r.lba), r.blocks);
        return { kind: 'exact', expected };
      }
      case 'COMPARE AND WRITE': {
        const half = command.blocks * bs;
        const data = encoded.dataOut!;
        const expected = this.ref.compareAndWrite(0, m(command.lba), data.subarray(0, half), data.subarray(half));
        if (expected.status === 0) this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected };
      }
      case 'EXTENDED COPY': {
        const expected = this.ref.extendedCopy(command.segments.map((s) => ({ src: 0, dst: 0, srcLba: m(s.srcLba), dstLba: m(s.dstLba), blocks: s.blocks })));
        if (expected.status === 0) for (const s of command.segments) this.#known(m(s.dstLba), s.blocks);
        return { kind: 'exact', expected };
      }
    }
  }
}

/** What a malformed command must get: CHECK CONDITION with these sense keys (and ASCs), and no change. */
function refusal(defect: Defect): Prediction {
  switch (defect) {
    case 'lba-beyond-end':
      return { kind: 'refused', keys: [0x05], ascs: [0x21], text: 'CHECK CONDITION 05/21/xx (LOGICAL BLOCK ADDRESS OUT OF RANGE)' };
    case 'over-limit':
    case 'unsupported-ndob':
      return { kind: 'refused', keys: [0x05], ascs: [0x24], text: 'CHECK CONDITION 05/24/xx (INVALID FIELD IN CDB)' };
    case 'too-many-descriptors':
    case 'short-parameter-list':
      return { kind: 'refused', keys: [0x05], ascs: [0x1a, 0x24, 0x26], text: 'CHECK CONDITION ILLEGAL REQUEST (parameter list error)' };
    case 'bad-segment-type':
    case 'bad-cscd-type':
      return { kind: 'refused', keys: [0x05], ascs: [0x26], text: 'CHECK CONDITION 05/26/xx (unsupported descriptor type code)' };
    case 'cscd-index-beyond-list':
      return { kind: 'refused', keys: [0x05, 0x0a], text: 'CHECK CONDITION ILLEGAL REQUEST or COPY ABORTED' };
  }
}

// ---- outcomes as text, and comparing them -----------------------------------------------------------------

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** A result as one line: status, sense and the amount of Data-In. */
export function describeResult(r: ScsiResult): string {
  if (r.status === 0) return r.data !== undefined && r.data.length > 0 ? `GOOD, ${r.data.length} bytes` : 'GOOD';
  if (r.status === RESERVATION_CONFLICT) return 'RESERVATION CONFLICT';
  if (r.status === 0x02) {
    const s = decodeSense(r.sense);
    if (s === undefined) return 'CHECK CONDITION (no sense)';
    return `CHECK CONDITION ${hex2(s.key)}/${hex2(s.asc)}/${hex2(s.ascq)}${s.information === undefined ? '' : ` INFORMATION ${s.information}`}`;
  }
  return `status ${hex2(r.status)}h`;
}

function describePrediction(p: Prediction): string {
  switch (p.kind) {
    case 'exact': {
      const e = p.expected;
      if (e.status === 0) return e.data !== undefined && e.data.length > 0 ? `GOOD, ${e.data.length} bytes` : 'GOOD';
      const s = e.sense!;
      return `CHECK CONDITION ${hex2(s.key)}/${hex2(s.asc)}/${hex2(s.ascq)}${s.information === undefined ? '' : ` INFORMATION ${s.information}`}`;
    }
    case 'refused':
      return `${p.text}, nothing changed`;
    case 'conflict':
      return 'RESERVATION CONFLICT';
    case 'shape':
      return p.text;
    case 'skip':
      return 'not checked';
  }
}

/** Why `actual` does not agree with `p`, or undefined when it does. `unknown` masks blocks of a read. */
function disagreement(p: Prediction, actual: ScsiResult, blockSize: number, unknownBlock?: (i: number) => boolean): string | undefined {
  switch (p.kind) {
    case 'skip':
      return undefined;
    case 'conflict':
      return actual.status === RESERVATION_CONFLICT ? undefined : `expected RESERVATION CONFLICT, got ${describeResult(actual)}`;
    case 'shape': {
      if (actual.status !== 0) return `expected ${p.text}, got ${describeResult(actual)}`;
      const wrong = p.test(actual.data ?? new Uint8Array(0));
      return wrong === undefined ? undefined : `expected ${p.text}: ${wrong}`;
    }
    case 'refused': {
      const s = decodeSense(actual.sense);
      if (actual.status !== 0x02 || s === undefined || !p.keys.includes(s.key) || (p.ascs !== undefined && !p.ascs.includes(s.asc))) {
        return `expected ${p.text}, got ${describeResult(actual)}`;
      }
      return undefined;
    }
    case 'exact': {
      const e = p.expected;
      if (actual.status !== e.status) return `expected ${describePrediction(p)}, got ${describeResult(actual)}`;
      if (e.status !== 0) {
        const s = decodeSense(actual.sense);
        const w = e.sense!;
        if (s === undefined || s.key !== w.key || s.asc !== w.asc || s.ascq !== w.ascq || (w.information !== undefined && s.information !== w.information)) {
          return `expected ${describePrediction(p)}, got ${describeResult(actual)}`;
        }
        return undefined;
      }
      if (e.data === undefined) return undefined;
      const got = actual.data ?? new Uint8Array(0);
      if (got.length !== e.data.length) return `expected ${e.data.length} bytes of Data-In, got ${got.length}`;
      for (let i = 0; i < got.length; i++) {
        if (got[i] !== e.data[i] && !(unknownBlock?.(Math.floor(i / blockSize)) ?? false)) {
          return `Data-In differs at byte ${i} (block ${Math.floor(i / blockSize)} of the read): expected ${hex2(e.data[i]!)}h, got ${hex2(got[i]!)}h`;
        }
      }
      return undefined;
    }
  }
}

// ---- the commands of the model-based run --------------------------------------------------------------

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

type Real = KitSystem;

class CheckFailure extends Error {}

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

async function settleUnknown(model: KitModel, real: Real, nexus: number, ranges: readonly BlockRange[]): Promise<void> {
  for (const r of unknownRanges(model, ranges)) adoptRead(model, real, nexus, r, await real.nexuses[nexus]!.execute(cdb.read16(r)));
}

function sync(r: MaybePromise<ScsiResult>): ScsiResult {
  if (r instanceof Promise) throw new TypeError('fc.modelRun needs a target that answers synchronously (an in-process Lun); use fc.asyncModelRun');
  return r;
}

function settleUnknownSync(model: KitModel, real: Real, nexus: number, ranges: readonly BlockRange[]): void {
  for (const r of unknownRanges(model, ranges)) adoptRead(model, real, nexus, r, sync(real.nexuses[nexus]!.execute(cdb.read16(r))));
}

function rangesRead(c: KitCommand): BlockRange[] {
  if (c.op === 'COMPARE AND WRITE') return [c];
  if (c.op === 'EXTENDED COPY') return c.segments.map((s) => ({ lba: s.srcLba, blocks: s.blocks }));
  return [];
}

function invariantBroken(real: Real, after: string, wrong: string): never {
  real.log.push({ nexus: '-', command: `invariant after ${after}`, expected: 'holds', actual: wrong, ok: false });
  throw new CheckFailure(`invariant broken after ${after}: ${wrong}`);
}

async function runInvariants(real: Real, after: string): Promise<void> {
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
    return this.defect === undefined && (model.holder === undefined || model.holder === this.nexus);
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
    const unknown = c.op === 'READ(16)' || c.op === 'READ(10)' ? (i: number) => step.unknownBefore.has(c.lba - model.first + i) : undefined;
    const wrong = disagreement(step.prediction, actual, real.space.blockSize, unknown);
    real.log.push({ nexus: n.name, command: step.text, expected: describePrediction(step.prediction), actual: describeResult(actual), ok: wrong === undefined });
    if (wrong !== undefined) throw new CheckFailure(`${n.name}: ${step.text}: ${wrong}`);
  }
  /** The command, for fast-check's counterexample. */
  toString(): string {
    return `[nexus ${this.nexus}] ${describeCommand(this.command, this.defect)}`;
  }
}

/** One command of a race. */
export interface RaceStep {
  /** Index of the nexus that sends it. */
  readonly nexus: number;
  /** The command. */
  readonly command: KitCommand;
}

/**
 * Commands sent at once from different nexuses; the order they start in comes from a fast-check
 * scheduler. It passes when some order of the commands explains every answer and the window read back.
 */
export class RaceCommand implements fc.AsyncCommand<KitModel, KitSystem> {
  /**
   * @param steps - the commands and the nexus of each
   * @param scheduler - decides the order the commands start in
   */
  constructor(
    readonly steps: readonly RaceStep[],
    readonly scheduler: fc.Scheduler,
  ) {}
  /** Every race may run in every state. */
  check(): boolean {
    return true;
  }
  /** Races the commands, then checks the answers and the window against every order of them. */
  async run(model: KitModel, real: Real): Promise<void> {
    for (const s of this.steps) if (model.holder === undefined || model.holder === s.nexus) await settleUnknown(model, real, s.nexus, rangesRead(s.command));
    const encoded = this.steps.map((s) => encodeCommand(s.command, real.space, (r) => model.current(r)));
    const started = this.steps.map((s, i) => this.scheduler.schedule(Promise.resolve(i), `start ${describeCommand(s.command)} from ${real.nexuses[s.nexus]!.name}`).then(() => real.nexuses[s.nexus]!.execute(encoded[i]!.cdb, encoded[i]!.dataOut)));
    await this.scheduler.waitAll();
    const results = await Promise.all(started);
    real.count += results.length;
    // The state the race left: read the window back through a nexus that may read it.
    let reader = -1;
    let contents: Uint8Array | undefined;
    for (let i = 0; i < real.nexuses.length && reader < 0; i++) {
      const r = await real.nexuses[i]!.execute(cdb.read16({ lba: model.first, blocks: model.blocks }));
      if (r.status === 0 && r.data !== undefined) {
        reader = i;
        contents = r.data;
      }
    }
    const label = this.steps.map((s) => `${real.nexuses[s.nexus]!.name}: ${describeCommand(s.command)}`).join(' | ');
    // Linearizability: some order of the racing commands gives every answer and the contents read back.
    const reasons: string[] = [];
    for (const order of permutations(this.steps.length)) {
      const trial = model.clone();
      let wrong: string | undefined;
      for (const i of order) {
        const p = trial.predict(this.steps[i]!.nexus, this.steps[i]!.command, encoded[i]!, undefined);
        wrong = disagreement(p, results[i]!, real.space.blockSize);
        if (wrong !== undefined) {
          wrong = `in the order ${order.join(',')}: step ${i} ${wrong}`;
          break;
        }
      }
      if (wrong === undefined) {
        const holderOk = reader === 0 ? trial.holder === undefined || trial.holder === 0 : trial.holder === reader;
        if (!holderOk) wrong = `in the order ${order.join(',')}: the reservation is held by another nexus than the model's`;
      }
      if (wrong === undefined && contents !== undefined) {
        const want = trial.current({ lba: model.first, blocks: model.blocks });
        for (let b = 0; b < contents.length && wrong === undefined; b++) {
          if (contents[b] !== want[b] && !trial.unknown.has(Math.floor(b / model.blockSize))) wrong = `in the order ${order.join(',')}: the window differs at LBA ${model.first + Math.floor(b / model.blockSize)}`;
        }
      }
      if (wrong === undefined) {
        model.become(trial);
        real.log.push({ nexus: 'race', command: label, expected: `answers of the order ${order.join(',')}`, actual: results.map(describeResult).join(' | '), ok: true });
        await runInvariants(real, `race ${label}`);
        return;
      }
      reasons.push(wrong);
    }
    real.log.push({ nexus: 'race', command: label, expected: 'the answers of some order of the commands', actual: results.map(describeResult).join(' | '), ok: false });
    throw new CheckFailure(`race ${label}: no order of the commands explains the answers (${reasons.join('; ')})`);
  }
  /** The race, for fast-check's counterexample. */
  toString(): string {
    return `[race] ${this.steps.map((s) => `nexus ${s.nexus}: ${describeCommand(s.command)}`).join(' | ')}`;
  }
}

function permutations(n: number): number[][] {
  if (n <= 1) return [[0].slice(0, n)];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) for (let at = 0; at <= rest.length; at++) out.push([...rest.slice(0, at), n - 1, ...rest.slice(at)]);
  return out;
}

// ---- capabilities ----------------------------------------------------------------------------------------

/**
 * What WRITE SAME(16) takes: UNMAP needs LBPWS (VPD B2h) and, like NDOB, a set bit in the CDB USAGE
 * DATA of REPORT SUPPORTED OPERATION CODES (one command). Without that report, NDOB is not sent.
 */
async function writeSameBits(target: KitNexus): Promise<{ unmap: boolean; unmap10: boolean; ndob: boolean }> {
  const b2 = await target.execute(cdb.inquiry({ page: 0xb2, allocationLength: 64 }));
  const page = b2.status === 0 && b2.data !== undefined ? decodeLogicalBlockProvisioning(b2.data) : undefined;
  const lbp = page?.ok === true ? page.value : undefined;
  /** The CDB USAGE DATA of `opcode`, or undefined when it is not reported as supported. */
  const usage = async (opcode: number): Promise<Uint8Array | undefined> => {
    const one = await target.execute(cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode, allocationLength: 64 }));
    const report = one.status === 0 && one.data !== undefined ? decodeOneCommand(one.data) : undefined;
    return report?.ok === true && report.value.support === 0b011 && report.value.cdbSize >= 2 ? report.value.cdbUsageData : undefined;
  };
  const [u16, u10] = [await usage(0x93), await usage(0x41)];
  // Byte 1 of the WRITE SAME(10) and WRITE SAME(16) CDBs: UNMAP is bit 3, NDOB bit 0 (SBC-3).
  return {
    unmap: lbp?.lbpws === true && (u16 === undefined || (u16[1]! & 0x08) !== 0),
    unmap10: lbp?.lbpws10 === true && (u10 === undefined || (u10[1]! & 0x08) !== 0),
    ndob: u16 !== undefined && (u16[1]! & 0x01) !== 0,
  };
}

function opsOf(info: LunInfo, restrict: ReadonlySet<KitCommand['op']> | undefined): Set<KitCommand['op']> {
  const s = info.supported;
  const listed = (opcode: number, sa?: number): boolean => s === undefined || s.has(sa === undefined ? String(opcode) : `${opcode}/${sa}`) || s.has(String(opcode));
  const ops = new Set<KitCommand['op']>(['TEST UNIT READY', 'INQUIRY', 'READ CAPACITY(16)']);
  if (listed(0x28)) ops.add('READ(10)');
  if (listed(0x88)) ops.add('READ(16)');
  if (listed(0x2a)) ops.add('WRITE(10)');
  if (listed(0x8a)) ops.add('WRITE(16)');
  if (s !== undefined && s.has(String(0x41))) ops.add('WRITE SAME(10)');
  if (s !== undefined && s.has(String(0x93))) ops.add('WRITE SAME(16)');
  if (s !== undefined && s.has(String(0x91))) ops.add('SYNCHRONIZE CACHE(16)');
  if (info.thin && s !== undefined && s.has(`${0x9e}/${0x12}`)) ops.add('GET LBA STATUS');
  if (info.thin && info.maxUnmapBlocks > 0 && listed(0x42)) ops.add('UNMAP');
  if (info.maxCompareAndWriteBlocks > 0 && listed(0x89)) ops.add('COMPARE AND WRITE');
  if (info.copyManager !== undefined && info.designator !== undefined && listed(0x83)) {
    ops.add('EXTENDED COPY');
    ops.add('RECEIVE COPY RESULTS');
  }
  if (s !== undefined && s.has(String(0x16)) && s.has(String(0x17))) {
    ops.add('RESERVE(6)');
    ops.add('RELEASE(6)');
  }
  return restrict === undefined ? ops : new Set([...ops].filter((o) => restrict.has(o)));
}

// ---- checkTarget ---------------------------------------------------------------------------------------

/** What {@link kitSetup} found: the nexuses, where commands may go, and what the target offers. */
export interface KitSetup {
  /** The LUN through each nexus. */
  readonly nexuses: readonly KitNexus[];
  /** Commands, limits and the window. */
  readonly space: CommandSpace;
  /** What the target offers. */
  readonly capabilities: TargetCapabilities;
}

/**
 * Probes `target` (clearing pending unit attentions on every nexus) and works out the command space
 * for {@link kitCommands}: what {@link checkTarget} does before it runs, for your own property.
 */
export async function kitSetup(target: ScsiTarget, options: KitSetupOptions = {}): Promise<KitSetup> {
  is.target(target, 'kitSetup: target');
  checkOptions(options, SETUP_OPTIONS, 'kitSetup');
  return await setUp(target, options, 'kitSetup');
}

/** {@link kitSetup} on checked options; `where` names the caller in errors. */
async function setUp(target: ScsiTarget, options: KitSetupOptions, where: string): Promise<KitSetup> {
  const nexuses: KitNexus[] =
    options.others !== undefined
      ? [target, ...options.others].map((t, i) => ({ name: `nexus ${i}`, execute: (c, d) => t.execute(c, d) }))
      : (options.initiators ?? ['vaai-sim-check']).map((name) => ({ name, execute: (c, d) => target.execute(c, d, { initiator: name }) }));
  // Clear pending unit attentions (a reset, a new session) on every nexus.
  for (const n of nexuses) for (let i = 0; i < 10 && (await n.execute(cdb.testUnitReady())).status === 0x02; i++);
  const info = await probeLun(target, options.others === undefined ? nexuses[0]!.name : undefined);
  if (options.windowBlocks !== undefined && options.windowBlocks > info.blockCount) {
    throw new InvalidArgumentError(`${where}: windowBlocks must be at most the LUN's ${info.blockCount} blocks, got ${options.windowBlocks}`);
  }
  const windowBlocks = options.windowBlocks ?? Math.min(64, info.blockCount);
  const first = info.blockCount - windowBlocks;
  const ops = opsOf(info, options.ops === undefined ? undefined : new Set(options.ops));
  if (ops.size === 0) throw new InvalidArgumentError(`${where}: the target offers none of the ops asked for (${[...options.ops!].join(', ')})`);
  const ws = await writeSameBits(nexuses[0]!);
  const maxBlocks = Math.max(1, Math.min(16, windowBlocks, info.maxTransferBlocks || 16));
  const space: CommandSpace = {
    blockSize: info.blockSize,
    blockCount: info.blockCount,
    first,
    maxBlocks,
    ops,
    ...(info.designator === undefined ? {} : { designator: info.designator }),
    maxCompareAndWriteBlocks: info.maxCompareAndWriteBlocks,
    maxWriteSameBlocks: info.maxWriteSameBlocks,
    maxUnmapDescriptors: info.maxUnmapDescriptors,
    maxSegments: info.copyManager?.maxSegmentDescriptors ?? 4,
    writeSameNdob: ws.ndob,
    writeSameUnmap: ws.unmap,
    writeSame10Unmap: ws.unmap10,
  };
  const capabilities: TargetCapabilities = { blockSize: info.blockSize, blockCount: info.blockCount, window: { lba: first, blocks: windowBlocks }, ops: [...ops], unmappedReadsZero: info.unmappedReadsZero, nexuses: nexuses.length };
  return { nexuses, space, capabilities };
}

/**
 * Runs the model-based suite against `target`, limited to what it advertises (VPD B0h, B2h, 83h,
 * the copy manager's operating parameters, REPORT SUPPORTED OPERATION CODES). Changes only the
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
  // Leave no reservation behind.
  if (ops.has('RELEASE(6)')) for (const n of nexuses) await n.execute(cdb.release6());
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

/** Races: COMPARE AND WRITEs of one range from several nexuses (one must win), RESERVE races, or any commands. */
function raceArbitrary(space: CommandSpace, nexusCount: number): fc.Arbitrary<RaceCommand> {
  const who = fc.shuffledSubarray(Array.from({ length: nexusCount }, (_, i) => i), { minLength: 2, maxLength: Math.min(3, nexusCount) });
  const kinds: Array<fc.Arbitrary<ReadonlyArray<{ nexus: number; command: KitCommand }>>> = [];
  if (space.ops?.has('COMPARE AND WRITE') === true) {
    const max = Math.max(1, Math.min(space.maxCompareAndWriteBlocks ?? 1, 4));
    kinds.push(
      fc.tuple(who, rangeArbitrary(space, 1, max), fc.array(fc.integer({ min: 1, max: 0x7fffffff }), { minLength: 3, maxLength: 3 })).map(([ns, r, seeds]) =>
        ns.map((nexus, i) => ({ nexus, command: { op: 'COMPARE AND WRITE' as const, ...r, seed: seeds[i]!, miscompareAt: null } })),
      ),
    );
  }
  if (space.ops?.has('RESERVE(6)') === true) kinds.push(who.map((ns) => ns.map((nexus) => ({ nexus, command: { op: 'RESERVE(6)' as const } }))));
  // Mixes touch disjoint blocks: SBC makes no multi-block command atomic except COMPARE AND WRITE,
  // so racing overlapping ones may interleave block by block, which no order of whole commands
  // explains. What races here is a reservation against media access, and commands that do not meet.
  kinds.push(
    fc
      .tuple(who, fc.array(commandArbitrary(space), { minLength: 3, maxLength: 3 }))
      .map(([ns, cs]) => ns.map((nexus, i) => ({ nexus, command: cs[i]! })))
      .filter((steps) => disjoint(steps.map((s) => footprint(s.command)))),
  );
  return fc.tuple(fc.oneof(...kinds), fc.scheduler()).map(([steps, s]) => new RaceCommand(steps, s));
}

/** The blocks a command reads or writes. */
function footprint(c: KitCommand): BlockRange[] {
  if (hasRange(c)) return c.op === 'SYNCHRONIZE CACHE(16)' ? [] : [c];
  switch (c.op) {
    case 'UNMAP':
      return [...c.ranges];
    case 'EXTENDED COPY':
      return c.segments.flatMap((s) => [{ lba: s.srcLba, blocks: s.blocks }, { lba: s.dstLba, blocks: s.blocks }]);
    default:
      return [];
  }
}

/** Whether no two commands' footprints share a block. */
function disjoint(footprints: readonly BlockRange[][]): boolean {
  for (let i = 0; i < footprints.length; i++) {
    for (let j = i + 1; j < footprints.length; j++) {
      for (const a of footprints[i]!) for (const b of footprints[j]!) if (a.blocks > 0 && b.blocks > 0 && a.lba < b.lba + b.blocks && b.lba < a.lba + a.blocks) return false;
    }
  }
  return true;
}

/** The report as text: what was checked, and the counterexample step by step. */
export function formatReport(report: CheckReport): string {
  const c = report.capabilities;
  const lines = [
    `checkTarget: ${report.passed ? 'PASSED' : 'FAILED'} after ${report.runs} runs, ${report.commands} commands (seed ${report.seed}${report.path === undefined ? '' : `, path ${report.path}`})`,
    `  LUN: ${c.blockCount} blocks of ${c.blockSize} bytes; window LBA ${c.window.lba}..${c.window.lba + c.window.blocks - 1}; ${c.nexuses} nexus(es); LBPRZ ${c.unmappedReadsZero ? 1 : 0}`,
    `  commands: ${c.ops.join(', ')}`,
  ];
  const x = report.counterexample;
  if (x !== undefined) {
    lines.push(`  counterexample (${x.steps.length} steps):`);
    x.steps.forEach((s, i) => lines.push(`  ${String(i + 1).padStart(3)}. ${s.ok ? '  ' : '✗ '}[${s.nexus}] ${s.command}`, `         expected: ${s.expected}`, `         actual:   ${s.actual}`));
    lines.push(`  failure: ${x.failure}`);
  }
  return lines.join('\n');
}
