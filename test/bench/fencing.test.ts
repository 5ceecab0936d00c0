/**
 * The fencing suite on the fabric model and its targets, the suite run small (a short membership
 * timeout and challenge window). Its chart is checked in charts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fencingSuite, FENCING_VARIANTS } from '../../src/bench/suites/fencing.js';
import { checkTargets } from '../../src/bench/report.js';
import type { ScenarioResult } from '../../src/bench/index.js';
import { FABRIC_PRESETS } from '../../src/host/fabric.js';
import type { SuiteContext } from '../../src/bench/measure.js';

const memory = { sampledPeakRssBytes: 1, heldBytesAtPeak: 1, ratio: 1, startRssBytes: 1, samples: 1 };
const ctx = { preset: '16gfc', model: FABRIC_PRESETS['16gfc'], quick: true, iterations: 1, timeMs: 0, progress: () => undefined, memory: { hold: () => Promise.resolve(() => undefined), sample: () => undefined } } as unknown as SuiteContext;

describe('the fencing suite (fabric model)', () => {
  it('PR: the survivors own the disk one PREEMPT AND ABORT after detection, all of them writing; SCSI-2: a reset and the challenge wait later, one survivor writing', async () => {
    const results = await fencingSuite(ctx, [2, 4], { failAtMs: 500, detectionMs: 300, renewIntervalMs: 200, challengeWaitMs: 700, tailMs: 100 });
    expect(results.map((r) => [r.scenario, r.path, r.variant])).toEqual([
      ['fencing-2-nodes', 'offload', FENCING_VARIANTS.pr],
      ['fencing-2-nodes', 'host', FENCING_VARIANTS.scsi2],
      ['fencing-4-nodes', 'offload', FENCING_VARIANTS.pr],
      ['fencing-4-nodes', 'host', FENCING_VARIANTS.scsi2],
    ]);
    const m = (i: number): Record<string, number> => results[i]!.metrics as Record<string, number>;
    for (const i of [0, 2]) {
      // Detection, then one PREEMPT AND ABORT over the fabric (a few round trips: READ RESERVATION, PREEMPT, READ KEYS).
      expect(m(i)['takeoverMs']! - 300).toBeGreaterThan(0);
      expect(m(i)['takeoverMs']! - 300).toBeLessThan(5);
      // The failed node's next write after the fence is refused (its writes come every 10 ms).
      expect(m(i)['failedNodeRefusedAfterMs']! - m(i)['takeoverMs']!).toBeLessThanOrEqual(11);
      expect(m(i)['survivorsWithAccess']).toBe(m(i)['nodes']! - 1);
      expect(m(i)['survivorWritesRefused']).toBe(0);
    }
    for (const i of [1, 3]) {
      // Detection, the reset (one command latency), the challenge wait, the RESERVE.
      expect(m(i)['takeoverMs']! - 300 - 700).toBeGreaterThan(0);
      expect(m(i)['takeoverMs']! - 300 - 700).toBeLessThan(1);
      expect(m(i)['survivorsWithAccess']).toBe(1);
      // The defender's reservation stood until the reset: everyone else was refused meanwhile, and after
      // the reset nobody held the disk, so the failed node's writes landed for the whole wait.
      expect(m(i)['survivorWritesRefused']).toBeGreaterThan(0);
      expect(m(i)['unsafeWrites']).toBeGreaterThan(m(i - 1)['unsafeWrites']!);
    }
    expect(m(3)['survivorWritesRefused']).toBeGreaterThan(m(1)['survivorWritesRefused']!); // two survivors stay refused with 4 nodes
  });
});

describe('fencing targets, judged from one run', () => {
  const row = (path: 'offload' | 'host', takeoverMs: number, survivorsWithAccess: number): ScenarioResult => ({
    scenario: 'fencing-4-nodes',
    path,
    variant: path === 'offload' ? FENCING_VARIANTS.pr : FENCING_VARIANTS.scsi2,
    bytes: 0,
    wallMs: 1,
    wallSamples: 1,
    simulatedMs: 1,
    fabricBytes: 1,
    commands: 1,
    hostCpuMs: 1,
    metrics: { nodes: 4, detectionMs: 3000, takeoverMs, failedNodeRefusedAfterMs: takeoverMs + 1, survivorsWithAccess },
  });
  it('met within 100 ms of detection with every survivor writing; missed past it, or with a survivor left out', () => {
    const judge = (pr: ScenarioResult) => checkTargets([pr, row('host', 13000.2, 1)], { memory });
    expect(judge(row('offload', 3001, 3))).toEqual([
      { name: 'fencing, 4 nodes, the holder fails (fabric model): survivors own the disk, the failed node is refused', target: 'PR: within 100 ms of the membership timeout, every survivor writing', measured: 'PR 3.00 s after the failure (2.00 ms after detection), 3 of 3 survivors writing; SCSI-2 13.0 s, 1 of 3', met: true },
    ]);
    expect(judge(row('offload', 3099, 3))[0]!.met).toBe(true);
    expect(judge(row('offload', 3100, 3))[0]!.met).toBe(false);
    expect(judge(row('offload', 3001, 2))[0]!.met).toBe(false);
  });
});
