/**
 * Persistent reservations in the testing kit (issue 14): the reference model's rules as a grid of
 * exact answers (SPC-4 5.13) and its access table beside SPC-4's, the kit's PR encodings byte for
 * byte, which targets are offered PR (two or more nexuses, REPORT SUPPORTED OPERATION CODES listing
 * 5Eh/5Fh, the TYPEs and PTPL_C of REPORT CAPABILITIES), the array passing `checkTarget` with 2-4
 * nexuses in process and over iSCSI, and broken PR arrays caught with a short counterexample.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageArray, decodeSense, type Lun, type ScsiResult } from '../../src/index.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import { IscsiSession } from '../../src/iscsi/initiator/session.js';
import {
  KIT_OPS,
  PR_TYPES,
  ReferencePr,
  checkTarget,
  defectsFor,
  describeCommand,
  encodeCommand,
  formatReport,
  kitSetup,
  prCommandArbitrary,
  prKey,
  type CheckReport,
  type CommandSpace,
  type KitCommand,
  type PrAnswer,
  type PrOutAction,
  type PrType,
} from '../../src/testing/index.js';

const MiB = 1024 * 1024;
const SEED = 20261126;
const HANDFUL = 6;
const A = prKey(0);
const B = prKey(1);
const C = prKey(2);

const GOOD: PrAnswer = { status: 0x00 };
const CONFLICT: PrAnswer = { status: 0x18 };
const cc = (key: number, asc: number, ascq: number): PrAnswer => ({ status: 0x02, key, asc, ascq });

type Out = readonly [nexus: number, action: PrOutAction, key: bigint, sark: bigint, type?: PrType];

/** Runs `setup` on a fresh model (each must answer GOOD), then `step`. */
function after(setup: readonly Out[], step: Out): { answer: PrAnswer; pr: ReferencePr } {
  const pr = new ReferencePr();
  for (const [n, a, k, s, t] of setup) expect(pr.out(n, a, k, s, t ?? 1), `${a} from ${n}`).toEqual(GOOD);
  const [n, a, k, s, t] = step;
  return { answer: pr.out(n, a, k, s, t ?? 1), pr };
}

const REG_A: Out = [0, 'REGISTER', 0n, A];
const REG_B: Out = [1, 'REGISTER', 0n, B];
const REG_C: Out = [2, 'REGISTER', 0n, C];

describe('the reference model of persistent reservations (SPC-4 5.13)', () => {
  // [what, setup, step, answer, registrations after (nexus:key), reservation after, PRGENERATION after, unit attentions pending [nexus, ascqs]]
  const GRID: ReadonlyArray<[string, readonly Out[], Out, PrAnswer, string, string, number, ReadonlyArray<[number, number[]]>]> = [
    ['REGISTER from an unregistered nexus with RK 0', [], REG_A, GOOD, `0:${A}`, 'none', 1, []],
    ['REGISTER from an unregistered nexus with RK ≠ 0 conflicts (5.13.7)', [], [0, 'REGISTER', A, A], CONFLICT, '', 'none', 0, []],
    ['REGISTER of SARK 0 from an unregistered nexus: GOOD, nothing, no generation', [], [0, 'REGISTER', 0n, 0n], GOOD, '', 'none', 0, []],
    ['REGISTER with the wrong RK from a registered nexus conflicts', [REG_A], [0, 'REGISTER', B, prKey(0, 1)], CONFLICT, `0:${A}`, 'none', 1, []],
    ['REGISTER changes the key, generation + 1', [REG_A], [0, 'REGISTER', A, prKey(0, 1)], GOOD, `0:${prKey(0, 1)}`, 'none', 2, []],
    ['REGISTER AND IGNORE EXISTING KEY with any RK', [REG_A], [0, 'REGISTER AND IGNORE EXISTING KEY', 7n, prKey(0, 1)], GOOD, `0:${prKey(0, 1)}`, 'none', 2, []],
    ['RESERVE needs the registered key', [REG_A], [0, 'RESERVE', B, 0n, 1], CONFLICT, `0:${A}`, 'none', 1, []],
    ['RESERVE: no generation change', [REG_A], [0, 'RESERVE', A, 0n, 3], GOOD, `0:${A}`, '0 type 3', 1, []],
    ['RESERVE again by the holder, same TYPE: GOOD', [REG_A, [0, 'RESERVE', A, 0n, 3]], [0, 'RESERVE', A, 0n, 3], GOOD, `0:${A}`, '0 type 3', 1, []],
    ['RESERVE by the holder with another TYPE conflicts', [REG_A, [0, 'RESERVE', A, 0n, 3]], [0, 'RESERVE', A, 0n, 1], CONFLICT, `0:${A}`, '0 type 3', 1, []],
    ['RESERVE by another registrant conflicts', [REG_A, REG_B, [0, 'RESERVE', A, 0n, 1]], [1, 'RESERVE', B, 0n, 1], CONFLICT, `0:${A} 1:${B}`, '0 type 1', 2, []],
    ['RELEASE of WE: no unit attention', [REG_A, REG_B, [0, 'RESERVE', A, 0n, 1]], [0, 'RELEASE', A, 0n, 1], GOOD, `0:${A} 1:${B}`, 'none', 2, []],
    ['RELEASE of WE_RO: 2A/04 to the other registrants', [REG_A, REG_B, REG_C, [0, 'RESERVE', A, 0n, 5]], [0, 'RELEASE', A, 0n, 5], GOOD, `0:${A} 1:${B} 2:${C}`, 'none', 3, [[1, [4]], [2, [4]]]],
    ['RELEASE with another TYPE: 05/26/04 (LIO: conflict)', [REG_A, [0, 'RESERVE', A, 0n, 1]], [0, 'RELEASE', A, 0n, 3], { status: 'either', answers: [cc(5, 0x26, 4), CONFLICT] }, `0:${A}`, '0 type 1', 1, []],
    ['RELEASE from a registered non-holder: GOOD, nothing', [REG_A, REG_B, [0, 'RESERVE', A, 0n, 1]], [1, 'RELEASE', B, 0n, 1], GOOD, `0:${A} 1:${B}`, '0 type 1', 2, []],
    ['RELEASE from an unregistered nexus conflicts', [REG_A, [0, 'RESERVE', A, 0n, 1]], [1, 'RELEASE', 0n, 0n, 1], CONFLICT, `0:${A}`, '0 type 1', 1, []],
    ['CLEAR: everything goes, 2A/03 to the others, generation + 1', [REG_A, REG_B, [1, 'RESERVE', B, 0n, 3]], [0, 'CLEAR', A, 0n], GOOD, '', 'none', 3, [[1, [3]]]],
    ['PREEMPT of the holder: its registration goes (2A/05), the caller holds the new TYPE', [REG_A, REG_B, [1, 'RESERVE', B, 0n, 1]], [0, 'PREEMPT', A, B, 3], GOOD, `0:${A}`, '0 type 3', 3, [[1, [5]]]],
    ['PREEMPT of the holder keeps the others, 2A/04 to them when the TYPE changes', [REG_A, REG_B, REG_C, [1, 'RESERVE', B, 0n, 5]], [0, 'PREEMPT', A, B, 6], GOOD, `0:${A} 2:${C}`, '0 type 6', 4, [[1, [5]], [2, [4]]]],
    ['PREEMPT of a non-holder: its registration goes, the reservation stays', [REG_A, REG_B, REG_C, [0, 'RESERVE', A, 0n, 1]], [0, 'PREEMPT', A, C, 3], GOOD, `0:${A} 1:${B}`, '0 type 1', 4, [[2, [5]]]],
    ['PREEMPT with no reservation: removes the key', [REG_A, REG_B], [0, 'PREEMPT AND ABORT', A, B, 1], GOOD, `0:${A}`, 'none', 3, [[1, [5]]]],
    ['PREEMPT of a key nobody has conflicts', [REG_A], [0, 'PREEMPT', A, B, 1], CONFLICT, `0:${A}`, 'none', 1, []],
    ['PREEMPT of its own key under WE_AR: GOOD, nothing removed, generation + 1', [REG_A, REG_B, [0, 'RESERVE', A, 0n, 7]], [0, 'PREEMPT', A, A, 1], GOOD, `0:${A} 1:${B}`, '0 type 7', 3, []],
    ['PREEMPT with SARK 0 and no all-registrants reservation: 05/26/00', [REG_A, REG_B], [0, 'PREEMPT', A, 0n, 1], cc(5, 0x26, 0), `0:${A} 1:${B}`, 'none', 2, []],
    ['PREEMPT with SARK 0 under EA_AR: every other registration goes', [REG_A, REG_B, REG_C, [1, 'RESERVE', B, 0n, 8]], [0, 'PREEMPT', A, 0n, 1], GOOD, `0:${A}`, '0 type 1', 4, [[1, [5]], [2, [5]]]],
    ['unregistering the WE_RO holder: 2A/04 to the rest', [REG_A, REG_B, [0, 'RESERVE', A, 0n, 5]], [0, 'REGISTER', A, 0n], GOOD, `1:${B}`, 'none', 3, [[1, [4]]]],
    ['unregistering the WE holder: the reservation ends silently', [REG_A, REG_B, [0, 'RESERVE', A, 0n, 1]], [0, 'REGISTER', A, 0n], GOOD, `1:${B}`, 'none', 3, []],
    ['unregistering one WE_AR registrant: the reservation stays with the others', [REG_A, REG_B, [0, 'RESERVE', A, 0n, 7]], [0, 'REGISTER', A, 0n], GOOD, `1:${B}`, '0 type 7', 3, []],
  ];
  it.each(GRID)('%s', (_, setup, step, answer, regs, res, generation, uas) => {
    const { answer: got, pr } = after(setup, step);
    expect(got).toEqual(answer);
    expect(pr.registrations.map((r) => `${r.nexus}:${r.key}`).join(' ')).toBe(regs);
    expect(pr.reservation === undefined ? 'none' : `${pr.reservation.holder} type ${pr.reservation.type}`).toBe(res);
    expect(pr.generation).toBe(generation);
    expect([...pr.pending].filter(([, s]) => s.size > 0).map(([n, s]) => [n, [...s].sort()]).sort((x, y) => (x[0] as number) - (y[0] as number))).toEqual(uas);
  });

  // SPC-4 5.13.1 table 66 and SBC-4 4.17, read as: [type, who, read conflicts, write conflicts]
  // (who: the holder, a registered non-holder, an unregistered nexus).
  const ACCESS: ReadonlyArray<[PrType, 'holder' | 'registered' | 'unregistered', boolean, boolean]> = [
    [1, 'holder', false, false], [1, 'registered', false, true], [1, 'unregistered', false, true],
    [3, 'holder', false, false], [3, 'registered', true, true], [3, 'unregistered', true, true],
    [5, 'holder', false, false], [5, 'registered', false, false], [5, 'unregistered', false, true],
    [6, 'holder', false, false], [6, 'registered', false, false], [6, 'unregistered', true, true],
    [7, 'holder', false, false], [7, 'registered', false, false], [7, 'unregistered', false, true],
    [8, 'holder', false, false], [8, 'registered', false, false], [8, 'unregistered', true, true],
  ];
  it.each(ACCESS)('TYPE %i, %s nexus: read conflicts %s, write conflicts %s', (type, who, read, write) => {
    const { pr } = after([REG_A, REG_B, [0, 'RESERVE', A, 0n, type]], [0, 'RESERVE', A, 0n, type]);
    const nexus = who === 'holder' ? 0 : who === 'registered' ? 1 : 2;
    expect([pr.conflicts(nexus, 'read'), pr.conflicts(nexus, 'write'), pr.conflicts(nexus, 'allowed')]).toEqual([read, write, false]);
  });

  it('PRGENERATION after a REGISTER of SARK 0 from an unregistered nexus: unchanged (5.13.7) or + 1 (6.13.2), whichever the target reports first, then exact', () => {
    const { pr } = after([REG_A], [1, 'REGISTER', 0n, 0n]);
    expect([pr.generation, pr.unsure, pr.generationText()]).toEqual([1, 1, '1 to 2']);
    expect(pr.clone().observed(3)).toBe(false);
    expect(pr.clone().observed(0)).toBe(false);
    const counted = pr.clone();
    expect([counted.observed(2), counted.generation, counted.unsure]).toEqual([true, 2, 0]);
    expect(counted.observed(1)).toBe(false);
    expect([pr.observed(1), pr.generation, pr.unsure]).toEqual([true, 1, 0]);
    expect(pr.observed(2)).toBe(false);
  });

  it('a unit attention is received once, and only one that is pending', () => {
    const { pr } = after([REG_A, REG_B, REG_C, [0, 'RESERVE', A, 0n, 5]], [0, 'CLEAR', A, 0n]);
    expect(pr.received(1, 0x05)).toBe(false);
    expect(pr.received(1, 0x03)).toBe(true);
    expect(pr.received(1, 0x03)).toBe(false);
    expect(pr.received(0, 0x03)).toBe(false);
  });
});

describe('the kit PR commands as bytes', () => {
  const space: CommandSpace = { blockSize: 512, blockCount: 1024, first: 960 };
  const out = (action: PrOutAction, type: PrType = 1): KitCommand => ({ op: 'PERSISTENT RESERVE OUT', action, key: A, serviceActionKey: B, type });

  it('keys use all 8 bytes and name one nexus each', () => {
    expect(prKey(0).toString(16)).toBe('5641414900000101');
    expect(prKey(1, 1).toString(16)).toBe('5641414900000202');
    expect(new Set([0, 1, 2, 3].flatMap((n) => [prKey(n, 0), prKey(n, 1)])).size).toBe(8);
  });

  it.each([
    ['REGISTER', 0x00, 0x01],
    ['RESERVE', 0x01, 0x03],
    ['RELEASE', 0x02, 0x05],
    ['CLEAR', 0x03, 0x06],
    ['PREEMPT', 0x04, 0x07],
    ['PREEMPT AND ABORT', 0x05, 0x08],
    ['REGISTER AND IGNORE EXISTING KEY', 0x06, 0x01],
  ] as const)('PERSISTENT RESERVE OUT %s: SERVICE ACTION %i, TYPE %i, 24 bytes of keys', (action, sa, type) => {
    const e = encodeCommand(out(action, type), space);
    expect([...e.cdb]).toEqual([0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0]);
    expect([...e.dataOut!]).toEqual([0x56, 0x41, 0x41, 0x49, 0, 0, 1, 1, 0x56, 0x41, 0x41, 0x49, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('the defects: PARAMETER LIST LENGTH 20, TYPE 2h, APTPL = 1', () => {
    const short = encodeCommand(out('REGISTER'), space, undefined, 'pr-parameter-list-length');
    expect([short.cdb[8], short.dataOut!.length]).toEqual([20, 20]);
    expect(encodeCommand(out('RESERVE', 3), space, undefined, 'pr-unknown-type').cdb[2]).toBe(0x02);
    expect(encodeCommand(out('REGISTER'), space, undefined, 'pr-unsupported-aptpl').dataOut![20]).toBe(0x01);
  });

  it('which defects apply: APTPL only to REGISTER where PTPL_C = 0, TYPE only where it is looked at', () => {
    const pr = { outActions: new Set<PrOutAction>(['REGISTER']), inActions: new Set<never>(), types: PR_TYPES, ptplC: false };
    expect(defectsFor(out('REGISTER'), { ...space, pr })).toEqual(['pr-parameter-list-length', 'pr-unsupported-aptpl']);
    expect(defectsFor(out('REGISTER'), { ...space, pr: { ...pr, ptplC: true } })).toEqual(['pr-parameter-list-length']);
    expect(defectsFor(out('PREEMPT'), { ...space, pr })).toEqual(['pr-parameter-list-length', 'pr-unknown-type']);
    expect(defectsFor(out('CLEAR'), { ...space, pr })).toEqual(['pr-parameter-list-length']);
    expect(defectsFor({ op: 'PERSISTENT RESERVE IN', action: 'READ KEYS' }, { ...space, pr })).toEqual([]);
  });

  it.each([
    ['READ KEYS', 0x00],
    ['READ RESERVATION', 0x01],
    ['REPORT CAPABILITIES', 0x02],
    ['READ FULL STATUS', 0x03],
  ] as const)('PERSISTENT RESERVE IN %s: SERVICE ACTION %i, ALLOCATION LENGTH 8192', (action, sa) => {
    expect([...encodeCommand({ op: 'PERSISTENT RESERVE IN', action }, space).cdb]).toEqual([0x5e, sa, 0, 0, 0, 0, 0, 0x20, 0x00, 0]);
  });

  it('describes them as the counterexample shows them', () => {
    expect(describeCommand(out('PREEMPT', 6))).toBe('PERSISTENT RESERVE OUT PREEMPT key 5641414900000101h sa-key 5641414900000201h type EA_RO');
    expect(describeCommand(out('CLEAR'), 'pr-parameter-list-length')).toBe('PERSISTENT RESERVE OUT CLEAR key 5641414900000101h (malformed: pr-parameter-list-length)');
  });

  it('the arbitrary: mostly the nexus own key, every action and TYPE offered, and only those', () => {
    const pr = { outActions: new Set<PrOutAction>(['REGISTER', 'RESERVE', 'PREEMPT']), inActions: new Set(['READ KEYS'] as const), types: [1, 3] as PrType[], ptplC: false };
    const sample = fc.sample(prCommandArbitrary({ ...space, pr }, 1, 3), { numRuns: 2000, seed: SEED });
    const outs = sample.filter((c) => c.op === 'PERSISTENT RESERVE OUT');
    expect(new Set(outs.map((c) => c.action))).toEqual(pr.outActions);
    expect(new Set(outs.map((c) => c.type))).toEqual(new Set([1, 3]));
    expect(new Set(sample.filter((c) => c.op === 'PERSISTENT RESERVE IN').map((c) => c.action))).toEqual(new Set(['READ KEYS']));
    const own = outs.filter((c) => c.action === 'RESERVE' && c.key === prKey(1)).length / outs.filter((c) => c.action === 'RESERVE').length;
    expect(own).toBeGreaterThan(0.5);
    // PREEMPT mostly names another nexus's key; REGISTER never registers another's.
    expect(outs.some((c) => c.action === 'PREEMPT' && (c.serviceActionKey === prKey(0) || c.serviceActionKey === prKey(2)))).toBe(true);
    expect(outs.filter((c) => c.action === 'REGISTER').every((c) => c.serviceActionKey === 0n || c.serviceActionKey === prKey(1) || c.serviceActionKey === prKey(1, 1))).toBe(true);
  });
});

function freshLun(): Lun {
  const array = new StorageArray({ capacityBytes: 256 * MiB, allocationUnitBytes: 4096 });
  return array.createLun({ sizeBytes: 16 * MiB });
}

const PR_OPS = ['PERSISTENT RESERVE IN', 'PERSISTENT RESERVE OUT'];

describe('which targets are offered persistent reservations', () => {
  it('two or more nexuses: PR, every service action and TYPE, APTPL a defect (PTPL_C = 0), and no RESERVE(6)/RELEASE(6)', async () => {
    const setup = await kitSetup(freshLun(), { initiators: ['a', 'b'] });
    expect(setup.capabilities.ops).toEqual(expect.arrayContaining(PR_OPS));
    expect(setup.capabilities.ops).not.toContain('RESERVE(6)');
    expect(setup.space.pr).toEqual({
      outActions: new Set(['REGISTER', 'RESERVE', 'RELEASE', 'CLEAR', 'PREEMPT', 'PREEMPT AND ABORT', 'REGISTER AND IGNORE EXISTING KEY']),
      inActions: new Set(['READ KEYS', 'READ RESERVATION', 'REPORT CAPABILITIES', 'READ FULL STATUS']),
      types: [...PR_TYPES],
      ptplC: false,
    });
  });

  it('one nexus: no PR, RESERVE(6)/RELEASE(6) as before', async () => {
    const setup = await kitSetup(freshLun(), { initiators: ['a'] });
    expect(setup.capabilities.ops).toEqual(expect.arrayContaining(['RESERVE(6)', 'RELEASE(6)']));
    expect(setup.capabilities.ops.filter((op) => PR_OPS.includes(op))).toEqual([]);
    expect(setup.space.pr).toBeUndefined();
  });

  it('ops without PR: the SCSI-2 reservations instead', async () => {
    const ops = KIT_OPS.filter((op) => !PR_OPS.includes(op));
    const setup = await kitSetup(freshLun(), { initiators: ['a', 'b'], ops });
    expect(setup.capabilities.ops).toEqual(expect.arrayContaining(['RESERVE(6)', 'RELEASE(6)']));
    expect(setup.space.pr).toBeUndefined();
  });

  it('a target whose RSOC does not list 5Eh/5Fh: no PR', async () => {
    const lun = freshLun();
    const noPr: ScsiTarget = {
      execute: (c, d, o) => {
        if (c[0] === 0xa3 && c[2] === 0x01 && (c[3] === 0x5e || c[3] === 0x5f)) return { status: 0x00, data: Uint8Array.of(0, 0x01, 0, 0) };
        if (c[0] !== 0xa3) return lun.execute(c, d, o);
        const r = lun.execute(c, d, o) as ScsiResult;
        return r.status !== 0 || r.data === undefined ? r : { ...r, data: withoutOpcodes(r.data, [0x5e, 0x5f]) };
      },
    };
    const setup = await kitSetup(noPr, { initiators: ['a', 'b'] });
    expect(setup.capabilities.ops.filter((op) => PR_OPS.includes(op))).toEqual([]);
    expect(setup.capabilities.ops).toContain('RESERVE(6)');
  });

  it('a target whose REPORT CAPABILITIES has a type mask of WE and EA and PTPL_C = 1: only those TYPEs, no APTPL defect', async () => {
    const lun = freshLun();
    const two: ScsiTarget = {
      execute: (c, d, o) => (c[0] === 0x5e && (c[1]! & 0x1f) === 0x02 ? { status: 0x00, data: Uint8Array.of(0, 8, 0x01, 0x80, 0x0a, 0x00, 0, 0) } : lun.execute(c, d, o)),
    };
    const setup = await kitSetup(two, { initiators: ['a', 'b'] });
    expect(setup.space.pr?.types).toEqual([1, 3]);
    expect(setup.space.pr?.ptplC).toBe(true);
  });
});

/** All-commands RSOC data without the descriptors of `opcodes`. */
function withoutOpcodes(data: Uint8Array, opcodes: readonly number[]): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const kept: number[] = [];
  for (let at = 4; at + 8 <= 4 + view.getUint32(0); ) {
    const size = (data[at + 5]! & 0x02) !== 0 ? 20 : 8;
    if (!opcodes.includes(data[at]!)) kept.push(...data.subarray(at, at + size));
    at += size;
  }
  const out = new Uint8Array(4 + kept.length);
  new DataView(out.buffer).setUint32(0, kept.length);
  out.set(kept, 4);
  return out;
}

/** Counts what came back for PR OUT by service action, and the PR unit attentions, through a target. */
function counting(lun: Lun): { target: ScsiTarget; seen: Map<string, number> } {
  const seen = new Map<string, number>();
  const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
  const target: ScsiTarget = {
    execute: (c, d, o) => {
      const r = lun.execute(c, d, o) as ScsiResult;
      const s = decodeSense(r.sense);
      if (r.status === 0x02 && s?.key === 0x06 && s.asc === 0x2a) count(`2A/0${s.ascq}`);
      else if (c[0] === 0x5f) count(`PR OUT ${c[1]! & 0x1f} ${r.status === 0 ? 'GOOD' : r.status === 0x18 ? 'CONFLICT' : 'CHECK'}`);
      else if (r.status === 0x18) count(c[0] === 0x5e ? 'PR IN CONFLICT' : 'I/O CONFLICT');
      return r;
    },
  };
  return { target, seen };
}

describe('checkTarget with persistent reservations', () => {
  const all = new Map<string, number>();
  afterAll(() => {
    // Over the three: RESERVATIONS RELEASED (2A/04) too, which needs an RO/AR reservation released
    // (or preempted to another TYPE) with a third registrant that then sends a command.
    expect(all.get('2A/04') ?? 0, JSON.stringify([...all])).toBeGreaterThan(0);
  });
  it.each([2, 3, 4])('passes against the array with %i nexuses, every PR outcome reached', async (n) => {
    const { target, seen } = counting(freshLun());
    const initiators = Array.from({ length: n }, (_, i) => `host-${i}`);
    const report = await checkTarget(target, { initiators, numRuns: 150, seed: SEED + n });
    expect(report.passed, formatReport(report)).toBe(true);
    expect(report.capabilities.ops).toEqual(expect.arrayContaining(PR_OPS));
    // RESERVE, PREEMPT and CLEAR succeed; reservation conflicts on I/O; each unit attention delivered.
    for (const what of ['PR OUT 0 GOOD', 'PR OUT 1 GOOD', 'PR OUT 1 CONFLICT', 'PR OUT 2 GOOD', 'PR OUT 3 GOOD', 'PR OUT 4 GOOD', 'PR OUT 5 GOOD', 'PR OUT 6 GOOD', 'I/O CONFLICT', '2A/03', '2A/05']) {
      expect(seen.get(what) ?? 0, `${what}: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    }
    for (const [k, v] of seen) all.set(k, (all.get(k) ?? 0) + v);
  }, 120_000);

  it('leaves no registration or reservation behind', async () => {
    const lun = freshLun();
    await checkTarget(lun, { initiators: ['a', 'b'], numRuns: 20, seed: SEED });
    expect(lun.persistentReservations.registrations).toEqual([]);
    expect(lun.persistentReservations.reservation).toBeUndefined();
  });

  it('passes over iSCSI, two sessions to a vaai-sim server (what `vaai-sim check` does)', async () => {
    const array = new StorageArray({ capacityBytes: 64 * MiB });
    const lun = array.createLun({ sizeBytes: 4 * MiB });
    const name = 'iqn.2026-11.dev.vaai-sim:pr-kit';
    const server = new IscsiServer({ array, targets: [{ name, luns: [lun] }], port: 0 });
    const { port } = await server.listen();
    const sessions: IscsiSession[] = [];
    try {
      for (const i of [1, 2]) sessions.push(await IscsiSession.connect({ host: '127.0.0.1', port, targetName: name, initiatorName: 'iqn.2026-11.dev.vaai-sim:host', isid: Uint8Array.of(0x80, 0, 0, 0, 0, i) }));
      const report = await checkTarget(sessions[0]!.lun(0), { others: [sessions[1]!.lun(0)], numRuns: 40, seed: SEED });
      expect(report.passed, formatReport(report)).toBe(true);
      expect(report.capabilities.ops).toEqual(expect.arrayContaining(PR_OPS));
    } finally {
      for (const s of sessions) await s.close();
      await server.close();
    }
  }, 120_000);
});

const caught: string[] = [];

function expectCaught(name: string, report: CheckReport, failing: RegExp): void {
  expect(report.passed, `${name} was not caught`).toBe(false);
  const steps = report.counterexample!.steps;
  expect(steps.length, formatReport(report)).toBeLessThanOrEqual(HANDFUL);
  expect(steps.at(-1)!.ok).toBe(false);
  expect(steps.at(-1)!.command, formatReport(report)).toMatch(failing);
  caught.push(`${name}: ${steps.length} step(s)\n${formatReport(report).split('\n').filter((l) => !l.startsWith('  commands:')).join('\n')}`);
}

/** `lun` with `patch` applied to its PR state while a PR OUT of one of `actions` runs. */
function duringPrOut(lun: Lun, actions: readonly number[], patch: () => () => void): ScsiTarget {
  return {
    execute: (c, d, o) => {
      if (c[0] !== 0x5f || !actions.includes(c[1]! & 0x1f)) return lun.execute(c, d, o);
      const undo = patch();
      try {
        return lun.execute(c, d, o);
      } finally {
        undo();
      }
    },
  };
}

describe('broken persistent reservations are caught', () => {
  afterAll(() => console.log(`[checkTarget PR broken arrays] ${caught.length} caught\n${caught.join('\n\n')}`));
  const options = { initiators: ['host-a', 'host-b'], numRuns: 300, seed: SEED };

  it('WRITE EXCLUSIVE that lets an unregistered nexus write', async () => {
    const lun = freshLun();
    const pr = lun.persistentReservations;
    const conflicts = pr.conflicts.bind(pr);
    pr.conflicts = (nexus, access) => (pr.reservation?.type === 1 && access === 'write' && pr.registrationOf(nexus) === undefined ? false : conflicts(nexus, access));
    expectCaught('WE lets an unregistered nexus write', await checkTarget(lun, options), /WRITE|COMPARE AND WRITE|UNMAP|EXTENDED COPY|SYNCHRONIZE|race/);
  }, 120_000);

  it('PREEMPT (and PREEMPT AND ABORT) that leaves the preempted key registered', async () => {
    const lun = freshLun();
    const pr = lun.persistentReservations;
    const target = duringPrOut(lun, [0x04, 0x05], () => {
      const remove = pr.remove;
      pr.remove = () => undefined;
      return () => (pr.remove = remove);
    });
    expectCaught('PREEMPT leaves the key registered', await checkTarget(target, options), /PERSISTENT RESERVE|WRITE|READ/);
  }, 120_000);

  it('a PRGENERATION that does not advance on REGISTER', async () => {
    const lun = freshLun();
    const pr = lun.persistentReservations;
    const target = duringPrOut(lun, [0x00, 0x06], () => {
      const generation = pr.generation;
      return () => (pr.generation = generation);
    });
    expectCaught('PRGENERATION stays on REGISTER', await checkTarget(target, options), /PERSISTENT RESERVE IN (READ KEYS|READ RESERVATION|READ FULL STATUS)/);
  }, 120_000);

  it('a target that never reports REGISTRATIONS PREEMPTED (2A/05) to the preempted nexus', async () => {
    const lun = freshLun();
    const silent: ScsiTarget = {
      execute: (c, d, o) => {
        const r = lun.execute(c, d, o) as ScsiResult;
        const s = decodeSense(r.sense);
        return r.status === 0x02 && s?.key === 0x06 && s.asc === 0x2a && s.ascq === 0x05 ? lun.execute(c, d, o) : r;
      },
    };
    expectCaught('no 2A/05', await checkTarget(silent, options), /.*/);
    expect(caught.at(-1)).toContain('06/2A/05');
  }, 120_000);

  it('a RESERVE that ignores the RESERVATION KEY', async () => {
    const lun = freshLun();
    const target: ScsiTarget = {
      execute: (c, d, o) => {
        if (c[0] !== 0x5f || (c[1]! & 0x1f) !== 0x01 || d === undefined || d.length < 8) return lun.execute(c, d, o);
        // Whatever key is sent, the nexus's own key from the array's state is used.
        const own = [...lun.persistentReservations.registrations].find((r) => r.initiator.name === o?.initiator);
        if (own === undefined) return lun.execute(c, d, o);
        const fixed = d.slice();
        new DataView(fixed.buffer).setBigUint64(0, own.key);
        return lun.execute(c, fixed, o);
      },
    };
    expectCaught('RESERVE ignores the key', await checkTarget(target, options), /RESERVE/);
  }, 120_000);

  it('an answer of GOOD to a PERSISTENT RESERVE OUT with a PARAMETER LIST LENGTH of 20 (the short list taken as keys)', async () => {
    const lun = freshLun();
    const lax: ScsiTarget = {
      execute: (c, d, o) => {
        if (c[0] !== 0x5f || d === undefined || d.length !== 20) return lun.execute(c, d, o);
        const full = new Uint8Array(24);
        full.set(d);
        const fixed = c.slice();
        fixed[8] = 24;
        return lun.execute(fixed, full, o);
      },
    };
    expectCaught('PR OUT takes a 20-byte list', await checkTarget(lax, options), /pr-parameter-list-length/);
  }, 120_000);

  it('control: the same seed passes against the intact array', async () => {
    const report = await checkTarget(freshLun(), options);
    expect(report.passed, formatReport(report)).toBe(true);
  }, 120_000);
});
