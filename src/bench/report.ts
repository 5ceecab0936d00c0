/**
 * The benchmark's verdicts and its human-readable report: which targets this run met, with the
 * figures, and `report.md`.
 * @module
 */
import type { ChartSpec } from './charts.js';
import { formatBytes, formatCount, formatMs, formatWall } from './measure.js';
import { CEILING_VARIANT } from './suites/tcp-ceiling.js';
import type { BenchResults, MemoryInfo, ReportedFigure, ScenarioResult, TargetCheck } from './results.js';

/** The most resident memory a run may use per byte its scenarios hold at its peak. */
export const MAX_RSS_PER_HELD_BYTE = 1.3;

/**
 * The held bytes at the peak from which the memory target is judged. Below it (`--quick` sizes),
 * Node's own resident memory (some 90 MiB with the benchmark's modules loaded) is a large part of
 * the peak whatever the benchmark does, so the ratio is reported and not judged.
 */
export const MEMORY_TARGET_MIN_HELD_BYTES = 1024 ** 3;

function memoryMeasured(m: MemoryInfo): string {
  return `${m.ratio.toFixed(2)} (${formatBytes(m.sampledPeakRssBytes)} resident, ${formatBytes(m.heldBytesAtPeak)} held; ${formatBytes(m.startRssBytes)} resident before the first scenario)`;
}

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
  /** The run's sampled memory peak against the bytes held then. */
  readonly memory: MemoryInfo;
}

/** This run's sequential reads at queue depth 8 of `size` (`64KiB`, `1MiB`): vaai-sim, tgt and the raw TCP ceiling, in MB/s. */
function readRates(results: readonly ScenarioResult[], size: string): { ours?: number; tgt?: number; ceiling?: number } {
  const rate = (match: (variant: string) => boolean): number | undefined => results.find((r) => r.scenario === `iscsi-read-${size}-qd8` && match(r.variant ?? ''))?.metrics?.['mbPerSecond'];
  const ours = rate((v) => v.startsWith('vaai-sim'));
  const tgt = rate((v) => v.startsWith('tgt'));
  const ceiling = rate((v) => v === CEILING_VARIANT);
  return { ...(ours === undefined ? {} : { ours }), ...(tgt === undefined ? {} : { tgt }), ...(ceiling === undefined ? {} : { ceiling }) };
}

/**
 * The read targets (issue 12), each from figures of this one run: 1 MiB reads at least as fast as
 * 64 KiB reads, at least twice tgt's 1 MiB reads, and at least 75 % of the raw TCP ceiling at 1 MiB;
 * 64 KiB reads at least as fast as tgt's.
 */
function readTargets(results: readonly ScenarioResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const mbps = (n: number): string => `${formatCount(n)} MB/s`;
  const small = readRates(results, '64KiB');
  const big = readRates(results, '1MiB');
  if (small.ours !== undefined && small.tgt !== undefined) {
    out.push({ name: 'iSCSI 64KiB sequential reads at queue depth 8 (iscsi-perf), vs Debian tgt', target: 'at least as fast', measured: `${mbps(small.ours)} vs ${mbps(small.tgt)}`, met: small.ours >= small.tgt });
  }
  if (big.ours !== undefined && small.ours !== undefined) {
    out.push({ name: 'iSCSI sequential reads at queue depth 8 (iscsi-perf): 1MiB vs 64KiB', target: 'at least the 64 KiB throughput', measured: `${mbps(big.ours)} vs ${mbps(small.ours)}`, met: big.ours >= small.ours });
  }
  if (big.ours !== undefined && big.tgt !== undefined) {
    out.push({ name: 'iSCSI 1MiB sequential reads at queue depth 8 (iscsi-perf), vs Debian tgt', target: 'at least 2x', measured: `${(big.ours / big.tgt).toFixed(2)}x (${mbps(big.ours)} vs ${mbps(big.tgt)})`, met: big.ours >= 2 * big.tgt });
  }
  if (big.ours !== undefined && big.ceiling !== undefined) {
    const share = big.ours / big.ceiling;
    out.push({ name: 'iSCSI 1MiB sequential reads at queue depth 8 (iscsi-perf), vs the raw TCP ceiling (a Node loopback stream of the same sizes)', target: 'at least 75 %', measured: `${(100 * share).toFixed(0)} % (${mbps(big.ours)} vs ${mbps(big.ceiling)})`, met: share >= 0.75 });
  }
  return out;
}

/**
 * The fencing targets (issue 14), one per cluster size: with persistent reservations a survivor owns
 * the disk, every survivor can still write, and the failed node is refused within 100 ms of the
 * membership timeout (one PREEMPT AND ABORT; the rest is detection, which fencing cannot shorten);
 * SCSI-2 needs the challenge wait on top and leaves one survivor with the disk.
 */
function fencingTargets(results: readonly ScenarioResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const pr of results.filter((r) => r.scenario.startsWith('fencing-') && r.path === 'offload' && r.metrics !== undefined)) {
    const m = pr.metrics!;
    const scsi2 = find(results, pr.scenario, 'host')?.metrics;
    const nodes = m['nodes']!;
    const action = Math.max(m['takeoverMs']!, m['failedNodeRefusedAfterMs']!) - m['detectionMs']!;
    out.push({
      name: `fencing, ${nodes} nodes, the holder fails (fabric model): survivors own the disk, the failed node is refused`,
      target: 'PR: within 100 ms of the membership timeout, every survivor writing',
      measured: `PR ${formatMs(m['takeoverMs']!)} after the failure (${formatMs(action)} after detection), ${m['survivorsWithAccess']} of ${nodes - 1} survivors writing${scsi2 === undefined ? '' : `; SCSI-2 ${formatMs(scsi2['takeoverMs']!)}, ${scsi2['survivorsWithAccess']} of ${nodes - 1}`}`,
      met: action <= 100 && m['survivorsWithAccess'] === nodes - 1,
    });
  }
  return out;
}

/**
 * The multipath targets (issue 13), each from this one run: Round Robin over two link-bound paths
 * at least 1.8x Fixed's throughput (reads and writes); a failover whose error is reported (link
 * down, group standby) pauses I/O no longer than one checker interval and one round trip; the iSCSI
 * clone with a portal killed half-way completes and equals its source.
 */
function multipathTargets(results: readonly ScenarioResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const op of ['read', 'write']) {
    const rows = results.filter((r) => r.scenario === `multipath-${op}-1MiB`);
    const fixed = rows.find((r) => r.variant?.startsWith('Fixed'))?.metrics?.['mbPerSecond'];
    const rr2 = rows.find((r) => r.variant === 'Round Robin, 2 paths')?.metrics?.['mbPerSecond'];
    if (fixed === undefined || rr2 === undefined) continue;
    out.push({
      name: `multipath, streaming 1 MiB ${op}s (fabric model): Round Robin over 2 paths, each its own link, vs Fixed`,
      target: 'at least 1.8x',
      measured: `${(rr2 / fixed).toFixed(2)}x (${formatCount(Math.round(rr2))} vs ${formatCount(Math.round(fixed))} MB/s)`,
      met: rr2 >= 1.8 * fixed,
    });
  }
  for (const r of results.filter((x) => x.scenario === 'multipath-failover' && x.variant !== 'black hole' && x.metrics !== undefined)) {
    const m = r.metrics!;
    const bound = m['checkerIntervalMs']! + m['roundTripMs']!;
    out.push({
      name: `multipath failover, ${r.variant} under streaming reads (fabric model): the I/O pause`,
      target: `at most the checker interval + one round trip (${formatMs(bound)})`,
      measured: formatMs(m['pauseMs']!),
      met: m['pauseMs']! <= bound,
    });
  }
  const clone = find(results, 'multipath-iscsi-clone', 'host');
  if (clone?.metrics !== undefined) {
    const m = clone.metrics;
    out.push({
      name: `multipath over iSCSI: a ${formatBytes(clone.bytes)} host READ/WRITE clone over two portals with portal 1 killed half-way`,
      target: 'completes, and the copy equals its source',
      measured: `${m['verified'] === 1 ? 'verified' : 'NOT verified'} in ${formatMs(clone.wallMs)}; I/O pause ${formatMs(m['pauseMs']!)}, ${m['failovers']} failovers`,
      met: m['verified'] === 1,
    });
  }
  return out;
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
    out.push({ name: 'COMPARE AND WRITE of one block through execute vs a raw compare-then-copy loop, per second', target: 'at least 0.25x', measured: `${(ops / raw).toFixed(2)}x (${formatCount(Math.round(ops))} vs ${formatCount(Math.round(raw))})`, met: ops / raw >= 0.25 });
  }
  const ats32 = find(results, 'locking-32-hosts', 'offload');
  const res32 = find(results, 'locking-32-hosts', 'host');
  if (ats32?.metrics && res32?.metrics) {
    const ratio = ats32.metrics['lockOpsPerSecond']! / res32.metrics['lockOpsPerSecond']!;
    out.push({ name: 'locking, 32 hosts: lock operations per simulated second, ATS vs reservations', target: 'at least 10x', measured: `${ratio.toFixed(1)}x (${formatCount(Math.round(ats32.metrics['lockOpsPerSecond']!))} vs ${formatCount(Math.round(res32.metrics['lockOpsPerSecond']!))})`, met: ratio >= 10 });
    const vm = ats32.metrics['vmIoPerSecond']! / res32.metrics['vmIoPerSecond']!;
    out.push({
      name: 'locking, 32 hosts: VM I/O on the other hosts',
      target: 'keeps flowing under ATS, stalls under reservations',
      measured: `${formatCount(Math.round(ats32.metrics['vmIoPerSecond']!))} vs ${formatCount(Math.round(res32.metrics['vmIoPerSecond']!))} VM I/O per simulated second; ${res32.metrics['vmReservationConflicts']} conflicts under reservations, ${ats32.metrics['vmReservationConflicts']} under ATS`,
      met: vm >= 2 && ats32.metrics['vmReservationConflicts'] === 0,
    });
  }
  out.push(...readTargets(results));
  out.push(...multipathTargets(results));
  out.push(...fencingTargets(results));
  const iscsiClone = results.find((r) => r.scenario.startsWith('iscsi-clone-'))?.scenario ?? '';
  const xcopy = find(results, iscsiClone, 'offload');
  const hostSame = find(results, iscsiClone, 'host', 'vaai-sim, host READ/WRITE');
  const hostTgt = find(results, iscsiClone, 'host', 'tgt, host READ/WRITE');
  if (xcopy && hostSame) {
    out.push({ name: `iSCSI clone of ${formatBytes(xcopy.bytes)}: EXTENDED COPY vs host READ/WRITE through the same target`, target: 'at least 20x faster', measured: `${(hostSame.wallMs / xcopy.wallMs).toFixed(0)}x (${formatMs(xcopy.wallMs)} vs ${formatMs(hostSame.wallMs)})`, met: hostSame.wallMs / xcopy.wallMs >= 20 });
  }
  if (xcopy && hostTgt) {
    out.push({ name: `iSCSI clone of ${formatBytes(xcopy.bytes)}: EXTENDED COPY vs host READ/WRITE through Debian tgt`, target: 'faster', measured: `${formatMs(xcopy.wallMs)} vs ${formatMs(hostTgt.wallMs)}`, met: xcopy.wallMs < hostTgt.wallMs });
  }
  const full = find(results, 'backup-full', 'host');
  const incremental = find(results, 'backup-incremental', 'host');
  if (full?.metrics !== undefined && incremental?.metrics !== undefined) {
    const rounds = incremental.metrics['rounds'] ?? 0;
    const verified = (full.metrics['verified'] ?? 0) + (incremental.metrics['verified'] ?? 0);
    out.push({
      name: 'Backup with changed block tracking: incremental vs full bytes read',
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
  const m = inputs.memory;
  if (m.heldBytesAtPeak >= MEMORY_TARGET_MIN_HELD_BYTES) {
    out.push({ name: 'peak RSS ÷ the bytes the scenarios held at that moment', target: `at most ${MAX_RSS_PER_HELD_BYTE}`, measured: memoryMeasured(m), met: m.ratio <= MAX_RSS_PER_HELD_BYTE });
  }
  return out;
}

/** The absolute rates of this run, which depend on the machine: reported, not judged. */
export function reportedFigures(results: readonly ScenarioResult[], memory: MemoryInfo): ReportedFigure[] {
  const out: ReportedFigure[] = [];
  if (memory.heldBytesAtPeak < MEMORY_TARGET_MIN_HELD_BYTES) {
    out.push({ name: `peak RSS ÷ the bytes the scenarios held at that moment (judged from ${formatBytes(MEMORY_TARGET_MIN_HELD_BYTES)} held, where Node's own memory weighs little)`, value: memoryMeasured(memory) });
  }
  const rate = (n: number): string => `${formatCount(Math.round(n))} per second`;
  const ats = find(results, 'ats-1block', 'offload');
  if (ats?.metrics?.['opsPerSecond'] !== undefined) out.push({ name: 'COMPARE AND WRITE of one block through execute, in-process', value: rate(ats.metrics['opsPerSecond']) });
  const caw = find(results, 'iscsi-caw-qd8', 'offload');
  if (caw?.metrics?.['opsPerSecond'] !== undefined) out.push({ name: 'COMPARE AND WRITE of one block over loopback iSCSI at queue depth 8', value: rate(caw.metrics['opsPerSecond']) });
  for (const r of results.filter((s) => s.scenario.startsWith('iscsi-read-') && s.metrics?.['mbPerSecond'] !== undefined)) {
    const m = r.metrics!;
    const cpu = [
      m['targetCpuPercent'] === undefined ? '' : `the target at ${m['targetCpuPercent']} % of a core`,
      m['clientCpuPercent'] === undefined ? '' : `client at ${m['clientCpuPercent']} %, server at ${m['serverCpuPercent']} % of a core`,
      m['tcpRetransmits'] === undefined ? '' : `${formatCount(m['tcpRetransmits'])} TCP segments retransmitted meanwhile`,
    ].filter((x) => x !== '');
    out.push({ name: `${r.scenario}: ${r.variant ?? r.path}`, value: `${formatCount(m['mbPerSecond']!)} MB/s, ${rate(m['iops']!).replace(' per second', ' IOPS')}${cpu.length > 0 ? `; ${cpu.join('; ')}` : ''}` });
    if (m['clientStreamMbPerSecond'] !== undefined) {
      out.push({
        name: 'raw TCP ceiling: its client receiving 1 MiB payloads sent back to back (what the client can take when the server never waits)',
        value: `${formatCount(m['clientStreamMbPerSecond'])} MB/s (${(m['clientStreamMbPerSecond'] / m['mbPerSecond']!).toFixed(2)}x the ceiling's 1 MiB rate), the client at ${m['clientStreamCpuPercent']} % of a core`,
      });
    }
  }
  for (const r of results.filter((x) => x.scenario === 'multipath-black-hole' && x.metrics !== undefined)) {
    const m = r.metrics!;
    const idle = Object.keys(m).filter((k) => k.startsWith('idleDetectionMs@')).map((k) => `${formatMs(m[k]!)} at a ${formatMs(Number(k.slice('idleDetectionMs@'.length)))} checker interval`);
    out.push({ name: `multipath, black-holed path, ${r.variant} (fabric model)`, value: `I/O pause ${formatMs(m['pauseMs']!)}; with no I/O the checker finds the path dead in ${idle.join(', ')} (worst case)` });
  }
  for (const r of results.filter((x) => /^multipath-(read|write)-/.test(x.scenario) && x.variant?.endsWith('4 paths'))) {
    out.push({ name: `multipath, streaming 1 MiB ${r.scenario.includes('read') ? 'reads' : 'writes'}, Round Robin over 4 paths (fabric model)`, value: `${formatCount(Math.round(r.metrics!['mbPerSecond']!))} MB/s (the host's CPU and the array's media bound it, not the links)` });
  }
  const small = readRates(results, '64KiB');
  if (small.ours !== undefined && (small.tgt !== undefined || small.ceiling !== undefined)) {
    const parts = [small.tgt === undefined ? '' : `${(small.ours / small.tgt).toFixed(2)}x Debian tgt`, small.ceiling === undefined ? '' : `${((100 * small.ours) / small.ceiling).toFixed(0)} % of the raw TCP ceiling`].filter((x) => x !== '');
    out.push({ name: 'iSCSI 64KiB sequential reads at queue depth 8 (iscsi-perf), vaai-sim', value: parts.join(', ') });
  }
  return out;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** `report.md`: how the run was made, the targets, the charts (embedded), every scenario, and the notes. */
export function renderReport(results: BenchResults, charts: ReadonlyArray<Pick<ChartSpec, 'file' | 'title'>>): string {
  const lines: string[] = [];
  const m = results.fabric.model;
  lines.push('# vaai-sim benchmark report', '');
  lines.push(`Generated ${results.generatedAt} on Node ${results.machine.node}, ${results.machine.platform}, ${results.machine.cpus} CPU(s)${results.quick ? ', with --quick sizes' : ''}; total ${formatMs(results.totalWallMs)}.`, '');
  lines.push('*Wall* is measured: the in-process simulator doing the work (tinybench: mean ±relative margin of error at 95 %, p99 and the number of runs). *Simulated* is modelled: the same host code on the fabric model');
  lines.push(`(preset \`${results.fabric.preset}\`; link ${formatCount(Math.round(m.linkBytesPerSecond / 1e6))} MB/s per direction, ${m.commandLatencyMs} ms per command round trip, queue depth ${m.queueDepth}). Runs over loopback iSCSI are measured only: *n/a* where no model applies. Ratios are from this one run.`, '');
  lines.push('## Targets', '');
  lines.push(row(['', 'measure', 'target', 'this run']), row(['---', '---', '---', '---']));
  for (const t of results.targets) lines.push(row([t.met ? 'met' : '**MISSED**', t.name, t.target, t.measured]));
  if (results.figures.length > 0) {
    lines.push('', 'Reported, not judged (absolute rates depend on the machine):', '');
    for (const f of results.figures) lines.push(`- ${f.name}: ${f.value}`);
  }
  lines.push('', '## Charts', '');
  const missing = results.notes.find((n) => n.startsWith('Charts need'));
  if (missing !== undefined) lines.push(missing, '');
  for (const c of charts) lines.push(`![${c.title}](${c.file})`, '');
  lines.push('## Scenarios', '');
  lines.push(row(['scenario', 'path', 'how', 'bytes', 'wall (mean ±rme, p99, runs)', 'simulated', 'fabric bytes', 'commands', 'host CPU (model)']), row(Array(9).fill('---')));
  for (const s of results.scenarios) {
    const wall = formatWall(s.wallMs, { samples: s.wallSamples, ...(s.wallRmePercent === undefined ? {} : { rmePercent: s.wallRmePercent }), ...(s.wallP99Ms === undefined ? {} : { p99Ms: s.wallP99Ms }) });
    lines.push(row([s.scenario, s.path, s.variant ?? '', s.bytes > 0 ? formatBytes(s.bytes) : '', wall, s.simulatedMs === null ? 'n/a' : formatMs(s.simulatedMs), formatBytes(s.fabricBytes), formatCount(s.commands), s.hostCpuMs === null ? 'n/a' : formatMs(s.hostCpuMs)]));
  }
  const locking = results.scenarios.filter((s) => s.scenario.startsWith('locking-'));
  if (locking.length > 0) {
    lines.push('', '## Locking', '');
    lines.push(row(['hosts', 'method', 'lock ops / simulated s', 'VM I/O / simulated s', 'VM I/O conflicts', 'worst VM I/O latency']), row(Array(6).fill('---')));
    for (const s of locking) {
      const x = s.metrics!;
      lines.push(row([String(x['hosts']), s.variant ?? s.path, formatCount(Math.round(x['lockOpsPerSecond']!)), formatCount(Math.round(x['vmIoPerSecond']!)), formatCount(x['vmReservationConflicts']!), formatMs(x['vmMaxLatencyMs']!)]));
    }
  }
  const thin = results.scenarios.filter((s) => s.scenario === 'thin-pool-out-of-space');
  if (thin.length > 0) {
    lines.push('', '## Thin pool out of space', '');
    lines.push(row(['path', 'how', 'VMs stunned', 'stunned VM-ms', 'pool exhausted at', 'all resumed at', 'finished at']), row(Array(7).fill('---')));
    for (const s of thin) {
      const x = s.metrics!;
      lines.push(row([s.path, s.variant ?? '', String(x['stunnedVms']), formatMs(x['stunnedVmMs']!), formatMs(x['exhaustedAtMs']!), formatMs(x['recoveredAtMs']!), formatMs(s.simulatedMs ?? 0)]));
    }
  }
  const mem = results.memory;
  lines.push('', '## Memory', '');
  lines.push(`Peak resident memory sampled: ${formatBytes(mem.sampledPeakRssBytes)} while the scenarios held ${formatBytes(mem.heldBytesAtPeak)} of data (ratio ${mem.ratio.toFixed(2)}; ${formatCount(mem.samples)} samples). Before the first scenario: ${formatBytes(mem.startRssBytes)}. The operating system's maximum for the process: ${formatBytes(results.peakRssBytes)}.`);
  if (results.notes.length > 0) lines.push('', '## Notes', '', ...results.notes.map((n) => `- ${n}`));
  lines.push('');
  return lines.join('\n');
}
