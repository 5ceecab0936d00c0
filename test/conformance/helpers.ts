/**
 * Shared helpers of the libiscsi-style conformance grid (docs/decisions/libiscsi.md): a fixture that
 * makes an array and a LUN, result assertions on status and sense, pattern buffers, and a snapshot
 * of medium + pool to prove that a failing command changed nothing.
 *
 * Expected sense codes are written out here as plain numbers (not taken from the SENSE_TABLE in
 * src), so a wrong row in the array's table shows up as a failing test.
 */
import { expect } from 'vitest';
import {
  StorageArray,
  cdb,
  decodeSense,
  type FieldPointer,
  type Lun,
  type LunOptions,
  type PoolStatus,
  type ScsiResult,
  type StorageArrayOptions,
} from '../../src/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Logical block size of the default fixture. */
export const BLOCK = 512;
/** The default pool allocation unit (1 MiB) in 512-byte blocks. */
export const UNIT_BLOCKS = MiB / BLOCK;
/** Size of the default LUN. */
export const LUN_BYTES = 64 * MiB;
/** Capacity of the default LUN in blocks (last LBA + 1). */
export const LUN_BLOCKS = LUN_BYTES / BLOCK;

/** Initiators used by the multi-initiator tests. */
export const HOST_A = 'iqn.2024-01.test:host-a';
export const HOST_B = 'iqn.2024-01.test:host-b';

/** SCSI status codes (SAM-5). */
export const Status = { GOOD: 0x00, CHECK_CONDITION: 0x02, RESERVATION_CONFLICT: 0x18 } as const;

/** One expected sense condition: key, ASC, ASCQ. */
export interface SenseCode {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
}

/** The conditions the grid expects (docs/decisions/sense.md), written out as numbers. */
export const Sense = {
  INVALID_COMMAND_OPERATION_CODE: { key: 0x05, asc: 0x20, ascq: 0x00 },
  INVALID_FIELD_IN_CDB: { key: 0x05, asc: 0x24, ascq: 0x00 },
  INVALID_FIELD_IN_PARAMETER_LIST: { key: 0x05, asc: 0x26, ascq: 0x00 },
  PARAMETER_LIST_LENGTH_ERROR: { key: 0x05, asc: 0x1a, ascq: 0x00 },
  LBA_OUT_OF_RANGE: { key: 0x05, asc: 0x21, ascq: 0x00 },
  LOGICAL_UNIT_NOT_SUPPORTED: { key: 0x05, asc: 0x25, ascq: 0x00 },
  SAVING_PARAMETERS_NOT_SUPPORTED: { key: 0x05, asc: 0x39, ascq: 0x00 },
  TOO_MANY_TARGET_DESCRIPTORS: { key: 0x05, asc: 0x26, ascq: 0x06 },
  UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE: { key: 0x05, asc: 0x26, ascq: 0x07 },
  TOO_MANY_SEGMENT_DESCRIPTORS: { key: 0x05, asc: 0x26, ascq: 0x08 },
  UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE: { key: 0x05, asc: 0x26, ascq: 0x09 },
  INLINE_DATA_LENGTH_EXCEEDED: { key: 0x05, asc: 0x26, ascq: 0x0b },
  COPY_ABORTED: { key: 0x0a, asc: 0x00, ascq: 0x00 },
  COPY_TARGET_DEVICE_NOT_REACHABLE: { key: 0x0a, asc: 0x0d, ascq: 0x02 },
  INCORRECT_COPY_TARGET_DEVICE_TYPE: { key: 0x0a, asc: 0x0d, ascq: 0x03 },
  MISCOMPARE_DURING_VERIFY_OPERATION: { key: 0x0e, asc: 0x1d, ascq: 0x00 },
  SPACE_ALLOCATION_FAILED_WRITE_PROTECT: { key: 0x07, asc: 0x27, ascq: 0x07 },
  NO_SENSE: { key: 0x00, asc: 0x00, ascq: 0x00 },
} as const satisfies Record<string, SenseCode>;

/** What a failing command must answer: a sense code plus, optionally, the sense details. */
export interface SenseExpectation extends SenseCode {
  /** INFORMATION (VALID = 1) when a number; VALID = 0 when `null`; not checked when left out. */
  readonly information?: number | null;
  /** SENSE-KEY SPECIFIC pointer when given; SKSV = 0 when `null`; not checked when left out. */
  readonly fieldPointer?: FieldPointer | null;
  /** COMMAND-SPECIFIC INFORMATION when given. */
  readonly commandSpecificInformation?: number;
}

// ---- fixture ---------------------------------------------------------------------------------

/** An array and one LUN on it. */
export interface Fixture {
  readonly array: StorageArray;
  readonly lun: Lun;
}

/** A 1 GiB pool with a fixed identifier and no soft threshold (no unit attentions during the grid). */
export function makeArray(options: Partial<StorageArrayOptions> = {}): StorageArray {
  return new StorageArray({ capacityBytes: GiB, arrayId: 0x5eed1234, ...options });
}

/** A fresh array with one 64 MiB, 512-byte-block LUN (thin unless told otherwise). */
export function makeFixture(lun: Partial<LunOptions> = {}, array: Partial<StorageArrayOptions> = {}): Fixture {
  const a = makeArray(array);
  return { array: a, lun: a.createLun({ sizeBytes: LUN_BYTES, blockSize: BLOCK, ...lun }) };
}

// ---- execution -------------------------------------------------------------------------------

/** Runs one command; `execute` may answer synchronously or with a Promise, so always await. */
export async function exec(lun: Lun, c: Uint8Array, dataOut?: Uint8Array, initiator?: string): Promise<ScsiResult> {
  return await lun.execute(c, dataOut, initiator === undefined ? undefined : { initiator });
}

/** A short description of a result, for assertion messages. */
export function describeResult(r: ScsiResult): string {
  return JSON.stringify({ status: r.status, sense: decodeSense(r.sense) });
}

/** GOOD, no sense. */
export function expectGood(r: ScsiResult): void {
  expect(r.status, describeResult(r)).toBe(Status.GOOD);
  expect(r.sense).toBeUndefined();
}

/** CHECK CONDITION with the expected sense (decoded with decodeSense). */
export function expectSense(r: ScsiResult, e: SenseExpectation): void {
  expect(r.status, describeResult(r)).toBe(Status.CHECK_CONDITION);
  expect(r.data).toBeUndefined();
  const s = decodeSense(r.sense);
  expect(s, 'sense data decodes').toBeDefined();
  expect({ key: s!.key, asc: s!.asc, ascq: s!.ascq }, describeResult(r)).toEqual({ key: e.key, asc: e.asc, ascq: e.ascq });
  if (e.information === null) expect(s!.information, 'VALID = 0').toBeUndefined();
  else if (e.information !== undefined) expect(s!.information, 'INFORMATION').toBe(e.information);
  if (e.fieldPointer === null) expect(s!.fieldPointer, 'SKSV = 0').toBeUndefined();
  else if (e.fieldPointer !== undefined) expect(s!.fieldPointer, 'SENSE-KEY SPECIFIC').toEqual(e.fieldPointer);
  if (e.commandSpecificInformation !== undefined) expect(s!.commandSpecificInformation, 'COMMAND-SPECIFIC INFORMATION').toBe(e.commandSpecificInformation);
}

/** A status without sense (RESERVATION CONFLICT). */
export function expectStatusOnly(r: ScsiResult, status: number): void {
  expect(r.status, describeResult(r)).toBe(status);
  expect(r.sense).toBeUndefined();
  expect(r.data).toBeUndefined();
}

/**
 * Checks the raw 18 bytes of fixed-format sense (SPC-4 4.5.3) against `e`: response code 70h (F0h
 * with VALID), ADDITIONAL SENSE LENGTH 10, key, INFORMATION bytes 3..6, ASC/ASCQ bytes 12/13 and the
 * SKSV bit of byte 15.
 */
export function expectRawFixedSense(sense: Uint8Array | undefined, e: SenseExpectation): void {
  expect(sense).toBeDefined();
  const s = sense!;
  expect(s.length).toBe(18);
  const valid = typeof e.information === 'number';
  expect(s[0], 'RESPONSE CODE / VALID').toBe(valid ? 0xf0 : 0x70);
  expect(s[1], 'obsolete').toBe(0);
  expect(s[2]! & 0x0f, 'SENSE KEY').toBe(e.key);
  expect(s[2]! & 0xf0, 'FILEMARK/EOM/ILI').toBe(0);
  if (valid) expect(((s[3]! << 24) | (s[4]! << 16) | (s[5]! << 8) | s[6]!) >>> 0, 'INFORMATION').toBe(e.information);
  else expect([...s.subarray(3, 7)], 'INFORMATION').toEqual([0, 0, 0, 0]);
  expect(s[7], 'ADDITIONAL SENSE LENGTH').toBe(10);
  expect(s[12], 'ASC').toBe(e.asc);
  expect(s[13], 'ASCQ').toBe(e.ascq);
  expect(s[14], 'FRU').toBe(0);
  if (e.fieldPointer === null) expect([...s.subarray(15, 18)], 'SKS').toEqual([0, 0, 0]);
  else if (e.fieldPointer !== undefined) {
    let sks = 0x80;
    if (e.fieldPointer.in === 'cdb') sks |= 0x40;
    if (e.fieldPointer.in === 'segment') sks |= 0x20;
    if (e.fieldPointer.bit !== undefined) sks |= 0x08 | e.fieldPointer.bit;
    expect(s[15], 'SKSV byte').toBe(sks);
    expect((s[16]! << 8) | s[17]!, 'FIELD POINTER').toBe(e.fieldPointer.byte);
  }
}

/** A pointer at `byte` (and `bit`) of the CDB. */
export const cdbField = (byte: number, bit?: number): FieldPointer => (bit === undefined ? { in: 'cdb', byte } : { in: 'cdb', byte, bit });
/** A pointer at `byte` (and `bit`) of the parameter list. */
export const paramField = (byte: number, bit?: number): FieldPointer => (bit === undefined ? { in: 'parameter', byte } : { in: 'parameter', byte, bit });
/** A COPY ABORTED segment pointer at `byte` of the failing segment descriptor (SD = 1). */
export const segmentField = (byte: number): FieldPointer => ({ in: 'segment', byte });

// ---- data ------------------------------------------------------------------------------------

/** A buffer of `bytes` bytes of a deterministic non-zero pattern that differs per `seed` and per block. */
export function pattern(bytes: number, seed: number): Uint8Array {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = ((seed * 131 + i * 7 + (i >>> 9) * 13) & 0xff) || 0x5a;
  return b;
}

/** `blocks` blocks of `blockSize` bytes all set to `byte` (libiscsi's 'A', 'B' buffers). */
export function filled(blocks: number, byte: number, blockSize = BLOCK): Uint8Array {
  return new Uint8Array(blocks * blockSize).fill(byte);
}

/** Concatenates buffers (COMPARE AND WRITE's verify + write halves). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte equality that reports the first differing offset (vitest walks typed arrays element by element). */
export function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array, what = 'bytes'): void {
  expect(actual, what).toBeDefined();
  const a = Buffer.from(actual!.buffer, actual!.byteOffset, actual!.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let i = 0;
  while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
  expect.fail(`${what} differ: lengths ${a.length}/${b.length}, first difference at offset ${i} (${a[i]} vs ${b[i]})`);
}

/** True when every byte is zero. */
export function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Big-endian readers for checking returned parameter data. */
export const be16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
export const be24 = (b: Uint8Array, at: number): number => (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
export const be32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
export const be64 = (b: Uint8Array, at: number): bigint => (BigInt(be32(b, at)) << 32n) | BigInt(be32(b, at + 4));

/** Writes a 64-bit field exactly (the encoder takes numbers, which cannot hold 2^64 - 1). */
export function setU64(c: Uint8Array, at: number, value: bigint): Uint8Array {
  for (let i = 7; i >= 0; i--) {
    c[at + i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return c;
}

/** Writes a 32-bit field. */
export function setU32(c: Uint8Array, at: number, value: number): Uint8Array {
  c[at] = (value >>> 24) & 0xff;
  c[at + 1] = (value >>> 16) & 0xff;
  c[at + 2] = (value >>> 8) & 0xff;
  c[at + 3] = value & 0xff;
  return c;
}

// ---- medium helpers ----------------------------------------------------------------------------

/** WRITE(16) of `data` at `lba` (in pieces of at most MAXIMUM TRANSFER LENGTH), asserted GOOD. */
export async function writeBlocks(lun: Lun, lba: number, data: Uint8Array, initiator?: string): Promise<void> {
  const bs = lun.blockSize;
  const total = data.length / bs;
  for (let done = 0; done < total; ) {
    const n = Math.min(total - done, lun.limits.maximumTransferLength);
    expectGood(await exec(lun, cdb.write16({ lba: lba + done, blocks: n }), data.subarray(done * bs, (done + n) * bs), initiator));
    done += n;
  }
}

/** READ(16) of `blocks` blocks at `lba` (in pieces of at most MAXIMUM TRANSFER LENGTH), asserted GOOD; returns a copy. */
export async function readBlocks(lun: Lun, lba: number, blocks: number, initiator?: string): Promise<Uint8Array> {
  const bs = lun.blockSize;
  const out = new Uint8Array(blocks * bs);
  for (let done = 0; done < blocks; ) {
    const n = Math.min(blocks - done, lun.limits.maximumTransferLength);
    const r = await exec(lun, cdb.read16({ lba: lba + done, blocks: n }), undefined, initiator);
    expectGood(r);
    expect(r.data?.length).toBe(n * bs);
    out.set(r.data!, done * bs);
    done += n;
  }
  return out;
}

/**
 * Writes recognisable data where the grid's failing commands aim: the first 2.5 allocation units
 * and the last 64 blocks of the LUN (so a stray write, zeroing or deallocation shows up).
 */
export async function populate(lun: Lun): Promise<void> {
  const head = Math.min(lun.blockCount, Math.floor(2.5 * lun.unitBlocks));
  await writeBlocks(lun, 0, pattern(head * lun.blockSize, 7));
  const tail = Math.min(64, lun.blockCount - head);
  if (tail > 0) await writeBlocks(lun, lun.blockCount - tail, pattern(tail * lun.blockSize, 9));
}

/** A range of blocks of a LUN. */
export interface Range {
  readonly lun: Lun;
  readonly lba: number;
  readonly blocks: number;
}

/** The regions {@link populate} writes, plus the unit after the head. */
export function defaultRanges(lun: Lun): Range[] {
  const n = Math.min(lun.blockCount, 4 * lun.unitBlocks);
  const tail = Math.min(lun.blockCount, lun.unitBlocks);
  return [
    { lun, lba: 0, blocks: n },
    { lun, lba: lun.blockCount - tail, blocks: tail },
  ];
}

/** What a failing command must leave as it was: data in some ranges, pool accounting, mapped bytes. */
export interface Snapshot {
  readonly ranges: readonly Range[];
  readonly data: readonly Uint8Array[];
  readonly pool: PoolStatus;
  readonly mapped: readonly number[];
}

/** Reads `ranges` directly from the block store (no command, so no side effects on nexus state). */
function peek(r: Range): Uint8Array {
  const bs = r.lun.blockSize;
  const out = new Uint8Array(r.blocks * bs);
  r.lun.store.read(r.lba * bs, out.length, out, 0);
  return out;
}

/** Takes a snapshot of `ranges` of every LUN involved, and of the pool. */
export function snapshot(array: StorageArray, ranges: readonly Range[]): Snapshot {
  return { ranges, data: ranges.map(peek), pool: array.poolStatus, mapped: array.luns.map((l) => l.mappedBytes) };
}

/** Asserts that nothing in `snap` changed (failure atomicity). */
export function expectUnchanged(array: StorageArray, snap: Snapshot): void {
  snap.ranges.forEach((r, i) => expectBytes(peek(r), snap.data[i]!, `medium of LUN ${r.lun.id} at LBA ${r.lba}`));
  expect(array.poolStatus, 'pool accounting').toEqual(snap.pool);
  expect(array.luns.map((l) => l.mappedBytes), 'mapped bytes per LUN').toEqual(snap.mapped);
}

/**
 * Runs a command that must fail, and asserts its sense (or status) and that the medium and pool
 * are unchanged. `expected` is a sense expectation, or a bare status (RESERVATION CONFLICT).
 */
export async function expectFailsCleanly(
  array: StorageArray,
  ranges: readonly Range[],
  run: () => Promise<ScsiResult>,
  expected: SenseExpectation | number,
): Promise<ScsiResult> {
  const snap = snapshot(array, ranges);
  const r = await run();
  if (typeof expected === 'number') expectStatusOnly(r, expected);
  else expectSense(r, expected);
  expectUnchanged(array, snap);
  return r;
}

// ---- EXTENDED COPY helpers ------------------------------------------------------------------

/** A segment between two LUNs (CSCDs are numbered in order of first appearance). */
export interface CopySegment {
  readonly from: Lun;
  readonly to: Lun;
  readonly blocks: number;
  readonly sourceLba: number;
  readonly destinationLba: number;
}

/** Parameter list for `segments`, with one E4h CSCD per distinct LUN. */
export function copyList(segments: readonly CopySegment[], listId = 0, listIdUsage?: number): Uint8Array {
  const luns = [...new Set(segments.flatMap((s) => [s.from, s.to]))];
  return cdb.extendedCopyParameterList({
    listId,
    ...(listIdUsage === undefined ? {} : { listIdUsage }),
    cscds: luns.map((l) => ({ designator: l.naaDesignator, blockSize: l.blockSize })),
    segments: segments.map((s) => ({
      source: luns.indexOf(s.from),
      destination: luns.indexOf(s.to),
      blocks: s.blocks,
      sourceLba: s.sourceLba,
      destinationLba: s.destinationLba,
    })),
  });
}

/** Sends EXTENDED COPY with `list` as its parameter list (PARAMETER LIST LENGTH = list length). */
export async function xcopyList(lun: Lun, list: Uint8Array, initiator?: string): Promise<ScsiResult> {
  return exec(lun, cdb.extendedCopy(list.length), list, initiator);
}

/** Sends EXTENDED COPY for `segments` to `lun`. */
export async function xcopy(lun: Lun, segments: readonly CopySegment[], listId = 0, listIdUsage?: number, initiator?: string): Promise<ScsiResult> {
  return xcopyList(lun, copyList(segments, listId, listIdUsage), initiator);
}

// ---- what the device advertises ---------------------------------------------------------------

/** The capabilities a libiscsi run reads at startup (RC16, VPD B0/B2, MODE SENSE), read through commands. */
export interface DeviceProfile {
  readonly blockSize: number;
  readonly numBlocks: number;
  /** RC16 byte 14 bit 7. */
  readonly lbpme: boolean;
  /** RC16 byte 14 bit 6. */
  readonly lbprz: boolean;
  /** VPD B0. */
  readonly wsnz: boolean;
  readonly maximumCompareAndWriteLength: number;
  readonly maximumTransferLength: number;
  readonly maximumUnmapLbaCount: number;
  readonly maximumUnmapBlockDescriptorCount: number;
  readonly optimalUnmapGranularity: number;
  readonly maximumWriteSameLength: number;
  /** VPD B2 byte 5. */
  readonly lbpu: boolean;
  readonly lbpws: boolean;
  readonly lbpws10: boolean;
  readonly ancSup: boolean;
  /** MODE SENSE device-specific parameter bit 4. */
  readonly dpofua: boolean;
}

/** Reads the {@link DeviceProfile} of `lun` with READ CAPACITY(16), INQUIRY VPD B0h/B2h and MODE SENSE(6). */
export async function readProfile(lun: Lun): Promise<DeviceProfile> {
  const rc = await exec(lun, cdb.readCapacity16(32));
  expectGood(rc);
  const b0 = await exec(lun, cdb.inquiry({ page: 0xb0, allocationLength: 255 }));
  expectGood(b0);
  const b2 = await exec(lun, cdb.inquiry({ page: 0xb2, allocationLength: 255 }));
  expectGood(b2);
  const ms = await exec(lun, cdb.modeSense6({ pageCode: 0x3f, allocationLength: 255 }));
  expectGood(ms);
  const c = rc.data!;
  const l = b0.data!;
  const p = b2.data!;
  return {
    blockSize: be32(c, 8),
    numBlocks: Number(be64(c, 0)) + 1,
    lbpme: (c[14]! & 0x80) !== 0,
    lbprz: (c[14]! & 0x40) !== 0,
    wsnz: (l[4]! & 0x01) !== 0,
    maximumCompareAndWriteLength: l[5]!,
    maximumTransferLength: be32(l, 8),
    maximumUnmapLbaCount: be32(l, 20),
    maximumUnmapBlockDescriptorCount: be32(l, 24),
    optimalUnmapGranularity: be32(l, 28),
    maximumWriteSameLength: Number(be64(l, 36)),
    lbpu: (p[5]! & 0x80) !== 0,
    lbpws: (p[5]! & 0x40) !== 0,
    lbpws10: (p[5]! & 0x20) !== 0,
    ancSup: (p[5]! & 0x02) !== 0,
    dpofua: (ms.data![2]! & 0x10) !== 0,
  };
}
