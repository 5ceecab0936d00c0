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
import { cdb, decodeSense, type ScsiResult } from '../../../src/index.js';
import { VaaiSimError } from '../../../src/common/errors.js';
import { OutcomeUnknownError } from '../../../src/host/errors.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import type { ScsiTarget } from '../../../src/host/target.js';
import type { AluaState } from '../../../src/spec/alua.js';
import { BLOCK, rig } from './helpers.js';

const COUNTER = 100;
const DATA_LBAS = 8;
const COMMAND_TIMEOUT = 40;
const APD_TIMEOUT = 1500;
const TRANSITION_TIMEOUT = 400;
/** No command may take longer: the APD wait, a transition, and a timeout on each path tried around them. */
const BOUND = APD_TIMEOUT + TRANSITION_TIMEOUT + 12 * COMMAND_TIMEOUT;

type Fault =
  | { readonly at: number; readonly kind: 'link'; readonly port: number; readonly link: 'up' | 'down' | 'black-hole' }
  | { readonly at: number; readonly kind: 'latency'; readonly port: number; readonly ms: number }
  | { readonly at: number; readonly kind: 'state'; readonly group: number; readonly state: AluaState };

type Op = { readonly kind: 'write'; readonly lba: number; readonly fill: number } | { readonly kind: 'read'; readonly lba: number } | { readonly kind: 'increment' };

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
    ops: fc.array(
      fc.oneof(
        { arbitrary: fc.record({ kind: fc.constant('write' as const), lba: fc.integer({ min: 0, max: DATA_LBAS - 1 }), fill: fc.integer({ min: 1, max: 255 }) }), weight: 2 },
        { arbitrary: fc.record({ kind: fc.constant('read' as const), lba: fc.integer({ min: 0, max: DATA_LBAS - 1 }) }), weight: 2 },
        { arbitrary: fc.constant({ kind: 'increment' as const }), weight: 3 },
      ),
      { minLength: 1, maxLength: 30 },
    ),
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

    // What each data block may hold: one value once known, several while a failed write may or may not have landed.
    const model = Array.from({ length: DATA_LBAS }, () => new Set([0]));
    let counter = 0;
    let violation: string | undefined;
    const fail = (why: string): void => {
      violation ??= why;
    };
    const timed = async (what: string, run: () => Promise<ScsiResult>): Promise<ScsiResult | VaaiSimError> => {
      const started = r.clock.now;
      try {
        const result = await run();
        if (r.clock.now - started > BOUND) fail(`${what} took ${r.clock.now - started} ms`);
        if (result.status !== 0 && decodeSense(result.sense)?.key !== 0x0e) {
          const sense = decodeSense(result.sense);
          fail(`${what} answered status ${result.status}${sense === undefined ? '' : ` ${sense.key}/${sense.asc}/${sense.ascq}`}`);
        }
        return result;
      } catch (e) {
        if (!(e instanceof VaaiSimError)) fail(`${what} threw an untyped ${String(e)}`);
        if (r.clock.now - started > BOUND) fail(`${what} failed after ${r.clock.now - started} ms`);
        return e as VaaiSimError;
      }
    };
    const readBlock = async (lba: number): Promise<number | undefined> => {
      const res = await timed(`READ ${lba}`, async () => await target.execute(cdb.read16({ lba, blocks: 1 })));
      if (res instanceof VaaiSimError || res.status !== 0) return undefined;
      const v = res.data![0]!;
      if (!res.data!.every((b) => b === v)) fail(`READ ${lba}: a torn block`);
      return v;
    };

    for (const op of s.ops) {
      if (violation !== undefined) break;
      if (op.kind === 'write') {
        const res = await timed(`WRITE ${op.lba}`, async () => await target.execute(cdb.write16({ lba: op.lba, blocks: 1 }), new Uint8Array(BLOCK).fill(op.fill)));
        if (res instanceof VaaiSimError) model[op.lba]!.add(op.fill);
        else if (res.status === 0) model[op.lba] = new Set([op.fill]);
      } else if (op.kind === 'read') {
        const v = await readBlock(op.lba);
        if (v === undefined) continue;
        if (!model[op.lba]!.has(v)) fail(`READ ${op.lba} returned ${v}, the model allows ${[...model[op.lba]!].join(', ')}`);
        model[op.lba] = new Set([v]);
      } else {
        // One increment of the counter block with COMPARE AND WRITE; this host is its only writer.
        for (let attempt = 0; attempt < 4 && violation === undefined; attempt++) {
          const v = await readBlock(COUNTER);
          if (v === undefined) break;
          if (v !== counter % 256) {
            fail(`the counter reads ${v}, ${counter} increments were acknowledged`);
            break;
          }
          const payload = new Uint8Array(2 * BLOCK);
          payload.fill(v, 0, BLOCK);
          payload.fill((v + 1) % 256, BLOCK);
          const res = await timed('COMPARE AND WRITE', async () => await target.execute(cdb.compareAndWrite({ lba: COUNTER, blocks: 1 }), payload));
          if (res instanceof OutcomeUnknownError) {
            // Find out, as the lock manager does.
            const now = await readBlock(COUNTER);
            if (now === (v + 1) % 256) counter++;
            else if (now === v) continue;
            else if (now !== undefined) fail(`after an unknown outcome the counter reads ${now}, not ${v} or ${v + 1}`);
            break;
          }
          if (res instanceof VaaiSimError) break;
          if (res.status === 0) counter++;
          else fail('COMPARE AND WRITE miscompared: the counter has no other writer');
          break;
        }
      }
    }
    await r.clock.sleep(Math.max(0, s.restoreAt + 100 - r.clock.now)); // past the restore
    const final = await readBlock(COUNTER);
    if (violation === undefined && final !== undefined && final !== counter % 256) fail(`the counter ends at ${final} after ${counter} acknowledged increments`);
    await device.close();
    return violation;
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
