/**
 * RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 5.5.1, 7.19-7.22; docs/decisions/reservations-and-nexus.md): while one initiator
 * holds the reservation, every other initiator's media commands get RESERVATION CONFLICT (status 18h,
 * no sense) and change nothing; INQUIRY, REPORT LUNS, REQUEST SENSE and RELEASE are still allowed; a
 * RELEASE from a non-holder is GOOD and keeps the reservation; EXTENDED COPY touching a LUN reserved
 * by another initiator conflicts too.
 */
import { describe, expect, it } from 'vitest';
import { cdb, type Lun } from '../../src/index.js';
import {
  BLOCK,
  HOST_A,
  HOST_B,
  LUN_BYTES,
  Sense,
  Status,
  cdbField,
  concat,
  copyList,
  defaultRanges,
  exec,
  expectBytes,
  expectFailsCleanly,
  expectGood,
  expectSense,
  filled,
  makeArray,
  makeFixture,
  pattern,
  populate,
  readBlocks,
  writeBlocks,
  xcopy,
} from './helpers.js';

/** A command another initiator sends while HOST_A holds the reservation. */
interface Probe {
  readonly name: string;
  readonly build: (lun: Lun) => { cdb: Uint8Array; data?: Uint8Array };
}

const unmapList = cdb.unmapParameterList([{ lba: 0, blocks: 8 }]);

/** Commands that conflict (SPC-2 5.5.1: everything except the few listed as allowed). */
const CONFLICTING: readonly Probe[] = [
  { name: 'READ(10)', build: () => ({ cdb: cdb.read10({ lba: 0, blocks: 1 }) }) },
  { name: 'READ(12)', build: () => ({ cdb: cdb.read12({ lba: 0, blocks: 1 }) }) },
  { name: 'READ(16)', build: () => ({ cdb: cdb.read16({ lba: 0, blocks: 1 }) }) },
  { name: 'WRITE(10)', build: () => ({ cdb: cdb.write10({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE(12)', build: () => ({ cdb: cdb.write12({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE(16)', build: () => ({ cdb: cdb.write16({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE SAME(10)', build: () => ({ cdb: cdb.writeSame10({ lba: 0, blocks: 8 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE SAME(16) UNMAP', build: () => ({ cdb: cdb.writeSame16({ lba: 0, blocks: 2048, unmap: true }), data: filled(1, 0) }) },
  { name: 'COMPARE AND WRITE', build: () => ({ cdb: cdb.compareAndWrite({ lba: 0, blocks: 1 }), data: concat(pattern(BLOCK, 7), filled(1, 0xbb)) }) },
  { name: 'UNMAP', build: () => ({ cdb: cdb.unmap({ parameterListLength: unmapList.length }), data: unmapList }) },
  {
    name: 'EXTENDED COPY',
    build: (lun) => {
      const list = copyList([{ from: lun, to: lun, blocks: 8, sourceLba: 0, destinationLba: 100 }]);
      return { cdb: cdb.extendedCopy(list.length), data: list };
    },
  },
  { name: 'RECEIVE COPY RESULTS', build: () => ({ cdb: cdb.receiveCopyResults({ serviceAction: 3 }) }) },
  { name: 'GET LBA STATUS', build: () => ({ cdb: cdb.getLbaStatus({ lba: 0, allocationLength: 24 }) }) },
  { name: 'READ CAPACITY(10)', build: () => ({ cdb: cdb.readCapacity10() }) },
  { name: 'READ CAPACITY(16)', build: () => ({ cdb: cdb.readCapacity16() }) },
  { name: 'MODE SENSE(6)', build: () => ({ cdb: cdb.modeSense6() }) },
  { name: 'MODE SENSE(10)', build: () => ({ cdb: cdb.modeSense10() }) },
  { name: 'TEST UNIT READY', build: () => ({ cdb: cdb.testUnitReady() }) },
  { name: 'SYNCHRONIZE CACHE(10)', build: () => ({ cdb: cdb.synchronizeCache10() }) },
  { name: 'SYNCHRONIZE CACHE(16)', build: () => ({ cdb: cdb.synchronizeCache16() }) },
  { name: 'RESERVE(6)', build: () => ({ cdb: cdb.reserve6() }) },
  { name: 'RESERVE(10)', build: () => ({ cdb: cdb.reserve10() }) },
  { name: 'REPORT SUPPORTED OPERATION CODES', build: () => ({ cdb: cdb.reportSupportedOperationCodes() }) },
];

/** Commands allowed from any initiator under a reservation. */
const ALLOWED: readonly Probe[] = [
  { name: 'INQUIRY', build: () => ({ cdb: cdb.inquiry() }) },
  { name: 'INQUIRY VPD 83h', build: () => ({ cdb: cdb.inquiry({ page: 0x83 }) }) },
  { name: 'REPORT LUNS', build: () => ({ cdb: cdb.reportLuns() }) },
  { name: 'REQUEST SENSE', build: () => ({ cdb: cdb.requestSense() }) },
  { name: 'RELEASE(6)', build: () => ({ cdb: cdb.release6() }) },
  { name: 'RELEASE(10)', build: () => ({ cdb: cdb.release10() }) },
];

const RESERVES = [
  { name: 'RESERVE(6)', reserve: cdb.reserve6, release: cdb.release6 },
  { name: 'RESERVE(10)', reserve: cdb.reserve10, release: cdb.release10 },
];

describe.each(RESERVES)('$name', ({ name, reserve, release }) => {
  it.each(CONFLICTING)(`${name}/another initiator's $name gets RESERVATION CONFLICT, no sense, and changes nothing`, async (p) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    expectGood(await exec(lun, reserve(), undefined, HOST_A));
    const { cdb: c, data } = p.build(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c, data, HOST_B), Status.RESERVATION_CONFLICT);
    // The holder still runs it.
    const r = await exec(lun, c, data, HOST_A);
    expect(r.status, `${p.name} by the holder`).not.toBe(Status.RESERVATION_CONFLICT);
  });

  it.each(ALLOWED)(`${name}/another initiator's $name is allowed`, async (p) => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, reserve(), undefined, HOST_A));
    const { cdb: c, data } = p.build(lun);
    expectGood(await exec(lun, c, data, HOST_B));
  });

  it(`${name}/RELEASE by a non-holder is GOOD and keeps the reservation`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, reserve(), undefined, HOST_A));
    expectGood(await exec(lun, release(), undefined, HOST_B));
    expect(lun.reservedBy).toBe(HOST_A);
    expect((await exec(lun, cdb.read16({ lba: 0, blocks: 1 }), undefined, HOST_B)).status).toBe(Status.RESERVATION_CONFLICT);
    expectGood(await exec(lun, cdb.read16({ lba: 0, blocks: 1 }), undefined, HOST_A));
  });

  it(`${name}/RELEASE by the holder ends it; the holder may reserve again; RELEASE without a reservation is GOOD`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, reserve(), undefined, HOST_A));
    expectGood(await exec(lun, reserve(), undefined, HOST_A));
    expectGood(await exec(lun, release(), undefined, HOST_A));
    expect(lun.reservedBy).toBeUndefined();
    await writeBlocks(lun, 0, filled(1, 0xcd), HOST_B);
    expectGood(await exec(lun, release(), undefined, HOST_B));
    expectGood(await exec(lun, reserve(), undefined, HOST_B));
    expect((await exec(lun, cdb.read16({ lba: 0, blocks: 1 }), undefined, HOST_A)).status).toBe(Status.RESERVATION_CONFLICT);
  });

  it(`${name}/a reservation covers one LUN only`, async () => {
    const array = makeArray();
    const a = array.createLun({ sizeBytes: LUN_BYTES });
    const b = array.createLun({ sizeBytes: LUN_BYTES });
    expectGood(await exec(a, reserve(), undefined, HOST_A));
    await writeBlocks(b, 0, filled(1, 0x01), HOST_B);
  });
});

describe('RESERVE/RELEASE CDB fields', () => {
  it.each([
    { name: 'RESERVE(6) EXTENT', c: () => Uint8Array.of(0x16, 0x01, 0, 0, 0, 0), field: cdbField(1, 0) },
    { name: 'RELEASE(6) EXTENT', c: () => Uint8Array.of(0x17, 0x01, 0, 0, 0, 0), field: cdbField(1, 0) },
    { name: 'RESERVE(10) 3RDPTY', c: () => Uint8Array.of(0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0), field: cdbField(1, 4) },
    { name: 'RESERVE(10) LONGID', c: () => Uint8Array.of(0x56, 0x02, 0, 0, 0, 0, 0, 0, 0, 0), field: cdbField(1, 1) },
    { name: 'RELEASE(10) 3RDPTY', c: () => Uint8Array.of(0x57, 0x10, 0, 0, 0, 0, 0, 0, 0, 0), field: cdbField(1, 4) },
  ])('$name (unsupported) is INVALID FIELD IN CDB and reserves nothing', async ({ c, field }) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, c(), undefined, HOST_A), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: field });
    expect(lun.reservedBy).toBeUndefined();
  });
});

describe('RESERVE and EXTENDED COPY', () => {
  it.each([
    { role: 'source', reserved: 'a' as const },
    { role: 'destination', reserved: 'b' as const },
  ])('ExtendedCopy/a $role LUN reserved by another initiator: RESERVATION CONFLICT, nothing copied', async ({ reserved }) => {
    const array = makeArray();
    const x = array.createLun({ sizeBytes: LUN_BYTES });
    const a = array.createLun({ sizeBytes: LUN_BYTES });
    const b = array.createLun({ sizeBytes: LUN_BYTES });
    const data = pattern(64 * BLOCK, 11);
    await writeBlocks(a, 0, data);
    await writeBlocks(b, 0, filled(64, 0x22));
    const holder = { a, b }[reserved];
    expectGood(await exec(holder, cdb.reserve6(), undefined, HOST_A));
    // Sent by HOST_B to LUN x, which nobody reserved.
    await expectFailsCleanly(
      array,
      [
        { lun: a, lba: 0, blocks: 128 },
        { lun: b, lba: 0, blocks: 128 },
      ],
      () => xcopy(x, [{ from: a, to: b, blocks: 64, sourceLba: 0, destinationLba: 0 }], 0, undefined, HOST_B),
      Status.RESERVATION_CONFLICT,
    );
    // The holder may copy.
    expectGood(await xcopy(x, [{ from: a, to: b, blocks: 64, sourceLba: 0, destinationLba: 0 }], 0, undefined, HOST_A));
    expectBytes(await readBlocks(b, 0, 64, HOST_A), data);
  });

  it('ExtendedCopy/a reservation conflict in the second segment copies nothing of the first', async () => {
    const array = makeArray();
    const a = array.createLun({ sizeBytes: LUN_BYTES });
    const b = array.createLun({ sizeBytes: LUN_BYTES });
    await writeBlocks(a, 0, pattern(64 * BLOCK, 12));
    expectGood(await exec(b, cdb.reserve10(), undefined, HOST_A));
    await expectFailsCleanly(
      array,
      [{ lun: a, lba: 0, blocks: 4096 }],
      () =>
        xcopy(
          a,
          [
            { from: a, to: a, blocks: 64, sourceLba: 0, destinationLba: 1000 },
            { from: a, to: b, blocks: 64, sourceLba: 0, destinationLba: 0 },
          ],
          0,
          undefined,
          HOST_B,
        ),
      Status.RESERVATION_CONFLICT,
    );
  });
});
