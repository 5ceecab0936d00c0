/**
 * SANITIZE (SBC-4 5.30; libiscsi Sanitize.*): BLOCK ERASE and CRYPTOGRAPHIC ERASE deallocate the
 * whole thin LUN (reads then return zeros, GOOD), EXIT FAILURE MODE answers GOOD, reserved bits and
 * bytes and a non-zero PARAMETER LIST LENGTH are INVALID FIELD IN CDB, every other service action is
 * INVALID FIELD IN CDB, SWP and SCSI-2 reservations stop it; on a thick LUN the opcode is not
 * implemented. OVERWRITE runs over time at the LUN's overwrite rate (fake timers here): meanwhile
 * other commands answer NOT READY / SANITIZE IN PROGRESS with the progress; an overwrite that runs out
 * of space leaves sanitize failure mode (docs/decisions/sanitize.md).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cdb } from '../../src/index.js';
import { encodeDescriptorSense, encodeFixedSense } from '../../src/codec/sense-encoder.js';
import { decodeSense } from '../../src/codec/sense-decoder.js';
import type { Lun, ScsiResult } from '../../src/index.js';
import {
  BLOCK,
  HOST_A,
  HOST_B,
  LUN_BLOCKS,
  LUN_BYTES,
  Sense,
  Status,
  cdbField,
  defaultRanges,
  exec,
  expectFailsCleanly,
  expectGood,
  expectSense,
  filled,
  isZero,
  paramField,
  makeFixture,
  populate,
  readBlocks,
  writeBlocks,
} from './helpers.js';

const ERASES = [
  { name: 'BLOCK ERASE', sa: 0x02 },
  { name: 'CRYPTOGRAPHIC ERASE', sa: 0x03 },
] as const;

const ALL = [...ERASES, { name: 'EXIT FAILURE MODE', sa: 0x1f }] as const;

describe.each(ERASES)('SANITIZE $name', (c) => {
  it.each([
    { immed: false, ause: false },
    { immed: true, ause: false },
    { immed: false, ause: true },
    { immed: true, ause: true },
  ])(`${c.name}/IMMED $immed AUSE $ause: the whole LUN is deallocated and reads zeros, done when status returns`, async (f) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await writeBlocks(lun, LUN_BLOCKS - 256, filled(256, 0x61));
    expect(array.poolStatus.allocatedUnits).toBeGreaterThan(0);
    const r = await exec(lun, cdb.sanitize({ serviceAction: c.sa, ...f }));
    expectGood(r);
    expect(r.work).toMatchObject({ dataOutBytes: 0, dataInBytes: 0, mediaReadBytes: 0, mediaWriteBytes: 0, deallocatedBytes: LUN_BYTES });
    expect(array.poolStatus.allocatedUnits).toBe(0);
    expect(isZero(await readBlocks(lun, 0, 256))).toBe(true);
    expect(isZero(await readBlocks(lun, LUN_BLOCKS - 256, 256))).toBe(true);
    const status = await exec(lun, cdb.getLbaStatus({ lba: 0, allocationLength: 24 }));
    expectGood(status);
    // one descriptor: LBA 0, the whole LUN, PROVISIONING STATUS 1 (deallocated)
    expect([...status.data!.subarray(8, 24)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, ...[LUN_BLOCKS >>> 24, (LUN_BLOCKS >>> 16) & 0xff, (LUN_BLOCKS >>> 8) & 0xff, LUN_BLOCKS & 0xff], 1, 0, 0, 0]);
  });

  it(`${c.name}/on an empty LUN: GOOD, the whole LUN counted as deallocated (as UNMAP counts its ranges)`, async () => {
    const { array, lun } = makeFixture();
    const r = await exec(lun, cdb.sanitize({ serviceAction: c.sa }));
    expectGood(r);
    expect(r.work).toMatchObject({ deallocatedBytes: LUN_BYTES, mediaWriteBytes: 0 });
    expect(array.poolStatus.allocatedUnits).toBe(0);
  });
});

describe.each(ALL)('SANITIZE $name: invalid CDBs change nothing', (c) => {
  it(`${c.name}/PARAMETER LIST LENGTH 1, 8, 513, FFFFh: INVALID FIELD IN CDB at byte 7`, async () => {
    for (const n of [1, 8, 513, 0xffff]) {
      const { array, lun } = makeFixture();
      await populate(lun);
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.sanitize({ serviceAction: c.sa, parameterListLength: n }), new Uint8Array(n)), {
        ...Sense.INVALID_FIELD_IN_CDB,
        fieldPointer: cdbField(7),
      });
    }
  });

  it(`${c.name}/reserved bit 6 of byte 1: INVALID FIELD IN CDB at byte 1 bit 6`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const c1 = cdb.sanitize({ serviceAction: c.sa });
    c1[1]! |= 0x40;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c1), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 6) });
  });

  it.each([2, 3, 4, 5, 6])(`${c.name}/reserved byte %i non-zero: INVALID FIELD IN CDB at that byte`, async (byte) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const c1 = cdb.sanitize({ serviceAction: c.sa });
    c1[byte] = byte;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c1), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(byte) });
  });

  it(`${c.name}/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.sanitize({ serviceAction: c.sa }), undefined, HOST_B), Status.RESERVATION_CONFLICT);
    expectGood(await exec(lun, cdb.sanitize({ serviceAction: c.sa }), undefined, HOST_A));
  });

  it(`${c.name}/on a thick LUN: SANITIZE is not implemented there, INVALID COMMAND OPERATION CODE`, async () => {
    const { array, lun } = makeFixture({ thin: false });
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.sanitize({ serviceAction: c.sa })), Sense.INVALID_COMMAND_OPERATION_CODE);
  });
});

describe('SANITIZE service actions', () => {
  const UNSUPPORTED = Array.from({ length: 32 }, (_, sa) => sa).filter((sa) => sa !== 0x01 && !ALL.some((c) => c.sa === sa));

  it.each(UNSUPPORTED)('service action %i: INVALID FIELD IN CDB at byte 1 bit 4, nothing changes', async (sa) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.sanitize({ serviceAction: sa })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
  });

  it('EXIT FAILURE MODE: GOOD, no media work (no sanitize ever failed)', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus.allocatedUnits;
    const r = await exec(lun, cdb.sanitize({ serviceAction: 0x1f, immed: true, ause: true }));
    expectGood(r);
    expect(r.work).toMatchObject({ mediaWriteBytes: 0 });
    expect(array.poolStatus.allocatedUnits).toBe(before);
  });

  it('Block Device Characteristics: WABEREQ = WACEREQ = 01b on a thin LUN, 00b on a thick one', async () => {
    for (const [thin, byte7] of [
      [true, 0x50],
      [false, 0x00],
    ] as const) {
      const { lun } = makeFixture({ thin });
      const r = await exec(lun, cdb.inquiry({ page: 0xb1, allocationLength: 64 }));
      expectGood(r);
      expect(r.data![7]).toBe(byte7);
    }
  });
});

// ---- OVERWRITE ---------------------------------------------------------------------------------

/** 16 MiB per 100 ms slice: a pass over the 64 MiB LUN takes four slices. */
const RATE = 160 * 2 ** 20;
const SLICE_MS = 100;
const SLICES_PER_PASS = LUN_BYTES / ((RATE * SLICE_MS) / 1000);
const NOT_READY_SANITIZE = { key: 0x02, asc: 0x04, ascq: 0x1b } as const;
const SANITIZE_FAILED = { key: 0x03, asc: 0x31, ascq: 0x03 } as const;

/** The list libiscsi's Sanitize.Overwrite sends first: one pass of one full block of AAh. */
const fullBlock = (count = 1, byte = 0xaa): Uint8Array => cdb.sanitizeOverwriteList({ count, pattern: new Uint8Array(BLOCK).fill(byte) });

const overwrite = (list: Uint8Array, f: { immed?: boolean; ause?: boolean } = {}): Uint8Array =>
  cdb.sanitize({ serviceAction: 0x01, parameterListLength: list.length, ...f });

/** A fixture whose LUN overwrites at {@link RATE}. */
function overwriteFixture(array: Parameters<typeof makeFixture>[1] = {}) {
  const f = makeFixture({}, array);
  f.lun.sanitizeOverwriteRate = RATE;
  return f;
}

/** Expects NOT READY / SANITIZE IN PROGRESS with SKSV and PROGRESS INDICATION `progress`. */
function expectInProgress(r: ScsiResult, progress: number): void {
  expectSense(r, NOT_READY_SANITIZE);
  expect(r.sense![15], 'SKSV, no C/D or bit pointer').toBe(0x80);
  expect(decodeSense(r.sense)!.progress, 'PROGRESS INDICATION').toBe(progress);
}

/** `blocks` blocks, each holding `pattern` repeated from its first byte. */
function blocksOf(pattern: readonly number[], blocks: number): Uint8Array {
  const out = new Uint8Array(blocks * BLOCK);
  for (let i = 0; i < out.length; i++) out[i] = pattern[(i % BLOCK) % pattern.length]!;
  return out;
}

async function slices(n: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(n * SLICE_MS);
}

describe('SANITIZE OVERWRITE', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('OVERWRITE/IMMED 0, one pass of a full block: status when the last slice is written, every block holds the pattern', async () => {
    const { lun } = overwriteFixture();
    await populate(lun);
    let done: ScsiResult | undefined;
    const pending = exec(lun, overwrite(fullBlock()), fullBlock()).then((r) => (done = r));
    await slices(SLICES_PER_PASS - 1);
    expect(done).toBeUndefined();
    expect(lun.sanitizeInProgress).toBe(true);
    await slices(1);
    await pending;
    expectGood(done!);
    expect(done!.work).toMatchObject({ dataOutBytes: BLOCK + 4, mediaWriteBytes: LUN_BYTES, deallocatedBytes: 0 });
    expect(lun.sanitizeInProgress).toBe(false);
    expectBytesEqual(await readBlocks(lun, 0, 256), blocksOf([0xaa], 256));
    expectBytesEqual(await readBlocks(lun, LUN_BLOCKS - 256, 256), blocksOf([0xaa], 256));
  });

  it.each([
    { what: 'half a block', pattern: Array.from({ length: BLOCK / 2 }, (_, i) => i & 0xff) },
    { what: '4 bytes', pattern: [0xde, 0xad, 0xbe, 0xef] },
    { what: '3 bytes (does not divide the block)', pattern: [1, 2, 3] },
    { what: '1 byte', pattern: [0x5a] },
  ])('OVERWRITE/a pattern of $what repeats from the first byte of every block', async ({ pattern }) => {
    const { lun } = overwriteFixture();
    const list = cdb.sanitizeOverwriteList({ count: 1, pattern: Uint8Array.from(pattern) });
    const pending = exec(lun, overwrite(list), list);
    await slices(SLICES_PER_PASS);
    expectGood(await pending);
    expectBytesEqual(await readBlocks(lun, 0, 4), blocksOf(pattern, 4));
    expectBytesEqual(await readBlocks(lun, LUN_BLOCKS - 4, 4), blocksOf(pattern, 4));
  });

  it.each([
    { count: 1, invert: true, last: 0x0f },
    { count: 2, invert: false, last: 0x0f },
    { count: 2, invert: true, last: 0xf0 },
    { count: 3, invert: true, last: 0x0f },
  ])('OVERWRITE/COUNT $count INVERT $invert: $count passes, the last writes $last', async ({ count, invert, last }) => {
    const { lun } = overwriteFixture();
    const list = cdb.sanitizeOverwriteList({ count, invert, pattern: Uint8Array.of(0x0f) });
    let done: ScsiResult | undefined;
    const pending = exec(lun, overwrite(list), list).then((r) => (done = r));
    await slices(count * SLICES_PER_PASS - 1);
    expect(done).toBeUndefined();
    await slices(1);
    await pending;
    expectGood(done!);
    expect(done!.work!.mediaWriteBytes).toBe(count * LUN_BYTES);
    expectBytesEqual(await readBlocks(lun, 0, 8), blocksOf([last], 8));
  });

  it('OVERWRITE/in progress: TEST UNIT READY, READ, WRITE, SANITIZE answer 02/04/1B with the progress; INQUIRY, REPORT LUNS, REQUEST SENSE run; nothing changes', async () => {
    const { array, lun } = overwriteFixture();
    const r = await exec(lun, overwrite(fullBlock(), { immed: true }), fullBlock());
    expectGood(r);
    expect(lun.sanitizeInProgress).toBe(true);
    // Nothing written before the first slice.
    expectInProgress(await exec(lun, cdb.testUnitReady()), 0);
    await slices(1);
    const quarter = 0x4000;
    const before = array.poolStatus.allocatedUnits;
    for (const c of [cdb.testUnitReady(), cdb.read16({ lba: 0, blocks: 1 }), cdb.readCapacity16(), cdb.modeSense6({ pageCode: 0x3f }), cdb.sanitize({ serviceAction: 0x02 }), cdb.sanitize({ serviceAction: 0x1f })]) {
      expectInProgress(await exec(lun, c), quarter);
    }
    expectInProgress(await exec(lun, cdb.write16({ lba: 0, blocks: 1 }), new Uint8Array(BLOCK)), quarter);
    expectInProgress(await exec(lun, overwrite(fullBlock()), fullBlock()), quarter);
    // START STOP UNIT (1Bh) and service action 04h are not implemented, and not allowed during a sanitize either (libiscsi Sanitize.Reset).
    expectInProgress(await exec(lun, Uint8Array.of(0x1b, 0, 0, 0, 0x01, 0)), quarter);
    expectInProgress(await exec(lun, cdb.sanitize({ serviceAction: 0x04 })), quarter);
    expect(array.poolStatus.allocatedUnits).toBe(before);
    expectGood(await exec(lun, cdb.inquiry()));
    expectGood(await exec(lun, cdb.reportLuns()));
    const sense = await exec(lun, cdb.requestSense());
    expectGood(sense);
    // REQUEST SENSE returns the same sense as data: 70h, NOT READY, 04h/1Bh, SKSV, PROGRESS INDICATION 4000h
    expectBytesEqual(sense.data!, Uint8Array.of(0x70, 0, 0x02, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x04, 0x1b, 0, 0x80, 0x40, 0x00));
    await slices(1);
    expectInProgress(await exec(lun, cdb.testUnitReady()), 0x8000);
    await slices(SLICES_PER_PASS - 2);
    expect(lun.sanitizeInProgress).toBe(false);
    expectGood(await exec(lun, cdb.testUnitReady()));
    expectSense(await exec(lun, Uint8Array.of(0x1b, 0, 0, 0, 0x01, 0)), Sense.INVALID_COMMAND_OPERATION_CODE);
    const after = await exec(lun, cdb.requestSense());
    expectGood(after);
    expect(decodeSense(after.data)!.reason).toBe('NO_SENSE');
  });

  it('OVERWRITE/a pending unit attention is reported before the sanitize (REQUEST SENSE returns the unit attention first)', async () => {
    const { lun } = overwriteFixture();
    expectGood(await exec(lun, overwrite(fullBlock(), { immed: true }), fullBlock()));
    lun.reset();
    const ua = await exec(lun, cdb.requestSense());
    expect(decodeSense(ua.data)!.reason).toBe('BUS_DEVICE_RESET_FUNCTION_OCCURRED');
    expect(decodeSense((await exec(lun, cdb.requestSense())).data)!.reason).toBe('SANITIZE_IN_PROGRESS');
  });

  it('OVERWRITE/the sanitize lives on the LUN: a LOGICAL UNIT RESET and the loss of the nexus that started it leave it running to the end', async () => {
    const { lun } = overwriteFixture();
    let done: ScsiResult | undefined;
    expectGood(await exec(lun, cdb.inquiry(), undefined, HOST_B));
    const pending = exec(lun, overwrite(fullBlock()), fullBlock(), HOST_A).then((r) => (done = r));
    await slices(1);
    lun.reset();
    lun.nexusLost(HOST_A);
    // The unit attention of the reset first, then the sanitize, to HOST_B.
    expectSense(await exec(lun, cdb.testUnitReady(), undefined, HOST_B), { key: 0x06, asc: 0x29, ascq: 0x03 });
    expectInProgress(await exec(lun, cdb.testUnitReady(), undefined, HOST_B), 0x4000);
    await slices(SLICES_PER_PASS - 1);
    await pending;
    expectGood(done!);
    expectBytesEqual(await readBlocks(lun, LUN_BLOCKS - 1, 1), blocksOf([0xaa], 1));
  });

  it('OVERWRITE/the rate is the LUN\'s, read at every slice: halving it mid-way doubles the rest', async () => {
    const { lun } = overwriteFixture();
    expectGood(await exec(lun, overwrite(fullBlock(), { immed: true }), fullBlock()));
    await slices(2);
    lun.sanitizeOverwriteRate = RATE / 2;
    await slices(3);
    expectInProgress(await exec(lun, cdb.testUnitReady()), 0xe000);
    await slices(1);
    expectGood(await exec(lun, cdb.testUnitReady()));
  });

  it('OVERWRITE/the rate must be a positive integer number of bytes per second', () => {
    const { lun } = makeFixture();
    expect(lun.sanitizeOverwriteRate).toBe(100 * 2 ** 20);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => (lun.sanitizeOverwriteRate = bad)).toThrow(/Lun\.sanitizeOverwriteRate must be a positive integer/);
    }
    expect(lun.sanitizeOverwriteRate).toBe(100 * 2 ** 20);
  });

  it('OVERWRITE/a zero pattern with zero detection deallocates as a host write of zeros does', async () => {
    const { array, lun } = overwriteFixture({ zeroDetect: true });
    await populate(lun);
    const list = cdb.sanitizeOverwriteList({ count: 1, pattern: new Uint8Array(BLOCK) });
    const pending = exec(lun, overwrite(list), list);
    await slices(SLICES_PER_PASS);
    expectGood(await pending);
    expect(array.poolStatus.allocatedUnits).toBe(0);
    expect(isZero(await readBlocks(lun, 0, 256))).toBe(true);
  });
});

describe('SANITIZE OVERWRITE: invalid CDBs and parameter lists change nothing and start nothing', () => {
  it.each([0, 1, 2, 3, 4, BLOCK + 5, 0xffff])('OVERWRITE/PARAMETER LIST LENGTH %i: INVALID FIELD IN CDB at byte 7', async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.sanitize({ serviceAction: 0x01, parameterListLength: n }), new Uint8Array(n)), {
      ...Sense.INVALID_FIELD_IN_CDB,
      fieldPointer: cdbField(7),
    });
    expect(lun.sanitizeInProgress).toBe(false);
  });

  const full = (): Uint8Array => fullBlock();
  it.each([
    { what: 'OVERWRITE COUNT 0', list: () => cdb.sanitizeOverwriteList({ count: 0, pattern: new Uint8Array(BLOCK) }), field: paramField(0, 4) },
    { what: 'TEST 01b', list: () => cdb.sanitizeOverwriteList({ count: 1, test: 1, pattern: new Uint8Array(BLOCK) }), field: paramField(0, 6) },
    { what: 'TEST 10b', list: () => cdb.sanitizeOverwriteList({ count: 1, test: 2, pattern: new Uint8Array(BLOCK) }), field: paramField(0, 6) },
    { what: 'reserved byte 1 non-zero', list: () => ((l) => ((l[1] = 0x01), l))(full()), field: paramField(1) },
    { what: 'INITIALIZATION PATTERN LENGTH 0', list: () => cdb.sanitizeOverwriteList({ count: 1, pattern: new Uint8Array(BLOCK), patternLength: 0 }), field: paramField(2) },
    { what: 'INITIALIZATION PATTERN LENGTH block + 4 (libiscsi)', list: () => cdb.sanitizeOverwriteList({ count: 0, pattern: new Uint8Array(BLOCK), patternLength: BLOCK + 4 }), field: paramField(0, 4) },
    { what: 'INITIALIZATION PATTERN LENGTH block + 1', list: () => cdb.sanitizeOverwriteList({ count: 1, pattern: new Uint8Array(BLOCK), patternLength: BLOCK + 1 }), field: paramField(2) },
    { what: 'INITIALIZATION PATTERN LENGTH beyond the list', list: () => cdb.sanitizeOverwriteList({ count: 1, pattern: new Uint8Array(8), patternLength: 9 }), field: paramField(2) },
    { what: 'INITIALIZATION PATTERN LENGTH short of the list', list: () => cdb.sanitizeOverwriteList({ count: 1, pattern: new Uint8Array(8), patternLength: 7 }), field: paramField(2) },
  ])('OVERWRITE/$what: INVALID FIELD IN PARAMETER LIST at its field', async ({ list, field }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const l = list();
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, overwrite(l), l), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: field });
    expect(lun.sanitizeInProgress).toBe(false);
  });

  it('OVERWRITE/reserved bit 6 of byte 1 and bytes 2-6: INVALID FIELD IN CDB there (libiscsi OverwriteReserved)', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    for (const [byte, value, bit] of [[1, 0x40, 6], [2, 1], [3, 0x80], [4, 1], [5, 1], [6, 0xff]] as const) {
      const c = overwrite(fullBlock());
      c[byte] = c[byte]! | value;
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c, fullBlock()), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(byte, bit) });
    }
    expect(lun.sanitizeInProgress).toBe(false);
  });

  it('OVERWRITE/SWP = 1: DATA PROTECT / WRITE PROTECTED; another initiator under a reservation: RESERVATION CONFLICT; thick: INVALID COMMAND OPERATION CODE', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await setSwp(lun, true);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, overwrite(fullBlock()), fullBlock()), { key: 0x07, asc: 0x27, ascq: 0x00 });
    await setSwp(lun, false);
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, overwrite(fullBlock()), fullBlock(), HOST_B), Status.RESERVATION_CONFLICT);
    expect(lun.sanitizeInProgress).toBe(false);
    const thick = makeFixture({ thin: false });
    await expectFailsCleanly(thick.array, defaultRanges(thick.lun), () => exec(thick.lun, overwrite(fullBlock()), fullBlock()), Sense.INVALID_COMMAND_OPERATION_CODE);
  });
});

describe('SANITIZE OVERWRITE: sanitize failure mode (the pool runs out of space)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A 32 MiB pool under the 64 MiB LUN: a pattern pass fails half-way. */
  async function failedOverwrite(ause: boolean): Promise<{ lun: Lun; result: ScsiResult }> {
    const { lun } = overwriteFixture({ capacityBytes: 32 * 2 ** 20 });
    const pending = exec(lun, overwrite(fullBlock(), { ause }), fullBlock());
    await slices(SLICES_PER_PASS);
    return { lun, result: await pending };
  }

  it.each([false, true])('OVERWRITE/AUSE %s: the IMMED = 0 command ends MEDIUM ERROR / SANITIZE COMMAND FAILED; media access then answers the same, the rest runs', async (ause) => {
    const { lun, result } = await failedOverwrite(ause);
    expectSense(result, SANITIZE_FAILED);
    expect(lun.sanitizeInProgress).toBe(false);
    expectSense(await exec(lun, cdb.read16({ lba: 0, blocks: 1 })), SANITIZE_FAILED);
    expectSense(await exec(lun, cdb.write16({ lba: 0, blocks: 1 }), new Uint8Array(BLOCK)), SANITIZE_FAILED);
    for (const c of [cdb.testUnitReady(), cdb.inquiry(), cdb.reportLuns(), cdb.readCapacity16(), cdb.modeSense6({ pageCode: 0x3f })]) expectGood(await exec(lun, c));
  });

  it('OVERWRITE/AUSE 0: EXIT FAILURE MODE is INVALID FIELD IN CDB at byte 1 bit 4; a successful BLOCK ERASE leaves failure mode', async () => {
    const { lun } = await failedOverwrite(false);
    expectSense(await exec(lun, cdb.sanitize({ serviceAction: 0x1f })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
    expectSense(await exec(lun, cdb.read16({ lba: 0, blocks: 1 })), SANITIZE_FAILED);
    expectGood(await exec(lun, cdb.sanitize({ serviceAction: 0x02 })));
    expectGood(await exec(lun, cdb.read16({ lba: 0, blocks: 1 })));
  });

  it('OVERWRITE/AUSE 1: EXIT FAILURE MODE leaves failure mode (GOOD), media access runs again', async () => {
    const { lun } = await failedOverwrite(true);
    expectGood(await exec(lun, cdb.sanitize({ serviceAction: 0x1f })));
    expectGood(await exec(lun, cdb.read16({ lba: 0, blocks: 1 })));
  });

  it('OVERWRITE/a later OVERWRITE that completes leaves failure mode', async () => {
    const { lun } = await failedOverwrite(false);
    lun.array.growPool(64 * 2 ** 20);
    const pending = exec(lun, overwrite(fullBlock()), fullBlock());
    await slices(SLICES_PER_PASS);
    expectGood(await pending);
    expectGood(await exec(lun, cdb.read16({ lba: 0, blocks: 1 })));
  });
});

describe('sense encoders: PROGRESS INDICATION (SPC-5 4.4.2.4.4)', () => {
  it('fixed format: SKSV in byte 15, PROGRESS INDICATION in 16-17', () => {
    expectBytesEqual(encodeFixedSense('SANITIZE_IN_PROGRESS', { progress: 0x1234 }), Uint8Array.of(0x70, 0, 0x02, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x04, 0x1b, 0, 0x80, 0x12, 0x34));
  });

  it('descriptor format: a sense key specific descriptor (02h) with SKSV and the progress', () => {
    expectBytesEqual(encodeDescriptorSense('SANITIZE_IN_PROGRESS', { progress: 0xffff }), Uint8Array.of(0x72, 0x02, 0x04, 0x1b, 0, 0, 0, 8, 0x02, 0x06, 0, 0, 0x80, 0xff, 0xff, 0));
    expect(decodeSense(encodeDescriptorSense('SANITIZE_IN_PROGRESS', { progress: 0xffff }))!.progress).toBe(0xffff);
  });
});

function expectBytesEqual(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const at = actual.findIndex((b, i) => b !== expected[i]);
  expect(at, `first differing byte ${at}`).toBe(-1);
}

/** Sets the Control mode page's SWP through MODE SENSE(6) and MODE SELECT(6), as libiscsi's set_swp does. */
async function setSwp(lun: Lun, on: boolean): Promise<void> {
  const sensed = await exec(lun, cdb.modeSense6({ pageCode: 0x0a, dbd: true, allocationLength: 255 }));
  expectGood(sensed);
  const page = sensed.data!.slice(4 + sensed.data![3]!);
  page[0] = page[0]! & 0x3f; // PS is reserved in MODE SELECT
  page[4] = on ? page[4]! | 0x08 : page[4]! & ~0x08;
  const list = new Uint8Array(4 + page.length);
  list.set(page, 4);
  expectGood(await exec(lun, cdb.modeSelect6({ pf: true, parameterListLength: list.length }), list));
}
