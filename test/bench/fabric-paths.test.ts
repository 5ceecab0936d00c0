/**
 * Fabric paths (what the multipath benchmark runs on): each path is host port -> its own link ->
 * one target port, so transfers over two paths overlap where two over one path queue; the path's
 * nexus is the target port's (its group's ALUA state applies); the port's link faults behave as a
 * transport's. Simulated time only, with a model whose figures make the arithmetic exact.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense, type ScsiResult } from '../../src/index.js';
import { Fabric } from '../../src/host/fabric.js';
import { PathTransportError } from '../../src/host/errors.js';

const BLOCKS = 2000; // 1,024,000 bytes: 1024 ms on a 1 MB/s link
const BYTES = BLOCKS * 512;

/** 1 MB/s links, 2 ms round trip; array and host CPU next to free. */
function setup(groups: readonly number[] = [1, 1]) {
  const array = new StorageArray({ capacityBytes: 64 << 20 });
  const lun = array.createLun({ sizeBytes: 16 << 20 });
  const ports = groups.map((g, i) => array.addTargetPort({ name: `iqn.2026-11.test:array,t,0x000${i + 2}`, relativeId: i + 2, groupId: g }));
  const fabric = new Fabric(array, { linkBytesPerSecond: 1e6, commandLatencyMs: 2, arrayMediaBytesPerSecond: 1e15, hostCpuPerCommandUs: 1e-9, hostCpuPerByteNs: 1e-12, queueDepth: 8 });
  const host = fabric.host('iqn.2026-11.test:host');
  const paths = ports.map((p, i) => host.path(lun, p, { name: `path${i + 1}` }));
  return { array, lun, ports, fabric, host, paths };
}

const read = () => cdb.read16({ lba: 0, blocks: BLOCKS });

describe('fabric paths: one link each', () => {
  it('two reads over two paths overlap (2 ms + 1024 ms each); over one path the second queues behind the first on its link', async () => {
    const two = setup();
    const ends2: number[] = [];
    await two.fabric.clock.run(async () => {
      await Promise.all(two.paths.map(async (p) => {
        expect((await p.execute(read())).status).toBe(0);
        ends2.push(two.fabric.clock.now);
      }));
    });
    expect(ends2.map((t) => Math.round(t))).toEqual([1026, 1026]);
    const one = setup();
    const ends1: number[] = [];
    await one.fabric.clock.run(async () => {
      await Promise.all([0, 1].map(async () => {
        expect((await one.paths[0]!.execute(read())).status).toBe(0);
        ends1.push(one.fabric.clock.now);
      }));
    });
    expect(ends1.map((t) => Math.round(t))).toEqual([1026, 2050]);
    expect(one.paths[0]!.linkBusyMs.rx).toBeCloseTo(2048, 6);
    expect(one.paths[1]!.linkBusyMs.rx).toBe(0);
    // Writes use the other direction of the same link.
    const w = setup();
    await w.fabric.clock.run(async () => {
      await Promise.all([0, 1].map(() => w.paths[1]!.execute(cdb.write16({ lba: 0, blocks: BLOCKS }), new Uint8Array(BYTES))));
    });
    expect(w.paths[1]!.linkBusyMs).toEqual({ tx: 2048, rx: 0 });
    expect(w.host.stats).toMatchObject({ commands: 2, fabricBytes: 2 * BYTES });
  });

  it('a path may have a link of its own bandwidth', async () => {
    const r = setup([1]);
    const fast = r.host.path(r.lun, r.ports[0]!, { linkBytesPerSecond: 4e6, name: 'fast' });
    expect(fast.linkBytesPerSecond).toBe(4e6);
    expect(fast.description).toBe('fast');
    await r.fabric.clock.run(async () => expect((await fast.execute(read())).status).toBe(0));
    expect(Math.round(r.fabric.clock.now)).toBe(258);
    expect(() => r.host.path(r.lun, r.ports[0]!, { linkBytesPerSecond: 0 })).toThrow(/linkBytesPerSecond must be a positive number/);
    expect(() => r.host.path(r.lun, r.ports[0]!, { speed: 1 } as never)).toThrow(/FabricHost\.path.*speed/);
    expect(r.paths[0]!.description).toBe('path1');
    expect(r.host.path(r.lun, r.ports[0]!).description).toBe('iqn.2026-11.test:host->iqn.2026-11.test:array,t,0x0002');
  });

  it("commands arrive on the path's nexus: a standby group refuses through its port (02/04/0B), the other port serves", async () => {
    const r = setup([1, 2]);
    await r.array.setTargetPortGroupState(1, 'standby');
    expect(r.paths[0]!.nexus.target).toBe(r.ports[0]);
    const answers: ScsiResult[] = [];
    await r.fabric.clock.run(async () => {
      for (const p of r.paths) {
        let a = await p.execute(read());
        // The first command on a new nexus may meet the unit attention of the change.
        if (a.status === 2 && decodeSense(a.sense)?.key === 6) a = await p.execute(read());
        answers.push(a);
      }
    });
    const s = decodeSense(answers[0]!.sense)!;
    expect([answers[0]!.status, s.key, s.asc, s.ascq]).toEqual([2, 2, 0x04, 0x0b]);
    expect(answers[1]!.status).toBe(0);
  });

  it("the port's link: down refuses at once (not sent), loses an answer under way (sent); a black hole never answers; latency delays the answer", async () => {
    const r = setup([1]);
    const p = r.paths[0]!;
    const clock = r.fabric.clock;
    await clock.run(async () => {
      r.ports[0]!.setLink('down');
      const refused = await p.execute(read()).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PathTransportError);
      expect(refused).toMatchObject({ kind: 'down', sent: false, path: 'path1' });
      expect(clock.now).toBe(0);
      r.ports[0]!.restore();
      // Down while the Data-In is on the link: the array executed the read, its answer is lost.
      const under = p.execute(read()).catch((e: unknown) => e);
      await clock.sleep(500);
      r.ports[0]!.setLink('down');
      expect(await under).toMatchObject({ kind: 'down', sent: true });
      r.ports[0]!.restore();
      r.ports[0]!.setLink('black-hole');
      let answered = false;
      void p.execute(read()).then(() => (answered = true));
      await clock.sleep(60_000);
      expect(answered).toBe(false);
      r.ports[0]!.restore();
      r.ports[0]!.setLatency(40);
      const start = clock.now;
      expect((await p.execute(cdb.testUnitReady())).status).toBe(0);
      expect(clock.now - start).toBeCloseTo(42, 6);
    });
    // The black-holed and the refused commands never took a queue slot for good: a full queue of reads still runs.
    await clock.run(async () => {
      const rs = await Promise.all(Array.from({ length: 8 }, () => p.execute(cdb.read16({ lba: 0, blocks: 1 }))));
      expect(rs.map((x) => x.status)).toEqual(Array(8).fill(0));
    });
  });
});
