/**
 * ORWRITE(16) (SBC-4; libiscsi OrWrite.Simple/BeyondEol/ZeroBlocks/Protect/DpoFua/Verify): the
 * Data-Out ORed into the medium (unmapped blocks as zeros), zero blocks, beyond the end, ORPROTECT,
 * DPO/FUA and GROUP NUMBER, MAXIMUM TRANSFER LENGTH, Data-Out size, thin allocation and an exhausted
 * pool, the work record, CDB USAGE DATA and reservation conflict.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import {
  BLOCK,
  HOST_A,
  HOST_B,
  LUN_BLOCKS,
  MiB,
  Sense,
  Status,
  cdbField,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  filled,
  makeFixture,
  pattern,
  populate,
  readBlocks,
  readProfile,
  setU64,
  writeBlocks,
} from './helpers.js';

const orwrite = cdb.orwrite16;

/** `a | b`, byte for byte. */
function or(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x | b[i]!);
}

describe('ORWRITE(16)', () => {
  it.each([1, 8, 256])('ORWRITE(16)/verify: zeros | A5h is A5h, then | 5Ah is FFh, %i blocks at the start and at the end', async (n) => {
    const { lun } = makeFixture();
    for (const lba of [0, LUN_BLOCKS - n]) {
      await writeBlocks(lun, lba, filled(n, 0x00));
      const r = await exec(lun, orwrite({ lba, blocks: n }), filled(n, 0xa5));
      expectGood(r);
      expect(r.data).toBeUndefined();
      expect(r.work).toMatchObject({ dataOutBytes: n * BLOCK, dataInBytes: 0, mediaReadBytes: n * BLOCK, mediaWriteBytes: n * BLOCK });
      expectBytes(await readBlocks(lun, lba, n), filled(n, 0xa5), 'after A5h');
      expectGood(await exec(lun, orwrite({ lba, blocks: n }), filled(n, 0x5a)));
      expectBytes(await readBlocks(lun, lba, n), filled(n, 0xff), 'after 5Ah');
    }
  });

  it('ORWRITE(16)/arbitrary data ORs byte for byte and leaves the blocks around the range alone', async () => {
    const { lun } = makeFixture();
    const medium = pattern(12 * BLOCK, 3);
    await writeBlocks(lun, 100, medium);
    const data = pattern(10 * BLOCK, 4);
    expectGood(await exec(lun, orwrite({ lba: 101, blocks: 10 }), data));
    const expected = medium.slice();
    expected.set(or(medium.subarray(BLOCK, 11 * BLOCK), data), BLOCK);
    expectBytes(await readBlocks(lun, 100, 12), expected);
  });

  it('ORWRITE(16)/a Data-Out that is not word-aligned ORs the same', async () => {
    const { lun } = makeFixture();
    const medium = pattern(3 * BLOCK, 5);
    await writeBlocks(lun, 0, medium);
    const backing = new Uint8Array(3 * BLOCK + 1);
    backing.set(pattern(3 * BLOCK, 6), 1);
    const data = backing.subarray(1);
    expectGood(await exec(lun, orwrite({ lba: 0, blocks: 3 }), data));
    expectBytes(await readBlocks(lun, 0, 3), or(medium, pattern(3 * BLOCK, 6)));
  });

  it('ORWRITE(16)/unmapped blocks read as zeros: the result is the Data-Out, and the blocks become mapped', async () => {
    const { array, lun } = makeFixture();
    const before = array.poolStatus.freeBytes;
    const data = pattern(4 * BLOCK, 7);
    expectGood(await exec(lun, orwrite({ lba: 8 * (MiB / BLOCK), blocks: 4 }), data));
    expectBytes(await readBlocks(lun, 8 * (MiB / BLOCK), 4), data);
    expect(array.poolStatus.freeBytes).toBe(before - MiB);
  });

  it('ORWRITE(16)/zero blocks: GOOD with no Data-Out and no work; beyond the end LBA OUT OF RANGE', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus;
    const r = await exec(lun, orwrite({ lba: 0, blocks: 0 }));
    expectGood(r);
    expect(r.work).toMatchObject({ dataOutBytes: 0, mediaReadBytes: 0, mediaWriteBytes: 0 });
    expect(array.poolStatus).toEqual(before);
    for (const x of [orwrite({ lba: LUN_BLOCKS + 1, blocks: 0 }), setU64(orwrite({ lba: 0, blocks: 0 }), 2, 2n ** 63n), setU64(orwrite({ lba: 0, blocks: 0 }), 2, 2n ** 64n - 1n)]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x), Sense.LBA_OUT_OF_RANGE);
    }
  });

  it.each([1, 2, 256])('ORWRITE(16)/beyond the end with %i blocks: LBA OUT OF RANGE, nothing written', async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const xs = [orwrite({ lba: LUN_BLOCKS + 1 - n, blocks: n }), setU64(orwrite({ lba: 0, blocks: n }), 2, 2n ** 63n), setU64(orwrite({ lba: 0, blocks: n }), 2, 2n ** 64n - 1n)];
    if (n > 1) xs.push(orwrite({ lba: LUN_BLOCKS - 1, blocks: n }));
    for (const x of xs) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x, filled(n, 0xa6)), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([1, 2, 3, 4, 5, 6, 7])('ORWRITE(16)/ORPROTECT %i (no protection information) is INVALID FIELD IN CDB at byte 1 bit 7', async (protect) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, orwrite({ lba: 0, blocks: 1, protect }), filled(1, 0xa6)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 7) });
  });

  it.each([
    { dpo: true, fua: false, group: 0 },
    { dpo: false, fua: true, group: 0 },
    { dpo: true, fua: true, group: 0x1f },
  ])('ORWRITE(16)/DPO, FUA and GROUP NUMBER %o are accepted (DPOFUA = 1)', async ({ group, ...f }) => {
    const { lun } = makeFixture();
    expect((await readProfile(lun)).dpofua).toBe(true);
    const c = orwrite({ lba: 0, blocks: 1, ...f });
    c[14] = group;
    expectGood(await exec(lun, c, filled(1, 0xa6)));
    expectBytes(await readBlocks(lun, 0, 1), filled(1, 0xa6));
  });

  it('ORWRITE(16)/more blocks than MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB at TRANSFER LENGTH', async () => {
    const { array, lun } = makeFixture({ limits: { maximumTransferLength: 16 } });
    await populate(lun);
    expectGood(await exec(lun, orwrite({ lba: 0, blocks: 16 }), filled(16, 0x01)));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, orwrite({ lba: 0, blocks: 17 }), filled(17, 0x01)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(10) });
  });

  it.each([0, BLOCK, 2 * BLOCK - 1, 3 * BLOCK])('ORWRITE(16)/%i bytes of Data-Out for 2 blocks is refused and writes nothing', async (bytes) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, orwrite({ lba: 0, blocks: 2 }), pattern(bytes, 3)), Sense.INVALID_FIELD_IN_CDB);
  });

  it('ORWRITE(16)/an exhausted thin pool: 07/27/07 and nothing written where a unit must be allocated; GOOD where the unit is mapped', async () => {
    const { array, lun } = makeFixture({}, { capacityBytes: 2 * MiB });
    const medium = pattern(2 * MiB, 4);
    await writeBlocks(lun, 0, medium);
    expect(array.poolStatus.freeBytes).toBe(0);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, orwrite({ lba: 3 * (MiB / BLOCK), blocks: 1 }), filled(1, 0x80)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    expectGood(await exec(lun, orwrite({ lba: 5, blocks: 2 }), filled(2, 0x80)));
    expectBytes(await readBlocks(lun, 5, 2), or(medium.subarray(5 * BLOCK, 7 * BLOCK), filled(2, 0x80)));
  });

  it('ORWRITE(16)/REPORT SUPPORTED OPERATION CODES: supported, 16 bytes, usage ORPROTECT/DPO/FUA, LBA and TRANSFER LENGTH', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x8b }));
    expectGood(r);
    expectBytes(r.data, Uint8Array.from([0, 0x03, 0, 16, 0x8b, 0xf8, ...new Array<number>(12).fill(0xff), 0, 0]));
  });

  it('ORWRITE(16)/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, orwrite({ lba: 0, blocks: 1 }), filled(1, 0xa6), HOST_B), Status.RESERVATION_CONFLICT);
    expectGood(await exec(lun, orwrite({ lba: 0, blocks: 1 }), filled(1, 0xa6), HOST_A));
  });
});
