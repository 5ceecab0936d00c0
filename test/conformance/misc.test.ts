/**
 * TEST UNIT READY, REQUEST SENSE, REPORT LUNS, SYNCHRONIZE CACHE, and the dispatcher's generic answers:
 * unknown opcodes, unsupported service actions, CDBs shorter than their opcode's length, Data-Out
 * that a command does not take, and LUNs the initiator may not access (SPC-4, SAM-5).
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import {
  HOST_A,
  HOST_B,
  LUN_BLOCKS,
  LUN_BYTES,
  MiB,
  Sense,
  be32,
  cdbField,
  defaultRanges,
  exec,
  expectFailsCleanly,
  expectGood,
  expectRawFixedSense,
  expectSense,
  filled,
  makeArray,
  makeFixture,
  populate,
  setU64,
  writeBlocks,
} from './helpers.js';

describe('TEST UNIT READY', () => {
  it('TEST UNIT READY/simple is GOOD with no data', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.testUnitReady());
    expectGood(r);
    expect(r.data).toBeUndefined();
  });

  it('TEST UNIT READY/reports a pending unit attention once (soft threshold 06/38/07), then GOOD', async () => {
    const { lun } = makeFixture({}, { capacityBytes: 4 * MiB, softThresholdPercent: 50 });
    expectGood(await exec(lun, cdb.testUnitReady()));
    await writeBlocks(lun, 0, filled(2 * 2048, 1)); // 2 of 4 units: 50 %
    expectSense(await exec(lun, cdb.testUnitReady()), { key: 0x06, asc: 0x38, ascq: 0x07 });
    expectGood(await exec(lun, cdb.testUnitReady()));
  });
});

describe('REQUEST SENSE', () => {
  it('REQUEST SENSE/with nothing pending returns 18 bytes of fixed-format NO SENSE', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.requestSense(18));
    expectGood(r);
    expectRawFixedSense(r.data, { ...Sense.NO_SENSE, fieldPointer: null });
  });

  it.each([0, 1, 7, 8, 13, 17, 18, 252])('REQUEST SENSE/ALLOCATION LENGTH %i truncates', async (n) => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.requestSense(n));
    expectGood(r);
    const full = new Uint8Array(18);
    full[0] = 0x70;
    full[7] = 10;
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, n)]);
  });

  it('REQUEST SENSE/returns and clears a pending unit attention; INQUIRY and REPORT LUNS do not consume it', async () => {
    const { lun } = makeFixture({}, { capacityBytes: 4 * MiB, softThresholdPercent: 50 });
    expectGood(await exec(lun, cdb.testUnitReady()));
    await writeBlocks(lun, 0, filled(2 * 2048, 1));
    expectGood(await exec(lun, cdb.inquiry()));
    expectGood(await exec(lun, cdb.reportLuns()));
    const r = await exec(lun, cdb.requestSense(18));
    expectGood(r);
    expectRawFixedSense(r.data, { key: 0x06, asc: 0x38, ascq: 0x07, fieldPointer: null });
    expectGood(await exec(lun, cdb.testUnitReady()));
  });

  it('REQUEST SENSE/DESC = 1 returns descriptor-format sense (72h): NO SENSE, then a pending unit attention', async () => {
    const { lun } = makeFixture();
    const c = cdb.requestSense(252);
    c[1] = 0x01;
    const none = await exec(lun, c);
    expectGood(none);
    expect([...none.data!], 'NO SENSE, descriptor format, no descriptors').toEqual([0x72, 0, 0, 0, 0, 0, 0, 0]);
    lun.reset();
    const ua = await exec(lun, c);
    expect([...ua.data!], 'UNIT ATTENTION 29/03 in descriptor format').toEqual([0x72, 0x06, 0x29, 0x03, 0, 0, 0, 0]);
    expect([...(await exec(lun, c)).data!], 'the unit attention was cleared').toEqual([0x72, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('REQUEST SENSE/to a LUN the initiator may not access returns GOOD with ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED (SAM-5 incorrect logical unit selection)', async () => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: LUN_BYTES, initiators: [HOST_A] });
    const r = await exec(lun, cdb.requestSense(18), undefined, HOST_B);
    expectGood(r);
    expectRawFixedSense(r.data, { ...Sense.LOGICAL_UNIT_NOT_SUPPORTED, fieldPointer: null });
  });
});

describe('REPORT LUNS', () => {
  it('REPORT LUNS/lists the LUNs the initiator may access, 8 bytes each, ascending', async () => {
    const array = makeArray();
    array.createLun({ sizeBytes: LUN_BYTES, lunId: 5 });
    array.createLun({ sizeBytes: LUN_BYTES, lunId: 0 });
    array.createLun({ sizeBytes: LUN_BYTES, lunId: 300 });
    const hidden = array.createLun({ sizeBytes: LUN_BYTES, lunId: 7, initiators: [HOST_A] });
    const lun0 = array.getLun(0)!;
    const r = await exec(lun0, cdb.reportLuns(), undefined, HOST_B);
    expectGood(r);
    expect([...r.data!]).toEqual([
      0, 0, 0, 24, 0, 0, 0, 0, // LUN LIST LENGTH, reserved
      0x00, 0x00, 0, 0, 0, 0, 0, 0, // LUN 0 (peripheral device addressing)
      0x00, 0x05, 0, 0, 0, 0, 0, 0, // LUN 5
      0x41, 0x2c, 0, 0, 0, 0, 0, 0, // LUN 300 (flat space addressing)
    ]);
    const a = await exec(lun0, cdb.reportLuns(), undefined, HOST_A);
    expect(be32(a.data!, 0)).toBe(32);
    expect([a.data![24], a.data![25]]).toEqual([0x00, hidden.id]);
    expect([a.data![32], a.data![33]]).toEqual([0x41, 0x2c]);
  });

  it.each([
    { select: 0x00, count: 2 },
    { select: 0x01, count: 0 },
    { select: 0x02, count: 2 },
  ])('REPORT LUNS/SELECT REPORT $select', async ({ select, count }) => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: LUN_BYTES });
    array.createLun({ sizeBytes: LUN_BYTES });
    const r = await exec(lun, cdb.reportLuns({ selectReport: select }));
    expectGood(r);
    expect(be32(r.data!, 0)).toBe(8 * count);
    expect(r.data!.length).toBe(8 + 8 * count);
  });

  it.each([0x03, 0x10, 0xff])('REPORT LUNS/SELECT REPORT %i is INVALID FIELD IN CDB', async (select) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, cdb.reportLuns({ selectReport: select })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2) });
  });

  it('REPORT LUNS/ALLOCATION LENGTH 16 truncates; LUN LIST LENGTH still counts every LUN', async () => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: LUN_BYTES });
    array.createLun({ sizeBytes: LUN_BYTES });
    array.createLun({ sizeBytes: LUN_BYTES });
    const r = await exec(lun, cdb.reportLuns({ allocationLength: 16 }));
    expectGood(r);
    expect(r.data!.length).toBe(16);
    expect(be32(r.data!, 0)).toBe(24);
  });

  it.each([0, 8, 15])('REPORT LUNS/ALLOCATION LENGTH %i (< 16) is INVALID FIELD IN CDB (SPC-3, as LIO)', async (n) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, cdb.reportLuns({ allocationLength: n })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(6) });
  });
});

describe('SYNCHRONIZE CACHE', () => {
  const SYNC = [
    { name: 'SYNCHRONIZE CACHE(10)', build: cdb.synchronizeCache10, lbaBytes: 4 },
    { name: 'SYNCHRONIZE CACHE(16)', build: cdb.synchronizeCache16, lbaBytes: 8 },
  ];

  it.each(SYNC)('$name/simple, whole medium (NLB 0), the last block, IMMED', async ({ build }) => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, build()));
    expectGood(await exec(lun, build({ lba: 100, blocks: 0 })));
    expectGood(await exec(lun, build({ lba: LUN_BLOCKS - 1, blocks: 1 })));
    const immed = build({ lba: 0, blocks: 8 });
    immed[1] = 0x02;
    expectGood(await exec(lun, immed));
  });

  it.each(SYNC)('$name/beyond-eol is LBA OUT OF RANGE', async ({ build, lbaBytes }) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, build({ lba: LUN_BLOCKS - 1, blocks: 2 })), Sense.LBA_OUT_OF_RANGE);
    expectSense(await exec(lun, build({ lba: LUN_BLOCKS + 1, blocks: 0 })), Sense.LBA_OUT_OF_RANGE);
    if (lbaBytes === 8) expectSense(await exec(lun, setU64(build(), 2, 2n ** 64n - 1n)), Sense.LBA_OUT_OF_RANGE);
    else expectSense(await exec(lun, build({ lba: 0xffffffff, blocks: 1 })), Sense.LBA_OUT_OF_RANGE);
  });
});

describe('dispatcher', () => {
  /** Opcodes a SCSI host may well send that the array does not implement (T10 names). */
  const UNIMPLEMENTED = [
    { opcode: 0x01, name: 'REZERO UNIT' },
    { opcode: 0x04, name: 'FORMAT UNIT' },
    { opcode: 0x1b, name: 'START STOP UNIT' },
    { opcode: 0x1d, name: 'SEND DIAGNOSTIC' },
    { opcode: 0x1e, name: 'PREVENT ALLOW MEDIUM REMOVAL' },
    { opcode: 0x3b, name: 'WRITE BUFFER' },
    { opcode: 0x3c, name: 'READ BUFFER' },
    { opcode: 0x4d, name: 'LOG SENSE' },
    { opcode: 0x7f, name: 'variable length' },
    { opcode: 0x9f, name: 'SERVICE ACTION OUT(16)' },
    { opcode: 0x07, name: 'REASSIGN BLOCKS' },
    { opcode: 0xff, name: 'vendor specific' },
  ];
  it.each(UNIMPLEMENTED)('unknown opcode $opcode ($name) is INVALID COMMAND OPERATION CODE and changes nothing', async ({ opcode }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const c = new Uint8Array(16);
    c[0] = opcode;
    const r = await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c, new Uint8Array(512)), Sense.INVALID_COMMAND_OPERATION_CODE);
    expectRawFixedSense(r.sense, { ...Sense.INVALID_COMMAND_OPERATION_CODE, information: null });
  });

  it.each([
    { opcode: 0x83, sa: 0x01, name: 'EXTENDED COPY(LID4)' },
    { opcode: 0x84, sa: 0x01, name: 'RECEIVE COPY RESULTS(RECEIVE DATA)' },
    { opcode: 0x84, sa: 0x05, name: 'RECEIVE COPY RESULTS(SA 05h)' },
    { opcode: 0x5e, sa: 0x04, name: 'PERSISTENT RESERVE IN(SA 04h)' },
    { opcode: 0x5f, sa: 0x08, name: 'PERSISTENT RESERVE OUT(SA 08h)' },
    { opcode: 0x9e, sa: 0x00, name: 'SERVICE ACTION IN(16) SA 00h' },
    { opcode: 0x9e, sa: 0x13, name: 'SERVICE ACTION IN(16) SA 13h' },
    { opcode: 0xa3, sa: 0x05, name: 'MAINTENANCE IN(REPORT IDENTIFYING INFORMATION)' },
    { opcode: 0xa3, sa: 0x0f, name: 'MAINTENANCE IN(REPORT TIMESTAMP)' },
    { opcode: 0xa4, sa: 0x06, name: 'MAINTENANCE OUT(SET IDENTIFYING INFORMATION)' },
    { opcode: 0xa4, sa: 0x0f, name: 'MAINTENANCE OUT(SET TIMESTAMP)' },
    { opcode: 0xa3, sa: 0x0d, name: 'MAINTENANCE IN(REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS)' },
  ])('unsupported service action: $name is INVALID FIELD IN CDB pointing at byte 1 bits 4:0', async ({ opcode, sa }) => {
    const { lun } = makeFixture();
    const c = new Uint8Array(16);
    c[0] = opcode;
    c[1] = sa;
    const r = await exec(lun, c);
    expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
    expectRawFixedSense(r.sense, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
  });

  /** Every implemented command, with a CDB one byte shorter than its length. */
  const COMMANDS = [
    { name: 'TEST UNIT READY', c: cdb.testUnitReady() },
    { name: 'REQUEST SENSE', c: cdb.requestSense() },
    { name: 'INQUIRY', c: cdb.inquiry() },
    { name: 'MODE SENSE(6)', c: cdb.modeSense6() },
    { name: 'MODE SENSE(10)', c: cdb.modeSense10() },
    { name: 'READ CAPACITY(10)', c: cdb.readCapacity10() },
    { name: 'READ CAPACITY(16)', c: cdb.readCapacity16() },
    { name: 'READ(10)', c: cdb.read10({ lba: 0, blocks: 1 }) },
    { name: 'READ(12)', c: cdb.read12({ lba: 0, blocks: 1 }) },
    { name: 'READ(16)', c: cdb.read16({ lba: 0, blocks: 1 }) },
    { name: 'WRITE(10)', c: cdb.write10({ lba: 0, blocks: 1 }), data: filled(1, 0xee) },
    { name: 'WRITE(12)', c: cdb.write12({ lba: 0, blocks: 1 }), data: filled(1, 0xee) },
    { name: 'WRITE(16)', c: cdb.write16({ lba: 0, blocks: 1 }), data: filled(1, 0xee) },
    { name: 'WRITE SAME(10)', c: cdb.writeSame10({ lba: 0, blocks: 4 }), data: filled(1, 0xee) },
    { name: 'WRITE SAME(16)', c: cdb.writeSame16({ lba: 0, blocks: 4 }), data: filled(1, 0xee) },
    { name: 'COMPARE AND WRITE', c: cdb.compareAndWrite({ lba: 0, blocks: 0 }) },
    { name: 'UNMAP', c: cdb.unmap({ parameterListLength: 0 }) },
    { name: 'GET LBA STATUS', c: cdb.getLbaStatus({ lba: 0, allocationLength: 24 }) },
    { name: 'SYNCHRONIZE CACHE(10)', c: cdb.synchronizeCache10() },
    { name: 'SYNCHRONIZE CACHE(16)', c: cdb.synchronizeCache16() },
    { name: 'REPORT LUNS', c: cdb.reportLuns() },
    { name: 'REPORT SUPPORTED OPERATION CODES', c: cdb.reportSupportedOperationCodes() },
    { name: 'EXTENDED COPY', c: cdb.extendedCopy(0) },
    { name: 'RECEIVE COPY RESULTS', c: cdb.receiveCopyResults({ serviceAction: 3 }) },
    { name: 'RESERVE(6)', c: cdb.reserve6() },
    { name: 'RELEASE(6)', c: cdb.release6() },
    { name: 'RESERVE(10)', c: cdb.reserve10() },
    { name: 'RELEASE(10)', c: cdb.release10() },
  ];

  it.each(COMMANDS)('CDB too short: $name one byte short is INVALID FIELD IN CDB and changes nothing', async ({ c, data }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.subarray(0, c.length - 1), data), Sense.INVALID_FIELD_IN_CDB);
    expect(lun.reservedBy).toBeUndefined();
  });

  it.each(COMMANDS.filter((x) => x.data === undefined && !['UNMAP', 'EXTENDED COPY', 'COMPARE AND WRITE'].includes(x.name)))(
    'Data-Out length mismatch: $name with one byte of Data-Out is INVALID FIELD IN CDB',
    async ({ c }) => {
      const { array, lun } = makeFixture();
      await populate(lun);
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c, new Uint8Array(1)), Sense.INVALID_FIELD_IN_CDB);
      expect(lun.reservedBy).toBeUndefined();
    },
  );

  it('an empty CDB is rejected without throwing', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, new Uint8Array(0));
    expect(r.status).toBe(2);
    expect(r.sense![2]! & 0x0f).toBe(0x05);
  });

  it('a CDB longer than its opcode needs is accepted (extra bytes ignored)', async () => {
    const { lun } = makeFixture();
    const c = new Uint8Array(16);
    c.set(cdb.testUnitReady());
    expectGood(await exec(lun, c));
  });

  it.each(COMMANDS.filter((x) => !['INQUIRY', 'REQUEST SENSE'].includes(x.name)))(
    'a LUN the initiator may not access: $name is LOGICAL UNIT NOT SUPPORTED and changes nothing',
    async ({ c, data }) => {
      const array = makeArray();
      const lun = array.createLun({ sizeBytes: LUN_BYTES, initiators: [HOST_A] });
      await writeBlocks(lun, 0, filled(8, 0x5a), HOST_A);
      await expectFailsCleanly(array, [{ lun, lba: 0, blocks: 16 }], () => exec(lun, c, data, HOST_B), Sense.LOGICAL_UNIT_NOT_SUPPORTED);
      expect(lun.reservedBy).toBeUndefined();
    },
  );

  it('a failing command leaves the pool exactly as it was (thin pool out of space)', async () => {
    const { array, lun } = makeFixture({}, { capacityBytes: MiB });
    await writeBlocks(lun, 0, filled(1, 1));
    await expectFailsCleanly(array, [{ lun, lba: 0, blocks: 4096 }], () => exec(lun, cdb.write16({ lba: 2048, blocks: 1 }), filled(1, 2)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
  });
});
