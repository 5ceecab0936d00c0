/**
 * The multipath property over iSCSI portals: a random workload through a multipath device over one
 * session per portal (2-4 portals of a vaai-sim server, each a target port in group 1 or 2) while,
 * between commands, random portals lose their link (all but one, since a dropped session does not
 * log in again) and the groups change between active/optimized and active/non-optimized. The model
 * and its checks are the in-process property's (workload.ts). Real sockets, so few runs, and no
 * timing is asserted: nothing here waits on a timer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageArray } from '../../../src/index.js';
import { IscsiServer, IscsiSession } from '../../../src/iscsi/index.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { op, workload, type Op } from './workload.js';

const T = 'iqn.2026-11.dev.vaai-sim:multipath-property';
const HOST = 'iqn.2026-11.dev.vaai-sim:multipath-property-host';

type Fault = { readonly before: number; readonly kind: 'down'; readonly portal: number } | { readonly before: number; readonly kind: 'state'; readonly group: number; readonly optimized: boolean };

interface Scenario {
  readonly groups: readonly number[];
  readonly faults: readonly Fault[];
  readonly ops: readonly Op[];
  readonly policy: 'fixed' | 'mru' | 'rr';
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    groups: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: n, maxLength: n }),
    faults: fc.array(
      fc.oneof(
        fc.record({ before: fc.integer({ min: 0, max: 12 }), kind: fc.constant('down' as const), portal: fc.integer({ min: 0, max: n - 1 }) }),
        fc.record({ before: fc.integer({ min: 0, max: 12 }), kind: fc.constant('state' as const), group: fc.integer({ min: 1, max: 2 }), optimized: fc.boolean() }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    ops: fc.array(op, { minLength: 8, maxLength: 24 }),
    policy: fc.constantFrom('fixed' as const, 'mru' as const, 'rr' as const),
  }),
);

async function run(s: Scenario): Promise<string | undefined> {
  const array = new StorageArray({ capacityBytes: 64 << 20 });
  const lun = array.createLun({ sizeBytes: 1 << 20, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun] }], portals: s.groups.map((g) => ({ port: 0, targetPortGroup: g })) });
  await server.listen();
  const sessions: IscsiSession[] = [];
  try {
    for (const [i, portal] of server.portals.entries()) {
      sessions.push(await IscsiSession.connect({ host: '127.0.0.1', port: portal.port, targetName: T, initiatorName: HOST, isid: Uint8Array.of(0x80, 0x50, 0x52, 0x4f, 0, i + 1) }));
    }
    const policy = s.policy === 'rr' ? { policy: 'round-robin' as const, iops: 1 } : { policy: s.policy };
    const device = await MultipathDevice.create({ paths: sessions.map((x, i) => ({ target: x.lun(0), name: `portal${i + 1}` })), checkerIntervalMs: 0, policy });
    const down = new Set<number>();
    const w = workload(device, () => 0, Number.POSITIVE_INFINITY);
    await w.run(s.ops, async (i) => {
      for (const f of s.faults) {
        if (f.before !== i) continue;
        if (f.kind === 'down') {
          // Keep one portal: a dropped session does not log in again, and no checker could bring it back.
          if (down.has(f.portal) || down.size === s.groups.length - 1) continue;
          down.add(f.portal);
          server.targetPort(T, f.portal)!.setLink('down');
        } else if (s.groups.includes(f.group)) await array.setTargetPortGroupState(f.group, f.optimized ? 'active/optimized' : 'active/non-optimized');
      }
    });
    await w.finish();
    await device.close();
    return w.violation;
  } finally {
    for (const x of sessions) await x.close().catch(() => undefined);
    await server.close();
  }
}

describe('multipath property over iSCSI portals', () => {
  it('the device keeps every contract while portals die and groups change', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        expect(await run(s)).toBeUndefined();
      }),
      { numRuns: 40, seed: 13 },
    );
  });
});
