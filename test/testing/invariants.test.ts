/** The kit's invariant helpers: each holds for the array and catches the breakage it names. */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb } from '../../src/index.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { AcknowledgedWrites, poolAccountingExact, seededBytes, unmappedBlocksReadZero } from '../../src/testing/index.js';

function setup() {
  const array = new StorageArray({ capacityBytes: 16 << 20, allocationUnitBytes: 4096 });
  const lun = array.createLun({ sizeBytes: 1 << 20 });
  return { array, lun };
}

describe('invariant helpers', () => {
  it('unmappedBlocksReadZero: holds after UNMAP; catches a target whose unmapped blocks read stale data', async () => {
    const { lun } = setup();
    await lun.execute(cdb.write16({ lba: 0, blocks: 64 }), seededBytes(3, 64 * 512));
    const list = cdb.unmapParameterList([{ lba: 8, blocks: 16 }]);
    expect((await lun.execute(cdb.unmap({ parameterListLength: list.length }), list)).status).toBe(0);
    expect(await unmappedBlocksReadZero(lun, { lba: 0, blocks: 64 })).toBeUndefined();
    // A target that reads unmapped blocks as 0xEE.
    const stale: ScsiTarget = {
      execute: async (c, d, o) => {
        const r = await lun.execute(c, d, o);
        if (c[0] === 0x88 && r.data !== undefined) return { ...r, data: r.data.map((x) => (x === 0 ? 0xee : x)) };
        return r;
      },
    };
    expect(await unmappedBlocksReadZero(stale, { lba: 0, blocks: 64 })).toMatch(/unmapped LBA 8 does not read zero/);
  });

  it('AcknowledgedWrites: verifies what was written; names the block a target lost', async () => {
    const { lun } = setup();
    const acked = new AcknowledgedWrites(512);
    for (const [lba, seed] of [[0, 1], [10, 2], [11, 3]] as const) {
      const data = seededBytes(seed, 512);
      if ((await lun.execute(cdb.write16({ lba, blocks: 1 }), data)).status === 0) acked.record(lba, data);
    }
    expect(acked.size).toBe(3);
    expect(await acked.verify(lun)).toBeUndefined();
    await lun.execute(cdb.writeSame16({ lba: 11, blocks: 1 }), new Uint8Array(512)); // changed behind the tracker's back
    expect(await acked.verify(lun)).toMatch(/acknowledged LBA 11 lost its data/);
    acked.forget({ lba: 11, blocks: 1 });
    expect(await acked.verify(lun)).toBeUndefined();
    expect(() => acked.record(0, new Uint8Array(100))).toThrow(RangeError);
  });

  it('poolAccountingExact: holds through writes, clones and unmaps; catches a counter that drifts', async () => {
    const { array, lun } = setup();
    const other = array.createLun({ sizeBytes: 1 << 20, thin: false });
    const check = poolAccountingExact(array);
    await lun.execute(cdb.write16({ lba: 0, blocks: 32 }), seededBytes(4, 32 * 512));
    const xcopy = cdb.extendedCopyParameterList({
      cscds: [{ designator: lun.naaDesignator, blockSize: 512 }, { designator: other.naaDesignator, blockSize: 512 }],
      segments: [{ source: 0, destination: 0, blocks: 16, sourceLba: 0, destinationLba: 64 }, { source: 0, destination: 1, blocks: 8, sourceLba: 0, destinationLba: 0 }],
    });
    expect((await lun.execute(cdb.extendedCopy(xcopy.length), xcopy)).status).toBe(0);
    expect(check()).toBeUndefined();
    const list = cdb.unmapParameterList([{ lba: 0, blocks: 8 }]);
    await lun.execute(cdb.unmap({ parameterListLength: list.length }), list);
    expect(check()).toBeUndefined();
    // The pool's counter drifts by one unit (as a leak would leave it).
    array.pool.charge(1);
    expect(check()).toMatch(/allocated units/);
  });
});
