/**
 * The ALUA SATP against the array's port groups: REPORT TARGET PORT GROUPS (extended header, falling
 * back to length-only), following 06/2A/06, waiting out 02/04/0A with back-off, and explicit
 * activation with SET TARGET PORT GROUPS.
 */
import { describe, expect, it } from 'vitest';
import { type ScsiResult } from '../../../src/index.js';
import { AllPathsDownError, PathClaimError } from '../../../src/host/errors.js';
import { InProcessPath } from '../../../src/host/multipath/in-process-path.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { checkCondition, expectAnswer, readFirst, record, rig, sim, write } from './helpers.js';

describe('claiming', () => {
  it('groups paths by the logical-unit designator and learns each port and group from VPD 83h; TPGS 11b selects the ALUA SATP and MRU', async () => {
    const r = rig([1, 2, 2]);
    r.array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0 });
    expect(d.satp).toBe('alua');
    expect(d.tpgs).toBe(3);
    expect(d.description).toBe(`naa.${Array.from(r.lun.naaDesignator, (b) => b.toString(16).padStart(2, '0')).join('')}`);
    expect(d.paths.map((p) => [p.name, p.state, p.relativePortId, p.groupId, p.aluaState])).toEqual([
      ['p1', 'active', 2, 1, 'active/optimized'],
      ['p2', 'active', 3, 2, 'active/non-optimized'],
      ['p3', 'active', 4, 2, 'active/non-optimized'],
    ]);
    expect(d.currentPath).toBeUndefined();
  });

  it('refuses a path to another logical unit with PathClaimError', async () => {
    const r = rig([1, 2]);
    const other = r.array.createLun({ sizeBytes: 1 << 20 });
    await expect(MultipathDevice.create({ paths: [r.paths[0]!, new InProcessPath(other, r.ports[1]!, { name: 'q' })] })).rejects.toThrow(PathClaimError);
    const d = await MultipathDevice.create({ paths: [r.paths[0]!], checkerIntervalMs: 0 });
    const error = await d.addPath(new InProcessPath(other, r.ports[1]!, { name: 'q' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathClaimError);
    expect((error as PathClaimError).path).toBe('q');
    expect((error as PathClaimError).message).toMatch(/reaches logical unit .* not /);
    expect(d.paths.map((p) => p.name)).toEqual(['p1']);
    await d.addPath({ target: r.paths[1]!, name: 'second' });
    expect(d.paths.map((p) => p.name)).toEqual(['p1', 'second']);
    await expect(d.addPath(r.paths[1]!)).rejects.toThrow(/path p2 cannot be claimed: it is already a path of this device/);
    await expect(d.addPath({ target: new InProcessPath(r.lun, r.ports[0]!), name: 'second' })).rejects.toThrow(/another path has the same name/);
  });

  it('removes a path, and takes a new one to the same logical unit in its place (a session replaced after its portal came back)', async () => {
    const r = rig([1, 2]);
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, policy: { policy: 'fixed', preferred: 'p1' } });
    await sim(r, async () => {
      r.ports[0]!.setLink('down');
      expectAnswer(await write(d, 1, 3), 0);
      expect(d.removePath('p1')).toBe(true);
      expect(d.removePath('p1')).toBe(false);
      expect(() => d.removePath('p2')).toThrow(/path p2 cannot be claimed: it is the device's last path/);
      r.ports[0]!.restore();
      await d.addPath(new InProcessPath(r.lun, r.ports[0]!, { clock: r.clock, name: 'p1-again' }));
      expect(d.paths.map((p) => [p.name, p.state, p.aluaState])).toEqual([
        ['p2', 'active', 'active/optimized'],
        ['p1-again', 'active', 'active/optimized'],
      ]);
    });
  });

  it('refuses a path that cannot be identified (down at claim time)', async () => {
    const r = rig([1, 2]);
    r.ports[1]!.setLink('down');
    await expect(MultipathDevice.create({ paths: r.paths })).rejects.toThrow(/path p2 cannot be claimed: INQUIRY failed/);
  });

  it('reads the groups with the extended header, and with the length-only header from a target that refuses it', async () => {
    const r = rig([1, 2]);
    const asked: number[] = [];
    const refusing = {
      description: 'p1',
      execute: (c: Uint8Array, d?: Uint8Array): Promise<ScsiResult> | ScsiResult => {
        if (c[0] === 0xa3) asked.push(c[1]!);
        return c[0] === 0xa3 && c[1] === 0x2a ? checkCondition(0x05, 0x24, 0x00) : r.paths[0]!.execute(c, d);
      },
    };
    r.array.configureTargetPortGroup(2, { state: 'standby' });
    const d = await MultipathDevice.create({ paths: [refusing, r.paths[1]!], clock: r.clock, checkerIntervalMs: 0 });
    expect(asked).toEqual([0x2a, 0x0a]);
    expect(d.paths.map((p) => p.aluaState)).toEqual(['active/optimized', 'standby']);
    await d.refreshGroups();
    expect(asked).toEqual([0x2a, 0x0a, 0x0a]);
  });
});

describe('following state changes', () => {
  it('06/2A/06: re-reads the groups and moves to the group that became optimized', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0 });
    const log = record(d);
    await sim(r, async () => {
      expectAnswer(await write(d, 1, 1), 0);
      await r.array.setTargetPortGroupState(1, 'active/non-optimized');
      await r.array.setTargetPortGroupState(2, 'active/optimized');
      expectAnswer(await write(d, 1, 2), 0);
    });
    expect(log.filter((e) => e.startsWith('groupStateChanged'))).toEqual([
      'groupStateChanged:{"groupId":1,"from":"active/optimized","to":"active/non-optimized"}',
      'groupStateChanged:{"groupId":2,"from":"active/non-optimized","to":"active/optimized"}',
    ]);
    expect(log.filter((e) => e.startsWith('failover'))).toEqual(['failover:{"from":"p1","to":"p2","opcode":138,"reason":"6/2a/06 ASYMMETRIC_ACCESS_STATE_CHANGED"}']);
    expect(d.currentPath).toBe('p2');
  });

  it('02/04/0A on the only usable group: retried with back-off (100, 200, 400, 800, 1600, 2000 ms ...) until the transition ends', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(2, { state: 'standby' });
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0 });
    const times: number[] = [];
    await sim(r, async () => {
      await r.array.setTargetPortGroupState(1, 'transitioning');
      void r.clock.sleep(4000).then(() => r.array.setTargetPortGroupState(1, 'active/optimized'));
      d.on('groupStateChanged', () => times.push(r.clock.now));
      expectAnswer(await write(d, 5, 0x55), 0);
      // 02/04/0A at 0; RTPG after 100, 300, 700, 1500, 3100 ms says transitioning; after 5100 it is optimized again.
      expect(r.clock.now).toBe(5100);
    });
    expect(await readFirst(r.lun, 5)).toBe(0x55);
    expect(d.stats.failovers).toBe(0);
  });

  it('a transition that outlasts the implicit transition time: the path counts as standby and the device waits as with all paths down', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(1, { implicitTransitionSeconds: 2 });
    r.array.configureTargetPortGroup(2, { state: 'standby' });
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, apdTimeoutMs: 10_000 });
    await sim(r, async () => {
      await r.array.setTargetPortGroupState(1, 'transitioning');
      await expect(write(d, 5, 1)).rejects.toThrow(AllPathsDownError);
      expect(r.clock.now).toBe(12_000);
    });
    expect(d.paths.map((p) => p.state)).toEqual(['standby', 'standby']);
  });

  it('explicit ALUA: with no active group, activateStandby sends SET TARGET PORT GROUPS for a standby group, and the command completes', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(2, { state: 'standby' });
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, activateStandby: true, apdTimeoutMs: 1000 });
    const log = record(d);
    await sim(r, async () => {
      r.ports[0]!.setLink('down');
      expectAnswer(await write(d, 6, 0x66), 0);
      expect(r.clock.now).toBe(0);
    });
    expect(r.array.targetPortGroup(2)!.state).toBe('active/optimized');
    expect(r.array.targetPortGroup(2)!.statusCode).toBe(0x01);
    expect(log).toContain('groupStateChanged:{"groupId":2,"from":"standby","to":"active/optimized"}');
  });

  it('without activateStandby (the default) the standby group is left alone: all paths down', async () => {
    const r = rig([1, 2]);
    r.array.configureTargetPortGroup(2, { state: 'standby' });
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, apdTimeoutMs: 1000 });
    await sim(r, async () => {
      r.ports[0]!.setLink('down');
      await expect(write(d, 6, 1)).rejects.toThrow(AllPathsDownError);
    });
    expect(r.array.targetPortGroup(2)!.state).toBe('standby');
  });

  it('activateStandby does nothing where the groups do not allow explicit ALUA (TPGS 01b)', async () => {
    const r = rig([1, 2]);
    for (const g of [0, 1]) r.array.configureTargetPortGroup(g, { explicitAllowed: false });
    r.array.configureTargetPortGroup(2, { state: 'standby', explicitAllowed: false });
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, activateStandby: true, apdTimeoutMs: 1000 });
    expect(d.tpgs).toBe(1);
    await sim(r, async () => {
      r.ports[0]!.setLink('down');
      await expect(write(d, 6, 1)).rejects.toThrow(AllPathsDownError);
    });
    expect(r.array.targetPortGroup(2)!.state).toBe('standby');
  });
});
