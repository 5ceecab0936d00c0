/**
 * MODE SENSE(6) and MODE SENSE(10) (SPC-4 6.11, 6.12; SBC-3 6.4): headers, the DPOFUA device-specific
 * parameter, short and long LBA block descriptors, the Caching and Control pages, page control values
 * and truncation; current values after MODE SELECT, changeable masks, defaults.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import { Sense, TiB, be16, be32, be64, cdbField, exec, expectGood, expectRawFixedSense, expectSense, makeArray, makeFixture } from './helpers.js';

const CACHING = [0x08, 0x12, ...new Array<number>(18).fill(0)];
const CONTROL_CURRENT = [0x0a, 0x0a, 0x00, 0x10, 0x00, 0x40, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00];
/** Changeable: D_SENSE (byte 2 bit 2) and SWP (byte 4 bit 3). */
const CONTROL_CHANGEABLE = [0x0a, 0x0a, 0x04, 0x00, 0x08, ...new Array<number>(7).fill(0)];
/** Changeable: WCE (byte 2 bit 2) only. */
const CACHING_CHANGEABLE = [0x08, 0x12, 0x04, ...new Array<number>(17).fill(0)];
const SHORT_DESCRIPTOR = [0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00]; // 131072 blocks, 512 bytes
const LONG_DESCRIPTOR = [0, 0, 0, 0, 0x00, 0x02, 0x00, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x02, 0x00];

describe('MODE SENSE(6)', () => {
  it('MODE SENSE(6)/all pages: header, short block descriptor, Caching then Control page', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.modeSense6({ pageCode: 0x3f }));
    expectGood(r);
    const body = [...SHORT_DESCRIPTOR, ...CACHING, ...CONTROL_CURRENT];
    expect([...r.data!]).toEqual([3 + body.length, 0x00, 0x10, 0x08, ...body]);
  });

  it('MODE SENSE(6)/device-specific parameter: WP = 0, DPOFUA = 1 (10h)', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, cdb.modeSense6({ pageCode: 0x3f }))).data!;
    expect(d[2]! & 0x80, 'WP').toBe(0);
    expect(d[2]! & 0x10, 'DPOFUA').toBe(0x10);
  });

  it.each([
    { page: 0x08, pages: CACHING },
    { page: 0x0a, pages: CONTROL_CURRENT },
  ])('MODE SENSE(6)/page $page with DBD = 1', async ({ page, pages }) => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.modeSense6({ pageCode: page, dbd: true }));
    expectGood(r);
    expect([...r.data!]).toEqual([3 + pages.length, 0x00, 0x10, 0x00, ...pages]);
  });

  it('MODE SENSE(6)/short block descriptor NUMBER OF LOGICAL BLOCKS saturates at FFFFFFFFh', async () => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: 4 * TiB });
    const d = (await exec(lun, cdb.modeSense6({ pageCode: 0x08 }))).data!;
    expect(be32(d, 4)).toBe(0xffffffff);
    expect(d[8]).toBe(0);
    expect((d[9]! << 16) | (d[10]! << 8) | d[11]!).toBe(512);
  });

  it.each([
    { pc: 0, what: 'current', control: CONTROL_CURRENT, caching: CACHING },
    { pc: 1, what: 'changeable', control: CONTROL_CHANGEABLE, caching: CACHING_CHANGEABLE },
    { pc: 2, what: 'default', control: CONTROL_CURRENT, caching: CACHING },
  ])('MODE SENSE(6)/PAGE CONTROL $pc ($what values)', async ({ pc, control, caching }) => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.modeSense6({ pageCode: 0x0a, pageControl: pc, dbd: true }));
    expectGood(r);
    expect([...r.data!.subarray(4)]).toEqual(control);
    const all = await exec(lun, cdb.modeSense6({ pageCode: 0x3f, pageControl: pc, dbd: true }));
    expect([...all.data!.subarray(4)]).toEqual([...caching, ...control]);
  });

  it.each([
    { pc: 0, what: 'current', control: [0x0a, 0x0a, 0x00, 0x10, 0x08, 0x40, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00], wp: 0x80 },
    { pc: 1, what: 'changeable', control: CONTROL_CHANGEABLE, wp: 0x80 },
    { pc: 2, what: 'default', control: CONTROL_CURRENT, wp: 0x80 },
  ])('MODE SENSE(6)/after MODE SELECT set SWP: PAGE CONTROL $pc ($what values), WP in every header', async ({ pc, control, wp }) => {
    const { lun } = makeFixture();
    const list = [0, 0, 0, 0, ...CONTROL_CURRENT.map((b, i) => (i === 4 ? 0x08 : b))];
    expectGood(await exec(lun, cdb.modeSelect6({ parameterListLength: list.length }), Uint8Array.from(list)));
    const d = (await exec(lun, cdb.modeSense6({ pageCode: 0x0a, pageControl: pc, dbd: true }))).data!;
    expect(d[2], 'WP, DPOFUA').toBe(wp | 0x10);
    expect([...d.subarray(4)]).toEqual(control);
  });

  it('MODE SENSE(6)/mode parameters are per logical unit', async () => {
    const array = makeArray();
    const a = array.createLun({ sizeBytes: 64 * 1024 * 1024 });
    const b = array.createLun({ sizeBytes: 64 * 1024 * 1024 });
    const list = [0, 0, 0, 0, ...CACHING.map((v, i) => (i === 2 ? 0x04 : v))];
    expectGood(await exec(a, cdb.modeSelect6({ parameterListLength: list.length }), Uint8Array.from(list)));
    expect((await exec(a, cdb.modeSense6({ pageCode: 0x08, dbd: true }))).data![6], 'WCE on LUN a').toBe(0x04);
    expect((await exec(b, cdb.modeSense6({ pageCode: 0x08, dbd: true }))).data![6], 'WCE on LUN b').toBe(0x00);
  });

  it('MODE SENSE(6)/PAGE CONTROL 3 (saved values) is SAVING PARAMETERS NOT SUPPORTED', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.modeSense6({ pageCode: 0x3f, pageControl: 3 }));
    expectSense(r, { ...Sense.SAVING_PARAMETERS_NOT_SUPPORTED, fieldPointer: cdbField(2, 7) });
    expectRawFixedSense(r.sense, { ...Sense.SAVING_PARAMETERS_NOT_SUPPORTED, fieldPointer: cdbField(2, 7) });
  });

  it.each([0x00, 0x01, 0x1c, 0x19, 0x3e])('MODE SENSE(6)/unsupported page %i is INVALID FIELD IN CDB', async (page) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, cdb.modeSense6({ pageCode: page })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2, 5) });
  });

  it.each([
    { page: 0x08, subpage: 0x01, ok: false },
    { page: 0x0a, subpage: 0xff, ok: false },
    { page: 0x3f, subpage: 0xff, ok: true },
    { page: 0x3f, subpage: 0x01, ok: false },
  ])('MODE SENSE(6)/page $page subpage $subpage', async ({ page, subpage, ok }) => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.modeSense6({ pageCode: page, subpage }));
    if (ok) expectGood(r);
    else expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(3) });
  });

  it.each([0, 1, 3, 4, 11, 12, 20, 43, 44, 255])('MODE SENSE(6)/ALLOCATION LENGTH %i truncates; MODE DATA LENGTH is not altered', async (n) => {
    const { lun } = makeFixture();
    const full = (await exec(lun, cdb.modeSense6({ pageCode: 0x3f }))).data!;
    const r = await exec(lun, cdb.modeSense6({ pageCode: 0x3f, allocationLength: n }));
    expectGood(r);
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, n)]);
  });
});

describe('MODE SENSE(10)', () => {
  it('MODE SENSE(10)/all pages: header, short block descriptor, Caching and Control pages', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.modeSense10({ pageCode: 0x3f }));
    expectGood(r);
    const body = [...SHORT_DESCRIPTOR, ...CACHING, ...CONTROL_CURRENT];
    const length = 6 + body.length;
    expect([...r.data!]).toEqual([length >> 8, length & 0xff, 0x00, 0x10, 0x00, 0x00, 0x00, 0x08, ...body]);
  });

  it('MODE SENSE(10)/LLBAA = 1: long LBA block descriptor, LONGLBA set', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.modeSense10({ pageCode: 0x08, llbaa: true }));
    expectGood(r);
    const d = r.data!;
    expect(be16(d, 0)).toBe(d.length - 2);
    expect(d[3]).toBe(0x10);
    expect(d[4]! & 0x01, 'LONGLBA').toBe(1);
    expect(be16(d, 6), 'BLOCK DESCRIPTOR LENGTH').toBe(16);
    expect([...d.subarray(8, 24)]).toEqual(LONG_DESCRIPTOR);
    expect([...d.subarray(24)]).toEqual(CACHING);
  });

  it('MODE SENSE(10)/long LBA block descriptor holds more than 2^32 blocks exactly', async () => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: 4 * TiB });
    const d = (await exec(lun, cdb.modeSense10({ pageCode: 0x08, llbaa: true }))).data!;
    expect(be64(d, 8)).toBe(BigInt((4 * TiB) / 512));
    expect(be32(d, 20)).toBe(512);
  });

  it('MODE SENSE(10)/DBD = 1: no block descriptor', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, cdb.modeSense10({ pageCode: 0x0a, dbd: true }))).data!;
    expect(be16(d, 6)).toBe(0);
    expect([...d.subarray(8)]).toEqual(CONTROL_CURRENT);
    expect(be16(d, 0)).toBe(6 + CONTROL_CURRENT.length);
  });

  it('MODE SENSE(10)/the block descriptor agrees with READ CAPACITY', async () => {
    const { lun } = makeFixture({ blockSize: 4096 });
    const d = (await exec(lun, cdb.modeSense10({ pageCode: 0x08 }))).data!;
    expect(be32(d, 8)).toBe((64 * 1024 * 1024) / 4096);
    expect(be32(d, 12) & 0xffffff).toBe(4096);
  });

  it('MODE SENSE(10)/PAGE CONTROL 3 is SAVING PARAMETERS NOT SUPPORTED', async () => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, cdb.modeSense10({ pageCode: 0x08, pageControl: 3 })), { ...Sense.SAVING_PARAMETERS_NOT_SUPPORTED, fieldPointer: cdbField(2, 7) });
  });

  it.each([0, 1, 2, 7, 8, 16, 52, 0xffff])('MODE SENSE(10)/ALLOCATION LENGTH %i truncates', async (n) => {
    const { lun } = makeFixture();
    const full = (await exec(lun, cdb.modeSense10({ pageCode: 0x3f }))).data!;
    const r = await exec(lun, cdb.modeSense10({ pageCode: 0x3f, allocationLength: n }));
    expectGood(r);
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, n)]);
  });

  it('MODE SENSE(6) and (10) report the same pages', async () => {
    const { lun } = makeFixture();
    const six = (await exec(lun, cdb.modeSense6({ pageCode: 0x3f }))).data!;
    const ten = (await exec(lun, cdb.modeSense10({ pageCode: 0x3f }))).data!;
    expect([...six.subarray(4)]).toEqual([...ten.subarray(8)]);
    expect(six[2]).toBe(ten[3]);
  });
});
