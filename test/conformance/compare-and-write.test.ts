/**
 * COMPARE AND WRITE (SBC-3 5.2; docs/decisions/compare-and-write.md and the libiscsi CompareAndWrite suite, docs/decisions/libiscsi.md): simple,
 * miscompare (at every byte offset of a block, and in multi-block commands), unwritten blocks, DPO/FUA
 * against MODE SENSE DPOFUA, limits from VPD B0, Data-Out size, beyond-eol, out of space, atomicity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cdb, type Lun, type StorageArray } from '../../src/index.js';
import {
  BLOCK,
  LUN_BLOCKS,
  MiB,
  Sense,
  UNIT_BLOCKS,
  cdbField,
  concat,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  expectRawFixedSense,
  expectSense,
  filled,
  isZero,
  makeFixture,
  pattern,
  populate,
  readBlocks,
  readProfile,
  setU64,
  snapshot,
  expectUnchanged,
  writeBlocks,
  type Range,
} from './helpers.js';

const A = 0x41; // 'A'
const B = 0x42; // 'B'

/** COMPARE AND WRITE Data-Out: `verify` then `write`. */
const caw = (lba: number, blocks: number, f: { dpo?: boolean; fua?: boolean; wrprotect?: number } = {}): Uint8Array => cdb.compareAndWrite({ lba, blocks, ...f });

describe('COMPARE AND WRITE', () => {
  it.each([1, 2, 3, 16, 64, 255])('COMPARE AND WRITE/simple %i blocks at LBA 0 and at the end', async (n) => {
    const { lun } = makeFixture();
    const p = await readProfile(lun);
    expect(n).toBeLessThanOrEqual(p.maximumCompareAndWriteLength || 255);
    for (const lba of [0, p.numBlocks - n]) {
      await writeBlocks(lun, lba, filled(n, A));
      expectGood(await exec(lun, caw(lba, n), concat(filled(n, A), filled(n, B))));
      expectBytes(await readBlocks(lun, lba, n), filled(n, B));
    }
  });

  it('COMPARE AND WRITE/simple with pattern data writes exactly the write half', async () => {
    const { lun } = makeFixture();
    const old = pattern(8 * BLOCK, 1);
    const next = pattern(8 * BLOCK, 2);
    await writeBlocks(lun, 4000, old);
    await writeBlocks(lun, 4008, filled(1, 0x99));
    expectGood(await exec(lun, caw(4000, 8), concat(old, next)));
    expectBytes(await readBlocks(lun, 4000, 8), next);
    expectBytes(await readBlocks(lun, 4008, 1), filled(1, 0x99), 'block after the range');
  });

  it.each([
    { limit: 1, blocks: 2 },
    { limit: 16, blocks: 17 },
    { limit: 254, blocks: 255 },
  ])('COMPARE AND WRITE/NUMBER OF LOGICAL BLOCKS $blocks above MAXIMUM COMPARE AND WRITE LENGTH $limit is INVALID FIELD IN CDB', async ({ limit, blocks }) => {
    const { array, lun } = makeFixture({ limits: { maximumCompareAndWriteLength: limit } });
    await populate(lun);
    const p = await readProfile(lun);
    expect(p.maximumCompareAndWriteLength).toBe(limit);
    await writeBlocks(lun, 0, filled(limit, A));
    expectGood(await exec(lun, caw(0, limit), concat(filled(limit, A), filled(limit, B))));
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, caw(0, blocks), concat(filled(blocks, A), filled(blocks, B))), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(13) });
  });

  it.each([1, 2, 8, 255])('COMPARE AND WRITE/miscompare %i blocks: byte n*bs-27 differs, 0E/1D/00, medium unchanged', async (n) => {
    const { array, lun } = makeFixture();
    for (const lba of [0, LUN_BLOCKS - n]) {
      await writeBlocks(lun, lba, filled(n, A));
      const verify = filled(n, A);
      const offset = n * BLOCK - 27;
      verify[offset] = 0x3f;
      const ranges: Range[] = [{ lun, lba, blocks: n }];
      await expectFailsCleanly(array, ranges, () => exec(lun, caw(lba, n), concat(verify, filled(n, B))), { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: offset });
      expectBytes(await readBlocks(lun, lba, n), filled(n, A));
    }
  });

  describe('COMPARE AND WRITE/miscompare-sense at every byte offset of a 512-byte block', () => {
    let array: StorageArray;
    let lun: Lun;
    const old = pattern(BLOCK, 77);
    const LBA = 300;
    beforeAll(async () => {
      ({ array, lun } = makeFixture());
      await writeBlocks(lun, LBA - 1, concat(filled(1, 0x01), old, filled(1, 0x02)));
      // libiscsi MiscompareSense starts with a good one-block COMPARE AND WRITE.
      expectGood(await exec(lun, caw(LBA, 1), concat(old, old)));
    });
    const offsets = Array.from({ length: BLOCK }, (_, i) => i);
    it.each(offsets)('COMPARE AND WRITE/miscompare-sense offset %i', async (i) => {
      const verify = Uint8Array.from(old);
      verify[i] = verify[i]! ^ 0xff;
      const r = await expectFailsCleanly(array, [{ lun, lba: LBA - 1, blocks: 3 }], () => exec(lun, caw(LBA, 1), concat(verify, filled(1, B))), {
        ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION,
        information: i,
      });
      expectRawFixedSense(r.sense, { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: i, fieldPointer: null });
    });
  });

  it.each([0, 1, 511, 512, 513, 1023, 1024, 1536, 2047])('COMPARE AND WRITE/miscompare in a 4-block command at Data-Out offset %i', async (offset) => {
    const { array, lun } = makeFixture();
    const old = pattern(4 * BLOCK, 5);
    await writeBlocks(lun, UNIT_BLOCKS - 2, old); // straddles two allocation units
    const verify = Uint8Array.from(old);
    verify[offset] = verify[offset]! ^ 0x01;
    const r = await expectFailsCleanly(array, [{ lun, lba: UNIT_BLOCKS - 3, blocks: 6 }], () => exec(lun, caw(UNIT_BLOCKS - 2, 4), concat(verify, pattern(4 * BLOCK, 6))), {
      ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION,
      information: offset,
    });
    expectRawFixedSense(r.sense, { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: offset });
  });

  it('COMPARE AND WRITE/miscompare reports the FIRST differing byte', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, filled(2, A));
    const verify = filled(2, A);
    verify[700] = 0;
    verify[100] = 0;
    verify[1000] = 0;
    expectSense(await exec(lun, caw(0, 2), concat(verify, filled(2, B))), { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: 100 });
  });

  it('COMPARE AND WRITE/a difference in the write half only is not a miscompare', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, filled(1, A));
    expectGood(await exec(lun, caw(0, 1), concat(filled(1, A), filled(1, A))));
    expectBytes(await readBlocks(lun, 0, 1), filled(1, A));
  });

  it('COMPARE AND WRITE/unwritten: blocks never written miscompare against non-zero verify data (1D/00, not 1D/01)', async () => {
    const { array, lun } = makeFixture();
    for (const lba of [1, 2, 100, 255, 256]) {
      await expectFailsCleanly(array, [{ lun, lba, blocks: 1 }], () => exec(lun, caw(lba, 1), concat(filled(1, 0x25), filled(1, B))), {
        ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION,
        information: 0,
      });
      expect(isZero(await readBlocks(lun, lba, 1))).toBe(true);
    }
    expect(array.poolStatus.allocatedUnits).toBe(0);
  });

  it('COMPARE AND WRITE/unwritten blocks compare equal to zeros (LBPRZ) and are then written', async () => {
    const { array, lun } = makeFixture();
    expectGood(await exec(lun, caw(7, 2), concat(filled(2, 0), filled(2, B))));
    expectBytes(await readBlocks(lun, 7, 2), filled(2, B));
    expect(array.poolStatus.allocatedUnits).toBe(1);
  });

  it.each([
    { dpo: true, fua: false },
    { dpo: false, fua: true },
    { dpo: true, fua: true },
  ])('COMPARE AND WRITE/DPO=$dpo FUA=$fua follows MODE SENSE DPOFUA', async (f) => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 0, filled(1, A));
    const p = await readProfile(lun);
    if (p.dpofua) {
      expectGood(await exec(lun, caw(0, 1, f), concat(filled(1, A), filled(1, B))));
      expectBytes(await readBlocks(lun, 0, 1), filled(1, B));
    } else {
      await expectFailsCleanly(array, [{ lun, lba: 0, blocks: 1 }], () => exec(lun, caw(0, 1, f), concat(filled(1, A), filled(1, B))), Sense.INVALID_FIELD_IN_CDB);
    }
  });

  it('COMPARE AND WRITE/REPORT SUPPORTED OPERATION CODES usage byte 1 & 0x18 is non-zero iff DPOFUA', async () => {
    const { lun } = makeFixture();
    const p = await readProfile(lun);
    const r = await exec(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x89 }));
    expectGood(r);
    expect(r.data![1]! & 0x07).toBe(3);
    expect(r.data![4]).toBe(0x89);
    expect((r.data![5]! & 0x18) !== 0).toBe(p.dpofua);
  });

  it('COMPARE AND WRITE/zero-blocks is GOOD, needs no Data-Out and changes nothing', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const snap = snapshot(array, defaultRanges(lun));
    expectGood(await exec(lun, caw(0, 0)));
    expectGood(await exec(lun, caw(LUN_BLOCKS - 1, 0)));
    expectUnchanged(array, snap);
  });

  it('COMPARE AND WRITE/zero-blocks with Data-Out is rejected', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, caw(0, 0), concat(filled(1, A), filled(1, B))), Sense.INVALID_FIELD_IN_CDB);
  });

  it.each([1, 2, 16, 255])('COMPARE AND WRITE/beyond-eol %i blocks one block past the end', async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, caw(LUN_BLOCKS - n + 1, n), concat(filled(n, 0), filled(n, B))), Sense.LBA_OUT_OF_RANGE);
  });

  it.each(['num_blocks', '2^31', '2^32', '2^63', '2^64 - 1'])('COMPARE AND WRITE/beyond-eol 1 block at LBA %s', async (where) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const lba = { num_blocks: BigInt(LUN_BLOCKS), '2^31': 2n ** 31n, '2^32': 2n ** 32n, '2^63': 2n ** 63n, '2^64 - 1': 2n ** 64n - 1n }[where]!;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, setU64(caw(0, 1), 2, lba), concat(filled(1, 0), filled(1, B))), Sense.LBA_OUT_OF_RANGE);
  });

  it('COMPARE AND WRITE/the last block of the LUN can be compared and written (no off-by-one)', async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, caw(LUN_BLOCKS - 1, 1), concat(filled(1, 0), filled(1, B))));
    expectBytes(await readBlocks(lun, LUN_BLOCKS - 1, 1), filled(1, B));
  });

  it.each([1, 2, 3, 4, 5, 6, 7])('COMPARE AND WRITE/WRPROTECT=%i without protection information is INVALID FIELD IN CDB', async (w) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, caw(0, 1, { wrprotect: w }), concat(pattern(BLOCK, 7), filled(1, B))), {
      ...Sense.INVALID_FIELD_IN_CDB,
      fieldPointer: cdbField(1, 7),
    });
  });

  it.each([
    { what: 'NLB 1 with 4 blocks of Data-Out', blocks: 1, bytes: 4 * BLOCK },
    { what: 'NLB 3 with 4 blocks of Data-Out', blocks: 3, bytes: 4 * BLOCK },
    { what: 'only the verify half', blocks: 2, bytes: 2 * BLOCK },
    { what: 'one byte short', blocks: 2, bytes: 4 * BLOCK - 1 },
    { what: 'one byte long', blocks: 2, bytes: 4 * BLOCK + 1 },
    { what: 'none', blocks: 2, bytes: 0 },
  ])('COMPARE AND WRITE/invalid-dataout-size $what', async ({ blocks, bytes }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const data = bytes === 0 ? undefined : concat(pattern(BLOCK * 4, 7), filled(4, B)).subarray(0, bytes);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, caw(0, blocks), data), Sense.INVALID_FIELD_IN_CDB);
  });

  it('COMPARE AND WRITE/out of space: a matching compare whose write needs a new unit is 07/27/07 and writes nothing', async () => {
    const { array, lun } = makeFixture({}, { capacityBytes: MiB });
    await writeBlocks(lun, 0, filled(1, A)); // the only unit
    expect(array.poolStatus.freeBytes).toBe(0);
    await expectFailsCleanly(array, [{ lun, lba: UNIT_BLOCKS, blocks: 1 }], () => exec(lun, caw(UNIT_BLOCKS, 1), concat(filled(1, 0), filled(1, B))), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    // A mapped block needs no space.
    expectGood(await exec(lun, caw(0, 1), concat(filled(1, A), filled(1, B))));
  });

  it('COMPARE AND WRITE/is atomic across initiators: the second identical ATS miscompares', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 10, filled(1, A));
    const data = concat(filled(1, A), filled(1, B));
    const [r1, r2] = await Promise.all([exec(lun, caw(10, 1), data, 'host-a'), exec(lun, caw(10, 1), data, 'host-b')]);
    const statuses = [r1.status, r2.status].sort();
    expect(statuses).toEqual([0, 2]);
    expectSense(r1.status === 2 ? r1 : r2, { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: 0 });
  });
});
