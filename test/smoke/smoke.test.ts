import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense } from '../../src/index.js';

describe('smoke', () => {
  it('writes, reads, clones', async () => {
    const array = new StorageArray({ capacityBytes: 1 << 30, softThresholdPercent: 75, arrayId: 1 });
    const lun = array.createLun({ sizeBytes: 64 * 2 ** 40, blockSize: 512 });
    const data = new Uint8Array(4096).fill(7);
    let r = await lun.execute(cdb.write16({ lba: 0, blocks: 8 }), data);
    expect(r.status).toBe(0);
    r = await lun.execute(cdb.read16({ lba: 0, blocks: 8 }));
    expect(r.data).toEqual(data);
    const list = cdb.extendedCopyParameterList({
      cscds: [{ designator: lun.naaDesignator, blockSize: 512 }],
      segments: [{ source: 0, destination: 0, blocks: 4096, sourceLba: 0, destinationLba: 8192 }],
    });
    r = await lun.execute(cdb.extendedCopy(list.length), list);
    expect(r.status, JSON.stringify(decodeSense(r.sense))).toBe(0);
    r = await lun.execute(cdb.read16({ lba: 8192, blocks: 8 }));
    expect(r.data).toEqual(data);
    expect(array.poolStatus.allocatedUnits).toBe(1); // the clone shares the one written unit
  });
});
