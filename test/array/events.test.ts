import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type ArrayEvents } from '../../src/index.js';
import { MiB, TiB, expectGood, pattern, run, write, xcopy } from './helpers.js';

describe('events', () => {
  it('reports threshold crossing, out of space, freed space and copy progress', async () => {
    const array = new StorageArray({ capacityBytes: 4 * MiB, softThresholdPercent: 75 });
    const lun = array.createLun({ sizeBytes: TiB });
    const seen: Array<[keyof ArrayEvents, unknown]> = [];
    array.on('thresholdCrossed', (e) => seen.push(['thresholdCrossed', e]));
    array.on('outOfSpace', (e) => seen.push(['outOfSpace', e]));
    array.on('spaceFreed', (e) => seen.push(['spaceFreed', e]));
    const offProgress = array.on('copyProgress', (e) => seen.push(['copyProgress', e]));

    expectGood(await write(lun, 0, pattern(3 * MiB, 1), 'h'));
    expect(seen).toEqual([['thresholdCrossed', { usedBytes: 3 * MiB, capacityBytes: 4 * MiB, thresholdPercent: 75 }]]);
    seen.length = 0;
    expect((await run(lun, cdb.testUnitReady(), undefined, 'h')).status).toBe(2); // the threshold's unit attention
    expect((await write(lun, 8192, pattern(2 * MiB, 1), "h")).status).toBe(2);
    expect(seen).toEqual([['outOfSpace', { lunId: 0, initiator: 'h', opcode: 0x8a, neededUnits: 2, freeUnits: 1 }]]);
    seen.length = 0;
    const list = cdb.unmapParameterList([{ lba: 0, blocks: 4096 }]);
    expectGood(await run(lun, cdb.unmap({ parameterListLength: list.length }), list, 'h'));
    expect(seen).toEqual([['spaceFreed', { freedBytes: 2 * MiB, usedBytes: MiB }]]);
    seen.length = 0;
    expectGood(await xcopy(lun, [
      { from: lun, to: lun, blocks: 2048, sourceLba: 4096, destinationLba: 8192 },
      { from: lun, to: lun, blocks: 8, sourceLba: 4096, destinationLba: 20000 },
    ], 0, undefined, 'h'));
    expect(seen.filter(([n]) => n === 'copyProgress').map(([, e]) => e)).toEqual([
      { lunId: 0, initiator: 'h', listId: 0, segmentsProcessed: 1, segmentCount: 2, bytesTransferred: MiB, bytesShared: MiB },
      { lunId: 0, initiator: 'h', listId: 0, segmentsProcessed: 2, segmentCount: 2, bytesTransferred: MiB + 4096, bytesShared: MiB },
    ]);
    offProgress();
    seen.length = 0;
    expectGood(await xcopy(lun, [{ from: lun, to: lun, blocks: 8, sourceLba: 4096, destinationLba: 30000 }]));
    expect(seen.filter(([n]) => n === 'copyProgress')).toEqual([]);
  });

  it('a throwing listener does not break the command or other listeners', async () => {
    const array = new StorageArray({ capacityBytes: 2 * MiB, softThresholdPercent: 50 });
    const lun = array.createLun({ sizeBytes: TiB });
    let called = false;
    array.on('thresholdCrossed', () => {
      throw new Error('listener bug');
    });
    array.on('thresholdCrossed', () => {
      called = true;
    });
    expectGood(await write(lun, 0, pattern(512, 1)));
    expect(called).toBe(true);
  });
});
