/**
 * The host paths run unchanged over a multipath device while a path fails under them: the data
 * mover (no torn clone), zeroing, the lock manager (no lost lock, mutual exclusion), changed block
 * tracking (still exact) and replication (the replica equals the source).
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type Lun } from '../../../src/index.js';
import { cloneRange } from '../../../src/host/data-mover.js';
import { zeroRange } from '../../../src/host/zeroing.js';
import { LockManager } from '../../../src/host/lock-manager.js';
import { FilterChain } from '../../../src/host/filters/chain.js';
import { ChangedBlockTracker } from '../../../src/host/filters/cbt.js';
import { ReplicationFilter } from '../../../src/host/filters/replication.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { InProcessPath } from '../../../src/host/multipath/in-process-path.js';
import { BLOCK, rig, sim, type Rig } from './helpers.js';

/** Every port 1 ms away; port 1 goes `fault` at `atMs`. The device uses Fixed on p1 so that the fault hits the path in use. */
async function failing(r: Rig, atMs: number, fault: 'down' | 'black-hole' = 'down'): Promise<MultipathDevice> {
  const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, commandTimeoutMs: 50, policy: { policy: 'fixed', preferred: 'p1' } });
  for (const p of r.ports) p.setLatency(1); // after the claim: latency is spent on the clock, which runs only inside sim()
  void r.clock.sleep(atMs).then(() => r.ports[0]!.setLink(fault));
  return d;
}

async function image(lun: Lun, lba: number, blocks: number): Promise<Uint8Array> {
  const r = await lun.execute(cdb.read16({ lba, blocks }));
  expect(r.status).toBe(0);
  return r.data!.slice();
}

/** Byte equality (vitest's deep equality is too slow for megabytes). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function pattern(blocks: number, seed: number): Uint8Array {
  const b = new Uint8Array(blocks * BLOCK);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}

describe('host paths over a multipath device while a path fails', () => {
  for (const [offload, fault] of [[true, 'down'], [true, 'black-hole'], [false, 'down'], [false, 'black-hole']] as const) {
    it(`data mover (${offload ? 'EXTENDED COPY' : 'host READ/WRITE'}, path ${fault} mid-clone): the clone is whole`, async () => {
      const r = rig([1, 1]);
      await r.lun.execute(cdb.write16({ lba: 0, blocks: 4096 }), pattern(4096, 1));
      const d = await failing(r, 6, fault);
      const report = await sim(r, async () => await cloneRange({ source: d, sourceLba: 0, destinationLba: 8192, blocks: 4096, transferBytes: 128 * 1024, offload, parallel: 2 }));
      expect(same(await image(r.lun, 8192, 4096), await image(r.lun, 0, 4096))).toBe(true);
      expect(report.bytes).toBe(4096 * BLOCK);
      expect(d.stats.failovers).toBeGreaterThan(0);
      expect(d.paths.map((p) => p.state)).toEqual(['dead', 'active']);
    });
  }

  it('zeroing (WRITE SAME) with the path dying mid-way: every block reads zero', async () => {
    const r = rig([1, 1]);
    await r.lun.execute(cdb.write16({ lba: 0, blocks: 2048 }), pattern(2048, 2));
    const d = await failing(r, 3);
    await sim(r, async () => await zeroRange({ target: d, lba: 0, blocks: 2048, transferBytes: 64 * 1024, parallel: 2 }));
    expect((await image(r.lun, 0, 2048)).every((b) => b === 0)).toBe(true);
    expect(d.stats.failovers).toBeGreaterThan(0);
  });

  it('lock manager (ATS): two hosts contend through their own devices while one host loses a path: mutual exclusion, every lock taken and given back', async () => {
    const r = rig([1, 2]);
    const hostB = r.ports.map((port, i) => new InProcessPath(r.lun, port, { clock: r.clock, initiator: 'host-b', name: `b${i + 1}` }));
    const a = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, commandTimeoutMs: 50, policy: { policy: 'fixed', preferred: 'p1' } });
    const b = await MultipathDevice.create({ paths: hostB, clock: r.clock, checkerIntervalMs: 0, commandTimeoutMs: 50, policy: { policy: 'fixed', preferred: 'b2' } });
    for (const p of r.ports) p.setLatency(1);
    let inside = 0;
    let most = 0;
    const rounds = { a: 0, b: 0 };
    await sim(r, async () => {
      void r.clock.sleep(17).then(() => r.ports[0]!.setLink('down'));
      const host = async (device: MultipathDevice, id: number, key: 'a' | 'b') => {
        const locks = new LockManager({ target: device, hostId: id, method: 'ats', sleep: (ms) => r.clock.sleep(ms), retryDelayMs: 1 });
        for (let i = 0; i < 8; i++) {
          await locks.acquire(30);
          inside++;
          most = Math.max(most, inside);
          await r.clock.sleep(2);
          inside--;
          await locks.release(30);
          rounds[key]++;
        }
      };
      await Promise.all([host(a, 1, 'a'), host(b, 2, 'b')]);
    });
    expect(most).toBe(1);
    expect(rounds).toEqual({ a: 8, b: 8 });
    expect(a.stats.failovers + a.stats.outcomeUnknown).toBeGreaterThan(0);
    expect((await image(r.lun, 30, 1))[7]).toBe(0); // free at the end: OWNER 0
  });

  it('changed block tracking over a multipath device: exactly the written blocks, though writes failed over', async () => {
    const r = rig([1, 1]);
    const d = await failing(r, 4);
    const cbt = new ChangedBlockTracker();
    await sim(r, async () => {
      const chain = await FilterChain.create(d, { filters: [cbt] });
      const start = cbt.changeId;
      for (const [lba, blocks] of [[10, 4], [100, 1], [14, 2], [500, 8], [2000, 3]] as const) {
        expect((await chain.execute(cdb.write16({ lba, blocks }), new Uint8Array(blocks * BLOCK).fill(1))).status).toBe(0);
      }
      expect(cbt.changedAreas(start)).toEqual([{ lba: 10, blocks: 6 }, { lba: 100, blocks: 1 }, { lba: 500, blocks: 8 }, { lba: 2000, blocks: 3 }]);
    });
    expect(d.stats.failovers).toBe(1);
  });

  it('sync replication over a multipath device: the replica equals the source after writes that failed over', async () => {
    const r = rig([1, 1]);
    const replicaArray = new StorageArray({ capacityBytes: 64 << 20 });
    const replica = replicaArray.createLun({ sizeBytes: 16 << 20 });
    const d = await failing(r, 4);
    const filter = new ReplicationFilter({ replica, mode: 'sync' });
    await sim(r, async () => {
      const chain = await FilterChain.create(d, { filters: [filter] });
      for (let i = 0; i < 8; i++) expect((await chain.execute(cdb.write16({ lba: i * 16, blocks: 16 }), pattern(16, i))).status).toBe(0);
    });
    expect(filter.state).toBe('mirroring');
    expect(same(await image(replica, 0, 128), await image(r.lun, 0, 128))).toBe(true);
    expect(d.stats.failovers).toBe(1);
  });
});
