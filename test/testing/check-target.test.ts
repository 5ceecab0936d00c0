/**
 * `checkTarget` against the project's array (it must pass) and against deliberately broken arrays
 * (each must be caught, with a shrunk counterexample of a handful of commands). Seeds are fixed, so
 * every run checks the same sequences; the control runs the same seeds against the intact array.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, encodeFixedSense, type Lun, type ScsiResult } from '../../src/index.js';
import { BlockStore, type CopyOutcome, type CopyTally } from '../../src/array/block-store.js';
import { ThinPool } from '../../src/array/thin-pool.js';
import { readU16, readU32, readU64 } from '../../src/codec/bytes.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { KIT_OPS, checkTarget, formatReport, poolAccountingExact, type CheckReport, type CheckTargetOptions } from '../../src/testing/index.js';

const MiB = 1024 * 1024;
const SEED = 20261122;
const RUNS = 150;
/** "A handful of commands": the shrunk counterexample of every breakage is at most this long. */
const HANDFUL = 6;

function freshLun(cloneMode: 'share' | 'copy' = 'share'): { array: StorageArray; lun: Lun } {
  // 4 KiB allocation units: the 64-block window spans 8 of them, so units are freed and shared.
  const array = new StorageArray({ capacityBytes: 256 * MiB, cloneMode, allocationUnitBytes: 4096 });
  return { array, lun: array.createLun({ sizeBytes: 16 * MiB }) };
}

const twoHosts: CheckTargetOptions = { initiators: ['host-a', 'host-b'], numRuns: RUNS, seed: SEED };

/** Replaces a prototype method while `fn` runs. */
async function withPatch<T extends object>(target: T, key: keyof T & string, value: unknown, fn: () => Promise<void>): Promise<void> {
  const original = Object.getOwnPropertyDescriptor(target, key)!;
  Object.defineProperty(target, key, { ...original, value });
  try {
    await fn();
  } finally {
    Object.defineProperty(target, key, original);
  }
}

/** The LBA and block count of a 16-byte CDB of READ(16), WRITE(16), WRITE SAME(16) or COMPARE AND WRITE. */
function extentOf(c: Uint8Array): { lba: number; blocks: number } | undefined {
  if (c[0] === 0x88 || c[0] === 0x8a || c[0] === 0x93) return { lba: readU64(c, 2), blocks: readU32(c, 10) };
  if (c[0] === 0x89) return { lba: readU64(c, 2), blocks: c[13]! };
  return undefined;
}

const caught: string[] = [];

function expectCaught(name: string, report: CheckReport): void {
  expect(report.passed, `${name} was not caught`).toBe(false);
  const steps = report.counterexample!.steps.filter((s) => !s.command.includes('LBPRZ = 0'));
  expect(steps.length, formatReport(report)).toBeLessThanOrEqual(HANDFUL);
  expect(steps.at(-1)!.ok).toBe(false);
  caught.push(`${name}: ${steps.length} step(s)\n${formatReport(report)}`);
}

describe('checkTarget', () => {
  afterAll(() => console.log(`[checkTarget broken arrays] ${caught.length} caught\n${caught.join('\n\n')}`));

  it('passes against the array (share and copy clone modes, two initiators), with the pool invariant', async () => {
    for (const mode of ['share', 'copy'] as const) {
      const { array, lun } = freshLun(mode);
      const report = await checkTarget(lun, { ...twoHosts, invariants: [poolAccountingExact(array)] });
      expect(report.passed, formatReport(report)).toBe(true);
      expect(report.runs).toBe(RUNS);
      // The array offers every command of the kit but SANITIZE, which erases the whole LUN: it is
      // offered only with a window that is the whole LUN (test/testing/sbc-commands.test.ts); with
      // two nexuses persistent reservations take the place of RESERVE(6)/RELEASE(6)
      // (test/testing/pr-commands.test.ts).
      expect(report.capabilities.ops).toEqual(KIT_OPS.filter((op) => op !== 'SANITIZE BLOCK ERASE' && op !== 'RESERVE(6)' && op !== 'RELEASE(6)'));
      expect(report.capabilities.window).toEqual({ lba: 32768 - 64, blocks: 64 });
    }
  }, 120_000);

  it('changes nothing outside its window', async () => {
    const { lun } = freshLun();
    const marker = new Uint8Array(512).fill(0xa7);
    await lun.execute(cdb.write16({ lba: 32768 - 65, blocks: 1 }), marker);
    await checkTarget(lun, { ...twoHosts, numRuns: 30 });
    const r = await lun.execute(cdb.read16({ lba: 32768 - 65, blocks: 1 }));
    expect(r.data).toEqual(marker);
  });

  it('catches a COMPARE AND WRITE that is not atomic (compare, yield, then write) in a race', async () => {
    const { lun } = freshLun();
    const racy: ScsiTarget = {
      async execute(c, dataOut, options) {
        if (c[0] !== 0x89 || dataOut === undefined) return await lun.execute(c, dataOut, options);
        const { lba, blocks } = extentOf(c)!;
        const half = blocks * 512;
        const current = await lun.execute(cdb.read16({ lba, blocks }), undefined, options);
        if (current.status !== 0) return await lun.execute(c, dataOut, options);
        await new Promise((r) => setImmediate(r)); // another command may run here
        for (let i = 0; i < half; i++) {
          if (current.data![i] !== dataOut[i]) return { status: 0x02, sense: encodeFixedSense({ key: 0x0e, asc: 0x1d, ascq: 0x00 }, { information: i }) } satisfies ScsiResult;
        }
        return await lun.execute(cdb.write16({ lba, blocks }), dataOut.subarray(half), options);
      },
    };
    expectCaught('COMPARE AND WRITE not atomic', await checkTarget(racy, twoHosts));
  }, 60_000);

  it('catches an EXTENDED COPY that ignores overlap (copies forward, block by block)', async () => {
    const { lun } = freshLun('copy');
    const copyFrom = BlockStore.prototype.copyFrom;
    await withPatch(BlockStore.prototype, 'copyFrom', function (this: BlockStore, src: BlockStore, srcOffset: number, dstOffset: number, length: number, share: boolean, tally: CopyTally): CopyOutcome {
      let done = 0;
      while (done < length) {
        const step = copyFrom.call(this, src, srcOffset + done, dstOffset + done, Math.min(512, length - done), share, tally);
        done += step.done;
        if (step.outOfSpace) return { done, outOfSpace: true, neededUnits: step.neededUnits };
      }
      return { done, outOfSpace: false, neededUnits: 0 };
    }, async () => expectCaught('EXTENDED COPY ignores overlap', await checkTarget(lun, twoHosts)));
  }, 60_000);

  it('catches WRITE SAME with UNMAP that leaves stale data (answers GOOD, changes nothing)', async () => {
    const { lun } = freshLun();
    const stale: ScsiTarget = {
      execute: (c, dataOut, options) => (c[0] === 0x93 && (c[1]! & 0x08) !== 0 ? { status: 0x00 } : lun.execute(c, dataOut, options)),
    };
    expectCaught('WRITE SAME UNMAP leaves stale data', await checkTarget(stale, twoHosts));
  }, 60_000);

  it('catches an off-by-one at the last LBA (a command that reaches it is refused as out of range)', async () => {
    const { lun } = freshLun();
    const last = 32768 - 1;
    const offByOne: ScsiTarget = {
      execute: (c, dataOut, options) => {
        const e = extentOf(c);
        if (e !== undefined && e.blocks > 0 && e.lba + e.blocks - 1 === last) return { status: 0x02, sense: encodeFixedSense('LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE') };
        if (c[0] === 0x42 && dataOut !== undefined && dataOut.length >= 24 && readU64(dataOut, 8) + readU16(dataOut, 18) > last) return { status: 0x02, sense: encodeFixedSense('LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE') };
        return lun.execute(c, dataOut, options);
      },
    };
    expectCaught('off-by-one at the last LBA', await checkTarget(offByOne, twoHosts));
  }, 60_000);

  it('catches a pool that leaks allocation units (with the pool accounting invariant)', async () => {
    const { array, lun } = freshLun();
    const release = ThinPool.prototype.release;
    await withPatch(ThinPool.prototype, 'release', function (this: ThinPool, units: number): void {
      release.call(this, Math.max(0, units - 1));
    }, async () => expectCaught('pool leaks allocation units', await checkTarget(lun, { ...twoHosts, invariants: [poolAccountingExact(array)] })));
  }, 60_000);
});
