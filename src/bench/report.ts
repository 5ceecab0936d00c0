/**
 * The benchmark's verdicts and its human-readable report: which targets this run met, with the
 * figures, and `report.md`.
 * @module
 */
import { formatBytes, formatCount, formatMs } from './measure.js';
import type { BenchResults, ScenarioResult, TargetCheck } from './results.js';

const GiB = 1024 ** 3;

function find(results: readonly ScenarioResult[], scenario: string, path: string, variant?: string): ScenarioResult | undefined {
  return results.find((r) => r.scenario === scenario && r.path === path && (variant === undefined || r.variant === variant));
}

/** Extra figures the targets need that are not scenario results. */
export interface TargetInputs {
  /** Mean ms of `Uint8Array.set` over the clone's bytes. */
  readonly typedArraySetMs?: number;
  /** Name of the full-disk clone scenario. */
  readonly cloneScenario?: string;
  /** Names of the zeroing pair: WRITE SAME UNMAP over the large LUN, host zeros over the small one. */
  readonly zeroPair?: readonly [offload: string, host: string];
  /** Peak RSS of the run in bytes. */
  readonly peakRssBytes: number;
}

/** Checks the project's performance targets against this run's results. */
export function checkTargets(results: readonly ScenarioResult[], inputs: TargetInputs): TargetCheck[] {
  const out: TargetCheck[] = [];
  const clone = inputs.cloneScenario;
  if (clone !== undefined) {
    const shared = find(results, clone, 'offload', 'shared extents');
    const host = find(results, clone, 'host');
    if (shared && host) {
      const ratio = host.wallMs / shared.wallMs;
      out.push({ name: `${clone}: offload (shared extents) vs host, wall-clock`, target: 'at least 100x faster', measured: `${ratio.toFixed(0)}x (${formatMs(shared.wallMs)} vs ${formatMs(host.wallMs)})`, met: ratio >= 100 });
    }
    const copy = find(results, clone, 'offload', 'byte copy');
    if (copy && inputs.typedArraySetMs !== undefined) {
      const ratio = inputs.typedArraySetMs / copy.wallMs;
      out.push({
        name: `${clone}: offload in byte-copy mode vs Uint8Array.set of the same bytes`,
        target: 'at least 0.7x the bandwidth',
        measured: `${ratio.toFixed(2)}x (${formatMs(copy.wallMs)} vs ${formatMs(inputs.typedArraySetMs)})`,
        met: ratio >= 0.7,
      });
    }
  }
  if (inputs.zeroPair !== undefined) {
    const big = find(results, inputs.zeroPair[0], 'offload');
    const small = find(results, inputs.zeroPair[1], 'host');
    if (big && small) {
      out.push({
        name: `zero ${formatBytes(big.bytes)} with WRITE SAME UNMAP vs host-writing zeros over ${formatBytes(small.bytes)}, wall-clock`,
        target: 'less wall-clock',
        measured: `${formatMs(big.wallMs)} vs ${formatMs(small.wallMs)}`,
        met: big.wallMs < small.wallMs,
      });
    }
  }
  const ats = find(results, 'ats-1block', 'offload');
  if (ats?.metrics !== undefined) {
    const ops = ats.metrics['opsPerSecond']!;
    const raw = ats.metrics['rawLoopOpsPerSecond']!;
    out.push({ name: 'COMPARE AND WRITE of one block through execute', target: 'at least 2,000,000 per second', measured: `${Math.round(ops).toLocaleString('en-US')} per second`, met: ops >= 2e6 });
    out.push({ name: 'COMPARE AND WRITE vs a raw compare-then-copy loop', target: 'at least 0.25x', measured: `${(ops / raw).toFixed(2)}x`, met: ops / raw >= 0.25 });
  }
  const ats32 = find(results, 'locking-32-hosts', 'offload');
  const res32 = find(results, 'locking-32-hosts', 'host');
  if (ats32?.metrics && res32?.metrics) {
    const ratio = ats32.metrics['lockOpsPerSecond']! / res32.metrics['lockOpsPerSecond']!;
    out.push({ name: 'locking, 32 hosts: lock operations per simulated second, ATS vs reservations', target: 'at least 10x', measured: `${ratio.toFixed(1)}x (${Math.round(ats32.metrics['lockOpsPerSecond']!)} vs ${Math.round(res32.metrics['lockOpsPerSecond']!)})`, met: ratio >= 10 });
    const vm = ats32.metrics['vmIoPerSecond']! / res32.metrics['vmIoPerSecond']!;
    out.push({
      name: 'locking, 32 hosts: VM I/O on the other hosts',
      target: 'keeps flowing under ATS, stalls under reservations',
      measured: `${Math.round(ats32.metrics['vmIoPerSecond']!)} vs ${Math.round(res32.metrics['vmIoPerSecond']!)} VM I/O per simulated second; ${res32.metrics['vmReservationConflicts']} conflicts under reservations, ${ats32.metrics['vmReservationConflicts']} under ATS`,
      met: vm >= 2 && ats32.metrics['vmReservationConflicts'] === 0,
    });
  }
  const reads = ['64KiB', '1MiB'];
  for (const size of reads) {
    const ours = results.find((r) => r.scenario === `iscsi-read-${size}-qd8` && r.variant?.startsWith('vaai-sim'));
    const tgt = results.find((r) => r.scenario === `iscsi-read-${size}-qd8` && r.variant?.startsWith('tgt'));
    if (ours?.metrics && tgt?.metrics) {
      out.push({ name: `iSCSI ${size} sequential reads at queue depth 8 (iscsi-perf), vs Debian tgt`, target: 'at least as fast', measured: `${ours.metrics['mbPerSecond']} vs ${tgt.metrics['mbPerSecond']} MB/s`, met: ours.metrics['mbPerSecond']! >= tgt.metrics['mbPerSecond']! });
    }
  }
  const caw = find(results, 'iscsi-caw-qd8', 'offload');
  if (caw?.metrics) out.push({ name: 'iSCSI COMPARE AND WRITE of one block at queue depth 8', target: 'at least 30,000 per second', measured: `${Math.round(caw.metrics['opsPerSecond']!).toLocaleString('en-US')} per second`, met: caw.metrics['opsPerSecond']! >= 30000 });
  const xcopy = find(results, 'iscsi-clone-256MiB', 'offload');
  const hostSame = find(results, 'iscsi-clone-256MiB', 'host', 'vaai-sim, host READ/WRITE');
  const hostTgt = find(results, 'iscsi-clone-256MiB', 'host', 'tgt, host READ/WRITE');
  if (xcopy && hostSame) {
    out.push({ name: 'iSCSI clone of 256 MiB: EXTENDED COPY vs host READ/WRITE through the same target', target: 'at least 20x faster', measured: `${(hostSame.wallMs / xcopy.wallMs).toFixed(0)}x (${formatMs(xcopy.wallMs)} vs ${formatMs(hostSame.wallMs)})`, met: hostSame.wallMs / xcopy.wallMs >= 20 });
  }
  if (xcopy && hostTgt) {
    out.push({ name: 'iSCSI clone of 256 MiB: EXTENDED COPY vs host READ/WRITE through Debian tgt', target: 'faster', measured: `${formatMs(xcopy.wallMs)} vs ${formatMs(hostTgt.wallMs)}`, met: xcopy.wallMs < hostTgt.wallMs });
  }
  const full = find(results, 'backup-full', 'host');
  const incremental = find(results, 'backup-incremental', 'host');
  if (full?.metrics !== undefined && incremental?.metrics !== undefined) {
    const rounds = incremental.metrics['rounds'] ?? 0;
    const verified = (full.metrics['verified'] ?? 0) + (incremental.metrics['verified'] ?? 0);
    out.push({
      name: 'Backup with changed block tracking: incremental vs full bytes read; restores verified',
      target: 'incremental reads only what changed; every restore equals the disk at backup time',
      measured: `${((full.metrics['bytesRead'] ?? 0) / (incremental.metrics['bytesRead'] || 1)).toFixed(1)}x fewer bytes; ${verified} of ${rounds + 1} restores verified`,
      met: verified === rounds + 1 && (incremental.metrics['bytesRead'] ?? Infinity) < (full.metrics['bytesRead'] ?? 0),
    });
  }
  const replOffload = find(results, 'replication-clone-and-zero', 'offload');
  const replHost = find(results, 'replication-clone-and-zero', 'host');
  if (replOffload !== undefined && replHost !== undefined) {
    out.push({
      name: 'Replication of a clone and a zeroing: bytes over the replication link, offloads vs host path',
      target: 'offloads replicate as offloads (a small fraction of the bytes)',
      measured: `${formatBytes(replOffload.fabricBytes)} in ${replOffload.commands} commands vs ${formatBytes(replHost.fabricBytes)} in ${replHost.commands} commands`,
      met: replOffload.fabricBytes * 100 < replHost.fabricBytes,
    });
  }
  out.push({ name: 'peak RSS of the benchmark', target: 'under 2 GiB', measured: formatBytes(inputs.peakRssBytes), met: inputs.peakRssBytes < 2 * GiB });
  return out;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** `report.md`: how the run was made, the targets, every scenario, and the charts. */
export function renderReport(results: BenchResults, charts: readonly string[], chartNote: string | undefined): string {
  const lines: string[] = [];
  lines.push('# vaai-sim benchmark report', '');
  lines.push(`Generated ${results.generatedAt} on Node ${results.machine.node}, ${results.machine.platform}, ${results.machine.cpus} CPU(s)${results.quick ? ', with --quick sizes' : ''}; total ${formatMs(results.totalWallMs)}.`, '');
  lines.push('*Wall* is measured: the in-process simulator doing the work (tinybench mean of the runs shown). *Simulated* is modelled: the same host code on the fabric model');
  lines.push(`(preset \`${results.fabric.preset}\`; link ${(results.fabric.model.linkBytesPerSecond / 1e6).toFixed(0)} MB/s per direction, ${results.fabric.model.commandLatencyMs} ms per command round trip, queue depth ${results.fabric.model.queueDepth}). Ratios are from this one run.`, '');
  lines.push('## Targets', '');
  lines.push(row(['', 'measure', 'target', 'this run']), row(['---', '---', '---', '---']));
  for (const t of results.targets) lines.push(row([t.met ? 'met' : '**missed**', t.name, t.target, t.measured]));
  lines.push('', '## Scenarios', '');
  lines.push(row(['scenario', 'path', 'how', 'bytes', 'wall', 'runs', 'simulated', 'fabric bytes', 'commands', 'host CPU (model)']), row(Array(10).fill('---')));
  for (const s of results.scenarios) {
    lines.push(row([s.scenario, s.path, s.variant ?? '', s.bytes > 0 ? formatBytes(s.bytes) : '', formatMs(s.wallMs), String(s.wallSamples), s.simulatedMs === null ? 'n/a' : formatMs(s.simulatedMs), formatBytes(s.fabricBytes), formatCount(s.commands), s.hostCpuMs === null ? 'n/a' : formatMs(s.hostCpuMs)]));
  }
  const locking = results.scenarios.filter((s) => s.scenario.startsWith('locking-'));
  if (locking.length > 0) {
    lines.push('', '## Locking', '');
    lines.push(row(['hosts', 'method', 'lock ops / simulated s', 'VM I/O / simulated s', 'VM I/O conflicts', 'worst VM I/O latency']), row(Array(6).fill('---')));
    for (const s of locking) {
      const m = s.metrics!;
      lines.push(row([String(m['hosts']), s.variant ?? s.path, Math.round(m['lockOpsPerSecond']!).toLocaleString('en-US'), Math.round(m['vmIoPerSecond']!).toLocaleString('en-US'), String(m['vmReservationConflicts']), formatMs(m['vmMaxLatencyMs']!)]));
    }
  }
  const thin = results.scenarios.filter((s) => s.scenario === 'thin-pool-out-of-space');
  if (thin.length > 0) {
    lines.push('', '## Thin pool out of space', '');
    lines.push(row(['path', 'how', 'VMs stunned', 'stunned VM-ms', 'pool exhausted at', 'all resumed at', 'finished at']), row(Array(7).fill('---')));
    for (const s of thin) {
      const m = s.metrics!;
      lines.push(row([s.path, s.variant ?? '', String(m['stunnedVms']), formatMs(m['stunnedVmMs']!), formatMs(m['exhaustedAtMs']!), formatMs(m['recoveredAtMs']!), formatMs(s.simulatedMs ?? 0)]));
    }
  }
  if (results.notes.length > 0) lines.push('', '## Not measured here', '', ...results.notes.map((n) => `- ${n}`));
  lines.push('', '## Charts', '');
  if (chartNote !== undefined) lines.push(chartNote, '');
  for (const c of charts) lines.push(`![${c}](${c})`, '');
  return lines.join('\n');
}
