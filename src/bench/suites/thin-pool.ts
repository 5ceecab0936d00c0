/**
 * A thin pool run to out-of-space and back, modelled on the fabric clock. VMs write new data until
 * the pool is exhausted and they are stunned. On that out-of-space alarm the administrator deletes an
 * old VM: with UNMAP (offload) the host reclaims its space at once and the stunned VMs resume;
 * without it (host) the space stays allocated on the array until an operator grows the pool.
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import * as cdb from '../../codec/cdb-encoder.js';
import { ThinHost } from '../../host/thin-host.js';
import { simulate, storedBytes, type SuiteContext } from '../measure.js';
import type { BenchPath, ScenarioResult } from '../results.js';
import { fillPattern, writeDisk } from '../workloads.js';

const MiB = 1024 * 1024;

/** Sizes and times of the thin-pool run (simulated milliseconds). */
export interface ThinPoolWorkload {
  /** Pool capacity in bytes. */
  readonly poolBytes: number;
  /** VMs writing new data. @defaultValue 4 */
  readonly growers?: number;
  /** Bytes each growing VM writes. */
  readonly bytesPerGrower: number;
  /** How long an operator takes to grow the pool after the VM was deleted (host path). @defaultValue 500 */
  readonly operatorDelayMs?: number;
  /** How often a stunned VM retries. @defaultValue 10 */
  readonly retryMs?: number;
}

/** Runs the scenario once per path. */
export async function thinPoolSuite(ctx: SuiteContext, w: ThinPoolWorkload): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const growers = w.growers ?? 4;
  const operatorDelay = w.operatorDelayMs ?? 500;
  const retry = w.retryMs ?? 10;
  const deletedBytes = Math.floor(w.poolBytes / 4 / MiB) * MiB;
  for (const path of ['offload', 'host'] as BenchPath[]) {
    ctx.progress(`thin pool to out-of-space and back (${path === 'offload' ? 'UNMAP reclaims' : 'no UNMAP: the pool is grown'})`);
    const array = new StorageArray({ capacityBytes: w.poolBytes, softThresholdPercent: 80, arrayId: 0x7417 });
    const lun = array.createLun({ sizeBytes: 64 * w.poolBytes });
    const release = await ctx.memory.hold(() => storedBytes(array));
    // The VM that will be deleted holds a quarter of the pool at the start.
    const deletedLba = lun.blockCount - deletedBytes / 512;
    const deleted = array.createLun({ sizeBytes: deletedBytes }); // staging, to write distinct data once
    writeDisk(deleted, 1, 9);
    const copy = new Uint8Array(4 * MiB);
    for (let at = 0; at < deletedBytes; at += copy.length) {
      const read = deleted.execute(cdb.read16({ lba: at / 512, blocks: copy.length / 512 }), undefined, { dataIn: copy });
      lun.execute(cdb.write16({ lba: deletedLba + at / 512, blocks: copy.length / 512 }), (read as { data: Uint8Array }).data);
    }
    array.deleteLun(deleted);
    let warnings = 0;
    let stuns = 0;
    let stunnedMs = 0;
    let recoveredAt = 0;
    let exhaustedAt = 0;
    array.on('outOfSpace', () => {
      exhaustedAt ||= fabricNow();
    });
    let fabricNow = (): number => 0;
    const sim = await simulate(ctx, array, async (fabric) => {
      const clock = fabric.clock;
      fabricNow = () => clock.now;
      const host = new ThinHost({ target: fabric.host('esx-1').port(lun), sleep: (ms) => clock.sleep(ms), now: () => clock.now, retryIntervalMs: retry });
      host.on('thresholdWarning', () => warnings++);
      let alarm!: () => void;
      const outOfSpaceAlarm = new Promise<void>((resolve) => (alarm = resolve));
      host.on('stunned', () => {
        stuns++;
        alarm();
      });
      host.on('resumed', (e) => {
        stunnedMs += e.pausedMs;
        recoveredAt = Math.max(recoveredAt, clock.now);
      });
      const data = new Uint8Array(MiB);
      fillPattern(data, 3);
      const vms = Array.from({ length: growers }, async (_, i) => {
        const vm = host.vm(`vm-${i}`);
        const base = (i * w.bytesPerGrower) / 512;
        for (let done = 0; done < w.bytesPerGrower; done += MiB) {
          const r = await vm.execute(cdb.write16({ lba: base + done / 512, blocks: MiB / 512 }), data);
          if (r.status !== 0) throw new Error(`VM write failed with status ${r.status}`);
        }
      });
      const admin = (async () => {
        await outOfSpaceAlarm;
        if (path === 'offload') {
          // The host reclaims the deleted VM's blocks: UNMAP in 256 MiB descriptors.
          const ranges = [];
          for (let at = 0; at < deletedBytes; at += 256 * MiB) ranges.push({ lba: deletedLba + at / 512, blocks: Math.min(256 * MiB, deletedBytes - at) / 512 });
          const list = cdb.unmapParameterList(ranges);
          const r = await host.vm('reclaim').execute(cdb.unmap({ parameterListLength: list.length }), list);
          if (r.status !== 0) throw new Error(`UNMAP failed with status ${r.status}`);
        } else {
          await clock.sleep(operatorDelay);
          array.growPool(deletedBytes);
        }
      })();
      await Promise.all([...vms, admin]);
    });
    release();
    ctx.progress(`  ${path}: ${stuns} VM(s) stunned for ${stunnedMs.toFixed(0)} VM-ms in all, done at ${sim.simulatedMs.toFixed(0)} ms (simulated)`);
    results.push({
      scenario: 'thin-pool-out-of-space',
      path,
      variant: path === 'offload' ? 'UNMAP reclaims the deleted VM' : 'no UNMAP: operator grows the pool',
      bytes: growers * w.bytesPerGrower,
      wallMs: sim.wallMs,
      wallSamples: 1,
      simulatedMs: sim.simulatedMs,
      fabricBytes: sim.fabricBytes,
      commands: sim.commands,
      hostCpuMs: sim.hostCpuMs,
      metrics: { thresholdWarnings: warnings, stunnedVms: stuns, stunnedVmMs: stunnedMs, exhaustedAtMs: exhaustedAt, recoveredAtMs: recoveredAt, poolUsedBytesAfter: array.poolStatus.usedBytes },
    });
  }
  return results;
}
