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
import { decodeSense } from '../codec/sense-decoder.js';
import { probeLun, type LunInfo } from '../host/probe.js';
import type { ScsiTarget } from '../host/target.js';
import type { ScsiResult } from '../scsi/outcome.js';
import { commandArbitrary, defectsFor, malformedCommandArbitrary, rangeArbitrary, type CommandSpace } from './arbitraries.js';
import { describeCommand, encodeCommand, type BlockRange, type Defect, type EncodedCommand, type KitCommand } from './commands.js';
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
  /** Blocks at the end of the LUN the check may change. @defaultValue 64 */
  readonly windowBlocks?: number;
  /** Runs. @defaultValue 100 */
  readonly numRuns?: number;
  /** Longest command sequence of a run. @defaultValue 25 */
  readonly maxCommands?: number;
  /** fast-check seed (to replay a run). */
  readonly seed?: number;
  /** Race commands between nexuses, when there are several. @defaultValue true */
  readonly races?: boolean;
  /** Also send malformed commands (each must be refused and change nothing). @defaultValue true */
  readonly malformed?: boolean;
  /** Checks to run after every step (see `poolAccountingExact`). */
  readonly invariants?: readonly Invariant[];
  /** Restricts the commands further (the target's own list applies in any case). */
  readonly ops?: ReadonlySet<KitCommand['op']>;
}

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

interface Nexus {
  readonly name: string;
  execute(c: Uint8Array, dataOut?: Uint8Array): Promise<ScsiResult>;
}

/** What a step should answer. */
type Prediction =
  | { readonly kind: 'exact'; readonly expected: Expected }
  | { readonly kind: 'refused'; readonly keys: readonly number[]; readonly ascs?: readonly number[]; readonly text: string }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'skip' };

const RESERVATION_CONFLICT = 0x18;

// ---- the model of the LUN's window ------------------------------------------------------------------------

class WindowModel {
  ref: ReferenceArray;
  /** Nexus index holding a RESERVE(6), if any. */
  holder: number | undefined;
  /** Model LBAs whose content is unknown (unmapped with LBPRZ = 0). */
  readonly unknown: Set<number>;

  constructor(
    readonly first: number,
    readonly blocks: number,
    readonly blockSize: number,
    readonly lbprz: boolean,
    from?: WindowModel,
  ) {
    this.ref = from?.ref.clone() ?? new ReferenceArray({ blockSize, unitBlocks: 1, capacityUnits: Number.MAX_SAFE_INTEGER, share: false, luns: [{ thin: true, blockCount: blocks }] });
    this.holder = from?.holder;
    this.unknown = new Set(from?.unknown);
  }

  clone(): WindowModel {
    return new WindowModel(this.first, this.blocks, this.blockSize, this.lbprz, this);
  }

  /** Takes the state of `other` (a clone of this model that went another way). */
  become(other: WindowModel): void {
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

  /** Predicts the answer to `command` from nexus `nexus` and applies its effect. */
  predict(nexus: number, command: KitCommand, encoded: EncodedCommand, defect: Defect | undefined): Prediction {
    const other = this.holder !== undefined && this.holder !== nexus;
    if (other) {
      if (command.op === 'RELEASE(6)') return { kind: 'exact', expected: { status: 0 } };
      // TEST UNIT READY under another's reservation, and the order of the checks of a malformed
      // command against a reservation, differ between targets (SPC-2 leaves them open).
      if (command.op === 'TEST UNIT READY' || defect !== undefined) return { kind: 'skip' };
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
      case 'READ(16)':
        return { kind: 'exact', expected: this.ref.read16(0, m(command.lba), command.blocks) };
      case 'WRITE(16)':
        this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected: this.ref.write16(0, m(command.lba), encoded.dataOut ?? new Uint8Array(0)) };
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

/** The system under test, with the log of the current run. */
interface Real {
  readonly nexuses: readonly Nexus[];
  readonly space: CommandSpace;
  readonly invariants: readonly Invariant[];
  readonly log: StepRecord[];
  count: number;
}

class CheckFailure extends Error {}

async function settleUnknown(model: WindowModel, real: Real, nexus: number, ranges: readonly BlockRange[]): Promise<void> {
  if (model.lbprz) return;
  for (const r of ranges) {
    if (r.blocks === 0 || !model.touchesUnknown(r)) continue;
    const got = await real.nexuses[nexus]!.execute(cdb.read16(r));
    if (got.status === 0 && got.data !== undefined && got.data.length === r.blocks * model.blockSize) {
      real.log.push({ nexus: real.nexuses[nexus]!.name, command: `READ(16) lba ${r.lba} blocks ${r.blocks} (content of unmapped blocks, LBPRZ = 0)`, expected: 'any', actual: describeResult(got), ok: true });
      model.adopt(r, got.data);
    }
  }
}

function rangesRead(c: KitCommand): BlockRange[] {
  if (c.op === 'COMPARE AND WRITE') return [c];
  if (c.op === 'EXTENDED COPY') return c.segments.map((s) => ({ lba: s.srcLba, blocks: s.blocks }));
  return [];
}

async function runInvariants(real: Real, after: string): Promise<void> {
  for (const inv of real.invariants) {
    const wrong = await inv();
    if (wrong !== undefined) {
      real.log.push({ nexus: '-', command: `invariant after ${after}`, expected: 'holds', actual: wrong, ok: false });
      throw new CheckFailure(`invariant broken after ${after}: ${wrong}`);
    }
  }
}

class StepCommand implements fc.AsyncCommand<WindowModel, Real> {
  constructor(
    readonly nexus: number,
    readonly command: KitCommand,
    readonly defect: Defect | undefined,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: WindowModel, real: Real): Promise<void> {
    const n = real.nexuses[this.nexus]!;
    if (this.defect === undefined && (model.holder === undefined || model.holder === this.nexus)) await settleUnknown(model, real, this.nexus, rangesRead(this.command));
    const encoded = encodeCommand(this.command, real.space, (r) => model.current(r), this.defect);
    const unknownBefore = new Set(model.unknown);
    const prediction = model.predict(this.nexus, this.command, encoded, this.defect);
    const actual = await n.execute(encoded.cdb, encoded.dataOut);
    real.count++;
    const c = this.command;
    const unknown = c.op === 'READ(16)' ? (i: number) => unknownBefore.has(c.lba - model.first + i) : undefined;
    const wrong = disagreement(prediction, actual, real.space.blockSize, unknown);
    const text = describeCommand(this.command, this.defect);
    real.log.push({ nexus: n.name, command: text, expected: describePrediction(prediction), actual: describeResult(actual), ok: wrong === undefined });
    if (wrong !== undefined) throw new CheckFailure(`${n.name}: ${text}: ${wrong}`);
    await runInvariants(real, text);
  }
  toString(): string {
    return `[nexus ${this.nexus}] ${describeCommand(this.command, this.defect)}`;
  }
}

/** Commands sent at once from different nexuses; the order they start in comes from a fast-check scheduler. */
class RaceCommand implements fc.AsyncCommand<WindowModel, Real> {
  constructor(
    readonly steps: ReadonlyArray<{ readonly nexus: number; readonly command: KitCommand }>,
    readonly scheduler: fc.Scheduler,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: WindowModel, real: Real): Promise<void> {
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
async function writeSameBits(target: Nexus): Promise<{ unmap: boolean; ndob: boolean }> {
  const b2 = await target.execute(cdb.inquiry({ page: 0xb2, allocationLength: 64 }));
  const lbpws = b2.status === 0 && b2.data !== undefined && b2.data.length > 5 && (b2.data[5]! & 0x40) !== 0; // LBPWS
  const one = await target.execute(cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x93, allocationLength: 64 }));
  const d = one.data;
  if (one.status !== 0 || d === undefined || d.length < 6 || (d[1]! & 0x07) !== 0x03) return { unmap: lbpws, ndob: false };
  return { unmap: lbpws && (d[5]! & 0x08) !== 0, ndob: (d[5]! & 0x01) !== 0 };
}

function opsOf(info: LunInfo, restrict: ReadonlySet<KitCommand['op']> | undefined): Set<KitCommand['op']> {
  const s = info.supported;
  const listed = (opcode: number, sa?: number): boolean => s === undefined || s.has(sa === undefined ? String(opcode) : `${opcode}/${sa}`) || s.has(String(opcode));
  const ops = new Set<KitCommand['op']>(['TEST UNIT READY']);
  if (listed(0x88)) ops.add('READ(16)');
  if (listed(0x8a)) ops.add('WRITE(16)');
  if (s !== undefined && s.has(String(0x93))) ops.add('WRITE SAME(16)');
  if (info.thin && info.maxUnmapBlocks > 0 && listed(0x42)) ops.add('UNMAP');
  if (info.maxCompareAndWriteBlocks > 0 && listed(0x89)) ops.add('COMPARE AND WRITE');
  if (info.copyManager !== undefined && info.designator !== undefined && listed(0x83)) ops.add('EXTENDED COPY');
  if (s !== undefined && s.has(String(0x16)) && s.has(String(0x17))) {
    ops.add('RESERVE(6)');
    ops.add('RELEASE(6)');
  }
  return restrict === undefined ? ops : new Set([...ops].filter((o) => restrict.has(o)));
}

// ---- checkTarget ---------------------------------------------------------------------------------------

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
  const nexuses: Nexus[] =
    options.others !== undefined
      ? [target, ...options.others].map((t, i) => ({ name: `nexus ${i}`, execute: async (c, d) => await t.execute(c, d) }))
      : (options.initiators ?? ['vaai-sim-check']).map((name) => ({ name, execute: async (c, d) => await target.execute(c, d, { initiator: name }) }));
  if (nexuses.length === 0) throw new RangeError('checkTarget: no initiators');
  // Clear pending unit attentions (a reset, a new session) on every nexus.
  for (const n of nexuses) for (let i = 0; i < 10 && (await n.execute(cdb.testUnitReady())).status === 0x02; i++);
  const info = await probeLun(target, options.others === undefined ? nexuses[0]!.name : undefined);
  const windowBlocks = Math.min(options.windowBlocks ?? 64, info.blockCount);
  if (!Number.isInteger(windowBlocks) || windowBlocks < 1) throw new RangeError(`checkTarget: windowBlocks must be a positive integer, not ${options.windowBlocks}`);
  const first = info.blockCount - windowBlocks;
  const ops = opsOf(info, options.ops);
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
  };
  const capabilities: TargetCapabilities = { blockSize: info.blockSize, blockCount: info.blockCount, window: { lba: first, blocks: windowBlocks }, ops: [...ops], unmappedReadsZero: info.unmappedReadsZero, nexuses: nexuses.length };

  const nexusIndex = fc.nat({ max: nexuses.length - 1 });
  const arbitraries: Array<fc.Arbitrary<fc.AsyncCommand<WindowModel, Real>>> = [
    fc.tuple(nexusIndex, commandArbitrary(space)).map(([n, c]) => new StepCommand(n, c, undefined)),
    fc.tuple(nexusIndex, commandArbitrary(space)).map(([n, c]) => new StepCommand(n, c, undefined)),
    fc.tuple(nexusIndex, commandArbitrary(space)).map(([n, c]) => new StepCommand(n, c, undefined)),
  ];
  const readable = space.ops?.has('READ(16)') === true;
  if (readable) arbitraries.push(fc.tuple(nexusIndex, rangeArbitrary(space, 1)).map(([n, r]) => new StepCommand(n, { op: 'READ(16)', ...r }, undefined)));
  const canBreak = [...ops].some((op) => defectsFor({ op } as KitCommand, space).length > 0 || op === 'READ(16)' || op === 'WRITE(16)');
  if (options.malformed !== false && canBreak) arbitraries.push(fc.tuple(nexusIndex, malformedCommandArbitrary(space)).map(([n, m]) => new StepCommand(n, m.command, m.defect)));
  if (options.races !== false && nexuses.length >= 2) arbitraries.push(raceArbitrary(space, nexuses.length), raceArbitrary(space, nexuses.length));

  const invariants = options.invariants ?? [];
  let commands = 0;
  let runs = 0;
  let lastFailure: Counterexample | undefined;
  const property = fc.asyncProperty(fc.commands(arbitraries, { maxCommands: options.maxCommands ?? 25, size: 'max' }), async (cmds) => {
    runs++;
    const real: Real = { nexuses, space, invariants, log: [], count: 0 };
    const model = new WindowModel(first, windowBlocks, info.blockSize, info.unmappedReadsZero);
    try {
      await prepare(real, model);
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

/** The start of every run: no reservation held, and the window holding a known pattern. */
async function prepare(real: Real, model: WindowModel): Promise<void> {
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
}

/** Races: COMPARE AND WRITEs of one range from several nexuses (one must win), RESERVE races, or any commands. */
function raceArbitrary(space: CommandSpace, nexusCount: number): fc.Arbitrary<fc.AsyncCommand<WindowModel, Real>> {
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
  kinds.push(fc.tuple(who, fc.array(commandArbitrary(space), { minLength: 3, maxLength: 3 })).map(([ns, cs]) => ns.map((nexus, i) => ({ nexus, command: cs[i]! }))));
  return fc.tuple(fc.oneof(...kinds), fc.scheduler()).map(([steps, s]) => new RaceCommand(steps, s));
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
