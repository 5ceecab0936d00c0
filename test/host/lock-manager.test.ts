import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type ExecuteOptions } from '../../src/index.js';
import { LockManager, type LockMethod } from '../../src/host/lock-manager.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { decodeSense } from '../../src/codec/sense-decoder.js';
import { descriptorFormat } from './sense-format.js';

const LOCK_LBA = 10;

/**
 * Hosts contend for one lock; the scheduler decides when each command reaches the array and when
 * each backoff ends. Returns the largest number of hosts that were ever inside the critical section.
 */
async function contend(s: fc.Scheduler, method: LockMethod, hosts: number, rounds: number, target?: (lun: ScsiTarget) => ScsiTarget): Promise<number> {
  const array = new StorageArray({ capacityBytes: 16 << 20 });
  const lun = array.createLun({ sizeBytes: 16 << 20 });
  const scheduled: ScsiTarget = {
    execute: (c: Uint8Array, d?: Uint8Array, o?: ExecuteOptions) => s.schedule(Promise.resolve(), `cmd ${c[0]!.toString(16)} ${o?.initiator}`).then(() => lun.execute(c, d, o)),
  };
  const shared = target ? target(scheduled) : scheduled;
  let inside = 0;
  let most = 0;
  const host = async (id: number) => {
    const locks = new LockManager({ target: shared, hostId: id, method, initiator: `host-${id}`, sleep: () => s.schedule(Promise.resolve(), `sleep ${id}`) });
    for (let round = 0; round < rounds; round++) {
      await locks.acquire(LOCK_LBA);
      inside++;
      most = Math.max(most, inside);
      await s.schedule(Promise.resolve(), `critical ${id}`);
      inside--;
      await locks.release(LOCK_LBA);
    }
  };
  const all = Promise.all(Array.from({ length: hosts }, (_, i) => host(i + 1)));
  await s.waitFor(all);
  return most;
}

describe('lock manager', () => {
  for (const method of ['ats', 'reservation'] as const) {
    it(`${method}: mutual exclusion under every interleaving fast-check tries`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), fc.integer({ min: 2, max: 4 }), async (s, hosts) => {
          expect(await contend(s, method, hosts, 2)).toBe(1);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('ats: mutual exclusion when the target answers MISCOMPARE in descriptor format (72h)', async () => {
    let miscompares = 0;
    const counting = (inner: ScsiTarget): ScsiTarget => {
      const target = descriptorFormat(inner);
      return {
        execute: async (c, d, o) => {
          const r = await target.execute(c, d, o);
          if (r.sense?.[0] === 0x72 && decodeSense(r.sense)?.key === 0x0e) miscompares++;
          return r;
        },
      };
    };
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        expect(await contend(s, 'ats', 3, 2, counting)).toBe(1);
      }),
      { numRuns: 30 },
    );
    expect(miscompares).toBeGreaterThan(0); // the race happened: hosts lost COMPARE AND WRITE and read 72h sense
  });

  it('the property can fail: a "lock" that reads then writes without ATS or a reservation lets two hosts in', async () => {
    // A broken target that turns COMPARE AND WRITE into an unconditional WRITE of its second half.
    const broken = (inner: ScsiTarget): ScsiTarget => ({
      execute: (c, d, o) => (c[0] === 0x89 && d !== undefined ? inner.execute(cdb.write16({ lba: Number(new DataView(c.buffer).getBigUint64(2)), blocks: 1 }), d.subarray(512), o) : inner.execute(c, d, o)),
    });
    const out = await fc.check(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        expect(await contend(s, 'ats', 3, 2, broken)).toBe(1);
      }),
      { numRuns: 100 },
    );
    expect(out.failed).toBe(true);
  });

  it('ATS writes owner and generation; release frees; heartbeats advance', async () => {
    const array = new StorageArray({ capacityBytes: 16 << 20 });
    const lun = array.createLun({ sizeBytes: 16 << 20 });
    const a = new LockManager({ target: lun, hostId: 7, method: 'ats', initiator: 'a', sleep: async () => undefined });
    await a.acquire(3);
    let block = (await lun.execute(cdb.read16({ lba: 3, blocks: 1 }))).data!;
    expect([...block.subarray(0, 12)]).toEqual([0x56, 0x4c, 0x43, 0x4b, 0, 0, 0, 7, 0, 0, 0, 1]);
    expect(a.holds(3)).toBe(true);
    await a.release(3);
    block = (await lun.execute(cdb.read16({ lba: 3, blocks: 1 }))).data!;
    expect([...block.subarray(4, 12)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    await a.heartbeat(100);
    await a.heartbeat(100);
    block = (await lun.execute(cdb.read16({ lba: 100, blocks: 1 }))).data!;
    expect(block[11]).toBe(2);
    expect(a.stats).toMatchObject({ acquisitions: 1, releases: 1, heartbeats: 2, miscompares: 0 });
    // another host overwriting the heartbeat is detected on the next beat
    await lun.execute(cdb.write16({ lba: 100, blocks: 1 }), new Uint8Array(512));
    await expect(a.heartbeat(100)).rejects.toThrow(/overwritten/);
  });

  it('reservation: another host sees RESERVATION CONFLICT while the lock is being taken', async () => {
    const array = new StorageArray({ capacityBytes: 16 << 20 });
    const lun = array.createLun({ sizeBytes: 16 << 20 });
    const seen: number[] = [];
    const spy: ScsiTarget = {
      execute: async (c, d, o) => {
        const r = await lun.execute(c, d, o);
        if (c[0] === 0x28 || c[0] === 0x88) seen.push(r.status);
        if (c[0] === 0x16) seen.push((await lun.execute(cdb.read10({ lba: 999, blocks: 1 }), undefined, { initiator: 'vm-io' })).status);
        return r;
      },
    };
    const a = new LockManager({ target: spy, hostId: 1, method: 'reservation', initiator: 'a', sleep: async () => undefined });
    await a.acquire(5);
    expect(seen[0]).toBe(0x18); // other host's VM I/O while the LUN was reserved
    expect((await lun.execute(cdb.read10({ lba: 999, blocks: 1 }), undefined, { initiator: 'vm-io' })).status).toBe(0);
  });
});
