/**
 * WRITE SAME(10) and WRITE SAME(16) (SBC-3 5.41/5.42; docs/decisions/write-same.md and libiscsi WriteSame10 and
 * WriteSame16 suites). Expectations that depend on what the LUN advertises (WSNZ, MAXIMUM WRITE
 * SAME LENGTH, LBPWS/LBPWS10, LBPRZ, ANC_SUP) are computed from the VPD pages read back.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import {
  BLOCK,
  LUN_BLOCKS,
  MiB,
  Sense,
  UNIT_BLOCKS,
  cdbField,
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
  setU32,
  setU64,
  writeBlocks,
  type SenseExpectation,
} from './helpers.js';

type WsFields = Parameters<typeof cdb.writeSame16>[0];

interface WsCase {
  readonly name: 'WRITE SAME(10)' | 'WRITE SAME(16)';
  readonly build: (f: WsFields) => Uint8Array;
  readonly lbaBytes: 4 | 8;
  /** Where NUMBER OF LOGICAL BLOCKS sits. */
  readonly blocksAt: number;
  /** Largest NUMBER OF LOGICAL BLOCKS the field holds. */
  readonly maxBlocksField: number;
  /** Which VPD B2 bit allows UNMAP = 1 with this CDB. */
  readonly unmapBit: 'lbpws10' | 'lbpws';
}

const CASES: readonly WsCase[] = [
  { name: 'WRITE SAME(10)', build: cdb.writeSame10, lbaBytes: 4, blocksAt: 7, maxBlocksField: 0xffff, unmapBit: 'lbpws10' },
  { name: 'WRITE SAME(16)', build: cdb.writeSame16, lbaBytes: 8, blocksAt: 10, maxBlocksField: 0xffffffff, unmapBit: 'lbpws' },
];

function withLba(c: WsCase, lba: bigint, blocks: number): Uint8Array {
  const x = c.build({ lba: 0, blocks });
  return c.lbaBytes === 8 ? setU64(x, 2, lba) : setU32(x, 2, Number(lba));
}

/** The expected result of a WRITE SAME with NUMBER OF LOGICAL BLOCKS = 0 at `lba` (libiscsi ZeroBlocks; docs/decisions/write-same.md). */
function zeroBlocksExpectation(p: { wsnz: boolean; maximumWriteSameLength: number }, c: WsCase, lba: number, numBlocks: number): 'GOOD' | SenseExpectation {
  if (lba > numBlocks) return Sense.LBA_OUT_OF_RANGE;
  if (p.wsnz) return { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(c.blocksAt) };
  const effective = numBlocks - lba;
  if (p.maximumWriteSameLength > 0 && effective > p.maximumWriteSameLength) return Sense.INVALID_FIELD_IN_CDB;
  return 'GOOD';
}

describe.each(CASES)('$name', (c) => {
  it.each([1, 2, 8, 255, 256])(`${c.name}/simple %i blocks at LBA 0 and at the end`, async (n) => {
    const { lun } = makeFixture();
    for (const lba of [0, LUN_BLOCKS - n]) {
      const block = pattern(BLOCK, n);
      expectGood(await exec(lun, c.build({ lba, blocks: n }), block));
      const back = await readBlocks(lun, lba, n);
      for (let i = 0; i < n; i++) expectBytes(back.subarray(i * BLOCK, (i + 1) * BLOCK), block, `block ${i}`);
    }
  });

  it(`${c.name}/check: a block filled with byte n is written to n blocks and no further`, async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 100, filled(300, 0xee));
    for (const n of [1, 17, 200]) {
      expectGood(await exec(lun, c.build({ lba: 100, blocks: n }), filled(1, n)));
      const back = await readBlocks(lun, 100, n + 1);
      expectBytes(back.subarray(0, n * BLOCK), filled(n, n));
      expectBytes(back.subarray(n * BLOCK), filled(1, 0xee), 'the block after the range');
    }
  });

  it(`${c.name}/a zero block deallocates whole units and zeroes partial ones (no space needed)`, async () => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 0, pattern(3 * UNIT_BLOCKS * BLOCK, 1));
    expect(array.poolStatus.allocatedUnits).toBe(3);
    // From the middle of unit 0 to the middle of unit 2: unit 1 is freed, units 0 and 2 stay.
    const lba = UNIT_BLOCKS / 2;
    const n = 2 * UNIT_BLOCKS;
    expectGood(await exec(lun, c.build({ lba, blocks: n }), filled(1, 0)));
    expect(array.poolStatus.allocatedUnits).toBe(2);
    expect(isZero(await readBlocks(lun, lba, n))).toBe(true);
    expectBytes(await readBlocks(lun, 0, lba), pattern(3 * UNIT_BLOCKS * BLOCK, 1).subarray(0, lba * BLOCK));
  });

  it.each([1, 2, 16, 256])(`${c.name}/beyond-eol %i blocks one block past the end`, async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: LUN_BLOCKS - n + 1, blocks: n }), filled(1, 0xaa)), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([2, 3, 256])(`${c.name}/beyond-eol %i blocks at the last LBA`, async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: LUN_BLOCKS - 1, blocks: n }), filled(1, 0xaa)), Sense.LBA_OUT_OF_RANGE);
  });

  const far = c.lbaBytes === 4 ? [2n ** 31n, 2n ** 32n - 1n] : [2n ** 31n, 2n ** 63n, 2n ** 64n - 1n];
  it.each(far.map(String))(`${c.name}/beyond-eol 1 block at LBA %s`, async (lba) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, withLba(c, BigInt(lba), 1), filled(1, 0xaa)), Sense.LBA_OUT_OF_RANGE);
  });

  it(`${c.name}/beyond-eol with UNMAP = 1 and a zero block`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: LUN_BLOCKS - 10, blocks: 11, unmap: true }), filled(1, 0)), Sense.LBA_OUT_OF_RANGE);
  });

  it(`${c.name}/zero-blocks follows WSNZ and MAXIMUM WRITE SAME LENGTH from VPD B0`, async () => {
    const { array, lun } = makeFixture({ limits: { maximumWriteSameLength: 4096 } });
    await populate(lun);
    const p = await readProfile(lun);
    const lbas = [0, LUN_BLOCKS - (4096 + 1), LUN_BLOCKS - 4096, LUN_BLOCKS - 4095, LUN_BLOCKS + 1];
    for (const lba of lbas) {
      const expected = zeroBlocksExpectation(p, c, lba, p.numBlocks);
      if (expected === 'GOOD') expectGood(await exec(lun, c.build({ lba, blocks: 0 }), filled(1, 0)));
      else await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba, blocks: 0 }), filled(1, 0xab)), expected);
    }
    // LBA 2^31 (2^63 for the 16-byte CDB) and -1 with NUMBER OF LOGICAL BLOCKS = 0.
    for (const lba of c.lbaBytes === 4 ? [2n ** 31n, 2n ** 32n - 1n] : [2n ** 63n, 2n ** 64n - 1n]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, withLba(c, lba, 0), filled(1, 0xab)), Sense.LBA_OUT_OF_RANGE);
    }
  });

  it(`${c.name}/NUMBER OF LOGICAL BLOCKS above VPD B0 MAXIMUM WRITE SAME LENGTH is INVALID FIELD IN CDB`, async () => {
    const { array, lun } = makeFixture({ limits: { maximumWriteSameLength: 256 } });
    await populate(lun);
    const p = await readProfile(lun);
    expect(p.maximumWriteSameLength).toBe(256);
    expectGood(await exec(lun, c.build({ lba: 0, blocks: p.maximumWriteSameLength }), filled(1, 0x21)));
    for (const unmap of [false, true]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: p.maximumWriteSameLength + 1, unmap }), filled(1, 0)), {
        ...Sense.INVALID_FIELD_IN_CDB,
        fieldPointer: cdbField(c.blocksAt),
      });
    }
  });

  it(`${c.name}/the default MAXIMUM WRITE SAME LENGTH covers the whole test LUN (4.5 Unmap: 256 and 65536 blocks)`, async () => {
    const { array, lun } = makeFixture();
    const p = await readProfile(lun);
    for (const n of c.name === 'WRITE SAME(16)' ? [256, 65536] : [256, 65535]) {
      await writeBlocks(lun, 0, filled(Math.min(n, 4096), 0xff));
      const r = await exec(lun, c.build({ lba: 0, blocks: n, unmap: true }), filled(1, 0));
      if (p.maximumWriteSameLength === 0 || p.maximumWriteSameLength >= n) expectGood(r);
      else expectSense(r, Sense.INVALID_FIELD_IN_CDB);
    }
    expect(array.poolStatus.allocatedUnits).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6, 7])(`${c.name}/WRPROTECT=%i without protection information is INVALID FIELD IN CDB`, async (w) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const r = await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, wrprotect: w }), filled(1, 0x77)), {
      ...Sense.INVALID_FIELD_IN_CDB,
      fieldPointer: cdbField(1, 7),
    });
    expectRawFixedSense(r.sense, { ...Sense.INVALID_FIELD_IN_CDB, information: null, fieldPointer: cdbField(1, 7) });
  });

  it.each([
    { anchor: true, unmap: false },
    { anchor: true, unmap: true },
  ])(`${c.name}/ANCHOR=1 UNMAP=$unmap follows ANC_SUP`, async (f) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const p = await readProfile(lun);
    const good = f.unmap && p.ancSup;
    if (good) expectGood(await exec(lun, c.build({ lba: 0, blocks: 1, ...f }), filled(1, 0)));
    else await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, ...f }), filled(1, 0)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
  });

  const obsolete = c.name === 'WRITE SAME(10)' ? [{ bit: 2, what: 'PBDATA' }, { bit: 1, what: 'LBDATA' }] : [{ bit: 2, what: 'obsolete bit 2' }, { bit: 1, what: 'obsolete bit 1' }];
  it.each(obsolete)(`${c.name}/$what set is INVALID FIELD IN CDB`, async ({ bit }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const x = c.build({ lba: 0, blocks: 4 });
    x[1]! |= 1 << bit;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x, filled(1, 0x31)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, bit) });
  });

  it.each([
    { what: 'half a block', size: BLOCK / 2 },
    { what: 'one byte short', size: BLOCK - 1 },
    { what: 'one byte long', size: BLOCK + 1 },
    { what: 'two blocks', size: 2 * BLOCK },
    { what: 'none', size: 0 },
  ])(`${c.name}/invalid-dataout-size $what`, async ({ size }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    for (const unmap of [false, true]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 8, unmap }), size === 0 ? undefined : new Uint8Array(size).fill(0x55)), Sense.INVALID_FIELD_IN_CDB);
    }
  });

  it.each([1, 8, 256, UNIT_BLOCKS, 3 * UNIT_BLOCKS + 5])(`${c.name}/unmap %i blocks: GOOD, reads zeros when LBPRZ, whole units return to the pool`, async (n) => {
    const { array, lun } = makeFixture();
    const p = await readProfile(lun);
    expect(p.lbpme && p[c.unmapBit]).toBe(true);
    await writeBlocks(lun, 0, filled(n + 2 * UNIT_BLOCKS, 0xff));
    const before = array.poolStatus.allocatedUnits;
    expectGood(await exec(lun, c.build({ lba: 0, blocks: n, unmap: true }), filled(1, 0)));
    if (p.lbprz) expect(isZero(await readBlocks(lun, 0, n))).toBe(true);
    expectBytes(await readBlocks(lun, n, 1), filled(1, 0xff), 'block after the range');
    expect(array.poolStatus.allocatedUnits).toBe(before - Math.floor(n / UNIT_BLOCKS));
  });

  it(`${c.name}/unmap-unaligned: a range that covers no whole unit is GOOD and frees nothing`, async () => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, UNIT_BLOCKS - 8, filled(16, 0xff));
    expect(array.poolStatus.allocatedUnits).toBe(2);
    for (let i = 0; i < 8; i++) expectGood(await exec(lun, c.build({ lba: UNIT_BLOCKS - 8 + i, blocks: 8 - i, unmap: true }), filled(1, 0)));
    expect(isZero(await readBlocks(lun, UNIT_BLOCKS - 8, 8))).toBe(true);
    expectBytes(await readBlocks(lun, UNIT_BLOCKS, 8), filled(8, 0xff));
    expect(array.poolStatus.allocatedUnits).toBe(2);
  });

  it(`${c.name}/unmap-until-end from num_blocks - n`, async () => {
    const { array, lun } = makeFixture();
    const p = await readProfile(lun);
    await writeBlocks(lun, LUN_BLOCKS - UNIT_BLOCKS - 16, filled(UNIT_BLOCKS + 16, 0xff));
    const r = await exec(lun, c.build({ lba: LUN_BLOCKS - 16, blocks: 0, unmap: true }), filled(1, 0));
    if (p.wsnz) {
      expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(c.blocksAt) });
      expectBytes(await readBlocks(lun, LUN_BLOCKS - 16, 16), filled(16, 0xff));
    } else {
      expectGood(r);
      expect(isZero(await readBlocks(lun, LUN_BLOCKS - 16, 16))).toBe(true);
    }
    expect(array.poolStatus.allocatedUnits).toBe(2);
  });

  it(`${c.name}/UNMAP=1 unmaps whatever the Data-Out block holds (LBPRZ: the blocks read zero)`, async () => {
    // As LIO does, and as libiscsi's UnmapUntilEnd checks with a block of 0xFF.
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 0, filled(UNIT_BLOCKS + 3, 0xff));
    expectGood(await exec(lun, c.build({ lba: 0, blocks: UNIT_BLOCKS + 3, unmap: true }), filled(1, 0x42)));
    expect(isZero(await readBlocks(lun, 0, UNIT_BLOCKS + 3))).toBe(true);
    expect(array.poolStatus.allocatedUnits).toBe(1); // the whole unit went back to the pool; the partial one was zeroed
  });

  it(`${c.name}/unmap-vpd: UNMAP = 1 succeeds exactly when LBPME and ${c.unmapBit.toUpperCase()} are set`, async () => {
    for (const thin of [true, false]) {
      const { array, lun } = makeFixture({ thin });
      await populate(lun);
      const p = await readProfile(lun);
      const allowed = p.lbpme && p[c.unmapBit];
      expect(allowed).toBe(thin);
      if (allowed) expectGood(await exec(lun, c.build({ lba: 0, blocks: 1, unmap: true }), filled(1, 0)));
      else await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, unmap: true }), filled(1, 0)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 3) });
    }
  });

  it(`${c.name}/thick LUN: UNMAP = 0 writes the pattern and a zero block zeroes, pool unchanged`, async () => {
    const { array, lun } = makeFixture({ thin: false });
    const before = array.poolStatus;
    expectGood(await exec(lun, c.build({ lba: 5, blocks: 3000 }), filled(1, 0x66)));
    expectBytes(await readBlocks(lun, 5, 3000), filled(3000, 0x66));
    expectGood(await exec(lun, c.build({ lba: 5, blocks: 3000 }), filled(1, 0)));
    expect(isZero(await readBlocks(lun, 5, 3000))).toBe(true);
    expect(array.poolStatus).toEqual(before);
  });

  it(`${c.name}/out of space: a non-zero pattern on unmapped blocks is 07/27/07; a zero pattern succeeds`, async () => {
    const { array, lun } = makeFixture({}, { capacityBytes: 2 * MiB });
    await writeBlocks(lun, 0, filled(2 * UNIT_BLOCKS, 0x10));
    expect(array.poolStatus.freeBytes).toBe(0);
    const ranges = [{ lun, lba: 0, blocks: 4 * UNIT_BLOCKS }];
    await expectFailsCleanly(array, ranges, () => exec(lun, c.build({ lba: 2 * UNIT_BLOCKS - 1, blocks: 2 }), filled(1, 0x99)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    // Overwriting mapped blocks needs no space.
    expectGood(await exec(lun, c.build({ lba: 10, blocks: 10 }), filled(1, 0x99)));
    // Zeroing (or unmapping) frees space even on a full pool.
    expectGood(await exec(lun, c.build({ lba: 0, blocks: UNIT_BLOCKS, unmap: true }), filled(1, 0)));
    expect(array.poolStatus.allocatedUnits).toBe(1);
  });
});

describe('WRITE SAME(16) NDOB', () => {
  it('WRITE SAME(16)/NDOB writes zeros with no Data-Out and deallocates whole units', async () => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 0, filled(UNIT_BLOCKS + 10, 0xcc));
    expectGood(await exec(lun, cdb.writeSame16({ lba: 0, blocks: UNIT_BLOCKS + 4, ndob: true, unmap: true })));
    expect(isZero(await readBlocks(lun, 0, UNIT_BLOCKS + 4))).toBe(true);
    expectBytes(await readBlocks(lun, UNIT_BLOCKS + 4, 6), filled(6, 0xcc));
    expect(array.poolStatus.allocatedUnits).toBe(1);
    expectGood(await exec(lun, cdb.writeSame16({ lba: UNIT_BLOCKS + 4, blocks: 2, ndob: true })));
    expect(isZero(await readBlocks(lun, UNIT_BLOCKS + 4, 2))).toBe(true);
  });

  it.each([1, BLOCK])('WRITE SAME(16)/NDOB with %i bytes of Data-Out is rejected', async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.writeSame16({ lba: 0, blocks: 4, ndob: true }), new Uint8Array(n)), Sense.INVALID_FIELD_IN_CDB);
  });
});
