/**
 * Descriptor-format sense (SPC-5 4.4.2) chosen by the Control mode page's D_SENSE (SPC-5 7.5.10):
 * MODE SELECT sets it, and from then on every CHECK CONDITION of the logical unit carries 72h sense
 * with the same key, ASC/ASCQ and details the fixed format (70h) carries: INFORMATION in an
 * information descriptor (00h, VALID), the field or segment pointer in a sense key specific
 * descriptor (02h), the failing segment in a command-specific information descriptor (01h). REQUEST
 * SENSE follows its own DESC bit. A logical unit reset returns D_SENSE to its default (0, fixed).
 */
import { describe, expect, it } from 'vitest';
import { cdb, decodeSense, type Lun, type ScsiResult } from '../../src/index.js';
import {
  BLOCK,
  HOST_B,
  LUN_BLOCKS,
  Sense,
  copyList,
  exec,
  expectGood,
  expectRawFixedSense,
  expectSense,
  filled,
  makeFixture,
  segmentField,
} from './helpers.js';

/** The Control page with D_SENSE (byte 2 bit 2) as given and every other field at its default. */
const control = (dSense: boolean): number[] => [0x0a, 0x0a, dSense ? 0x04 : 0x00, 0x10, 0x00, 0x40, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00];

async function setDSense(lun: Lun, on: boolean, initiator?: string): Promise<ScsiResult> {
  const list = Uint8Array.from([0, 0, 0, 0, ...control(on)]);
  return exec(lun, cdb.modeSelect6({ pf: true, parameterListLength: list.length }), list, initiator);
}

/** The fixed bytes of a descriptor-format header: response code 72h, key, ASC, ASCQ, ADDITIONAL SENSE LENGTH. */
function expectDescriptorHeader(sense: Uint8Array | undefined, e: { key: number; asc: number; ascq: number }, additional: number): Uint8Array {
  expect(sense).toBeDefined();
  const s = sense!;
  expect([s[0], s[1], s[2], s[3]], 'RESPONSE CODE 72h, SENSE KEY, ASC, ASCQ').toEqual([0x72, e.key, e.asc, e.ascq]);
  expect([s[4], s[5], s[6]], 'reserved').toEqual([0, 0, 0]);
  expect(s[7], 'ADDITIONAL SENSE LENGTH').toBe(additional);
  expect(s.length).toBe(8 + additional);
  return s;
}

/** A MODE SELECT with SP = 1 (no saved pages), a write past the end, an unknown opcode, a miscomparing COMPARE AND WRITE, a copy past the end. */
const FAILURES: readonly { what: string; run: (lun: Lun) => Promise<ScsiResult> }[] = [
  { what: 'INVALID FIELD IN CDB with a field pointer', run: (lun) => exec(lun, cdb.modeSelect6({ pf: true, sp: true, parameterListLength: 0 })) },
  { what: 'LOGICAL BLOCK ADDRESS OUT OF RANGE', run: (lun) => exec(lun, cdb.write16({ lba: LUN_BLOCKS, blocks: 1 }), new Uint8Array(BLOCK)) },
  { what: 'INVALID COMMAND OPERATION CODE', run: (lun) => exec(lun, Uint8Array.of(0xff, 0, 0, 0, 0, 0)) },
  { what: 'MISCOMPARE with INFORMATION', run: (lun) => exec(lun, cdb.compareAndWrite({ lba: 0, blocks: 1 }), filled(2, 0x5a)) },
  {
    what: 'COPY ABORTED with a segment pointer and the segment index',
    run: (lun) => exec(lun, cdb.extendedCopy(copyList([{ from: lun, to: lun, blocks: 8, sourceLba: 0, destinationLba: LUN_BLOCKS - 4 }]).length), copyList([{ from: lun, to: lun, blocks: 8, sourceLba: 0, destinationLba: LUN_BLOCKS - 4 }])),
  },
];

describe('D_SENSE (descriptor-format sense)', () => {
  it('MODE SELECT sets D_SENSE: GOOD, MODE SENSE reports it current, the other nexus is told in the new format', async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, cdb.testUnitReady(), undefined, HOST_B)); // HOST_B's nexus exists
    expectGood(await setDSense(lun, true));
    expect(lun.senseFormat).toBe('descriptor');
    const page = (await exec(lun, cdb.modeSense6({ pageCode: 0x0a, dbd: true }))).data!;
    expect(page[4 + 2]! & 0x04, 'D_SENSE current').toBe(0x04);
    const ua = await exec(lun, cdb.testUnitReady(), undefined, HOST_B);
    expectDescriptorHeader(ua.sense, { key: 0x06, asc: 0x2a, ascq: 0x01 }, 0);
  });

  it.each(FAILURES)('$what: 72h with the same key, ASC/ASCQ and details as 70h', async ({ run }) => {
    const fixed = makeFixture().lun;
    const descriptor = makeFixture().lun;
    expectGood(await setDSense(descriptor, true));
    const f = await run(fixed);
    const d = await run(descriptor);
    expect(f.status).toBe(0x02);
    expect(d.status).toBe(0x02);
    expect(f.sense![0]! & 0x7f, 'fixed').toBe(0x70);
    expect(d.sense![0], 'descriptor').toBe(0x72);
    // Fixed format always has a COMMAND-SPECIFIC INFORMATION field (zero when unused); descriptor format carries it only when set.
    const { responseCode: _f, commandSpecificInformation: csi, ...fromFixed } = decodeSense(f.sense)!;
    const { responseCode: _d, commandSpecificInformation: dcsi, ...fromDescriptor } = decodeSense(d.sense)!;
    expect(fromDescriptor, 'decoded alike').toEqual(fromFixed);
    expect(dcsi ?? 0, 'COMMAND-SPECIFIC INFORMATION').toBe(csi);
  });

  it('the descriptors, byte by byte: field pointer (02h), INFORMATION (00h), segment pointer and index (02h, 01h)', async () => {
    const { lun } = makeFixture();
    expectGood(await setDSense(lun, true));
    // MODE SELECT(6) with SP = 1 (byte 1 bit 0): sense key specific descriptor, SKSV, C/D = 1, BPV, bit 0, byte 1.
    const invalid = await exec(lun, cdb.modeSelect6({ pf: true, sp: true, parameterListLength: 0 }));
    const s1 = expectDescriptorHeader(invalid.sense, Sense.INVALID_FIELD_IN_CDB, 8);
    expect([...s1.subarray(8)]).toEqual([0x02, 0x06, 0, 0, 0x80 | 0x40 | 0x08 | 0, 0, 1, 0]);
    // COMPARE AND WRITE miscompare at byte 0 of the verify data: information descriptor, VALID, 8-byte INFORMATION.
    const miscompare = await exec(lun, cdb.compareAndWrite({ lba: 0, blocks: 1 }), filled(2, 0x5a));
    const s2 = expectDescriptorHeader(miscompare.sense, Sense.MISCOMPARE_DURING_VERIFY_OPERATION, 12);
    expect([...s2.subarray(8)]).toEqual([0x00, 0x0a, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // EXTENDED COPY whose destination runs past the end: command-specific information (segment 0), segment pointer at byte 20.
    const list = copyList([{ from: lun, to: lun, blocks: 8, sourceLba: 0, destinationLba: LUN_BLOCKS - 4 }]);
    const copy = await exec(lun, cdb.extendedCopy(list.length), list);
    const s3 = expectDescriptorHeader(copy.sense, Sense.COPY_ABORTED, 20);
    expect([...s3.subarray(8, 20)], 'command-specific information: segment 0').toEqual([0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const sks = segmentField(20);
    expect([...s3.subarray(20)], 'sense key specific: SD = 1, segment byte 20').toEqual([0x02, 0x06, 0, 0, 0x80 | 0x20, 0, sks.byte, 0]);
  });

  it('a fault rule\'s sense comes in the format D_SENSE selects', async () => {
    const { array, lun } = makeFixture();
    expectGood(await setDSense(lun, true));
    array.faults.add({ opcode: 0x88, sense: 'UNRECOVERED_READ_ERROR', times: 1 });
    const r = await exec(lun, cdb.read16({ lba: 0, blocks: 1 }));
    expectDescriptorHeader(r.sense, { key: 0x03, asc: 0x11, ascq: 0x00 }, 0);
  });

  it('REQUEST SENSE follows DESC, not D_SENSE', async () => {
    const { lun } = makeFixture();
    expectGood(await setDSense(lun, true));
    const fixed = await exec(lun, cdb.requestSense(252));
    expectGood(fixed);
    expectRawFixedSense(fixed.data, { ...Sense.NO_SENSE, fieldPointer: null });
  });

  it('D_SENSE = 0 again (MODE SELECT, or a logical unit reset) returns to fixed format', async () => {
    const { lun } = makeFixture();
    expectGood(await setDSense(lun, true));
    expectGood(await setDSense(lun, false));
    expect(lun.senseFormat).toBe('fixed');
    expectRawFixedSense((await exec(lun, cdb.write16({ lba: LUN_BLOCKS, blocks: 1 }), new Uint8Array(BLOCK))).sense, { ...Sense.LBA_OUT_OF_RANGE, fieldPointer: null });
    expectGood(await setDSense(lun, true));
    lun.reset();
    expectSense(await exec(lun, cdb.testUnitReady()), { key: 0x06, asc: 0x29, ascq: 0x03 });
    expect(lun.senseFormat).toBe('fixed');
    expect((await exec(lun, Uint8Array.of(0xff, 0, 0, 0, 0, 0))).sense![0]).toBe(0x70);
  });
});
