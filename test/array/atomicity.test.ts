import { describe, expect, it } from 'vitest';
import { Opcode, StorageArray, cdb, decodeSense } from '../../src/index.js';
import { MiB, expectGood, read, run, write } from './helpers.js';

/** A lock sector image: owner id in byte 0, generation in byte 1. */
function image(owner: number, generation: number): Uint8Array {
  const b = new Uint8Array(512);
  b[0] = owner;
  b[1] = generation;
  return b;
}

describe('COMPARE AND WRITE atomicity', () => {
  it('of N hosts racing to take the same free lock with delayed commands, exactly one wins', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 16 * MiB });
    expectGood(await write(lun, 7, image(0, 0)));
    // Every CAW is delayed by a seeded random 0..3 ms, so they complete in an interleaved order.
    array.faults.add({ opcode: Opcode.COMPARE_AND_WRITE, probability: 0.7, seed: 11, delayMs: 2 });
    const hosts = Array.from({ length: 32 }, (_, i) => i + 1);
    const results = await Promise.all(
      hosts.map((h) => {
        const payload = new Uint8Array(1024);
        payload.set(image(0, 0), 0);
        payload.set(image(h, 1), 512);
        return lun.execute(cdb.compareAndWrite({ lba: 7, blocks: 1 }), payload, { initiator: `host-${h}` });
      }),
    );
    const winners = hosts.filter((_, i) => results[i]!.status === 0);
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status !== 0) expect(decodeSense(r.sense)?.reason).toBe('MISCOMPARE_DURING_VERIFY_OPERATION');
    }
    const lock = await read(lun, 7, 1);
    expect([lock[0], lock[1]]).toEqual([winners[0], 1]);
  });

  it('a miscompare reports the first differing byte and leaves the medium unchanged, even when the write half would allocate', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 16 * MiB });
    const payload = new Uint8Array(2 * 3 * 512);
    payload[3 * 512 - 1] = 9; // verify data differs from the unwritten (zero) blocks at its last byte
    payload.fill(5, 3 * 512);
    const r = await run(lun, cdb.compareAndWrite({ lba: 100, blocks: 3 }), payload);
    expect(decodeSense(r.sense)).toMatchObject({ key: 0x0e, asc: 0x1d, ascq: 0x00, information: 3 * 512 - 1 });
    expect(lun.store.units.size).toBe(0);
  });
});

describe('Data-In buffers', () => {
  it('reads into the caller-provided buffer when it is large enough, and into a new one otherwise', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 16 * MiB });
    expectGood(await write(lun, 0, new Uint8Array(1024).fill(4)));
    const mine = new Uint8Array(4096).fill(0xee);
    const r = await lun.execute(cdb.read10({ lba: 0, blocks: 2 }), undefined, { dataIn: mine });
    expect(r.data!.buffer).toBe(mine.buffer);
    expect(r.data!.length).toBe(1024);
    expect(mine[0]).toBe(4);
    expect(mine[1024]).toBe(0xee);
    const small = new Uint8Array(10);
    const r2 = await lun.execute(cdb.read10({ lba: 0, blocks: 2 }), undefined, { dataIn: small });
    expect(r2.data!.buffer).not.toBe(small.buffer);
    expect(r2.data!.length).toBe(1024);
  });
});
