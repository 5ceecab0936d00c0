/**
 * All paths down (commands wait for a path up to the APD timeout, then AllPathsDownError), permanent
 * device loss (05/25/00 on every path: PermanentDeviceLossError at once), and the path checker.
 */
import { describe, expect, it } from 'vitest';
import { AllPathsDownError, PermanentDeviceLossError } from '../../../src/host/errors.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { checkCondition, expectAnswer, readFirst, record, rig, ScriptedPath, sim, write } from './helpers.js';

describe('all paths down (APD)', () => {
  it("waits for a path: the checker finds one back within the APD timeout and the command completes (ESXi's 140 s default)", async () => {
    const r = rig([1, 1]);
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 5000 });
    const log = record(d);
    await sim(r, async () => {
      for (const p of r.ports) p.setLink('down');
      void r.clock.sleep(100_000).then(() => r.ports[1]!.restore());
      expectAnswer(await write(d, 2, 0x42), 0);
      // Back at 100 s; the checker's round at 100 s runs after the restore (scheduled later), so it finds p2.
      expect(r.clock.now).toBe(100_000);
      await d.close();
    });
    expect(await readFirst(r.lun, 2)).toBe(0x42);
    expect(log.filter((e) => e.startsWith('allPathsDown') || e.startsWith('pathsRestored'))).toEqual(['allPathsDown:{"since":0}', 'pathsRestored:{"downMs":100000}']);
  });

  it('fails with AllPathsDownError at exactly the APD timeout, for every waiting command, and at once after it', async () => {
    const r = rig([1, 1]);
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 5000, apdTimeoutMs: 20_000 });
    await sim(r, async () => {
      for (const p of r.ports) p.setLink('down');
      const first = write(d, 2, 1).then(() => 'completed', (e: unknown) => e);
      await r.clock.sleep(7000);
      const second = write(d, 3, 1).then(() => 'completed', (e: unknown) => e);
      const [a, b] = await Promise.all([first, second]);
      expect(a).toBeInstanceOf(AllPathsDownError);
      expect(b).toBeInstanceOf(AllPathsDownError);
      expect((a as AllPathsDownError).waitedMs).toBe(20_000);
      expect(r.clock.now).toBe(20_000);
      await expect(write(d, 4, 1)).rejects.toThrow(AllPathsDownError);
      expect(r.clock.now).toBe(20_000);
      await d.close();
    });
    expect(d.stats.apdTimeouts).toBe(3);
    expect(await readFirst(r.lun, 2)).toBe(0);
  });

  it('a black hole on every path: each command is given up after its timeout, then waits out the APD timeout', async () => {
    const r = rig([1, 1]);
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, commandTimeoutMs: 3000, apdTimeoutMs: 10_000 });
    await sim(r, async () => {
      for (const p of r.ports) p.setLink('black-hole');
      await expect(write(d, 2, 1)).rejects.toThrow(AllPathsDownError);
      // p1 times out at 3 s, p2 at 6 s, then the device is without a path from 6 s: 16 s.
      expect(r.clock.now).toBe(16_000);
    });
  });
});

describe('permanent device loss (PDL)', () => {
  it('05/25/00 on every path fails the command at once with PermanentDeviceLossError, and every later one', async () => {
    const r = rig([1, 1]);
    const scripted = r.paths.map((p) => new ScriptedPath(p));
    const d = await MultipathDevice.create({ paths: scripted, clock: r.clock, checkerIntervalMs: 5000 });
    const log = record(d);
    await sim(r, async () => {
      for (const s of scripted) s.answer(checkCondition(0x05, 0x25, 0x00), 100, true);
      await expect(write(d, 2, 1)).rejects.toThrow(PermanentDeviceLossError);
      expect(r.clock.now).toBe(0);
      await expect(write(d, 2, 1)).rejects.toThrow(PermanentDeviceLossError);
      await d.close();
    });
    expect(d.lost).toBe(true);
    expect(log.at(-1)).toMatch(/^deviceLost:/);
  });

  it('05/25/00 on one path only: that path is dead, the command completes on the other', async () => {
    const r = rig([1, 1]);
    const scripted = r.paths.map((p) => new ScriptedPath(p));
    const d = await MultipathDevice.create({ paths: scripted, clock: r.clock, checkerIntervalMs: 0 });
    await sim(r, async () => {
      scripted[0]!.answer(checkCondition(0x05, 0x25, 0x00));
      expectAnswer(await write(d, 2, 9), 0);
    });
    expect(d.lost).toBe(false);
    expect(d.paths.map((p) => p.state)).toEqual(['dead', 'active']);
  });
});

describe('path checker', () => {
  it('sends TEST UNIT READY down every path (dead ones too) every interval', async () => {
    const r = rig([1, 1]);
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 2000 });
    await sim(r, async () => {
      r.ports[1]!.setLink('down');
      await r.clock.sleep(6500);
      await d.close();
    });
    expect(d.paths.map((p) => [p.state, p.stats.checks])).toEqual([['active', 3], ['dead', 3]]);
  });

  it('a black-holed path is found dead by the checker after the command timeout', async () => {
    const r = rig([1, 1]);
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 1000, commandTimeoutMs: 500 });
    const log = record(d);
    await sim(r, async () => {
      r.ports[0]!.setLink('black-hole');
      await r.clock.sleep(1600);
      await d.close();
    });
    expect(log).toEqual(['pathStateChanged:{"path":"p1","from":"active","to":"dead","reason":"checker: path p1: no answer within the command timeout (the command may have executed)"}']);
  });

  const VERDICTS: ReadonlyArray<readonly [string, ReturnType<typeof checkCondition> | { status: 0x08 | 0x18 | 0x28 }, string]> = [
    ['GOOD', { status: 0x00 as 0x08 }, 'active'],
    ['BUSY', { status: 0x08 }, 'dead'],
    ['RESERVATION CONFLICT', { status: 0x18 }, 'active'],
    ['TASK SET FULL', { status: 0x28 }, 'dead'],
    ['02/04/0B standby', checkCondition(0x02, 0x04, 0x0b), 'standby'],
    ['02/04/0C unavailable', checkCondition(0x02, 0x04, 0x0c), 'dead'],
    ['02/04/12 offline', checkCondition(0x02, 0x04, 0x12), 'dead'],
    ['02/04/03 manual intervention', checkCondition(0x02, 0x04, 0x03), 'dead'],
    ['05/25/00 not supported', checkCondition(0x05, 0x25, 0x00), 'dead'],
    ['03/11/00 medium error', checkCondition(0x03, 0x11, 0x00), 'dead'],
    ['06/29/00 then GOOD (a unit attention is retried)', checkCondition(0x06, 0x29, 0x00), 'active'],
  ];
  for (const [name, answer, state] of VERDICTS) {
    it(`maps TEST UNIT READY ${name} to ${state} (default SATP, the tur checker's mapping)`, async () => {
      const r = rig([1, 1]);
      const scripted = r.paths.map((p) => new ScriptedPath(p));
      const d = await MultipathDevice.create({ paths: scripted, clock: r.clock, checkerIntervalMs: 0, satp: 'default' });
      await sim(r, async () => {
        scripted[0]!.answer(answer);
        await d.checkPaths();
      });
      expect(d.paths.map((p) => p.state)).toEqual([state, 'active']);
    });
  }

  it('02/04/0A: the path is in transition: it stays active while the transition time lasts, then counts as standby', async () => {
    const r = rig([1, 1]);
    const scripted = r.paths.map((p) => new ScriptedPath(p));
    const d = await MultipathDevice.create({ paths: scripted, clock: r.clock, checkerIntervalMs: 0, satp: 'default', transitionTimeoutMs: 3000 });
    await sim(r, async () => {
      scripted[0]!.answer(checkCondition(0x02, 0x04, 0x0a));
      await d.checkPaths();
      expect(d.paths.map((p) => p.state)).toEqual(['active', 'active']);
      await r.clock.sleep(3000);
      expect(d.paths.map((p) => p.state)).toEqual(['standby', 'active']);
      await d.checkPaths();
      expect(d.paths.map((p) => p.state)).toEqual(['active', 'active']);
    });
  });
});
