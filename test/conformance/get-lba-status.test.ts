/**
 * GET LBA STATUS (SBC-3 5.7; docs/decisions/unmap-and-provisioning.md and the libiscsi GetLBAStatus suite): simple,
 * beyond-eol, provisioning status after writes, UNMAP and WRITE SAME, coalescing at allocation-unit
 * granularity, truncation, and "not implemented" on a fully provisioned LUN.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import {
  LUN_BLOCKS,
  Sense,
  UNIT_BLOCKS,
  be32,
  be64,
  cdbField,
  exec,
  expectBytes,
  expectGood,
  expectRawFixedSense,
  expectSense,
  filled,
  makeFixture,
  setU64,
  writeBlocks,
} from './helpers.js';

/** One LBA status descriptor. */
interface LbaStatus {
  readonly lba: number;
  readonly blocks: number;
  readonly status: number;
}

const MAPPED = 0;
const DEALLOCATED = 1;

/**
 * Decodes GET LBA STATUS parameter data. Untruncated data must hold exactly PARAMETER DATA LENGTH + 4
 * bytes; `truncated` data (short ALLOCATION LENGTH) at most that.
 */
function parse(data: Uint8Array, truncated = false): LbaStatus[] {
  expect(data.length).toBeGreaterThanOrEqual(8);
  const length = be32(data, 0);
  expect((length - 4) % 16, 'PARAMETER DATA LENGTH = 4 + 16n').toBe(0);
  if (truncated) expect(length + 4).toBeGreaterThanOrEqual(data.length);
  else expect(length, 'PARAMETER DATA LENGTH').toBe(data.length - 4);
  expect([...data.subarray(4, 8)], 'reserved').toEqual([0, 0, 0, 0]);
  expect((data.length - 8) % 16).toBe(0);
  const out: LbaStatus[] = [];
  for (let at = 8; at < data.length; at += 16) {
    expect([...data.subarray(at + 13, at + 16)], 'reserved').toEqual([0, 0, 0]);
    expect(data[at + 12]! & 0xf0).toBe(0);
    out.push({ lba: Number(be64(data, at)), blocks: be32(data, at + 8), status: data[at + 12]! & 0x0f });
  }
  return out;
}

async function status(lun: Parameters<typeof exec>[0], lba: number, allocationLength = 4096): Promise<LbaStatus[]> {
  const r = await exec(lun, cdb.getLbaStatus({ lba, allocationLength }));
  expectGood(r);
  return parse(r.data!, allocationLength < 4096);
}

describe('GET LBA STATUS', () => {
  it('GET LBA STATUS/simple: STARTING LBA 1..256 and num_blocks - n with alloc 24', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, filled(300, 0x11));
    for (let n = 1; n <= 256; n++) {
      for (const lba of [n, LUN_BLOCKS - n]) {
        const r = await exec(lun, cdb.getLbaStatus({ lba, allocationLength: 24 }));
        expectGood(r);
        expect(r.data!.length).toBe(24);
        const [d] = parse(r.data!, true);
        expect(d!.lba, 'first descriptor LBA == STARTING LBA').toBe(lba);
        expect(d!.blocks).toBeGreaterThan(0);
        expect(d!.lba + d!.blocks).toBeLessThanOrEqual(LUN_BLOCKS);
      }
    }
  });

  it('GET LBA STATUS/a fresh thin LUN is one deallocated run to the end', async () => {
    const { lun } = makeFixture();
    expect(await status(lun, 0)).toEqual([{ lba: 0, blocks: LUN_BLOCKS, status: DEALLOCATED }]);
    expect(await status(lun, 1000)).toEqual([{ lba: 1000, blocks: LUN_BLOCKS - 1000, status: DEALLOCATED }]);
    expect(await status(lun, LUN_BLOCKS - 1)).toEqual([{ lba: LUN_BLOCKS - 1, blocks: 1, status: DEALLOCATED }]);
  });

  it('GET LBA STATUS/mapped runs follow allocation units and coalesce', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 5, filled(1, 1)); // unit 0
    await writeBlocks(lun, 3 * UNIT_BLOCKS + 7, filled(1, 1)); // unit 3
    await writeBlocks(lun, 4 * UNIT_BLOCKS, filled(1, 1)); // unit 4
    expect(await status(lun, 0)).toEqual([
      { lba: 0, blocks: UNIT_BLOCKS, status: MAPPED },
      { lba: UNIT_BLOCKS, blocks: 2 * UNIT_BLOCKS, status: DEALLOCATED },
      { lba: 3 * UNIT_BLOCKS, blocks: 2 * UNIT_BLOCKS, status: MAPPED },
      { lba: 5 * UNIT_BLOCKS, blocks: LUN_BLOCKS - 5 * UNIT_BLOCKS, status: DEALLOCATED },
    ]);
    // From the middle of a mapped unit: the first descriptor starts at STARTING LBA.
    expect((await status(lun, 3 * UNIT_BLOCKS + 100))[0]).toEqual({ lba: 3 * UNIT_BLOCKS + 100, blocks: 2 * UNIT_BLOCKS - 100, status: MAPPED });
  });

  it('GET LBA STATUS/unmap-single: after UNMAP of one block the next block still reads MAPPED', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, filled(257, 0x22));
    for (let i = 0; i < 256; i += 15) {
      const list = cdb.unmapParameterList([{ lba: i, blocks: 1 }]);
      expectGood(await exec(lun, cdb.unmap({ parameterListLength: list.length }), list));
      expectGood(await exec(lun, cdb.getLbaStatus({ lba: i, allocationLength: 24 })));
      const [d] = await status(lun, i + 1, 24);
      expect(d).toMatchObject({ lba: i + 1, status: MAPPED });
    }
  });

  it.each([
    { what: 'UNMAP', run: (l: LbaLun) => unmapUnit(l, 2) },
    { what: 'WRITE SAME(16) UNMAP', run: (l: LbaLun) => exec(l, cdb.writeSame16({ lba: 2 * UNIT_BLOCKS, blocks: UNIT_BLOCKS, unmap: true }), new Uint8Array(512)) },
    { what: 'WRITE SAME(10) zero block', run: (l: LbaLun) => exec(l, cdb.writeSame10({ lba: 2 * UNIT_BLOCKS, blocks: UNIT_BLOCKS }), new Uint8Array(512)) },
    { what: 'WRITE SAME(16) NDOB', run: (l: LbaLun) => exec(l, cdb.writeSame16({ lba: 2 * UNIT_BLOCKS, blocks: UNIT_BLOCKS, ndob: true })) },
  ])('GET LBA STATUS/a whole unit deallocated by $what reports DEALLOCATED', async ({ run }) => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, filled(4 * UNIT_BLOCKS, 0x33));
    expectGood(await run(lun));
    expect(await status(lun, 0)).toEqual([
      { lba: 0, blocks: 2 * UNIT_BLOCKS, status: MAPPED },
      { lba: 2 * UNIT_BLOCKS, blocks: UNIT_BLOCKS, status: DEALLOCATED },
      { lba: 3 * UNIT_BLOCKS, blocks: UNIT_BLOCKS, status: MAPPED },
      { lba: 4 * UNIT_BLOCKS, blocks: LUN_BLOCKS - 4 * UNIT_BLOCKS, status: DEALLOCATED },
    ]);
  });

  it.each(['num_blocks', 'num_blocks + 1', '2^31', '2^63', '2^64 - 1'])('GET LBA STATUS/beyond-eol STARTING LBA %s is LBA OUT OF RANGE', async (where) => {
    const { lun } = makeFixture();
    const lba = { num_blocks: BigInt(LUN_BLOCKS), 'num_blocks + 1': BigInt(LUN_BLOCKS + 1), '2^31': 2n ** 31n, '2^63': 2n ** 63n, '2^64 - 1': 2n ** 64n - 1n }[where]!;
    const r = await exec(lun, setU64(cdb.getLbaStatus({ lba: 0, allocationLength: 24 }), 2, lba));
    expectSense(r, Sense.LBA_OUT_OF_RANGE);
    expectRawFixedSense(r.sense, { ...Sense.LBA_OUT_OF_RANGE, information: null });
  });

  // SPC-4 4.2.5.6: a short ALLOCATION LENGTH truncates the same data; PARAMETER DATA LENGTH is not
  // altered to reflect the truncation, so every answer is a prefix of the full answer.
  it.each([0, 1, 3, 4, 8, 16, 23, 24])('GET LBA STATUS/ALLOCATION LENGTH %i returns a prefix of the full data', async (n) => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, filled(1, 1));
    const full = await exec(lun, cdb.getLbaStatus({ lba: 0, allocationLength: 4096 }));
    const r = await exec(lun, cdb.getLbaStatus({ lba: 0, allocationLength: n }));
    expectGood(r);
    expect(r.data?.length ?? 0).toBe(Math.min(n, 24));
    expectBytes(r.data ?? new Uint8Array(0), full.data!.subarray(0, Math.min(n, 24)));
  });

  it('GET LBA STATUS/thick LUN: not implemented, answered 05/24/00 with field pointer at CDB byte 1 (libiscsi: SKIP)', async () => {
    const { lun } = makeFixture({ thin: false });
    const r = await exec(lun, cdb.getLbaStatus({ lba: 0, allocationLength: 24 }));
    expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
    expectRawFixedSense(r.sense, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
  });
});

type LbaLun = Parameters<typeof exec>[0];

function unmapUnit(lun: LbaLun, unit: number) {
  const list = cdb.unmapParameterList([{ lba: unit * UNIT_BLOCKS, blocks: UNIT_BLOCKS }]);
  return exec(lun, cdb.unmap({ parameterListLength: list.length }), list);
}
