import { describe, expect, it } from 'vitest';
import { InsufficientSpaceError, InvalidArgumentError, StorageArray, VaaiSimError, type LunOptions, type StorageArrayOptions } from '../../src/index.js';
import { MiB } from './helpers.js';

describe('programmer errors throw typed errors with clear messages', () => {
  const badArrays: Array<[unknown, RegExp]> = [
    [{ capacityBytes: -1 }, /capacityBytes/],
    [{ capacityBytes: 1.5 }, /capacityBytes/],
    [{ capacityBytes: MiB, softThresholdPercent: 0 }, /softThresholdPercent/],
    [{ capacityBytes: MiB, softThresholdPercent: 101 }, /softThresholdPercent/],
    [{ capacityBytes: MiB, allocationUnitBytes: 3000 }, /allocationUnitBytes/],
    [{ capacityBytes: MiB, cloneMode: 'fast' }, /cloneMode/],
    [{ capacityBytes: MiB, capacity: 1 }, /unknown option 'capacity'/],
    [null, /options must be an object/],
  ];
  it.each(badArrays)('StorageArray(%j)', (options, message) => {
    expect(() => new StorageArray(options as StorageArrayOptions)).toThrow(message);
    expect(() => new StorageArray(options as StorageArrayOptions)).toThrow(InvalidArgumentError);
  });

  const badLuns: Array<[unknown, RegExp]> = [
    [{ sizeBytes: -512 }, /sizeBytes/],
    [{ sizeBytes: 0 }, /sizeBytes/],
    [{ sizeBytes: 1000 }, /multiple of blockSize/],
    [{ sizeBytes: MiB, blockSize: 520 }, /blockSize/],
    [{ sizeBytes: MiB, thin: 'yes' }, /thin/],
    [{ sizeBytes: MiB, lunId: 20000 }, /lunId/],
    [{ sizeBytes: MiB, limits: { maximumCompareAndWriteLength: 0 } }, /maximumCompareAndWriteLength/],
    [{ sizeBytes: MiB, limits: { speed: 1 } }, /unknown option 'speed'/],
    [{ sizeBytes: MiB, initiators: 'iqn.a' }, /initiators/],
    [{ size: MiB }, /unknown option 'size'/],
  ];
  it.each(badLuns)('createLun(%j)', (options, message) => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    expect(() => array.createLun(options as LunOptions)).toThrow(message);
    expect(array.luns).toEqual([]);
  });

  it('duplicate LUN numbers, unknown LUNs and oversized thick LUNs', () => {
    const array = new StorageArray({ capacityBytes: 4 * MiB });
    array.createLun({ sizeBytes: MiB, lunId: 3 });
    expect(() => array.createLun({ sizeBytes: MiB, lunId: 3 })).toThrow(/already exists/);
    expect(() => array.deleteLun(9)).toThrow(InvalidArgumentError);
    expect(() => array.createLun({ sizeBytes: 8 * MiB, thin: false })).toThrow(InsufficientSpaceError);
    expect(() => array.growPool(-1)).toThrow(InvalidArgumentError);
    try {
      array.createLun({ sizeBytes: 8 * MiB, thin: false });
    } catch (e) {
      expect(e).toBeInstanceOf(VaaiSimError);
      expect((e as VaaiSimError).code).toBe('ERR_INSUFFICIENT_SPACE');
    }
  });

  it('assigns the lowest free LUN number and distinct designators', () => {
    const array = new StorageArray({ capacityBytes: 4 * MiB, arrayId: 0x12345678 });
    const a = array.createLun({ sizeBytes: MiB });
    const b = array.createLun({ sizeBytes: MiB, lunId: 2 });
    const c = array.createLun({ sizeBytes: MiB });
    expect([a.id, b.id, c.id]).toEqual([0, 2, 1]);
    expect(new Set([a.naaName, b.naaName, c.naaName]).size).toBe(3);
    expect(a.naaName).toMatch(/^naa\.6[0-9a-f]{31}$/);
    expect(a.serialNumber).toBe('VSIM123456780000');
  });
});
