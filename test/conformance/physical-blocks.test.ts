/**
 * LUNs with more than one logical block per physical block (SBC-4 4.6.2; "512e": 512-byte logical
 * blocks on 4096-byte physical blocks): the geometry READ CAPACITY(16) and the Block Limits VPD
 * report, the option's validation, and every LBA staying addressable: unaligned READ, WRITE,
 * WRITE SAME with and without UNMAP, UNMAP and COMPARE AND WRITE answer GOOD and read back what
 * they wrote (libiscsi's WriteSame10/16.UnmapUnaligned and the InvalidDataOutSize tests run
 * only on such a LUN). docs/decisions/unmap-and-provisioning.md, "Physical blocks".
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, cdb } from '../../src/index.js';
import {
  BLOCK,
  KiB,
  LUN_BLOCKS,
  MiB,
  Sense,
  UNIT_BLOCKS,
  be16,
  be32,
  concat,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  filled,
  isZero,
  makeArray,
  makeFixture,
  pattern,
  populate,
  readBlocks,
  writeBlocks,
} from './helpers.js';

/** A 512e LUN: 4096-byte physical blocks of eight 512-byte logical blocks. */
const E512 = { physicalBlockSize: 4 * KiB };
const LBPPB = 8;

describe('READ CAPACITY(16): LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT and LOWEST ALIGNED LBA', () => {
  it.each([
    { blockSize: 512, physical: undefined, exponent: 0, unit: MiB },
    { blockSize: 512, physical: 512, exponent: 0, unit: MiB },
    { blockSize: 512, physical: 1024, exponent: 1, unit: MiB },
    { blockSize: 512, physical: 4096, exponent: 3, unit: MiB },
    { blockSize: 512, physical: MiB, exponent: 11, unit: MiB },
    { blockSize: 512, physical: 16 * MiB, exponent: 15, unit: 16 * MiB },
    { blockSize: 4096, physical: 4096, exponent: 0, unit: MiB },
    { blockSize: 4096, physical: 32 * KiB, exponent: 3, unit: MiB },
    { blockSize: 1024, physical: 64 * KiB, exponent: 6, unit: MiB },
  ])('block $blockSize, physical $physical: exponent $exponent in byte 13, LOWEST ALIGNED LBA 0', async ({ blockSize, physical, exponent, unit }) => {
    for (const thin of [true, false]) {
      const { lun } = makeFixture({ blockSize, thin, ...(physical === undefined ? {} : { physicalBlockSize: physical }) }, { allocationUnitBytes: unit, capacityBytes: 64 * MiB + unit });
      expect(lun.physicalBlockExponent).toBe(exponent);
      expect(lun.physicalBlockSize).toBe(blockSize * 2 ** exponent);
      const d = (await exec(lun, cdb.readCapacity16(32))).data!;
      expect(be32(d, 8), 'LOGICAL BLOCK LENGTH IN BYTES').toBe(blockSize);
      expect(d[13], 'P_I_EXPONENT 0, LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT').toBe(exponent);
      expect(be16(d, 14), 'LBPME, LBPRZ, LOWEST ALIGNED LOGICAL BLOCK ADDRESS 0').toBe(thin ? 0xc000 : 0x0000);
    }
  });

  it('READ CAPACITY(10) still reports the logical block length, and the last LBA is unchanged by the physical block', async () => {
    const { lun } = makeFixture(E512);
    const d = (await exec(lun, cdb.readCapacity10())).data!;
    expect([be32(d, 0), be32(d, 4)]).toEqual([LUN_BLOCKS - 1, BLOCK]);
  });
});

describe('Block Limits VPD (B0h) on a LUN with physical blocks', () => {
  const blockLimits = async (options: Parameters<typeof makeFixture>[0], array?: Parameters<typeof makeFixture>[1]): Promise<Uint8Array> => {
    const { lun } = makeFixture(options, array);
    const r = await exec(lun, cdb.inquiry({ page: 0xb0, allocationLength: 64 }));
    expectGood(r);
    return r.data!;
  };

  it.each([
    // OPTIMAL TRANSFER LENGTH GRANULARITY = one physical block; OPTIMAL TRANSFER LENGTH = an allocation unit rounded down to whole physical blocks within MAXIMUM TRANSFER LENGTH
    { what: '512n', lun: {}, otlg: 1, otl: UNIT_BLOCKS, ougBlocks: UNIT_BLOCKS },
    { what: '512e', lun: E512, otlg: 8, otl: UNIT_BLOCKS, ougBlocks: UNIT_BLOCKS },
    { what: '512e, MAXIMUM TRANSFER LENGTH 100', lun: { ...E512, limits: { maximumTransferLength: 100 } }, otlg: 8, otl: 96, ougBlocks: UNIT_BLOCKS },
    { what: '512e, MAXIMUM TRANSFER LENGTH 8', lun: { ...E512, limits: { maximumTransferLength: 8 } }, otlg: 8, otl: 8, ougBlocks: UNIT_BLOCKS },
    { what: 'physical block = allocation unit', lun: { physicalBlockSize: MiB }, otlg: UNIT_BLOCKS, otl: UNIT_BLOCKS, ougBlocks: UNIT_BLOCKS },
    { what: '4Kn on 32 KiB', lun: { blockSize: 4096, physicalBlockSize: 32 * KiB }, otlg: 8, otl: MiB / 4096, ougBlocks: MiB / 4096 },
  ])('$what: OTLG $otlg, OTL $otl, OPTIMAL UNMAP GRANULARITY $ougBlocks with UGAVALID and alignment 0', async ({ lun, otlg, otl, ougBlocks }) => {
    const d = await blockLimits(lun);
    expect(be16(d, 6), 'OPTIMAL TRANSFER LENGTH GRANULARITY').toBe(otlg);
    expect(be32(d, 12), 'OPTIMAL TRANSFER LENGTH').toBe(otl);
    expect(be32(d, 12) % otlg, 'OPTIMAL TRANSFER LENGTH is whole physical blocks').toBe(0);
    expect(be32(d, 28), 'OPTIMAL UNMAP GRANULARITY').toBe(ougBlocks);
    expect(be32(d, 28) % otlg, 'an allocation unit is whole physical blocks').toBe(0);
    expect(be32(d, 32), 'UGAVALID = 1, UNMAP GRANULARITY ALIGNMENT = 0').toBe(0x80000000);
    expect(be32(d, 20) >= otlg, 'MAXIMUM UNMAP LBA COUNT >= 2^exponent (libiscsi Inquiry.BlockLimits)').toBe(true);
  });
});

describe('createLun: physicalBlockSize is validated', () => {
  it.each([
    ['not a power-of-two multiple', { physicalBlockSize: 1536 }],
    ['smaller than the logical block', { blockSize: 4096, physicalBlockSize: 2048 }],
    ['zero', { physicalBlockSize: 0 }],
    ['negative', { physicalBlockSize: -4096 }],
    ['not an integer', { physicalBlockSize: 4096.5 }],
    ['NaN', { physicalBlockSize: Number.NaN }],
    ['a string', { physicalBlockSize: '4096' as unknown as number }],
    ['larger than the allocation unit', { physicalBlockSize: 2 * MiB }],
    ['exponent 16 (READ CAPACITY(16) has four bits)', { physicalBlockSize: 512 * 2 ** 16 }],
    ['MAXIMUM TRANSFER LENGTH below one physical block', { ...E512, limits: { maximumTransferLength: 7 } }],
    ['MAXIMUM UNMAP LBA COUNT below one physical block', { ...E512, limits: { maximumUnmapLbaCount: 7 } }],
  ])('%s: InvalidArgumentError, no LUN created', (_what, options) => {
    const array = makeArray({ allocationUnitBytes: 64 * MiB, capacityBytes: 128 * MiB });
    const big = options.physicalBlockSize === 2 * MiB ? makeArray() : array;
    expect(() => big.createLun({ sizeBytes: 64 * MiB, ...options })).toThrow(InvalidArgumentError);
    expect(big.luns).toEqual([]);
  });

  it('the message names the rule', () => {
    expect(() => makeArray().createLun({ sizeBytes: MiB, physicalBlockSize: 1536 })).toThrow(
      'createLun: physicalBlockSize must be blockSize (512) times a power of two from 1 to 2^15, at most the allocation unit (1048576), got 1536',
    );
    expect(() => makeArray().createLun({ sizeBytes: MiB, ...E512, limits: { maximumUnmapLbaCount: 4 } })).toThrow(
      'createLun: limits.maximumUnmapLbaCount (4) must be at least one physical block (8 logical blocks)',
    );
  });

  it('limits of exactly one physical block are accepted', () => {
    const lun = makeArray().createLun({ sizeBytes: MiB, ...E512, limits: { maximumTransferLength: LBPPB, maximumUnmapLbaCount: LBPPB } });
    expect(lun.physicalBlockExponent).toBe(3);
  });
});

describe('every LBA of a 512e LUN stays addressable', () => {
  it('WRITE and READ of one logical block at each offset within a physical block', async () => {
    const { lun } = makeFixture(E512);
    await writeBlocks(lun, 0, filled(2 * LBPPB, 0x11));
    for (let i = 0; i < LBPPB; i++) {
      const data = pattern(BLOCK, 40 + i);
      await writeBlocks(lun, LBPPB + i, data);
      expectBytes(await readBlocks(lun, LBPPB + i, 1), data, `LBA ${LBPPB + i}`);
    }
    expectBytes(await readBlocks(lun, 0, LBPPB), filled(LBPPB, 0x11), 'the physical block before');
  });

  it('a transfer that straddles a physical block boundary reads back whole', async () => {
    const { lun } = makeFixture(E512);
    const data = pattern(13 * BLOCK, 5);
    await writeBlocks(lun, 5, data);
    expectBytes(await readBlocks(lun, 5, 13), data);
  });

  for (const ws of [
    { name: 'WRITE SAME(10)', build: cdb.writeSame10 },
    { name: 'WRITE SAME(16)', build: cdb.writeSame16 },
  ]) {
    it(`${ws.name} with UNMAP at LBA i of i = 1..7, LBPPB - i blocks (libiscsi UnmapUnaligned): GOOD, zeros there, the rest unchanged`, async () => {
      const { lun } = makeFixture(E512);
      for (let i = 1; i < LBPPB; i++) {
        await writeBlocks(lun, 0, filled(3 * LBPPB, 0xa6));
        expectGood(await exec(lun, ws.build({ lba: LBPPB + i, blocks: LBPPB - i, unmap: true }), filled(1, 0xa6)));
        const back = await readBlocks(lun, 0, 3 * LBPPB);
        expectBytes(back.subarray(0, (LBPPB + i) * BLOCK), filled(LBPPB + i, 0xa6), `before LBA ${LBPPB + i}`);
        expect(isZero(back.subarray((LBPPB + i) * BLOCK, 2 * LBPPB * BLOCK)), `LBA ${LBPPB + i}..${2 * LBPPB - 1} reads zero`).toBe(true);
        expectBytes(back.subarray(2 * LBPPB * BLOCK), filled(LBPPB, 0xa6), 'the next physical block');
      }
    });

    it(`${ws.name} without UNMAP at an unaligned LBA writes its block over the range only`, async () => {
      const { lun } = makeFixture(E512);
      await writeBlocks(lun, 0, filled(3 * LBPPB, 0x11));
      const block = pattern(BLOCK, 3);
      expectGood(await exec(lun, ws.build({ lba: 3, blocks: 10 }), block));
      const back = await readBlocks(lun, 0, 3 * LBPPB);
      expectBytes(back.subarray(0, 3 * BLOCK), filled(3, 0x11));
      for (let b = 3; b < 13; b++) expectBytes(back.subarray(b * BLOCK, (b + 1) * BLOCK), block, `LBA ${b}`);
      expectBytes(back.subarray(13 * BLOCK), filled(3 * LBPPB - 13, 0x11));
    });

    it.each([BLOCK / 2, 2 * BLOCK])(`${ws.name} with UNMAP and %i bytes of Data-Out (libiscsi InvalidDataOutSize) fails and changes nothing`, async (n) => {
      const { array, lun } = makeFixture(E512);
      await populate(lun);
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, ws.build({ lba: 0, blocks: 1, unmap: true }), new Uint8Array(n).fill(0xa6)), Sense.INVALID_FIELD_IN_CDB);
    });
  }

  it('UNMAP of unaligned descriptors: GOOD, the blocks read zero, their neighbours keep their data, a partial unit stays allocated', async () => {
    const { array, lun } = makeFixture(E512);
    await writeBlocks(lun, 0, filled(4 * LBPPB, 0x5c));
    const ranges = [
      { lba: 1, blocks: 1 },
      { lba: 7, blocks: 3 },
      { lba: 19, blocks: 5 },
    ];
    expectGood(await exec(lun, cdb.unmap({ parameterListLength: 8 + 16 * ranges.length }), cdb.unmapParameterList(ranges)));
    const back = await readBlocks(lun, 0, 4 * LBPPB);
    for (let b = 0; b < 4 * LBPPB; b++) {
      const unmapped = ranges.some((r) => b >= r.lba && b < r.lba + r.blocks);
      const block = back.subarray(b * BLOCK, (b + 1) * BLOCK);
      if (unmapped) expect(isZero(block), `LBA ${b} reads zero`).toBe(true);
      else expectBytes(block, filled(1, 0x5c), `LBA ${b}`);
    }
    expect(array.poolStatus.allocatedUnits).toBe(1);
  });

  it('UNMAP of a whole allocation unit from an unaligned start deallocates the unit and zeroes the partial head', async () => {
    const { array, lun } = makeFixture(E512);
    await writeBlocks(lun, 0, filled(2 * UNIT_BLOCKS, 0x5c));
    expect(array.poolStatus.allocatedUnits).toBe(2);
    expectGood(await exec(lun, cdb.unmap({ parameterListLength: 24 }), cdb.unmapParameterList([{ lba: 3, blocks: 2 * UNIT_BLOCKS - 3 }])));
    expect(array.poolStatus.allocatedUnits).toBe(1);
    const back = await readBlocks(lun, 0, 2 * UNIT_BLOCKS);
    expectBytes(back.subarray(0, 3 * BLOCK), filled(3, 0x5c));
    expect(isZero(back.subarray(3 * BLOCK))).toBe(true);
  });

  it('COMPARE AND WRITE of one block at an unaligned LBA, and with Data-Out of 4 blocks for 1 (libiscsi InvalidDataOutSize) failing cleanly', async () => {
    const { array, lun } = makeFixture(E512);
    await populate(lun);
    const old = await readBlocks(lun, 5, 1);
    const next = pattern(BLOCK, 77);
    expectGood(await exec(lun, cdb.compareAndWrite({ lba: 5, blocks: 1 }), concat(old, next)));
    expectBytes(await readBlocks(lun, 5, 1), next);
    for (const blocks of [1, 3]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.compareAndWrite({ lba: 0, blocks }), filled(4, 0xa6)), Sense.INVALID_FIELD_IN_CDB);
    }
  });
});
