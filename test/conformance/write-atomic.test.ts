/**
 * WRITE ATOMIC(16) (SBC-4 5.48; libiscsi WriteAtomic16.Simple, BeyondEol, ZeroBlocks, WriteProtect,
 * DpoFua, VPD): the write lands, the Block Limits atomic fields and what they enforce (MAXIMUM ATOMIC
 * TRANSFER LENGTH, ATOMIC BOUNDARY against MAXIMUM ATOMIC BOUNDARY SIZE and MAXIMUM ATOMIC TRANSFER
 * LENGTH WITH ATOMIC BOUNDARY), WRPROTECT, DPO/FUA against MODE SENSE DPOFUA, zero blocks, beyond the
 * end, Data-Out size, out of space with nothing written, software write protect, reservation
 * conflict, and failure atomicity (docs/decisions/write-atomic.md).
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
  be32,
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

type Fields = Parameters<typeof cdb.writeAtomic16>[0];
const wa = (f: Fields): Uint8Array => cdb.writeAtomic16(f);
const WRITE_PROTECTED = { key: 0x07, asc: 0x27, ascq: 0x00 } as const;

describe('WRITE ATOMIC(16)', () => {
  it.each([1, 2, 255, 256])('WRITE ATOMIC(16)/simple %i blocks at the start and at the end of the LUN land, and count as media writes', async (n) => {
    const { lun } = makeFixture();
    for (const lba of [0, LUN_BLOCKS - n]) {
      const data = pattern(n * BLOCK, lba + n);
      const r = await exec(lun, wa({ lba, blocks: n }), data);
      expectGood(r);
      expect(r.data).toBeUndefined();
      expect(r.work).toMatchObject({ dataOutBytes: n * BLOCK, mediaWriteBytes: n * BLOCK, mediaReadBytes: 0 });
      expectBytes(await readBlocks(lun, lba, n), data);
    }
  });

  it('WRITE ATOMIC(16)/overwrites only its blocks: the neighbours keep their data', async () => {
    const { lun } = makeFixture();
    await writeBlocks(lun, 0, filled(6, 0x11));
    expectGood(await exec(lun, wa({ lba: 2, blocks: 2 }), filled(2, 0x22)));
    expectBytes(await readBlocks(lun, 0, 6), new Uint8Array([...filled(2, 0x11), ...filled(2, 0x22), ...filled(2, 0x11)]));
  });

  it('WRITE ATOMIC(16)/zero blocks is GOOD with no Data-Out and changes nothing, at 0 and at the last LBA', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), async () => {
      expectGood(await exec(lun, wa({ lba: 0, blocks: 0 })));
      return exec(lun, wa({ lba: LUN_BLOCKS - 1, blocks: 0 }));
    }, Status.GOOD);
  });

  it('WRITE ATOMIC(16)/zero blocks beyond the end (LUN end + 1, 2^63, 2^64 - 1): LBA OUT OF RANGE', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    for (const c of [wa({ lba: LUN_BLOCKS + 1, blocks: 0 }), setU64(wa({ lba: 0, blocks: 0 }), 2, 2n ** 63n), setU64(wa({ lba: 0, blocks: 0 }), 2, 2n ** 64n - 1n)]) {
      await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c), Sense.LBA_OUT_OF_RANGE);
    }
  });

  it.each([1, 2, 17, 256])('WRITE ATOMIC(16)/beyond the end with %i blocks (straddling, at 2^63, at 2^64 - 1, all but one block beyond): LBA OUT OF RANGE, nothing written', async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const data = filled(n, 0xa6);
    const cdbs = [wa({ lba: LUN_BLOCKS - n + 1, blocks: n }), setU64(wa({ lba: 0, blocks: n }), 2, 2n ** 63n), setU64(wa({ lba: 0, blocks: n }), 2, 2n ** 64n - 1n)];
    if (n > 1) cdbs.push(wa({ lba: LUN_BLOCKS - 1, blocks: n }));
    for (const c of cdbs) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c, data), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([1, 2, 3, 4, 5, 6, 7])('WRITE ATOMIC(16)/WRPROTECT %i without protection information: INVALID FIELD IN CDB at byte 1 bit 7, nothing written', async (protect) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, wa({ lba: 0, blocks: 1, protect }), filled(1, 0xa6)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 7) });
  });

  it.each([
    { dpo: true, fua: false },
    { dpo: false, fua: true },
    { dpo: true, fua: true },
  ])('WRITE ATOMIC(16)/DPO=$dpo FUA=$fua follows MODE SENSE DPOFUA (= 1): GOOD and written', async (f) => {
    const { lun } = makeFixture();
    expect((await readProfile(lun)).dpofua).toBe(true);
    expectGood(await exec(lun, wa({ lba: 3, blocks: 1, ...f }), filled(1, 0x5a)));
    expectBytes(await readBlocks(lun, 3, 1), filled(1, 0x5a));
  });

  it('WRITE ATOMIC(16)/REPORT SUPPORTED OPERATION CODES: one command, CDB SIZE 16, usage byte 1 & 0x18 set (DPOFUA), ATOMIC BOUNDARY and TRANSFER LENGTH evaluated', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x9c }));
    expectGood(r);
    expect(r.data![1]! & 0x07).toBe(3);
    expect([r.data![2], r.data![3]]).toEqual([0, 16]);
    expect([...r.data!.subarray(4, 20)]).toEqual([0x9c, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00]);
  });

  it('WRITE ATOMIC(16)/VPD B0: MAXIMUM ATOMIC TRANSFER LENGTH is non-zero and at most MAXIMUM TRANSFER LENGTH; no alignment or granularity constraint', async () => {
    for (const maximumTransferLength of [1, 16, 0xffff, 0x10000, 0xffffffff]) {
      const { lun } = makeFixture({ limits: { maximumTransferLength } });
      const d = (await exec(lun, cdb.inquiry({ page: 0xb0, allocationLength: 255 }))).data!;
      const max = Math.min(maximumTransferLength, 0xffff);
      expect([be32(d, 8), be32(d, 44), be32(d, 48), be32(d, 52), be32(d, 56), be32(d, 60)]).toEqual([maximumTransferLength, max, 0, 0, max, max]);
    }
  });

  it('WRITE ATOMIC(16)/ATOMIC BOUNDARY 0: TRANSFER LENGTH over MAXIMUM ATOMIC TRANSFER LENGTH is INVALID FIELD IN CDB at byte 12; at it, GOOD', async () => {
    const { array, lun } = makeFixture({ limits: { maximumTransferLength: 16 } });
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, wa({ lba: 0, blocks: 17 }), filled(17, 0xa6)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(12) });
    expectGood(await exec(lun, wa({ lba: 0, blocks: 16 }), filled(16, 0xa6)));
    expectBytes(await readBlocks(lun, 0, 16), filled(16, 0xa6));
  });

  it('WRITE ATOMIC(16)/ATOMIC BOUNDARY over MAXIMUM ATOMIC BOUNDARY SIZE is INVALID FIELD IN CDB at byte 10; length over the WITH ATOMIC BOUNDARY maximum at byte 12', async () => {
    const { array, lun } = makeFixture({ limits: { maximumTransferLength: 16 } });
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, wa({ lba: 0, blocks: 4, atomicBoundary: 17 }), filled(4, 0xa6)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(10) });
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, wa({ lba: 0, blocks: 17, atomicBoundary: 4 }), filled(17, 0xa6)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(12) });
    for (const atomicBoundary of [1, 4, 16]) {
      const data = pattern(16 * BLOCK, atomicBoundary);
      expectGood(await exec(lun, wa({ lba: 100, blocks: 16, atomicBoundary }), data));
      expectBytes(await readBlocks(lun, 100, 16), data);
    }
  });

  it.each([
    { what: 'one byte short', bytes: 2 * BLOCK - 1 },
    { what: 'one block long', bytes: 3 * BLOCK },
    { what: 'none', bytes: 0 },
  ])('WRITE ATOMIC(16)/Data-Out $what for 2 blocks: INVALID FIELD IN CDB, nothing written', async ({ bytes }) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, wa({ lba: 0, blocks: 2 }), bytes === 0 ? undefined : new Uint8Array(bytes).fill(0xa6)), Sense.INVALID_FIELD_IN_CDB);
  });

  it('WRITE ATOMIC(16)/out of space on a thin pool is 07/27/07 with nothing written, even for the blocks that are mapped; overwrites still succeed', async () => {
    const { array, lun } = makeFixture({}, { capacityBytes: 2 * MiB });
    await writeBlocks(lun, 0, filled(1, 0x11)); // unit 0
    await writeBlocks(lun, 2048, filled(1, 0x22)); // unit 1: the pool is now full
    expect(array.poolStatus.freeBytes).toBe(0);
    const ranges = [{ lun, lba: 0, blocks: 3 * 2048 }];
    // Straddles mapped unit 1 and unmapped unit 2: the two blocks in unit 1 must not land either.
    await expectFailsCleanly(array, ranges, () => exec(lun, wa({ lba: 2 * 2048 - 2, blocks: 4 }), filled(4, 0x33)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    expectGood(await exec(lun, wa({ lba: 2048, blocks: 2 }), filled(2, 0x44)));
    expectBytes(await readBlocks(lun, 2048, 2), filled(2, 0x44));
  });

  it('WRITE ATOMIC(16)/while the Control page SWP = 1: DATA PROTECT / WRITE PROTECTED, nothing written', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const control = (await exec(lun, cdb.modeSense6({ pageCode: 0x0a, dbd: true }))).data!.subarray(4);
    const list = new Uint8Array(4 + control.length);
    list.set(control, 4);
    list[4]! &= 0x7f; // PS is reserved in MODE SELECT
    list[4 + 4]! |= 0x08; // SWP
    expectGood(await exec(lun, cdb.modeSelect6({ pf: true, parameterListLength: list.length }), list));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, wa({ lba: 0, blocks: 1 }), filled(1, 0xa6)), WRITE_PROTECTED);
  });

  it('WRITE ATOMIC(16)/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT, nothing written', async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, wa({ lba: 0, blocks: 1 }), filled(1, 0xa6), HOST_B), Status.RESERVATION_CONFLICT);
    expectGood(await exec(lun, wa({ lba: 0, blocks: 1 }), filled(1, 0xa6), HOST_A));
  });
});
