/**
 * READ(10)/(12)/(16) and WRITE(10)/(12)/(16) (SBC-3 5.11-5.13, 5.29-5.31; libiscsi Read and Write
 * suites): simple, zero-blocks, beyond-eol, RDPROTECT/WRPROTECT, MAXIMUM TRANSFER LENGTH, DPO/FUA,
 * Data-Out size, thin out-of-space, and failure atomicity.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';

type ReadWriteFields = Parameters<typeof cdb.read10>[0];
import {
  BLOCK,
  LUN_BLOCKS,
  MiB,
  Sense,
  cdbField,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  expectRawFixedSense,
  filled,
  isZero,
  makeFixture,
  pattern,
  populate,
  readBlocks,
  setU32,
  setU64,
  writeBlocks,
} from './helpers.js';

interface RwCase {
  readonly name: string;
  readonly write: boolean;
  readonly build: (f: ReadWriteFields) => Uint8Array;
  /** Width of LOGICAL BLOCK ADDRESS in bytes (at CDB byte 2). */
  readonly lbaBytes: 4 | 8;
  /** Where TRANSFER LENGTH sits (for the field pointer). */
  readonly lengthAt: number;
}

const CASES: readonly RwCase[] = [
  { name: 'READ(10)', write: false, build: cdb.read10, lbaBytes: 4, lengthAt: 7 },
  { name: 'READ(12)', write: false, build: cdb.read12, lbaBytes: 4, lengthAt: 6 },
  { name: 'READ(16)', write: false, build: cdb.read16, lbaBytes: 8, lengthAt: 10 },
  { name: 'WRITE(10)', write: true, build: cdb.write10, lbaBytes: 4, lengthAt: 7 },
  { name: 'WRITE(12)', write: true, build: cdb.write12, lbaBytes: 4, lengthAt: 6 },
  { name: 'WRITE(16)', write: true, build: cdb.write16, lbaBytes: 8, lengthAt: 10 },
];

/** A CDB with an LBA that may not fit a JavaScript number (2^63, 2^64 - 1). */
function withLba(c: RwCase, lba: bigint, blocks: number): Uint8Array {
  const x = c.build({ lba: 0, blocks });
  return c.lbaBytes === 8 ? setU64(x, 2, lba) : setU32(x, 2, Number(lba));
}

/** LBAs beyond the end for each LBA width (libiscsi BeyondEol: 2^31, 2^63, -1). */
function farLbas(c: RwCase): bigint[] {
  return c.lbaBytes === 4 ? [2n ** 31n, 2n ** 32n - 1n] : [2n ** 31n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n];
}

const SIZES = [1, 2, 7, 256];

describe.each(CASES)('$name', (c) => {
  const dataFor = (blocks: number): Uint8Array | undefined => (c.write ? pattern(blocks * BLOCK, blocks) : undefined);

  it.each(SIZES)(`${c.name}/simple %i blocks at LBA 0 and at the last LBAs`, async (n) => {
    const { lun } = makeFixture();
    for (const lba of [0, LUN_BLOCKS - n]) {
      const data = pattern(n * BLOCK, lba + n);
      if (c.write) expectGood(await exec(lun, c.build({ lba, blocks: n }), data));
      else await writeBlocks(lun, lba, data);
      const r = await exec(lun, c.write ? cdb.read16({ lba, blocks: n }) : c.build({ lba, blocks: n }));
      expectGood(r);
      expectBytes(r.data, data);
    }
  });

  it(`${c.name}/unwritten blocks read as zeros (LBPRZ)`, async () => {
    const { lun } = makeFixture();
    if (c.write) return; // reads only
    const r = await exec(lun, c.build({ lba: 12345, blocks: 16 }));
    expectGood(r);
    expect(r.data?.length).toBe(16 * BLOCK);
    expect(isZero(r.data!)).toBe(true);
  });

  it(`${c.name}/zero-blocks at LBA 0 is GOOD and transfers nothing`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus;
    const r = await exec(lun, c.build({ lba: 0, blocks: 0 }));
    expectGood(r);
    expect(r.data?.length ?? 0).toBe(0);
    expect(array.poolStatus).toEqual(before);
    expectBytes(await readBlocks(lun, 0, 8), pattern(2.5 * 2048 * BLOCK, 7).subarray(0, 8 * BLOCK));
  });

  it.each(['num_blocks + 1', '2^31', 'max'])(`${c.name}/zero-blocks at LBA %s is LBA OUT OF RANGE`, async (where) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const lba = where === 'num_blocks + 1' ? BigInt(LUN_BLOCKS + 1) : where === '2^31' ? 2n ** 31n : c.lbaBytes === 4 ? 2n ** 32n - 1n : 2n ** 64n - 1n;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, withLba(c, lba, 0)), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([1, 2, 16, 256])(`${c.name}/beyond-eol %i blocks one block past the end`, async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const lba = LUN_BLOCKS - n + 1;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba, blocks: n }), dataFor(n)), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([2, 3, 256])(`${c.name}/beyond-eol %i blocks at the last LBA`, async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: LUN_BLOCKS - 1, blocks: n }), dataFor(n)), Sense.LBA_OUT_OF_RANGE);
  });

  it(`${c.name}/beyond-eol at LBA num_blocks (1 block)`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: LUN_BLOCKS, blocks: 1 }), dataFor(1)), Sense.LBA_OUT_OF_RANGE);
  });

  it.each(farLbas(c).map(String))(`${c.name}/beyond-eol 1 block at LBA %s`, async (lbaText) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, withLba(c, BigInt(lbaText), 1), dataFor(1)), Sense.LBA_OUT_OF_RANGE);
  });

  it(`${c.name}/beyond-eol with a TRANSFER LENGTH of 65535 that reaches past the end`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const lba = LUN_BLOCKS - 100;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba, blocks: 0xffff }), dataFor(0xffff)), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([1, 2, 3, 4, 5, 6, 7])(`${c.name}/${c.write ? 'WRPROTECT' : 'RDPROTECT'}=%i without protection information is INVALID FIELD IN CDB`, async (p) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const r = await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, protect: p }), dataFor(1)), {
      ...Sense.INVALID_FIELD_IN_CDB,
      fieldPointer: cdbField(1, 7),
      information: null,
    });
    expectRawFixedSense(r.sense, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 7) });
  });

  it.each([
    { dpo: true, fua: false },
    { dpo: false, fua: true },
    { dpo: true, fua: true },
  ])(`${c.name}/DPO=$dpo FUA=$fua accepted (MODE SENSE DPOFUA = 1)`, async (f) => {
    const { lun } = makeFixture();
    const r = await exec(lun, c.build({ lba: 10, blocks: 2, ...f }), dataFor(2));
    expectGood(r);
  });

  it(`${c.name}/TRANSFER LENGTH above VPD B0 MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB`, async () => {
    const { array, lun } = makeFixture({ limits: { maximumTransferLength: 128 } });
    await populate(lun);
    expectGood(await exec(lun, c.build({ lba: 0, blocks: 128 }), dataFor(128)));
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 129 }), dataFor(129)), {
      ...Sense.INVALID_FIELD_IN_CDB,
      fieldPointer: cdbField(c.lengthAt),
    });
  });

  if (c.write) {
    it.each([
      { what: 'one byte short', delta: -1 },
      { what: 'one byte long', delta: +1 },
      { what: 'one block long', delta: BLOCK },
      { what: 'none', delta: null },
    ])(`${c.name}/invalid-dataout-size $what`, async ({ delta }) => {
      const { array, lun } = makeFixture();
      await populate(lun);
      const data = delta === null ? undefined : pattern(4 * BLOCK + delta, 3);
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 4 }), data), Sense.INVALID_FIELD_IN_CDB);
    });

    it(`${c.name}/zero-blocks with Data-Out is rejected`, async () => {
      const { array, lun } = makeFixture();
      await populate(lun);
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 0 }), pattern(BLOCK, 1)), Sense.INVALID_FIELD_IN_CDB);
    });

    it(`${c.name}/out of space on a thin pool is 07/27/07 and writes nothing; overwrites still succeed`, async () => {
      const { array, lun } = makeFixture({}, { capacityBytes: 2 * MiB });
      await writeBlocks(lun, 0, filled(1, 0x11)); // unit 0
      await writeBlocks(lun, 2048, filled(1, 0x22)); // unit 1: the pool is now full
      expect(array.poolStatus.freeBytes).toBe(0);
      const ranges = [
        { lun, lba: 0, blocks: 3 * 2048 },
        { lun, lba: 10 * 2048, blocks: 2048 },
      ];
      // Straddles mapped unit 1 and unmapped unit 2: all or nothing.
      await expectFailsCleanly(array, ranges, () => exec(lun, c.build({ lba: 2 * 2048 - 2, blocks: 4 }), filled(4, 0x33)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
      await expectFailsCleanly(array, ranges, () => exec(lun, c.build({ lba: 10 * 2048, blocks: 1 }), filled(1, 0x33)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
      expectGood(await exec(lun, c.build({ lba: 5, blocks: 2 }), filled(2, 0x44)));
      expectBytes(await readBlocks(lun, 5, 2), filled(2, 0x44));
    });
  } else {
    it.each([1, BLOCK])(`${c.name}/invalid-dataout-size: a READ with %i bytes of Data-Out`, async (n) => {
      const { array, lun } = makeFixture();
      await populate(lun);
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1 }), new Uint8Array(n)), Sense.INVALID_FIELD_IN_CDB);
    });
  }
});

describe('READ/WRITE cross-size', () => {
  it('WRITE(10)/(12)/(16) and READ(10)/(12)/(16) address the same blocks', async () => {
    const { lun } = makeFixture();
    const writes = [cdb.write10, cdb.write12, cdb.write16];
    const reads = [cdb.read10, cdb.read12, cdb.read16];
    for (let w = 0; w < 3; w++) {
      const lba = 1000 + 100 * w;
      const data = pattern(3 * BLOCK, 40 + w);
      expectGood(await exec(lun, writes[w]!({ lba, blocks: 3 }), data));
      for (const rd of reads) {
        const r = await exec(lun, rd({ lba, blocks: 3 }));
        expectGood(r);
        expectBytes(r.data, data);
      }
    }
  });

  it('a write spanning an allocation unit boundary charges both units, once', async () => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 2047, pattern(2 * BLOCK, 5));
    expect(array.poolStatus.allocatedUnits).toBe(2);
    await writeBlocks(lun, 2040, pattern(16 * BLOCK, 6));
    expect(array.poolStatus.allocatedUnits).toBe(2);
  });

  it('a thick LUN reads zeros and takes writes without charging the pool', async () => {
    const { array, lun } = makeFixture({ thin: false });
    const reserved = array.poolStatus;
    expect(reserved.reservedUnits).toBe(64);
    expect(isZero(await readBlocks(lun, 0, 8))).toBe(true);
    await writeBlocks(lun, 0, pattern(8 * BLOCK, 1));
    expect(array.poolStatus).toEqual(reserved);
  });
});
