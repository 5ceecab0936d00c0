/**
 * MODE SELECT(6) and MODE SELECT(10) (SPC-5 6.11, 6.12; docs/decisions/reporting.md, "MODE SELECT"):
 * the CDB (PF, SP, PARAMETER LIST LENGTH), the mode parameter header and block descriptor, each page's
 * PS/SPF/page code/page length, every bit that is not changeable, the changeable ones (Control SWP, D_SENSE,
 * Caching WCE), the unit attention MODE PARAMETERS CHANGED to the other nexuses, and software write
 * protect: every command that changes the medium answers DATA PROTECT / WRITE PROTECTED, reads pass.
 */
import { describe, expect, it } from 'vitest';
import { cdb, type Lun } from '../../src/index.js';
import { allCommands } from '../../src/scsi/command-table.js';
import {
  BLOCK,
  HOST_A,
  HOST_B,
  LUN_BLOCKS,
  Sense,
  Status,
  cdbField,
  concat,
  defaultRanges,
  exec,
  expectFailsCleanly,
  expectGood,
  expectSense,
  expectStatusOnly,
  filled,
  makeArray,
  makeFixture,
  paramField,
  pattern,
  populate,
  readBlocks,
  xcopy,
} from './helpers.js';

const WRITE_PROTECTED = { key: 0x07, asc: 0x27, ascq: 0x00 } as const;
const MODE_PARAMETERS_CHANGED = { key: 0x06, asc: 0x2a, ascq: 0x01 } as const;

const CACHING = [0x08, 0x12, ...new Array<number>(18).fill(0)];
const CONTROL = [0x0a, 0x0a, 0x00, 0x10, 0x00, 0x40, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00];
/** The changeable bits: Caching byte 2 bit 2 (WCE), Control byte 2 bit 2 (D_SENSE) and byte 4 bit 3 (SWP). */
const CHANGEABLE: Readonly<Record<number, Readonly<Record<number, number>>>> = { 0x08: { 2: 0x04 }, 0x0a: { 2: 0x04, 4: 0x08 } };
const PAGES = [
  { code: 0x08, name: 'Caching', bytes: CACHING },
  { code: 0x0a, name: 'Control', bytes: CONTROL },
];

const withByte = (page: readonly number[], at: number, value: number): number[] => page.map((b, i) => (i === at ? value : b));
const CONTROL_SWP = withByte(CONTROL, 4, 0x08);
const CACHING_WCE = withByte(CACHING, 2, 0x04);

/** The short block descriptor of the fixture LUN (131072 blocks of 512 bytes). */
const SHORT_BD = [0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00];
const LONG_BD = [0, 0, 0, 0, 0x00, 0x02, 0x00, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x02, 0x00];

interface Variant {
  readonly name: string;
  readonly headerLength: number;
  readonly select: (f: { pf?: boolean; sp?: boolean; parameterListLength: number }) => Uint8Array;
  /** A parameter list: the header (BLOCK DESCRIPTOR LENGTH from `bd`), `bd`, then `pages`. */
  readonly list: (pages: readonly (readonly number[])[], bd?: readonly number[], header?: { mediumType?: number; deviceSpecific?: number; modeDataLength?: number }) => Uint8Array;
  readonly mediumTypeAt: number;
  readonly descriptorLengthAt: number;
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'MODE SELECT(6)',
    headerLength: 4,
    select: cdb.modeSelect6,
    list: (pages, bd = [], h = {}) => Uint8Array.from([h.modeDataLength ?? 0, h.mediumType ?? 0, h.deviceSpecific ?? 0, bd.length, ...bd, ...pages.flat()]),
    mediumTypeAt: 1,
    descriptorLengthAt: 3,
  },
  {
    name: 'MODE SELECT(10)',
    headerLength: 8,
    select: cdb.modeSelect10,
    list: (pages, bd = [], h = {}) =>
      Uint8Array.from([0, h.modeDataLength ?? 0, h.mediumType ?? 0, h.deviceSpecific ?? 0, bd.length === 16 ? 1 : 0, 0, 0, bd.length, ...bd, ...pages.flat()]),
    mediumTypeAt: 2,
    descriptorLengthAt: 6,
  },
];

async function select(lun: Lun, v: Variant, list: Uint8Array, initiator?: string, f: { pf?: boolean; sp?: boolean } = {}) {
  return exec(lun, v.select({ ...f, parameterListLength: list.length }), list, initiator);
}

/** The page as MODE SENSE(6) reports it (DBD = 1), for PAGE CONTROL `pc`. */
async function sensePage(lun: Lun, page: number, pc = 0, initiator?: string): Promise<number[]> {
  const r = await exec(lun, cdb.modeSense6({ pageCode: page, pageControl: pc, dbd: true }), undefined, initiator);
  expectGood(r);
  return [...r.data!.subarray(4)];
}

async function setSwp(lun: Lun, on: boolean, initiator?: string): Promise<void> {
  expectGood(await select(lun, VARIANTS[0]!, VARIANTS[0]!.list([on ? CONTROL_SWP : CONTROL]), initiator));
}

describe.each(VARIANTS)('$name', (v) => {
  it(`${v.name}/SWP = 1 is current; changeable and default values stay; WP set in the header`, async () => {
    const { lun } = makeFixture();
    expectGood(await select(lun, v, v.list([CONTROL_SWP])));
    expect(await sensePage(lun, 0x0a, 0)).toEqual(CONTROL_SWP);
    expect(await sensePage(lun, 0x0a, 2)).toEqual(CONTROL);
    expect(await sensePage(lun, 0x0a, 1)).toEqual(withByte(withByte(CONTROL.map(() => 0), 0, 0x0a), 1, 0x0a).map((b, i) => (i === 4 ? 0x08 : i === 2 ? 0x04 : b)));
    const six = (await exec(lun, cdb.modeSense6({ pageCode: 0x3f }))).data!;
    const ten = (await exec(lun, cdb.modeSense10({ pageCode: 0x3f }))).data!;
    expect(six[2], 'MODE SENSE(6) WP + DPOFUA').toBe(0x90);
    expect(ten[3], 'MODE SENSE(10) WP + DPOFUA').toBe(0x90);
    expect(lun.writeProtected).toBe(true);
  });

  it(`${v.name}/WCE = 1 is current, then 0 again`, async () => {
    const { lun } = makeFixture();
    expectGood(await select(lun, v, v.list([CACHING_WCE])));
    expect(await sensePage(lun, 0x08)).toEqual(CACHING_WCE);
    expectGood(await select(lun, v, v.list([CACHING])));
    expect(await sensePage(lun, 0x08)).toEqual(CACHING);
  });

  it(`${v.name}/both pages in one list, with the block descriptor`, async () => {
    const { lun } = makeFixture();
    expectGood(await select(lun, v, v.list([CACHING_WCE, CONTROL_SWP], SHORT_BD)));
    expect(await sensePage(lun, 0x08)).toEqual(CACHING_WCE);
    expect(await sensePage(lun, 0x0a)).toEqual(CONTROL_SWP);
  });

  it(`${v.name}/a header as MODE SENSE returns it (MODE DATA LENGTH, WP and DPOFUA set) is accepted`, async () => {
    const { lun } = makeFixture();
    expectGood(await select(lun, v, v.list([CONTROL_SWP], [], { modeDataLength: 0x0f, deviceSpecific: 0x90 })));
    expect(await sensePage(lun, 0x0a)).toEqual(CONTROL_SWP);
  });

  it.each([
    { what: 'the LUN’s capacity and block length', bd: SHORT_BD, ok: true },
    { what: 'NUMBER OF LOGICAL BLOCKS 0 (no change)', bd: [0, 0, 0, 0, 0, 0, 0x02, 0x00], ok: true },
    { what: 'another NUMBER OF LOGICAL BLOCKS', bd: [0x00, 0x01, 0x00, 0x00, 0, 0, 0x02, 0x00], field: 0 },
    { what: 'LOGICAL BLOCK LENGTH 4096', bd: [0x00, 0x02, 0x00, 0x00, 0, 0, 0x10, 0x00], field: 5 },
    { what: 'LOGICAL BLOCK LENGTH 0', bd: [0x00, 0x02, 0x00, 0x00, 0, 0, 0, 0], field: 5 },
  ])(`${v.name}/short block descriptor with $what`, async ({ bd, ok, field }) => {
    const { lun } = makeFixture();
    const r = await select(lun, v, v.list([CONTROL_SWP], bd));
    if (ok === true) {
      expectGood(r);
      expect(await sensePage(lun, 0x0a)).toEqual(CONTROL_SWP);
    } else {
      expectSense(r, { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(v.headerLength + field!) });
      expect(await sensePage(lun, 0x0a)).toEqual(CONTROL);
    }
  });

  it.each([1, 2, 4, 7, 9, 16, 255])(`${v.name}/BLOCK DESCRIPTOR LENGTH %i is INVALID FIELD IN PARAMETER LIST`, async (n) => {
    const { lun } = makeFixture();
    const list = concat(v.list([CONTROL_SWP]), new Uint8Array(16));
    list[v.headerLength === 8 ? 7 : 3] = n;
    expectSense(await select(lun, v, list), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(v.descriptorLengthAt) });
    expect(lun.writeProtected).toBe(false);
  });

  it(`${v.name}/MEDIUM TYPE other than 00h is INVALID FIELD IN PARAMETER LIST`, async () => {
    const { lun } = makeFixture();
    expectSense(await select(lun, v, v.list([CONTROL_SWP], [], { mediumType: 0x01 })), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(v.mediumTypeAt) });
    expect(lun.writeProtected).toBe(false);
  });

  it.each([
    { what: 'PS = 1', page: withByte(CONTROL_SWP, 0, 0x8a), field: 0, bit: 7 },
    { what: 'SPF = 1', page: withByte(CONTROL_SWP, 0, 0x4a), field: 0, bit: 6 },
    { what: 'page 1Ch (not reported)', page: withByte(CONTROL_SWP, 0, 0x1c), field: 0, bit: 5 },
    { what: 'page 00h', page: withByte(CONTROL_SWP, 0, 0x00), field: 0, bit: 5 },
    { what: 'PAGE LENGTH 0Bh', page: [...withByte(CONTROL_SWP, 1, 0x0b), 0], field: 1 },
    { what: 'PAGE LENGTH 09h', page: withByte(CONTROL_SWP, 1, 0x09).slice(0, 11), field: 1 },
  ])(`${v.name}/a page with $what is INVALID FIELD IN PARAMETER LIST`, async ({ page, field, bit }) => {
    const { lun } = makeFixture();
    const r = await select(lun, v, v.list([page]));
    expectSense(r, { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(v.headerLength + field, bit) });
    expect(await sensePage(lun, 0x0a)).toEqual(CONTROL);
  });

  it.each([
    { what: 'shorter than the header', cut: (l: Uint8Array) => l.subarray(0, v.headerLength - 1) },
    { what: 'ending inside the block descriptor', cut: (l: Uint8Array) => l.subarray(0, v.headerLength + 5) },
    { what: 'ending after a page’s first byte', cut: (l: Uint8Array) => l.subarray(0, v.headerLength + 8 + 1) },
    { what: 'ending inside the page', cut: (l: Uint8Array) => l.subarray(0, l.length - 1) },
  ])(`${v.name}/a parameter list $what is PARAMETER LIST LENGTH ERROR`, async ({ cut }) => {
    const { lun } = makeFixture();
    const r = await select(lun, v, cut(v.list([CONTROL_SWP], SHORT_BD)).slice());
    expectSense(r, Sense.PARAMETER_LIST_LENGTH_ERROR);
    expect(lun.writeProtected).toBe(false);
  });

  it(`${v.name}/PARAMETER LIST LENGTH 0 is GOOD and changes nothing (PF = 1 or 0)`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, v.select({ parameterListLength: 0 })));
    expectGood(await exec(lun, v.select({ pf: false, parameterListLength: 0 })));
    expect(await sensePage(lun, 0x0a)).toEqual(CONTROL);
  });

  it(`${v.name}/PF = 0 with a parameter list is INVALID FIELD IN CDB (byte 1 bit 4)`, async () => {
    const { lun } = makeFixture();
    expectSense(await select(lun, v, v.list([CONTROL_SWP]), undefined, { pf: false }), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
    expect(lun.writeProtected).toBe(false);
  });

  it(`${v.name}/SP = 1 is INVALID FIELD IN CDB (byte 1 bit 0): there are no saved pages`, async () => {
    const { lun } = makeFixture();
    expectSense(await select(lun, v, v.list([CONTROL_SWP]), undefined, { sp: true }), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 0) });
    expectSense(await exec(lun, v.select({ sp: true, parameterListLength: 0 })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 0) });
    expect(lun.writeProtected).toBe(false);
  });

  it(`${v.name}/a Data-Out length other than PARAMETER LIST LENGTH is INVALID FIELD IN CDB`, async () => {
    const { lun } = makeFixture();
    const list = v.list([CONTROL_SWP]);
    expectSense(await exec(lun, v.select({ parameterListLength: list.length + 1 }), list), Sense.INVALID_FIELD_IN_CDB);
    expect(lun.writeProtected).toBe(false);
  });

  // Every byte of every page: each bit outside the changeable mask, flipped, is refused with the
  // field pointer on that byte and bit; each bit inside it is accepted. So the changeable values
  // MODE SENSE reports are exactly what MODE SELECT accepts.
  const BYTES = PAGES.flatMap((p) => p.bytes.slice(2).map((_, i) => ({ page: p.name, code: p.code, bytes: p.bytes, at: i + 2 })));
  it.each(BYTES)(`${v.name}/$page page byte $at: each bit not changeable is refused, each changeable one accepted`, async ({ code, bytes, at }) => {
    const { lun } = makeFixture();
    const changeable = (await sensePage(lun, code, 1))[at]!;
    expect(changeable, 'changeable mask').toBe(CHANGEABLE[code]![at] ?? 0);
    for (let bit = 0; bit < 8; bit++) {
      const flipped = withByte(bytes, at, bytes[at]! ^ (1 << bit));
      const r = await select(lun, v, v.list([flipped]));
      if ((changeable & (1 << bit)) !== 0) {
        expectGood(r);
        expect(await sensePage(lun, code), `bit ${bit} set`).toEqual(flipped);
        expectGood(await select(lun, v, v.list([bytes])));
      } else {
        expectSense(r, { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(v.headerLength + at, bit) });
      }
      expect(await sensePage(lun, code), `bit ${bit}: current values after`).toEqual(bytes);
    }
  });

  it(`${v.name}/a valid page followed by an invalid one changes nothing and raises no unit attention`, async () => {
    const { lun } = makeFixture();
    await exec(lun, cdb.testUnitReady(), undefined, HOST_B);
    const r = await select(lun, v, v.list([CONTROL_SWP, withByte(CACHING_WCE, 3, 0x01)]), HOST_A);
    expectSense(r, { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(v.headerLength + 12 + 3, 0) });
    expect(await sensePage(lun, 0x0a)).toEqual(CONTROL);
    expect(await sensePage(lun, 0x08)).toEqual(CACHING);
    expectGood(await exec(lun, cdb.testUnitReady(), undefined, HOST_B));
  });

  it(`${v.name}/a change establishes MODE PARAMETERS CHANGED for every other nexus, not the issuer`, async () => {
    const { lun } = makeFixture();
    const hostC = 'iqn.2024-01.test:host-c';
    for (const h of [HOST_A, HOST_B, hostC]) expectGood(await exec(lun, cdb.testUnitReady(), undefined, h));
    expectGood(await select(lun, v, v.list([CONTROL_SWP]), HOST_A));
    expectGood(await exec(lun, cdb.testUnitReady(), undefined, HOST_A));
    expectSense(await exec(lun, cdb.testUnitReady(), undefined, HOST_B), MODE_PARAMETERS_CHANGED);
    expectGood(await exec(lun, cdb.testUnitReady(), undefined, HOST_B));
    // REQUEST SENSE reports and clears it too.
    const rs = await exec(lun, cdb.requestSense(), undefined, hostC);
    expectGood(rs);
    expect([rs.data![2]! & 0x0f, rs.data![12], rs.data![13]]).toEqual([0x06, 0x2a, 0x01]);
    expectGood(await exec(lun, cdb.testUnitReady(), undefined, hostC));
  });

  it(`${v.name}/the same values again change nothing and raise no unit attention`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, cdb.testUnitReady(), undefined, HOST_B));
    expectGood(await select(lun, v, v.list([CONTROL, CACHING]), HOST_A));
    expectGood(await exec(lun, cdb.testUnitReady(), undefined, HOST_B));
  });

  it(`${v.name}/another LUN's nexuses are not told`, async () => {
    const array = makeArray();
    const a = array.createLun({ sizeBytes: LUN_BLOCKS * BLOCK });
    const b = array.createLun({ sizeBytes: LUN_BLOCKS * BLOCK });
    expectGood(await exec(b, cdb.testUnitReady(), undefined, HOST_B));
    expectGood(await select(a, v, v.list([CONTROL_SWP]), HOST_A));
    expectGood(await exec(b, cdb.testUnitReady(), undefined, HOST_B));
    expect(b.writeProtected).toBe(false);
  });

  it(`${v.name}/from another initiator while a SCSI-2 reservation is held: RESERVATION CONFLICT`, async () => {
    const { lun } = makeFixture();
    expectGood(await exec(lun, cdb.reserve6(), undefined, HOST_A));
    expectStatusOnly(await select(lun, v, v.list([CONTROL_SWP]), HOST_B), Status.RESERVATION_CONFLICT);
    expect(lun.writeProtected).toBe(false);
  });
});

describe('MODE SELECT(10) long LBA block descriptor', () => {
  const v = VARIANTS[1]!;
  it.each([
    { what: 'the LUN’s capacity and block length', bd: LONG_BD, ok: true },
    { what: 'NUMBER OF LOGICAL BLOCKS 0', bd: [...new Array<number>(12).fill(0), 0, 0, 0x02, 0x00], ok: true },
    { what: 'another NUMBER OF LOGICAL BLOCKS', bd: withByte(LONG_BD, 7, 1), field: 0 },
    { what: 'LOGICAL BLOCK LENGTH 4096', bd: withByte(withByte(LONG_BD, 14, 0x10), 15, 0), field: 12 },
  ])('MODE SELECT(10)/LONGLBA = 1 with $what', async ({ bd, ok, field }) => {
    const { lun } = makeFixture();
    const r = await select(lun, v, v.list([CONTROL_SWP], bd));
    if (ok === true) expectGood(r);
    else expectSense(r, { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(8 + field!) });
    expect(lun.writeProtected).toBe(ok === true);
  });

  it('MODE SELECT(10)/LONGLBA = 1 with BLOCK DESCRIPTOR LENGTH 8 is INVALID FIELD IN PARAMETER LIST', async () => {
    const { lun } = makeFixture();
    const list = v.list([CONTROL_SWP], SHORT_BD);
    list[4] = 0x01;
    expectSense(await select(lun, v, list), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(6) });
  });
});

describe('MODE SELECT/logical unit reset', () => {
  it('LOGICAL UNIT RESET returns the mode parameters to their defaults', async () => {
    const { lun } = makeFixture();
    expectGood(await select(lun, VARIANTS[0]!, VARIANTS[0]!.list([CONTROL_SWP, CACHING_WCE])));
    lun.reset();
    await exec(lun, cdb.testUnitReady()); // the reset's unit attention
    expect(await sensePage(lun, 0x0a)).toEqual(CONTROL);
    expect(await sensePage(lun, 0x08)).toEqual(CACHING);
    expect(lun.writeProtected).toBe(false);
  });
});

// ---- software write protect ------------------------------------------------------------------

interface Probe {
  readonly name: string;
  readonly build: (lun: Lun) => { cdb: Uint8Array; data?: Uint8Array };
}

const unmapList = cdb.unmapParameterList([{ lba: 0, blocks: 8 }]);

/** Every command that changes the medium (a row with `writesMedium`). */
const WRITES: readonly Probe[] = [
  { name: 'WRITE(10)', build: () => ({ cdb: cdb.write10({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE(12)', build: () => ({ cdb: cdb.write12({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE(16)', build: () => ({ cdb: cdb.write16({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE(16) of zero blocks', build: () => ({ cdb: cdb.write16({ lba: 0, blocks: 0 }) }) },
  { name: 'WRITE(6)', build: () => ({ cdb: cdb.write6({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE AND VERIFY(10)', build: () => ({ cdb: cdb.writeAndVerify10({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE AND VERIFY(12)', build: () => ({ cdb: cdb.writeAndVerify12({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE AND VERIFY(16)', build: () => ({ cdb: cdb.writeAndVerify16({ lba: 0, blocks: 1 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE SAME(10)', build: () => ({ cdb: cdb.writeSame10({ lba: 0, blocks: 8 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE SAME(16)', build: () => ({ cdb: cdb.writeSame16({ lba: 0, blocks: 8 }), data: filled(1, 0xbb) }) },
  { name: 'WRITE SAME(16) UNMAP', build: () => ({ cdb: cdb.writeSame16({ lba: 0, blocks: 2048, unmap: true }), data: filled(1, 0) }) },
  { name: 'COMPARE AND WRITE', build: () => ({ cdb: cdb.compareAndWrite({ lba: 0, blocks: 1 }), data: concat(pattern(BLOCK, 7), filled(1, 0xbb)) }) },
  { name: 'UNMAP', build: () => ({ cdb: cdb.unmap({ parameterListLength: unmapList.length }), data: unmapList }) },
  { name: 'SANITIZE BLOCK ERASE', build: () => ({ cdb: cdb.sanitize({ serviceAction: 0x02 }) }) },
  { name: 'SANITIZE CRYPTOGRAPHIC ERASE', build: () => ({ cdb: cdb.sanitize({ serviceAction: 0x03, immed: true }) }) },
  { name: 'SANITIZE EXIT FAILURE MODE', build: () => ({ cdb: cdb.sanitize({ serviceAction: 0x1f }) }) },
  {
    name: 'EXTENDED COPY within the LUN',
    build: (lun) => {
      const list = cdb.extendedCopyParameterList({
        listId: 0,
        cscds: [{ designator: lun.naaDesignator, blockSize: lun.blockSize }],
        segments: [{ source: 0, destination: 0, blocks: 8, sourceLba: 0, destinationLba: 2048 }],
      });
      return { cdb: cdb.extendedCopy(list.length), data: list };
    },
  },
];

/** Commands that do not change the medium: they run while SWP is one. */
const READS: readonly Probe[] = [
  { name: 'READ(10)', build: () => ({ cdb: cdb.read10({ lba: 0, blocks: 1 }) }) },
  { name: 'READ(12)', build: () => ({ cdb: cdb.read12({ lba: 0, blocks: 1 }) }) },
  { name: 'READ(16)', build: () => ({ cdb: cdb.read16({ lba: 0, blocks: 1 }) }) },
  { name: 'READ(6)', build: () => ({ cdb: cdb.read6({ lba: 0, blocks: 1 }) }) },
  { name: 'VERIFY(10) BYTCHK 0', build: () => ({ cdb: cdb.verify10({ lba: 0, blocks: 1 }) }) },
  { name: 'VERIFY(16) BYTCHK 1', build: () => ({ cdb: cdb.verify16({ lba: 0, blocks: 1, bytchk: 1 }), data: filled(1, 0) }) },
  { name: 'PRE-FETCH(10)', build: () => ({ cdb: cdb.preFetch10({ lba: 0, blocks: 1 }) }) },
  { name: 'GET LBA STATUS', build: () => ({ cdb: cdb.getLbaStatus({ lba: 0, allocationLength: 24 }) }) },
  { name: 'READ CAPACITY(16)', build: () => ({ cdb: cdb.readCapacity16() }) },
  { name: 'SYNCHRONIZE CACHE(10)', build: () => ({ cdb: cdb.synchronizeCache10() }) },
  { name: 'SYNCHRONIZE CACHE(16)', build: () => ({ cdb: cdb.synchronizeCache16() }) },
  { name: 'TEST UNIT READY', build: () => ({ cdb: cdb.testUnitReady() }) },
  { name: 'MODE SENSE(10)', build: () => ({ cdb: cdb.modeSense10() }) },
  { name: 'RESERVE(6)', build: () => ({ cdb: cdb.reserve6() }) },
];

describe('Software write protect (Control mode page SWP = 1)', () => {
  it.each(WRITES)('SWP/$name fails with DATA PROTECT / WRITE PROTECTED and changes nothing', async (p) => {
    const { array, lun } = makeFixture();
    await populate(lun);
    await setSwp(lun, true);
    const { cdb: c, data } = p.build(lun);
    await expectFailsCleanly(array, defaultRanges(lun), () => exec(lun, c, data), { ...WRITE_PROTECTED, information: null, fieldPointer: null });
    await setSwp(lun, false);
    expectGood(await exec(lun, c, data));
  });

  it.each(READS)('SWP/$name runs', async (p) => {
    const { lun } = makeFixture();
    await setSwp(lun, true);
    const { cdb: c, data } = p.build(lun);
    expectGood(await exec(lun, c, data));
  });

  it('SWP/READ returns what was written before; a WRITE after SWP = 0 lands', async () => {
    const { lun } = makeFixture();
    await populate(lun);
    await setSwp(lun, true);
    expect([...(await readBlocks(lun, 0, 1))]).toEqual([...pattern(BLOCK, 7)]);
    await setSwp(lun, false);
    expectGood(await exec(lun, cdb.write10({ lba: 0, blocks: 1 }), filled(1, 0xcd)));
    expect([...(await readBlocks(lun, 0, 1))]).toEqual([...filled(1, 0xcd)]);
  });

  it('SWP/every initiator is refused, not only the one that set it', async () => {
    const { lun } = makeFixture();
    await setSwp(lun, true, HOST_A);
    await exec(lun, cdb.testUnitReady(), undefined, HOST_B);
    expectSense(await exec(lun, cdb.write10({ lba: 0, blocks: 1 }), filled(1, 1), HOST_B), WRITE_PROTECTED);
  });

  it.each([
    { what: 'sent to the protected destination', sentTo: 'destination' as const },
    { what: 'sent to the unprotected source', sentTo: 'source' as const },
  ])('SWP/EXTENDED COPY into a protected LUN, $what: DATA PROTECT / WRITE PROTECTED, nothing copied', async ({ sentTo }) => {
    const array = makeArray();
    const source = array.createLun({ sizeBytes: LUN_BLOCKS * BLOCK });
    const destination = array.createLun({ sizeBytes: LUN_BLOCKS * BLOCK });
    await populate(source);
    await setSwp(destination, true);
    await expectFailsCleanly(
      array,
      defaultRanges(destination),
      () => xcopy(sentTo === 'source' ? source : destination, [{ from: source, to: destination, blocks: 8, sourceLba: 0, destinationLba: 0 }]),
      WRITE_PROTECTED,
    );
  });

  it('SWP/EXTENDED COPY out of a protected LUN into another runs', async () => {
    const array = makeArray();
    const source = array.createLun({ sizeBytes: LUN_BLOCKS * BLOCK });
    const destination = array.createLun({ sizeBytes: LUN_BLOCKS * BLOCK });
    await populate(source);
    await setSwp(source, true);
    expectGood(await xcopy(source, [{ from: source, to: destination, blocks: 8, sourceLba: 0, destinationLba: 0 }]));
    expect([...(await readBlocks(destination, 0, 8))]).toEqual([...pattern(8 * BLOCK, 7)]);
  });

  it('SWP/the opcode table marks exactly the commands that change the medium', () => {
    const marked = allCommands()
      .filter((s) => s.writesMedium === true)
      .map((s) => s.name);
    const writers = allCommands()
      .map((s) => s.name)
      .filter((n) => /^(WRITE|ORWRITE|UNMAP|COMPARE AND WRITE|SANITIZE|FORMAT UNIT)/.test(n));
    expect(marked.sort()).toEqual(writers.sort());
  });
});
