/**
 * The kit's arbitraries: well-formed commands are accepted by the array, malformed ones are refused
 * and change nothing, shrinking keeps a command well-formed, and a workload property over the host
 * paths holds for the array and fails for an array that drops writes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense } from '../../src/index.js';
import { expectBytes } from '../array/helpers.js';
import { readU32 } from '../../src/codec/bytes.js';
import type { ScsiTarget } from '../../src/host/target.js';
import {
  commandArbitrary,
  encodeCommand,
  malformedCommandArbitrary,
  runWorkload,
  workloadArbitrary,
  type CommandSpace,
  type ExtendedCopyCommand,
  type KitCommand,
} from '../../src/testing/index.js';

const BLOCKS = 2048;

function fresh() {
  const array = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096 });
  const lun = array.createLun({ sizeBytes: BLOCKS * 512 });
  const b0 = lun.execute(cdb.inquiry({ page: 0xb0, allocationLength: 64 }));
  if (b0 instanceof Promise) throw new Error('async');
  const space: CommandSpace = {
    blockSize: 512,
    blockCount: BLOCKS,
    first: BLOCKS - 64,
    designator: { codeSet: 1, associationAndType: 0x03, bytes: lun.naaDesignator },
    maxCompareAndWriteBlocks: b0.data![5]!,
    maxWriteSameBlocks: 0,
    maxUnmapDescriptors: readU32(b0.data!, 24),
  };
  return { array, lun, space };
}

const window = async (lun: ScsiTarget) => (await lun.execute(cdb.read16({ lba: BLOCKS - 64, blocks: 64 }))).data!;

describe('command arbitraries', () => {
  it('well-formed commands are accepted by the array (GOOD, or a COMPARE AND WRITE or VERIFY miscompare)', async () => {
    await fc.assert(
      fc.asyncProperty(commandArbitrary(fresh().space), async (command) => {
        const { lun, space } = fresh();
        const e = encodeCommand(command, space, (r) => new Uint8Array(r.blocks * 512));
        const r = await lun.execute(e.cdb, e.dataOut);
        const s = decodeSense(r.sense);
        const compares = command.op === 'COMPARE AND WRITE' || ((command.op === 'VERIFY(10)' || command.op === 'VERIFY(16)') && command.bytchk !== 0 && command.miscompareAt !== null);
        expect(r.status === 0 || (compares && s?.key === 0x0e && s.asc === 0x1d), `${command.op}: ${JSON.stringify(s)}`).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('malformed commands are refused with ILLEGAL REQUEST (or COPY ABORTED) and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(malformedCommandArbitrary(fresh().space), fc.integer({ min: 1, max: 1000 }), async ({ command, defect }, seed) => {
        const { lun, space } = fresh();
        await lun.execute(cdb.write16({ lba: BLOCKS - 64, blocks: 64 }), new Uint8Array(64 * 512).fill(seed & 0xff));
        const before = await window(lun);
        const e = encodeCommand(command, space, undefined, defect);
        const r = await lun.execute(e.cdb, e.dataOut);
        expect(r.status, `${command.op} ${defect}`).toBe(0x02);
        expect([0x05, 0x0a]).toContain(decodeSense(r.sense)!.key);
        expectBytes(await window(lun), before);
      }),
      { numRuns: 300 },
    );
  });

  it('shrinking keeps an EXTENDED COPY well-formed: the shrunk counterexample still runs GOOD', async () => {
    const { lun, space } = fresh();
    const xcopies = commandArbitrary({ ...space, ops: new Set<KitCommand['op']>(['EXTENDED COPY']) }) as fc.Arbitrary<ExtendedCopyCommand>;
    // A property that fails for any copy of more than 3 blocks in all: shrinking must end at a small, valid copy.
    const details = fc.check(fc.property(xcopies, (c) => c.segments.reduce((n, s) => n + s.blocks, 0) <= 3), { numRuns: 500, seed: 7 });
    expect(details.failed).toBe(true);
    const [shrunk] = details.counterexample!;
    expect(shrunk.segments.reduce((n, s) => n + s.blocks, 0)).toBe(4);
    const e = encodeCommand(shrunk, space);
    const r = await lun.execute(e.cdb, e.dataOut);
    expect(r.status, `${JSON.stringify(shrunk)} ${JSON.stringify(decodeSense(r.sense))}`).toBe(0);
  });
});

describe('workload arbitraries', () => {
  const shape = { luns: 2, hosts: 3, blocksPerLun: 512, maxBlocks: 32, lockLbas: [0, 1] };

  async function lost(target: (host: number, lun: number) => ScsiTarget, steps: Parameters<typeof runWorkload>[0]): Promise<string | undefined> {
    const outcome = await runWorkload(steps, target, { luns: 2 });
    for (let l = 0; l < 2; l++) {
      const wrong = await outcome.acknowledged[l]!.verify(target(0, l));
      if (wrong !== undefined) return `LUN ${l}: ${wrong}`;
    }
    return undefined;
  }

  function arrayOf2() {
    const array = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096 });
    const luns = [array.createLun({ sizeBytes: 512 * 512 }), array.createLun({ sizeBytes: 512 * 512 })];
    return { array, luns };
  }

  it('no acknowledged data is lost by the array under clone, zero, lock, write and unmap mixes', async () => {
    await fc.assert(
      fc.asyncProperty(workloadArbitrary(shape), async (steps) => {
        const { luns } = arrayOf2();
        expect(await lost((h, l) => ({ execute: (c, d) => luns[l]!.execute(c, d, { initiator: `host-${h}` }) }), steps)).toBeUndefined();
      }),
      { numRuns: 60 },
    );
  });

  it('the same property fails for an array that acknowledges every fifth WRITE without writing it', async () => {
    const details = await fc.check(
      fc.asyncProperty(workloadArbitrary(shape), async (steps) => {
        const { luns } = arrayOf2();
        let writes = 0;
        const dropping = (h: number, l: number): ScsiTarget => ({
          execute: (c, d) => (c[0] === 0x8a && ++writes % 5 === 0 ? { status: 0x00 } : luns[l]!.execute(c, d, { initiator: `host-${h}` })),
        });
        return (await lost(dropping, steps)) === undefined;
      }),
      { numRuns: 200, seed: 11 },
    );
    expect(details.failed).toBe(true);
    expect(details.counterexample![0].filter((s) => s.kind === 'write').length).toBeLessThanOrEqual(5);
  });
});
