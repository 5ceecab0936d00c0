/**
 * The model-based property shared by `array.model.test.ts` (the real array must agree with the
 * reference model) and `broken-arrays.test.ts` (deliberately broken arrays must not): fast-check
 * command objects that run one SCSI command on the array and on {@link ReferenceArray}, then
 * compare the outcome and the whole observable state.
 *
 * Geometry is small on purpose, so that unit boundaries, shared extents and an exhausted pool are
 * hit all the time: 512-byte blocks in 4 KiB allocation units (8 blocks per unit), two thin LUNs
 * (64 blocks, and 60 blocks whose last unit is 4 blocks), one thick LUN of 28 blocks (its last unit
 * is 4 blocks too, so short units can be shared), and a pool of 12 units of which the thick LUN
 * reserves 4, leaving 8 for 16 units of thin LUNs.
 *
 * A configuration ({@link ModelConfig}) is the clone mode and whether the array does zero detection
 * on WRITE; WRITE data is drawn so that all-zero unit pieces (whole and partial) are common.
 *
 * Each command is a command of the test kit (`KitCommand`) on one LUN, made into bytes by the kit's
 * `encodeCommand`, so the kit and this test send one encoding; only the Data-Out the kit does not
 * draw (unit pieces of zeros, a nearly-zero WRITE SAME block) is made here.
 */
import fc from 'fast-check';
import { StorageArray, decodeSense, type CloneMode, type Lun, type ScsiResult } from '../../src/index.js';
import { encodeCommand, seededBytes, type EncodedCommand, type KitCommand, type KitGeometry, type VerifyBytchk } from '../../src/testing/commands.js';
import { ReferenceArray, type Expected, type ModelRange, type ModelSegment } from '../../src/testing/reference-array.js';

export const BLOCK_SIZE = 512;
export const UNIT_BYTES = 4096;
export const UNIT_BLOCKS = UNIT_BYTES / BLOCK_SIZE;
export const LUN_SPECS = [
  { thin: true, blockCount: 64 },
  { thin: true, blockCount: 60 },
  { thin: false, blockCount: 28 },
] as const;
export const CAPACITY_UNITS = 12;

/** The system under test. */
export interface Real {
  readonly array: StorageArray;
  readonly luns: readonly Lun[];
}

/** Counters of what the model runs executed (for the closing report). */
export const modelStats = { runs: 0, steps: 0, byCommand: new Map<string, number>(), outcomes: new Map<string, number>(), coverage: new Map<string, number>() };

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}


/** One configuration of the array under test: its clone mode and whether WRITE does zero detection. */
export interface ModelConfig {
  readonly mode: CloneMode;
  readonly zeroDetect?: boolean;
}

/** A short name of `config`, for test titles: 'share', 'copy', 'share+zero-detect'. */
export function configName(config: ModelConfig): string {
  return config.zeroDetect === true ? `${config.mode}+zero-detect` : config.mode;
}

/** A fresh array and its reference model. */
export function setup(config: ModelConfig): { model: ReferenceArray; real: Real } {
  const { mode, zeroDetect = false } = config;
  const array = new StorageArray({ capacityBytes: CAPACITY_UNITS * UNIT_BYTES, allocationUnitBytes: UNIT_BYTES, cloneMode: mode, zeroDetect, arrayId: 0x5eed });
  const luns = LUN_SPECS.map((s, i) => array.createLun({ sizeBytes: s.blockCount * BLOCK_SIZE, blockSize: BLOCK_SIZE, thin: s.thin, lunId: i }));
  const model = new ReferenceArray({
    blockSize: BLOCK_SIZE,
    unitBlocks: UNIT_BLOCKS,
    capacityUnits: CAPACITY_UNITS,
    share: mode === 'share',
    zeroDetect,
    luns: LUN_SPECS,
  });
  return { model, real: { array, luns } };
}

// ---- comparison -------------------------------------------------------------------------------------

class ModelMismatch extends Error {}

function fail(what: string, step: string, expected: unknown, actual: unknown): never {
  throw new ModelMismatch(`${step}: ${what} differs\n  model: ${fmt(expected)}\n  array: ${fmt(actual)}`);
}

function fmt(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  return JSON.stringify(v);
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  if (Buffer.from(a.buffer, a.byteOffset, n).equals(Buffer.from(b.buffer, b.byteOffset, n))) return a.length === b.length ? -1 : n;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function syncResult(r: ReturnType<Lun['execute']>, step: string): ScsiResult {
  if (r instanceof Promise) throw new ModelMismatch(`${step}: execute returned a Promise with no fault installed`);
  return r;
}

/** Status, sense (key/ASC/ASCQ, INFORMATION when predicted) and Data-In. */
function compareOutcome(expected: Expected, actual: ScsiResult, step: string): void {
  const sense = decodeSense(actual.sense);
  const got = { status: actual.status, ...(sense ? { key: sense.key, asc: sense.asc, ascq: sense.ascq, information: sense.information } : {}) };
  const want = { status: expected.status, ...(expected.sense ? { information: undefined, ...expected.sense } : {}) };
  if (got.status !== want.status) fail('status', step, want, got);
  if (expected.status === 0x00) {
    if (actual.sense !== undefined) fail('sense with GOOD', step, undefined, got);
  } else {
    if (sense === undefined) fail('sense', step, want, 'undecodable');
    const e = expected.sense!;
    if (sense.key !== e.key || sense.asc !== e.asc || sense.ascq !== e.ascq) fail('sense key/ASC/ASCQ', step, want, got);
    if (e.information !== undefined && sense.information !== e.information) fail('sense INFORMATION', step, want, got);
  }
  if ((expected.data === undefined) !== (actual.data === undefined)) fail('presence of Data-In', step, expected.data, actual.data);
  if (expected.data !== undefined) {
    const at = firstDifference(expected.data, actual.data!);
    if (at >= 0) fail(`Data-In at byte ${at}`, step, expected.data[at], actual.data![at]);
  }
}

/** LUN contents, mapped units and pool accounting. */
function compareState(model: ReferenceArray, real: Real, step: string): void {
  model.selfCheck();
  real.luns.forEach((lun, i) => {
    const want = model.contents(i);
    const got = new Uint8Array(lun.sizeBytes);
    lun.store.read(0, lun.sizeBytes, got, 0);
    const at = firstDifference(want, got);
    if (at >= 0) fail(`LUN ${i} contents at byte ${at} (LBA ${Math.floor(at / BLOCK_SIZE)})`, step, want[at], got[at]);
    const mapped = model.mapped(i);
    const gotMapped = mapped.map((_, u) => lun.store.isMapped(u));
    if (mapped.some((m, u) => m !== gotMapped[u])) fail(`LUN ${i} mapped units`, step, mapped.map(Number).join(''), gotMapped.map(Number).join(''));
  });
  const pool = real.array.poolStatus;
  const want = { allocatedUnits: model.allocatedUnits, usedBytes: model.usedUnits * UNIT_BYTES, capacityUnits: model.capacityUnits };
  const got = { allocatedUnits: pool.allocatedUnits, usedBytes: pool.usedBytes, capacityUnits: pool.capacityUnits };
  if (want.allocatedUnits !== got.allocatedUnits || want.usedBytes !== got.usedBytes || want.capacityUnits !== got.capacityUnits) {
    fail('pool status', step, want, got);
  }
}

// ---- data -------------------------------------------------------------------------------------------

export { seededBytes };

// ---- commands ---------------------------------------------------------------------------------------

abstract class ArrayCommand implements fc.Command<ReferenceArray, Real> {
  abstract readonly name: string;
  check(): boolean {
    return true; // every command is legal in every state: errors are predicted, not avoided
  }
  run(model: ReferenceArray, real: Real): void {
    modelStats.steps++;
    count(modelStats.byCommand, this.name);
    const step = this.toString();
    const [expected, actual] = this.exec(model, real);
    for (const [rule, n] of model.coverage) modelStats.coverage.set(rule, (modelStats.coverage.get(rule) ?? 0) + n);
    model.coverage.clear();
    count(modelStats.outcomes, expected.sense ? `${expected.sense.key.toString(16)}/${expected.sense.asc.toString(16)}/${expected.sense.ascq.toString(16)}` : 'GOOD');
    if (actual !== undefined) compareOutcome(expected, syncResult(actual, step), step);
    compareState(model, real, step);
  }
  /** Applies the command to the model and the array: [model prediction, array result]. */
  protected abstract exec(model: ReferenceArray, real: Real): [Expected, ReturnType<Lun['execute']> | undefined];
  abstract toString(): string;
}

/** LUN `lun` as the kit's encoder sees it; the CSCD list names every LUN of the array, in order. */
function geometryOf(real: Real, lun: number): KitGeometry {
  return {
    blockSize: BLOCK_SIZE,
    blockCount: LUN_SPECS[lun]!.blockCount,
    cscds: real.luns.map((l) => ({ codeSet: 0x01, associationAndType: 0x03, bytes: l.naaDesignator })),
  };
}

/**
 * A kit command sent to LUN `lun`, encoded by the kit (COMPARE AND WRITE's verify half from what the
 * model says the medium holds); `predict` gives the model's answer to the Data-Out that was sent.
 */
abstract class KitStep extends ArrayCommand {
  readonly name: string;
  constructor(
    readonly lun: number,
    readonly command: KitCommand,
  ) {
    super();
    this.name = command.op;
  }
  /** The Data-Out to send: the kit's, unless the step draws its own. */
  protected dataOut(encoded: EncodedCommand): Uint8Array | undefined {
    return encoded.dataOut;
  }
  protected abstract predict(model: ReferenceArray, dataOut: Uint8Array | undefined): Expected;
  protected exec(model: ReferenceArray, real: Real): [Expected, ReturnType<Lun['execute']>] {
    const medium = (r: { lba: number; blocks: number }) => model.read16(this.lun, r.lba, r.blocks).data ?? new Uint8Array(r.blocks * BLOCK_SIZE);
    const encoded = encodeCommand(this.command, geometryOf(real, this.lun), medium);
    const dataOut = this.dataOut(encoded);
    return [this.predict(model, dataOut), real.luns[this.lun]!.execute(encoded.cdb, dataOut)];
  }
}

/**
 * The Data-Out of a WRITE, by its unit pieces (the parts of the write inside one allocation unit),
 * so that zero detection has something to detect:
 *
 * - a number: random bytes from that seed (0: all zeros);
 * - `zero`: all zeros;
 * - `onePiece`: zeros except unit piece `piece` (modulo the piece count), which is random;
 * - `oneByte`: zeros except one byte, the first or last of unit piece `piece` (a piece that is *nearly* zero);
 * - `zeroPieces`: random, with the unit pieces whose bit is set in `mask` zeroed.
 */
export type WriteData =
  | number
  | { readonly kind: 'zero' }
  | { readonly kind: 'onePiece'; readonly seed: number; readonly piece: number }
  | { readonly kind: 'oneByte'; readonly piece: number; readonly last: boolean }
  | { readonly kind: 'zeroPieces'; readonly seed: number; readonly mask: number };

/** [byte offset, byte length] in the Data-Out of each unit piece of a write of `blocks` blocks at `lba`. */
function unitPieces(lba: number, blocks: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let at = lba; at < lba + blocks; ) {
    const end = Math.min(lba + blocks, (Math.floor(at / UNIT_BLOCKS) + 1) * UNIT_BLOCKS);
    out.push([(at - lba) * BLOCK_SIZE, (end - at) * BLOCK_SIZE]);
    at = end;
  }
  return out;
}

/** The bytes `data` describes for a write of `blocks` blocks at `lba`. */
export function writeBytes(data: WriteData, lba: number, blocks: number): Uint8Array {
  const length = blocks * BLOCK_SIZE;
  if (typeof data === 'number') return seededBytes(data, length);
  const pieces = unitPieces(lba, blocks);
  switch (data.kind) {
    case 'zero':
      return new Uint8Array(length);
    case 'onePiece': {
      const out = new Uint8Array(length);
      const p = pieces[data.piece % Math.max(1, pieces.length)];
      if (p !== undefined) out.set(seededBytes(data.seed, p[1]), p[0]);
      return out;
    }
    case 'oneByte': {
      const out = new Uint8Array(length);
      const p = pieces[data.piece % Math.max(1, pieces.length)];
      if (p !== undefined) out[data.last ? p[0] + p[1] - 1 : p[0]] = 0x01;
      return out;
    }
    case 'zeroPieces': {
      const out = seededBytes(data.seed, length);
      pieces.forEach(([at, n], i) => {
        if ((data.mask >>> i) & 1) out.fill(0, at, at + n);
      });
      return out;
    }
  }
}

class Write16 extends KitStep {
  constructor(lun: number, readonly lba: number, readonly blocks: number, readonly data: WriteData) {
    super(lun, { op: 'WRITE(16)', lba, blocks, seed: typeof data === 'number' ? data : 0 });
  }
  /** The kit's data for a seed; unit pieces of zeros drawn here. */
  protected override dataOut(encoded: EncodedCommand): Uint8Array {
    return typeof this.data === 'number' ? (encoded.dataOut ?? new Uint8Array(0)) : writeBytes(this.data, this.lba, this.blocks);
  }
  protected predict(model: ReferenceArray, dataOut: Uint8Array): Expected {
    return model.write16(this.lun, this.lba, dataOut);
  }
  toString(): string {
    const data = typeof this.data === 'number' ? `seed=${this.data}` : `data=${JSON.stringify(this.data)}`;
    return `WRITE(16) lun=${this.lun} lba=${this.lba} blocks=${this.blocks} ${data}`;
  }
}

class Read16 extends KitStep {
  constructor(lun: number, readonly lba: number, readonly blocks: number) {
    super(lun, { op: 'READ(16)', lba, blocks });
  }
  protected predict(model: ReferenceArray): Expected {
    return model.read16(this.lun, this.lba, this.blocks);
  }
  toString(): string {
    return `READ(16) lun=${this.lun} lba=${this.lba} blocks=${this.blocks}`;
  }
}

/** The Data-Out block of a WRITE SAME: zeros, NDOB (none), a random block, or zeros but for one byte. */
export type WriteSamePattern = 'zero' | 'ndob' | 'firstByte' | 'lastByte' | { readonly seed: number };

class WriteSame16 extends KitStep {
  constructor(lun: number, readonly lba: number, readonly blocks: number, readonly unmap: boolean, readonly pattern: WriteSamePattern) {
    super(lun, { op: 'WRITE SAME(16)', lba, blocks, unmap, ndob: pattern === 'ndob', seed: typeof pattern === 'object' ? pattern.seed : 0 });
  }
  /** The kit's block (zeros, NDOB, or random from the seed), or a block of zeros but for its first or last byte. */
  protected override dataOut(encoded: EncodedCommand): Uint8Array | undefined {
    if (this.pattern !== 'firstByte' && this.pattern !== 'lastByte') return encoded.dataOut;
    const block = new Uint8Array(BLOCK_SIZE);
    if (this.pattern === 'firstByte') block[0] = 0x5a;
    else block[BLOCK_SIZE - 1] = 0xa5;
    return block;
  }
  protected predict(model: ReferenceArray, block: Uint8Array | undefined): Expected {
    return model.writeSame16(this.lun, this.lba, this.blocks, this.unmap, block);
  }
  toString(): string {
    return `WRITE SAME(16) lun=${this.lun} lba=${this.lba} blocks=${this.blocks} unmap=${this.unmap} pattern=${JSON.stringify(this.pattern)}`;
  }
}

class Unmap extends KitStep {
  constructor(lun: number, readonly ranges: readonly ModelRange[]) {
    super(lun, { op: 'UNMAP', ranges });
  }
  protected predict(model: ReferenceArray): Expected {
    return model.unmap(this.lun, this.ranges);
  }
  toString(): string {
    return `UNMAP lun=${this.lun} ${this.ranges.map((r) => `[${r.lba}+${r.blocks}]`).join(' ')}`;
  }
}

/** Where a mismatching COMPARE AND WRITE differs from the medium. */
export type MismatchAt = 'first' | 'last' | 'endOfFirstBlock' | number;

/** The kit's `miscompareAt` (a byte offset in the verify half) for `mismatch` in a compare of `length` bytes. */
function miscompareAt(mismatch: MismatchAt | null, length: number): number | null {
  if (mismatch === null) return null;
  return mismatch === 'first' ? 0 : mismatch === 'last' ? length - 1 : mismatch === 'endOfFirstBlock' ? BLOCK_SIZE - 1 : mismatch;
}

class CompareAndWrite extends KitStep {
  constructor(lun: number, readonly lba: number, readonly blocks: number, readonly seed: number, readonly mismatch: MismatchAt | null) {
    // The verify half is what the model says the medium holds (zeros when out of range), made to
    // differ at one byte for a mismatching compare; the write half is made from the seed.
    super(lun, { op: 'COMPARE AND WRITE', lba, blocks, seed, miscompareAt: miscompareAt(mismatch, blocks * BLOCK_SIZE) });
  }
  protected predict(model: ReferenceArray, dataOut: Uint8Array): Expected {
    const length = this.blocks * BLOCK_SIZE;
    return model.compareAndWrite(this.lun, this.lba, dataOut.subarray(0, length), dataOut.subarray(length));
  }
  toString(): string {
    return `COMPARE AND WRITE lun=${this.lun} lba=${this.lba} blocks=${this.blocks} seed=${this.seed} mismatch=${JSON.stringify(this.mismatch)}`;
  }
}

class ExtendedCopy extends KitStep {
  constructor(readonly via: number, readonly segments: readonly ModelSegment[]) {
    super(via, { op: 'EXTENDED COPY', segments: segments.map((s) => ({ source: s.src, destination: s.dst, srcLba: s.srcLba, dstLba: s.dstLba, blocks: s.blocks })) });
  }
  protected predict(model: ReferenceArray): Expected {
    return model.extendedCopy(this.segments);
  }
  toString(): string {
    return `EXTENDED COPY via=${this.via} ${this.segments.map((s) => `[${s.src}:${s.srcLba} -> ${s.dst}:${s.dstLba} x${s.blocks}]`).join(' ')}`;
  }
}

class OrWrite16 extends KitStep {
  constructor(lun: number, readonly lba: number, readonly blocks: number, readonly data: WriteData) {
    super(lun, { op: 'ORWRITE(16)', lba, blocks, seed: typeof data === 'number' ? data : 0 });
  }
  /** The kit's data for a seed; unit pieces of zeros (which OR in nothing) drawn here. */
  protected override dataOut(encoded: EncodedCommand): Uint8Array | undefined {
    return typeof this.data === 'number' ? encoded.dataOut : this.blocks === 0 ? undefined : writeBytes(this.data, this.lba, this.blocks);
  }
  protected predict(model: ReferenceArray, dataOut: Uint8Array | undefined): Expected {
    return model.orWrite16(this.lun, this.lba, dataOut ?? new Uint8Array(0));
  }
  toString(): string {
    return `ORWRITE(16) lun=${this.lun} lba=${this.lba} blocks=${this.blocks} data=${JSON.stringify(this.data)}`;
  }
}

class WriteAndVerify16 extends KitStep {
  constructor(lun: number, readonly lba: number, readonly blocks: number, readonly bytchk: 0 | 1, readonly data: WriteData) {
    super(lun, { op: 'WRITE AND VERIFY(16)', lba, blocks, bytchk, seed: typeof data === 'number' ? data : 0 });
  }
  protected override dataOut(encoded: EncodedCommand): Uint8Array | undefined {
    return typeof this.data === 'number' ? encoded.dataOut : this.blocks === 0 ? undefined : writeBytes(this.data, this.lba, this.blocks);
  }
  /** A WRITE(16) of the range (the verify compares what was just written). */
  protected predict(model: ReferenceArray, dataOut: Uint8Array | undefined): Expected {
    return model.write16(this.lun, this.lba, dataOut ?? new Uint8Array(0));
  }
  toString(): string {
    return `WRITE AND VERIFY(16) lun=${this.lun} lba=${this.lba} blocks=${this.blocks} bytchk=${this.bytchk} data=${JSON.stringify(this.data)}`;
  }
}

class Verify16 extends KitStep {
  constructor(lun: number, readonly lba: number, readonly blocks: number, readonly bytchk: VerifyBytchk, readonly mismatch: MismatchAt | null) {
    // The Data-Out is what the model says the medium holds, made to differ at one byte for a mismatch.
    super(lun, { op: 'VERIFY(16)', lba, blocks, bytchk, miscompareAt: miscompareAt(mismatch, (bytchk === 3 ? 1 : blocks) * BLOCK_SIZE) });
  }
  protected predict(model: ReferenceArray, dataOut: Uint8Array | undefined): Expected {
    return model.verify(this.lun, this.lba, this.blocks, this.bytchk, dataOut);
  }
  toString(): string {
    return `VERIFY(16) lun=${this.lun} lba=${this.lba} blocks=${this.blocks} bytchk=${this.bytchk} mismatch=${JSON.stringify(this.mismatch)}`;
  }
}

class SanitizeBlockErase extends KitStep {
  constructor(lun: number) {
    super(lun, { op: 'SANITIZE BLOCK ERASE' });
  }
  protected predict(model: ReferenceArray): Expected {
    return model.sanitizeBlockErase(this.lun);
  }
  toString(): string {
    return `SANITIZE BLOCK ERASE lun=${this.lun}`;
  }
}

class GrowPool extends ArrayCommand {
  readonly name = 'growPool';
  constructor(readonly bytes: number) {
    super();
  }
  protected exec(model: ReferenceArray, real: Real): [Expected, undefined] {
    model.growPool(this.bytes, UNIT_BYTES);
    real.array.growPool(this.bytes);
    return [{ status: 0x00 }, undefined];
  }
  toString(): string {
    return `growPool ${this.bytes}`;
  }
}

// ---- arbitraries ------------------------------------------------------------------------------------

const lunIndex = fc.integer({ min: 0, max: LUN_SPECS.length - 1 });

/** LBAs that favour unit boundaries (first, second, middle and last block of a unit) and the end of the LUN. */
function lbaFor(lun: number): fc.Arbitrary<number> {
  const blockCount = LUN_SPECS[lun]!.blockCount;
  const units = Math.ceil(blockCount / UNIT_BLOCKS);
  return fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: units - 1 }).map((u) => u * UNIT_BLOCKS), weight: 4 },
    { arbitrary: fc.tuple(fc.integer({ min: 0, max: units - 1 }), fc.constantFrom(1, 4, UNIT_BLOCKS - 1)).map(([u, o]) => u * UNIT_BLOCKS + o), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: blockCount }), weight: 2 },
    { arbitrary: fc.constantFrom(blockCount - 1, blockCount, blockCount + 1), weight: 1 },
  );
}

/** Transfer lengths that favour whole units and one-off-a-unit counts. */
const blockCount = fc.oneof(
  { arbitrary: fc.constantFrom(UNIT_BLOCKS, 2 * UNIT_BLOCKS, 3 * UNIT_BLOCKS), weight: 2 },
  { arbitrary: fc.constantFrom(1, UNIT_BLOCKS - 1, UNIT_BLOCKS + 1), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 3 * UNIT_BLOCKS }), weight: 2 },
);

/**
 * An LBA range on `lun`: nine times in ten clipped to the LUN (so that most commands get past the
 * range check), otherwise as drawn (often beyond the end: LBA OUT OF RANGE, COPY ABORTED).
 */
function rangeFor(lun: number, blocks: fc.Arbitrary<number> = blockCount): fc.Arbitrary<{ lba: number; blocks: number }> {
  const end = LUN_SPECS[lun]!.blockCount;
  return fc.tuple(lbaFor(lun), blocks, fc.integer({ min: 0, max: 9 })).map(([lba, n, clip]) =>
    clip === 0 ? { lba, blocks: n } : { lba: Math.min(lba, end), blocks: Math.max(0, Math.min(n, end - lba)) },
  );
}

const lunAndRange = (blocks?: fc.Arbitrary<number>) => lunIndex.chain((lun) => rangeFor(lun, blocks).map((r) => ({ lun, ...r })));
const seed = fc.integer({ min: 1, max: 0x7fffffff });
const dataSeed = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: seed, weight: 5 });

/** Up to four unit pieces (a write is at most 3 units long, so 4 pieces). */
const pieceIndex = fc.integer({ min: 0, max: 3 });
const writeData: fc.Arbitrary<WriteData> = fc.oneof(
  { arbitrary: seed, weight: 4 },
  { arbitrary: fc.constant<WriteData>({ kind: 'zero' }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('onePiece' as const), seed, piece: pieceIndex }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('oneByte' as const), piece: pieceIndex, last: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('zeroPieces' as const), seed, mask: fc.integer({ min: 1, max: 14 }) }), weight: 2 },
);
const write16 = fc.tuple(lunAndRange(), writeData).map(([{ lun, lba, blocks }, data]) => new Write16(lun, lba, blocks, data));
const read16 = lunAndRange().map(({ lun, lba, blocks }) => new Read16(lun, lba, blocks));
const writeSamePattern: fc.Arbitrary<WriteSamePattern> = fc.oneof(
  fc.constantFrom<WriteSamePattern>('zero', 'ndob', 'firstByte', 'lastByte'),
  fc.integer({ min: 1, max: 0x7fffffff }).map((seed) => ({ seed })),
);
const writeSame16 = fc
  .tuple(lunAndRange(), fc.boolean(), writeSamePattern)
  .map(([{ lun, lba, blocks }, unmap, pattern]) => new WriteSame16(lun, lba, blocks, unmap, pattern));
const unmap = lunIndex.chain((lun) => fc.array(rangeFor(lun), { minLength: 1, maxLength: 3 }).map((ranges) => new Unmap(lun, ranges)));
const mismatchAt: fc.Arbitrary<MismatchAt | null> = fc.oneof(
  { arbitrary: fc.constant(null), weight: 3 },
  { arbitrary: fc.constantFrom<MismatchAt>('first', 'last', 'endOfFirstBlock'), weight: 2 },
  { arbitrary: fc.nat(), weight: 1 },
);
const compareAndWrite = fc
  .tuple(lunAndRange(fc.oneof(fc.constantFrom(0, 1, UNIT_BLOCKS), fc.integer({ min: 0, max: 12 }))), dataSeed, mismatchAt)
  .map(([{ lun, lba, blocks }, seed, mismatch]) => new CompareAndWrite(lun, lba, blocks, seed, mismatch));

/** A segment: same LUN (often overlapping, destination a few blocks either side) or across LUNs. */
const segment: fc.Arbitrary<ModelSegment> = fc
  .tuple(lunIndex, lunIndex, fc.boolean())
  .chain(([src, other, sameLun]) => {
    const dst = sameLun ? src : other;
    return fc
      .record({
        srcLba: lbaFor(src),
        dstLba: lbaFor(dst),
        shift: fc.option(
          fc.oneof(fc.constantFrom(0, -UNIT_BLOCKS, UNIT_BLOCKS, -1, 1, 4), fc.integer({ min: -2 * UNIT_BLOCKS - 1, max: 2 * UNIT_BLOCKS + 1 })),
          { freq: 2 },
        ),
        blocks: blockCount,
        clip: fc.integer({ min: 0, max: 9 }),
      })
      .map(({ srcLba, dstLba, shift, blocks, clip }) => {
        const d = shift === null ? dstLba : Math.max(0, srcLba + shift);
        const room = Math.min(LUN_SPECS[src]!.blockCount - srcLba, LUN_SPECS[dst]!.blockCount - d);
        return { src, dst, srcLba, dstLba: d, blocks: clip === 0 ? blocks : Math.max(0, Math.min(blocks, room)) };
      });
  });
const extendedCopy = fc
  .tuple(lunIndex, fc.array(segment, { minLength: 1, maxLength: 3 }))
  .map(([via, segments]) => new ExtendedCopy(via, segments));
const orWrite16 = fc.tuple(lunAndRange(), writeData).map(([{ lun, lba, blocks }, data]) => new OrWrite16(lun, lba, blocks, data));
const writeAndVerify16 = fc
  .tuple(lunAndRange(), fc.constantFrom<0 | 1>(0, 1), writeData)
  .map(([{ lun, lba, blocks }, bytchk, data]) => new WriteAndVerify16(lun, lba, blocks, bytchk, data));
const verify16 = fc
  .tuple(lunAndRange(), fc.constantFrom<VerifyBytchk>(0, 1, 3), mismatchAt)
  .map(([{ lun, lba, blocks }, bytchk, mismatch]) => new Verify16(lun, lba, blocks, bytchk, mismatch));
const sanitize = lunIndex.map((lun) => new SanitizeBlockErase(lun));
const growPool = fc
  .tuple(fc.integer({ min: 0, max: 1 }), fc.constantFrom(0, 100))
  .map(([units, extra]) => new GrowPool(units * UNIT_BYTES + extra));

/** Every command, weighted by repetition (fc.commands picks among the arbitraries uniformly). */
export const commandArbitraries: Array<fc.Arbitrary<fc.Command<ReferenceArray, Real>>> = [
  ...Array<typeof write16>(4).fill(write16),
  read16,
  writeSame16,
  writeSame16,
  unmap,
  unmap,
  compareAndWrite,
  compareAndWrite,
  ...Array<typeof extendedCopy>(4).fill(extendedCopy),
  orWrite16,
  writeAndVerify16,
  verify16,
  sanitize,
  growPool,
];

/** The property: for any command sequence, the array in `config` behaves as the reference model. */
export function arrayMatchesModel(
  config: ModelConfig,
  maxCommands: number,
): fc.IPropertyWithHooks<[Iterable<fc.Command<ReferenceArray, Real>>]> {
  return fc.property(fc.commands(commandArbitraries, { maxCommands, size: 'max' }), (cmds) => {
    modelStats.runs++;
    fc.modelRun(() => setup(config), cmds);
  });
}

/**
 * Runs `commands` (built with {@link commandsFrom}) once against a fresh array and the model; throws
 * on the first difference. Returns both, and the model rules the run hit.
 */
export function runScenario(
  config: ModelConfig,
  commands: readonly fc.Command<ReferenceArray, Real>[],
): { model: ReferenceArray; real: Real; rulesHit: Set<string> } {
  const { model, real } = setup(config);
  const before = new Map(modelStats.coverage);
  for (const c of commands) c.run(model, real);
  const rulesHit = new Set([...modelStats.coverage].filter(([k, v]) => v !== before.get(k)).map(([k]) => k));
  return { model, real, rulesHit };
}

/** Command constructors, for fixed scenarios (regressions, counterexamples). */
export const commandsFrom = {
  write16: (lun: number, lba: number, blocks: number, data: WriteData) => new Write16(lun, lba, blocks, data),
  read16: (lun: number, lba: number, blocks: number) => new Read16(lun, lba, blocks),
  writeSame16: (lun: number, lba: number, blocks: number, unmap: boolean, pattern: WriteSamePattern) => new WriteSame16(lun, lba, blocks, unmap, pattern),
  unmap: (lun: number, ranges: readonly ModelRange[]) => new Unmap(lun, ranges),
  compareAndWrite: (lun: number, lba: number, blocks: number, seed: number, mismatch: MismatchAt | null) => new CompareAndWrite(lun, lba, blocks, seed, mismatch),
  extendedCopy: (via: number, segments: readonly ModelSegment[]) => new ExtendedCopy(via, segments),
  orWrite16: (lun: number, lba: number, blocks: number, data: WriteData) => new OrWrite16(lun, lba, blocks, data),
  writeAndVerify16: (lun: number, lba: number, blocks: number, bytchk: 0 | 1, data: WriteData) => new WriteAndVerify16(lun, lba, blocks, bytchk, data),
  verify16: (lun: number, lba: number, blocks: number, bytchk: VerifyBytchk, mismatch: MismatchAt | null) => new Verify16(lun, lba, blocks, bytchk, mismatch),
  sanitizeBlockErase: (lun: number) => new SanitizeBlockErase(lun),
  growPool: (bytes: number) => new GrowPool(bytes),
};
