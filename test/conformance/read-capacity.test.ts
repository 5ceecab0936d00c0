/**
 * READ CAPACITY(10) and READ CAPACITY(16) (SBC-3 5.16, 5.17; docs/decisions/reporting.md and libiscsi
 * ReadCapacity16): exact data, saturation above 2^32 blocks, LBPME/LBPRZ for thin and thick
 * LUNs, protection fields, and truncation to short allocation lengths.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import { LUN_BLOCKS, Sense, TiB, be32, be64, cdbField, exec, expectGood, expectSense, makeArray, makeFixture, setU32 } from './helpers.js';

describe('READ CAPACITY(10)', () => {
  it('READ CAPACITY(10)/simple: last LBA and block length, 8 bytes', async () => {
    const { lun } = makeFixture();
    const r = await exec(lun, cdb.readCapacity10());
    expectGood(r);
    expect([...r.data!]).toEqual([0x00, 0x01, 0xff, 0xff, 0x00, 0x00, 0x02, 0x00]); // 131071, 512
  });

  it.each([
    { blocks: 2 ** 32 - 1, expected: 0xfffffffe },
    { blocks: 2 ** 32, expected: 0xffffffff },
    { blocks: 2 ** 32 + 1, expected: 0xffffffff },
    { blocks: 2 ** 40, expected: 0xffffffff },
  ])('READ CAPACITY(10)/a LUN of $blocks blocks returns $expected (saturating at FFFFFFFFh)', async ({ blocks, expected }) => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: blocks * 512 });
    const r = await exec(lun, cdb.readCapacity10());
    expectGood(r);
    expect(be32(r.data!, 0)).toBe(expected);
    expect(be32(r.data!, 4)).toBe(512);
  });

  it.each([1024, 2048, 4096])('READ CAPACITY(10)/block length %i', async (blockSize) => {
    const { lun } = makeFixture({ blockSize });
    const d = (await exec(lun, cdb.readCapacity10())).data!;
    expect(be32(d, 0)).toBe((64 * 1024 * 1024) / blockSize - 1);
    expect(be32(d, 4)).toBe(blockSize);
  });

  it('READ CAPACITY(10)/LOGICAL BLOCK ADDRESS != 0 with PMI = 0 is INVALID FIELD IN CDB', async () => {
    const { lun } = makeFixture();
    const c = setU32(cdb.readCapacity10(), 2, 10);
    expectSense(await exec(lun, c), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2) });
  });

  it('READ CAPACITY(10)/with Data-Out is rejected', async () => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, cdb.readCapacity10(), new Uint8Array(8)), Sense.INVALID_FIELD_IN_CDB);
  });
});

describe('READ CAPACITY(16)', () => {
  it.each([
    { kind: 'thin', byte14: 0xc0 },
    { kind: 'thick', byte14: 0x00 },
  ])('READ CAPACITY(16)/simple ($kind): 32 bytes, LBPME/LBPRZ = $byte14, no protection, reserved bytes zero', async ({ kind, byte14 }) => {
    const { lun } = makeFixture({ thin: kind === 'thin' });
    const r = await exec(lun, cdb.readCapacity16(32));
    expectGood(r);
    const expected = new Uint8Array(32);
    expected.set([0, 0, 0, 0, 0, 0x01, 0xff, 0xff], 0); // RETURNED LOGICAL BLOCK ADDRESS 131071
    expected.set([0, 0, 0x02, 0x00], 8); // LOGICAL BLOCK LENGTH IN BYTES
    expected[14] = byte14; // LBPME(7) LBPRZ(6), LOWEST ALIGNED LBA 0
    expect([...r.data!]).toEqual([...expected]);
  });

  it('READ CAPACITY(16)/pi: PROTECT = 0 in INQUIRY, so P_TYPE, PROT_EN and P_I_EXPONENT are zero', async () => {
    const { lun } = makeFixture();
    const inq = (await exec(lun, cdb.inquiry({ allocationLength: 96 }))).data!;
    expect(inq[5]! & 0x01).toBe(0);
    const d = (await exec(lun, cdb.readCapacity16(32))).data!;
    expect(d[12]! & 0x0f).toBe(0);
    expect(d[13]! & 0xf0).toBe(0);
  });

  it('READ CAPACITY(16)/a LUN above 2^32 blocks reports its exact last LBA', async () => {
    const array = makeArray();
    const lun = array.createLun({ sizeBytes: 64 * TiB });
    const d = (await exec(lun, cdb.readCapacity16(32))).data!;
    expect(be64(d, 0)).toBe(BigInt((64 * TiB) / 512 - 1));
    expect(be32(d, 8)).toBe(512);
  });

  it.each(Array.from({ length: 17 }, (_, i) => i).concat([31, 32, 33, 96, 0xffffffff]))('READ CAPACITY(16)/alloclen %i is GOOD and truncates', async (n) => {
    const { lun } = makeFixture();
    const full = (await exec(lun, cdb.readCapacity16(32))).data!;
    const r = await exec(lun, cdb.readCapacity16(n));
    expectGood(r);
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, Math.min(n, 32))]);
  });

  it('READ CAPACITY(16)/agrees with READ CAPACITY(10) and with the number of blocks READ accepts', async () => {
    const { lun } = makeFixture();
    const rc16 = (await exec(lun, cdb.readCapacity16(32))).data!;
    const rc10 = (await exec(lun, cdb.readCapacity10())).data!;
    expect(Number(be64(rc16, 0))).toBe(be32(rc10, 0));
    expect(Number(be64(rc16, 0)) + 1).toBe(LUN_BLOCKS);
    expectGood(await exec(lun, cdb.read16({ lba: Number(be64(rc16, 0)), blocks: 1 })));
    expectSense(await exec(lun, cdb.read16({ lba: Number(be64(rc16, 0)) + 1, blocks: 1 })), Sense.LBA_OUT_OF_RANGE);
  });

  it.each([0x00, 0x11, 0x13, 0x1f])('SERVICE ACTION IN(16)/service action %i (unsupported) is INVALID FIELD IN CDB pointing at it', async (sa) => {
    const { lun } = makeFixture();
    const c = cdb.readCapacity16(32);
    c[1] = sa;
    expectSense(await exec(lun, c), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
  });
});
