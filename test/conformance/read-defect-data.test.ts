/**
 * READ DEFECT DATA(10)/(12) (SBC-4; libiscsi ReadDefectData10/12.Simple): the header alone (no
 * primary or grown defects), PLISTV/GLISTV and DEFECT LIST FORMAT echoing the request, formats
 * 110b/111b refused, ALLOCATION LENGTH truncation, ADDRESS DESCRIPTOR INDEX, CDB USAGE DATA, no media
 * work and reservation conflict (docs/decisions/libiscsi.md, "ORWRITE(16) and READ DEFECT DATA").
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import { HOST_A, HOST_B, Sense, Status, cdbField, defaultRanges, exec, expectBytes, expectFailsCleanly, expectGood, makeFixture } from './helpers.js';

type Fields = Parameters<typeof cdb.readDefectData12>[0];

const CASES = [
  { name: 'READ DEFECT DATA(10)', opcode: 0x37, build: (f: Fields) => cdb.readDefectData10(f), header: 4, flagsAt: 2, usage: [0x37, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0] },
  { name: 'READ DEFECT DATA(12)', opcode: 0xb7, build: (f: Fields) => cdb.readDefectData12(f), header: 8, flagsAt: 1, usage: [0xb7, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0] },
] as const;

/** The expected reply: byte 1 = PLISTV, GLISTV, DEFECT LIST FORMAT; the rest (GENERATION CODE, DEFECT LIST LENGTH) zero. */
function header(length: number, plist: boolean, glist: boolean, format: number): Uint8Array {
  const h = new Uint8Array(length);
  h[1] = (plist ? 0x10 : 0) | (glist ? 0x08 : 0) | format;
  return h;
}

const LISTS = [
  { plist: false, glist: false },
  { plist: true, glist: false },
  { plist: false, glist: true },
  { plist: true, glist: true },
];

describe.each(CASES)('$name', (c) => {
  it(`${c.name}/simple (libiscsi: no lists, format 0, ALLOCATION LENGTH 32): GOOD, the header alone`, async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, c.build({ allocationLength: 32 }));
    expectGood(r);
    expectBytes(r.data, new Uint8Array(c.header));
    expect(r.work).toMatchObject({ dataOutBytes: 0, dataInBytes: c.header, mediaReadBytes: 0, mediaWriteBytes: 0 });
  });

  it.each(LISTS.flatMap((l) => [0, 1, 2, 3, 4, 5].map((format) => ({ ...l, format }))))(`${c.name}/%o: PLISTV/GLISTV and the format echoed, zero defects`, async (f) => {
    const { lun } = makeFixture();
    const r = await exec(lun, c.build({ ...f, allocationLength: 0xffff }));
    expectGood(r);
    expectBytes(r.data, header(c.header, f.plist, f.glist, f.format));
  });

  it.each([6, 7])(`${c.name}/DEFECT LIST FORMAT %i (vendor specific, reserved) is INVALID FIELD IN CDB`, async (format) => {
    const { array, lun } = makeFixture();
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ plist: true, glist: true, format, allocationLength: 32 })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(c.flagsAt, 2) });
  });

  it.each([0, 1, 2, 3, c.header - 1, c.header, c.header + 1])(`${c.name}/ALLOCATION LENGTH %i truncates the header`, async (allocationLength) => {
    const { lun } = makeFixture();
    const r = await exec(lun, c.build({ glist: true, format: 4, allocationLength }));
    expectGood(r);
    const full = header(c.header, false, true, 4);
    expectBytes(r.data, full.subarray(0, Math.min(allocationLength, c.header)));
    expect(r.work?.dataInBytes).toBe(Math.min(allocationLength, c.header));
  });

  it(`${c.name}/REPORT SUPPORTED OPERATION CODES: supported, ${c.usage.length} bytes, exact CDB USAGE DATA`, async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: c.opcode }));
    expectGood(r);
    expectBytes(r.data, Uint8Array.from([0, 0x03, 0, c.usage.length, ...c.usage]));
  });

  it(`${c.name}/another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT`, async () => {
    const { array, lun } = makeFixture();
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    expectGood(await exec(lun, c.build({ allocationLength: 32 }), undefined, HOST_A));
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c.build({ allocationLength: 32 }), undefined, HOST_B), Status.RESERVATION_CONFLICT);
  });
});

describe('READ DEFECT DATA(12)', () => {
  it.each([0, 1, 0xffffffff])('READ DEFECT DATA(12)/ADDRESS DESCRIPTOR INDEX %i: GOOD, the header with no descriptors', async (addressDescriptorIndex) => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.readDefectData12({ plist: true, format: 5, addressDescriptorIndex, allocationLength: 512 }));
    expectGood(r);
    expectBytes(r.data, header(8, true, false, 5));
  });
});
