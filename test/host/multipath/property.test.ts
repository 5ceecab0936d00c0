/**
 * A model-based property: a random workload through a multipath device over 2-4 in-process paths
 * while a random schedule of link faults (down, black hole, latency) and ALUA state changes runs.
 * Every acknowledged write reads back, no command is acknowledged with a result it did not have (no
 * CHECK CONDITION reaches the caller: the device hides every failover trigger), COMPARE AND WRITE keeps
 * a counter exact across failovers, every command completes once or fails with a typed error, and
 * none waits past its bound. Two broken multipath layers are shown to be caught: one that replays
 * commands blindly after a failover, and one that ignores 06/2A/06 (the default SATP on an ALUA array).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutcomeUnknownError } from '../../../src/host/errors.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import type { ScsiTarget } from '../../../src/host/target.js';
import type { AluaState } from '../../../src/spec/alua.js';
import { rig } from './helpers.js';
import { op, workload, type Op } from './workload.js';

const COMMAND_TIMEOUT = 40;
const APD_TIMEOUT = 1500;
const TRANSITION_TIMEOUT = 400;
/** No command may take longer: the APD wait, a transition, and a timeout on each path tried around them. */
const BOUND = APD_TIMEOUT + TRANSITION_TIMEOUT + 12 * COMMAND_TIMEOUT;

type Fault =
  | { readonly at: number; readonly kind: 'link'; readonly port: number; readonly link: 'up' | 'down' | 'black-hole' }
  | { readonly at: number; readonly kind: 'latency'; readonly port: number; readonly ms: number }
  | { readonly at: number; readonly kind: 'state'; readonly group: number; readonly state: AluaState };


interface Scenario {
  readonly groups: readonly number[];
  readonly faults: readonly Fault[];
  readonly ops: readonly Op[];
  readonly policy: 'fixed' | 'mru' | 'rr';
  /** When every link comes up and every group is optimized again: before or after the APD timeout. */
  readonly restoreAt: number;
}

const STATES: readonly AluaState[] = ['active/optimized', 'active/non-optimized', 'standby', 'unavailable', 'transitioning', 'offline'];

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    groups: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: n, maxLength: n }),
    faults: fc.array(
      fc.oneof(
        fc.record({ at: fc.integer({ min: 0, max: 150 }), kind: fc.constant('link' as const), port: fc.integer({ min: 0, max: n - 1 }), link: fc.constantFrom('up' as const, 'down' as const, 'black-hole' as const) }),
        fc.record({ at: fc.integer({ min: 0, max: 150 }), kind: fc.constant('latency' as const), port: fc.integer({ min: 0, max: n - 1 }), ms: fc.integer({ min: 0, max: 20 }) }),
        fc.record({ at: fc.integer({ min: 0, max: 150 }), kind: fc.constant('state' as const), group: fc.integer({ min: 1, max: 2 }), state: fc.constantFrom(...STATES) }),
      ),
      { maxLength: 10 },
    ),
    ops: fc.array(op, { minLength: 1, maxLength: 30 }),
    policy: fc.constantFrom('fixed' as const, 'mru' as const, 'rr' as const),
    restoreAt: fc.constantFrom(200, 2500),
  }),
);

/** A multipath layer that re-issues a command whose outcome is unknown: the broken replay. */
function blindReplay(device: MultipathDevice): ScsiTarget {
  return {
    execute: async (c, d, o) => {
      for (;;) {
        try {
          return await device.execute(c, d, o);
        } catch (e) {
          if (!(e instanceof OutcomeUnknownError)) throw e;
        }
      }
    },
  };
}

/** Runs `s`; returns the first violation, or undefined. */
async function run(s: Scenario, layer: { satp?: 'alua' | 'default'; wrap?: (d: MultipathDevice) => ScsiTarget } = {}): Promise<string | undefined> {
  const r = rig(s.groups);
  const policy = s.policy === 'rr' ? { policy: 'round-robin' as const, iops: 1 } : { policy: s.policy };
  const device = await MultipathDevice.create({
    paths: r.paths,
    clock: r.clock,
    checkerIntervalMs: 25,
    commandTimeoutMs: COMMAND_TIMEOUT,
    apdTimeoutMs: APD_TIMEOUT,
    transitionTimeoutMs: TRANSITION_TIMEOUT,
    policy,
    ...(layer.satp === undefined ? {} : { satp: layer.satp }),
  });
  const target = layer.wrap?.(device) ?? device;
  for (const p of r.ports) p.setLatency(6);
  return await r.clock.run(async () => {
    // The fault schedule, then everything restored (links up, groups optimized) at restoreAt.
    for (const f of s.faults) {
      void r.clock.sleep(f.at).then(() => {
        if (f.kind === 'link') r.ports[f.port]!.setLink(f.link);
        else if (f.kind === 'latency') r.ports[f.port]!.setLatency(f.ms);
        else void r.array.setTargetPortGroupState(s.groups.includes(f.group) ? f.group : s.groups[0]!, f.state);
      });
    }
    void r.clock.sleep(s.restoreAt).then(() => {
      for (const p of r.ports) p.restore();
      for (const g of [1, 2]) if (r.array.targetPortGroup(g) !== undefined) void r.array.setTargetPortGroupState(g, 'active/optimized');
    });

    const w = workload(target, () => r.clock.now, BOUND);
    await w.run(s.ops);
    await r.clock.sleep(Math.max(0, s.restoreAt + 100 - r.clock.now)); // past the restore
    await w.finish();
    await device.close();
    return w.violation;
  });
}

describe('multipath property: random workload under random path faults and ALUA changes', () => {
  it('the device keeps every contract', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        expect(await run(s)).toBeUndefined();
      }),
      { numRuns: 150, seed: 13 },
    );
  });

  it('is able to fail: a layer that replays commands blindly after a failover is caught', async () => {
    const details = await fc.check(fc.asyncProperty(scenario, async (s) => (await run(s, { wrap: blindReplay })) === undefined), { numRuns: 300, seed: 13 });
    expect(details.failed).toBe(true);
    expect(details.counterexample![0].ops.some((o) => o.kind === 'increment')).toBe(true);
  });

  it('is able to fail: a layer that ignores 06/2A/06 (the default SATP on an ALUA array) is caught', async () => {
    const details = await fc.check(fc.asyncProperty(scenario, async (s) => (await run(s, { satp: 'default' })) === undefined), { numRuns: 300, seed: 13 });
    expect(details.failed).toBe(true);
    expect(details.counterexample![0].faults.some((f) => f.kind === 'state')).toBe(true);
  });
});
