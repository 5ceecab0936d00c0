/**
 * Eager zeroing: WRITE SAME (with UNMAP on a thin LUN) against writing zero buffers from the host;
 * and the pair behind one target: WRITE SAME UNMAP over 1 TiB against host zeros over 1 GiB.
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import { zeroRange } from '../../host/zeroing.js';
import { formatBytes, measureWall, simulate, storedBytes, wallFields, type SuiteContext } from '../measure.js';
import type { BenchPath, ScenarioResult } from '../results.js';

/** One zeroing to measure. */
export interface ZeroJob {
  /** Scenario name. */
  readonly scenario: string;
  /** Bytes to zero. */
  readonly bytes: number;
  /** Which path. */
  readonly path: BenchPath;
}

/** Measures each job (wall-clock in-process, then simulated on the fabric). */
export async function zeroSuite(ctx: SuiteContext, jobs: readonly ZeroJob[]): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const job of jobs) {
    ctx.progress(`zero ${formatBytes(job.bytes)} (${job.path})`);
    // Zero detection on: zeros written by the host are not stored (and cost the benchmark no memory).
    const array = new StorageArray({ capacityBytes: Math.max(job.bytes, 1 << 30), zeroDetect: true, arrayId: 0x2e50 });
    const lun = array.createLun({ sizeBytes: job.bytes });
    const release = await ctx.memory.hold(() => storedBytes(array));
    const offload = job.path === 'offload';
    const name = `${job.scenario} ${job.path}`;
    const wall = await measureWall(ctx, job.scenario, [{ name, run: () => zeroRange({ target: lun, offload }) }]);
    let report: Awaited<ReturnType<typeof zeroRange>> | undefined;
    const sim = await simulate(ctx, array, async (fabric) => {
      report = await zeroRange({ target: fabric.host('esx-1').port(lun), offload });
    });
    const w = wall.get(name)!;
    results.push({
      scenario: job.scenario,
      path: job.path,
      variant: offload ? (report!.unmap ? 'WRITE SAME(16) UNMAP' : 'WRITE SAME(16)') : 'WRITE(16) of zeros',
      bytes: job.bytes,
      ...wallFields(w),
      simulatedMs: sim.simulatedMs,
      fabricBytes: sim.fabricBytes,
      commands: sim.commands,
      hostCpuMs: sim.hostCpuMs,
      metrics: { poolUnitsAfter: array.poolStatus.allocatedUnits },
    });
    release();
  }
  return results;
}
