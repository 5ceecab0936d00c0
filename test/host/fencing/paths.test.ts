/**
 * PR fencing over several I_T nexuses per node: a multipath device over two target ports
 * (registration per path, and once with ALL_TG_PT), and nodes over iSCSI sessions to an
 * `IscsiServer`. The fenced node's writes are refused down every path; the survivor's are not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, type Lun } from '../../../src/index.js';
import { IscsiServer, IscsiSession } from '../../../src/iscsi/index.js';
import { PrFencingNode, type RegistrationMode } from '../../../src/host/fencing.js';
import { InProcessPath } from '../../../src/host/multipath/in-process-path.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { LockManager } from '../../../src/host/lock-manager.js';
import { NodeFencedError } from '../../../src/host/errors.js';
import { blockByte, drainUnitAttentions, expectStatus, writeBlock } from './helpers.js';

const MiB = 1024 * 1024;

describe('PR fencing over a multipath device with two paths', () => {
  for (const registration of ['per-path', 'all-tg-pt'] as RegistrationMode[]) {
    it(`${registration}: each node is registered through both target ports; the fenced node is refused down both paths and through the device`, async () => {
      const array = new StorageArray({ capacityBytes: 1 << 30 });
      const lun: Lun = array.createLun({ sizeBytes: 64 * MiB });
      const ports = [1, 2].map((i) => array.addTargetPort({ name: `iqn.2026-11.test:array,t,0x000${i}` }));
      const devices: MultipathDevice[] = [];
      const node = async (name: string, key: number) => {
        const paths = ports.map((p, i) => new InProcessPath(lun, p, { initiator: name, name: `${name}-path${i + 1}` }));
        const device = await MultipathDevice.create({ paths, satp: 'default', policy: { policy: 'round-robin', iops: 1 }, checkerIntervalMs: 0 });
        devices.push(device);
        return { paths, device, fencing: new PrFencingNode({ target: device, paths, key, registration, name }) };
      };
      try {
        const a = await node('iqn.2026-11.test:node-a', 0xa);
        const b = await node('iqn.2026-11.test:node-b', 0xb);
        const commands: number[] = [];
        a.fencing.on('registered', (e) => commands.push(e.commands));
        expect(await a.fencing.join()).toBe(0xan);
        expect(await b.fencing.join()).toBe(0xan);
        expect(commands).toEqual([registration === 'per-path' ? 2 : 1]);
        // One registration per I_T nexus: per path, the node's two paths; with ALL_TG_PT (SPC-4 6.14.3), every
        // target port that admits the initiator, the array's default port 0 included: three.
        const per = registration === 'per-path' ? 2 : 3;
        expect((await b.fencing.readKeys()).keys).toEqual([...Array<bigint>(per).fill(0xan), ...Array<bigint>(per).fill(0xbn)]);
        for (const p of [...a.paths, ...b.paths]) expectStatus(await writeBlock(p, 7, 0x70), 0);

        const report = await b.fencing.fence(0xa);
        expect(report).toMatchObject({ victim: 0xan, tookReservation: true });
        expect((await b.fencing.readKeys()).keys).toEqual(Array<bigint>(per).fill(0xbn));
        for (const p of a.paths) {
          await drainUnitAttentions(p);
          expectStatus(await writeBlock(p, 7, 0xaa), 0x18);
        }
        expectStatus(await writeBlock(a.device, 7, 0xaa), 0x18);
        for (const p of b.paths) {
          await drainUnitAttentions(p);
          expectStatus(await writeBlock(p, 7, 0xbb), 0);
        }
        expect(await blockByte(lun, 7)).toBe(0xbb);
        // The survivor's lock manager over its device, round-robin across both paths.
        const locks = new LockManager({ target: b.device, hostId: 2, method: 'ats', sleep: () => Promise.resolve() });
        await locks.acquire(500);
        await locks.release(500);
        expect(locks.stats.acquisitions).toBe(1);
        // Coming back: a's registration through every path, then its writes are GOOD again down both.
        await a.fencing.register();
        for (const p of a.paths) expectStatus(await writeBlock(p, 8, 0xa8), 0);
      } finally {
        for (const d of devices) await d.close();
      }
    });
  }
});

describe('why every path is registered', () => {
  it('a node registered down one path of two is refused down the other once a reservation of type 5h stands', async () => {
    const array = new StorageArray({ capacityBytes: 1 << 30 });
    const lun: Lun = array.createLun({ sizeBytes: 64 * MiB });
    const ports = [1, 2].map((i) => array.addTargetPort({ name: `iqn.2026-11.test:array,t,0x000${i}` }));
    const paths = ports.map((p, i) => new InProcessPath(lun, p, { initiator: 'iqn.2026-11.test:one-path', name: `path${i + 1}` }));
    const half = new PrFencingNode({ target: paths[0]!, paths: [paths[0]!], key: 0xc });
    expect(await half.join()).toBe(0xcn);
    expectStatus(await writeBlock(paths[0]!, 9, 0x91), 0);
    expectStatus(await writeBlock(paths[1]!, 9, 0x92), 0x18);
    expect(await blockByte(lun, 9)).toBe(0x91);
  });
});

describe('PR fencing over iSCSI', () => {
  const T = 'iqn.2026-11.dev.vaai-sim:fencing';
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun = array.createLun({ sizeBytes: 64 * MiB, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun] }], port: 0 });
  const sessions: IscsiSession[] = [];
  const connect = async (initiatorName: string): Promise<IscsiSession> => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port: server.portals[0]!.port, targetName: T, initiatorName });
    sessions.push(s);
    return s;
  };
  beforeAll(async () => {
    await server.listen();
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await server.close();
  });

  it('two nodes over their own sessions: the survivor preempts the holder; the failed node is refused, and a new session of it must register before writing', async () => {
    const sa = await connect('iqn.2026-11.test:iscsi-a');
    const sb = await connect('iqn.2026-11.test:iscsi-b');
    const a = new PrFencingNode({ target: sa.lun(0), key: 0x1a });
    const b = new PrFencingNode({ target: sb.lun(0), key: 0x1b });
    expect(await a.join()).toBe(0x1an);
    expect(await b.join()).toBe(0x1an);
    expectStatus(await writeBlock(sa.lun(0), 3, 0xa3), 0);
    expect(await b.fence(0x1a)).toMatchObject({ victim: 0x1an, tookReservation: true, aborted: true });
    expect(await a.readReservation()).toEqual({ key: 0x1bn, type: 5 });
    await drainUnitAttentions(sa.lun(0));
    expectStatus(await writeBlock(sa.lun(0), 3, 0x33), 0x18);
    await expect(a.fence(0x1b)).rejects.toThrow(NodeFencedError);
    expectStatus(await writeBlock(sb.lun(0), 3, 0xb3), 0);
    expect(await blockByte(lun, 3)).toBe(0xb3);

    // The failed node reboots: a new session (a new I_T nexus) is not registered and cannot write.
    await sa.close();
    const sa2 = await connect('iqn.2026-11.test:iscsi-a');
    const a2 = new PrFencingNode({ target: sa2.lun(0), key: 0x1a });
    await drainUnitAttentions(sa2.lun(0));
    expectStatus(await writeBlock(sa2.lun(0), 4, 0xa4), 0x18);
    expect(await a2.join()).toBe(0x1bn);
    expectStatus(await writeBlock(sa2.lun(0), 4, 0xa4), 0);
    expect(await blockByte(lun, 4)).toBe(0xa4);
  });
});
