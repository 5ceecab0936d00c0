/**
 * A multipath device over two iSCSI sessions, one per portal of a vaai-sim server (each portal a
 * target port in its own target port group): claimed as one device, failing over when a portal's
 * link goes down under a clone, and following an implicit ALUA change. Nothing here waits on a timer:
 * a link that goes down drops its connection at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, type Lun } from '../../../src/index.js';
import { IscsiServer, IscsiSession } from '../../../src/iscsi/index.js';
import { cloneRange } from '../../../src/host/data-mover.js';
import { LockManager } from '../../../src/host/lock-manager.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import type { ScsiTarget } from '../../../src/host/target.js';

const T = 'iqn.2026-11.dev.vaai-sim:multipath';
const HOST = 'iqn.2026-11.dev.vaai-sim:multipath-host';
const MiB = 1024 * 1024;

async function image(lun: Lun, lba: number, blocks: number): Promise<Uint8Array> {
  let r = await lun.execute(cdb.read16({ lba, blocks }), undefined, { initiator: 'observer' });
  // The observer's own nexus holds the unit attentions of the state changes: read past them.
  for (let i = 0; i < 3 && r.status === 2; i++) r = await lun.execute(cdb.read16({ lba, blocks }), undefined, { initiator: 'observer' });
  return r.data!.slice();
}

/** Waits, one event-loop turn at a time (at most 2000 turns), until `done()`; false if it never is. */
async function until(done: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 2000; i++) {
    if (await done()) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

describe('multipath over iSCSI portals', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun = array.createLun({ sizeBytes: 64 * MiB, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun] }], portals: [{ port: 0, targetPortGroup: 1 }, { port: 0, targetPortGroup: 2 }] });
  const sessions: IscsiSession[] = [];
  let isid = 0;
  const connect = async (portal: number): Promise<IscsiSession> => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port: server.portals[portal]!.port, targetName: T, initiatorName: HOST, isid: Uint8Array.of(0x80, 0x4d, 0x50, 0x49, 0, ++isid) });
    sessions.push(s);
    return s;
  };
  const port = (portal: number) => server.targetPort(T, portal)!;

  beforeAll(async () => {
    await server.listen();
    const seed = new Uint8Array(8 * MiB);
    for (let i = 0; i < seed.length; i++) seed[i] = (i * 7 + (i >> 9)) & 0xff;
    await lun.execute(cdb.write16({ lba: 0, blocks: seed.length / 512 }), seed);
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await server.close();
  });

  it('two sessions to two portals are one ALUA device; a portal whose link goes down half-way through a clone is failed over and the clone is whole', async () => {
    for (const p of [0, 1]) port(p).restore();
    array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
    const [a, b] = [await connect(0), await connect(1)];
    let commands = 0;
    // Portal 1's link goes down as the 20th command through it is sent.
    const first: ScsiTarget = {
      description: 'portal1',
      execute: (c, d, o) => {
        if (++commands === 20) port(0).setLink('down');
        return a.lun(0).execute(c, d, o);
      },
    };
    const device = await MultipathDevice.create({ paths: [first, { target: b.lun(0), name: 'portal2' }], checkerIntervalMs: 0 });
    expect(device.satp).toBe('alua');
    expect(device.paths.map((p) => [p.name, p.groupId, p.aluaState])).toEqual([
      ['portal1', 1, 'active/optimized'],
      ['portal2', 2, 'active/non-optimized'],
    ]);
    const report = await cloneRange({ source: device, sourceLba: 0, destinationLba: 32768, blocks: 16384, transferBytes: 256 * 1024 });
    expect(report.bytes).toBe(8 * MiB);
    expect(Buffer.compare(await image(lun, 32768, 16384), await image(lun, 0, 16384))).toBe(0);
    expect(device.paths.map((p) => p.state)).toEqual(['dead', 'active']);
    expect(device.stats.failovers).toBeGreaterThan(0);
    expect(device.paths[1]!.stats.commands).toBeGreaterThan(0);
    await device.close();
  });

  it("the replay rule over iSCSI: the lock manager's COMPARE AND WRITE executes and its answer dies with the connection; not replayed, the lock manager reads the block and holds the lock", async () => {
    for (const p of [0, 1]) port(p).restore();
    array.configureTargetPortGroup(1, { state: 'active/optimized' });
    array.configureTargetPortGroup(2, { state: 'active/optimized' });
    const [a, b] = [await connect(0), await connect(1)];
    // Portal 1 holds what it sends from the moment a COMPARE AND WRITE goes through it.
    const first: ScsiTarget = {
      description: 'portal1',
      execute: (c, d, o) => {
        if (c[0] === 0x89) port(0).setLatency(60_000);
        return a.lun(0).execute(c, d, o);
      },
    };
    const device = await MultipathDevice.create({ paths: [first, { target: b.lun(0), name: 'portal2' }], checkerIntervalMs: 0, policy: { policy: 'fixed', preferred: 'portal1' } });
    const locks = new LockManager({ target: device, hostId: 5, method: 'ats', sleep: async () => undefined });
    const acquired = locks.acquire(90000);
    // The array has executed it (the lock block names host 5); then the link goes down with the answer held.
    expect(await until(async () => (await image(lun, 90000, 1))[7] === 5)).toBe(true);
    port(0).setLink('down');
    await acquired;
    expect(locks.holds(90000)).toBe(true);
    expect(locks.stats).toMatchObject({ acquisitions: 1, miscompares: 0 });
    expect(device.stats.outcomeUnknown).toBe(1);
    expect(device.paths.map((p) => p.state)).toEqual(['dead', 'active']);
    // A blind replay of that COMPARE AND WRITE would now miscompare: the block no longer holds the free image.
    const replay = new Uint8Array(1024);
    expect((await device.execute(cdb.compareAndWrite({ lba: 90000, blocks: 1 }), replay)).status).toBe(2);
    await locks.release(90000);
    await device.close();
  });

  it('an implicit ALUA change reaches the device as 06/2A/06 over iSCSI: it re-reads the groups and moves to the optimized portal', async () => {
    for (const p of [0, 1]) port(p).restore();
    array.configureTargetPortGroup(1, { state: 'active/optimized' });
    array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
    const [a, b] = [await connect(0), await connect(1)];
    const device = await MultipathDevice.create({ paths: [{ target: a.lun(0), name: 'portal1' }, { target: b.lun(0), name: 'portal2' }], checkerIntervalMs: 0 });
    const failovers: string[] = [];
    device.on('failover', (e) => failovers.push(`${e.from}->${e.to} ${e.reason}`));
    expect((await device.execute(cdb.write16({ lba: 70000, blocks: 1 }), new Uint8Array(512).fill(1))).status).toBe(0);
    await array.setTargetPortGroupState(1, 'standby');
    await array.setTargetPortGroupState(2, 'active/optimized');
    expect((await device.execute(cdb.write16({ lba: 70000, blocks: 1 }), new Uint8Array(512).fill(2))).status).toBe(0);
    expect(failovers).toEqual(['portal1->portal2 6/2a/06 ASYMMETRIC_ACCESS_STATE_CHANGED']);
    expect(device.paths.map((p) => [p.state, p.aluaState])).toEqual([['standby', 'standby'], ['active', 'active/optimized']]);
    expect((await image(lun, 70000, 1))[0]).toBe(2);
    await device.close();
  });
});
