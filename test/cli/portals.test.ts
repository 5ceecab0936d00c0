/**
 * `serve --portals N` and the config's `portals` and `targetPortGroups` (issue 13): every target on
 * each portal, portal 1 in target port group 1 (active/optimized) and the others in group 2
 * (active/non-optimized) unless the file says otherwise; one URL per portal and LUN, the first
 * portal's first.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cdb, decodeReportTargetPortGroups } from '../../src/index.js';
import { IscsiSession, parseIscsiUrl } from '../../src/iscsi/index.js';
import { parseServeConfig, planFromConfig, resolvePortals } from '../../src/cli/config.js';
import { main } from '../../src/cli/main.js';
import { capture, run } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'vaai-sim-portals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T = 'iqn.2026-11.dev.vaai-sim:array0';

/** Runs `serve argv` until `lines` URLs are printed; resolves with them, stderr, and a stop function. */
async function serving(argv: readonly string[], lines: number): Promise<{ urls: string[]; err: string; stop: () => Promise<number> }> {
  const abort = new AbortController();
  const io = capture();
  const done = main(['serve', ...argv], { signal: abort.signal });
  try {
    for (let i = 0; i < 300 && (io.out().split('\n').length <= lines || !io.err().includes('Ctrl-C')); i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    io.restore();
  }
  return {
    urls: io.out().trim().split('\n'),
    err: io.err(),
    stop: async () => {
      abort.abort();
      return done;
    },
  };
}

describe('serve --portals', () => {
  it('--portals 2 --luns 2: four URLs, the first portal\'s LUNs first, on two ports; the same LUN through either; stderr names each portal\'s group and state', async () => {
    const s = await serving(['--port', '0', '--portals', '2', '--luns', '2', '--lun-gib', '0.015625', '--pool-gib', '1'], 4);
    try {
      const parsed = s.urls.map(parseIscsiUrl);
      expect(parsed.map((u) => [u.host, u.targetName, u.lun])).toEqual([
        ['127.0.0.1', T, 0],
        ['127.0.0.1', T, 1],
        ['127.0.0.1', T, 0],
        ['127.0.0.1', T, 1],
      ]);
      const [p1, p2] = [parsed[0]!.port, parsed[2]!.port];
      expect(parsed.map((u) => u.port)).toEqual([p1, p1, p2, p2]);
      expect(p1).not.toBe(p2);
      expect(s.err).toBe(`vaai-sim: serving 1 target(s) on 127.0.0.1:${p1} (target port group 1, active/optimized), 127.0.0.1:${p2} (target port group 2, active/non-optimized); Ctrl-C stops\n`);
      const one = await IscsiSession.connect({ host: '127.0.0.1', port: p1, targetName: T });
      const two = await IscsiSession.connect({ host: '127.0.0.1', port: p2, targetName: T });
      try {
        expect((await one.lun(1).execute(cdb.write16({ lba: 3, blocks: 1 }), new Uint8Array(512).fill(0xc3))).status).toBe(0);
        const r = await two.lun(1).execute(cdb.read16({ lba: 3, blocks: 1 }));
        expect([r.status, [...new Set(r.data!)]]).toEqual([0, [0xc3]]);
        // REPORT TARGET PORT GROUPS through portal 2: group 1 active/optimized and group 2
        // active/non-optimized, one iSCSI target port each; serve has no in-process port (group 0).
        const rtpg = await two.lun(0).execute(cdb.reportTargetPortGroups({ extended: true, allocationLength: 1024 }));
        expect(rtpg.status).toBe(0);
        const groups = decodeReportTargetPortGroups(rtpg.data!);
        expect(groups.ok).toBe(true);
        if (!groups.ok) return;
        expect(groups.value.groups.map((g) => [g.targetPortGroup, g.state, g.targetPortCount])).toEqual([
          [1, 'active/optimized', 1],
          [2, 'active/non-optimized', 1],
        ]);
      } finally {
        await one.close();
        await two.close();
      }
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('a portal whose port is taken exits 4 naming that portal\'s port, and nothing is printed', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as { port: number }).port;
    const file = join(dir, 'taken.json');
    writeFileSync(file, JSON.stringify({ poolGiB: 1, portals: [{ port: 0 }, { port: taken }], targets: [{ name: 'iqn.2026-11.x:taken', luns: [{ gib: 0.01 }] }] }));
    try {
      const r = await run(['serve', '--config', file]);
      expect(r.code, r.err).toBe(4);
      expect(r.err).toBe(`vaai-sim: cannot listen on 127.0.0.1:${taken}: the port is already in use (another iSCSI target?); choose another --port, or --port 0 for a free one (EADDRINUSE)\n`);
      expect(r.out).toBe('');
    } finally {
      holder.close();
    }
  });

  it('a config with three portals and group states: --port 0 replaces every portal\'s port with a free one', async () => {
    const file = join(dir, 'three.json');
    writeFileSync(
      file,
      JSON.stringify({
        poolGiB: 1,
        listen: { port: 3260 },
        portals: [{ port: 3270 }, { port: 3271, portalGroupTag: 5 }, { port: 3272, targetPortGroup: 7 }],
        targetPortGroups: [{ id: 2, state: 'standby' }, { id: 7, state: 'unavailable', preferred: true }],
        targets: [{ name: 'iqn.2026-11.x:three', luns: [{ gib: 0.015625 }] }],
      }),
    );
    const s = await serving(['--config', file, '--port', '0'], 3);
    try {
      const ports = s.urls.map((u) => parseIscsiUrl(u).port);
      expect(new Set(ports).size).toBe(3);
      for (const p of ports) expect([3260, 3270, 3271, 3272]).not.toContain(p);
      const [a, b, c] = ports;
      expect(s.err).toBe(
        `vaai-sim: serving 1 target(s) on 127.0.0.1:${a} (target port group 1, active/optimized), 127.0.0.1:${b} (target port group 2, standby), 127.0.0.1:${c} (target port group 7, unavailable); Ctrl-C stops\n`,
      );
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });
});

describe('resolvePortals: the defaults and the checks of portals and groups', () => {
  const plan = (portals: object | undefined, groups?: object): ReturnType<typeof planFromConfig> =>
    planFromConfig(parseServeConfig(JSON.stringify({ ...(portals === undefined ? {} : { portals }), ...(groups === undefined ? {} : { targetPortGroups: groups }), targets: [{ name: 'iqn.2026-11.x:a', luns: [{ gib: 1 }] }] }), 'p.json'), 'p.json');

  it('no portals: one on listen, tag 1, in group 1, active/optimized', () => {
    expect(resolvePortals(plan(undefined))).toEqual({ portals: [{ host: '127.0.0.1', port: 3260, portalGroupTag: 1, targetPortGroup: 1 }], groups: [{ id: 1, settings: { state: 'active/optimized' } }] });
  });

  it('three portals: ports after the first, tags by position, the first in group 1 and the others in group 2 (active/non-optimized)', () => {
    expect(resolvePortals({ port: 4000, portals: [{ source: 'x' }, { source: 'x' }, { source: 'x', host: '0.0.0.0' }] })).toEqual({
      portals: [
        { host: '127.0.0.1', port: 4000, portalGroupTag: 1, targetPortGroup: 1 },
        { host: '127.0.0.1', port: 4001, portalGroupTag: 2, targetPortGroup: 2 },
        { host: '0.0.0.0', port: 4002, portalGroupTag: 3, targetPortGroup: 2 },
      ],
      groups: [
        { id: 1, settings: { state: 'active/optimized' } },
        { id: 2, settings: { state: 'active/non-optimized' } },
      ],
    });
    expect(resolvePortals({ port: 0, portals: [{ source: 'x' }, { source: 'x' }] }).portals.map((p) => p.port)).toEqual([0, 0]);
  });

  it('group settings reach the plan; the first portal\'s group is the active/optimized one whatever its id', () => {
    const r = resolvePortals(plan([{ targetPortGroup: 9 }, { targetPortGroup: 4 }], [{ id: 4, preferred: true, implicitTransitionSeconds: 30, explicitAllowed: false, nonOptimizedDelayMs: 100 }]));
    expect(r.groups).toEqual([
      { id: 9, settings: { state: 'active/optimized' } },
      { id: 4, settings: { state: 'active/non-optimized', preferred: true, implicitTransitionSeconds: 30, explicitAllowed: false, nonOptimizedDelayMs: 100 } },
    ]);
  });

  it.each([
    ['two portals on one port', [{ port: 3260 }, { port: 3261 }, { port: 3260 }], 'p.json: /portals/2: portal 3 would listen on 127.0.0.1:3260, as portal 1 does; give each portal its own port'],
    ['a wildcard and an address on one port', [{ host: '0.0.0.0', port: 3300 }, { host: '127.0.0.5', port: 3300 }], 'p.json: /portals/1: portal 2 would listen on 127.0.0.5:3300, as portal 1 does; give each portal its own port'],
    ['a default port that meets a given one', [{}, { port: 3260 }], 'p.json: /portals/1: portal 2 would listen on 127.0.0.1:3260, as portal 1 does; give each portal its own port'],
    ['a default tag that meets a given one', [{ portalGroupTag: 2 }, {}], 'p.json: /portals/1: portal 2 has the portal group tag 2 of portal 1; each portal is its own portal group'],
  ])('%s is refused naming the portal', (_, portals, message) => {
    expect(() => resolvePortals(plan(portals))).toThrow(message);
  });

  it('a port above 65535 is refused naming the portal', () => {
    expect(() => resolvePortals({ port: 65535, portals: [{ source: 'p.json: /portals/0' }, { source: 'p.json: /portals/1' }] })).toThrow('p.json: /portals/1: portal 2 would listen on port 65536 (port 65535 + 1); ports go up to 65535');
  });
});
