/**
 * INQUIRY (SPC-4 6.6; docs/decisions/reporting.md and libiscsi Inquiry): standard data byte by byte, and
 * the VPD pages 00h, 80h, 83h, 8Fh, B0h, B1h, B2h, for thin and thick LUNs.
 */
import { describe, expect, it } from 'vitest';
import { COPY_LIMITS, PRODUCT_IDENTIFICATION, PRODUCT_REVISION_LEVEL, VENDOR_IDENTIFICATION, cdb } from '../../src/index.js';
import {
  HOST_A,
  HOST_B,
  LUN_BYTES,
  Sense,
  UNIT_BLOCKS,
  be16,
  be32,
  be64,
  cdbField,
  exec,
  expectGood,
  expectSense,
  makeArray,
  makeFixture,
} from './helpers.js';

const inquiry = (f: { page?: number; allocationLength?: number } = {}) => cdb.inquiry({ allocationLength: 255, ...f });

const ascii = (b: Uint8Array) => String.fromCharCode(...b);
const printable = (b: Uint8Array) => [...b].every((c) => c >= 0x20 && c <= 0x7e);

/** The standard INQUIRY data expected from every accessible LUN (SPC-4 table 139), as data. */
const STANDARD_FIELDS: ReadonlyArray<{ readonly name: string; readonly at: number; readonly mask: number; readonly value: number }> = [
  { name: 'PERIPHERAL QUALIFIER / DEVICE TYPE', at: 0, mask: 0xff, value: 0x00 },
  { name: 'RMB', at: 1, mask: 0x80, value: 0 },
  { name: 'VERSION (SPC-4)', at: 2, mask: 0xff, value: 0x06 },
  { name: 'NORMACA', at: 3, mask: 0x20, value: 0 },
  { name: 'RESPONSE DATA FORMAT', at: 3, mask: 0x0f, value: 0x02 },
  { name: 'ADDITIONAL LENGTH', at: 4, mask: 0xff, value: 91 },
  { name: '3PC', at: 5, mask: 0x08, value: 0x08 },
  { name: 'PROTECT', at: 5, mask: 0x01, value: 0 },
  { name: 'SCCS/ACC/TPGS (TPGS 11b: implicit and explicit ALUA)', at: 5, mask: 0xf0, value: 0x30 },
  { name: 'ENCSERV/MULTIP', at: 6, mask: 0x50, value: 0 },
  { name: 'CMDQUE', at: 7, mask: 0x02, value: 0x02 },
];

describe('INQUIRY: standard data', () => {
  it.each(STANDARD_FIELDS)('INQUIRY/standard $name', async ({ at, mask, value }) => {
    const { lun } = makeFixture();
    const r = await exec(lun, inquiry());
    expectGood(r);
    expect(r.data!.length).toBe(96);
    expect(r.data![at]! & mask).toBe(value);
  });

  it('INQUIRY/standard identification strings: ASCII, space padded, as exported', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, inquiry())).data!;
    const fields = [
      { name: 'T10 VENDOR IDENTIFICATION', from: 8, to: 16, expected: VENDOR_IDENTIFICATION },
      { name: 'PRODUCT IDENTIFICATION', from: 16, to: 32, expected: PRODUCT_IDENTIFICATION },
      { name: 'PRODUCT REVISION LEVEL', from: 32, to: 36, expected: PRODUCT_REVISION_LEVEL },
    ];
    for (const f of fields) {
      const b = d.subarray(f.from, f.to);
      expect(printable(b), f.name).toBe(true);
      expect(ascii(b), f.name).toBe(f.expected.padEnd(f.to - f.from, ' '));
      expect(b[0], `${f.name} is left-aligned`).not.toBe(0x20);
    }
  });

  it('INQUIRY/standard version descriptors: SAM-5, SPC-4, SBC-3 (the SBC-3 claim makes libiscsi expect a 3Ch Block Limits page)', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, inquiry())).data!;
    const descriptors = Array.from({ length: 8 }, (_, i) => be16(d, 58 + 2 * i));
    expect(descriptors).toEqual([0x00a0, 0x0460, 0x04c0, 0, 0, 0, 0, 0]);
  });

  it('INQUIRY/standard padding bytes are zero (36..57 and 74..95)', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, inquiry())).data!;
    expect([...d.subarray(36, 58)].every((b) => b === 0)).toBe(true);
    expect([...d.subarray(74, 96)].every((b) => b === 0)).toBe(true);
  });

  it.each([0, 1, 5, 36, 58, 95, 96, 255, 0xffff])('INQUIRY/standard ALLOCATION LENGTH %i truncates a fixed answer', async (n) => {
    const { lun } = makeFixture();
    const full = (await exec(lun, inquiry())).data!;
    const r = await exec(lun, inquiry({ allocationLength: n }));
    expectGood(r);
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, Math.min(n, 96))]);
  });

  it('INQUIRY/CMDDT = 1 (obsolete) is INVALID FIELD IN CDB', async () => {
    const { lun } = makeFixture();
    const c = inquiry();
    c[1] = 0x02;
    expectSense(await exec(lun, c), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 1) });
  });

  it('INQUIRY/EVPD = 0 with a PAGE CODE is INVALID FIELD IN CDB', async () => {
    const { lun } = makeFixture();
    const c = inquiry();
    c[2] = 0x80;
    expectSense(await exec(lun, c), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2) });
  });

  it('INQUIRY/a LUN the initiator may not access: qualifier 011b type 1Fh, VPD pages refused', async () => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: LUN_BYTES, initiators: [HOST_A] });
    const r = await exec(lun, inquiry(), undefined, HOST_B);
    expectGood(r);
    expect(r.data![0]).toBe(0x7f);
    expectSense(await exec(lun, inquiry({ page: 0x83 }), undefined, HOST_B), Sense.LOGICAL_UNIT_NOT_SUPPORTED);
    expect((await exec(lun, inquiry(), undefined, HOST_A)).data![0]).toBe(0x00);
  });
});

describe('INQUIRY: VPD pages', () => {
  const PAGES = [0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2];

  it('INQUIRY/vpd-00 lists 00 80 83 8F B0 B1 B2 in ascending order', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, inquiry({ page: 0x00 }))).data!;
    expect([d[0], d[1]]).toEqual([0x00, 0x00]);
    expect(be16(d, 2)).toBe(d.length - 4);
    const listed = [...d.subarray(4)];
    expect(listed).toEqual([...listed].sort((a, b) => a - b));
    expect(listed).toEqual(PAGES);
  });

  it.each([true, false])('INQUIRY/vpd-00 lists exactly the readable pages (all 256 page codes probed, thin=%s)', async (thin) => {
    const { lun } = makeFixture({ thin });
    const listed = [...(await exec(lun, inquiry({ page: 0x00 }))).data!.subarray(4)];
    for (let page = 0; page < 256; page++) {
      const r = await exec(lun, inquiry({ page }));
      if (listed.includes(page)) {
        expectGood(r);
        expect(r.data![1], `page ${page.toString(16)} header`).toBe(page);
        expect(r.data![0]).toBe(0x00);
        expect(be16(r.data!, 2) + 4).toBe(r.data!.length);
      } else {
        expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2) });
      }
    }
  });

  it('INQUIRY/vpd-80 unit serial number: printable ASCII, the LUN serial number, unique per LUN', async () => {
    const array = makeArray();
    const a = array.createLun({ sizeBytes: LUN_BYTES });
    const b = array.createLun({ sizeBytes: LUN_BYTES });
    const serials: string[] = [];
    for (const lun of [a, b]) {
      const d = (await exec(lun, inquiry({ page: 0x80 }))).data!;
      expect(be16(d, 2)).toBe(d.length - 4);
      const s = d.subarray(4);
      expect(printable(s)).toBe(true);
      expect(ascii(s)).toBe(lun.serialNumber);
      serials.push(ascii(s));
    }
    expect(serials[0]).not.toBe(serials[1]);
  });

  it('INQUIRY/vpd-83 first designator is the NAA 6h logical-unit designator (code set 1, association 0, 16 bytes)', async () => {
    const array = makeArray();
    const luns = [array.createLun({ sizeBytes: LUN_BYTES }), array.createLun({ sizeBytes: LUN_BYTES })];
    const seen = new Set<string>();
    for (const lun of luns) {
      const d = (await exec(lun, inquiry({ page: 0x83 }))).data!;
      expect(be16(d, 2)).toBe(d.length - 4);
      expect(d[4]! & 0xf0, 'PROTOCOL IDENTIFIER').toBe(0);
      expect(d[4]! & 0x0f, 'CODE SET binary').toBe(1);
      expect(d[5]! & 0x80, 'PIV').toBe(0);
      expect(d[5]! & 0x30, 'ASSOCIATION logical unit').toBe(0);
      expect(d[5]! & 0x0f, 'DESIGNATOR TYPE NAA').toBe(3);
      expect(d[7], 'DESIGNATOR LENGTH').toBe(16);
      const naa = d.subarray(8, 24);
      expect(naa[0]! >>> 4, 'NAA 6h').toBe(6);
      expect([...naa]).toEqual([...lun.naaDesignator]);
      expect(lun.naaName).toBe(`naa.${Buffer.from(naa).toString('hex')}`);
      seen.add(lun.naaName);
      // Every designation descriptor lies within the page.
      let at = 4;
      let n = 0;
      while (at < d.length) {
        expect(at + 4 + d[at + 3]!).toBeLessThanOrEqual(d.length);
        at += 4 + d[at + 3]!;
        n++;
      }
      expect(at).toBe(d.length);
      expect(n).toBeGreaterThanOrEqual(1);
    }
    expect(seen.size).toBe(2);
  });

  it('INQUIRY/vpd-83 second designator is the T10 vendor ID (ASCII, vendor + serial)', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, inquiry({ page: 0x83 }))).data!;
    const at = 4 + 4 + d[7]!;
    expect(d[at]! & 0x0f).toBe(2);
    expect(d[at + 1]! & 0x3f).toBe(1);
    const text = d.subarray(at + 4, at + 4 + d[at + 3]!);
    expect(printable(text)).toBe(true);
    expect(ascii(text)).toBe(`${VENDOR_IDENTIFICATION}${lun.serialNumber}`);
  });

  it('INQUIRY/vpd-8f third-party copy descriptors: 0001h, 0004h, 0008h, 8001h, each padded to 4 bytes', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, inquiry({ page: 0x8f, allocationLength: 1024 }))).data!;
    expect(be16(d, 2)).toBe(d.length - 4);
    const descriptors = new Map<number, Uint8Array>();
    for (let at = 4; at < d.length; ) {
      const length = be16(d, at + 2);
      expect((4 + length) % 4, 'descriptor padded to a multiple of 4').toBe(0);
      descriptors.set(be16(d, at), d.subarray(at, at + 4 + length));
      at += 4 + length;
    }
    expect([...descriptors.keys()]).toEqual([0x0001, 0x0004, 0x0008, 0x8001]);
    // 0001h Supported Commands: 83h [00h], 84h [00h 03h 04h].
    const sc = descriptors.get(0x0001)!;
    expect([...sc.subarray(4, 5 + sc[4]!)]).toEqual([8, 0x83, 1, 0x00, 0x84, 3, 0x00, 0x03, 0x04]);
    // 0004h Parameter Data.
    const pd = descriptors.get(0x0004)!;
    expect(be16(pd, 2)).toBe(0x1c);
    expect(be16(pd, 8)).toBe(COPY_LIMITS.maximumCscdDescriptorCount);
    expect(be16(pd, 10)).toBe(COPY_LIMITS.maximumSegmentDescriptorCount);
    expect(be32(pd, 12)).toBe(COPY_LIMITS.maximumDescriptorListLength);
    expect(be32(pd, 16)).toBe(COPY_LIMITS.maximumInlineDataLength);
    // 0008h Supported Descriptors: 02h, E4h.
    const sd = descriptors.get(0x0008)!;
    expect([...sd.subarray(4, 5 + sd[4]!)]).toEqual([2, 0x02, 0xe4]);
    // 8001h General Copy Operations.
    const g = descriptors.get(0x8001)!;
    expect(be16(g, 2)).toBe(0x20);
    expect(be32(g, 4)).toBe(COPY_LIMITS.totalConcurrentCopies);
    expect(be32(g, 8)).toBe(COPY_LIMITS.maximumConcurrentCopies);
    expect(be32(g, 12)).toBe(COPY_LIMITS.maximumSegmentLength);
    expect(g[16]).toBe(9);
    expect(g[17]).toBe(9);
  });

  /** Block Limits fields (SBC-3 6.6.4) as data: name, offset in the page, width, expected for thin and thick. */
  const B0_FIELDS = [
    { name: 'WSNZ', at: 4, width: 1, thin: 0, thick: 0 },
    { name: 'MAXIMUM COMPARE AND WRITE LENGTH', at: 5, width: 1, thin: 255, thick: 255 },
    { name: 'OPTIMAL TRANSFER LENGTH GRANULARITY', at: 6, width: 2, thin: 1, thick: 1 },
    { name: 'MAXIMUM TRANSFER LENGTH', at: 8, width: 4, thin: 65536, thick: 65536 },
    { name: 'OPTIMAL TRANSFER LENGTH', at: 12, width: 4, thin: UNIT_BLOCKS, thick: UNIT_BLOCKS },
    { name: 'MAXIMUM PREFETCH LENGTH', at: 16, width: 4, thin: 0, thick: 0 },
    { name: 'MAXIMUM UNMAP LBA COUNT', at: 20, width: 4, thin: 0xffffffff, thick: 0 },
    { name: 'MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT', at: 24, width: 4, thin: 256, thick: 0 },
    { name: 'OPTIMAL UNMAP GRANULARITY', at: 28, width: 4, thin: UNIT_BLOCKS, thick: UNIT_BLOCKS },
    { name: 'UGAVALID + UNMAP GRANULARITY ALIGNMENT', at: 32, width: 4, thin: 0x80000000, thick: 0x80000000 },
    { name: 'MAXIMUM WRITE SAME LENGTH', at: 36, width: 8, thin: 4 * 1024 * 1024, thick: 4 * 1024 * 1024 },
    // SBC-4 atomic fields (WRITE ATOMIC(16)): the 16-bit TRANSFER LENGTH caps MAXIMUM TRANSFER LENGTH.
    { name: 'MAXIMUM ATOMIC TRANSFER LENGTH', at: 44, width: 4, thin: 0xffff, thick: 0xffff },
    { name: 'ATOMIC ALIGNMENT', at: 48, width: 4, thin: 0, thick: 0 },
    { name: 'ATOMIC TRANSFER LENGTH GRANULARITY', at: 52, width: 4, thin: 0, thick: 0 },
    { name: 'MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY', at: 56, width: 4, thin: 0xffff, thick: 0xffff },
    { name: 'MAXIMUM ATOMIC BOUNDARY SIZE', at: 60, width: 4, thin: 0xffff, thick: 0xffff },
  ];
  const read = (d: Uint8Array, at: number, width: number) => (width === 1 ? d[at]! : width === 2 ? be16(d, at) : width === 4 ? be32(d, at) : Number(be64(d, at)));

  it.each(B0_FIELDS.flatMap((f) => [true, false].map((thin) => ({ ...f, lun: thin ? 'thin' : 'thick', expected: thin ? f.thin : f.thick }))))(
    'INQUIRY/vpd-b0 $name ($lun)',
    async ({ at, width, lun: kind, expected }) => {
      const { lun } = makeFixture({ thin: kind === 'thin' });
      const d = (await exec(lun, inquiry({ page: 0xb0 }))).data!;
      expect(read(d, at, width)).toBe(expected);
    },
  );

  it('INQUIRY/vpd-b0 PAGE LENGTH is 3Ch, the data is exactly PAGE LENGTH + 4, reserved bits are zero', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, inquiry({ page: 0xb0, allocationLength: 255 }));
    const d = r.data!;
    expect(be16(d, 2)).toBe(0x3c);
    expect(d.length).toBe(0x3c + 4);
    expect(d[4]! & 0xfe).toBe(0);
    // libiscsi reads 64 bytes first.
    const short = await exec(lun, inquiry({ page: 0xb0, allocationLength: 64 }));
    expectGood(short);
    expect([...short.data!]).toEqual([...d.subarray(0, 64)]);
  });

  it('INQUIRY/vpd-b0 reports the limits the LUN was created with', async () => {
    const { lun } = makeFixture({ limits: { maximumCompareAndWriteLength: 1, maximumTransferLength: 1024, maximumUnmapLbaCount: 4096, maximumUnmapBlockDescriptorCount: 4, maximumWriteSameLength: 65535 } });
    const d = (await exec(lun, inquiry({ page: 0xb0 }))).data!;
    expect([d[5], be32(d, 8), be32(d, 12), be32(d, 20), be32(d, 24), Number(be64(d, 36))]).toEqual([1, 1024, 1024, 4096, 4, 65535]);
    // The atomic limits follow MAXIMUM TRANSFER LENGTH where it is below the CDB's 16-bit cap.
    expect([be32(d, 44), be32(d, 48), be32(d, 52), be32(d, 56), be32(d, 60)]).toEqual([1024, 0, 0, 1024, 1024]);
  });

  it.each([
    { kind: 'thin', byte7: 0x50, byte8: 0x01 },
    { kind: 'thick', byte7: 0x00, byte8: 0x00 },
  ])('INQUIRY/vpd-b1 block device characteristics ($kind): PAGE LENGTH 3Ch, non-rotating medium, WABEREQ/WACEREQ, VBULS', async ({ kind, byte7, byte8 }) => {
    const { lun } = makeFixture({ thin: kind === 'thin' });
    const d = (await exec(lun, inquiry({ page: 0xb1 }))).data!;
    expect(be16(d, 2)).toBe(0x3c);
    expect(be16(d, 4)).toBe(1);
    expect(d[6]).toBe(0);
    expect(d[7]).toBe(byte7); // WABEREQ 01b, WACEREQ 01b where SANITIZE BLOCK/CRYPTOGRAPHIC ERASE are implemented
    expect(d[8], 'VBULS: unmapped LBAs verify as zeros').toBe(byte8);
    expect([...d.subarray(9)].every((b) => b === 0)).toBe(true);
  });

  it.each([
    { kind: 'thin', bytes: [0x00, 0xb2, 0x00, 0x04, 0x00, 0xe4, 0x02, 0x00] },
    { kind: 'thick', bytes: [0x00, 0xb2, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00] },
  ])('INQUIRY/vpd-b2 logical block provisioning ($kind) byte by byte', async ({ kind, bytes }) => {
    const { lun } = makeFixture({ thin: kind === 'thin' });
    const r = await exec(lun, inquiry({ page: 0xb2 }));
    expectGood(r);
    // byte 5: LBPU(7) LBPWS(6) LBPWS10(5) LBPRZ(4:2 = 001b) ANC_SUP(1) DP(0); byte 6: PROVISIONING TYPE 2 (thin).
    expect([...r.data!]).toEqual(bytes);
  });

  it('INQUIRY/vpd-b2 agrees with READ CAPACITY(16) LBPME/LBPRZ', async () => {
    for (const thin of [true, false]) {
      const { lun } = makeFixture({ thin });
      const b2 = (await exec(lun, inquiry({ page: 0xb2 }))).data!;
      const rc = (await exec(lun, cdb.readCapacity16(32))).data!;
      expect((rc[14]! & 0x80) !== 0, 'LBPME').toBe(thin);
      expect((b2[5]! & 0x04) !== 0, 'LBPRZ').toBe((rc[14]! & 0x40) !== 0);
      expect((b2[5]! & 0x80) !== 0, 'LBPU only with LBPME').toBe((rc[14]! & 0x80) !== 0);
    }
  });

  it.each(PAGES.map((p) => [p, 0]).concat(PAGES.map((p) => [p, 3])))('INQUIRY/vpd page %i with ALLOCATION LENGTH %i truncates', async (page, n) => {
    const { lun } = makeFixture();
    const full = (await exec(lun, inquiry({ page }))).data!;
    const r = await exec(lun, inquiry({ page, allocationLength: n }));
    expectGood(r);
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, n)]);
  });
});
