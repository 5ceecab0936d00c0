/**
 * Asymmetric logical unit access, the array side (SPC-4 5.16, 6.27, 6.31; docs/decisions/alua.md):
 * target port groups and their API, per-state admission through the target port a command came
 * through, REPORT TARGET PORT GROUPS in both formats and cut at every length, SET TARGET PORT GROUPS
 * with its errors and unit attentions, INQUIRY TPGS and the per-port designators of VPD 83h, the
 * non-optimized delay, and the link faults a transport honours. libiscsi has no STPG or state test
 * (the shared notes, A.7), so these are the tests of that behaviour.
 *
 * Expected codes are written out as numbers here, not taken from src.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  InvalidArgumentError,
  cdb,
  decodeReportTargetPortGroups,
  itNexus,
  type AluaState,
  type ItNexus,
  type Lun,
  type ScsiResult,
  type StorageArray,
  type TargetPort,
} from '../../src/index.js';
import { BLOCK, HOST_A, HOST_B, LUN_BYTES, Sense, Status, be16, be32, defaultRanges, readBlocks, expectFailsCleanly, expectGood, expectSense, makeArray, paramField, cdbField, type SenseCode } from './helpers.js';

/** The ALUA conditions, as numbers (SPC-4 annex D). */
const Alua = {
  TRANSITION: { key: 0x02, asc: 0x04, ascq: 0x0a },
  STANDBY: { key: 0x02, asc: 0x04, ascq: 0x0b },
  UNAVAILABLE: { key: 0x02, asc: 0x04, ascq: 0x0c },
  OFFLINE: { key: 0x02, asc: 0x04, ascq: 0x12 },
  STATE_CHANGED: { key: 0x06, asc: 0x2a, ascq: 0x06 },
} as const satisfies Record<string, SenseCode>;

/**
 * An array with one LUN and four target ports: the default port 1 in group 0, port 2 in group 1,
 * ports 3 and 4 in group 2. A second LUN `other` is exposed only through ports 1 and 2.
 */
interface Alua {
  readonly array: StorageArray;
  readonly lun: Lun;
  readonly other: Lun;
  readonly p1: TargetPort;
  readonly p2: TargetPort;
  readonly p3: TargetPort;
  readonly p4: TargetPort;
}

function setup(): Alua {
  const array = makeArray();
  const lun = array.createLun({ sizeBytes: LUN_BYTES, blockSize: BLOCK });
  const other = array.createLun({ sizeBytes: LUN_BYTES, blockSize: BLOCK });
  const p1 = array.defaultTargetPort;
  const p2 = array.addTargetPort({ name: 'iqn.2024-01.test:array,t,0x0002', relativeId: 2, groupId: 1 });
  const p3 = array.addTargetPort({ name: 'iqn.2024-01.test:array,t,0x0003', relativeId: 3, groupId: 2, luns: [lun] });
  const p4 = array.addTargetPort({ name: 'iqn.2024-01.test:array,t,0x0004', relativeId: 4, groupId: 2, luns: [lun] });
  return { array, lun, other, p1, p2, p3, p4 };
}

async function run(lun: Lun, nexus: ItNexus, c: Uint8Array, dataOut?: Uint8Array): Promise<ScsiResult> {
  return await lun.execute(c, dataOut, { nexus });
}

function stpgList(descriptors: ReadonlyArray<{ state: number; id: number }>): Uint8Array {
  return cdb.setTargetPortGroupsParameterList(descriptors.map((d) => ({ state: d.state, groupOrPort: d.id })));
}

async function stpg(lun: Lun, nexus: ItNexus, list: Uint8Array): Promise<ScsiResult> {
  return await run(lun, nexus, cdb.setTargetPortGroups(list.length), list);
}

/** Consumes and returns the pending unit attention of `nexus` on `lun` (TEST UNIT READY), or GOOD. */
async function pendingUa(lun: Lun, nexus: ItNexus): Promise<ScsiResult> {
  return await run(lun, nexus, cdb.testUnitReady());
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ALUA: target port groups (API)', () => {
  it('ALUA/groups: one per group id a port names, ascending, active/optimized, STATUS CODE 00h, the ports of each', () => {
    const { array, p1, p2, p3, p4 } = setup();
    expect(array.targetPortGroups.map((g) => g.id)).toEqual([0, 1, 2]);
    for (const g of array.targetPortGroups) {
      expect(g.state).toBe('active/optimized');
      expect(g.statusCode).toBe(0);
      expect(g.preferred).toBe(false);
      expect(g.implicitTransitionSeconds).toBe(0);
      expect(g.explicitAllowed).toBe(true);
      expect(g.nonOptimizedDelayMs).toBe(0);
      expect(g.supportedStates).toEqual(['active/optimized', 'active/non-optimized', 'standby', 'unavailable', 'offline', 'transitioning']);
    }
    expect(array.targetPortGroup(2)!.ports).toEqual([p3, p4]);
    expect(array.targetPortGroup(0)!.ports).toEqual([p1]);
    expect(p2.group).toBe(array.targetPortGroup(1));
    expect(array.targetPortGroup(7)).toBeUndefined();
  });

  it('ALUA/configureTargetPortGroup makes a group a later port joins, and sets without a unit attention or an event', async () => {
    const { array, lun, p1 } = setup();
    const n = itNexus(HOST_A, p1);
    expectGood(await pendingUa(lun, n));
    const events: unknown[] = [];
    array.on('aluaStateChanged', (e) => events.push(e));
    const g = array.configureTargetPortGroup(9, { state: 'standby', preferred: true, implicitTransitionSeconds: 30, explicitAllowed: false, nonOptimizedDelayMs: 5 });
    expect(array.targetPortGroups.map((x) => x.id)).toEqual([0, 1, 2, 9]);
    const p = array.addTargetPort({ name: 'p9', groupId: 9 });
    expect(p.group).toBe(g);
    expect([g.state, g.preferred, g.implicitTransitionSeconds, g.explicitAllowed, g.nonOptimizedDelayMs, g.statusCode]).toEqual(['standby', true, 30, false, 5, 0]);
    array.configureTargetPortGroup(0, { state: 'unavailable' });
    expect(events).toEqual([]);
    expectSense(await pendingUa(lun, n), Alua.UNAVAILABLE);
  });

  it.each([
    { what: 'an id past 65535', id: 65536, settings: {} },
    { what: 'a negative id', id: -1, settings: {} },
    { what: 'an unknown state', id: 1, settings: { state: 'lba-dependent' } },
    { what: 'an unknown key', id: 1, settings: { colour: 'red' } },
    { what: 'implicitTransitionSeconds 256', id: 1, settings: { implicitTransitionSeconds: 256 } },
    { what: 'nonOptimizedDelayMs 10001', id: 1, settings: { nonOptimizedDelayMs: 10_001 } },
    { what: 'preferred not a boolean', id: 1, settings: { preferred: 1 } },
  ])('ALUA/configureTargetPortGroup refuses $what', ({ id, settings }) => {
    const { array } = setup();
    expect(() => array.configureTargetPortGroup(id, settings as never)).toThrow(InvalidArgumentError);
    expect(array.targetPortGroup(1)!.state).toBe('active/optimized');
  });

  it('ALUA/setTargetPortGroupState: STATUS CODE 02h, 06/2A/06 to every nexus of every LUN the group exposes, aluaStateChanged', async () => {
    const { array, lun, other, p1, p3 } = setup();
    const nexuses = [itNexus(HOST_A, p1), itNexus(HOST_B, p1), itNexus(HOST_A, p3)];
    for (const n of nexuses) expectGood(await pendingUa(lun, n));
    const onOther = itNexus(HOST_A, p1);
    expectGood(await pendingUa(other, onOther));
    const events: unknown[] = [];
    array.on('aluaStateChanged', (e) => events.push(e));
    await array.setTargetPortGroupState(2, 'standby');
    expect(array.targetPortGroup(2)!.state).toBe('standby');
    expect(array.targetPortGroup(2)!.statusCode).toBe(2);
    expect(events).toEqual([{ groupId: 2, from: 'active/optimized', to: 'standby', explicit: false }]);
    for (const n of nexuses) expectSense(await pendingUa(lun, n), Alua.STATE_CHANGED);
    // `other` is not exposed through group 2's ports: its access states did not change.
    expectGood(await pendingUa(other, onOther));
    // Once: the condition is reported and cleared.
    expectGood(await pendingUa(lun, nexuses[0]!));
    expectSense(await pendingUa(lun, nexuses[2]!), Alua.STANDBY);
  });

  it('ALUA/setTargetPortGroupState to the state it is in changes nothing (no unit attention, no event)', async () => {
    const { array, lun, p1 } = setup();
    const n = itNexus(HOST_A, p1);
    expectGood(await pendingUa(lun, n));
    const events: unknown[] = [];
    array.on('aluaStateChanged', (e) => events.push(e));
    await array.setTargetPortGroupState(0, 'active/optimized');
    await array.setTargetPortGroupState(0, 'active/optimized', { transitionMs: 50 });
    expect(events).toEqual([]);
    expect(array.targetPortGroup(0)!.statusCode).toBe(0);
    expectGood(await pendingUa(lun, n));
  });

  it('ALUA/setTargetPortGroupState refuses an unknown group, state or option', async () => {
    const { array } = setup();
    await expect(array.setTargetPortGroupState(5, 'standby')).rejects.toThrow(InvalidArgumentError);
    await expect(array.setTargetPortGroupState(1, 'asleep' as AluaState)).rejects.toThrow(InvalidArgumentError);
    await expect(array.setTargetPortGroupState(1, 'standby', { transitionMs: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(array.setTargetPortGroupState(1, 'standby', { delay: 1 } as never)).rejects.toThrow(InvalidArgumentError);
    expect(array.targetPortGroup(1)!.state).toBe('active/optimized');
  });

  it('ALUA/setTargetPortGroupState with transitionMs: transitioning (02/04/0A) for that long, then the new state, each change told', async () => {
    vi.useFakeTimers();
    const { array, lun, p2 } = setup();
    const n = itNexus(HOST_A, p2);
    expectGood(await pendingUa(lun, n));
    const events: Array<{ from: string; to: string }> = [];
    array.on('aluaStateChanged', (e) => events.push({ from: e.from, to: e.to }));
    let done = false;
    const change = array.setTargetPortGroupState(1, 'active/non-optimized', { transitionMs: 500 }).then(() => (done = true));
    expect(array.targetPortGroup(1)!.state).toBe('transitioning');
    expectSense(await pendingUa(lun, n), Alua.STATE_CHANGED);
    expectSense(await pendingUa(lun, n), Alua.TRANSITION);
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    expect(array.targetPortGroup(1)!.state).toBe('transitioning');
    await vi.advanceTimersByTimeAsync(1);
    await change;
    expect(array.targetPortGroup(1)!.state).toBe('active/non-optimized');
    expect(events).toEqual([
      { from: 'active/optimized', to: 'transitioning' },
      { from: 'transitioning', to: 'active/non-optimized' },
    ]);
    expectSense(await pendingUa(lun, n), Alua.STATE_CHANGED);
    expectGood(await pendingUa(lun, n));
  });

  it('ALUA/a later change overtakes a transition still running: the earlier one does not commit', async () => {
    vi.useFakeTimers();
    const { array } = setup();
    const first = array.setTargetPortGroupState(1, 'standby', { transitionMs: 1000 });
    await array.setTargetPortGroupState(1, 'unavailable');
    await vi.advanceTimersByTimeAsync(1000);
    await first;
    expect(array.targetPortGroup(1)!.state).toBe('unavailable');
  });
});

describe('ALUA: target port link faults (API)', () => {
  it('ALUA/link: up and 0 ms by default; setLink, setLatency and restore emit portLinkChanged only on a change', () => {
    const { array, p2 } = setup();
    const events: unknown[] = [];
    array.on('portLinkChanged', (e) => events.push(e));
    expect([p2.link, p2.latencyMs]).toEqual(['up', 0]);
    p2.setLink('black-hole');
    p2.setLink('black-hole');
    p2.setLatency(25);
    p2.setLink('down');
    p2.restore();
    p2.restore();
    expect([p2.link, p2.latencyMs]).toEqual(['up', 0]);
    expect(events).toEqual([
      { relativeId: 2, link: 'black-hole', latencyMs: 0 },
      { relativeId: 2, link: 'black-hole', latencyMs: 25 },
      { relativeId: 2, link: 'down', latencyMs: 25 },
      { relativeId: 2, link: 'up', latencyMs: 0 },
    ]);
  });

  it.each([
    { what: 'an unknown link', act: (p: TargetPort) => p.setLink('sideways' as never) },
    { what: 'a negative latency', act: (p: TargetPort) => p.setLatency(-1) },
    { what: 'an infinite latency', act: (p: TargetPort) => p.setLatency(Infinity) },
  ])('ALUA/link refuses $what', ({ act }) => {
    const { p2 } = setup();
    expect(() => act(p2)).toThrow(InvalidArgumentError);
    expect([p2.link, p2.latencyMs]).toEqual(['up', 0]);
  });

  it('ALUA/link: the SCSI core does not act on it (a transport does): execute through a down port still answers', async () => {
    const { lun, p2 } = setup();
    p2.setLink('down');
    expectGood(await run(lun, itNexus(HOST_A, p2), cdb.testUnitReady()));
  });
});

// ---- admission -----------------------------------------------------------------------------------

interface Probe {
  readonly name: string;
  readonly cdb: () => Uint8Array;
  readonly dataOut?: () => Uint8Array;
}

/** A representative command set: media access, discovery, mode, capacity, ALUA, reservation, cache. */
const PROBES: readonly Probe[] = [
  { name: 'TEST UNIT READY', cdb: () => cdb.testUnitReady() },
  { name: 'READ(10)', cdb: () => cdb.read10({ lba: 0, blocks: 1 }) },
  { name: 'WRITE(10)', cdb: () => cdb.write10({ lba: 0, blocks: 1 }), dataOut: () => new Uint8Array(BLOCK).fill(0x5a) },
  { name: 'INQUIRY', cdb: () => cdb.inquiry() },
  { name: 'REPORT LUNS', cdb: () => cdb.reportLuns() },
  { name: 'REQUEST SENSE', cdb: () => cdb.requestSense() },
  { name: 'MODE SENSE(6)', cdb: () => cdb.modeSense6({ pageCode: 0x3f, allocationLength: 255 }) },
  { name: 'MODE SENSE(10)', cdb: () => cdb.modeSense10({ pageCode: 0x3f, allocationLength: 1024 }) },
  { name: 'READ CAPACITY(10)', cdb: () => cdb.readCapacity10() },
  { name: 'READ CAPACITY(16)', cdb: () => cdb.readCapacity16() },
  { name: 'REPORT TARGET PORT GROUPS', cdb: () => cdb.reportTargetPortGroups({ allocationLength: 256 }) },
  { name: 'SET TARGET PORT GROUPS', cdb: () => cdb.setTargetPortGroups(0) },
  { name: 'REPORT SUPPORTED OPERATION CODES', cdb: () => cdb.reportSupportedOperationCodes() },
  { name: 'RESERVE(6)', cdb: () => cdb.reserve6() },
  { name: 'SYNCHRONIZE CACHE(10)', cdb: () => cdb.synchronizeCache10() },
];

/** What each state allows of PROBES (SPC-4 5.16.2.4 as LIO lists it; docs/decisions/alua.md), and the sense otherwise. */
const STATES: ReadonlyArray<{ readonly state: AluaState; readonly allowed: readonly string[] | 'all'; readonly refusal?: SenseCode }> = [
  { state: 'active/optimized', allowed: 'all' },
  { state: 'active/non-optimized', allowed: 'all' },
  {
    state: 'standby',
    allowed: ['INQUIRY', 'REPORT LUNS', 'REQUEST SENSE', 'MODE SENSE(6)', 'MODE SENSE(10)', 'READ CAPACITY(10)', 'READ CAPACITY(16)', 'REPORT TARGET PORT GROUPS', 'SET TARGET PORT GROUPS'],
    refusal: Alua.STANDBY,
  },
  { state: 'unavailable', allowed: ['INQUIRY', 'REPORT LUNS', 'REQUEST SENSE', 'REPORT TARGET PORT GROUPS', 'SET TARGET PORT GROUPS'], refusal: Alua.UNAVAILABLE },
  { state: 'transitioning', allowed: ['INQUIRY', 'REPORT LUNS', 'REQUEST SENSE', 'REPORT TARGET PORT GROUPS'], refusal: Alua.TRANSITION },
  { state: 'offline', allowed: [], refusal: Alua.OFFLINE },
];

const GRID = STATES.flatMap((s) => PROBES.map((p) => ({ ...s, probe: p, ok: s.allowed === 'all' || s.allowed.includes(p.name) })));

describe('ALUA: admission by the state of the target port a command came through', () => {
  it.each(GRID)('ALUA/$state: $probe.name (allowed: $ok)', async ({ state, probe, ok, refusal }) => {
    const { array, lun, p1, p2 } = setup();
    array.configureTargetPortGroup(1, { state });
    const through = itNexus(HOST_A, p2);
    const dataOut = probe.dataOut?.();
    if (ok) {
      const r = await run(lun, through, probe.cdb(), dataOut);
      expectGood(r);
    } else {
      await expectFailsCleanly(array, defaultRanges(lun), () => run(lun, through, probe.cdb(), dataOut), { ...refusal!, information: null, fieldPointer: null });
    }
    // The same initiator through an active/optimized port of another group is not affected.
    expectGood(await run(lun, itNexus(HOST_A, p1), cdb.inquiry()));
  });

  it('ALUA/a pending unit attention is reported before the state refuses the command', async () => {
    const { array, lun, p2 } = setup();
    const n = itNexus(HOST_A, p2);
    expectGood(await pendingUa(lun, n));
    await array.setTargetPortGroupState(1, 'standby');
    expectSense(await run(lun, n, cdb.read10({ lba: 0, blocks: 1 })), Alua.STATE_CHANGED);
    expectSense(await run(lun, n, cdb.read10({ lba: 0, blocks: 1 })), Alua.STANDBY);
  });

  it('ALUA/an unknown opcode is INVALID COMMAND OPERATION CODE in every state but offline', async () => {
    for (const { state } of STATES) {
      const { array, lun, p2 } = setup();
      array.configureTargetPortGroup(1, { state });
      expectSense(await run(lun, itNexus(HOST_A, p2), Uint8Array.of(0xff, 0, 0, 0, 0, 0)), Sense.INVALID_COMMAND_OPERATION_CODE);
    }
  });

  it('ALUA/in-process callers ({ initiator }) go through the default port and meet group 0\'s state', async () => {
    const { array, lun } = setup();
    array.configureTargetPortGroup(0, { state: 'standby' });
    expectSense(await lun.execute(cdb.testUnitReady(), undefined, { initiator: HOST_A }), Alua.STANDBY);
  });
});

describe('ALUA: non-optimized delay', () => {
  it('ALUA/active/non-optimized with nonOptimizedDelayMs 100: the command answers 100 ms later, then executes', async () => {
    vi.useFakeTimers();
    const { array, lun, p2 } = setup();
    array.configureTargetPortGroup(1, { state: 'active/non-optimized', nonOptimizedDelayMs: 100 });
    const pending = lun.execute(cdb.write10({ lba: 0, blocks: 1 }), new Uint8Array(BLOCK).fill(7), { nexus: itNexus(HOST_A, p2) });
    expect(pending).toBeInstanceOf(Promise);
    let settled: ScsiResult | undefined;
    void (pending as Promise<ScsiResult>).then((r) => (settled = r));
    await vi.advanceTimersByTimeAsync(99);
    expect(settled).toBeUndefined();
    expect((await readBlocks(lun, 0, 1))[0]).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expectGood(settled!);
    expect((await readBlocks(lun, 0, 1))[0]).toBe(7);
  });

  it('ALUA/the delay applies only while active/non-optimized, and is 0 by default (the answer is synchronous)', () => {
    const { array, lun, p1, p2 } = setup();
    expect(lun.execute(cdb.testUnitReady(), undefined, { nexus: itNexus(HOST_A, p2) })).not.toBeInstanceOf(Promise);
    array.configureTargetPortGroup(1, { state: 'active/optimized', nonOptimizedDelayMs: 100 });
    expect(lun.execute(cdb.testUnitReady(), undefined, { nexus: itNexus(HOST_A, p2) })).not.toBeInstanceOf(Promise);
    array.configureTargetPortGroup(1, { state: 'active/non-optimized' });
    expect(lun.execute(cdb.testUnitReady(), undefined, { nexus: itNexus(HOST_A, p1) })).not.toBeInstanceOf(Promise);
    array.configureTargetPortGroup(1, { state: 'active/non-optimized', nonOptimizedDelayMs: 0 });
    expect(lun.execute(cdb.testUnitReady(), undefined, { nexus: itNexus(HOST_A, p2) })).not.toBeInstanceOf(Promise);
  });
});

// ---- REPORT TARGET PORT GROUPS -------------------------------------------------------------------

/** The parameter data expected of setup()'s `lun`, written out field by field. */
function expectedRtpg(extended: boolean, transitionSeconds: number): number[] {
  const header = extended ? [0, 0, 0, 44, 0x10, transitionSeconds, 0, 0] : [0, 0, 0, 40];
  return [
    ...header,
    // group 0: PREF 1 + standby, all supported but LBD, TPG 0, STATUS CODE 02h, one port (1)
    0x82, 0xcf, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0, 0, 0x00, 0x01,
    // group 1: active/optimized, TPG 1, STATUS CODE 00h, one port (2)
    0x00, 0xcf, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0, 0, 0x00, 0x02,
    // group 2: active/non-optimized (configured), TPG 2, two ports (3, 4)
    0x01, 0xcf, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0, 0, 0x00, 0x03, 0, 0, 0x00, 0x04,
  ];
}

async function rtpgSetup(): Promise<Alua> {
  const a = setup();
  a.array.configureTargetPortGroup(0, { preferred: true, implicitTransitionSeconds: 12 });
  a.array.configureTargetPortGroup(1, { implicitTransitionSeconds: 3 });
  a.array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
  await a.array.setTargetPortGroupState(0, 'standby');
  return a;
}

describe('REPORT TARGET PORT GROUPS', () => {
  it.each([
    { format: 'length only', extended: false },
    { format: 'extended', extended: true },
  ])('REPORT TARGET PORT GROUPS/$format: every group the LUN is reachable through, byte for byte', async ({ extended }) => {
    const { lun, p2 } = await rtpgSetup();
    const r = await run(lun, itNexus(HOST_A, p2), cdb.reportTargetPortGroups({ extended, allocationLength: 4096 }));
    expectGood(r);
    // IMPLICIT TRANSITION TIME is that of the group the command came through (group 1: 3 s).
    expect([...r.data!]).toEqual(expectedRtpg(extended, 3));
  });

  it('REPORT TARGET PORT GROUPS/extended: IMPLICIT TRANSITION TIME of the group of the port the command came through', async () => {
    const { lun, p3 } = await rtpgSetup();
    const through3 = await run(lun, itNexus(HOST_A, p3), cdb.reportTargetPortGroups({ extended: true, allocationLength: 4096 }));
    expect(through3.data![5]).toBe(0);
    // Group 0 is standby: RTPG is allowed there.
    const { lun: l2, p1 } = await rtpgSetup();
    const through1 = await run(l2, itNexus(HOST_A, p1), cdb.reportTargetPortGroups({ extended: true, allocationLength: 4096 }));
    expectGood(through1);
    expect(through1.data![5]).toBe(12);
  });

  it.each([
    { format: 'length only', extended: false },
    { format: 'extended', extended: true },
  ])('REPORT TARGET PORT GROUPS/$format cut at every ALLOCATION LENGTH 0..full+4: a prefix, RETURN DATA LENGTH the full length', async ({ extended }) => {
    const { lun, p2 } = await rtpgSetup();
    const full = expectedRtpg(extended, 3);
    for (let length = 0; length <= full.length + 4; length++) {
      const r = await run(lun, itNexus(HOST_A, p2), cdb.reportTargetPortGroups({ extended, allocationLength: length }));
      expectGood(r);
      expect([...r.data!], `ALLOCATION LENGTH ${length}`).toEqual(full.slice(0, length));
    }
  });

  it.each([2, 3, 4, 5, 6, 7])('REPORT TARGET PORT GROUPS/PARAMETER DATA FORMAT %i (reserved) is INVALID FIELD IN CDB at byte 1 bit 7', async (format) => {
    const { lun, p2 } = setup();
    expectSense(await run(lun, itNexus(HOST_A, p2), cdb.reportTargetPortGroups({ format, allocationLength: 256 })), { ...Sense.INVALID_FIELD_IN_CDB, fieldPointer: cdbField(1, 7) });
  });

  it('REPORT TARGET PORT GROUPS/a LUN lists only the ports that expose it, and groups with none are left out', async () => {
    const { other, p1 } = setup();
    const r = await run(other, itNexus(HOST_A, p1), cdb.reportTargetPortGroups({ allocationLength: 256 }));
    expectGood(r);
    const d = decodeReportTargetPortGroups(r.data!);
    expect(d.ok && d.value.groups.map((g) => [g.targetPortGroup, g.relativeTargetPorts])).toEqual([
      [0, [1]],
      [1, [2]],
    ]);
  });

  it('REPORT TARGET PORT GROUPS/the same answer through every port (one ALUA view), and what the decoder reads of it', async () => {
    const { lun, p1, p2, p3, p4 } = await rtpgSetup();
    const answers: number[][] = [];
    for (const p of [p1, p2, p3, p4]) {
      const n = itNexus(HOST_B, p);
      await pendingUa(lun, n);
      const r = await run(lun, n, cdb.reportTargetPortGroups({ allocationLength: 4096 }));
      expectGood(r);
      answers.push([...r.data!]);
    }
    for (const a of answers) expect(a).toEqual(answers[0]);
    const d = decodeReportTargetPortGroups(Uint8Array.from(expectedRtpg(true, 3)));
    expect(d).toEqual({
      ok: true,
      value: {
        format: 'extended',
        returnDataLength: 44,
        implicitTransitionSeconds: 3,
        groups: [
          expect.objectContaining({ preferred: true, state: 'standby', asymmetricAccessState: 2, targetPortGroup: 0, statusCode: 2, targetPortCount: 1, relativeTargetPorts: [1], supportsLbaDependent: false }),
          expect.objectContaining({ preferred: false, state: 'active/optimized', targetPortGroup: 1, statusCode: 0, relativeTargetPorts: [2] }),
          expect.objectContaining({ state: 'active/non-optimized', targetPortGroup: 2, targetPortCount: 2, relativeTargetPorts: [3, 4], supportedStateBits: 0xcf }),
        ],
      },
    });
    expect(decodeReportTargetPortGroups(Uint8Array.from(expectedRtpg(true, 3)).subarray(0, 20))).toMatchObject({ ok: false, problem: 'truncated', requiredLength: 48 });
  });

  it('REPORT TARGET PORT GROUPS/allowed while another nexus holds a SCSI-2 reservation', async () => {
    const { lun, p1 } = setup();
    expectGood(await run(lun, itNexus(HOST_B, p1), cdb.reserve6()));
    expectGood(await run(lun, itNexus(HOST_A, p1), cdb.reportTargetPortGroups({ allocationLength: 256 })));
  });
});

// ---- SET TARGET PORT GROUPS ----------------------------------------------------------------------

describe('SET TARGET PORT GROUPS', () => {
  it('SET TARGET PORT GROUPS/sets each named group, STATUS CODE 01h; 06/2A/06 to every nexus but the issuer, on every LUN', async () => {
    const { array, lun, other, p1, p2 } = setup();
    const issuer = itNexus(HOST_A, p1);
    const sameInitiatorOtherPort = itNexus(HOST_A, p2);
    const otherInitiatorSamePort = itNexus(HOST_B, p1);
    for (const n of [issuer, sameInitiatorOtherPort, otherInitiatorSamePort]) {
      expectGood(await pendingUa(lun, n));
      expectGood(await pendingUa(other, n));
    }
    const events: unknown[] = [];
    array.on('aluaStateChanged', (e) => events.push(e));
    expectGood(await stpg(lun, issuer, stpgList([{ state: 0x2, id: 1 }, { state: 0x1, id: 0 }])));
    expect(array.targetPortGroups.map((g) => [g.id, g.state, g.statusCode])).toEqual([
      [0, 'active/non-optimized', 1],
      [1, 'standby', 1],
      [2, 'active/optimized', 0],
    ]);
    expect(events).toEqual([
      { groupId: 1, from: 'active/optimized', to: 'standby', explicit: true },
      { groupId: 0, from: 'active/optimized', to: 'active/non-optimized', explicit: true },
    ]);
    expectGood(await pendingUa(lun, issuer));
    expectGood(await pendingUa(other, issuer));
    for (const n of [sameInitiatorOtherPort, otherInitiatorSamePort]) {
      expectSense(await pendingUa(lun, n), Alua.STATE_CHANGED);
      expectSense(await pendingUa(other, n), Alua.STATE_CHANGED);
    }
  });

  it('SET TARGET PORT GROUPS/through a standby port activates its own group (what Linux sends: one descriptor, AO)', async () => {
    const { array, lun, p2 } = setup();
    array.configureTargetPortGroup(1, { state: 'standby' });
    const n = itNexus(HOST_A, p2);
    expectSense(await run(lun, n, cdb.read10({ lba: 0, blocks: 1 })), Alua.STANDBY);
    expectGood(await stpg(lun, n, stpgList([{ state: 0x0, id: 1 }])));
    expectGood(await run(lun, n, cdb.read10({ lba: 0, blocks: 1 })));
  });

  it.each([
    { what: 'PARAMETER LIST LENGTH 0', list: new Uint8Array(0) },
    { what: 'the header alone (4 bytes)', list: new Uint8Array(4) },
    { what: 'the state a group already has', list: stpgList([{ state: 0x0, id: 1 }]) },
  ])('SET TARGET PORT GROUPS/$what: GOOD, nothing changes, nobody is told', async ({ list }) => {
    const { array, lun, p1 } = setup();
    const watcher = itNexus(HOST_B, p1);
    expectGood(await pendingUa(lun, watcher));
    expectGood(await stpg(lun, itNexus(HOST_A, p1), list));
    expect(array.targetPortGroups.map((g) => [g.state, g.statusCode])).toEqual([
      ['active/optimized', 0],
      ['active/optimized', 0],
      ['active/optimized', 0],
    ]);
    expectGood(await pendingUa(lun, watcher));
  });

  it.each([
    { what: 'transitioning (Fh) cannot be requested', list: () => stpgList([{ state: 0xf, id: 1 }]), at: paramField(4, 3) },
    { what: 'logical block dependent (4h) is not supported', list: () => stpgList([{ state: 0x4, id: 1 }]), at: paramField(4, 3) },
    { what: 'a reserved state (5h)', list: () => stpgList([{ state: 0x5, id: 1 }]), at: paramField(4, 3) },
    { what: 'a group that does not exist', list: () => stpgList([{ state: 0x2, id: 7 }]), at: paramField(6) },
    { what: 'the second descriptor, a group named twice', list: () => stpgList([{ state: 0x2, id: 1 }, { state: 0x3, id: 1 }]), at: paramField(10) },
    { what: 'a valid descriptor then an invalid one (nothing of the list is applied)', list: () => stpgList([{ state: 0x2, id: 0 }, { state: 0xf, id: 2 }]), at: paramField(8, 3) },
    { what: 'offline naming a relative target port that does not exist', list: () => stpgList([{ state: 0xe, id: 9 }]), at: paramField(6) },
    { what: 'offline naming a port twice', list: () => stpgList([{ state: 0xe, id: 3 }, { state: 0xe, id: 3 }]), at: paramField(10) },
  ])('SET TARGET PORT GROUPS/$what: INVALID FIELD IN PARAMETER LIST, nothing changes', async ({ list, at }) => {
    const { array, lun, p1 } = setup();
    const watcher = itNexus(HOST_B, p1);
    expectGood(await pendingUa(lun, watcher));
    await expectFailsCleanly(array, defaultRanges(lun), () => stpg(lun, itNexus(HOST_A, p1), list()), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: at });
    expect(array.targetPortGroups.every((g) => g.state === 'active/optimized' && g.statusCode === 0)).toBe(true);
    expect(array.targetPorts.every((p) => !p.offline)).toBe(true);
    expectGood(await pendingUa(lun, watcher));
  });

  it('SET TARGET PORT GROUPS/a group none of whose ports exposes the LUN is INVALID FIELD IN PARAMETER LIST', async () => {
    const { other, p1 } = setup();
    expectSense(await stpg(other, itNexus(HOST_A, p1), stpgList([{ state: 0x2, id: 2 }])), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(6) });
  });

  it.each([5, 6, 7, 9])('SET TARGET PORT GROUPS/PARAMETER LIST LENGTH %i (not 4 + 4n) is PARAMETER LIST LENGTH ERROR', async (length) => {
    const { array, lun, p1 } = setup();
    const list = new Uint8Array(length);
    await expectFailsCleanly(array, defaultRanges(lun), () => stpg(lun, itNexus(HOST_A, p1), list), Sense.PARAMETER_LIST_LENGTH_ERROR);
  });

  it('SET TARGET PORT GROUPS/offline (Eh) names one relative target port: it alone answers 02/04/12 to everything, its group reports its primary state', async () => {
    const { array, lun, p1, p3, p4 } = setup();
    const events: unknown[] = [];
    array.on('aluaStateChanged', (e) => events.push(e));
    expectGood(await stpg(lun, itNexus(HOST_A, p1), stpgList([{ state: 0xe, id: 4 }])));
    expect([p4.offline, p4.aluaState, p3.offline, p3.aluaState]).toEqual([true, 'offline', false, 'active/optimized']);
    expect(events).toEqual([{ groupId: 2, relativeId: 4, from: 'active/optimized', to: 'offline', explicit: true }]);
    const n4 = itNexus(HOST_B, p4);
    for (const c of [cdb.inquiry(), cdb.reportTargetPortGroups({ allocationLength: 256 }), cdb.requestSense(), cdb.testUnitReady()]) {
      expectSense(await run(lun, n4, c), { ...Alua.OFFLINE, information: null, fieldPointer: null });
    }
    expectGood(await run(lun, itNexus(HOST_B, p3), cdb.read10({ lba: 0, blocks: 1 })));
    const r = await run(lun, itNexus(HOST_B, p1), cdb.reportTargetPortGroups({ allocationLength: 256 }));
    const groups = decodeReportTargetPortGroups(r.data!);
    expect(groups.ok && groups.value.groups.map((g) => [g.targetPortGroup, g.state, g.relativeTargetPorts])).toEqual([
      [0, 'active/optimized', [1]],
      [1, 'active/optimized', [2]],
      [2, 'active/optimized', [3, 4]],
    ]);
    // A later change of its group's state brings the port back.
    await array.setTargetPortGroupState(2, 'active/non-optimized');
    expect([p4.offline, p4.aluaState]).toEqual([false, 'active/non-optimized']);
  });

  it('SET TARGET PORT GROUPS/primary states are applied before offline ports, whatever their order in the list', async () => {
    const { lun, p1, p4 } = setup();
    expectGood(await stpg(lun, itNexus(HOST_A, p1), stpgList([{ state: 0xe, id: 4 }, { state: 0x1, id: 2 }])));
    expect([p4.group.state, p4.aluaState]).toEqual(['active/non-optimized', 'offline']);
  });

  it('SET TARGET PORT GROUPS/through a transitioning port is refused 02/04/0A', async () => {
    const { array, lun, p2 } = setup();
    array.configureTargetPortGroup(1, { state: 'transitioning' });
    expectSense(await stpg(lun, itNexus(HOST_A, p2), stpgList([{ state: 0x0, id: 1 }])), Alua.TRANSITION);
    expect(array.targetPortGroup(1)!.state).toBe('transitioning');
  });

  it('SET TARGET PORT GROUPS/overtakes an implicit transition still running', async () => {
    vi.useFakeTimers();
    const { array, lun, p1 } = setup();
    const implicit = array.setTargetPortGroupState(1, 'standby', { transitionMs: 1000 });
    expectGood(await stpg(lun, itNexus(HOST_A, p1), stpgList([{ state: 0x1, id: 1 }])));
    await vi.advanceTimersByTimeAsync(1000);
    await implicit;
    expect([array.targetPortGroup(1)!.state, array.targetPortGroup(1)!.statusCode]).toEqual(['active/non-optimized', 1]);
  });

  it('SET TARGET PORT GROUPS/RESERVATION CONFLICT under another nexus\'s SCSI-2 reservation, nothing changes', async () => {
    const { array, lun, p1 } = setup();
    expectGood(await run(lun, itNexus(HOST_B, p1), cdb.reserve6()));
    await expectFailsCleanly(array, defaultRanges(lun), () => stpg(lun, itNexus(HOST_A, p1), stpgList([{ state: 0x2, id: 1 }])), Status.RESERVATION_CONFLICT);
    expect(array.targetPortGroup(1)!.state).toBe('active/optimized');
  });

  it('SET TARGET PORT GROUPS/a group that does not allow explicit ALUA: naming it is INVALID FIELD IN PARAMETER LIST, sending through it INVALID COMMAND OPERATION CODE', async () => {
    const { array, lun, p1, p2 } = setup();
    array.configureTargetPortGroup(1, { explicitAllowed: false });
    expectSense(await stpg(lun, itNexus(HOST_A, p1), stpgList([{ state: 0x2, id: 1 }])), { ...Sense.INVALID_FIELD_IN_PARAMETER_LIST, fieldPointer: paramField(6) });
    expectSense(await stpg(lun, itNexus(HOST_A, p2), stpgList([{ state: 0x2, id: 0 }])), Sense.INVALID_COMMAND_OPERATION_CODE);
    expect(array.targetPortGroups.map((g) => g.state)).toEqual(['active/optimized', 'active/optimized', 'active/optimized']);
  });
});

// ---- INQUIRY -------------------------------------------------------------------------------------

describe('ALUA: INQUIRY', () => {
  it('INQUIRY/TPGS 11b while a group the LUN is reachable through allows SET TARGET PORT GROUPS; 01b and no STPG otherwise', async () => {
    const { array, lun, p1 } = setup();
    const n = itNexus(HOST_A, p1);
    expect((await run(lun, n, cdb.inquiry())).data![5]! & 0x30).toBe(0x30);
    for (const g of array.targetPortGroups) array.configureTargetPortGroup(g.id, { explicitAllowed: false });
    expect((await run(lun, n, cdb.inquiry())).data![5]! & 0x30).toBe(0x10);
    expectSense(await stpg(lun, n, stpgList([{ state: 0x2, id: 1 }])), Sense.INVALID_COMMAND_OPERATION_CODE);
    const one = await run(lun, n, cdb.reportSupportedOperationCodes({ reportingOptions: 2, opcode: 0xa4, serviceAction: 0x0a }));
    expect(one.data![1]! & 0x07, 'SUPPORT 001b: not supported').toBe(0x01);
  });

  it('INQUIRY/vpd-83 through each port: the same NAA designator, then that port\'s relative target port, group and SCSI name', async () => {
    const { lun, p1, p2, p4 } = setup();
    const naa = [0x01, 0x03, 0x00, lun.naaDesignator.length, ...lun.naaDesignator];
    for (const p of [p1, p2, p4]) {
      const d = (await run(lun, itNexus(HOST_A, p), cdb.inquiry({ page: 0x83, allocationLength: 1024 }))).data!;
      expect([...d.subarray(4, 4 + naa.length)]).toEqual(naa);
      const t10 = 4 + naa.length;
      let at = t10 + 4 + d[t10 + 3]!;
      expect([...d.subarray(at, at + 8)], 'type 4').toEqual([0x01, 0x14, 0x00, 0x04, 0, 0, p.relativeId >> 8, p.relativeId & 0xff]);
      at += 8;
      expect([...d.subarray(at, at + 8)], 'type 5').toEqual([0x01, 0x15, 0x00, 0x04, 0, 0, p.groupId >> 8, p.groupId & 0xff]);
      at += 8;
      const name = [...new TextEncoder().encode(p.name), 0];
      while (name.length % 4 !== 0) name.push(0);
      expect([...d.subarray(at, at + 4 + name.length)], 'type 8').toEqual([0x03, 0x18, 0x00, name.length, ...name]);
      at += 4 + name.length;
      expect(at, 'the page ends there').toBe(d.length);
      expect(be16(d, 2)).toBe(d.length - 4);
    }
  });
});

describe('ALUA: decodeReportTargetPortGroups', () => {
  it.each([
    { what: 'fewer than 4 bytes', data: [0, 0, 0], expected: { ok: false, problem: 'short', requiredLength: 4 } },
    { what: 'RETURN DATA LENGTH past the data', data: [0, 0, 0, 8, 0, 0, 0, 0], expected: { ok: false, problem: 'truncated', requiredLength: 12 } },
    { what: 'a descriptor cut by RETURN DATA LENGTH', data: [0, 0, 0, 4, 0, 0xcf, 0, 1], expected: { ok: false, problem: 'malformed' } },
    { what: 'port descriptors past RETURN DATA LENGTH', data: [0, 0, 0, 8, 0, 0xcf, 0, 1, 0, 0, 0, 2], expected: { ok: false, problem: 'malformed' } },
    { what: 'no groups', data: [0, 0, 0, 0], expected: { ok: true, value: { format: 'length-only', returnDataLength: 0, groups: [] } } },
  ])('decodeReportTargetPortGroups: $what', ({ data, expected }) => {
    expect(decodeReportTargetPortGroups(Uint8Array.from(data))).toMatchObject(expected);
  });

  it('decodeReportTargetPortGroups: the format asked for overrides the guess from byte 4; LBA dependent and reserved codes have no state name', () => {
    // One length-only group whose first byte (PREF, state 4h) has bit 4 clear: guessed length-only either way.
    const lengthOnly = Uint8Array.from([0, 0, 0, 12, 0x84, 0x10, 0, 5, 0, 0, 0, 1, 0, 0, 0, 9]);
    const d = decodeReportTargetPortGroups(lengthOnly, 'length-only');
    expect(d).toMatchObject({ ok: true, value: { format: 'length-only', groups: [{ preferred: true, asymmetricAccessState: 4, state: undefined, supportsLbaDependent: true, supportedStates: [], targetPortGroup: 5, relativeTargetPorts: [9] }] } });
    expect(decodeReportTargetPortGroups(Uint8Array.from([0, 0, 0, 4, 0x10, 7, 0, 0]), 'extended')).toMatchObject({ ok: true, value: { format: 'extended', implicitTransitionSeconds: 7, groups: [] } });
    expect(decodeReportTargetPortGroups(Uint8Array.from([0, 0, 0, 0]), 'extended')).toMatchObject({ ok: false, problem: 'malformed' });
  });
});

describe('ALUA: the CDB builders', () => {
  it('cdb.reportTargetPortGroups / setTargetPortGroups / setTargetPortGroupsParameterList lay out SPC-4 6.27 and 6.31', () => {
    expect([...cdb.reportTargetPortGroups({ extended: true, allocationLength: 0x01020304 })]).toEqual([0xa3, 0x2a, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0]);
    expect([...cdb.reportTargetPortGroups({ allocationLength: 8 })]).toEqual([0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]);
    expect([...cdb.setTargetPortGroups(12)]).toEqual([0xa4, 0x0a, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0]);
    const list = cdb.setTargetPortGroupsParameterList([
      { state: 'standby', groupOrPort: 0x0102 },
      { state: 'offline', groupOrPort: 3 },
    ]);
    expect([...list]).toEqual([0, 0, 0, 0, 0x02, 0, 0x01, 0x02, 0x0e, 0, 0, 3]);
    expect(be32(list, 0)).toBe(0);
  });
});
