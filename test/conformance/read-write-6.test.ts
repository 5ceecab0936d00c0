/**
 * READ(6) and WRITE(6) (SBC-4; libiscsi Read6): a 21-bit LBA, TRANSFER LENGTH 0 meaning 256 blocks,
 * beyond the end, MAXIMUM TRANSFER LENGTH, Data-Out size, thin out-of-space and reservation conflict.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import {
  BLOCK,
  HOST_A,
  HOST_B,
  MiB,
  Sense,
  Status,
  cdbField,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  isZero,
  makeFixture,
  pattern,
  populate,
  readBlocks,
  writeBlocks,
} from './helpers.js';

/** A LUN small enough for a 21-bit LBA to reach its end (libiscsi skips READ(6) at EOL above 2^21 blocks). */
const SMALL = { sizeBytes: 4 * MiB };
const SMALL_BLOCKS = (4 * MiB) / BLOCK;

describe('READ(6)', () => {
  it.each([1, 7, 255])('READ(6)/simple %i blocks at LBA 0 and at the last LBAs', async (n) => {
    const { lun } = makeFixture(SMALL);
    for (const lba of [0, SMALL_BLOCKS - n]) {
      const data = pattern(n * BLOCK, lba + n);
      await writeBlocks(lun, lba, data);
      const r = await exec(lun, cdb.read6({ lba, blocks: n }));
      expectGood(r);
      expectBytes(r.data, data);
    }
  });

  it('READ(6)/TRANSFER LENGTH 0 transfers 256 blocks', async () => {
    const { lun } = makeFixture();
    const data = pattern(256 * BLOCK, 3);
    await writeBlocks(lun, 100, data);
    const c = cdb.read6({ lba: 100, blocks: 256 });
    expect(c[4]).toBe(0);
    const r = await exec(lun, c);
    expectGood(r);
    expectBytes(r.data, data);
    expect(r.work?.mediaReadBytes).toBe(256 * BLOCK);
    expect(r.work?.dataInBytes).toBe(256 * BLOCK);
  });

  it('READ(6)/unwritten blocks read as zeros', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.read6({ lba: 5000, blocks: 8 }));
    expectGood(r);
    expect(r.data?.length).toBe(8 * BLOCK);
    expect(isZero(r.data!)).toBe(true);
  });

  it('READ(6)/the LBA is 21 bits: byte 1 bits 7:5 are not part of it', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0x10203, pattern(BLOCK, 1));
    const c = cdb.read6({ lba: 0x10203, blocks: 1 });
    expect([...c]).toEqual([0x08, 0x01, 0x02, 0x03, 0x01, 0x00]);
    c[1]! |= 0xe0; // reserved (the SCSI-2 LUN field): not evaluated
    const r = await exec(lun, c);
    expectGood(r);
    expectBytes(r.data, pattern(BLOCK, 1));
  });

  it('READ(6)/beyond the end: 1-255 blocks one past, all but one past, and at LBA 1FFFFFh', async () => {
    const { array, lun } = makeFixture(SMALL);
    for (const n of [1, 2, 255]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.read6({ lba: SMALL_BLOCKS + 1 - n, blocks: n })), { ...Sense.LBA_OUT_OF_RANGE, information: null, fieldPointer: null });
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.read6({ lba: 0x1fffff, blocks: n })), Sense.LBA_OUT_OF_RANGE);
    }
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.read6({ lba: SMALL_BLOCKS - 1, blocks: 2 })), Sense.LBA_OUT_OF_RANGE);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.read6({ lba: SMALL_BLOCKS - 255, blocks: 256 })), Sense.LBA_OUT_OF_RANGE);
  });

  it('READ(6)/more blocks than MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB at byte 4', async () => {
    const { array, lun } = makeFixture({ limits: { maximumTransferLength: 16 } });
    expectGood(await exec(lun, cdb.read6({ lba: 0, blocks: 16 })));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.read6({ lba: 0, blocks: 17 })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(4) });
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.read6({ lba: 0, blocks: 256 })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(4) });
  });

  it('READ(6)/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT', async () => {
    const { array, lun } = makeFixture();
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    expectGood(await exec(lun, cdb.read6({ lba: 0, blocks: 1 }), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.read6({ lba: 0, blocks: 1 }), undefined, HOST_B), Status.RESERVATION_CONFLICT);
  });
});

describe('WRITE(6)', () => {
  it.each([1, 7, 255, 256])('WRITE(6)/simple %i blocks at LBA 0 and at the last LBAs', async (n) => {
    const { lun } = makeFixture(SMALL);
    for (const lba of [0, SMALL_BLOCKS - n]) {
      const data = pattern(n * BLOCK, lba + n);
      const r = await exec(lun, cdb.write6({ lba, blocks: n }), data);
      expectGood(r);
      expect(r.work?.mediaWriteBytes).toBe(n * BLOCK);
      expect(r.work?.dataOutBytes).toBe(n * BLOCK);
      expectBytes(await readBlocks(lun, lba, n), data);
    }
  });

  it('WRITE(6)/beyond the end and at LBA 1FFFFFh: LBA OUT OF RANGE, nothing written', async () => {
    const { array, lun } = makeFixture(SMALL);
    await populate(lun);
    for (const n of [1, 2, 255]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.write6({ lba: SMALL_BLOCKS + 1 - n, blocks: n }), pattern(n * BLOCK, 1)), Sense.LBA_OUT_OF_RANGE);
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.write6({ lba: 0x1fffff, blocks: n }), pattern(n * BLOCK, 1)), Sense.LBA_OUT_OF_RANGE);
    }
  });

  it.each([0, BLOCK - 1, BLOCK + 1, 2 * BLOCK])('WRITE(6)/Data-Out of %i bytes for 1 block is INVALID FIELD IN CDB and changes nothing', async (bytes) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.write6({ lba: 0, blocks: 1 }), pattern(bytes, 2)), Sense.INVALID_FIELD_IN_CDB);
  });

  it('WRITE(6)/TRANSFER LENGTH 0 expects 256 blocks of Data-Out', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.write6({ lba: 0, blocks: 0 }), undefined), Sense.INVALID_FIELD_IN_CDB);
    expectGood(await exec(lun, cdb.write6({ lba: 0, blocks: 0 }), pattern(256 * BLOCK, 5)));
    expectBytes(await readBlocks(lun, 0, 256), pattern(256 * BLOCK, 5));
  });

  it('WRITE(6)/a write that must allocate in an exhausted pool: SPACE ALLOCATION FAILED WRITE PROTECT', async () => {
    const { array, lun } = makeFixture({ sizeBytes: 8 * MiB }, { capacityBytes: 2 * MiB });
    await writeBlocks(lun, 0, pattern(2 * (MiB / BLOCK) * BLOCK, 4));
    expect(array.poolStatus.freeBytes).toBe(0);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.write6({ lba: 3 * (MiB / BLOCK), blocks: 1 }), pattern(BLOCK, 6)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    // Overwriting allocated blocks needs no space.
    expectGood(await exec(lun, cdb.write6({ lba: 0, blocks: 1 }), pattern(BLOCK, 6)));
  });

  it('WRITE(6)/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.write6({ lba: 0, blocks: 1 }), pattern(BLOCK, 8), HOST_B), Status.RESERVATION_CONFLICT);
  });
});
