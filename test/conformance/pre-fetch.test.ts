/**
 * PRE-FETCH(10)/(16) (SBC-4; libiscsi PreFetch10/16): GOOD (the array has no cache, so never
 * CONDITION MET; docs/decisions/libiscsi.md, "READ(6), VERIFY, WRITE AND VERIFY, PRE-FETCH"), IMMED and GROUP NUMBER, zero blocks meaning to
 * the last logical block, beyond the end, no media work, and reservation conflict.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import { HOST_A, HOST_B, LUN_BLOCKS, Sense, Status, defaultRanges, exec, expectFailsCleanly, expectGood, makeFixture, populate, setU64 } from './helpers.js';

type PreFetchFields = Parameters<typeof cdb.preFetch10>[0];

const CASES = [
  { name: 'PRE-FETCH(10)', build: cdb.preFetch10, sixteen: false },
  { name: 'PRE-FETCH(16)', build: cdb.preFetch16, sixteen: true },
] as const;

describe.each(CASES)('$name', (c) => {
  const build = (f: PreFetchFields): Uint8Array => c.build(f);

  it.each([1, 2, 256, 65535])(`${c.name}/simple %i blocks at the start and the end: GOOD, no data, no media work`, async (n) => {
    const { lun } = makeFixture();
    await populate(lun);
    for (const lba of [0, LUN_BLOCKS - n]) {
      const r = await exec(lun, build({ lba, blocks: n }));
      expectGood(r);
      expect(r.data).toBeUndefined();
      expect(r.work).toMatchObject({ dataOutBytes: 0, dataInBytes: 0, mediaReadBytes: 0, mediaWriteBytes: 0 });
    }
  });

  it.each([
    { immed: true, group: 0 },
    { immed: false, group: 3 },
    { immed: true, group: 3 },
  ])(`${c.name}/flags %o: GOOD`, async (f) => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, build({ lba: 0, blocks: 1, ...f })));
  });

  it(`${c.name}/zero blocks is from LBA to the last logical block: GOOD at 0 and at the last LBA`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, build({ lba: 0, blocks: 0 })));
    expectGood(await exec(lun, build({ lba: LUN_BLOCKS - 1, blocks: 0 })));
  });

  it(`${c.name}/zero blocks beyond the end: LBA OUT OF RANGE`, async () => {
    const { array, lun } = makeFixture();
    const far = c.sixteen ? [setU64(build({ lba: 0, blocks: 0 }), 2, 2n ** 63n), setU64(build({ lba: 0, blocks: 0 }), 2, 2n ** 64n - 1n)] : [build({ lba: 0x80000000, blocks: 0 }), build({ lba: 0xffffffff, blocks: 0 })];
    for (const x of [build({ lba: LUN_BLOCKS + 1, blocks: 0 }), ...far]) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, x), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([1, 2, 256])(`${c.name}/beyond the end with %i blocks: LBA OUT OF RANGE`, async (n) => {
    const { array, lun } = makeFixture();
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, build({ lba: LUN_BLOCKS + 1 - n, blocks: n })), Sense.LBA_OUT_OF_RANGE);
    if (n > 1) await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, build({ lba: LUN_BLOCKS - 1, blocks: n })), Sense.LBA_OUT_OF_RANGE);
  });

  it(`${c.name}/MAXIMUM TRANSFER LENGTH does not apply (no data moves)`, async () => {
    const { lun } = makeFixture({ limits: { maximumTransferLength: 16 } });
    expectGood(await exec(lun, build({ lba: 0, blocks: 17 })));
  });

  it(`${c.name}/with Data-Out is refused`, async () => {
    const { array, lun } = makeFixture();
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, build({ lba: 0, blocks: 1 }), new Uint8Array(512)), Sense.INVALID_FIELD_IN_CDB);
  });

  it(`${c.name}/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT`, async () => {
    const { array, lun } = makeFixture();
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    expectGood(await exec(lun, build({ lba: 0, blocks: 1 }), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, build({ lba: 0, blocks: 1 }), undefined, HOST_B), Status.RESERVATION_CONFLICT);
  });
});
