/**
 * Replication traffic with and without offloads. Two disks on a source array, each mirrored
 * synchronously by a {@link ReplicationFilter} to its pair on a second array. A VM is cloned from
 * one disk to the other and a region is zeroed: with offloads (EXTENDED COPY, WRITE SAME) the
 * replication ships the same offloads to the replica array; without (host READ/WRITE, zero
 * buffers) it ships every byte. Reported: bytes and commands sent over the replication link,
 * measured time, and the link time modelled at the fabric's link rate and command latency. At the
 * end each replica must equal its source (checked).
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import { toHex as hex } from '../../codec/bytes.js';
import * as cdb from '../../codec/cdb-encoder.js';
import { cloneRange } from '../../host/data-mover.js';
import { FilterChain, FilterDomain } from '../../host/filters/chain.js';
import { ReplicationFilter } from '../../host/filters/replication.js';
import { zeroRange } from '../../host/zeroing.js';
import { storedBytes, type SuiteContext } from '../measure.js';
import type { BenchPath, ScenarioResult } from '../results.js';
import { verifyEqual, writeDisk } from '../workloads.js';

const MiB = 1024 * 1024;

/** Runs the scenario both ways. */
export async function replicationSuite(ctx: SuiteContext, w: { readonly diskBytes: number; readonly cloneBytes: number }): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const path of ['offload', 'host'] as BenchPath[]) {
    const offload = path === 'offload';
    ctx.progress(`replication: clone ${w.cloneBytes / MiB} MiB and zero ${w.cloneBytes / MiB} MiB on a synchronously replicated pair (${offload ? 'EXTENDED COPY and WRITE SAME' : 'host READ/WRITE and zero writes'})`);
    const source = new StorageArray({ capacityBytes: 4 * w.diskBytes, arrayId: 0x5e1 });
    const remote = new StorageArray({ capacityBytes: 4 * w.diskBytes, arrayId: 0x5e2 });
    const release = await ctx.memory.hold(() => storedBytes(source) + storedBytes(remote));
    const disks = [source.createLun({ sizeBytes: w.diskBytes }), source.createLun({ sizeBytes: w.diskBytes })];
    const replicas = [remote.createLun({ sizeBytes: w.diskBytes }), remote.createLun({ sizeBytes: w.diskBytes })];
    writeDisk(disks[0]!, 1, 21);
    const pairs = new Map(disks.map((d, i) => [hex(d.naaDesignator), replicas[i]!.naaDesignator]));
    const domain = new FilterDomain();
    const filters = replicas.map((r) => new ReplicationFilter({ replica: r, mode: 'sync', pairs }));
    const chains = await Promise.all(disks.map((d, i) => FilterChain.create(d, { domain, filters: [filters[i]!] })));
    for (const f of filters) if (!(await f.initialSync())) throw new Error('replication suite: initial sync failed');
    const before = filters.map((f) => ({ ...f.stats }));
    const t0 = performance.now();
    const blocks = w.cloneBytes / 512;
    await cloneRange({ source: chains[0]!, destination: chains[1]!, blocks, offload });
    await zeroRange({ target: chains[1]!, lba: blocks, blocks, offload });
    const wallMs = performance.now() - t0;
    disks.forEach((d, i) => verifyEqual(d, replicas[i]!, d.blockCount, `replica ${i} (against its source)`));
    const bytes = filters.reduce((n, f, i) => n + f.stats.bytes - before[i]!.bytes, 0);
    const commands = filters.reduce((n, f, i) => n + f.stats.commands - before[i]!.commands, 0);
    const offloaded = filters.reduce((n, f, i) => n + f.stats.offloadedCopies - before[i]!.offloadedCopies, 0);
    // The replication link, modelled: its payload at the link rate, each command one latency (sync: in series).
    const linkMs = (bytes / ctx.model.linkBytesPerSecond) * 1000 + commands * ctx.model.commandLatencyMs;
    results.push({
      scenario: 'replication-clone-and-zero',
      path,
      variant: offload ? 'offloads replicated as offloads' : 'host copy and zero writes replicated as bytes',
      bytes: 2 * w.cloneBytes,
      wallMs,
      wallSamples: 1,
      simulatedMs: linkMs,
      fabricBytes: bytes,
      commands,
      hostCpuMs: 0,
      metrics: { replicationBytes: bytes, replicationCommands: commands, offloadedCopies: offloaded, replicasVerified: 2 },
    });
    release();
    ctx.progress(`  ${(bytes / MiB).toFixed(1)} MiB in ${commands} commands over the replication link (${offloaded} EXTENDED COPY shipped as EXTENDED COPY); replicas verified`);
  }
  return results;
}
