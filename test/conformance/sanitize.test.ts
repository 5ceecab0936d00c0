/**
 * SANITIZE (SBC-4 5.30; libiscsi Sanitize.*): BLOCK ERASE and CRYPTOGRAPHIC ERASE deallocate the
 * whole thin LUN (reads then return zeros, GOOD), EXIT FAILURE MODE answers GOOD, reserved bits and
 * bytes and a non-zero PARAMETER LIST LENGTH are INVALID FIELD IN CDB, OVERWRITE and every other
 * service action are INVALID FIELD IN CDB, SWP and SCSI-2 reservations
 * stop it; on a thick LUN the opcode is not implemented (docs/decisions/sanitize.md).
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import {
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
  filled,
  isZero,
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
  const UNSUPPORTED = Array.from({ length: 32 }, (_, sa) => sa).filter((sa) => !ALL.some((c) => c.sa === sa));

  it.each(UNSUPPORTED)('service action %i (OVERWRITE is 1): INVALID FIELD IN CDB, nothing changes', async (sa) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.sanitize({ serviceAction: sa })), Sense.INVALID_FIELD_IN_CDB);
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
