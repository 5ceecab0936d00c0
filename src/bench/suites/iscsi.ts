/**
 * Over iSCSI, on loopback, measured (no model): this project's target against Debian's tgt when
 * `tgtd` is installed (set up by the suite on its own port), with the same clients for both:
 * libiscsi's iscsi-perf for sequential reads at queue depth 8, the project's initiator for the rest
 * (COMPARE AND WRITE at queue depth 8; cloning 256 MiB, 64 MiB with --quick, by EXTENDED COPY and by host READ/WRITE).
 * Each target runs in its own process, so the client and the target each get a core.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cdb from '../../codec/cdb-encoder.js';
import { cloneRange, type CloneReport } from '../../host/data-mover.js';
import { IscsiSession, parseIscsiUrl } from '../../iscsi/initiator/session.js';
import type { SuiteContext } from '../measure.js';
import type { BenchPath, ScenarioResult } from '../results.js';
import { cpuMsOf, spawnScript } from './script-process.js';
import { CEILING_VARIANT, ceilingReads, ceilingStream } from './tcp-ceiling.js';

const MiB = 1024 * 1024;

/** What the iSCSI suite measured, and why a part was left out. */
export interface IscsiSuiteResult {
  /** Scenario results. */
  readonly results: ScenarioResult[];
  /** Notes for the report (tgt or iscsi-perf not installed, ...). */
  readonly notes: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a !== 'string' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function have(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.error === undefined;
}

/** Runs iscsi-perf for `seconds`; returns its average IOPS and MB/s. */
async function iscsiPerf(url: string, blocks: number, seconds: number): Promise<{ iops: number; mbps: number } | undefined> {
  const out = await new Promise<string>((resolve) => {
    const child = spawn('iscsi-perf', ['-m', '8', '-b', String(blocks), '-t', String(seconds), url]);
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => child.kill(), (seconds + 10) * 1000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  const all = [...out.matchAll(/iops average (\d+) \((\d+) MB\/s\)/g)];
  const last = all.at(-1);
  return last === undefined ? undefined : { iops: Number(last[1]), mbps: Number(last[2]) };
}

/** Debian's tgt on its own port and control port, with two file-backed LUNs, the first `writtenBytes` of LUN 1 random; undefined when it cannot run. */
export async function startTgt(sizeBytes: number, writtenBytes = 256 * MiB): Promise<{ url: (lun: number) => string; stop: () => void } | undefined> {
  if (!have('tgtd', ['-V']) || !have('tgtadm', ['--help'])) return undefined;
  const port = await freePort();
  const control = 100 + (port % 800);
  const dir = mkdtempSync(join(tmpdir(), 'vaai-sim-tgt-'));
  const iqn = 'iqn.2026-11.dev.vaai-sim:tgt';
  const daemon = spawn('tgtd', ['-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout.resume();
  daemon.stderr.resume();
  const adm = (...args: string[]): boolean => spawnSync('tgtadm', ['-C', String(control), '--lld', 'iscsi', ...args]).status === 0;
  // Wait (bounded) until the daemon answers on its control port.
  for (let i = 0; i < 50 && !adm('--op', 'show', '--mode', 'target'); i++) await new Promise((r) => setTimeout(r, 100));
  const files = [join(dir, 'lun1.img'), join(dir, 'lun2.img')];
  for (const f of files) spawnSync('truncate', ['-s', String(sizeBytes), f]);
  // Written data to copy: random bytes at the start of LUN 1.
  spawnSync('dd', ['if=/dev/urandom', `of=${files[0]}`, 'bs=4M', `count=${Math.ceil(Math.min(writtenBytes, sizeBytes) / (4 * MiB))}`, 'conv=notrunc', 'status=none']);
  const ok =
    adm('--op', 'new', '--mode', 'target', '--tid', '1', '-T', iqn) &&
    adm('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', files[0]!) &&
    adm('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '2', '-b', files[1]!) &&
    adm('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
  const stop = (): void => {
    // tgtd ignores SIGTERM while it has targets; it keeps no state worth a clean shutdown.
    daemon.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  if (!ok) {
    stop();
    return undefined;
  }
  return { url: (lun) => `iscsi://127.0.0.1:${port}/${iqn}/${lun}`, stop };
}

/**
 * This project's target in its own process (iscsi-target-process), as tgtd runs in its own: the
 * client and the target each get a core, as on two machines.
 */
async function startVaaiSim(): Promise<{ url: (lun: number) => string; port: number; iqn: string; cpuMs: () => Promise<number | undefined>; stop: () => Promise<number | undefined> }> {
  const child = spawnScript('iscsi-target-process');
  const first = await child.nextLine();
  if (first === undefined) throw new Error('the vaai-sim target process exited before serving');
  const { port, iqn } = JSON.parse(first) as { port: number; iqn: string };
  const stop = async (): Promise<number | undefined> => {
    child.end();
    const last = await child.nextLine();
    return last === undefined ? undefined : (JSON.parse(last) as { maxRssBytes: number }).maxRssBytes;
  };
  return { port, iqn, url: (lun) => `iscsi://127.0.0.1:${port}/${iqn}/${lun}`, cpuMs: () => cpuMsOf(child), stop };
}

/**
 * The host's count of retransmitted TCP segments (Linux /proc/net/snmp, Tcp RetransSegs), or
 * undefined where it cannot be read. On an idle loopback it stays put; when other processes compete
 * for the cores, the kernel reorders loopback segments between the CPUs' queues, retransmits, and
 * sometimes waits out a 200 ms retransmission timeout: a measurement with retransmissions in it says
 * more about the machine than about the target.
 */
function tcpRetransmits(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const v = Number(values[names.indexOf('RetransSegs')]);
    return names.includes('RetransSegs') && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Retransmitted segments since `before` as a metric (none where the count cannot be read). */
function retransmitsSince(before: number | undefined): { tcpRetransmits?: number } {
  const after = tcpRetransmits();
  return before === undefined || after === undefined ? {} : { tcpRetransmits: after - before };
}

/** The raw TCP ceiling's server in its own process (tcp-ceiling-process). */
async function startCeiling(): Promise<{ port: number; cpuMs: () => Promise<number | undefined>; stop: () => Promise<void> }> {
  const child = spawnScript('tcp-ceiling-process');
  const first = await child.nextLine();
  if (first === undefined) throw new Error('the raw TCP ceiling process exited before serving');
  const { port } = JSON.parse(first) as { port: number };
  const stop = async (): Promise<void> => {
    child.end();
    while ((await child.nextLine()) !== undefined);
  };
  return { port, cpuMs: () => cpuMsOf(child), stop };
}

function result(scenario: string, path: BenchPath, variant: string, bytes: number, wallMs: number, samples: number, fabricBytes: number, commands: number, metrics: Record<string, number>): ScenarioResult {
  // Measured on a real (loopback) fabric: no simulated clock and no host CPU model apply.
  return { scenario, path, variant, bytes, wallMs, wallSamples: samples, simulatedMs: null, fabricBytes, commands, hostCpuMs: null, metrics: { ...metrics, measuredOnLoopback: 1 } };
}

/**
 * Points the host paths at any iSCSI LUN (a real array, say) to see what it offloads: sequential
 * reads with iscsi-perf, COMPARE AND WRITE at queue depth 8, and a 256 MiB clone inside the LUN
 * (first 256 MiB to the next 256 MiB) by EXTENDED COPY and by host READ/WRITE. It writes to the
 * LUN: use a scratch LUN of at least 512 MiB.
 */
export async function remoteSuite(ctx: SuiteContext, url: string, seconds: number): Promise<IscsiSuiteResult> {
  const { host, port, targetName, lun: lunNumber } = parseIscsiUrl(url);
  const results: ScenarioResult[] = [];
  const notes: string[] = [];
  const r64 = await iscsiPerf(url, 128, seconds);
  if (r64 !== undefined) results.push(result('remote-read-64KiB-qd8', 'host', `${url} (iscsi-perf)`, 65536, 1000 / r64.iops, r64.iops * seconds, r64.mbps * MiB * seconds, r64.iops * seconds, { iops: r64.iops, mbPerSecond: r64.mbps }));
  else notes.push(`iscsi-perf gave no result against ${url}`);
  const session = await IscsiSession.connect({ host, port, targetName });
  try {
    const lun = session.lun(lunNumber);
    const clone = 256 * MiB;
    for (const offload of [true, false]) {
      ctx.progress(`remote: clone 256 MiB by ${offload ? 'EXTENDED COPY' : 'host READ/WRITE'}`);
      const t0 = performance.now();
      const report = await cloneRange({ source: lun, destination: lun, sourceLba: 0, destinationLba: clone / 512, blocks: clone / 512, offload });
      const ms = performance.now() - t0;
      results.push(result('remote-clone-256MiB', offload ? 'offload' : 'host', offload ? `EXTENDED COPY (${report.offloadedBytes} bytes offloaded, ${report.fallbackSegments} segments fell back)` : 'host READ/WRITE', clone, ms, 1, report.hostBytes * 2, report.xcopyCommands + report.readCommands + report.writeCommands, { mbPerSecond: clone / 1e6 / (ms / 1000), offloadedBytes: report.offloadedBytes, fallbackSegments: report.fallbackSegments }));
    }
  } finally {
    await session.close();
  }
  return { results, notes };
}

/**
 * 64 KiB and 1 MiB sequential reads at queue depth 8, each size against the vaai-sim target, tgt and
 * the raw TCP ceiling one after the other, for `seconds` each; then the ceiling client's receiving
 * capacity (the server streaming 1 MiB payloads back to back). MB/s is iscsi-perf's unit, 2^20 bytes
 * per second. CPU shares are of one core: the target's over the whole iscsi-perf run (login
 * included), the ceiling client's and server's over the measured window.
 */
async function readScenarios(
  ctx: SuiteContext,
  seconds: number,
  server: { readonly url: (lun: number) => string; readonly cpuMs: () => Promise<number | undefined> },
  tgt: { readonly url: (lun: number) => string } | undefined,
  notes: string[],
): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  ctx.progress('iSCSI: starting the raw TCP ceiling server in its own process');
  const ceiling = await startCeiling();
  const percent = (cpuMs: number | undefined, wallMs: number): number => (cpuMs === undefined ? NaN : Math.round((1000 * cpuMs) / wallMs) / 10);
  try {
    for (const [label, blocks] of [['64KiB', 128], ['1MiB', 2048]] as const) {
      const scenario = `iscsi-read-${label}-qd8`;
      for (const [who, url] of [['vaai-sim', server.url(0)], ...(tgt ? [['tgt', tgt.url(1)] as const] : [])] as const) {
        ctx.progress(`iSCSI: ${label} sequential reads at queue depth 8 (iscsi-perf, ${seconds} s) against ${who}`);
        const cpu0 = who === 'vaai-sim' ? await server.cpuMs() : undefined;
        const retrans0 = tcpRetransmits();
        const t0 = performance.now();
        const r = await iscsiPerf(url, blocks, seconds);
        const wallMs = performance.now() - t0;
        const retrans = retransmitsSince(retrans0);
        const cpu: { targetCpuPercent?: number } = cpu0 === undefined ? {} : { targetCpuPercent: percent((await server.cpuMs())! - cpu0, wallMs) };
        if (r === undefined) {
          notes.push(`iscsi-perf gave no result against ${who}`);
          continue;
        }
        ctx.progress(`  ${r.iops} IOPS, ${r.mbps} MB/s${cpu.targetCpuPercent === undefined ? '' : `, the target at ${cpu.targetCpuPercent} % of a core`}`);
        out.push(result(scenario, 'host', `${who} (iscsi-perf)`, blocks * 512, 1000 / r.iops, r.iops * seconds, r.mbps * MiB * seconds, r.iops * seconds, { iops: r.iops, mbPerSecond: r.mbps, ...(cpu.targetCpuPercent === undefined ? {} : { targetCpuPercent: cpu.targetCpuPercent }), ...retrans }));
      }
      ctx.progress(`iSCSI: ${label} reads at queue depth 8 (${seconds} s) against the raw TCP ceiling`);
      const s0 = await ceiling.cpuMs();
      const retrans0 = tcpRetransmits();
      const run = await ceilingReads(ceiling.port, { length: blocks * 512, depth: 8, limit: { seconds } });
      const retrans = retransmitsSince(retrans0);
      const s1 = await ceiling.cpuMs();
      const iops = run.answers / (run.wallMs / 1000);
      const mbps = run.payloadBytes / MiB / (run.wallMs / 1000);
      const metrics = { iops: Math.round(iops), mbPerSecond: Math.round(mbps), clientCpuPercent: percent(run.cpuMs, run.wallMs), serverCpuPercent: percent(s0 === undefined || s1 === undefined ? undefined : s1 - s0, run.wallMs), ...retrans };
      ctx.progress(`  ${metrics.iops} IOPS, ${metrics.mbPerSecond} MB/s; client at ${metrics.clientCpuPercent} %, server at ${metrics.serverCpuPercent} % of a core`);
      out.push(result(scenario, 'host', CEILING_VARIANT, blocks * 512, run.wallMs / run.answers, run.answers, run.payloadBytes, run.answers, metrics));
    }
    // Is the ceiling the client's limit? How fast it receives when the server never waits for it.
    ctx.progress(`iSCSI: the ceiling client receiving 1 MiB payloads sent back to back (${seconds} s)`);
    const stream = await ceilingStream(ceiling.port, { length: MiB, seconds });
    const last = out.findIndex((r) => r.scenario === 'iscsi-read-1MiB-qd8' && r.variant === CEILING_VARIANT);
    const streamMbps = Math.round(stream.payloadBytes / MiB / (stream.wallMs / 1000));
    ctx.progress(`  ${streamMbps} MB/s, the client at ${percent(stream.cpuMs, stream.wallMs)} % of a core`);
    const r = out[last]!;
    out[last] = { ...r, metrics: { ...r.metrics, clientStreamMbPerSecond: streamMbps, clientStreamCpuPercent: percent(stream.cpuMs, stream.wallMs) } };
  } finally {
    await ceiling.stop();
  }
  const retransmitted = out.reduce((n, r) => n + (r.metrics?.['tcpRetransmits'] ?? 0), 0);
  if (retransmitted > 0) {
    notes.push(`${retransmitted} TCP segments were retransmitted on loopback during the read measurements: other processes competed for the cores (loopback segments reordered between the CPUs' queues, some retransmissions waiting out a 200 ms timeout). Such figures say more about the machine than about the targets; compare reads from a run with none.`);
  }
  return out;
}

/** Runs the iSCSI scenarios: each rate measured for `seconds`, clones of `cloneBytes` (at most 256 MiB: the written part of the LUNs). */
export async function iscsiSuite(ctx: SuiteContext, { seconds, cloneBytes }: { readonly seconds: number; readonly cloneBytes: number }): Promise<IscsiSuiteResult> {
  const notes: string[] = [];
  const results: ScenarioResult[] = [];
  const cloneName = `iscsi-clone-${cloneBytes / MiB}MiB`;
  ctx.progress('iSCSI: starting the vaai-sim target in its own process (two 1 GiB LUNs, the first written)');
  const server = await startVaaiSim();
  const iqn = server.iqn;
  const tgt = await startTgt(1024 * MiB, cloneBytes);
  if (tgt === undefined) notes.push('Debian tgt (tgtd) is not installed here: its comparison runs are left out.');
  try {
    const perf = have('iscsi-perf', ['-h']) || spawnSync('iscsi-perf', []).error === undefined;
    if (perf) results.push(...(await readScenarios(ctx, seconds, server, tgt, notes)));
    if (!perf) notes.push('iscsi-perf (Debian libiscsi-bin) is not installed here: the read comparison is left out.');

    // COMPARE AND WRITE, one block, queue depth 8, through the project's initiator.
    ctx.progress(`iSCSI: COMPARE AND WRITE at queue depth 8 for ${seconds} s`);
    const session = await IscsiSession.connect({ host: '127.0.0.1', port: server.port, targetName: iqn });
    const lun = session.lun(1);
    let done = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const lba = 100_000 + w;
        const flip = [new Uint8Array(1024).fill(1, 512), new Uint8Array(1024).fill(1, 0, 512)];
        await lun.execute(cdb.write16({ lba, blocks: 1 }), new Uint8Array(512));
        for (let k = 0; performance.now() < end; k++) {
          const r = await lun.execute(cdb.compareAndWrite({ lba, blocks: 1 }), flip[k & 1]);
          if (r.status !== 0) throw new Error('COMPARE AND WRITE failed over iSCSI');
          done++;
        }
      }),
    );
    const cawPerSecond = done / seconds;
    ctx.progress(`  ${Math.round(cawPerSecond)} per second`);
    results.push(result('iscsi-caw-qd8', 'offload', 'vaai-sim (project initiator)', 512, 1000 / cawPerSecond, done, done * 1024, done, { opsPerSecond: cawPerSecond }));

    // Cloning: EXTENDED COPY against host READ/WRITE through the same target, and host READ/WRITE through tgt.
    const clones: Array<[BenchPath, string, () => Promise<CloneReport>]> = [
      ['offload', 'vaai-sim, EXTENDED COPY', () => cloneRange({ source: session.lun(0), destination: session.lun(1), blocks: cloneBytes / 512 })],
      ['host', 'vaai-sim, host READ/WRITE', () => cloneRange({ source: session.lun(0), destination: session.lun(1), blocks: cloneBytes / 512, offload: false })],
    ];
    let tgtSession: IscsiSession | undefined;
    if (tgt !== undefined) {
      const m = /^iscsi:\/\/127\.0\.0\.1:(\d+)\/([^/]+)\//.exec(tgt.url(1))!;
      tgtSession = await IscsiSession.connect({ host: '127.0.0.1', port: Number(m[1]), targetName: m[2]! });
      const s = tgtSession;
      clones.push(['host', 'tgt, host READ/WRITE', () => cloneRange({ source: s.lun(1), destination: s.lun(2), blocks: cloneBytes / 512, offload: false })]);
    }
    for (const [path, variant, run] of clones) {
      ctx.progress(`iSCSI: clone ${cloneBytes / MiB} MiB (${variant})`);
      const times: number[] = [];
      let report: CloneReport | undefined;
      for (let i = 0; i < Math.max(2, ctx.iterations); i++) {
        await session.lun(1).execute(cdb.writeSame16({ lba: 0, blocks: cloneBytes / 512, unmap: true }), new Uint8Array(512));
        const t0 = performance.now();
        report = await run();
        times.push(performance.now() - t0);
      }
      const ms = times.slice(1).reduce((x, y) => x + y, 0) / (times.length - 1); // the first run warms up
      ctx.progress(`  ${ms.toFixed(1)} ms`);
      // Payload bytes the host moved (read and written back); the commands of the last run (every run issues the same).
      const commands = report!.xcopyCommands + report!.readCommands + report!.writeCommands;
      results.push(result(cloneName, path, variant, cloneBytes, ms, times.length - 1, 2 * report!.hostBytes, commands, { mbPerSecond: cloneBytes / 1e6 / (ms / 1000) }));
    }
    await session.close();
    await tgtSession?.close();
  } finally {
    const targetRss = await server.stop();
    if (targetRss !== undefined) notes.push(`The vaai-sim iSCSI target ran in its own process (as tgtd does); its peak RSS, ${(targetRss / MiB).toFixed(0)} MiB, is not part of the benchmark's peak RSS.`);
    tgt?.stop();
  }
  return { results, notes };
}
