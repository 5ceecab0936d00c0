/**
 * The SBC commands of the kit beyond the VAAI set: READ(6)/WRITE(6), VERIFY and WRITE AND VERIFY
 * (10)/(16), ORWRITE(16), PRE-FETCH(10)/(16) and SANITIZE BLOCK ERASE. The reference model's rules
 * as a grid of exact answers; the kit's encodings byte for byte; which targets are offered which
 * command; the array passing `checkTarget` with all of them; and broken arrays caught, each with a
 * shrunk counterexample whose failing step is the broken command.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, encodeFixedSense, type Lun, type ScsiResult } from '../../src/index.js';
import { readU16, readU32, readU64 } from '../../src/codec/bytes.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import { IscsiSession } from '../../src/iscsi/initiator/session.js';
import {
  KIT_OPS,
  ReferenceArray,
  checkTarget,
  commandArbitrary,
  defectsFor,
  encodeCommand,
  formatReport,
  hasRange,
  kitSetup,
  malformedCommandArbitrary,
  poolAccountingExact,
  verifyDataOut,
  type CheckReport,
  type CheckTargetOptions,
  type CommandSpace,
  type Expected,
  type KitCommand,
  type VerifyCommand,
} from '../../src/testing/index.js';

const MiB = 1024 * 1024;
const BS = 512;
const SEED = 20261126;
const HANDFUL = 6;

const GOOD: Expected = { status: 0 };
const cc = (key: number, asc: number, ascq: number, information?: number): Expected => ({ status: 2, sense: information === undefined ? { key, asc, ascq } : { key, asc, ascq, information } });

/** A model of one thin and one thick LUN of 16 blocks, 4 blocks per unit; LBAs 0-7 of the thin LUN hold bytes 1, 2, ... per block. */
function model(): ReferenceArray {
  const m = new ReferenceArray({ blockSize: BS, unitBlocks: 4, capacityUnits: 64, share: false, luns: [{ thin: true, blockCount: 16 }, { thin: false, blockCount: 16 }] });
  const data = new Uint8Array(8 * BS);
  for (let b = 0; b < 8; b++) data.fill(b + 1, b * BS, (b + 1) * BS);
  expect(m.write16(0, 0, data)).toEqual(GOOD);
  return m;
}

const block = (fill: number) => new Uint8Array(BS).fill(fill);

describe('the reference model of the SBC commands', () => {
  // [what, command on a fresh model, expected answer]
  const VERIFY_GRID: ReadonlyArray<[string, (m: ReferenceArray) => Expected, Expected]> = [
    ['BYTCHK 00b in range', (m) => m.verify(0, 0, 16, 0, undefined), GOOD],
    ['BYTCHK 00b ending at the last LBA', (m) => m.verify(0, 15, 1, 0, undefined), GOOD],
    ['BYTCHK 00b one block past the end', (m) => m.verify(0, 15, 2, 0, undefined), cc(0x05, 0x21, 0x00)],
    ['0 blocks at the end (nothing verified)', (m) => m.verify(0, 16, 0, 1, undefined), GOOD],
    ['0 blocks past the end', (m) => m.verify(0, 17, 0, 0, undefined), cc(0x05, 0x21, 0x00)],
    ['BYTCHK 01b matching', (m) => m.verify(0, 1, 2, 1, new Uint8Array([...block(2), ...block(3)])), GOOD],
    ['BYTCHK 01b, last byte differs', (m) => m.verify(0, 1, 2, 1, new Uint8Array([...block(2), ...block(3).fill(9, BS - 1)])), cc(0x0e, 0x1d, 0x00, 2 * BS - 1)],
    ['BYTCHK 01b over unmapped blocks (zeros)', (m) => m.verify(0, 8, 2, 1, new Uint8Array(2 * BS)), GOOD],
    ['BYTCHK 11b, every block equal to the one', (m) => m.verify(0, 8, 4, 3, block(0)), GOOD],
    ['BYTCHK 11b, the second block differs at its byte 0', (m) => m.verify(0, 0, 3, 3, block(1)), cc(0x0e, 0x1d, 0x00, BS)],
    ['BYTCHK 11b, differs in the first block at byte 5', (m) => m.verify(0, 2, 1, 3, block(3).fill(0, 5, 6)), cc(0x0e, 0x1d, 0x00, 5)],
  ];
  it.each(VERIFY_GRID)('VERIFY %s', (_, run, expected) => {
    const m = model();
    const before = m.contents(0);
    expect(run(m)).toEqual(expected);
    expect(m.contents(0)).toEqual(before);
  });

  it('ORWRITE(16) writes the OR of the old and the new bytes, and allocates like a write', () => {
    const m = model();
    expect(m.orWrite16(0, 7, new Uint8Array([...block(0x80), ...block(0x41)]))).toEqual(GOOD);
    expect(m.read16(0, 7, 2).data).toEqual(new Uint8Array([...block(0x88), ...block(0x41)]));
    expect(m.mapped(0)).toEqual([true, true, true, false]);
    expect(m.orWrite16(0, 15, new Uint8Array(2 * BS))).toEqual(cc(0x05, 0x21, 0x00));
    expect(m.orWrite16(0, 16, new Uint8Array(0))).toEqual(GOOD);
  });

  it('ORWRITE(16) on an exhausted pool fails with 07/27/07 and changes nothing', () => {
    const m = new ReferenceArray({ blockSize: BS, unitBlocks: 4, capacityUnits: 0, share: false, luns: [{ thin: true, blockCount: 16 }] });
    expect(m.orWrite16(0, 0, block(1))).toEqual(cc(0x07, 0x27, 0x07));
    expect(m.mapped(0)).toEqual([false, false, false, false]);
  });

  it.each([
    [0, 16, GOOD],
    [15, 0, GOOD], // NUMBER OF LOGICAL BLOCKS 0: from the LBA to the last one
    [15, 1, GOOD],
    [15, 2, cc(0x05, 0x21, 0x00)],
    [17, 0, cc(0x05, 0x21, 0x00)],
  ] as const)('PRE-FETCH lba %i blocks %i', (lba, blocks, expected) => {
    const m = model();
    expect(m.preFetch(0, lba, blocks)).toEqual(expected);
    expect(m.mapped(0)).toEqual([true, true, false, false]);
  });

  it('SANITIZE BLOCK ERASE deallocates the whole thin LUN, which then reads zeros; a thick LUN does not offer it', () => {
    const m = model();
    expect(m.write16(1, 0, block(7))).toEqual(GOOD);
    expect(m.sanitizeBlockErase(0)).toEqual(GOOD);
    expect(m.mapped(0)).toEqual([false, false, false, false]);
    expect(m.contents(0)).toEqual(new Uint8Array(16 * BS));
    expect(m.allocatedUnits).toBe(0);
    expect(m.sanitizeBlockErase(1)).toEqual(cc(0x05, 0x20, 0x00));
    expect(m.read16(1, 0, 1).data).toEqual(block(7));
    m.selfCheck();
  });
});

describe('the kit encodings', () => {
  const g = { blockSize: BS, blockCount: 0x200000 };

  it.each([
    [{ op: 'READ(6)', lba: 0x1fffff, blocks: 1 } as KitCommand, [0x08, 0x1f, 0xff, 0xff, 0x01, 0x00], 0],
    [{ op: 'READ(6)', lba: 0x100, blocks: 256 } as KitCommand, [0x08, 0x00, 0x01, 0x00, 0x00, 0x00], 0],
    [{ op: 'WRITE(6)', lba: 0x12345, blocks: 256, seed: 3 } as KitCommand, [0x0a, 0x01, 0x23, 0x45, 0x00, 0x00], 256 * BS],
    [{ op: 'WRITE(6)', lba: 7, blocks: 2, seed: 0 } as KitCommand, [0x0a, 0x00, 0x00, 0x07, 0x02, 0x00], 2 * BS],
  ])('%j: CDB %j, %i bytes of Data-Out', (command, bytes, dataOut) => {
    const e = encodeCommand(command, g);
    expect([...e.cdb]).toEqual(bytes);
    expect(e.dataOut?.length ?? 0).toBe(dataOut);
  });

  it.each([
    ['VERIFY(10)', 0, undefined, 0x2f, 0x00],
    ['VERIFY(10)', 1, undefined, 0x2f, 0x02],
    ['VERIFY(16)', 3, undefined, 0x8f, 0x06],
    ['VERIFY(16)', 1, 'reserved-bytchk', 0x8f, 0x04],
    ['WRITE AND VERIFY(10)', 1, undefined, 0x2e, 0x02],
    ['WRITE AND VERIFY(16)', 0, 'reserved-bytchk', 0x8e, 0x06],
  ] as const)('%s BYTCHK %i %s: opcode %i, byte 1 %i', (op, bytchk, defect, opcode, byte1) => {
    const command = (op.startsWith('VERIFY') ? { op, lba: 0x10, blocks: 3, bytchk, miscompareAt: null } : { op, lba: 0x10, blocks: 3, bytchk, seed: 5 }) as KitCommand;
    const e = encodeCommand(command, g, (r) => new Uint8Array(r.blocks * BS).fill(0x33), defect);
    expect(e.cdb[0]).toBe(opcode);
    expect(e.cdb[1]).toBe(byte1);
    expect(op.endsWith('(10)') ? readU32(e.cdb, 2) : readU64(e.cdb, 2)).toBe(0x10);
    expect(op.endsWith('(10)') ? readU16(e.cdb, 7) : readU32(e.cdb, 10)).toBe(3);
    const writes = op.startsWith('WRITE');
    // VERIFY: the blocks with BYTCHK 01b, one block with 11b, none with 00b or a reserved BYTCHK.
    expect(e.dataOut?.length ?? 0).toBe(writes ? 3 * BS : defect !== undefined ? 0 : [0, 3 * BS, 0, BS][bytchk]);
  });

  it('the Data-Out of a VERIFY is the medium with the byte at miscompareAt inverted', () => {
    const c: VerifyCommand = { op: 'VERIFY(16)', lba: 0, blocks: 2, bytchk: 3, miscompareAt: BS + 4 };
    const medium = new Uint8Array(2 * BS).fill(0x0f);
    const one = verifyDataOut(c, medium, BS)!;
    expect(one).toEqual(block(0x0f).fill(0xf0, 4, 5));
    expect(verifyDataOut({ ...c, bytchk: 1, miscompareAt: null }, medium, BS)).toEqual(medium);
    expect(verifyDataOut({ ...c, bytchk: 0 }, medium, BS)).toBeUndefined();
    expect(medium).toEqual(new Uint8Array(2 * BS).fill(0x0f));
  });

  it('PRE-FETCH and SANITIZE BLOCK ERASE CDBs', () => {
    expect([...encodeCommand({ op: 'PRE-FETCH(10)', lba: 9, blocks: 0 }, g).cdb]).toEqual([0x34, 0, 0, 0, 0, 9, 0, 0, 0, 0]);
    expect([...encodeCommand({ op: 'PRE-FETCH(16)', lba: 9, blocks: 2 }, g).cdb]).toEqual([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0]);
    expect([...encodeCommand({ op: 'SANITIZE BLOCK ERASE' }, g).cdb]).toEqual([0x48, 0x02, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...encodeCommand({ op: 'SANITIZE BLOCK ERASE' }, g, undefined, 'nonzero-parameter-list-length').cdb]).toEqual([0x48, 0x02, 0, 0, 0, 0, 0, 0, 1, 0]);
  });

  it('each new command has the defects its fields allow', () => {
    const space: CommandSpace = { blockSize: BS, blockCount: 1024, first: 960 };
    expect(defectsFor({ op: 'WRITE(6)', lba: 0, blocks: 1, seed: 1 }, space)).toEqual(['lba-beyond-end']);
    expect(defectsFor({ op: 'VERIFY(10)', lba: 0, blocks: 1, bytchk: 0, miscompareAt: null }, space)).toEqual(['lba-beyond-end', 'reserved-bytchk']);
    expect(defectsFor({ op: 'WRITE AND VERIFY(16)', lba: 0, blocks: 1, bytchk: 1, seed: 1 }, space)).toEqual(['lba-beyond-end', 'reserved-bytchk']);
    expect(defectsFor({ op: 'ORWRITE(16)', lba: 0, blocks: 1, seed: 1 }, space)).toEqual(['lba-beyond-end']);
    expect(defectsFor({ op: 'PRE-FETCH(16)', lba: 0, blocks: 0 }, space)).toEqual(['lba-beyond-end']);
    expect(defectsFor({ op: 'SANITIZE BLOCK ERASE' }, space)).toEqual(['nonzero-parameter-list-length']);
  });
});

describe('the arbitraries of the SBC commands reach their edge cases', () => {
  // A 512-block window at the end of a 1024-block LUN: room for 256-block READ(6)/WRITE(6).
  const space: CommandSpace = { blockSize: BS, blockCount: 1024, first: 512 };
  const NEW_OPS = KIT_OPS.slice(KIT_OPS.indexOf('READ(6)'), KIT_OPS.indexOf('PERSISTENT RESERVE IN'));
  const wellFormed = fc.sample(commandArbitrary(space), { numRuns: 4000, seed: SEED });
  const malformed = fc.sample(malformedCommandArbitrary(space), { numRuns: 4000, seed: SEED });
  const seen = (label: string, commands: readonly KitCommand[], test: (c: KitCommand) => boolean) => [label, commands.some(test)] as const;
  const ranged = NEW_OPS.filter((op) => op !== 'SANITIZE BLOCK ERASE');

  it.each([
    ...ranged.map((op) => seen(`${op} ending at the last LBA`, wellFormed, (c) => c.op === op && hasRange(c) && c.blocks > 0 && c.lba + c.blocks === 1024)),
    ...ranged.map((op) => seen(`${op} starting at the window's first LBA`, wellFormed, (c) => c.op === op && hasRange(c) && c.lba === 512)),
    seen('READ(6) of 256 blocks (TRANSFER LENGTH 0)', wellFormed, (c) => c.op === 'READ(6)' && c.blocks === 256),
    seen('WRITE(6) of 256 blocks (TRANSFER LENGTH 0)', wellFormed, (c) => c.op === 'WRITE(6)' && c.blocks === 256),
    ...([0, 1, 3] as const).flatMap((b) => [
      seen(`VERIFY BYTCHK ${b}, matching`, wellFormed, (c) => (c.op === 'VERIFY(10)' || c.op === 'VERIFY(16)') && c.bytchk === b && c.blocks > 0 && c.miscompareAt === null),
      seen(`VERIFY BYTCHK ${b}, a byte changed`, wellFormed, (c) => (c.op === 'VERIFY(10)' || c.op === 'VERIFY(16)') && c.bytchk === b && c.blocks > 0 && c.miscompareAt !== null),
    ]),
    ...([0, 1] as const).map((b) => seen(`WRITE AND VERIFY BYTCHK ${b}`, wellFormed, (c) => (c.op === 'WRITE AND VERIFY(10)' || c.op === 'WRITE AND VERIFY(16)') && c.bytchk === b)),
    seen('PRE-FETCH of NUMBER OF LOGICAL BLOCKS 0 (to the last LBA)', wellFormed, (c) => (c.op === 'PRE-FETCH(10)' || c.op === 'PRE-FETCH(16)') && c.blocks === 0),
    seen('ORWRITE(16) of zeros (changes nothing)', wellFormed, (c) => c.op === 'ORWRITE(16)' && c.seed === 0 && c.blocks > 0),
    seen('SANITIZE BLOCK ERASE', wellFormed, (c) => c.op === 'SANITIZE BLOCK ERASE'),
    ...NEW_OPS.flatMap((op) => defectsFor({ op } as KitCommand, space).map((d) => seen(`${op} malformed: ${d}`, malformed.map((m) => (m.defect === d ? m.command : { op: 'TEST UNIT READY' as const })), (c) => c.op === op))),
  ])('%s', (_, hit) => {
    expect(hit).toBe(true);
  });
});

describe('which targets are offered the SBC commands', () => {
  const NEW_OPS = KIT_OPS.slice(KIT_OPS.indexOf('READ(6)'), KIT_OPS.indexOf('PERSISTENT RESERVE IN'));

  it('the array with a window that is the whole thin LUN: every one, SANITIZE included', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const setup = await kitSetup(array.createLun({ sizeBytes: 64 * BS }));
    expect(setup.space.first).toBe(0);
    // One nexus: no persistent reservations (test/testing/pr-commands.test.ts).
    expect(setup.capabilities.ops).toEqual(KIT_OPS.filter((op) => !op.startsWith('PERSISTENT RESERVE')));
  });

  it('a thick LUN, or a window that is not the whole LUN: all but SANITIZE', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const thick = await kitSetup(array.createLun({ sizeBytes: 64 * BS, thin: false }));
    expect(thick.capabilities.ops.filter((op) => NEW_OPS.includes(op))).toEqual(NEW_OPS.filter((op) => op !== 'SANITIZE BLOCK ERASE'));
    const part = await kitSetup(array.createLun({ sizeBytes: 64 * BS }), { windowBlocks: 63 });
    expect(part.capabilities.ops.filter((op) => NEW_OPS.includes(op))).toEqual(NEW_OPS.filter((op) => op !== 'SANITIZE BLOCK ERASE'));
  });

  it('a LUN whose last LBA a 21-bit LBA cannot reach: no READ(6) or WRITE(6)', async () => {
    const array = new StorageArray({ capacityBytes: 2048 * MiB });
    const setup = await kitSetup(array.createLun({ sizeBytes: 0x200001 * BS }));
    expect(setup.capabilities.ops).not.toContain('READ(6)');
    expect(setup.capabilities.ops).not.toContain('WRITE(6)');
    expect(setup.capabilities.ops).toContain('VERIFY(16)');
  });

  it('a target without REPORT SUPPORTED OPERATION CODES: none of them', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 64 * BS });
    const noRsoc: ScsiTarget = { execute: (c, d, o) => (c[0] === 0xa3 ? { status: 0x02, sense: encodeFixedSense('INVALID_COMMAND_OPERATION_CODE') } : lun.execute(c, d, o)) };
    const setup = await kitSetup(noRsoc);
    expect(setup.capabilities.ops.filter((op) => NEW_OPS.includes(op))).toEqual([]);
  });

  it('a target whose RSOC leaves out ORWRITE(16) and VERIFY(10): the rest', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 64 * BS });
    const without: ScsiTarget = {
      execute: async (c, d, o) => {
        // REPORT SUPPORTED OPERATION CODES, one command: those two are "not supported" (SUPPORT 001b).
        if (c[0] === 0xa3 && (c[2]! & 0x07) === 1 && (c[3] === 0x8b || c[3] === 0x2f)) return { status: 0, data: new Uint8Array([0, 0x01, 0, 0]) } satisfies ScsiResult;
        const r = await lun.execute(c, d, o);
        if (c[0] !== 0xa3 || (c[2]! & 0x07) !== 0 || r.data === undefined) return r;
        // All commands: drop the descriptors of 8Bh and 2Fh.
        const kept: number[] = [];
        const size = (at: number) => 8 + ((r.data![at + 5]! & 0x02) !== 0 ? 12 : 0);
        for (let at = 4; at < 4 + readU32(r.data, 0); at += size(at)) if (r.data[at] !== 0x8b && r.data[at] !== 0x2f) kept.push(...r.data.subarray(at, at + size(at)));
        const data = new Uint8Array(4 + kept.length);
        new DataView(data.buffer).setUint32(0, kept.length);
        data.set(kept, 4);
        return { status: 0, data };
      },
    };
    const setup = await kitSetup(without);
    expect(setup.capabilities.ops.filter((op) => NEW_OPS.includes(op))).toEqual(NEW_OPS.filter((op) => op !== 'ORWRITE(16)' && op !== 'VERIFY(10)'));
  });
});

/** The array, a 512-block thin LUN checked whole (SANITIZE offered, 256-block READ(6)/WRITE(6) possible). */
function wholeLun(): { array: StorageArray; lun: Lun } {
  const array = new StorageArray({ capacityBytes: 64 * MiB, allocationUnitBytes: 4096 });
  return { array, lun: array.createLun({ sizeBytes: 512 * BS }) };
}

const options: CheckTargetOptions = { initiators: ['host-a', 'host-b'], numRuns: 100, seed: SEED, windowBlocks: 512 };

const caught: string[] = [];

/** `lun`, except that a CDB of `opcode` is sent as a copy that `edit` changed. */
function rewriting(lun: Lun, opcode: number, edit: (cdb: Uint8Array) => void): ScsiTarget {
  return {
    execute: (c, d, o) => {
      if (c[0] !== opcode) return lun.execute(c, d, o);
      const w = c.slice();
      edit(w);
      return lun.execute(w, d, o);
    },
  };
}

/** The check failed, its shrunk counterexample is a handful of steps, and the failing one is a `op` command. */
function expectCaught(name: string, report: CheckReport, op: RegExp): void {
  expect(report.passed, `${name} was not caught`).toBe(false);
  const steps = report.counterexample!.steps.filter((s) => !s.command.includes('LBPRZ = 0'));
  expect(steps.length, formatReport(report)).toBeLessThanOrEqual(HANDFUL);
  const failing = steps.filter((s) => !s.ok);
  expect(failing, formatReport(report)).toHaveLength(1);
  expect(steps.at(-1)!.ok).toBe(false);
  caught.push(`${name}: ${steps.length} step(s)\n${formatReport(report)}`);
  // The failing step, or the step whose effect it reads back, is the broken command.
  expect(steps.some((s) => op.test(s.command)), formatReport(report)).toBe(true);
}

describe('READ(6) through the iSCSI initiator (what `vaai-sim check` sends)', () => {
  it.each([
    [1, 512],
    [255, 255 * 512],
    [0, 256 * 512], // TRANSFER LENGTH 0: 256 blocks
  ])('TRANSFER LENGTH %i: %i bytes of Data-In, as written', async (length, bytes) => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 1024 * BS });
    const data = new Uint8Array(256 * BS).map((_, i) => (i * 13) & 0xff);
    expect((await lun.execute(cdb.write16({ lba: 300, blocks: 256 }), data)).status).toBe(0);
    const name = 'iqn.2026-11.dev.vaai-sim:read6';
    const server = new IscsiServer({ array, targets: [{ name, luns: [lun] }], port: 0 });
    const { port } = await server.listen();
    try {
      const session = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: name, initiatorName: 'iqn.2026-11.dev.vaai-sim:host', isid: Uint8Array.of(0x80, 0, 0, 0, 0, 1) });
      const r = await session.lun(0).execute(Uint8Array.of(0x08, 0x00, 0x01, 0x2c, length, 0x00));
      expect([r.status, r.data?.length]).toEqual([0, bytes]);
      expect(r.data).toEqual(data.subarray(0, bytes));
      await session.close();
    } finally {
      await server.close();
    }
  });
});

describe('checkTarget with the SBC commands', () => {
  afterAll(() => console.log(`[checkTarget SBC broken arrays] ${caught.length} caught\n${caught.join('\n\n')}`));

  it('passes against the array with every kit command, the pool invariant holding', async () => {
    const { array, lun } = wholeLun();
    const report = await checkTarget(lun, { ...options, invariants: [poolAccountingExact(array)] });
    expect(report.passed, formatReport(report)).toBe(true);
    // Two nexuses: persistent reservations instead of RESERVE(6)/RELEASE(6) (test/testing/pr-commands.test.ts).
    expect(report.capabilities.ops).toEqual(KIT_OPS.filter((op) => op !== 'RESERVE(6)' && op !== 'RELEASE(6)'));
    expect(report.capabilities.window).toEqual({ lba: 0, blocks: 512 });
  }, 120_000);

  it('catches a VERIFY whose BYTCHK 11b compares the one block with the first block of the range only', async () => {
    const { lun } = wholeLun();
    const firstOnly: ScsiTarget = {
      execute: (c, d, o) => {
        if ((c[0] === 0x2f || c[0] === 0x8f) && ((c[1]! >>> 1) & 0x03) === 3) {
          const one = c.slice();
          if (c[0] === 0x2f) one.set([0, 1], 7);
          else one.set([0, 0, 0, 1], 10);
          if ((c[0] === 0x2f ? readU16(c, 7) : readU32(c, 10)) > 0) return lun.execute(one, d, o);
        }
        return lun.execute(c, d, o);
      },
    };
    expectCaught('VERIFY BYTCHK 11b compares the first block only', await checkTarget(firstOnly, options), /VERIFY\(1[06]\)/);
  }, 60_000);

  /** `lun`, with the fixed-format sense of a VERIFY's CHECK CONDITION changed by `edit`. */
  const verifySense = (lun: Lun, edit: (sense: Uint8Array, cdb: Uint8Array) => void): ScsiTarget => ({
    execute: async (c, d, o) => {
      const r = await lun.execute(c, d, o);
      if ((c[0] !== 0x2f && c[0] !== 0x8f) || r.status !== 0x02 || r.sense === undefined) return r;
      const sense = r.sense.slice();
      edit(sense, c);
      return { status: r.status, sense };
    },
  });
  const verifyOps: CheckTargetOptions = { ...options, ops: ['READ(16)', 'WRITE(16)', 'VERIFY(10)', 'VERIFY(16)'] };

  it('passes a VERIFY miscompare without INFORMATION (VALID = 0): SBC-4 asks for the sense code, not the offset', async () => {
    const { lun } = wholeLun();
    const report = await checkTarget(verifySense(lun, (s) => (s[0] = s[0]! & 0x7f)), verifyOps);
    expect(report.passed, formatReport(report)).toBe(true);
  }, 60_000);

  it('catches a VERIFY BYTCHK 11b miscompare whose INFORMATION is the offset in the one block, not in the range', async () => {
    const { lun } = wholeLun();
    const inBlock = verifySense(lun, (s, c) => {
      if (((c[1]! >>> 1) & 0x03) === 3) new DataView(s.buffer).setUint32(3, readU32(s, 3) % BS);
    });
    expectCaught('VERIFY 11b INFORMATION within the block', await checkTarget(inBlock, verifyOps), /VERIFY\(1[06]\) .*BYTCHK 11b/);
  }, 60_000);

  const preFetchOps: CheckTargetOptions = { ...options, ops: ['READ(16)', 'WRITE(16)', 'PRE-FETCH(10)', 'PRE-FETCH(16)'] };

  it('passes a target whose cache takes every PRE-FETCH (CONDITION MET, SBC-4 5.9)', async () => {
    const { lun } = wholeLun();
    const cached: ScsiTarget = {
      execute: async (c, d, o) => {
        const r = await lun.execute(c, d, o);
        return (c[0] === 0x34 || c[0] === 0x90) && r.status === 0 ? ({ status: 0x04 } as unknown as ScsiResult) : r;
      },
    };
    const report = await checkTarget(cached, preFetchOps);
    expect(report.passed, formatReport(report)).toBe(true);
  }, 60_000);

  it('catches a PRE-FETCH that takes any LBA (GOOD past the last one)', async () => {
    const { lun } = wholeLun();
    const anyLba: ScsiTarget = { execute: (c, d, o) => (c[0] === 0x34 || c[0] === 0x90 ? { status: 0x00 } : lun.execute(c, d, o)) };
    expectCaught('PRE-FETCH takes any LBA', await checkTarget(anyLba, preFetchOps), /PRE-FETCH\(1[06]\) .*lba-beyond-end/);
  }, 60_000);

  it('catches an ORWRITE(16) that writes the Data-Out instead of the OR', async () => {
    const { lun } = wholeLun();
    const plain = rewriting(lun, 0x8b, (w) => (w[0] = 0x8a));
    expectCaught('ORWRITE(16) is a plain write', await checkTarget(plain, options), /ORWRITE\(16\)/);
  }, 60_000);

  it('catches a WRITE(6) that takes TRANSFER LENGTH 0 for no blocks (GOOD, nothing written) instead of 256', async () => {
    const { lun } = wholeLun();
    const zero: ScsiTarget = { execute: (c, d, o) => (c[0] === 0x0a && c[4] === 0 ? { status: 0x00 } : lun.execute(c, d, o)) };
    expectCaught('WRITE(6) TRANSFER LENGTH 0 as no blocks', await checkTarget(zero, options), /WRITE\(6\) lba \d+ blocks 256/);
  }, 60_000);

  it('catches a WRITE(6) that drops the LBA bits of byte 1 (a 16-bit LBA)', async () => {
    // 131,072 blocks: the window's LBAs are above 2^16.
    const array = new StorageArray({ capacityBytes: 256 * MiB, allocationUnitBytes: 4096 });
    const lun = array.createLun({ sizeBytes: 64 * MiB });
    const sixteen = rewriting(lun, 0x0a, (w) => (w[1] = 0));
    expectCaught('WRITE(6) with a 16-bit LBA', await checkTarget(sixteen, { initiators: ['host-a'], numRuns: 100, seed: SEED }), /WRITE\(6\)/);
  }, 60_000);

  it('catches a SANITIZE BLOCK ERASE that answers GOOD and leaves the data', async () => {
    const { lun } = wholeLun();
    const noop: ScsiTarget = { execute: (c, d, o) => (c[0] === 0x48 && (c[1]! & 0x1f) === 0x02 && readU16(c, 7) === 0 ? { status: 0x00 } : lun.execute(c, d, o)) };
    expectCaught('SANITIZE BLOCK ERASE leaves the data', await checkTarget(noop, options), /SANITIZE BLOCK ERASE/);
  }, 60_000);
});
