/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35; docs/decisions/reporting.md and libiscsi ReportSupportedOpcodes,
 * docs/decisions/libiscsi.md): the all-commands list is exactly what executes (every listed command answers something other
 * than INVALID COMMAND OPERATION CODE, every unlisted one answers it), RCTD timeouts descriptors, the
 * one-command forms (reporting options 1, 2, 3), SUPPORT, CDB usage data, and thin versus thick LUNs.
 */
import { describe, expect, it } from 'vitest';
import { cdb, decodeSense, type Lun, type ScsiResult } from '../../src/index.js';
import { Sense, be16, be32, cdbField, exec, expectGood, expectSense, makeFixture, readProfile } from './helpers.js';

const rsoc = (f: Parameters<typeof cdb.reportSupportedOperationCodes>[0] = {}) => cdb.reportSupportedOperationCodes({ allocationLength: 8192, ...f });

/** A command as the all-commands list reports it. */
interface Listed {
  readonly opcode: number;
  readonly serviceAction: number | undefined;
  readonly cdbLength: number;
}

/** What the array implements on a thin LUN (SBC-3, SPC-4, SPC-2 reservations), as data. */
const THIN_COMMANDS: readonly Listed[] = [
  { opcode: 0x00, serviceAction: undefined, cdbLength: 6 }, // TEST UNIT READY
  { opcode: 0x03, serviceAction: undefined, cdbLength: 6 }, // REQUEST SENSE
  { opcode: 0x08, serviceAction: undefined, cdbLength: 6 }, // READ(6)
  { opcode: 0x0a, serviceAction: undefined, cdbLength: 6 }, // WRITE(6)
  { opcode: 0x12, serviceAction: undefined, cdbLength: 6 }, // INQUIRY
  { opcode: 0x15, serviceAction: undefined, cdbLength: 6 }, // MODE SELECT(6)
  { opcode: 0x16, serviceAction: undefined, cdbLength: 6 }, // RESERVE(6)
  { opcode: 0x17, serviceAction: undefined, cdbLength: 6 }, // RELEASE(6)
  { opcode: 0x1a, serviceAction: undefined, cdbLength: 6 }, // MODE SENSE(6)
  { opcode: 0x25, serviceAction: undefined, cdbLength: 10 }, // READ CAPACITY(10)
  { opcode: 0x28, serviceAction: undefined, cdbLength: 10 }, // READ(10)
  { opcode: 0x2a, serviceAction: undefined, cdbLength: 10 }, // WRITE(10)
  { opcode: 0x2e, serviceAction: undefined, cdbLength: 10 }, // WRITE AND VERIFY(10)
  { opcode: 0x2f, serviceAction: undefined, cdbLength: 10 }, // VERIFY(10)
  { opcode: 0x34, serviceAction: undefined, cdbLength: 10 }, // PRE-FETCH(10)
  { opcode: 0x35, serviceAction: undefined, cdbLength: 10 }, // SYNCHRONIZE CACHE(10)
  { opcode: 0x37, serviceAction: undefined, cdbLength: 10 }, // READ DEFECT DATA(10)
  { opcode: 0x41, serviceAction: undefined, cdbLength: 10 }, // WRITE SAME(10)
  { opcode: 0x42, serviceAction: undefined, cdbLength: 10 }, // UNMAP
  { opcode: 0x48, serviceAction: 0x01, cdbLength: 10 }, // SANITIZE OVERWRITE
  { opcode: 0x48, serviceAction: 0x02, cdbLength: 10 }, // SANITIZE BLOCK ERASE
  { opcode: 0x48, serviceAction: 0x03, cdbLength: 10 }, // SANITIZE CRYPTOGRAPHIC ERASE
  { opcode: 0x48, serviceAction: 0x1f, cdbLength: 10 }, // SANITIZE EXIT FAILURE MODE
  { opcode: 0x55, serviceAction: undefined, cdbLength: 10 }, // MODE SELECT(10)
  { opcode: 0x56, serviceAction: undefined, cdbLength: 10 }, // RESERVE(10)
  { opcode: 0x57, serviceAction: undefined, cdbLength: 10 }, // RELEASE(10)
  { opcode: 0x5a, serviceAction: undefined, cdbLength: 10 }, // MODE SENSE(10)
  { opcode: 0x5e, serviceAction: 0x00, cdbLength: 10 }, // PERSISTENT RESERVE IN(READ KEYS)
  { opcode: 0x5e, serviceAction: 0x01, cdbLength: 10 }, // PERSISTENT RESERVE IN(READ RESERVATION)
  { opcode: 0x5e, serviceAction: 0x02, cdbLength: 10 }, // PERSISTENT RESERVE IN(REPORT CAPABILITIES)
  { opcode: 0x5e, serviceAction: 0x03, cdbLength: 10 }, // PERSISTENT RESERVE IN(READ FULL STATUS)
  { opcode: 0x5f, serviceAction: 0x00, cdbLength: 10 }, // PERSISTENT RESERVE OUT(REGISTER)
  { opcode: 0x5f, serviceAction: 0x01, cdbLength: 10 }, // PERSISTENT RESERVE OUT(RESERVE)
  { opcode: 0x5f, serviceAction: 0x02, cdbLength: 10 }, // PERSISTENT RESERVE OUT(RELEASE)
  { opcode: 0x5f, serviceAction: 0x03, cdbLength: 10 }, // PERSISTENT RESERVE OUT(CLEAR)
  { opcode: 0x5f, serviceAction: 0x04, cdbLength: 10 }, // PERSISTENT RESERVE OUT(PREEMPT)
  { opcode: 0x5f, serviceAction: 0x05, cdbLength: 10 }, // PERSISTENT RESERVE OUT(PREEMPT AND ABORT)
  { opcode: 0x5f, serviceAction: 0x06, cdbLength: 10 }, // PERSISTENT RESERVE OUT(REGISTER AND IGNORE EXISTING KEY)
  { opcode: 0x5f, serviceAction: 0x07, cdbLength: 10 }, // PERSISTENT RESERVE OUT(REGISTER AND MOVE)
  { opcode: 0x83, serviceAction: 0x00, cdbLength: 16 }, // EXTENDED COPY(LID1)
  { opcode: 0x84, serviceAction: 0x00, cdbLength: 16 }, // RECEIVE COPY RESULTS: COPY STATUS
  { opcode: 0x84, serviceAction: 0x03, cdbLength: 16 }, // RECEIVE COPY RESULTS: OPERATING PARAMETERS
  { opcode: 0x84, serviceAction: 0x04, cdbLength: 16 }, // RECEIVE COPY RESULTS: FAILED SEGMENT DETAILS
  { opcode: 0x88, serviceAction: undefined, cdbLength: 16 }, // READ(16)
  { opcode: 0x89, serviceAction: undefined, cdbLength: 16 }, // COMPARE AND WRITE
  { opcode: 0x8a, serviceAction: undefined, cdbLength: 16 }, // WRITE(16)
  { opcode: 0x8b, serviceAction: undefined, cdbLength: 16 }, // ORWRITE(16)
  { opcode: 0x8e, serviceAction: undefined, cdbLength: 16 }, // WRITE AND VERIFY(16)
  { opcode: 0x8f, serviceAction: undefined, cdbLength: 16 }, // VERIFY(16)
  { opcode: 0x90, serviceAction: undefined, cdbLength: 16 }, // PRE-FETCH(16)
  { opcode: 0x91, serviceAction: undefined, cdbLength: 16 }, // SYNCHRONIZE CACHE(16)
  { opcode: 0x93, serviceAction: undefined, cdbLength: 16 }, // WRITE SAME(16)
  { opcode: 0x9c, serviceAction: undefined, cdbLength: 16 }, // WRITE ATOMIC(16)
  { opcode: 0x9e, serviceAction: 0x10, cdbLength: 16 }, // READ CAPACITY(16)
  { opcode: 0x9e, serviceAction: 0x12, cdbLength: 16 }, // GET LBA STATUS
  { opcode: 0xa0, serviceAction: undefined, cdbLength: 12 }, // REPORT LUNS
  { opcode: 0xa3, serviceAction: 0x0a, cdbLength: 12 }, // REPORT TARGET PORT GROUPS
  { opcode: 0xa3, serviceAction: 0x0c, cdbLength: 12 }, // REPORT SUPPORTED OPERATION CODES
  { opcode: 0xa4, serviceAction: 0x0a, cdbLength: 12 }, // SET TARGET PORT GROUPS
  { opcode: 0xa8, serviceAction: undefined, cdbLength: 12 }, // READ(12)
  { opcode: 0xaa, serviceAction: undefined, cdbLength: 12 }, // WRITE(12)
  { opcode: 0xae, serviceAction: undefined, cdbLength: 12 }, // WRITE AND VERIFY(12)
  { opcode: 0xaf, serviceAction: undefined, cdbLength: 12 }, // VERIFY(12)
  { opcode: 0xb7, serviceAction: undefined, cdbLength: 12 }, // READ DEFECT DATA(12)
];
/** A fully provisioned LUN has no UNMAP, no GET LBA STATUS (LBPME = 0) and no SANITIZE (its erases deallocate). */
const THICK_COMMANDS = THIN_COMMANDS.filter((c) => !(c.opcode === 0x42 || c.opcode === 0x48 || (c.opcode === 0x9e && c.serviceAction === 0x12)));
const SA_OPCODES = new Set([0x48, 0x5e, 0x5f, 0x83, 0x84, 0x9e, 0xa3, 0xa4]);

/** Parses the all-commands parameter data, checking each descriptor's reserved bytes and flags. */
function parseAll(d: Uint8Array, rctd: boolean): Listed[] {
  const each = rctd ? 20 : 8;
  expect(be32(d, 0), 'COMMAND DATA LENGTH').toBe(d.length - 4);
  expect((d.length - 4) % each).toBe(0);
  const out: Listed[] = [];
  for (let at = 4; at < d.length; at += each) {
    const servactv = (d[at + 5]! & 0x01) !== 0;
    expect(d[at + 1], 'reserved').toBe(0);
    expect(d[at + 4], 'reserved').toBe(0);
    expect(d[at + 5]! & 0x02, 'CTDP').toBe(rctd ? 0x02 : 0);
    expect(d[at + 5]! & 0xfc, 'reserved').toBe(0);
    if (!servactv) expect(be16(d, at + 2), 'SERVICE ACTION is zero when SERVACTV = 0').toBe(0);
    if (rctd) {
      expect(be16(d, at + 8), 'timeouts DESCRIPTOR LENGTH').toBe(0x0a);
      expect(d[at + 10], 'reserved').toBe(0);
    }
    out.push({ opcode: d[at]!, serviceAction: servactv ? be16(d, at + 2) : undefined, cdbLength: be16(d, at + 6) });
  }
  return out;
}

async function listAll(lun: Lun, rctd = false): Promise<Listed[]> {
  const r = await exec(lun, rsoc({ rctd }));
  expectGood(r);
  return parseAll(r.data!, rctd);
}

/** A CDB of `length` bytes with `opcode` and, for opcodes with service actions, `serviceAction` in byte 1. */
function probe(opcode: number, serviceAction: number | undefined, length = 16): Uint8Array {
  const c = new Uint8Array(length);
  c[0] = opcode;
  if (serviceAction !== undefined) c[1] = serviceAction;
  return c;
}

/** libiscsi's "not implemented" test (iscsi-support.c status_is_invalid_opcode; docs/decisions/libiscsi.md). */
function notImplemented(r: ScsiResult, opcode: number): boolean {
  const s = decodeSense(r.sense);
  if (r.status !== 2 || s === undefined || s.key !== 0x05) return false;
  if (s.asc === 0x20 && s.ascq === 0) return true;
  if ((opcode === 0x9e || opcode === 0xa3) && (s.asc === 0x24 || s.asc === 0x26) && (s.fieldPointer === undefined || s.fieldPointer.byte === 1)) return true;
  return false;
}

const key = (c: Listed) => `${c.opcode.toString(16)}/${c.serviceAction ?? '-'}`;

describe('REPORT SUPPORTED OPERATION CODES: all commands', () => {
  it.each([
    { kind: 'thin', expected: THIN_COMMANDS },
    { kind: 'thick', expected: THICK_COMMANDS },
  ])('REPORT SUPPORTED OPERATION CODES/all ($kind) lists exactly the implemented commands, by opcode then service action', async ({ kind, expected }) => {
    const { lun } = makeFixture({ thin: kind === 'thin' });
    expect((await listAll(lun)).map(key)).toEqual(expected.map(key));
    expect(await listAll(lun)).toEqual(expected);
  });

  it('REPORT SUPPORTED OPERATION CODES/rctd: every descriptor has CTDP = 1 and a 0Ah-long timeouts descriptor', async () => {
    const { lun } = makeFixture();
    expect(await listAll(lun, true)).toEqual(await listAll(lun, false));
  });

  it.each(['thin', 'thick'])('REPORT SUPPORTED OPERATION CODES/every listed command executes (no 05/20/00, no unsupported service action) on a %s LUN', async (kind) => {
    const { lun } = makeFixture({ thin: kind === 'thin' });
    for (const c of await listAll(lun)) {
      // A fresh LUN per command: some probes (RESERVE) change state.
      const { lun: fresh } = makeFixture({ thin: kind === 'thin' });
      const r = await exec(fresh, probe(c.opcode, c.serviceAction, c.cdbLength));
      expect(notImplemented(r, c.opcode), `${key(c)} answered ${JSON.stringify(decodeSense(r.sense))}`).toBe(false);
      const s = decodeSense(r.sense);
      if (s !== undefined && c.serviceAction !== undefined) expect(s.fieldPointer, `${key(c)} service action rejected`).not.toEqual(cdbField(1, 4));
    }
  });

  it.each(['thin', 'thick'])('REPORT SUPPORTED OPERATION CODES/every unlisted opcode answers INVALID COMMAND OPERATION CODE on a %s LUN (all 256 probed)', async (kind) => {
    const { lun } = makeFixture({ thin: kind === 'thin' });
    const listed = await listAll(lun);
    const opcodes = new Set(listed.map((c) => c.opcode));
    for (let opcode = 0; opcode < 256; opcode++) {
      if (opcodes.has(opcode)) continue;
      const r = await exec(lun, probe(opcode, undefined));
      expectSense(r, Sense.INVALID_COMMAND_OPERATION_CODE);
    }
  });

  it.each(['thin', 'thick'])('REPORT SUPPORTED OPERATION CODES/every unlisted service action of a listed opcode is rejected as not implemented (%s)', async (kind) => {
    const { lun } = makeFixture({ thin: kind === 'thin' });
    const listed = await listAll(lun);
    for (const opcode of SA_OPCODES) {
      const sas = new Set(listed.filter((c) => c.opcode === opcode).map((c) => c.serviceAction));
      if (sas.size === 0) continue; // an opcode none of whose service actions this LUN has is not implemented here
      for (let sa = 0; sa < 32; sa++) {
        if (sas.has(sa)) continue;
        const r = await exec(lun, probe(opcode, sa));
        expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
      }
    }
  });

  it('REPORT SUPPORTED OPERATION CODES/UNMAP on a thick LUN is 05/20/00 and GET LBA STATUS 05/24/00 pointing at byte 1', async () => {
    const { lun } = makeFixture({ thin: false });
    const list = cdb.unmapParameterList([{ lba: 0, blocks: 1 }]);
    expectSense(await exec(lun, cdb.unmap({ parameterListLength: list.length }), list), Sense.INVALID_COMMAND_OPERATION_CODE);
    const r = await exec(lun, cdb.getLbaStatus({ lba: 0, allocationLength: 24 }));
    expectSense(r, { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 4) });
    expect(notImplemented(r, 0x9e)).toBe(true);
  });

  it.each([0, 1, 3, 4, 11, 12, 100])('REPORT SUPPORTED OPERATION CODES/ALLOCATION LENGTH %i truncates; COMMAND DATA LENGTH is not altered', async (n) => {
    const { lun } = makeFixture();
    const full = (await exec(lun, rsoc())).data!;
    const r = await exec(lun, rsoc({ allocationLength: n }));
    expectGood(r);
    expect([...(r.data ?? [])]).toEqual([...full.subarray(0, n)]);
  });

  it.each([4, 5, 6, 7])('REPORT SUPPORTED OPERATION CODES/REPORTING OPTIONS %i (reserved) is INVALID FIELD IN CDB', async (options) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, rsoc({ reportingOptions: options })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2, 2) });
  });
});

describe('REPORT SUPPORTED OPERATION CODES: one command', () => {
  /** Requests the one-command form for `c` with the reporting option that fits it (1 without SA, 2 with). */
  const oneFor = (c: Listed, rctd = false) =>
    rsoc({ reportingOptions: c.serviceAction === undefined ? 1 : 2, opcode: c.opcode, serviceAction: c.serviceAction ?? 0, rctd });

  it.each(THIN_COMMANDS.map((c) => ({ ...c, name: key(c) })))('REPORT SUPPORTED OPERATION CODES/one $name: SUPPORT 011b, CDB SIZE, usage byte 0 = opcode', async (c) => {
    const { lun } = makeFixture();
    for (const options of [c.serviceAction === undefined ? 1 : 2, 3]) {
      const r = await exec(lun, rsoc({ reportingOptions: options, opcode: c.opcode, serviceAction: c.serviceAction ?? 0 }));
      expectGood(r);
      const d = r.data!;
      expect(d[0], 'reserved').toBe(0);
      expect(d[1]! & 0x07, 'SUPPORT').toBe(0x03);
      expect(d[1]! & 0x80, 'CTDP').toBe(0);
      expect(be16(d, 2), 'CDB SIZE').toBe(c.cdbLength);
      expect(d.length).toBe(4 + c.cdbLength);
      expect(d[4], 'CDB USAGE DATA byte 0').toBe(c.opcode);
      if (c.serviceAction !== undefined) expect(d[5]! & 0x1f, 'SERVICE ACTION bits evaluated').toBe(0x1f);
      expect(d[4 + c.cdbLength - 1], 'CONTROL byte').toBe(0x00);
    }
  });

  it.each(THIN_COMMANDS.map((c) => ({ ...c, name: key(c) })))('REPORT SUPPORTED OPERATION CODES/one $name with RCTD: CTDP = 1 and a timeouts descriptor', async (c) => {
    const { lun } = makeFixture();
    const r = await exec(lun, oneFor(c, true));
    expectGood(r);
    const d = r.data!;
    expect(d[1]! & 0x80).toBe(0x80);
    expect(d.length).toBe(4 + c.cdbLength + 12);
    expect(be16(d, 4 + c.cdbLength)).toBe(0x0a);
  });

  it.each([0x9e, 0x84, 0x83, 0xa3])('REPORT SUPPORTED OPERATION CODES/option 1 on opcode %i, which has service actions, is INVALID FIELD IN CDB', async (opcode) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, rsoc({ reportingOptions: 1, opcode })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2, 2) });
  });

  it.each([0x28, 0x89, 0x42, 0x12])('REPORT SUPPORTED OPERATION CODES/option 2 on opcode %i, which has no service actions, is INVALID FIELD IN CDB', async (opcode) => {
    const { lun } = makeFixture();
    expectSense(await exec(lun, rsoc({ reportingOptions: 2, opcode })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(2, 2) });
  });

  it.each([
    { what: 'unimplemented opcode 04h (option 1)', options: 1, opcode: 0x04, sa: 0, thin: true },
    { what: 'unimplemented opcode 1Dh (option 3)', options: 3, opcode: 0x1d, sa: 0, thin: true },
    { what: 'RECEIVE COPY RESULTS SA 01h (option 2)', options: 2, opcode: 0x84, sa: 0x01, thin: true },
    { what: 'SERVICE ACTION IN SA 11h (option 3)', options: 3, opcode: 0x9e, sa: 0x11, thin: true },
    { what: 'UNMAP on a thick LUN (option 1)', options: 1, opcode: 0x42, sa: 0, thin: false },
    { what: 'GET LBA STATUS on a thick LUN (option 2)', options: 2, opcode: 0x9e, sa: 0x12, thin: false },
  ])('REPORT SUPPORTED OPERATION CODES/one $what: SUPPORT 001b, CDB SIZE 0', async ({ options, opcode, sa, thin }) => {
    const { lun } = makeFixture({ thin });
    const r = await exec(lun, rsoc({ reportingOptions: options, opcode, serviceAction: sa }));
    expectGood(r);
    expect(r.data![1]! & 0x07).toBe(0x01);
    expect(be16(r.data!, 2)).toBe(0);
  });

  it('REPORT SUPPORTED OPERATION CODES/one COMPARE AND WRITE: usage byte 1 & 18h is non-zero iff MODE SENSE DPOFUA', async () => {
    const { lun } = makeFixture();
    const p = await readProfile(lun);
    const d = (await exec(lun, rsoc({ reportingOptions: 1, opcode: 0x89 }))).data!;
    expect((d[5]! & 0x18) !== 0).toBe(p.dpofua);
    expect(d[5]! & 0x18).toBe(0x18);
    expect(d[4 + 13], 'NUMBER OF LOGICAL BLOCKS evaluated').toBe(0xff);
  });

  it.each([
    { what: 'UNMAP', opcode: 0x42, anchorBit: 0x01, unmapBit: 0 },
    { what: 'WRITE SAME(10)', opcode: 0x41, anchorBit: 0x10, unmapBit: 0x08 },
    { what: 'WRITE SAME(16)', opcode: 0x93, anchorBit: 0x10, unmapBit: 0x08 },
  ])('REPORT SUPPORTED OPERATION CODES/one $what: usage bits for ANCHOR follow ANC_SUP, UNMAP is reported (docs/decisions/reporting.md)', async ({ opcode, anchorBit, unmapBit }) => {
    const { lun } = makeFixture();
    const p = await readProfile(lun);
    const d = (await exec(lun, rsoc({ reportingOptions: 1, opcode }))).data!;
    if (unmapBit !== 0) expect(d[5]! & unmapBit, 'UNMAP bit evaluated').toBe(unmapBit);
    expect((d[5]! & anchorBit) !== 0, 'ANCHOR usage bit set only when ANC_SUP = 1').toBe(p.ancSup);
  });

  it('REPORT SUPPORTED OPERATION CODES/one WRITE SAME(16): NDOB is evaluated (usage byte 1 bit 0)', async () => {
    const { lun } = makeFixture();
    const d = (await exec(lun, rsoc({ reportingOptions: 1, opcode: 0x93 }))).data!;
    expect(d[5]! & 0x01).toBe(0x01);
  });
});
