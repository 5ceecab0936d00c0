/**
 * Locking with N hosts, modelled on the fabric clock: every host updates file-system metadata under
 * its own on-disk lock, writes a heartbeat, and runs VM I/O to the same LUN. With ATS the hosts
 * contend only on their lock blocks; with SCSI-2 reservations every lock operation reserves the
 * whole LUN, and every other host's I/O meets RESERVATION CONFLICT and retries meanwhile.
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import * as cdb from '../../codec/cdb-encoder.js';
import { LockManager, type LockMethod } from '../../host/lock-manager.js';
import { simulate, storedBytes, type SuiteContext } from '../measure.js';
import type { ScenarioResult } from '../results.js';

/** Knobs of the locking workload (simulated milliseconds). */
export interface LockingWorkload {
  /** Simulated duration of each run. */
  readonly durationMs: number;
  /** Pause between a host's metadata updates; 0 measures the locking mechanism's capacity (a closed loop). @defaultValue 0 */
  readonly thinkMs?: number;
  /** Heartbeat period. @defaultValue 100 */
  readonly heartbeatMs?: number;
  /** Pause between a host's VM I/Os (64 KiB reads). @defaultValue 1 */
  readonly vmThinkMs?: number;
  /** Retry delay after RESERVATION CONFLICT or a busy lock. @defaultValue 1 */
  readonly retryMs?: number;
}

const LOCK_BASE = 1024; // one lock block per host
const HEARTBEAT_BASE = 4096; // one heartbeat block per host
const METADATA_BASE = 8192; // 4 KiB of metadata per host
const VM_BASE = 65536; // VM data region
const VM_BLOCKS = 128; // 64 KiB reads

/** Runs the workload for each host count and both methods. */
export async function lockingSuite(ctx: SuiteContext, hostCounts: readonly number[], w: LockingWorkload): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const think = w.thinkMs ?? 0;
  const heartbeatEvery = w.heartbeatMs ?? 100;
  const vmThink = w.vmThinkMs ?? 1;
  const retry = w.retryMs ?? 1;
  for (const hosts of hostCounts) {
    for (const method of ['ats', 'reservation'] as LockMethod[]) {
      const array = new StorageArray({ capacityBytes: 1 << 30, arrayId: 0x10c + hosts });
      const lun = array.createLun({ sizeBytes: 1 << 30 });
      const release = await ctx.memory.hold(() => storedBytes(array));
      let lockOps = 0;
      let vmIos = 0;
      let vmConflicts = 0;
      let vmMaxLatency = 0;
      let managers: LockManager[] = [];
      const sim = await simulate(ctx, array, async (fabric) => {
        const clock = fabric.clock;
        const metadata = new Uint8Array(4096).fill(0x4d);
        const runs: Array<Promise<void>> = [];
        managers = [];
        for (let h = 1; h <= hosts; h++) {
          const port = fabric.host(`esx-${h}`).port(lun);
          const locks = new LockManager({ target: port, hostId: h, method, sleep: (ms) => clock.sleep(ms), retryDelayMs: retry });
          managers.push(locks);
          /** One I/O, retried while another host holds a reservation; returns the conflicts met. */
          const io = async (c: Uint8Array, data?: Uint8Array): Promise<number> => {
            for (let conflicts = 0; ; conflicts++) {
              const r = await port.execute(c, data);
              if (r.status === 0) return conflicts;
              if (r.status !== 0x18) throw new Error(`I/O failed with status ${r.status}`);
              await clock.sleep(retry);
            }
          };
          runs.push(
            (async () => {
              await clock.sleep(h * 0.01); // hosts start a little apart
              while (clock.now < w.durationMs) {
                await locks.acquire(LOCK_BASE + h);
                await io(cdb.write16({ lba: METADATA_BASE + 8 * h, blocks: 8 }), metadata);
                await locks.release(LOCK_BASE + h);
                lockOps++;
                await clock.sleep(think);
              }
            })(),
            (async () => {
              while (clock.now < w.durationMs) {
                await locks.heartbeat(HEARTBEAT_BASE + h);
                await clock.sleep(heartbeatEvery);
              }
            })(),
            (async () => {
              for (let k = 0; clock.now < w.durationMs; k++) {
                const start = clock.now;
                vmConflicts += await io(cdb.read16({ lba: VM_BASE + ((h * 7919 + k * 131) % 4096) * VM_BLOCKS, blocks: VM_BLOCKS }));
                vmIos++;
                vmMaxLatency = Math.max(vmMaxLatency, clock.now - start);
                await clock.sleep(vmThink);
              }
            })(),
          );
        }
        await Promise.all(runs);
      });
      release();
      const seconds = sim.simulatedMs / 1000;
      const conflicts = managers.reduce((n, m) => n + m.stats.reservationConflicts, 0);
      const miscompares = managers.reduce((n, m) => n + m.stats.miscompares, 0);
      ctx.progress(`  locking, ${hosts} host(s), ${method}: ${Math.round(lockOps / seconds)} lock ops/s, ${Math.round(vmIos / seconds)} VM I/O/s (simulated; ${sim.wallMs.toFixed(0)} ms wall)`);
      results.push({
        scenario: `locking-${hosts}-hosts`,
        path: method === 'ats' ? 'offload' : 'host',
        variant: method === 'ats' ? 'ATS (COMPARE AND WRITE)' : 'SCSI-2 RESERVE/RELEASE',
        bytes: 0,
        wallMs: sim.wallMs,
        wallSamples: 1,
        simulatedMs: sim.simulatedMs,
        fabricBytes: sim.fabricBytes,
        commands: sim.commands,
        hostCpuMs: sim.hostCpuMs,
        metrics: {
          hosts,
          lockOps,
          lockOpsPerSecond: lockOps / seconds,
          vmIos,
          vmIoPerSecond: vmIos / seconds,
          vmReservationConflicts: vmConflicts,
          vmMaxLatencyMs: vmMaxLatency,
          lockReservationConflicts: conflicts,
          atsMiscompares: miscompares,
        },
      });
    }
  }
  return results;
}
