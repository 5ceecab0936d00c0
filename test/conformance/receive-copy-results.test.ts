/**
 * RECEIVE COPY RESULTS (LID1) (SPC-4 6.18; docs/decisions/extended-copy.md and the libiscsi ReceiveCopyResults suite,
 * docs/decisions/libiscsi.md): OPERATING PARAMETERS byte by byte against COPY_LIMITS, COPY STATUS of held, discarded and
 * unknown lists, per-nexus scoping, FAILED SEGMENT DETAILS, truncation and unsupported service actions.
 */
import { describe, expect, it } from 'vitest';
import { COPY_LIMITS, cdb } from '../../src/index.js';
import {
  BLOCK,
  HOST_A,
  HOST_B,
  LUN_BYTES,
  MiB,
  Sense,
  UNIT_BLOCKS,
  be16,
  be32,
  cdbField,
  exec,
  expectBytes,
  expectGood,
  expectRawFixedSense,
  expectSense,
  makeArray,
  makeFixture,
  pattern,
  writeBlocks,
  xcopy,
} from './helpers.js';

const COPY_STATUS = 0x00;
const OPERATING_PARAMETERS = 0x03;
const FAILED_SEGMENT_DETAILS = 0x04;

const rcr = (serviceAction: number, listId = 0, allocationLength = 1024) => cdb.receiveCopyResults({ serviceAction, listId, allocationLength });

/** The OPERATING PARAMETERS data the copy manager must return, byte by byte (SPC-4 6.18.4). */
function expectedOperatingParameters(blockSize: number): Uint8Array {
  const codes = COPY_LIMITS.descriptorTypeCodes;
  const d = new Uint8Array(44 + codes.length);
  const put32 = (at: number, v: number) => {
    d[at] = (v >>> 24) & 0xff;
    d[at + 1] = (v >>> 16) & 0xff;
    d[at + 2] = (v >>> 8) & 0xff;
    d[at + 3] = v & 0xff;
  };
  const put16 = (at: number, v: number) => {
    d[at] = (v >>> 8) & 0xff;
    d[at + 1] = v & 0xff;
  };
  put32(0, 42); // AVAILABLE DATA
  d[4] = 0x01; // SNLID
  put16(8, COPY_LIMITS.maximumCscdDescriptorCount);
  put16(10, COPY_LIMITS.maximumSegmentDescriptorCount);
  put32(12, COPY_LIMITS.maximumDescriptorListLength);
  put32(16, COPY_LIMITS.maximumSegmentLength);
  put32(20, COPY_LIMITS.maximumInlineDataLength);
  put32(24, COPY_LIMITS.heldDataLimit);
  put32(28, 0); // MAXIMUM STREAM DEVICE TRANSFER SIZE
  put16(34, COPY_LIMITS.totalConcurrentCopies);
  d[36] = COPY_LIMITS.maximumConcurrentCopies;
  d[37] = Math.log2(blockSize); // DATA SEGMENT GRANULARITY
  d[38] = Math.log2(blockSize); // INLINE DATA GRANULARITY
  d[39] = Math.log2(blockSize); // HELD DATA GRANULARITY
  d[43] = codes.length; // IMPLEMENTED DESCRIPTOR LIST LENGTH
  d.set(codes, 44);
  return d;
}

describe('RECEIVE COPY RESULTS: OPERATING PARAMETERS', () => {
  it('ReceiveCopyResults/op-params: libiscsi OpParams (list id 0, alloc 1024) is GOOD with AVAILABLE DATA >= 40', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, rcr(OPERATING_PARAMETERS));
    expectGood(r);
    expect(be32(r.data!, 0)).toBeGreaterThanOrEqual(40);
  });

  it.each([512, 4096])('ReceiveCopyResults/op-params layout byte by byte (block size %i)', async (blockSize) => {
    const { lun } = makeFixture({ blockSize });
    const r = await exec(lun, rcr(OPERATING_PARAMETERS));
    expectGood(r);
    expect([...r.data!]).toEqual([...expectedOperatingParameters(blockSize)]);
  });

  it('ReceiveCopyResults/op-params values: AVAILABLE DATA 42, SNLID, descriptor codes 02h E4h, and limits as in COPY_LIMITS', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, rcr(OPERATING_PARAMETERS))).data!;
    const fields = [
      { name: 'AVAILABLE DATA', value: be32(d, 0), expected: 42 },
      { name: 'SNLID', value: d[4]! & 0x01, expected: 1 },
      { name: 'MAXIMUM CSCD DESCRIPTOR COUNT', value: be16(d, 8), expected: COPY_LIMITS.maximumCscdDescriptorCount },
      { name: 'MAXIMUM SEGMENT DESCRIPTOR COUNT', value: be16(d, 10), expected: COPY_LIMITS.maximumSegmentDescriptorCount },
      { name: 'MAXIMUM DESCRIPTOR LIST LENGTH', value: be32(d, 12), expected: COPY_LIMITS.maximumDescriptorListLength },
      { name: 'MAXIMUM SEGMENT LENGTH', value: be32(d, 16), expected: COPY_LIMITS.maximumSegmentLength },
      { name: 'MAXIMUM INLINE DATA LENGTH', value: be32(d, 20), expected: 0 },
      { name: 'HELD DATA LIMIT', value: be32(d, 24), expected: COPY_LIMITS.heldDataLimit },
      { name: 'TOTAL CONCURRENT COPIES', value: be16(d, 34), expected: COPY_LIMITS.totalConcurrentCopies },
      { name: 'MAXIMUM CONCURRENT COPIES', value: d[36], expected: COPY_LIMITS.maximumConcurrentCopies },
      { name: 'DATA SEGMENT GRANULARITY', value: d[37], expected: 9 },
      { name: 'IMPLEMENTED DESCRIPTOR LIST LENGTH', value: d[43], expected: 2 },
      { name: 'descriptor type codes', value: [...d.subarray(44)], expected: [0x02, 0xe4] },
    ];
    for (const f of fields) expect(f.value, f.name).toEqual(f.expected);
    // The maximum counts fit the maximum list length (ESXi multi-segment copies rely on it).
    expect(COPY_LIMITS.maximumCscdDescriptorCount * 32 + COPY_LIMITS.maximumSegmentDescriptorCount * 28).toBeLessThanOrEqual(COPY_LIMITS.maximumDescriptorListLength);
    expect(COPY_LIMITS.maximumSegmentLength).toBeGreaterThanOrEqual(16 * MiB);
  });

  it.each([0, 1, 3, 4, 8, 16, 43, 44, 45, 46, 54, 1024])('ReceiveCopyResults/op-params ALLOCATION LENGTH %i truncates and is GOOD (not 24/00 as LIO)', async (n) => {
    const { lun } = makeFixture();
    const r = await exec(lun, rcr(OPERATING_PARAMETERS, 0, n));
    expectGood(r);
    const full = expectedOperatingParameters(BLOCK);
    expect(r.data?.length ?? 0).toBe(Math.min(n, full.length));
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, n)]);
  });

  it('ReceiveCopyResults/op-params agree with VPD 8Fh', async () => {
    const { lun } = makeFixture();
    const op = (await exec(lun, rcr(OPERATING_PARAMETERS))).data!;
    const vpd = (await exec(lun, cdb.inquiry({ page: 0x8f, allocationLength: 1024 }))).data!;
    let at = 4;
    let checked = 0;
    while (at < vpd.length) {
      const type = be16(vpd, at);
      if (type === 0x0004) {
        expect(be16(vpd, at + 8)).toBe(be16(op, 8));
        expect(be16(vpd, at + 10)).toBe(be16(op, 10));
        expect(be32(vpd, at + 12)).toBe(be32(op, 12));
        expect(be32(vpd, at + 16)).toBe(be32(op, 20));
        checked++;
      }
      if (type === 0x8001) {
        expect(be32(vpd, at + 12)).toBe(be32(op, 16));
        expect(vpd[at + 16]).toBe(op[37]);
        checked++;
      }
      at += 4 + be16(vpd, at + 2);
    }
    expect(checked).toBe(2);
  });
});

describe('RECEIVE COPY RESULTS: COPY STATUS', () => {
  it('ReceiveCopyResults/copy-status preconditions (libiscsi): VPD 00h lists 8Fh and 8Fh/0001h lists 84h with SA 00h', async () => {
    const { lun } = makeFixture();
    const pages = (await exec(lun, cdb.inquiry({ page: 0x00, allocationLength: 255 }))).data!;
    expect([...pages.subarray(4)]).toContain(0x8f);
    const vpd = (await exec(lun, cdb.inquiry({ page: 0x8f, allocationLength: 1024 }))).data!;
    expect(be16(vpd, 4)).toBe(0x0001);
    const list = vpd.subarray(9, 9 + vpd[8]!);
    const commands = new Map<number, number[]>();
    for (let i = 0; i < list.length; ) {
      const n = list[i + 1]!;
      commands.set(list[i]!, [...list.subarray(i + 2, i + 2 + n)]);
      i += 2 + n;
    }
    expect(commands.get(0x84)).toContain(0x00);
    expect(commands.get(0x83)).toContain(0x00);
  });

  it.each([0, 1, 0x7f, 0xff])('ReceiveCopyResults/copy-status for unknown list id %i is INVALID FIELD IN CDB', async (listId) => {
    const { lun } = makeFixture();
    const r = await exec(lun, rcr(COPY_STATUS, listId, 12));
    expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2) });
    expectRawFixedSense(r.sense, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2) });
  });

  it('ReceiveCopyResults/copy-status after LIST ID USAGE 00b: 12 bytes, completed, segments processed, transfer count in bytes', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, pattern(100 * BLOCK, 1));
    expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks: 100, sourceLba: 0, destinationLba: 5000 }], 1, 0));
    const r = await exec(lun, rcr(COPY_STATUS, 1, 1024));
    expectGood(r);
    expect([...r.data!]).toEqual([
      0, 0, 0, 8, // AVAILABLE DATA
      0x01, // HDD 0, COPY MANAGER STATUS 1: completed without errors
      0, 1, // SEGMENTS PROCESSED
      0x00, // TRANSFER COUNT UNITS: bytes
      0, 0, (100 * BLOCK) >>> 8, (100 * BLOCK) & 0xff, // TRANSFER COUNT
    ]);
  });

  it('ReceiveCopyResults/copy-status counts every segment and every byte (shared or copied)', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, pattern(2 * UNIT_BLOCKS * BLOCK, 2));
    const segments = [
      { from: lun, to: lun, blocks: 2 * UNIT_BLOCKS, sourceLba: 0, destinationLba: 8 * UNIT_BLOCKS }, // shared units
      { from: lun, to: lun, blocks: 7, sourceLba: 3, destinationLba: 100_000 }, // copied bytes
      { from: lun, to: lun, blocks: 0, sourceLba: 0, destinationLba: 0 }, // nothing
    ];
    expectGood(await xcopy(lun, segments, 42, 0));
    const d = (await exec(lun, rcr(COPY_STATUS, 42, 12))).data!;
    expect(d[4]! & 0x7f).toBe(1);
    expect(be16(d, 5)).toBe(3);
    expect(d[7]).toBe(0);
    expect(be32(d, 8)).toBe((2 * UNIT_BLOCKS + 7) * BLOCK);
  });

  it.each([
    { usage: 2, what: 'discard (10b)' },
    { usage: 3, what: 'none (11b)' },
  ])('ReceiveCopyResults/copy-status after LIST ID USAGE $what is not held', async ({ usage }) => {
    const { lun } = makeFixture();
    const listId = usage === 3 ? 0 : 5;
    expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks: 8, sourceLba: 0, destinationLba: 80 }], listId, usage));
    expectSense(await exec(lun, rcr(COPY_STATUS, listId, 12)), Sense.INVALID_FIELD_IN_CDB);
  });

  it('ReceiveCopyResults/copy-status is held per I_T nexus and per copy manager (LUN)', async () => {
    const array = makeArray();
    const a = array.createLun({ sizeBytes: LUN_BYTES });
    const b = array.createLun({ sizeBytes: LUN_BYTES });
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 8, sourceLba: 0, destinationLba: 0 }], 3, 0, HOST_A));
    expectGood(await exec(a, rcr(COPY_STATUS, 3, 12), undefined, HOST_A));
    expectSense(await exec(a, rcr(COPY_STATUS, 3, 12), undefined, HOST_B), Sense.INVALID_FIELD_IN_CDB);
    expectSense(await exec(b, rcr(COPY_STATUS, 3, 12), undefined, HOST_A), Sense.INVALID_FIELD_IN_CDB);
  });

  it('ReceiveCopyResults/copy-status of a reused list id reports the newest copy', async () => {
    const { lun } = makeFixture();
    expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks: 8, sourceLba: 0, destinationLba: 80 }], 1, 0));
    expectGood(
      await xcopy(
        lun,
        [
          { from: lun, to: lun, blocks: 4, sourceLba: 0, destinationLba: 800 },
          { from: lun, to: lun, blocks: 4, sourceLba: 0, destinationLba: 900 },
        ],
        1,
        0,
      ),
    );
    const d = (await exec(lun, rcr(COPY_STATUS, 1, 12))).data!;
    expect(be16(d, 5)).toBe(2);
    expect(be32(d, 8)).toBe(8 * BLOCK);
  });

  it.each([0, 1, 4, 5, 8, 11, 12])('ReceiveCopyResults/copy-status ALLOCATION LENGTH %i truncates and is GOOD', async (n) => {
    const { lun } = makeFixture();
    expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks: 8, sourceLba: 0, destinationLba: 80 }], 1, 0));
    const full = (await exec(lun, rcr(COPY_STATUS, 1, 12))).data!;
    const r = await exec(lun, rcr(COPY_STATUS, 1, n));
    expectGood(r);
    expectBytes(r.data ?? new Uint8Array(0), full.subarray(0, n));
  });

  it('ReceiveCopyResults/failed-segment-details of a copy that ran out of space: status, sense length and the 07/27/07 sense', async () => {
    const array = makeArray({ capacityBytes: 2 * MiB, cloneMode: 'copy' });
    const a = array.createLun({ sizeBytes: LUN_BYTES });
    const b = array.createLun({ sizeBytes: LUN_BYTES });
    await writeBlocks(a, 0, pattern(2 * UNIT_BLOCKS * BLOCK, 3));
    const r = await xcopy(a, [{ from: a, to: b, blocks: 16, sourceLba: 0, destinationLba: 0 }], 4, 0);
    expectSense(r, Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    const status = (await exec(a, rcr(COPY_STATUS, 4, 12))).data!;
    expect(status[4]! & 0x7f, 'COPY MANAGER STATUS: completed with errors').toBe(2);
    expect(be16(status, 5), 'SEGMENTS PROCESSED').toBe(0);
    const f = await exec(a, rcr(FAILED_SEGMENT_DETAILS, 4, 1024));
    expectGood(f);
    const d = f.data!;
    expect(be32(d, 0)).toBe(d.length - 4);
    expect(d[56], 'EXTENDED COPY COMMAND STATUS').toBe(0x02);
    expect(be16(d, 58), 'SENSE DATA LENGTH').toBe(18);
    expectRawFixedSense(d.subarray(60, 78), { ...Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT });
  });

  it.each([0x01, 0x02, 0x05, 0x10, 0x1f])('ReceiveCopyResults/SERVICE ACTION %i (unsupported) is INVALID FIELD IN CDB pointing at it', async (sa) => {
    const { lun } = makeFixture();
    const r = await exec(lun, rcr(sa, 0, 1024));
    expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
  });
});
