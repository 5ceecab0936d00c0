/**
 * EXTENDED COPY (LID1) (SPC-4 6.4; docs/decisions/extended-copy.md and the libiscsi ExtendedCopy suite, docs/decisions/libiscsi.md):
 * Simple, ParamHdr, DescrLimits (with the limits read back from RECEIVE COPY RESULTS OPERATING
 * PARAMETERS), DescrType, ValidTgtDescr, ValidSegDescr, then the array's own grid: LIST ID USAGE,
 * CSCD resolution and access control, DISK BLOCK LENGTH, cross-LUN copies, overlapping copies,
 * extent sharing and pool accounting, Data-Out size, out of space, and failure atomicity.
 */
import { describe, expect, it } from 'vitest';
import { cdb, type Lun } from '../../src/index.js';
import {
  BLOCK,
  HOST_A,
  HOST_B,
  LUN_BLOCKS,
  LUN_BYTES,
  MiB,
  Sense,
  UNIT_BLOCKS,
  be16,
  be32,
  cdbField,
  copyList,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  expectRawFixedSense,
  expectSense,
  filled,
  isZero,
  makeArray,
  makeFixture,
  paramField,
  pattern,
  populate,
  readBlocks,
  segmentField,
  setU32,
  setU64,
  writeBlocks,
  xcopy,
  xcopyList,
  type Range,
} from './helpers.js';

const C = Math.min(LUN_BLOCKS / 2, 2048); // libiscsi's copy size

/** Reads the first NAA designator of VPD 83h, as libiscsi builds its CSCD from it. */
async function vpd83Designator(lun: Lun): Promise<{ codeSet: number; associationAndType: number; designator: Uint8Array }> {
  const r = await exec(lun, cdb.inquiry({ page: 0x83, allocationLength: 255 }));
  expectGood(r);
  const d = r.data!;
  const at = 4;
  return { codeSet: d[at]! & 0x0f, associationAndType: d[at + 1]! & 0x3f, designator: d.slice(at + 4, at + 4 + d[at + 3]!) };
}

/** RECEIVE COPY RESULTS OPERATING PARAMETERS, decoded as libiscsi does. */
async function operatingParameters(lun: Lun) {
  const r = await exec(lun, cdb.receiveCopyResults({ serviceAction: 3, allocationLength: 1024 }));
  expectGood(r);
  const d = r.data!;
  expect(be32(d, 0)).toBeGreaterThanOrEqual(40);
  return { maxCscdCount: be16(d, 8), maxSegmentCount: be16(d, 10), maxDescriptorListLength: be32(d, 12), maxInlineDataLength: be32(d, 20) };
}

/** A parameter list with `cscds` copies of `lun`'s CSCD and `segments` copies of libiscsi's segment. */
function limitsList(lun: Lun, cscds: number, segments: number, listId: number): Uint8Array {
  return cdb.extendedCopyParameterList({
    listId,
    listIdUsage: 0,
    cscds: Array.from({ length: cscds }, () => ({ designator: lun.naaDesignator, blockSize: lun.blockSize })),
    segments: Array.from({ length: segments }, () => ({ source: 0, destination: 0, blocks: 2048, sourceLba: 0, destinationLba: lun.blockCount - 2048 })),
  });
}

/** libiscsi's one-CSCD, one-segment list: C blocks from LBA 0 to num_blocks - C, list id 1, hold. */
const libiscsiList = (lun: Lun, listIdUsage = 0, destinationLba = lun.blockCount - 2048): Uint8Array =>
  copyList([{ from: lun, to: lun, blocks: 2048, sourceLba: 0, destinationLba }], 1, listIdUsage);

/** Two thin 64 MiB LUNs on one array. */
function twoLuns(options: Parameters<typeof makeArray>[0] = {}) {
  const array = makeArray(options);
  const a = array.createLun({ sizeBytes: LUN_BYTES, blockSize: BLOCK });
  const b = array.createLun({ sizeBytes: LUN_BYTES, blockSize: BLOCK });
  return { array, a, b };
}

describe('EXTENDED COPY: the libiscsi suite', () => {
  it('ExtendedCopy/simple: C blocks from LBA 0 to num_blocks - C, CSCD built from VPD 83h, LIST ID USAGE 10b', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, LUN_BLOCKS - C, filled(C, 0));
    const data = filled(C, 0x41);
    await writeBlocks(lun, 0, data);
    const id = await vpd83Designator(lun);
    const list = cdb.extendedCopyParameterList({
      listId: 1,
      listIdUsage: 2,
      cscds: [{ ...id, blockSize: BLOCK }],
      segments: [{ source: 0, destination: 0, blocks: C, sourceLba: 0, destinationLba: LUN_BLOCKS - C }],
    });
    expectGood(await xcopyList(lun, list));
    expectBytes(await readBlocks(lun, LUN_BLOCKS - C, C), data);
    expectBytes(await readBlocks(lun, 0, C), data);
  });

  it.each([
    { usage: 0, listId: 1, what: 'hold (00b)' },
    { usage: 2, listId: 7, what: 'discard (10b)' },
    { usage: 3, listId: 0, what: 'no list identifier (11b, SNLID)' },
  ])('ExtendedCopy/simple with LIST ID USAGE $what', async ({ usage, listId }) => {
    const { lun } = makeFixture();
    const data = pattern(100 * BLOCK, 3);
    await writeBlocks(lun, 10, data);
    expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks: 100, sourceLba: 10, destinationLba: 50_000 }], listId, usage));
    expectBytes(await readBlocks(lun, 50_000, 100), data);
  });

  it.each([
    { what: 'truncating the CSCD descriptor', length: 16 + 32 - 1 },
    { what: 'truncating the segment descriptor', length: 16 + 32 + 28 - 1 },
    { what: 'shorter than the header', length: 15 },
    { what: 'one byte', length: 1 },
  ])('ExtendedCopy/param-hdr: PARAMETER LIST LENGTH $length ($what) is PARAMETER LIST LENGTH ERROR', async ({ length }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun).subarray(0, length);
    const r = await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, list), Sense.PARAMETER_LIST_LENGTH_ERROR);
    expectRawFixedSense(r.sense, { ...Sense.PARAMETER_LIST_LENGTH_ERROR, information: null });
  });

  it('ExtendedCopy/param-hdr: PARAMETER LIST LENGTH 0 is GOOD and copies nothing', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus;
    expectGood(await exec(lun, cdb.extendedCopy(0)));
    expect(array.poolStatus).toEqual(before);
  });

  it('ExtendedCopy/descr-limits: one CSCD more than OPERATING PARAMETERS allows is TOO MANY TARGET DESCRIPTORS', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const op = await operatingParameters(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, limitsList(lun, op.maxCscdCount + 1, 1, 1)), Sense.TOO_MANY_TARGET_DESCRIPTORS);
    expectGood(await xcopyList(lun, limitsList(lun, op.maxCscdCount, 1, 1)));
  });

  it('ExtendedCopy/descr-limits: one segment more than OPERATING PARAMETERS allows is TOO MANY SEGMENT DESCRIPTORS', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const op = await operatingParameters(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, limitsList(lun, 1, op.maxSegmentCount + 1, 2)), Sense.TOO_MANY_SEGMENT_DESCRIPTORS);
    expectGood(await xcopyList(lun, limitsList(lun, 1, op.maxSegmentCount, 2)));
  });

  it('ExtendedCopy/descr-limits: descriptors longer than MAXIMUM DESCRIPTOR LIST LENGTH are PARAMETER LIST LENGTH ERROR, before the count checks', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const op = await operatingParameters(lun);
    // libiscsi's own case: (max + 1) CSCDs and (max + 1) segments, when that exceeds the maximum.
    const libiscsi = limitsList(lun, op.maxCscdCount + 1, op.maxSegmentCount + 1, 3);
    if (libiscsi.length - 16 > op.maxDescriptorListLength) {
      await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, libiscsi), Sense.PARAMETER_LIST_LENGTH_ERROR);
    }
    // Forced: (max + 1) CSCDs and as many segments as make the lists exceed the maximum.
    const segments = Math.floor((op.maxDescriptorListLength - 32 * (op.maxCscdCount + 1)) / 28) + 1;
    const forced = limitsList(lun, op.maxCscdCount + 1, segments, 3);
    expect(forced.length - 16).toBeGreaterThan(op.maxDescriptorListLength);
    await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, forced), Sense.PARAMETER_LIST_LENGTH_ERROR);
  });

  it('ExtendedCopy/descr-type: CSCD type E0h is UNSUPPORTED TARGET DESCRIPTOR TYPE CODE', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = cdb.extendedCopyParameterList({
      listId: 1,
      listIdUsage: 0,
      cscds: [{ designator: lun.naaDesignator, blockSize: BLOCK, typeCode: 0xe0 }],
      segments: [{ source: 0, destination: 0, blocks: 2048, sourceLba: 0, destinationLba: LUN_BLOCKS - 2048 }],
    });
    await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, list), Sense.UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE);
  });

  it.each([
    { type: 0x03, length: 20, what: 'stream to stream (03h)' },
    { type: 0x00, length: 28, what: 'block to stream (00h)' },
    { type: 0x0a, length: 32, what: 'block to block with offsets (0Ah, not advertised)' },
  ])('ExtendedCopy/descr-type: segment $what is UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE', async ({ type, length }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = new Uint8Array(16 + 32 + length);
    list.set(libiscsiList(lun).subarray(0, 48));
    setU32(list, 8, length); // SEGMENT DESCRIPTOR LIST LENGTH
    list[48] = type;
    list[50] = 0;
    list[51] = length - 4; // DESCRIPTOR LENGTH
    await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, list), Sense.UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE);
  });

  it('ExtendedCopy/valid-tgt-descr: LU ID TYPE 10b is ignored by an SPC-4 (VERSION 6) copy manager', async () => {
    const { lun } = makeFixture();
    const inq = await exec(lun, cdb.inquiry({ allocationLength: 96 }));
    expect(inq.data![2]).toBeGreaterThanOrEqual(6);
    const data = pattern(2048 * BLOCK, 8);
    await writeBlocks(lun, 0, data);
    const list = libiscsiList(lun);
    list[16 + 1] = (list[16 + 1]! & 0x3f) | 0x80; // LU ID TYPE = 10b (reserved in SPC-3)
    expectGood(await xcopyList(lun, list));
    expectBytes(await readBlocks(lun, LUN_BLOCKS - 2048, 2048), data);
  });

  it('ExtendedCopy/valid-tgt-descr: the obsolete NUL bit is ignored', async () => {
    const { lun } = makeFixture();
    const list = libiscsiList(lun);
    list[16 + 1] = list[16 + 1]! | 0x20;
    expectGood(await xcopyList(lun, list));
  });

  it('ExtendedCopy/valid-seg-descr: a destination CSCD index beyond the CSCD list is COPY ABORTED 0D/02 with a segment pointer', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = cdb.extendedCopyParameterList({
      listId: 1,
      listIdUsage: 0,
      cscds: [{ designator: lun.naaDesignator, blockSize: BLOCK }],
      segments: [{ source: 0, destination: 1, blocks: 2048, sourceLba: 0, destinationLba: LUN_BLOCKS - 2048 }],
    });
    const r = await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, list), {
      ...Sense.COPY_TARGET_DEVICE_NOT_REACHABLE,
      fieldPointer: segmentField(6),
      commandSpecificInformation: 0,
    });
    expectRawFixedSense(r.sense, { ...Sense.COPY_TARGET_DEVICE_NOT_REACHABLE, fieldPointer: segmentField(6) });
  });

  it('ExtendedCopy/valid-seg-descr: 2048 blocks to num_blocks - 1 is COPY ABORTED (not ILLEGAL REQUEST) with a segment pointer', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const r = await expectFailsCleanly(array, defaultRanges(lun), () => xcopyList(lun, libiscsiList(lun, 0, LUN_BLOCKS - 1)), {
      ...Sense.COPY_ABORTED,
      fieldPointer: segmentField(20),
      commandSpecificInformation: 0,
    });
    expectRawFixedSense(r.sense, { ...Sense.COPY_ABORTED, fieldPointer: segmentField(20) });
    expect(r.sense![15]! & 0x20, 'SD = 1').toBe(0x20);
  });

  it('ExtendedCopy/valid-seg-descr: a list ID that failed may be reused (ValidTgtDescr then ValidSegDescr with list 1)', async () => {
    const { lun } = makeFixture();
    expectGood(await xcopyList(lun, libiscsiList(lun, 0)));
    expectSense(await xcopyList(lun, libiscsiList(lun, 0, LUN_BLOCKS - 1)), Sense.COPY_ABORTED);
    expectGood(await xcopyList(lun, libiscsiList(lun, 0)));
  });
});

describe('EXTENDED COPY: parameter list fields', () => {
  const ranges = (lun: Lun): Range[] => defaultRanges(lun);

  it.each([
    { what: 'source LBA one past the end', seg: { sourceLba: LUN_BLOCKS - 2047, destinationLba: 0 }, byte: 12 },
    { what: 'source LBA at num_blocks', seg: { sourceLba: LUN_BLOCKS, destinationLba: 0 }, byte: 12 },
    { what: 'source LBA 2^31', seg: { sourceLba: 2 ** 31, destinationLba: 0 }, byte: 12 },
    { what: 'destination LBA one past the end', seg: { sourceLba: 0, destinationLba: LUN_BLOCKS - 2047 }, byte: 20 },
    { what: 'destination LBA 2^32', seg: { sourceLba: 0, destinationLba: 2 ** 32 }, byte: 20 },
  ])('ExtendedCopy/beyond-eol $what is COPY ABORTED 00/00 pointing at segment byte $byte', async ({ seg, byte }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = copyList([{ from: lun, to: lun, blocks: 2048, ...seg }]);
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), { ...Sense.COPY_ABORTED, fieldPointer: segmentField(byte) });
  });

  it.each([
    { what: 'source', at: 12 },
    { what: 'destination', at: 20 },
  ])('ExtendedCopy/beyond-eol $what LBA 2^63 and 2^64 - 1 (no 64-bit wrap)', async ({ at }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    for (const lba of [2n ** 63n, 2n ** 64n - 1n]) {
      const list = copyList([{ from: lun, to: lun, blocks: 1, sourceLba: 0, destinationLba: 0 }]);
      setU64(list, 48 + at, lba);
      await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), { ...Sense.COPY_ABORTED, fieldPointer: segmentField(at) });
    }
  });

  it('ExtendedCopy/beyond-eol in the second segment reports segment 1 and copies nothing (segments validated first)', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = copyList([
      { from: lun, to: lun, blocks: 2 * UNIT_BLOCKS, sourceLba: 0, destinationLba: 40 * UNIT_BLOCKS },
      { from: lun, to: lun, blocks: 16, sourceLba: 0, destinationLba: LUN_BLOCKS - 8 },
    ]);
    await expectFailsCleanly(array, [...ranges(lun), { lun, lba: 40 * UNIT_BLOCKS, blocks: 2 * UNIT_BLOCKS }], () => xcopyList(lun, list), {
      ...Sense.COPY_ABORTED,
      fieldPointer: segmentField(20),
      commandSpecificInformation: 1,
    });
  });

  it('ExtendedCopy/LIST ID USAGE 01b (reserved) is INVALID FIELD IN PARAMETER LIST', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, libiscsiList(lun, 1)), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(1, 4) });
  });

  it.each([1, 0x80, 0xff])('ExtendedCopy/LIST ID USAGE 11b with LIST IDENTIFIER %i is INVALID FIELD IN PARAMETER LIST', async (listId) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun, 3);
    list[0] = listId;
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(0) });
  });

  it('ExtendedCopy/INLINE DATA LENGTH above MAXIMUM INLINE DATA LENGTH (0) is INLINE DATA LENGTH EXCEEDED', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const op = await operatingParameters(lun);
    expect(op.maxInlineDataLength).toBe(0);
    const base = libiscsiList(lun);
    const list = new Uint8Array(base.length + 4);
    list.set(base);
    setU32(list, 12, 4); // INLINE DATA LENGTH, with the 4 bytes present
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), Sense.INLINE_DATA_LENGTH_EXCEEDED);
  });

  it('ExtendedCopy/a CSCD DESCRIPTOR LIST LENGTH that is not a multiple of 32 is INVALID FIELD IN PARAMETER LIST', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun);
    list[3] = 31; // CSCD list 31 bytes, segment list 28: still within the list
    setU32(list, 8, 28);
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(2) });
  });

  it.each([0x17, 0x19, 0x1c, 0])('ExtendedCopy/segment DESCRIPTOR LENGTH %i (not 0018h) is INVALID FIELD IN PARAMETER LIST', async (length) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun);
    list[48 + 2] = 0;
    list[48 + 3] = length;
    const r = await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), Sense.INVALID_FIELD_IN_PARAMETER_LIST);
    expect(r.status).toBe(2);
  });

  it.each([0, 21])('ExtendedCopy/CSCD DESIGNATOR LENGTH %i is INVALID FIELD IN PARAMETER LIST', async (length) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun);
    list[16 + 7] = length;
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(16 + 7) });
  });

  it('ExtendedCopy/a designator that names no LUN is COPY ABORTED 0D/02', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun);
    list[16 + 8 + 15] = list[16 + 8 + 15]! ^ 0xff; // last byte of the NAA designator
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), { ...Sense.COPY_TARGET_DEVICE_NOT_REACHABLE, fieldPointer: segmentField(4) });
  });

  it('ExtendedCopy/DISK BLOCK LENGTH different from the LUN block size is INVALID FIELD IN PARAMETER LIST pointing at it', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = cdb.extendedCopyParameterList({
      listId: 1,
      listIdUsage: 0,
      cscds: [{ designator: lun.naaDesignator, blockSize: 4096 }],
      segments: [{ source: 0, destination: 0, blocks: 8, sourceLba: 0, destinationLba: 40_000 }],
    });
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(16 + 29) });
  });

  it('ExtendedCopy/a CSCD with PERIPHERAL DEVICE TYPE other than 00h (block) is COPY ABORTED, INCORRECT COPY TARGET DEVICE TYPE', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = cdb.extendedCopyParameterList({
      cscds: [{ designator: lun.naaDesignator, blockSize: BLOCK, peripheralDeviceType: 0x01 }],
      segments: [{ source: 0, destination: 0, blocks: 8, sourceLba: 0, destinationLba: 40_000 }],
    });
    await expectFailsCleanly(array, ranges(lun), () => xcopyList(lun, list), Sense.INCORRECT_COPY_TARGET_DEVICE_TYPE);
  });

  it('ExtendedCopy/a zero-block segment is GOOD and copies nothing', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus;
    expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks: 0, sourceLba: 0, destinationLba: 40_000 }]));
    expect(array.poolStatus).toEqual(before);
  });

  it.each([
    { what: 'one byte short', delta: -1 },
    { what: 'one byte long', delta: 1 },
    { what: 'none', delta: null },
  ])('ExtendedCopy/invalid-dataout-size $what', async ({ delta }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun, 2);
    const data = delta === null ? undefined : delta < 0 ? list.subarray(0, list.length - 1) : Uint8Array.from([...list, 0]);
    await expectFailsCleanly(array, ranges(lun), () => exec(lun, cdb.extendedCopy(list.length), data), Sense.INVALID_FIELD_IN_CDB);
  });

  it.each([1, 0x1f])('ExtendedCopy/SERVICE ACTION %i (LID4 and others) is INVALID FIELD IN CDB pointing at the service action', async (sa) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = libiscsiList(lun, 2);
    const c = cdb.extendedCopy(list.length);
    c[1] = sa;
    await expectFailsCleanly(array, ranges(lun), () => exec(lun, c, list), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
  });
});

describe('EXTENDED COPY: data movement', () => {
  it('ExtendedCopy/cross-LUN: A to B and back, CSCDs in either order', async () => {
    const { a, b } = twoLuns();
    const data = pattern(3000 * BLOCK, 21);
    await writeBlocks(a, 100, data);
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 3000, sourceLba: 100, destinationLba: 7 }]));
    expectBytes(await readBlocks(b, 7, 3000), data);
    // Sent to B, copying B -> A elsewhere.
    expectGood(await xcopy(b, [{ from: b, to: a, blocks: 3000, sourceLba: 7, destinationLba: 90_000 }]));
    expectBytes(await readBlocks(a, 90_000, 3000), data);
  });

  it('ExtendedCopy/cross-LUN: the EXTENDED COPY may be sent to a LUN that is neither source nor destination', async () => {
    const array = makeArray();
    const [x, a, b] = [0, 1, 2].map(() => array.createLun({ sizeBytes: LUN_BYTES }));
    const data = pattern(64 * BLOCK, 5);
    await writeBlocks(a!, 0, data);
    expectGood(await xcopy(x!, [{ from: a!, to: b!, blocks: 64, sourceLba: 0, destinationLba: 64 }]));
    expectBytes(await readBlocks(b!, 64, 64), data);
    expect(x!.mappedBytes).toBe(0);
  });

  it('ExtendedCopy/segments run in order: a later segment sees an earlier one\'s result', async () => {
    const { a, b } = twoLuns();
    const data = pattern(16 * BLOCK, 31);
    await writeBlocks(a, 0, data);
    expectGood(
      await xcopy(a, [
        { from: a, to: b, blocks: 16, sourceLba: 0, destinationLba: 5000 },
        { from: b, to: a, blocks: 16, sourceLba: 5000, destinationLba: 70_000 },
        { from: a, to: a, blocks: 8, sourceLba: 70_004, destinationLba: 70_000 },
      ]),
    );
    expectBytes(await readBlocks(a, 70_000, 8), data.subarray(4 * BLOCK, 12 * BLOCK));
    expectBytes(await readBlocks(a, 70_008, 8), data.subarray(8 * BLOCK));
  });

  it('ExtendedCopy/unmapped source blocks copy as zeros and deallocate whole destination units', async () => {
    const { array, a, b } = twoLuns();
    await writeBlocks(b, 0, filled(3 * UNIT_BLOCKS, 0x77));
    expect(array.poolStatus.allocatedUnits).toBe(3);
    // Source and destination at the same offset within their units: destination unit 1 is covered whole.
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 2 * UNIT_BLOCKS, sourceLba: 10 * UNIT_BLOCKS + UNIT_BLOCKS / 2, destinationLba: UNIT_BLOCKS / 2 }]));
    expect(isZero(await readBlocks(b, UNIT_BLOCKS / 2, 2 * UNIT_BLOCKS))).toBe(true);
    expectBytes(await readBlocks(b, 0, UNIT_BLOCKS / 2), filled(UNIT_BLOCKS / 2, 0x77));
    expect(array.poolStatus.allocatedUnits).toBe(2); // unit 1 was wholly covered
  });

  // Overlapping copies within one LUN: the result must equal reading the whole source, then writing it.
  const OVERLAPS = [
    { what: 'forward by 1 block', src: 1000, dst: 1001, blocks: 5000 },
    { what: 'backward by 1 block', src: 1001, dst: 1000, blocks: 5000 },
    { what: 'forward by half a unit', src: 0, dst: UNIT_BLOCKS / 2, blocks: 3 * UNIT_BLOCKS },
    { what: 'backward by half a unit', src: UNIT_BLOCKS / 2, dst: 0, blocks: 3 * UNIT_BLOCKS },
    { what: 'forward by a whole unit (unit aligned)', src: 0, dst: UNIT_BLOCKS, blocks: 4 * UNIT_BLOCKS },
    { what: 'backward by a whole unit (unit aligned)', src: UNIT_BLOCKS, dst: 0, blocks: 4 * UNIT_BLOCKS },
    { what: 'forward, unaligned, crossing many units', src: 777, dst: 777 + 3 * UNIT_BLOCKS + 5, blocks: 6 * UNIT_BLOCKS + 11 },
    { what: 'backward, unaligned, crossing many units', src: 777 + 3 * UNIT_BLOCKS + 5, dst: 777, blocks: 6 * UNIT_BLOCKS + 11 },
    { what: 'onto itself', src: 3000, dst: 3000, blocks: 2 * UNIT_BLOCKS },
    { what: 'maximum segment (65535 blocks) forward by 3', src: 0, dst: 3, blocks: 65535 },
  ];
  it.each(OVERLAPS)('ExtendedCopy/overlap $what equals read-whole-source-then-write', async ({ src, dst, blocks }) => {
    for (const cloneMode of ['share', 'copy'] as const) {
      const { array, lun } = makeFixture({}, { cloneMode });
      const span = Math.max(src, dst) + blocks + 16;
      const before = pattern(span * BLOCK, 41);
      await writeBlocks(lun, 0, before);
      const expected = Uint8Array.from(before);
      expected.set(before.subarray(src * BLOCK, (src + blocks) * BLOCK), dst * BLOCK);
      expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks, sourceLba: src, destinationLba: dst }]));
      expectBytes(await readBlocks(lun, 0, span), expected, `LUN after the copy (${cloneMode})`);
      expect(array.poolStatus.allocatedUnits).toBeLessThanOrEqual(Math.ceil(span / UNIT_BLOCKS));
    }
  });

  it('ExtendedCopy/share: cloning whole units between two LUNs leaves pool allocatedUnits unchanged', async () => {
    const { array, a, b } = twoLuns();
    const data = pattern(4 * UNIT_BLOCKS * BLOCK, 51);
    await writeBlocks(a, 2 * UNIT_BLOCKS, data);
    const before = array.poolStatus;
    expect(before.allocatedUnits).toBe(4);
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 4 * UNIT_BLOCKS, sourceLba: 2 * UNIT_BLOCKS, destinationLba: 10 * UNIT_BLOCKS }]));
    expect(array.poolStatus).toEqual(before);
    expectBytes(await readBlocks(b, 10 * UNIT_BLOCKS, 4 * UNIT_BLOCKS), data);
    expect(b.mappedBytes).toBe(4 * MiB);
  });

  it('ExtendedCopy/share: a later write to either side does not change the other, and costs one unit', async () => {
    const { array, a, b } = twoLuns();
    const data = pattern(2 * UNIT_BLOCKS * BLOCK, 52);
    await writeBlocks(a, 0, data);
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 2 * UNIT_BLOCKS, sourceLba: 0, destinationLba: 0 }]));
    expect(array.poolStatus.allocatedUnits).toBe(2);
    await writeBlocks(a, 5, filled(1, 0xa1));
    expect(array.poolStatus.allocatedUnits).toBe(3);
    expectBytes(await readBlocks(b, 0, 2 * UNIT_BLOCKS), data, 'B after writing A');
    await writeBlocks(b, UNIT_BLOCKS + 9, filled(1, 0xb2));
    expect(array.poolStatus.allocatedUnits).toBe(4);
    const expectedA = Uint8Array.from(data);
    expectedA.set(filled(1, 0xa1), 5 * BLOCK);
    expectBytes(await readBlocks(a, 0, 2 * UNIT_BLOCKS), expectedA, 'A after writing B');
    const expectedB = Uint8Array.from(data);
    expectedB.set(filled(1, 0xb2), (UNIT_BLOCKS + 9) * BLOCK);
    expectBytes(await readBlocks(b, 0, 2 * UNIT_BLOCKS), expectedB);
  });

  it('ExtendedCopy/share: COMPARE AND WRITE, WRITE SAME and UNMAP on one side leave the other intact', async () => {
    const { array, a, b } = twoLuns();
    const data = pattern(3 * UNIT_BLOCKS * BLOCK, 53);
    await writeBlocks(a, 0, data);
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 3 * UNIT_BLOCKS, sourceLba: 0, destinationLba: 0 }]));
    const block0 = data.subarray(0, BLOCK);
    expectGood(await exec(b, cdb.compareAndWrite({ lba: 0, blocks: 1 }), Uint8Array.from([...block0, ...filled(1, 0xcc)])));
    expectGood(await exec(b, cdb.writeSame16({ lba: UNIT_BLOCKS, blocks: 10 }), filled(1, 0xdd)));
    const list = cdb.unmapParameterList([{ lba: 2 * UNIT_BLOCKS, blocks: UNIT_BLOCKS }]);
    expectGood(await exec(b, cdb.unmap({ parameterListLength: list.length }), list));
    expectBytes(await readBlocks(a, 0, 3 * UNIT_BLOCKS), data, 'A unchanged');
    expect(isZero(await readBlocks(b, 2 * UNIT_BLOCKS, UNIT_BLOCKS))).toBe(true);
    expect(array.poolStatus.allocatedUnits).toBe(5); // A's 3 + B's two private copies
    // Unmapping A's units now frees them (B's unit 2 went, A holds the last reference).
    const all = cdb.unmapParameterList([{ lba: 0, blocks: 3 * UNIT_BLOCKS }]);
    expectGood(await exec(a, cdb.unmap({ parameterListLength: all.length }), all));
    expect(array.poolStatus.allocatedUnits).toBe(2);
    expectBytes(await readBlocks(b, UNIT_BLOCKS + 10, 10), data.subarray((UNIT_BLOCKS + 10) * BLOCK, (UNIT_BLOCKS + 20) * BLOCK));
  });

  it('ExtendedCopy/copy mode: cloning charges one unit per unit copied', async () => {
    const { array, a, b } = twoLuns({ cloneMode: 'copy' });
    await writeBlocks(a, 0, pattern(2 * UNIT_BLOCKS * BLOCK, 54));
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 2 * UNIT_BLOCKS, sourceLba: 0, destinationLba: 0 }]));
    expect(array.poolStatus.allocatedUnits).toBe(4);
  });

  it('ExtendedCopy/share onto a thick destination: the pool charges nothing and a later write to the thin source costs nothing net', async () => {
    const array = makeArray();
    const thin = array.createLun({ sizeBytes: LUN_BYTES });
    const thick = array.createLun({ sizeBytes: LUN_BYTES, thin: false });
    const data = pattern(UNIT_BLOCKS * BLOCK, 55);
    await writeBlocks(thin, 0, data);
    const before = array.poolStatus;
    expectGood(await xcopy(thin, [{ from: thin, to: thick, blocks: UNIT_BLOCKS, sourceLba: 0, destinationLba: 0 }]));
    expect(array.poolStatus).toEqual(before);
    await writeBlocks(thin, 0, filled(1, 1));
    expect(array.poolStatus).toEqual(before);
    expectBytes(await readBlocks(thick, 0, UNIT_BLOCKS), data);
  });

  it('ExtendedCopy/different block sizes: whole multiples copy; a residue is COPY ABORTED, INCORRECT COPY TARGET DEVICE TYPE', async () => {
    const array = makeArray();
    const small = array.createLun({ sizeBytes: LUN_BYTES, blockSize: 512 });
    const big = array.createLun({ sizeBytes: LUN_BYTES, blockSize: 4096 });
    const data = pattern(8 * 512, 61);
    await writeBlocks(small, 0, data);
    expectGood(await xcopy(small, [{ from: small, to: big, blocks: 8, sourceLba: 0, destinationLba: 3 }]));
    expectBytes(await readBlocks(big, 3, 1), data);
    // DC = 1: NUMBER OF BLOCKS counts destination blocks.
    const dc = cdb.extendedCopyParameterList({
      cscds: [
        { designator: small.naaDesignator, blockSize: 512 },
        { designator: big.naaDesignator, blockSize: 4096 },
      ],
      segments: [{ source: 0, destination: 1, blocks: 1, sourceLba: 0, destinationLba: 9, destinationCount: true }],
    });
    expectGood(await xcopyList(small, dc));
    expectBytes(await readBlocks(big, 9, 1), data);
    await expectFailsCleanly(array, [{ lun: big, lba: 0, blocks: 16 }], () => xcopy(small, [{ from: small, to: big, blocks: 1, sourceLba: 0, destinationLba: 5 }]), {
      ...Sense.INCORRECT_COPY_TARGET_DEVICE_TYPE,
      fieldPointer: segmentField(10),
    });
  });

  it('ExtendedCopy/a LUN the initiator may not access is COPY ABORTED 0D/02, as source or destination (CVE-2020-28374)', async () => {
    const array = makeArray();
    const mine = array.createLun({ sizeBytes: LUN_BYTES, initiators: [HOST_A, HOST_B] });
    const secret = array.createLun({ sizeBytes: LUN_BYTES, initiators: [HOST_A] });
    const secretData = pattern(64 * BLOCK, 71);
    await writeBlocks(secret, 0, secretData, HOST_A);
    await writeBlocks(mine, 0, pattern(64 * BLOCK, 72), HOST_B);
    const ranges: Range[] = [
      { lun: mine, lba: 0, blocks: 256 },
      { lun: secret, lba: 0, blocks: 256 },
    ];
    // Read the secret into mine: the source cannot be resolved.
    await expectFailsCleanly(array, ranges, () => xcopy(mine, [{ from: secret, to: mine, blocks: 64, sourceLba: 0, destinationLba: 128 }], 0, undefined, HOST_B), {
      ...Sense.COPY_TARGET_DEVICE_NOT_REACHABLE,
      fieldPointer: segmentField(4),
    });
    // Overwrite the secret from mine: the destination cannot be resolved.
    await expectFailsCleanly(array, ranges, () => xcopy(mine, [{ from: mine, to: secret, blocks: 64, sourceLba: 0, destinationLba: 0 }], 0, undefined, HOST_B), {
      ...Sense.COPY_TARGET_DEVICE_NOT_REACHABLE,
      fieldPointer: segmentField(6),
    });
    // The initiator that may access both can copy.
    expectGood(await xcopy(mine, [{ from: secret, to: mine, blocks: 64, sourceLba: 0, destinationLba: 128 }], 0, undefined, HOST_A));
    expectBytes(await readBlocks(mine, 128, 64, HOST_A), secretData);
  });

  it('ExtendedCopy/sent to a LUN the initiator may not access is LOGICAL UNIT NOT SUPPORTED', async () => {
    const array = makeArray();
    const secret = array.createLun({ sizeBytes: LUN_BYTES, initiators: [HOST_A] });
    await writeBlocks(secret, 0, pattern(256 * BLOCK, 3), HOST_A);
    const list = copyList([{ from: secret, to: secret, blocks: 8, sourceLba: 0, destinationLba: 100 }]);
    await expectFailsCleanly(array, defaultRanges(secret), () => xcopyList(secret, list, HOST_B), Sense.LOGICAL_UNIT_NOT_SUPPORTED);
  });

  it('ExtendedCopy/out of space while cloning in copy mode is 07/27/07 (docs/decisions/extended-copy.md)', async () => {
    const { array, a, b } = twoLuns({ capacityBytes: 3 * MiB, cloneMode: 'copy' });
    await writeBlocks(a, 0, pattern(2 * UNIT_BLOCKS * BLOCK, 81));
    const r = await xcopy(a, [{ from: a, to: b, blocks: 2 * UNIT_BLOCKS, sourceLba: 0, destinationLba: 0 }], 9, 0);
    expectSense(r, Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    expect(array.poolStatus.freeBytes).toBe(0);
    // COPY STATUS of the held list: completed with errors, one segment not completed.
    const s = await exec(a, cdb.receiveCopyResults({ serviceAction: 0, listId: 9, allocationLength: 12 }));
    expectGood(s);
    expect(s.data![4]! & 0x7f).toBe(2);
  });
});
