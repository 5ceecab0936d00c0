/**
 * Persistent reservations, the array side (SPC-4 5.13, 6.13, 6.14; docs/decisions/persistent-reservations.md):
 * what libiscsi's Prin and Prout families do not cover. READ KEYS / READ RESERVATION / REPORT
 * CAPABILITIES / READ FULL STATUS byte for byte and cut at every allocation length, every parameter
 * list and CDB field error, the access table of the six types for every command class (EXTENDED COPY
 * and COMPARE AND WRITE included), RESERVE/RELEASE/CLEAR/PREEMPT/PREEMPT AND ABORT/REGISTER AND MOVE
 * with their generation values and unit attentions to exactly the nexuses SPC-4 names, SPEC_I_PT with
 * iSCSI TransportIDs of both formats, ALL_TG_PT across two target ports, the SCSI-2 interplay, and
 * what resets and I_T nexus loss leave.
 *
 * Expected codes are written out as numbers here, not taken from src.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  cdb,
  decodePrReadFullStatus,
  decodePrReadKeys,
  decodePrReadReservation,
  iscsiInitiatorPort,
  itNexus,
  type ItNexus,
  type Lun,
  type ScsiResult,
  type StorageArray,
  type TargetPort,
} from '../../src/index.js';
import { BLOCK, LUN_BYTES, Sense, Status, be32, cdbField, defaultRanges, expectBytes, expectFailsCleanly, expectGood, expectSense, expectStatusOnly, filled, makeArray, paramField, type SenseCode } from './helpers.js';

/** The persistent reservation conditions, as numbers (SPC-4 annex D). */
const Pr = {
  RESERVATIONS_PREEMPTED: { key: 0x06, asc: 0x2a, ascq: 0x03 },
  RESERVATIONS_RELEASED: { key: 0x06, asc: 0x2a, ascq: 0x04 },
  REGISTRATIONS_PREEMPTED: { key: 0x06, asc: 0x2a, ascq: 0x05 },
  INVALID_RELEASE: { key: 0x05, asc: 0x26, ascq: 0x04 },
  BUS_DEVICE_RESET: { key: 0x06, asc: 0x29, ascq: 0x03 },
} as const satisfies Record<string, SenseCode>;

const TASK_ABORTED = 0x40;

/** Service actions (SPC-4 6.14.2). */
const SA = { REGISTER: 0, RESERVE: 1, RELEASE: 2, CLEAR: 3, PREEMPT: 4, PREEMPT_AND_ABORT: 5, REGISTER_IGNORE: 6, REGISTER_AND_MOVE: 7 } as const;
/** TYPE codes. */
const T = { WE: 1, EA: 3, WERO: 5, EARO: 6, WEAR: 7, EAAR: 8 } as const;

const HOST_A = 'iqn.2024-01.test:host-a';
const HOST_B = 'iqn.2024-01.test:host-b';
const HOST_C = 'iqn.2024-01.test:host-c';

interface Setup {
  readonly array: StorageArray;
  readonly lun: Lun;
  readonly other: Lun;
  readonly p1: TargetPort;
  readonly p2: TargetPort;
  /** host-a ISID 1 through port 1 and port 2, host-b and host-c ISID 1 through port 1. */
  readonly a1: ItNexus;
  readonly a2: ItNexus;
  readonly b1: ItNexus;
  readonly c1: ItNexus;
}

function setup(): Setup {
  const array = makeArray();
  const lun = array.createLun({ sizeBytes: LUN_BYTES, blockSize: BLOCK });
  const other = array.createLun({ sizeBytes: LUN_BYTES, blockSize: BLOCK });
  const p1 = array.defaultTargetPort;
  const p2 = array.addTargetPort({ name: 'iqn.2024-01.test:array,t,0x0002', relativeId: 2 });
  const port = (name: string) => iscsiInitiatorPort(name, '000000000001');
  return { array, lun, other, p1, p2, a1: itNexus(port(HOST_A), p1), a2: itNexus(port(HOST_A), p2), b1: itNexus(port(HOST_B), p1), c1: itNexus(port(HOST_C), p1) };
}

async function run(lun: Lun, nexus: ItNexus, c: Uint8Array, dataOut?: Uint8Array): Promise<ScsiResult> {
  return await lun.execute(c, dataOut, { nexus });
}

interface OutFields {
  readonly key?: bigint;
  readonly sark?: bigint;
  readonly type?: number;
  readonly specIPt?: boolean;
  readonly allTgPt?: boolean;
  readonly aptpl?: boolean;
  readonly transportIds?: readonly Uint8Array[];
}

function outCdb(sa: number, list: Uint8Array, type = 0): Uint8Array {
  return cdb.persistentReserveOut({ serviceAction: sa, type, parameterListLength: list.length });
}

async function prOut(lun: Lun, nexus: ItNexus, sa: number, f: OutFields = {}): Promise<ScsiResult> {
  const list = cdb.prOutParameterList({ key: f.key, serviceActionKey: f.sark, specIPt: f.specIPt, allTgPt: f.allTgPt, aptpl: f.aptpl, transportIds: f.transportIds });
  return await run(lun, nexus, outCdb(sa, list, f.type), list);
}

async function prIn(lun: Lun, nexus: ItNexus, sa: number, allocationLength = 4096): Promise<Uint8Array> {
  const r = await run(lun, nexus, cdb.persistentReserveIn({ serviceAction: sa, allocationLength }));
  expectGood(r);
  return r.data ?? new Uint8Array(0);
}

async function register(lun: Lun, nexus: ItNexus, key: bigint, f: OutFields = {}): Promise<void> {
  expectGood(await prOut(lun, nexus, SA.REGISTER, { sark: key, ...f }));
}

async function keys(lun: Lun, nexus: ItNexus): Promise<{ generation: number; keys: bigint[] }> {
  const d = decodePrReadKeys(await prIn(lun, nexus, 0));
  if (!d.ok) throw new Error(d.message);
  return { generation: d.value.generation, keys: [...d.value.keys] };
}

async function reservation(lun: Lun, nexus: ItNexus): Promise<{ key: bigint; type: number } | undefined> {
  const d = decodePrReadReservation(await prIn(lun, nexus, 1));
  if (!d.ok) throw new Error(d.message);
  return d.value.reservation === undefined ? undefined : { key: d.value.reservation.key, type: d.value.reservation.type };
}

/** host-a through port 1 with key 1, host-b through port 1 with key 2, host-a through port 2 with `a2Key`. */
async function threeRegistrants(s: Setup, a2Key = 3n): Promise<void> {
  await register(s.lun, s.a1, 1n);
  await register(s.lun, s.b1, 2n);
  await register(s.lun, s.a2, a2Key);
}

/** The whole PR state as READ FULL STATUS bytes (a failed command must leave them as they were). */
const fullStatus = (lun: Lun, nexus: ItNexus): Promise<Uint8Array> => prIn(lun, nexus, 3);

/** A command that must fail and leave the medium and the PR state unchanged. */
async function expectPrUnchanged(s: Setup, act: () => Promise<ScsiResult>, expected: SenseCode & { fieldPointer?: ReturnType<typeof cdbField> | null } | 'conflict'): Promise<void> {
  const before = await fullStatus(s.lun, s.c1);
  if (expected === 'conflict') expectStatusOnly(await act(), Status.RESERVATION_CONFLICT);
  else await expectFailsCleanly(s.array, defaultRanges(s.lun), act, expected);
  expectBytes(await fullStatus(s.lun, s.c1), before, 'READ FULL STATUS after the failed command');
}

/** The next command's answer on `nexus`: the unit attention it has pending, or GOOD (TEST UNIT READY). */
async function pendingUa(lun: Lun, nexus: ItNexus): Promise<SenseCode | 'none'> {
  const r = await run(lun, nexus, cdb.testUnitReady());
  if (r.status === Status.GOOD) return 'none';
  expect(r.status).toBe(Status.CHECK_CONDITION);
  const s = r.sense!;
  return { key: s[2]! & 0x0f, asc: s[12]!, ascq: s[13]! };
}

/** Every nexus in `nexuses` has sent a command (so it has state), with no unit attention left pending. */
async function touch(lun: Lun, ...nexuses: ItNexus[]): Promise<void> {
  for (const n of nexuses) while ((await pendingUa(lun, n)) !== 'none');
}

const read10 = () => cdb.read10({ lba: 1, blocks: 1 });
const write10 = () => cdb.write10({ lba: 1, blocks: 1 });

describe('PERSISTENT RESERVE IN', () => {
  it('PERSISTENT RESERVE IN(READ KEYS)/no registrations: PRGENERATION 0, ADDITIONAL LENGTH 0', async () => {
    const s = setup();
    expectBytes(await prIn(s.lun, s.a1, 0), new Uint8Array(8));
  });

  it('PERSISTENT RESERVE IN(READ KEYS)/one key per registered I_T nexus, in registration order; cut at every allocation length with the full ADDITIONAL LENGTH', async () => {
    const s = setup();
    await register(s.lun, s.a1, 0x0102030405060708n);
    await register(s.lun, s.b1, 0xffffffffffffffffn);
    const full = Uint8Array.of(0, 0, 0, 2, 0, 0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    expectBytes(await prIn(s.lun, s.c1, 0), full);
    for (let n = 0; n <= full.length + 2; n++) expectBytes(await prIn(s.lun, s.c1, 0, n), full.subarray(0, Math.min(n, full.length)), `allocation length ${n}`);
  });

  it('PERSISTENT RESERVE IN(READ RESERVATION)/none: 8 bytes; held: the holder key and SCOPE/TYPE in byte 21; all-registrants types report key 0', async () => {
    const s = setup();
    await register(s.lun, s.a1, 0xaan);
    expectBytes(await prIn(s.lun, s.b1, 1), Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0));
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 0xaan, type: T.EARO }));
    const held = new Uint8Array(24);
    held.set([0, 0, 0, 1, 0, 0, 0, 16]);
    held[15] = 0xaa;
    held[21] = 0x06;
    expectBytes(await prIn(s.lun, s.a1, 1), held);
    for (let n = 0; n <= 24; n++) expectBytes(await prIn(s.lun, s.a1, 1, n), held.subarray(0, n), `allocation length ${n}`);
    expectGood(await prOut(s.lun, s.a1, SA.RELEASE, { key: 0xaan, type: T.EARO }));
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 0xaan, type: T.WEAR }));
    held[15] = 0;
    held[21] = 0x07;
    expectBytes(await prIn(s.lun, s.a1, 1), held);
  });

  it('PERSISTENT RESERVE IN(REPORT CAPABILITIES)/LENGTH 8, CRH SIP_C ATP_C, PTPL_C 0, TMV, ALLOW COMMANDS 011b, PTPL_A 0, the six types', async () => {
    const s = setup();
    expectBytes(await prIn(s.lun, s.a1, 2), Uint8Array.of(0x00, 0x08, 0x1c, 0xb0, 0xea, 0x01, 0x00, 0x00));
    expectBytes(await prIn(s.lun, s.a1, 2, 3), Uint8Array.of(0x00, 0x08, 0x1c));
  });

  it('PERSISTENT RESERVE IN(READ FULL STATUS)/one descriptor per registered I_T nexus: key, ALL_TG_PT, R_HOLDER, SCOPE/TYPE, RELATIVE TARGET PORT IDENTIFIER, the iSCSI TransportID', async () => {
    const s = setup();
    await register(s.lun, s.a1, 0x11n);
    await register(s.lun, s.b1, 0x22n, { allTgPt: true });
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 0x11n, type: T.WERO }));
    // host-a through port 1 (holder), then host-b through ports 1 and 2 (ALL_TG_PT).
    const name = (host: string) => new TextEncoder().encode(`${host},i,0x000000000001`);
    const descriptor = (key: number, flags: number, scopeType: number, port: number, host: string): Uint8Array => {
      const d = new Uint8Array(24 + 48);
      d[7] = key;
      d[12] = flags;
      d[13] = scopeType;
      d[19] = port;
      d[23] = 48; // ADDITIONAL DESCRIPTOR LENGTH: the TransportID
      d[24] = 0x45; // FORMAT CODE 01b, PROTOCOL IDENTIFIER 5h
      d[27] = 44; // ADDITIONAL LENGTH: 42 bytes of name, the null, one pad byte
      d.set(name(host), 28);
      return d;
    };
    const parts = [descriptor(0x11, 0x01, 0x05, 1, HOST_A), descriptor(0x22, 0x02, 0, 1, HOST_B), descriptor(0x22, 0x02, 0, 2, HOST_B)];
    const full = new Uint8Array(8 + 3 * 72);
    full.set([0, 0, 0, 2, 0, 0, 0, 216]);
    parts.forEach((p, i) => full.set(p, 8 + 72 * i));
    expectBytes(await prIn(s.lun, s.c1, 3), full);
    for (const n of [0, 7, 8, 9, 31, 32, 80, 223]) expectBytes(await prIn(s.lun, s.c1, 3, n), full.subarray(0, n), `allocation length ${n}`);
    const decoded = decodePrReadFullStatus(full);
    expect(decoded.ok && decoded.value.descriptors.map((d) => [d.key, d.reservationHolder, d.relativeTargetPort, 'format' in d.transportId ? d.transportId.name : d.transportId.message])).toEqual([
      [0x11n, true, 1, HOST_A],
      [0x22n, false, 1, HOST_B],
      [0x22n, false, 2, HOST_B],
    ]);
  });

  it('PERSISTENT RESERVE IN(READ FULL STATUS)/an in-process initiator is an iSCSI name alone (format 00b)', async () => {
    const s = setup();
    const n = s.array.nexusOf('host-x');
    await register(s.lun, n, 5n);
    const d = await prIn(s.lun, n, 3);
    expect(be32(d, 4)).toBe(48);
    expect([...d.subarray(32, 36)]).toEqual([0x05, 0, 0, 20]);
    expect(new TextDecoder().decode(d.subarray(36, 42))).toBe('host-x');
    expect([...d.subarray(42, 56)]).toEqual(new Array(14).fill(0));
  });
});

describe('PERSISTENT RESERVE OUT: fields', () => {
  it.each([
    { what: 'PARAMETER LIST LENGTH 0', sa: SA.REGISTER, length: 0, sense: Sense.PARAMETER_LIST_LENGTH_ERROR, pointer: null },
    { what: 'PARAMETER LIST LENGTH 23', sa: SA.REGISTER, length: 23, sense: Sense.PARAMETER_LIST_LENGTH_ERROR, pointer: null },
    { what: 'PARAMETER LIST LENGTH 25 without SPEC_I_PT', sa: SA.REGISTER, length: 25, sense: Sense.PARAMETER_LIST_LENGTH_ERROR, pointer: null },
    { what: 'PARAMETER LIST LENGTH 28 for RESERVE', sa: SA.RESERVE, length: 28, sense: Sense.PARAMETER_LIST_LENGTH_ERROR, pointer: null },
  ])('PERSISTENT RESERVE OUT/$what is PARAMETER LIST LENGTH ERROR and changes nothing', async ({ sa, length, sense, pointer }) => {
    const s = setup();
    await register(s.lun, s.a1, 7n);
    const list = new Uint8Array(length);
    if (length >= 8) list[7] = 7;
    await expectPrUnchanged(s, () => run(s.lun, s.a1, outCdb(sa, list, T.WE), list), { ...sense, fieldPointer: pointer });
  });

  it.each([
    { what: 'APTPL = 1 with REGISTER (PTPL_C = 0)', sa: SA.REGISTER, f: { sark: 9n, aptpl: true }, at: paramField(20, 0) },
    { what: 'APTPL = 1 with REGISTER AND IGNORE EXISTING KEY', sa: SA.REGISTER_IGNORE, f: { sark: 9n, aptpl: true }, at: paramField(20, 0) },
    { what: 'SPEC_I_PT = 1 with RESERVE', sa: SA.RESERVE, f: { key: 7n, type: T.WE, specIPt: true }, at: paramField(20, 3) },
    { what: 'SPEC_I_PT = 1 with REGISTER AND IGNORE EXISTING KEY', sa: SA.REGISTER_IGNORE, f: { sark: 9n, specIPt: true }, at: paramField(20, 3) },
    { what: 'SPEC_I_PT = 1 from a registered I_T nexus', sa: SA.REGISTER, f: { key: 7n, sark: 9n, specIPt: true }, at: paramField(20, 3) },
    { what: 'ALL_TG_PT = 0 to change an ALL_TG_PT registration', sa: SA.REGISTER, f: { key: 8n, sark: 0n }, at: paramField(20, 2), allTgPt: true },
    { what: 'PREEMPT with SERVICE ACTION RESERVATION KEY 0 and no reservation', sa: SA.PREEMPT, f: { key: 7n, sark: 0n, type: T.WE }, at: paramField(8) },
  ])('PERSISTENT RESERVE OUT/$what is INVALID FIELD IN PARAMETER LIST at the field and changes nothing', async ({ sa, f, at, allTgPt }) => {
    const s = setup();
    if (allTgPt === true) await register(s.lun, s.a1, 8n, { allTgPt: true });
    else await register(s.lun, s.a1, 7n);
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, sa, f), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: at });
  });

  it.each([
    ...[0, 2, 4, 9, 15].map((type) => ({ what: `TYPE ${type}`, sa: SA.RESERVE, type, scope: 0, at: cdbField(2, 3) })),
    { what: 'SCOPE 1 with RESERVE', sa: SA.RESERVE, type: T.WE, scope: 1, at: cdbField(2, 7) },
    { what: 'TYPE 0 with RELEASE', sa: SA.RELEASE, type: 0, scope: 0, at: cdbField(2, 3) },
    { what: 'TYPE 2 with PREEMPT', sa: SA.PREEMPT, type: 2, scope: 0, at: cdbField(2, 3) },
    { what: 'SCOPE 2 with PREEMPT AND ABORT', sa: SA.PREEMPT_AND_ABORT, type: T.EA, scope: 2, at: cdbField(2, 7) },
  ])('PERSISTENT RESERVE OUT/$what is INVALID FIELD IN CDB at byte 2 and changes nothing', async ({ sa, type, scope, at }) => {
    const s = setup();
    await register(s.lun, s.a1, 7n);
    const list = cdb.prOutParameterList({ key: 7n, serviceActionKey: 7n });
    const c = cdb.persistentReserveOut({ serviceAction: sa, type, scope, parameterListLength: 24 });
    await expectPrUnchanged(s, () => run(s.lun, s.a1, c, list), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: at });
  });

  it('PERSISTENT RESERVE OUT/TYPE and SCOPE are ignored by REGISTER, CLEAR and REGISTER AND IGNORE EXISTING KEY', async () => {
    const s = setup();
    const list = cdb.prOutParameterList({ serviceActionKey: 3n });
    expectGood(await run(s.lun, s.a1, cdb.persistentReserveOut({ serviceAction: SA.REGISTER, type: 0xf, scope: 0xf, parameterListLength: 24 }), list));
    expectGood(await run(s.lun, s.b1, cdb.persistentReserveOut({ serviceAction: SA.REGISTER_IGNORE, type: 0, scope: 3, parameterListLength: 24 }), list));
    const clear = cdb.prOutParameterList({ key: 3n });
    expectGood(await run(s.lun, s.a1, cdb.persistentReserveOut({ serviceAction: SA.CLEAR, type: 0xe, scope: 1, parameterListLength: 24 }), clear));
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 3, keys: [] });
  });
});

describe('PERSISTENT RESERVE OUT: REGISTER and the generation', () => {
  it('PERSISTENT RESERVE OUT(REGISTER)/unregistered: RK not 0 conflicts; SARK 0 is GOOD and changes nothing; then registers SARK (+1)', async () => {
    const s = setup();
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.REGISTER, { key: 1n, sark: 2n }), 'conflict');
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { sark: 0n }));
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 0, keys: [] });
    await register(s.lun, s.a1, 2n);
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 1, keys: [2n] });
  });

  it('PERSISTENT RESERVE OUT(REGISTER)/registered: a wrong RK conflicts; the right one changes the key (+1), re-registers the same key (+1), SARK 0 unregisters (+1)', async () => {
    const s = setup();
    await register(s.lun, s.a1, 2n);
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.REGISTER, { key: 3n, sark: 4n }), 'conflict');
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { key: 2n, sark: 4n }));
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { key: 4n, sark: 4n }));
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 3, keys: [4n] });
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { key: 4n, sark: 0n }));
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 4, keys: [] });
  });

  it('PERSISTENT RESERVE OUT(REGISTER AND IGNORE EXISTING KEY)/ignores RK, registered or not', async () => {
    const s = setup();
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER_IGNORE, { key: 99n, sark: 5n }));
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER_IGNORE, { key: 98n, sark: 6n }));
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 2, keys: [6n] });
  });

  it('PERSISTENT RESERVE OUT/RESERVE and RELEASE leave PRGENERATION as it was; CLEAR and PREEMPT add one', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    expectGood(await prOut(s.lun, s.a1, SA.RELEASE, { key: 1n, type: T.WE }));
    expect((await keys(s.lun, s.a1)).generation).toBe(2);
    expectGood(await prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 2n, type: T.WE }));
    expect((await keys(s.lun, s.a1)).generation).toBe(3);
    expectGood(await prOut(s.lun, s.a1, SA.CLEAR, { key: 1n }));
    expect((await keys(s.lun, s.a1)).generation).toBe(4);
  });

  it('PERSISTENT RESERVE OUT(REGISTER)/unregistering the holder releases WE and EA silently, RO types with RESERVATIONS RELEASED to the other registrants; AR passes to the rest', async () => {
    for (const [type, ua] of [
      [T.WE, 'none'],
      [T.EARO, Pr.RESERVATIONS_RELEASED],
    ] as const) {
      const s = setup();
      await touch(s.lun, s.c1);
      await register(s.lun, s.a1, 1n);
      await register(s.lun, s.b1, 2n);
      expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type }));
      expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { key: 1n, sark: 0n }));
      expect(await reservation(s.lun, s.c1)).toBeUndefined();
      expect(await pendingUa(s.lun, s.b1), `type ${type}: the other registrant`).toEqual(ua);
      expect(await pendingUa(s.lun, s.a1), `type ${type}: the one unregistered`).toBe('none');
      expect(await pendingUa(s.lun, s.c1), `type ${type}: not registered`).toBe('none');
    }
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WEAR }));
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { key: 1n, sark: 0n }));
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 0n, type: T.WEAR });
    expect(await pendingUa(s.lun, s.b1)).toBe('none');
    expectStatusOnly(await run(s.lun, s.a1, write10(), filled(1, 1)), Status.RESERVATION_CONFLICT);
    expectGood(await prOut(s.lun, s.b1, SA.REGISTER, { key: 2n, sark: 0n }));
    expect(await reservation(s.lun, s.c1)).toBeUndefined();
  });
});

/**
 * The access table (SPC-4 5.13.1 tables, the shared notes B.4): what a nexus that does not hold the
 * reservation may do, registered or not, for each TYPE. `r` READ(10), `w` WRITE(10); true = allowed.
 */
const ACCESS: readonly { type: number; name: string; registered: readonly [boolean, boolean]; unregistered: readonly [boolean, boolean] }[] = [
  { type: T.WE, name: 'Write Exclusive', registered: [true, false], unregistered: [true, false] },
  { type: T.EA, name: 'Exclusive Access', registered: [false, false], unregistered: [false, false] },
  { type: T.WERO, name: 'Write Exclusive - Registrants Only', registered: [true, true], unregistered: [true, false] },
  { type: T.EARO, name: 'Exclusive Access - Registrants Only', registered: [true, true], unregistered: [false, false] },
  { type: T.WEAR, name: 'Write Exclusive - All Registrants', registered: [true, true], unregistered: [true, false] },
  { type: T.EAAR, name: 'Exclusive Access - All Registrants', registered: [true, true], unregistered: [false, false] },
];

describe('PERSISTENT RESERVE OUT: access by type', () => {
  it.each(ACCESS)('RESERVATION CONFLICT/$name: the holder reads and writes; others as the table says, with no sense and nothing written', async ({ type, registered, unregistered }) => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type }));
    expectGood(await run(s.lun, s.a1, read10()));
    expectGood(await run(s.lun, s.a1, write10(), filled(1, 0xa1)));
    for (const [nexus, [r, w]] of [
      [s.b1, registered],
      [s.c1, unregistered],
    ] as const) {
      const read = await run(s.lun, nexus, read10());
      if (r) expectGood(read);
      else expectStatusOnly(read, Status.RESERVATION_CONFLICT);
      const write = await run(s.lun, nexus, write10(), filled(1, 0xb2));
      if (w) expectGood(write);
      else expectStatusOnly(write, Status.RESERVATION_CONFLICT);
    }
    const back = await run(s.lun, s.a1, read10());
    expect(back.data![0]).toBe(registered[1] || unregistered[1] ? 0xb2 : 0xa1);
  });

  it.each([
    { name: 'INQUIRY', c: () => cdb.inquiry(), we: true, ea: true },
    { name: 'TEST UNIT READY', c: () => cdb.testUnitReady(), we: true, ea: true },
    { name: 'REPORT LUNS', c: () => cdb.reportLuns(), we: true, ea: true },
    { name: 'REQUEST SENSE', c: () => cdb.requestSense(), we: true, ea: true },
    { name: 'READ CAPACITY(10)', c: () => cdb.readCapacity10(), we: true, ea: true },
    { name: 'READ CAPACITY(16)', c: () => cdb.readCapacity16(), we: true, ea: true },
    { name: 'PERSISTENT RESERVE IN(READ KEYS)', c: () => cdb.persistentReserveIn({ serviceAction: 0, allocationLength: 64 }), we: true, ea: true },
    { name: 'REPORT TARGET PORT GROUPS', c: () => cdb.reportTargetPortGroups({ allocationLength: 64 }), we: true, ea: true },
    { name: 'MODE SENSE(6)', c: () => cdb.modeSense6(), we: true, ea: false },
    { name: 'MODE SENSE(10)', c: () => cdb.modeSense10(), we: true, ea: false },
    { name: 'REPORT SUPPORTED OPERATION CODES', c: () => cdb.reportSupportedOperationCodes({ allocationLength: 64 }), we: true, ea: false },
    { name: 'READ(16)', c: () => cdb.read16({ lba: 0, blocks: 1 }), we: true, ea: false },
    { name: 'VERIFY(10)', c: () => cdb.verify10({ lba: 0, blocks: 1 }), we: true, ea: false },
    { name: 'PRE-FETCH(10)', c: () => cdb.preFetch10({ lba: 0, blocks: 1 }), we: true, ea: false },
    { name: 'GET LBA STATUS', c: () => cdb.getLbaStatus({ lba: 0, allocationLength: 24 }), we: true, ea: false },
    { name: 'READ DEFECT DATA(10)', c: () => cdb.readDefectData10({ allocationLength: 4 }), we: true, ea: false },
    { name: 'RECEIVE COPY RESULTS(OPERATING PARAMETERS)', c: () => cdb.receiveCopyResults({ serviceAction: 3, allocationLength: 64 }), we: true, ea: false },
    { name: 'SYNCHRONIZE CACHE(10)', c: () => cdb.synchronizeCache10(), we: false, ea: false },
    { name: 'MODE SELECT(6)', c: () => cdb.modeSelect6({ parameterListLength: 0 }), we: false, ea: false },
    { name: 'UNMAP', c: () => cdb.unmap({ parameterListLength: 0 }), we: false, ea: false },
    { name: 'WRITE SAME(16)', c: () => cdb.writeSame16({ lba: 0, blocks: 1, ndob: true }), we: false, ea: false },
    { name: 'SANITIZE BLOCK ERASE', c: () => cdb.sanitize({ serviceAction: 2 }), we: false, ea: false },
  ])('RESERVATION CONFLICT/$name from an unregistered nexus under WE (allowed: $we) and EA (allowed: $ea)', async ({ c, we, ea }) => {
    for (const [type, allowed] of [
      [T.WE, we],
      [T.EA, ea],
    ] as const) {
      const s = setup();
      await register(s.lun, s.a1, 1n);
      expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type }));
      const r = await run(s.lun, s.c1, c());
      if (allowed) expect(r.status, `type ${type}`).not.toBe(Status.RESERVATION_CONFLICT);
      else expectStatusOnly(r, Status.RESERVATION_CONFLICT);
    }
  });

  it('RESERVATION CONFLICT/COMPARE AND WRITE conflicts under Write Exclusive for a non-holder, and compares nothing', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    await expectPrUnchanged(s, () => run(s.lun, s.c1, cdb.compareAndWrite({ lba: 0, blocks: 1 }), new Uint8Array(2 * BLOCK)), 'conflict');
    expectGood(await run(s.lun, s.a1, cdb.compareAndWrite({ lba: 0, blocks: 1 }), new Uint8Array(2 * BLOCK)));
  });

  it('RESERVATION CONFLICT/EXTENDED COPY: a destination under Write Exclusive or a source under Exclusive Access of another nexus conflicts; a source under Write Exclusive is read', async () => {
    const copy = (src: Lun, dst: Lun) =>
      cdb.extendedCopyParameterList({
        cscds: [src, dst].map((l) => ({ designator: l.naaDesignator, blockSize: BLOCK })),
        segments: [{ source: 0, destination: 1, blocks: 1, sourceLba: 0, destinationLba: 0 }],
      });
    for (const [reservedIs, type, ok] of [
      ['destination', T.WE, false],
      ['source', T.EA, false],
      ['source', T.WE, true],
    ] as const) {
      const s = setup();
      const held = reservedIs === 'source' ? s.other : s.lun;
      await register(held, s.a1, 1n);
      expectGood(await prOut(held, s.a1, SA.RESERVE, { key: 1n, type }));
      expectGood(await run(s.other, s.a1, cdb.write10({ lba: 0, blocks: 1 }), filled(1, 0x5c)));
      const list = reservedIs === 'source' ? copy(s.other, s.lun) : copy(s.other, s.lun);
      const r = await run(s.lun, s.c1, cdb.extendedCopy(list.length), list);
      if (ok) expectGood(r);
      else expectStatusOnly(r, Status.RESERVATION_CONFLICT);
      expect((await run(s.lun, s.a1, cdb.read10({ lba: 0, blocks: 1 }))).data![0], `${reservedIs} ${type}`).toBe(ok ? 0x5c : 0);
    }
  });
});

describe('PERSISTENT RESERVE OUT: RESERVE, RELEASE, CLEAR', () => {
  it('PERSISTENT RESERVE OUT(RESERVE)/unregistered or a wrong key conflicts; the holder again with its type is GOOD, with another type conflicts; another registrant conflicts', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    await expectPrUnchanged(s, () => prOut(s.lun, s.c1, SA.RESERVE, { key: 0n, type: T.WE }), 'conflict');
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.RESERVE, { key: 2n, type: T.WE }), 'conflict');
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.EA }), 'conflict');
    await expectPrUnchanged(s, () => prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.WE }), 'conflict');
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 1n, type: T.WE });
  });

  it('PERSISTENT RESERVE OUT(RELEASE)/by the holder with another TYPE is INVALID RELEASE OF PERSISTENT RESERVATION (05/26/04) and keeps it', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.RELEASE, { key: 1n, type: T.EA }), { ...Pr.INVALID_RELEASE, fieldPointer: null });
  });

  it('PERSISTENT RESERVE OUT(RELEASE)/a registered non-holder, or no reservation: GOOD and nothing changes; a wrong key conflicts', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.b1, SA.RELEASE, { key: 2n, type: T.WE }));
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    expectGood(await prOut(s.lun, s.b1, SA.RELEASE, { key: 2n, type: T.WE }));
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 1n, type: T.WE });
    // A non-holder's RELEASE is GOOD whatever its key (SPC-4 5.13.10; LIO checks the key after); the holder's needs its key.
    expectGood(await prOut(s.lun, s.b1, SA.RELEASE, { key: 9n, type: T.WE }));
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.RELEASE, { key: 2n, type: T.WE }), 'conflict');
    await expectPrUnchanged(s, () => prOut(s.lun, s.c1, SA.RELEASE, { key: 0n, type: T.WE }), 'conflict');
  });

  it.each([
    { type: T.WE, ua: false },
    { type: T.EA, ua: false },
    { type: T.WERO, ua: true },
    { type: T.EARO, ua: true },
    { type: T.WEAR, ua: true },
    { type: T.EAAR, ua: true },
  ])('PERSISTENT RESERVE OUT(RELEASE)/type $type: RESERVATIONS RELEASED (06/2A/04) to the other registrants only: $ua', async ({ type, ua }) => {
    const s = setup();
    await touch(s.lun, s.c1);
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type }));
    expectGood(await prOut(s.lun, s.a1, SA.RELEASE, { key: 1n, type }));
    expect(await reservation(s.lun, s.c1)).toBeUndefined();
    expect(await pendingUa(s.lun, s.b1)).toEqual(ua ? Pr.RESERVATIONS_RELEASED : 'none');
    expect(await pendingUa(s.lun, s.a1)).toBe('none');
    expect(await pendingUa(s.lun, s.c1)).toBe('none');
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 2, keys: [1n, 2n] });
  });

  it('PERSISTENT RESERVE OUT(CLEAR)/removes every registration and the reservation; RESERVATIONS PREEMPTED (06/2A/03) to every other registrant, none to the issuer or an unregistered nexus', async () => {
    const s = setup();
    await touch(s.lun, s.c1);
    await threeRegistrants(s);
    expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.EA }));
    await expectPrUnchanged(s, () => prOut(s.lun, s.c1, SA.CLEAR, { key: 0n }), 'conflict');
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.CLEAR, { key: 2n }), 'conflict');
    expectGood(await prOut(s.lun, s.a1, SA.CLEAR, { key: 1n }));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 4, keys: [] });
    expect(await reservation(s.lun, s.c1)).toBeUndefined();
    expect(await pendingUa(s.lun, s.b1)).toEqual(Pr.RESERVATIONS_PREEMPTED);
    expect(await pendingUa(s.lun, s.a2)).toEqual(Pr.RESERVATIONS_PREEMPTED);
    expect(await pendingUa(s.lun, s.a1)).toBe('none');
    expect(await pendingUa(s.lun, s.c1)).toBe('none');
  });
});

describe('PERSISTENT RESERVE OUT: PREEMPT and PREEMPT AND ABORT', () => {
  it('PERSISTENT RESERVE OUT(PREEMPT)/of the holder: its registrations go, the caller holds the new TYPE; REGISTRATIONS PREEMPTED to the removed, RESERVATIONS RELEASED to the registrants kept (type changed)', async () => {
    const s = setup();
    await touch(s.lun, s.c1);
    await threeRegistrants(s);
    expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.WE }));
    expectGood(await prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 2n, type: T.EA }));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 4, keys: [1n, 3n] });
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 1n, type: T.EA });
    expect(await pendingUa(s.lun, s.b1)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
    expect(await pendingUa(s.lun, s.a2)).toEqual(Pr.RESERVATIONS_RELEASED);
    expect(await pendingUa(s.lun, s.a1)).toBe('none');
    expect(await pendingUa(s.lun, s.c1)).toBe('none');
    expectStatusOnly(await run(s.lun, s.b1, write10(), filled(1, 1)), Status.RESERVATION_CONFLICT);
  });

  it('PERSISTENT RESERVE OUT(PREEMPT)/with the same TYPE: no RESERVATIONS RELEASED to the registrants kept', async () => {
    const s = setup();
    await threeRegistrants(s);
    expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.WERO }));
    expectGood(await prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 2n, type: T.WERO }));
    expect(await pendingUa(s.lun, s.a2)).toBe('none');
    expect(await pendingUa(s.lun, s.b1)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
  });

  it('PERSISTENT RESERVE OUT(PREEMPT)/of a non-holder key removes those registrations and leaves the reservation; a key nobody has conflicts', async () => {
    const s = setup();
    await threeRegistrants(s, 2n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WERO }));
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 9n, type: T.WERO }), 'conflict');
    await expectPrUnchanged(s, () => prOut(s.lun, s.c1, SA.PREEMPT, { key: 0n, sark: 2n, type: T.WERO }), 'conflict');
    expectGood(await prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 2n, type: T.EA }));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 4, keys: [1n] });
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 1n, type: T.WERO });
    expect(await pendingUa(s.lun, s.b1)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
    expect(await pendingUa(s.lun, s.a2)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
  });

  it('PERSISTENT RESERVE OUT(PREEMPT)/of a key no holder has removes the caller\'s own registration too when it has that key (no unit attention for it); under an all-registrants type it stays', async () => {
    const s = setup();
    await threeRegistrants(s, 1n);
    expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.WE }));
    expectGood(await prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 1n, type: T.WE }));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 4, keys: [2n] });
    expect(await pendingUa(s.lun, s.a1)).toBe('none');
    expect(await pendingUa(s.lun, s.a2)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
    const t = setup();
    await threeRegistrants(t, 1n);
    expectGood(await prOut(t.lun, t.b1, SA.RESERVE, { key: 2n, type: T.WEAR }));
    expectGood(await prOut(t.lun, t.a1, SA.PREEMPT, { key: 1n, sark: 1n, type: T.WE }));
    expect(await keys(t.lun, t.c1)).toEqual({ generation: 4, keys: [1n, 2n] });
    expect(await reservation(t.lun, t.c1)).toEqual({ key: 0n, type: T.WEAR });
  });

  it('PERSISTENT RESERVE OUT(PREEMPT)/under an all-registrants type, SERVICE ACTION RESERVATION KEY 0 removes every other registration and gives the caller the reservation', async () => {
    const s = setup();
    await threeRegistrants(s);
    expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.EAAR }));
    expectGood(await prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 0n, type: T.WE }));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 4, keys: [1n] });
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 1n, type: T.WE });
    expect(await pendingUa(s.lun, s.b1)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
    expect(await pendingUa(s.lun, s.a2)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
  });

  it('PERSISTENT RESERVE OUT(PREEMPT)/SERVICE ACTION RESERVATION KEY 0 under a type that is not all-registrants is INVALID FIELD IN PARAMETER LIST at byte 8', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.WE }));
    await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 0n, type: T.WE }), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(8) });
  });

  describe('with delayed commands', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('PERSISTENT RESERVE OUT(PREEMPT AND ABORT)/the preempted nexus\'s delayed WRITE is aborted (TASK ABORTED, nothing written); another nexus\'s delayed command runs; PREEMPT does not abort', async () => {
      vi.useFakeTimers();
      const s = setup();
      await threeRegistrants(s);
      expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 2n, type: T.WERO }));
      s.array.faults.add({ opcode: 0x2a, delayMs: 1000 });
      const preempted = s.lun.execute(write10(), filled(1, 0xbb), { nexus: s.b1 });
      const kept = s.lun.execute(write10(), filled(1, 0xcc), { nexus: s.a2 });
      expect(preempted).toBeInstanceOf(Promise);
      expectGood(await prOut(s.lun, s.a1, SA.PREEMPT_AND_ABORT, { key: 1n, sark: 2n, type: T.WERO }));
      expectStatusOnly(await preempted, TASK_ABORTED);
      await vi.advanceTimersByTimeAsync(1000);
      expectGood(await kept);
      s.array.faults.clear();
      expect((await run(s.lun, s.a1, read10())).data![0]).toBe(0xcc);
      expect(await pendingUa(s.lun, s.b1)).toEqual(Pr.REGISTRATIONS_PREEMPTED);
      expect(await pendingUa(s.lun, s.a2)).toBe('none');

      // PREEMPT (without abort) leaves a delayed command to run, against the state at its time.
      await register(s.lun, s.b1, 2n);
      s.array.faults.add({ opcode: 0x28, delayMs: 1000 });
      const read = s.lun.execute(read10(), undefined, { nexus: s.b1 });
      expectGood(await prOut(s.lun, s.a1, SA.PREEMPT, { key: 1n, sark: 2n, type: T.WERO }));
      await vi.advanceTimersByTimeAsync(1000);
      expectSense(await read, { ...Pr.REGISTRATIONS_PREEMPTED, fieldPointer: null });
    });

    it('PERSISTENT RESERVE OUT(PREEMPT AND ABORT)/a command waiting out an active/non-optimized port\'s delay is aborted as well (TASK ABORTED, nothing written)', async () => {
      vi.useFakeTimers();
      const s = setup();
      const p3 = s.array.addTargetPort({ name: 'iqn.2024-01.test:array,t,0x0003', relativeId: 3, groupId: 1 });
      s.array.configureTargetPortGroup(1, { state: 'active/non-optimized', nonOptimizedDelayMs: 1000 });
      const b3 = itNexus(iscsiInitiatorPort(HOST_B, '000000000001'), p3);
      await register(s.lun, s.a1, 1n);
      const registered = register(s.lun, b3, 2n);
      await vi.advanceTimersByTimeAsync(1000);
      await registered;
      expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WERO }));
      const preempted = s.lun.execute(write10(), filled(1, 0xbb), { nexus: b3 });
      expect(preempted).toBeInstanceOf(Promise);
      expectGood(await prOut(s.lun, s.a1, SA.PREEMPT_AND_ABORT, { key: 1n, sark: 2n, type: T.WERO }));
      expectStatusOnly(await preempted, TASK_ABORTED);
      await vi.advanceTimersByTimeAsync(1000);
      expect((await run(s.lun, s.a1, read10())).data![0]).toBe(0);
    });
  });
});

describe('PERSISTENT RESERVE OUT(REGISTER AND MOVE)', () => {
  const moveList = (f: { key: bigint; sark: bigint; port: number; id: Uint8Array; unreg?: boolean; aptpl?: boolean }) =>
    cdb.registerAndMoveParameterList({ key: f.key, serviceActionKey: f.sark, relativeTargetPort: f.port, transportId: f.id, unreg: f.unreg, aptpl: f.aptpl });
  const move = (lun: Lun, nexus: ItNexus, list: Uint8Array) => run(lun, nexus, outCdb(SA.REGISTER_AND_MOVE, list, 0xf), list);
  const idB = () => cdb.iscsiTransportId({ name: HOST_B, isid: '000000000001' });

  it('PERSISTENT RESERVE OUT(REGISTER AND MOVE)/registers the destination I_T nexus with SARK and moves the reservation with its TYPE; UNREG removes the source (+1)', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.EA }));
    expectGood(await move(s.lun, s.a1, moveList({ key: 1n, sark: 0xbn, port: 2, id: idB(), unreg: true })));
    const b2 = itNexus(iscsiInitiatorPort(HOST_B, '000000000001'), s.p2);
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 2, keys: [0xbn] });
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 0xbn, type: T.EA });
    expectGood(await run(s.lun, b2, write10(), filled(1, 7)));
    expectStatusOnly(await run(s.lun, s.b1, write10(), filled(1, 7)), Status.RESERVATION_CONFLICT);
    expectStatusOnly(await run(s.lun, s.a1, read10()), Status.RESERVATION_CONFLICT);
    const d = decodePrReadFullStatus(await fullStatus(s.lun, s.c1));
    expect(d.ok && d.value.descriptors.map((x) => [x.key, x.reservationHolder, x.type, x.relativeTargetPort])).toEqual([[0xbn, true, T.EA, 2]]);
  });

  it('PERSISTENT RESERVE OUT(REGISTER AND MOVE)/without UNREG the source stays registered; an already registered destination takes SARK as its key', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    expectGood(await move(s.lun, s.a1, moveList({ key: 1n, sark: 0xbn, port: 1, id: idB() })));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 3, keys: [1n, 0xbn] });
    expect(await reservation(s.lun, s.c1)).toEqual({ key: 0xbn, type: T.WE });
    expectGood(await run(s.lun, s.b1, write10(), filled(1, 4)));
    expectStatusOnly(await run(s.lun, s.a1, write10(), filled(1, 4)), Status.RESERVATION_CONFLICT);
  });

  it('PERSISTENT RESERVE OUT(REGISTER AND MOVE)/with no persistent reservation: INVALID FIELD IN CDB (no field pointer), nothing registered', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await expectPrUnchanged(s, () => move(s.lun, s.a1, moveList({ key: 1n, sark: 5n, port: 1, id: idB() })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: null });
  });

  it.each([
    { what: 'the destination is the source I_T nexus', f: { sark: 5n, port: 1, id: cdb.iscsiTransportId({ name: HOST_A, isid: '000000000001' }) }, at: paramField(24) },
    { what: 'the destination is the source initiator port through another target port', f: { sark: 5n, port: 2, id: cdb.iscsiTransportId({ name: HOST_A, isid: '000000000001' }) }, at: paramField(24) },
    { what: 'the destination is the source initiator by name (format 00b)', f: { sark: 5n, port: 2, id: cdb.iscsiTransportId({ name: HOST_A }) }, at: paramField(24) },
    { what: 'RELATIVE TARGET PORT IDENTIFIER names no port', f: { sark: 5n, port: 9, id: cdb.iscsiTransportId({ name: HOST_B, isid: '000000000001' }) }, at: paramField(18) },
    { what: 'SERVICE ACTION RESERVATION KEY 0', f: { sark: 0n, port: 1, id: cdb.iscsiTransportId({ name: HOST_B, isid: '000000000001' }) }, at: paramField(8) },
    { what: 'APTPL = 1', f: { sark: 5n, port: 1, id: cdb.iscsiTransportId({ name: HOST_B }), aptpl: true }, at: paramField(17, 0) },
    { what: 'a TransportID of another protocol (FCP 0h)', f: { sark: 5n, port: 1, id: Uint8Array.from({ length: 24 }, (_, i) => (i === 3 ? 20 : 0)) }, at: paramField(24) },
    { what: 'FORMAT CODE 10b', f: { sark: 5n, port: 1, id: cdb.iscsiTransportId({ name: HOST_B }).map((b, i) => (i === 0 ? 0x85 : b)) }, at: paramField(24) },
    { what: 'ADDITIONAL LENGTH not a multiple of 4', f: { sark: 5n, port: 1, id: cdb.iscsiTransportId({ name: HOST_B }).map((b, i) => (i === 3 ? b - 1 : b)) }, at: paramField(26) },
    { what: 'format 01b without ",i,0x"', f: { sark: 5n, port: 1, id: cdb.iscsiTransportId({ name: HOST_B, isid: 'xyz' }) }, at: paramField(28) },
  ])('PERSISTENT RESERVE OUT(REGISTER AND MOVE)/$what is INVALID FIELD IN PARAMETER LIST at the field and moves nothing', async ({ f, at }) => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    await expectPrUnchanged(s, () => move(s.lun, s.a1, moveList({ key: 1n, ...f })), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: at });
  });

  it('PERSISTENT RESERVE OUT(REGISTER AND MOVE)/unregistered, with a wrong key, from a registrant that does not hold the reservation, or under an all-registrants type: RESERVATION CONFLICT', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.c1, 3n);
    await expectPrUnchanged(s, () => move(s.lun, s.b1, moveList({ key: 0n, sark: 5n, port: 1, id: idB() })), 'conflict');
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    await expectPrUnchanged(s, () => move(s.lun, s.c1, moveList({ key: 3n, sark: 5n, port: 1, id: idB() })), 'conflict');
    await expectPrUnchanged(s, () => move(s.lun, s.a1, moveList({ key: 2n, sark: 5n, port: 1, id: idB() })), 'conflict');
    expectGood(await prOut(s.lun, s.a1, SA.RELEASE, { key: 1n, type: T.WE }));
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WEAR }));
    await expectPrUnchanged(s, () => move(s.lun, s.a1, moveList({ key: 1n, sark: 5n, port: 1, id: idB() })), 'conflict');
  });

  it('PERSISTENT RESERVE OUT(REGISTER AND MOVE)/a TransportID length that disagrees with the list is PARAMETER LIST LENGTH ERROR', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WE }));
    const list = moveList({ key: 1n, sark: 5n, port: 1, id: idB() });
    list[23]! += 4;
    await expectPrUnchanged(s, () => move(s.lun, s.a1, list), { ...Sense.PARAMETER_LIST_LENGTH_ERROR, fieldPointer: null });
  });
});

describe('PERSISTENT RESERVE OUT(REGISTER): SPEC_I_PT and ALL_TG_PT', () => {
  it('SPEC_I_PT/registers the issuer and each TransportID through the issuer\'s target port: format 01b one initiator port, format 00b every port of that iSCSI name', async () => {
    const s = setup();
    const ids = [cdb.iscsiTransportId({ name: HOST_B, isid: '000000000001' }), cdb.iscsiTransportId({ name: HOST_C })];
    await register(s.lun, s.a1, 7n, { specIPt: true, transportIds: ids });
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 1, keys: [7n, 7n, 7n] });
    // host-b ISID 1 through port 1 is registered; host-b with another ISID, or through port 2, is not.
    expectGood(await prOut(s.lun, s.b1, SA.RESERVE, { key: 7n, type: T.WERO }));
    expectStatusOnly(await run(s.lun, itNexus(iscsiInitiatorPort(HOST_B, '000000000002'), s.p1), write10(), filled(1, 1)), Status.RESERVATION_CONFLICT);
    expectStatusOnly(await run(s.lun, itNexus(iscsiInitiatorPort(HOST_B, '000000000001'), s.p2), write10(), filled(1, 1)), Status.RESERVATION_CONFLICT);
    // host-c by name: any ISID through port 1.
    expectGood(await run(s.lun, itNexus(iscsiInitiatorPort(HOST_C, '00000000abcd'), s.p1), write10(), filled(1, 2)));
    expectStatusOnly(await run(s.lun, itNexus(iscsiInitiatorPort(HOST_C, '00000000abcd'), s.p2), write10(), filled(1, 2)), Status.RESERVATION_CONFLICT);
    const d = decodePrReadFullStatus(await fullStatus(s.lun, s.a1));
    expect(d.ok && d.value.descriptors.map((x) => ('format' in x.transportId ? [x.transportId.format, x.transportId.name, x.transportId.isid, x.relativeTargetPort] : x.transportId.message))).toEqual([
      [1, HOST_A, '000000000001', 1],
      [1, HOST_B, '000000000001', 1],
      [0, HOST_C, undefined, 1],
    ]);
  });

  it('SPEC_I_PT/a malformed TransportID is INVALID FIELD IN PARAMETER LIST at its field, nothing registered', async () => {
    const s = setup();
    const c = cdb.iscsiTransportId({ name: HOST_C });
    for (const [ids, at] of [
      [[c, c.map((x, i) => (i === 0 ? 0x01 : x))], 28 + c.length],
      [[c.map((x, i) => (i === 0 ? 0xc5 : x))], 28],
      [[c.map((x, i) => (i === 3 ? 18 : x))], 30],
      [[c.map((x, i) => (i >= 4 ? 0x41 : x))], 32],
    ] as const) {
      await expectPrUnchanged(s, () => prOut(s.lun, s.a1, SA.REGISTER, { sark: 7n, specIPt: true, transportIds: ids }), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(at) });
    }
  });

  it('SPEC_I_PT/TransportIDs naming a registered I_T nexus, named twice, or naming the issuer are skipped (LIO); the rest are registered', async () => {
    const s = setup();
    await register(s.lun, s.b1, 2n);
    const b = cdb.iscsiTransportId({ name: HOST_B, isid: '000000000001' });
    const c = cdb.iscsiTransportId({ name: HOST_C });
    const a = cdb.iscsiTransportId({ name: HOST_A, isid: '000000000001' });
    await register(s.lun, s.a1, 7n, { specIPt: true, transportIds: [b, c, c, a] });
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 2, keys: [2n, 7n, 7n] });
    const d = decodePrReadFullStatus(await fullStatus(s.lun, s.a1));
    expect(d.ok && d.value.descriptors.map((x) => ('format' in x.transportId ? `${x.transportId.name}/${x.transportId.format}` : ''))).toEqual([`${HOST_B}/1`, `${HOST_A}/1`, `${HOST_C}/0`]);
  });

  it('SPEC_I_PT/TRANSPORTID PARAMETER DATA LENGTH other than the rest of the list is PARAMETER LIST LENGTH ERROR', async () => {
    const s = setup();
    const list = cdb.prOutParameterList({ serviceActionKey: 7n, specIPt: true, transportIds: [cdb.iscsiTransportId({ name: HOST_C })] });
    list[27]! -= 4;
    await expectPrUnchanged(s, () => run(s.lun, s.a1, outCdb(SA.REGISTER, list), list), { ...Sense.PARAMETER_LIST_LENGTH_ERROR, fieldPointer: null });
  });

  it('ALL_TG_PT/registers the initiator port through every target port; each nexus may act with the key; it changes and goes only with ALL_TG_PT = 1', async () => {
    const s = setup();
    await register(s.lun, s.a1, 4n, { allTgPt: true });
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 1, keys: [4n, 4n] });
    const d = decodePrReadFullStatus(await fullStatus(s.lun, s.c1));
    expect(d.ok && d.value.descriptors.map((x) => [x.allTgPt, x.relativeTargetPort])).toEqual([
      [true, 1],
      [true, 2],
    ]);
    expectGood(await prOut(s.lun, s.a2, SA.RESERVE, { key: 4n, type: T.WE }));
    expectGood(await run(s.lun, s.a2, write10(), filled(1, 3)));
    expectStatusOnly(await run(s.lun, s.a1, write10(), filled(1, 3)), Status.RESERVATION_CONFLICT);
    await expectPrUnchanged(s, () => prOut(s.lun, s.a2, SA.REGISTER, { key: 4n, sark: 0n }), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(20, 2) });
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { key: 4n, sark: 5n, allTgPt: true }));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 2, keys: [5n, 5n] });
    expectGood(await prOut(s.lun, s.a2, SA.REGISTER, { key: 5n, sark: 0n, allTgPt: true }));
    expect(await keys(s.lun, s.c1)).toEqual({ generation: 3, keys: [] });
    expect(await reservation(s.lun, s.c1)).toBeUndefined();
  });
});

describe('SCSI-2 RESERVE/RELEASE beside persistent reservations', () => {
  it('RESERVE(6)/while registrations exist: RESERVATION CONFLICT from an unregistered nexus and a registrant without a reservation; GOOD and no effect from the holder and registrants of an RO/AR type', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    for (const c of [cdb.reserve6(), cdb.release6(), cdb.reserve10(), cdb.release10()]) {
      expectStatusOnly(await run(s.lun, s.c1, c), Status.RESERVATION_CONFLICT);
      expectStatusOnly(await run(s.lun, s.b1, c), Status.RESERVATION_CONFLICT);
    }
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.WERO }));
    for (const c of [cdb.reserve6(), cdb.reserve10(), cdb.release6(), cdb.release10()]) {
      expectGood(await run(s.lun, s.a1, c));
      expectGood(await run(s.lun, s.b1, c));
      expectStatusOnly(await run(s.lun, s.c1, c), Status.RESERVATION_CONFLICT);
    }
    expect(s.lun.reservedBy).toBeUndefined();
    expectGood(await run(s.lun, s.b1, write10(), filled(1, 1)));
  });

  it('RESERVE(6)/with no registrations left, SPC-2 applies again', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.REGISTER, { key: 1n, sark: 0n }));
    expectGood(await run(s.lun, s.c1, cdb.reserve6()));
    expect(s.lun.reservedBy).toBe(s.c1.initiator.name);
  });

  it('PERSISTENT RESERVE IN/OUT while a SCSI-2 reservation is held: RESERVATION CONFLICT for every nexus, its holder included (LIO), nothing registered', async () => {
    const s = setup();
    expectGood(await run(s.lun, s.c1, cdb.reserve6()));
    for (const n of [s.a1, s.c1]) {
      for (const sa of [0, 1, 2, 3]) expectStatusOnly(await run(s.lun, n, cdb.persistentReserveIn({ serviceAction: sa, allocationLength: 64 })), Status.RESERVATION_CONFLICT);
      expectStatusOnly(await prOut(s.lun, n, SA.REGISTER, { sark: 1n }), Status.RESERVATION_CONFLICT);
    }
    expectGood(await run(s.lun, s.c1, cdb.release6()));
    expect(await keys(s.lun, s.a1)).toEqual({ generation: 0, keys: [] });
  });
});

describe('persistent reservations and events', () => {
  it('LOGICAL UNIT RESET: registrations, the reservation and PRGENERATION survive; a SCSI-2 reservation does not', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    await register(s.lun, s.b1, 2n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.EA }));
    const before = await fullStatus(s.lun, s.a1);
    s.lun.reset();
    expect(await pendingUa(s.lun, s.a1)).toEqual(Pr.BUS_DEVICE_RESET);
    expectBytes(await fullStatus(s.lun, s.a1), before);
    const t = setup();
    expectGood(await run(t.lun, t.c1, cdb.reserve6()));
    t.lun.reset();
    expect(t.lun.reservedBy).toBeUndefined();
  });

  it('I_T nexus loss and session reinstatement: the registration and the reservation of the nexus survive, and it acts with its key again', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.EA }));
    const before = await fullStatus(s.lun, s.a1);
    s.array.nexusLost(s.a1);
    expectBytes(await fullStatus(s.lun, s.a1), before);
    expectStatusOnly(await run(s.lun, s.c1, read10()), Status.RESERVATION_CONFLICT);
    s.array.nexusLost(s.a1, { reinstated: true });
    await touch(s.lun, s.a1);
    expectBytes(await fullStatus(s.lun, s.a1), before);
    expectGood(await run(s.lun, s.a1, write10(), filled(1, 9)));
    expectGood(await prOut(s.lun, s.a1, SA.RELEASE, { key: 1n, type: T.EA }));
  });

  it('a persistent reservation covers one LUN only', async () => {
    const s = setup();
    await register(s.lun, s.a1, 1n);
    expectGood(await prOut(s.lun, s.a1, SA.RESERVE, { key: 1n, type: T.EA }));
    expectGood(await run(s.other, s.c1, write10(), filled(1, 1)));
    expect(await keys(s.other, s.c1)).toEqual({ generation: 0, keys: [] });
  });
});
