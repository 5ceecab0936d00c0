/**
 * VERIFY(10)/(12)/(16) and WRITE AND VERIFY(10)/(12)/(16) (SBC-4; libiscsi Verify10/12/16 and
 * WriteVerify10/12/16): BYTCHK 00b/01b/11b (10b reserved), miscompare with the offset in INFORMATION,
 * zero blocks, beyond the end, VRPROTECT/WRPROTECT, MAXIMUM TRANSFER LENGTH, Data-Out size, out of
 * space, the work record and reservation conflict.
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
  concat,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  expectRawFixedSense,
  makeFixture,
  pattern,
  populate,
  readBlocks,
  setU64,
  writeBlocks,
} from './helpers.js';

type VerifyFields = Parameters<typeof cdb.verify10>[0];

interface Case {
  readonly name: string;
  readonly build: (f: VerifyFields) => Uint8Array;
  readonly lbaBytes: 4 | 8;
  readonly lengthAt: number;
}

const VERIFY: readonly Case[] = [
  { name: 'VERIFY(10)', build: cdb.verify10, lbaBytes: 4, lengthAt: 7 },
  { name: 'VERIFY(12)', build: cdb.verify12, lbaBytes: 4, lengthAt: 6 },
  { name: 'VERIFY(16)', build: cdb.verify16, lbaBytes: 8, lengthAt: 10 },
];
const WRITE_AND_VERIFY: readonly Case[] = [
  { name: 'WRITE AND VERIFY(10)', build: cdb.writeAndVerify10, lbaBytes: 4, lengthAt: 7 },
  { name: 'WRITE AND VERIFY(12)', build: cdb.writeAndVerify12, lbaBytes: 4, lengthAt: 6 },
  { name: 'WRITE AND VERIFY(16)', build: cdb.writeAndVerify16, lbaBytes: 8, lengthAt: 10 },
];

/** LBAs beyond the end for each width (libiscsi BeyondEol / 0blocks: end + 1, 2^63, -1). */
function beyond(c: Case, blocks: number): Uint8Array[] {
  const far = c.lbaBytes === 8 ? [setU64(c.build({ lba: 0, blocks }), 2, 2n ** 63n), setU64(c.build({ lba: 0, blocks }), 2, 2n ** 64n - 1n)] : [c.build({ lba: 0x80000000, blocks }), c.build({ lba: 0xffffffff, blocks })];
  return [c.build({ lba: LUN_BLOCKS + 1 - Math.max(blocks, 1) + (blocks === 0 ? 1 : 0), blocks }), ...far];
}

describe.each(VERIFY)('$name', (c) => {
  it.each([1, 8, 256])(`${c.name}/simple: BYTCHK 01b of %i blocks that match the medium (written and unwritten)`, async (n) => {
    const { lun } = makeFixture();
    const data = pattern(n * BLOCK, n);
    await writeBlocks(lun, 0, data);
    const r = await exec(lun, c.build({ lba: 0, blocks: n, bytchk: 1 }), data);
    expectGood(r);
    expect(r.work).toMatchObject({ dataOutBytes: n * BLOCK, mediaReadBytes: n * BLOCK, mediaWriteBytes: 0 });
    expectGood(await exec(lun, c.build({ lba: LUN_BLOCKS - n, blocks: n, bytchk: 1 }), new Uint8Array(n * BLOCK)));
  });

  it(`${c.name}/BYTCHK 00b verifies the medium with no Data-Out, whatever the medium holds`, async () => {
    const { lun } = makeFixture();
    await populate(lun);
    const r = await exec(lun, c.build({ lba: 0, blocks: 16 }));
    expectGood(r);
    expect(r.work).toMatchObject({ dataOutBytes: 0, mediaReadBytes: 16 * BLOCK });
    expectGood(await exec(lun, c.build({ lba: LUN_BLOCKS - 256, blocks: 256 })));
  });

  it.each([0, 1, 511, 512, 1000, 8 * BLOCK - 1])(`${c.name}/miscompare (BYTCHK 01b) at byte %i: 0E/1D/00 with the offset in INFORMATION`, async (offset) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const data = await readBlocks(lun, 10, 8);
    data[offset]! ^= 0x58;
    const r = await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 10, blocks: 8, bytchk: 1 }), data), { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: offset });
    expectRawFixedSense(r.sense, { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: offset, fieldPointer: null });
    expect(r.work).toMatchObject({ dataOutBytes: 8 * BLOCK, mediaReadBytes: 8 * BLOCK });
  });

  it(`${c.name}/a miscompare with unwritten blocks (they compare as zeros)`, async () => {
    const { array, lun } = makeFixture();
    const data = new Uint8Array(4 * BLOCK);
    data[3 * BLOCK + 7] = 1;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 40000, blocks: 4, bytchk: 1 }), data), { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: 3 * BLOCK + 7 });
  });

  it(`${c.name}/BYTCHK 11b: one block of Data-Out compared with every block`, async () => {
    const { array, lun } = makeFixture();
    const block = pattern(BLOCK, 21);
    await writeBlocks(lun, 100, concat(block, block, block, block));
    const r = await exec(lun, c.build({ lba: 100, blocks: 4, bytchk: 3 }), block);
    expectGood(r);
    expect(r.work).toMatchObject({ dataOutBytes: BLOCK, mediaReadBytes: 4 * BLOCK });
    await writeBlocks(lun, 102, pattern(BLOCK, 22));
    const other = pattern(BLOCK, 22);
    let first = 0;
    while (other[first] === block[first]) first++;
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 100, blocks: 4, bytchk: 3 }), block), { ...Sense.MISCOMPARE_DURING_VERIFY_OPERATION, information: 2 * BLOCK + first });
    // More or less than one block of Data-Out.
    for (const bytes of [0, BLOCK - 1, BLOCK + 1, 4 * BLOCK]) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 100, blocks: 4, bytchk: 3 }), pattern(bytes, 1)), Sense.INVALID_FIELD_IN_CDB);
  });

  it(`${c.name}/BYTCHK 10b is reserved: INVALID FIELD IN CDB at byte 1 bit 2`, async () => {
    const { array, lun } = makeFixture();
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, bytchk: 2 })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 2) });
  });

  it.each([1, 2, 3, 4, 5, 6, 7])(`${c.name}/VRPROTECT %i without protection information is INVALID FIELD IN CDB at byte 1 bit 7`, async (p) => {
    const { array, lun } = makeFixture();
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, bytchk: 1, protect: p }), new Uint8Array(BLOCK)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 7) });
  });

  it(`${c.name}/DPO and GROUP NUMBER are accepted`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, c.build({ lba: 0, blocks: 1, dpo: true, group: 3 })));
  });

  it(`${c.name}/zero blocks: GOOD with no Data-Out and no work; beyond the end still LBA OUT OF RANGE`, async () => {
    const { array, lun } = makeFixture();
    for (const bytchk of [0, 1, 3]) {
      const r = await exec(lun, c.build({ lba: 0, blocks: 0, bytchk }));
      expectGood(r);
      expect(r.work?.mediaReadBytes).toBe(0);
    }
    for (const x of beyond(c, 0)) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([1, 2, 256])(`${c.name}/beyond the end with %i blocks: LBA OUT OF RANGE`, async (n) => {
    const { array, lun } = makeFixture();
    for (const x of beyond(c, n)) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x, new Uint8Array(n * BLOCK)), Sense.LBA_OUT_OF_RANGE);
    if (n > 1) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: LUN_BLOCKS - 1, blocks: n, bytchk: 1 }), new Uint8Array(n * BLOCK)), Sense.LBA_OUT_OF_RANGE);
  });

  it(`${c.name}/more blocks than MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB at VERIFICATION LENGTH`, async () => {
    const { array, lun } = makeFixture({ limits: { maximumTransferLength: 16 } });
    expectGood(await exec(lun, c.build({ lba: 0, blocks: 16 })));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 17 })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(c.lengthAt) });
  });

  it.each([0, BLOCK - 1, 2 * BLOCK + 1, 4 * BLOCK])(`${c.name}/BYTCHK 01b with %i bytes of Data-Out for 2 blocks is refused`, async (bytes) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 2, bytchk: 1 }), pattern(bytes, 3)), Sense.INVALID_FIELD_IN_CDB);
  });

  it(`${c.name}/BYTCHK 00b with Data-Out is refused`, async () => {
    const { array, lun } = makeFixture();
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1 }), new Uint8Array(BLOCK)), Sense.INVALID_FIELD_IN_CDB);
  });

  it(`${c.name}/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT`, async () => {
    const { array, lun } = makeFixture();
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    expectGood(await exec(lun, c.build({ lba: 0, blocks: 1 }), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1 }), undefined, HOST_B), Status.RESERVATION_CONFLICT);
  });
});

describe.each(WRITE_AND_VERIFY)('$name', (c) => {
  it.each([
    { n: 1, bytchk: 0 },
    { n: 8, bytchk: 1 },
    { n: 256, bytchk: 0 },
    { n: 256, bytchk: 1 },
  ])(`${c.name}/simple: %o writes the blocks, verifies them and records both`, async ({ n, bytchk }) => {
    const { lun } = makeFixture();
    for (const lba of [0, LUN_BLOCKS - n]) {
      const data = pattern(n * BLOCK, lba + n + bytchk);
      const r = await exec(lun, c.build({ lba, blocks: n, bytchk }), data);
      expectGood(r);
      expect(r.work).toMatchObject({ dataOutBytes: n * BLOCK, mediaWriteBytes: n * BLOCK, mediaReadBytes: n * BLOCK });
      expectBytes(await readBlocks(lun, lba, n), data);
    }
  });

  it.each([2, 3])(`${c.name}/BYTCHK %i is reserved: INVALID FIELD IN CDB at byte 1 bit 2`, async (bytchk) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, bytchk }), pattern(BLOCK, 1)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 2) });
  });

  it.each([1, 4, 7])(`${c.name}/WRPROTECT %i without protection information is INVALID FIELD IN CDB at byte 1 bit 7`, async (p) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1, bytchk: 1, protect: p }), pattern(BLOCK, 1)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 7) });
  });

  it(`${c.name}/DPO and GROUP NUMBER are accepted`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, c.build({ lba: 0, blocks: 1, dpo: true, bytchk: 1, group: 5 }), pattern(BLOCK, 2)));
  });

  it(`${c.name}/zero blocks: GOOD, nothing written; beyond the end LBA OUT OF RANGE`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    const before = array.poolStatus;
    expectGood(await exec(lun, c.build({ lba: 0, blocks: 0 })));
    expect(array.poolStatus).toEqual(before);
    for (const x of beyond(c, 0)) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([1, 2, 256])(`${c.name}/beyond the end with %i blocks: LBA OUT OF RANGE, nothing written`, async (n) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    for (const x of beyond(c, n)) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x, pattern(n * BLOCK, 1)), Sense.LBA_OUT_OF_RANGE);
  });

  it(`${c.name}/more blocks than MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB at TRANSFER LENGTH`, async () => {
    const { array, lun } = makeFixture({ limits: { maximumTransferLength: 16 } });
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 17 }), pattern(17 * BLOCK, 1)), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(c.lengthAt) });
  });

  it.each([0, BLOCK, 2 * BLOCK - 1, 3 * BLOCK])(`${c.name}/%i bytes of Data-Out for 2 blocks is refused and writes nothing`, async (bytes) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 2, bytchk: 1 }), pattern(bytes, 3)), Sense.INVALID_FIELD_IN_CDB);
  });

  it(`${c.name}/out of space on a thin pool is 07/27/07 and writes nothing`, async () => {
    const { array, lun } = makeFixture({}, { capacityBytes: 2 * MiB });
    await writeBlocks(lun, 0, pattern(2 * (MiB / BLOCK) * BLOCK, 4));
    expect(array.poolStatus.freeBytes).toBe(0);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 3 * (MiB / BLOCK), blocks: 1, bytchk: 1 }), pattern(BLOCK, 6)), Sense.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
  });

  it(`${c.name}/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT`, async () => {
    const { array, lun } = makeFixture();
    await populate(lun);
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ lba: 0, blocks: 1 }), pattern(BLOCK, 8), HOST_B), Status.RESERVATION_CONFLICT);
  });
});
