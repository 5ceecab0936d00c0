/**
 * Fencing a failed cluster node, modelled on the fabric clock: a 2- and a 4-node cluster share one
 * LUN; every node writes to it. At `failAtMs` node 1, the disk's owner, fails the way fencing
 * exists for: its cluster service stops (no heartbeats, no reservation renewals) but its I/O stack
 * keeps writing. The survivors notice after the membership timeout and fence it:
 * - SCSI-3 persistent reservations (fence_scsi): the lowest surviving node sends PREEMPT AND ABORT of
 *   node 1's key; the survivors were registered all along and keep writing;
 * - SCSI-2 reservations (challenge/defense): every survivor resets the LUN (the only way past a dead
 *   node's reservation), waits out the defender's renewal window and reserves; one wins, and the
 *   other survivors, like the failed node, are refused.
 * Measured: the time from the failure until a survivor owns the disk and node 1's writes are refused,
 * and how many of node 1's writes landed after it failed (the split-brain window).
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import * as cdb from '../../codec/cdb-encoder.js';
import type { Fabric } from '../../host/fabric.js';
import { PrFencingNode, Scsi2FencingNode } from '../../host/fencing.js';
import { simulate, simulatedFields, storedBytes, type SuiteContext } from '../measure.js';
import type { ScenarioResult } from '../results.js';

/** Knobs of the fencing scenario (simulated milliseconds). */
export interface FencingWorkload {
  /** When node 1 fails. @defaultValue 5000 */
  readonly failAtMs?: number;
  /** Cluster membership timeout: how long after the failure the survivors declare node 1 dead. @defaultValue 3000 (corosync's token timeout) */
  readonly detectionMs?: number;
  /** Pause between a node's 64 KiB writes. @defaultValue 10 */
  readonly writeIntervalMs?: number;
  /** SCSI-2: the defender's renewal period. @defaultValue 3000 */
  readonly renewIntervalMs?: number;
  /** SCSI-2: the challenger's wait after its reset. @defaultValue 10000 */
  readonly challengeWaitMs?: number;
  /** How long the run goes on after the fencing ended, to count refused writes. @defaultValue 1000 */
  readonly tailMs?: number;
}

/** The two methods, as variants. */
export const FENCING_VARIANTS = { pr: 'SCSI-3 PR: PREEMPT AND ABORT', scsi2: 'SCSI-2 RESERVE: reset and challenge' } as const;

const WRITE_BLOCKS = 128; // 64 KiB
const REGION_BLOCKS = 1 << 16; // 32 MiB per node

/** Runs the scenario for each cluster size and both methods. */
export async function fencingSuite(ctx: SuiteContext, nodeCounts: readonly number[], w: FencingWorkload = {}): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const failAt = w.failAtMs ?? 5000;
  const detection = w.detectionMs ?? 3000;
  const interval = w.writeIntervalMs ?? 10;
  const renew = w.renewIntervalMs ?? 3000;
  const wait = w.challengeWaitMs ?? 10_000;
  const tail = w.tailMs ?? 1000;
  for (const nodes of nodeCounts) {
    for (const method of ['pr', 'scsi2'] as const) {
      const array = new StorageArray({ capacityBytes: 1 << 30, arrayId: 0xfe0 + nodes });
      const lun = array.createLun({ sizeBytes: 1 << 30 });
      const release = await ctx.memory.hold(() => storedBytes(array));
      let fencedAt = Number.NaN; // a survivor owns the disk and node 1 is cut off
      let firstRefusedAt = Number.NaN; // node 1's first refused write after the failure
      let unsafeWrites = 0; // node 1's writes that landed after the failure
      let survivorWrites = 0;
      let survivorRefused = 0;
      let survivorsWithAccess = 0;
      let end = Number.POSITIVE_INFINITY;
      let start = 0; // the setup's own commands take a little simulated time: times count from the failure
      const sim = await simulate(ctx, array, async (fabric: Fabric) => {
        const clock = fabric.clock;
        const data = new Uint8Array(WRITE_BLOCKS * 512).fill(0xfe);
        const ports = Array.from({ length: nodes }, (_, i) => fabric.host(`node-${i + 1}`).port(lun));
        /** One node's writes to its own region until the run ends; `count` is told whether each was GOOD. */
        const writer = async (n: number, count: (good: boolean) => void): Promise<void> => {
          for (let k = 0; clock.now < end; k++) {
            const r = await ports[n]!.execute(cdb.write16({ lba: n * REGION_BLOCKS + (k % 256) * WRITE_BLOCKS, blocks: WRITE_BLOCKS }), data);
            count(r.status === 0);
            await clock.sleep(interval);
          }
        };
        // After the failure, node 1's writes that land are unsafe; once fenced, its first one that does
        // not (06/2A/05 or RESERVATION CONFLICT) marks it cut off. A reset's unit attention is neither.
        const failed = (good: boolean): void => {
          if (clock.now < start + failAt) return;
          if (good) unsafeWrites++;
          else if (!Number.isNaN(fencedAt) && Number.isNaN(firstRefusedAt)) firstRefusedAt = clock.now;
        };
        const survivor = (good: boolean): void => {
          if (clock.now < start + failAt) return;
          if (good) survivorWrites++;
          else survivorRefused++;
        };
        const runs: Array<Promise<void>> = [];
        if (method === 'pr') {
          const fencing = ports.map((port, i) => new PrFencingNode({ target: port, key: 0x5eed_0000 + i + 1, name: `node-${i + 1}` }));
          for (const f of fencing) await f.join(); // node 1 reserves first: it holds the reservation
          start = clock.now;
          runs.push(writer(0, failed));
          for (let n = 1; n < nodes; n++) runs.push(writer(n, survivor));
          runs.push(
            (async () => {
              await clock.sleep(start + failAt + detection - clock.now);
              await fencing[1]!.fence(fencing[0]!.key); // the lowest surviving node fences, as the DC does
              fencedAt = clock.now;
              survivorsWithAccess = nodes - 1;
              end = clock.now + tail;
            })(),
          );
        } else {
          const resetLun = async (): Promise<void> => {
            await clock.sleep(fabric.model.commandLatencyMs); // a task management request over the fabric
            lun.reset();
          };
          const fencing = ports.map((port, i) => new Scsi2FencingNode({ target: port, reset: resetLun, sleep: (ms) => clock.sleep(ms), renewIntervalMs: renew, challengeWaitMs: wait, name: `node-${i + 1}` }));
          await fencing[0]!.reserve();
          start = clock.now;
          const defence = fencing[0]!.defend().catch(() => undefined);
          runs.push(
            defence,
            (async () => {
              await clock.sleep(start + failAt - clock.now);
              fencing[0]!.stopDefending(); // the cluster service dies; its I/O stack does not
            })(),
          );
          runs.push(writer(0, failed));
          for (let n = 1; n < nodes; n++) runs.push(writer(n, survivor));
          const challenges = fencing.slice(1).map(async (f) => {
            await clock.sleep(start + failAt + detection - clock.now);
            const won = await f.challenge();
            if (won) {
              survivorsWithAccess++;
              fencedAt = clock.now;
              end = clock.now + tail;
            }
          });
          runs.push(
            Promise.all(challenges).then(() => {
              end = Math.min(end, clock.now + tail); // a challenge nobody won ends the run too
            }),
          );
        }
        await Promise.all(runs);
      });
      release();
      const takeover = fencedAt - start - failAt;
      const refused = firstRefusedAt - start - failAt;
      ctx.progress(`  fencing, ${nodes} nodes, ${FENCING_VARIANTS[method]}: disk owned and node 1 refused ${(takeover / 1000).toFixed(3)} s after the failure; ${unsafeWrites} of node 1's writes landed meanwhile (simulated; ${sim.wallMs.toFixed(0)} ms wall)`);
      results.push({
        scenario: `fencing-${nodes}-nodes`,
        path: method === 'pr' ? 'offload' : 'host',
        variant: FENCING_VARIANTS[method],
        bytes: 0,
        ...simulatedFields(sim),
        metrics: {
          nodes,
          detectionMs: detection,
          takeoverMs: takeover,
          fenceActionMs: takeover - detection,
          failedNodeRefusedAfterMs: refused,
          unsafeWrites,
          survivorsWithAccess,
          survivorWrites,
          survivorWritesRefused: survivorRefused,
        },
      });
    }
  }
  return results;
}
