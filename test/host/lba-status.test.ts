/**
 * The GET LBA STATUS walk reads its parameter data through `decodeLbaStatus`: it continues after an
 * answer the ALLOCATION LENGTH cut (from the end of the last whole descriptor), and a GOOD answer with
 * no descriptor is a failure. That last answer used to end the walk as if the range were done, so
 * change tracking (cbt.ts) reported no allocated blocks where it must report the whole LUN.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb } from '../../src/index.js';
import { writeU32, writeU64 } from '../../src/codec/bytes.js';
import { decodeLbaStatus } from '../../src/codec/sbc-data-decoder.js';
import { lbaStatusExtents } from '../../src/host/lba-status.js';
import type { ScsiTarget } from '../../src/host/target.js';

const MiB = 1024 * 1024;

describe('GET LBA STATUS walk', () => {
  it('walks a LUN with alternating mapped and deallocated units', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 8 * MiB });
    for (const u of [0, 2, 3, 6]) lun.execute(cdb.write16({ lba: u * 2048, blocks: 1 }), new Uint8Array(512).fill(1));
    const walk = await lbaStatusExtents(lun, 0, 8 * 2048);
    expect(walk).toEqual({
      extents: [
        { lba: 0, blocks: 2048, provisioning: 0 },
        { lba: 2048, blocks: 2048, provisioning: 1 },
        { lba: 4096, blocks: 4096, provisioning: 0 },
        { lba: 8192, blocks: 4096, provisioning: 1 },
        { lba: 12288, blocks: 2048, provisioning: 0 },
        { lba: 14336, blocks: 2048, provisioning: 1 },
      ],
    });
  });

  it('asks again after an answer cut to one descriptor', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 8 * MiB });
    lun.execute(cdb.write16({ lba: 4096, blocks: 1 }), new Uint8Array(512).fill(1));
    let commands = 0;
    const oneAtATime: ScsiTarget = {
      execute: async (c, d, o) => {
        commands++;
        const r = await lun.execute(c, d, o);
        return r.data === undefined ? r : { ...r, data: r.data.subarray(0, 24) };
      },
    };
    const whole = await lbaStatusExtents(lun, 0, 8 * 2048);
    expect(await lbaStatusExtents(oneAtATime, 0, 8 * 2048)).toEqual(whole);
    expect(commands).toBe(3);
    expect(decodeLbaStatus((await oneAtATime.execute(cdb.getLbaStatus({ lba: 0, allocationLength: 4096 }))).data!)).toMatchObject({ ok: true, value: { complete: false } });
  });

  it('a GOOD answer without a descriptor fails the walk where it was asked', async () => {
    const empty = new Uint8Array(8);
    writeU32(empty, 0, 4); // PARAMETER DATA LENGTH: the header only
    const target: ScsiTarget = { execute: () => ({ status: 0, data: empty }) };
    expect(await lbaStatusExtents(target, 100, 200)).toEqual({ failedAt: 100, status: 0 });
    const past = new Uint8Array(24); // one descriptor, but PARAMETER DATA LENGTH stops before it
    writeU32(past, 0, 4);
    writeU64(past, 8, 100);
    writeU32(past, 16, 100);
    expect(await lbaStatusExtents({ execute: () => ({ status: 0, data: past }) }, 100, 200)).toEqual({ failedAt: 100, status: 0 });
  });
});
