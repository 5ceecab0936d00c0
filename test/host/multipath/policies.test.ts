/** Path selection policies: Fixed (with failback), Most Recently Used, Round Robin by commands and by bytes. */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../../src/index.js';
import { MultipathDevice, type MultipathDeviceOptions } from '../../../src/host/multipath/device.js';
import { rig, sim, write, type Rig } from './helpers.js';

/** Which path carried each of `n` one-block WRITEs (the path whose WRITE count grew). */
async function pathsOf(d: MultipathDevice, n: number, blocks = 1): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const before = d.paths.map((p) => p.stats.bytesOut);
    expect((await d.execute(cdb.write16({ lba: i % 64, blocks }), new Uint8Array(512 * blocks))).status).toBe(0);
    out.push(d.paths.filter((p, j) => p.stats.bytesOut !== before[j]).map((p) => p.name).join('+'));
  }
  return out;
}

async function make(r: Rig, options: Partial<MultipathDeviceOptions>): Promise<MultipathDevice> {
  return await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, ...options });
}

describe('path selection: Fixed', () => {
  it('uses the preferred path, fails over when it dies, and fails back when the checker finds it up again', async () => {
    const r = rig([1, 1, 1]);
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'fixed', preferred: 'p2' } });
      expect(await pathsOf(d, 3)).toEqual(['p2', 'p2', 'p2']);
      r.ports[1]!.setLink('down');
      expect(await pathsOf(d, 2)).toEqual(['p1', 'p1']);
      r.ports[1]!.restore();
      expect(await pathsOf(d, 1)).toEqual(['p1']); // dead until checked
      await d.checkPaths();
      expect(await pathsOf(d, 2)).toEqual(['p2', 'p2']);
    });
  });

  it('without a preference, the first path claimed', async () => {
    const r = rig([1, 1]);
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'fixed' } });
      expect(await pathsOf(d, 2)).toEqual(['p1', 'p1']);
      expect(d.currentPath).toBe('p1');
    });
  });

  it('with ALUA, a preferred path in an active/non-optimized group is passed over while an optimized path is usable', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(1, { state: 'active/non-optimized' });
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'fixed', preferred: 'p1' } });
      expect(await pathsOf(d, 2)).toEqual(['p2', 'p2']);
    });
  });

  it('is the default policy of the default SATP', async () => {
    const r = rig([1, 1]);
    await sim(r, async () => {
      const d = await make(r, { satp: 'default' });
      r.ports[0]!.setLink('down');
      expect(await pathsOf(d, 1)).toEqual(['p2']);
      r.ports[0]!.restore();
      await d.checkPaths();
      expect(await pathsOf(d, 1)).toEqual(['p1']);
    });
  });
});

describe('path selection: Most Recently Used (the ALUA default)', () => {
  it('stays on the path it moved to when the first one returns', async () => {
    const r = rig([1, 1]);
    await sim(r, async () => {
      const d = await make(r, {});
      expect(await pathsOf(d, 2)).toEqual(['p1', 'p1']);
      r.ports[0]!.setLink('down');
      expect(await pathsOf(d, 1)).toEqual(['p2']);
      r.ports[0]!.restore();
      await d.checkPaths();
      expect(d.paths.map((p) => p.state)).toEqual(['active', 'active']);
      expect(await pathsOf(d, 2)).toEqual(['p2', 'p2']);
    });
  });

  it('uses an active/non-optimized path only when no optimized path is left, and moves to an optimized one when it appears', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(1, { state: 'active/non-optimized' });
    await sim(r, async () => {
      const d = await make(r, {});
      expect(await pathsOf(d, 1)).toEqual(['p2']);
      r.ports[1]!.setLink('down');
      expect(await pathsOf(d, 2)).toEqual(['p1', 'p1']);
      r.ports[1]!.restore();
      await d.checkPaths();
      expect(await pathsOf(d, 1)).toEqual(['p2']);
    });
  });
});

describe('path selection: Round Robin', () => {
  it("ESXi's default: 1000 commands per path", async () => {
    const r = rig([1, 1]);
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'round-robin' } });
      const used = await pathsOf(d, 2001);
      expect([used.filter((p) => p === 'p1').length, used.filter((p) => p === 'p2').length]).toEqual([1001, 1000]);
      expect([used[999], used[1000], used[1999], used[2000]]).toEqual(['p1', 'p2', 'p2', 'p1']);
    });
  });

  it('iops = 1 alternates every command over every optimized path, not the non-optimized one', async () => {
    const r = rig([1, 1, 2]);
    r.array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'round-robin', iops: 1 } });
      expect(await pathsOf(d, 5)).toEqual(['p1', 'p2', 'p1', 'p2', 'p1']);
    });
  });

  it('useANO adds the non-optimized paths to the rotation', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'round-robin', iops: 1, useANO: true } });
      expect(await pathsOf(d, 4)).toEqual(['p1', 'p2', 'p1', 'p2']);
    });
  });

  it("bytes: switches once a path has carried that many bytes (ESXi's 10 MiB default)", async () => {
    const r = rig([1, 1]);
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'round-robin', type: 'bytes' } });
      // 64 KiB writes: 160 of them make 10 MiB.
      const used = await pathsOf(d, 321, 128);
      expect([used[159], used[160], used[319], used[320]]).toEqual(['p1', 'p2', 'p2', 'p1']);
    });
  });

  it('bytes = 1024: two one-block writes per path', async () => {
    const r = rig([1, 1, 1]);
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'round-robin', type: 'bytes', bytes: 1024 } });
      expect(await pathsOf(d, 7)).toEqual(['p1', 'p1', 'p2', 'p2', 'p3', 'p3', 'p1']);
    });
  });

  it('bytes counts Data-In too: 2 KiB reads switch every other command at bytes = 4096', async () => {
    const r = rig([1, 1]);
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'round-robin', type: 'bytes', bytes: 4096 } });
      const used: string[] = [];
      for (let i = 0; i < 6; i++) {
        const before = d.paths.map((p) => p.stats.bytesIn);
        expect((await d.execute(cdb.read16({ lba: 0, blocks: 4 }))).status).toBe(0);
        used.push(d.paths.find((p, j) => p.stats.bytesIn !== before[j])!.name);
      }
      expect(used).toEqual(['p1', 'p1', 'p2', 'p2', 'p1', 'p1']);
    });
  });

  it('skips a dead path and takes it back once it is up', async () => {
    const r = rig([1, 1, 1]);
    await sim(r, async () => {
      const d = await make(r, { policy: { policy: 'round-robin', iops: 1 } });
      r.ports[1]!.setLink('down');
      expect(await pathsOf(d, 4)).toEqual(['p1', 'p3', 'p1', 'p3']);
      r.ports[1]!.restore();
      await d.checkPaths();
      expect(await pathsOf(d, 3)).toEqual(['p1', 'p2', 'p3']);
    });
  });
});

describe('policy options', () => {
  it('are checked', async () => {
    const r = rig([1]);
    await expect(MultipathDevice.create({ paths: r.paths, policy: { policy: 'round-robin', iops: 0 } })).rejects.toThrow(/iops must be an integer/);
    await expect(MultipathDevice.create({ paths: r.paths, policy: { policy: 'lru' } as never })).rejects.toThrow(/policy must be one of 'fixed', 'mru', 'round-robin'/);
    await expect(MultipathDevice.create({ paths: [] })).rejects.toThrow(/at least 1/);
    await expect(MultipathDevice.create({ paths: r.paths, apdTimeoutMs: -1 })).rejects.toThrow(/apdTimeoutMs/);
  });
});

void write;
