/**
 * UNMAP (SBC-3 5.28; docs/decisions/unmap-and-provisioning.md and the libiscsi Unmap suite): simple, zero-blocks,
 * parameter list lengths, block descriptor limits from VPD B0, beyond-eol, ANCHOR, Data-Out size,
 * pool accounting for whole allocation units, a full pool, and failure atomicity.
 */
import { describe, expect, it } from 'vitest';
import { cdb, decodeSense } from '../../src/index.js';
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
  expectSense,
  filled,
  isZero,
  makeFixture,
  paramField,
  populate,
  readBlocks,
  readProfile,
  setU64,
  writeBlocks,
} from './helpers.js';

type Desc = { lba: number; blocks: number };

/** UNMAP with a parameter list for `ranges` (UNMAP DATA LENGTH = n - 2, BD DATA LENGTH = n - 8, as libiscsi). */
async function unmap(lun: Parameters<typeof exec>[0], ranges: readonly Desc[], anchor = false) {
  const list = cdb.unmapParameterList(ranges);
  return exec(lun, cdb.unmap({ parameterListLength: list.length, anchor }), list);
}

describe('UNMAP', () => {
  it('UNMAP/simple: 1..256 blocks at LBA 0 in one descriptor, then one-block descriptors cumulatively', async () => {
    const { lun } = makeFixture();
    const p = await readProfile(lun);
    expect(p.lbpme && p.lbpu).toBe(true);
    for (let n = 1; n <= 256; n++) {
      await writeBlocks(lun, 0, filled(256, 0x61));
      expectGood(await unmap(lun, [{ lba: 0, blocks: n }]));
      const back = await readBlocks(lun, 0, 256);
      if (p.lbprz) expect(isZero(back.subarray(0, n * BLOCK))).toBe(true);
      expectBytes(back.subarray(n * BLOCK), filled(256 - n, 0x61), `blocks after ${n}`);
    }
    await writeBlocks(lun, 0, filled(256, 0x61));
    const count = Math.min(256, p.maximumUnmapBlockDescriptorCount);
    const ranges: Desc[] = [];
    for (let i = 0; i < count; i++) {
      ranges.push({ lba: i, blocks: 1 });
      expectGood(await unmap(lun, ranges));
    }
    if (p.lbprz) expect(isZero(await readBlocks(lun, 0, count))).toBe(true);
  });

  it.each([
    { what: 'one whole unit', lba: 0, blocks: UNIT_BLOCKS, freed: 1 },
    { what: 'three whole units', lba: UNIT_BLOCKS, blocks: 3 * UNIT_BLOCKS, freed: 3 },
    { what: 'a unit and a half from a unit boundary', lba: 0, blocks: UNIT_BLOCKS + UNIT_BLOCKS / 2, freed: 1 },
    { what: 'half a unit to a unit and a half', lba: UNIT_BLOCKS / 2, blocks: UNIT_BLOCKS, freed: 0 },
    { what: 'two units minus one block', lba: 1, blocks: 2 * UNIT_BLOCKS - 1, freed: 1 },
    { what: 'a single block', lba: 17, blocks: 1, freed: 0 },
  ])('UNMAP/pool: $what frees $freed unit(s) and reads zeros', async ({ lba, blocks, freed }) => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 0, filled(5 * UNIT_BLOCKS, 0xfe));
    expect(array.poolStatus.allocatedUnits).toBe(5);
    expectGood(await unmap(lun, [{ lba, blocks }]));
    expect(array.poolStatus.allocatedUnits).toBe(5 - freed);
    expect(isZero(await readBlocks(lun, lba, blocks))).toBe(true);
    if (lba > 0) expectBytes(await readBlocks(lun, lba - 1, 1), filled(1, 0xfe), 'block before');
    expectBytes(await readBlocks(lun, lba + blocks, 1), filled(1, 0xfe), 'block after');
  });

  it('UNMAP/pieces of one unit unmapped separately leave it allocated (zeroed), a later whole-unit UNMAP frees it', async () => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 0, filled(UNIT_BLOCKS, 0x33));
    expectGood(await unmap(lun, [{ lba: 0, blocks: UNIT_BLOCKS / 2 }]));
    expectGood(await unmap(lun, [{ lba: UNIT_BLOCKS / 2, blocks: UNIT_BLOCKS / 2 }]));
    expect(isZero(await readBlocks(lun, 0, UNIT_BLOCKS))).toBe(true);
    expect(array.poolStatus.allocatedUnits).toBe(1);
    expectGood(await unmap(lun, [{ lba: 0, blocks: UNIT_BLOCKS }]));
    expect(array.poolStatus.allocatedUnits).toBe(0);
  });

  it('UNMAP/zero-blocks: NLB 0 at LBA 0..255 and at num_blocks, zero descriptors, many NLB-0 and overlapping descriptors are GOOD', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus;
    for (let lba = 0; lba < 256; lba++) expectGood(await unmap(lun, [{ lba, blocks: 0 }]));
    expectGood(await unmap(lun, [{ lba: LUN_BLOCKS, blocks: 0 }]));
    expectGood(await unmap(lun, []));
    const p = await readProfile(lun);
    const k = Math.min(256, p.maximumUnmapBlockDescriptorCount);
    expectGood(await unmap(lun, Array.from({ length: k }, (_, i) => ({ lba: i, blocks: 0 }))));
    expect(array.poolStatus).toEqual(before);
    expectGood(await unmap(lun, [{ lba: 0, blocks: 8 }, { lba: 4, blocks: 8 }, { lba: 0, blocks: 8 }]));
    expect(isZero(await readBlocks(lun, 0, 12))).toBe(true);
  });

  it('UNMAP/PARAMETER LIST LENGTH 0 is GOOD and does nothing', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus;
    expectGood(await exec(lun, cdb.unmap({ parameterListLength: 0 })));
    expect(array.poolStatus).toEqual(before);
  });

  it.each([1, 2, 7])('UNMAP/PARAMETER LIST LENGTH %i (shorter than the header) is PARAMETER LIST LENGTH ERROR', async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = cdb.unmapParameterList([{ lba: 0, blocks: 8 }]).subarray(0, n);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.unmap({ parameterListLength: n }), list), Sense.PARAMETER_LIST_LENGTH_ERROR);
  });

  it('UNMAP/a BLOCK DESCRIPTOR DATA LENGTH beyond the list leaves the partial descriptor out', async () => {
    const { array, lun } = makeFixture();
    await writeBlocks(lun, 0, filled(64, 0x44));
    const list = cdb.unmapParameterList([
      { lba: 0, blocks: 8 },
      { lba: 32, blocks: 8 },
    ]);
    const cut = list.subarray(0, list.length - 4); // the second descriptor is 12 bytes long
    expectGood(await exec(lun, cdb.unmap({ parameterListLength: cut.length }), cut));
    expect(isZero(await readBlocks(lun, 0, 8))).toBe(true);
    expectBytes(await readBlocks(lun, 32, 8), filled(8, 0x44));
    expect(array.poolStatus.allocatedUnits).toBe(1);
  });

  it('UNMAP/block descriptor count above VPD B0 MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT is INVALID FIELD IN PARAMETER LIST', async () => {
    const { array, lun } = makeFixture({ limits: { maximumUnmapBlockDescriptorCount: 4 } });
    await populate(lun);
    const p = await readProfile(lun);
    expect(p.maximumUnmapBlockDescriptorCount).toBe(4);
    const ranges = (k: number): Desc[] => Array.from({ length: k }, (_, i) => ({ lba: 8 * i, blocks: 4 }));
    await expectFailsCleanly(array, defaultRanges(lun), () => unmap(lun, ranges(5)), Sense.INVALID_FIELD_IN_PARAMETER_LIST);
    expectGood(await unmap(lun, ranges(4)));
  });

  it('UNMAP/total LBAs above VPD B0 MAXIMUM UNMAP LBA COUNT is INVALID FIELD IN PARAMETER LIST', async () => {
    const { array, lun } = makeFixture({ limits: { maximumUnmapLbaCount: 1024 } });
    await populate(lun);
    const p = await readProfile(lun);
    expect(p.maximumUnmapLbaCount).toBe(1024);
    await expectFailsCleanly(array, defaultRanges(lun), () => unmap(lun, [{ lba: 0, blocks: 1025 }]), Sense.INVALID_FIELD_IN_PARAMETER_LIST);
    await expectFailsCleanly(array, defaultRanges(lun), () => unmap(lun, [{ lba: 0, blocks: 600 }, { lba: 2000, blocks: 600 }]), Sense.INVALID_FIELD_IN_PARAMETER_LIST);
    expectGood(await unmap(lun, [{ lba: 0, blocks: 512 }, { lba: 2000, blocks: 512 }]));
  });

  it('UNMAP/the advertised limits are sane for libiscsi (Inquiry.BlockLimits)', async () => {
    const { lun } = makeFixture();
    const p = await readProfile(lun);
    expect(p.maximumUnmapLbaCount).not.toBe(0);
    expect(p.maximumUnmapLbaCount <= 1024 * 1024 || p.maximumUnmapLbaCount === 0xffffffff).toBe(true);
    expect(p.maximumUnmapBlockDescriptorCount).not.toBe(0);
    expect(p.maximumUnmapBlockDescriptorCount <= 1024 * 1024 || p.maximumUnmapBlockDescriptorCount === 0xffffffff).toBe(true);
    expect(UNIT_BLOCKS % p.optimalUnmapGranularity === 0 || p.optimalUnmapGranularity % UNIT_BLOCKS === 0).toBe(true);
  });

  it.each([
    { what: '1 block at num_blocks', lba: LUN_BLOCKS, blocks: 1 },
    { what: '2 blocks at the last LBA', lba: LUN_BLOCKS - 1, blocks: 2 },
    { what: '256 blocks one past the end', lba: LUN_BLOCKS - 255, blocks: 256 },
    { what: 'NLB 0 at num_blocks + 1', lba: LUN_BLOCKS + 1, blocks: 0 },
    { what: '1 block at 2^31', lba: 2 ** 31, blocks: 1 },
    { what: 'NLB 0xFFFFFFFF at LBA 1', lba: 1, blocks: 0xffffffff },
  ])('UNMAP/beyond-eol $what is LBA OUT OF RANGE', async ({ lba, blocks }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => unmap(lun, [{ lba, blocks }]), Sense.LBA_OUT_OF_RANGE);
  });

  it.each(['2^63', '2^64 - 1'])('UNMAP/beyond-eol 1 block at LBA %s (64-bit wrap)', async (where) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = cdb.unmapParameterList([{ lba: 0, blocks: 1 }]);
    setU64(list, 8, where === '2^63' ? 2n ** 63n : 2n ** 64n - 1n);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.unmap({ parameterListLength: list.length }), list), Sense.LBA_OUT_OF_RANGE);
  });

  it('UNMAP/failure atomicity: a valid descriptor before an out-of-range one unmaps nothing', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(
      array,
      defaultRanges(lun),
      () => unmap(lun, [{ lba: 0, blocks: 2 * UNIT_BLOCKS }, { lba: LUN_BLOCKS - 1, blocks: 2 }]),
      Sense.LBA_OUT_OF_RANGE,
    );
  });

  it('UNMAP/ANCHOR = 1 follows ANC_SUP (VPD B2)', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const p = await readProfile(lun);
    if (p.ancSup) expectGood(await unmap(lun, [{ lba: 0, blocks: 8 }], true));
    else await expectFailsCleanly(array, defaultRanges(lun), () => unmap(lun, [{ lba: 0, blocks: 8 }], true), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 0) });
  });

  it.each([
    { what: 'one byte short', delta: -1 },
    { what: 'one byte long', delta: 1 },
    { what: 'none', delta: null },
  ])('UNMAP/invalid-dataout-size $what', async ({ delta }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const list = cdb.unmapParameterList([{ lba: 0, blocks: 8 }]);
    const data = delta === null ? undefined : delta < 0 ? list.subarray(0, list.length - 1) : Uint8Array.from([...list, 0]);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, cdb.unmap({ parameterListLength: list.length }), data), Sense.INVALID_FIELD_IN_CDB);
  });

  it('UNMAP/works on a full pool and frees space there', async () => {
    const { array, lun } = makeFixture({}, { capacityBytes: 2 * MiB });
    await writeBlocks(lun, 0, filled(2 * UNIT_BLOCKS, 0x10));
    expect(array.poolStatus.freeBytes).toBe(0);
    expectGood(await unmap(lun, [{ lba: 3, blocks: 5 }])); // partial: zeroed in place
    expectGood(await unmap(lun, [{ lba: UNIT_BLOCKS, blocks: UNIT_BLOCKS }]));
    expect(array.poolStatus.freeBytes).toBe(MiB);
    expect(isZero(await readBlocks(lun, 3, 5))).toBe(true);
  });

  it('UNMAP/vpd: on a thin LUN UNMAP succeeds with LBPME and LBPU set; on a thick LUN it is not implemented and LBPU is clear', async () => {
    for (const thin of [true, false]) {
      const { array, lun } = makeFixture({ thin });
      await populate(lun);
      const p = await readProfile(lun);
      const r = await unmap(lun, [{ lba: 0, blocks: 0 }]);
      if (thin) {
        expectGood(r);
        expect(p.lbpme && p.lbpu).toBe(true);
      } else {
        expectSense(r, Sense.INVALID_COMMAND_OPERATION_CODE);
        expect(p.lbpu).toBe(false);
        expect(p.maximumUnmapLbaCount).toBe(0);
        expect(p.maximumUnmapBlockDescriptorCount).toBe(0);
        await expectFailsCleanly(array, defaultRanges(lun), () => unmap(lun, [{ lba: 0, blocks: 8 }]), Sense.INVALID_COMMAND_OPERATION_CODE);
      }
    }
  });

  it('UNMAP/field pointer of an oversized descriptor count points into the parameter list', async () => {
    const { lun } = makeFixture({ limits: { maximumUnmapBlockDescriptorCount: 1 } });
    const r = await unmap(lun, [{ lba: 0, blocks: 1 }, { lba: 2, blocks: 1 }]);
    expectSense(r, Sense.INVALID_FIELD_IN_PARAMETER_LIST);
    const fp = decodeSense(r.sense)?.fieldPointer;
    if (fp !== undefined) expect(fp.in).toBe(paramField(0).in);
  });
});
