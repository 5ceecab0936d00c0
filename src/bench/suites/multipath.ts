/**
 * The multipath suite (issue 13). On the fabric model (simulated time), a multipath device over
 * fabric paths, each path host port -> its own link -> one target port:
 * - streaming 1 MiB reads and writes at the host's queue depth, Fixed (one path used of two) against
 *   Round Robin (switching every command) over 1, 2 and 4 paths;
 * - the I/O pause of a streaming workload when the path it uses goes down (errors reported at
 *   once), is black-holed (nothing answers: the command timeout decides), or its target port group
 *   goes standby (02/04/0B, 06/2A/06); for the black hole, the pause as a function of the command
 *   timeout, beside the time the path checker takes to find the path dead when no I/O flows.
 * Over loopback iSCSI (real time): a host READ/WRITE clone through a multipath device over two
 * portals of an in-process server, with portal 1's link taken down half-way; the copy is compared
 * with its source and the pause reported.
 * @module
 */
import * as cdb from '../../codec/cdb-encoder.js';
import { cloneRange } from '../../host/data-mover.js';
import { Fabric, type FabricPath } from '../../host/fabric.js';
import { MultipathDevice } from '../../host/multipath/device.js';
import type { PathSelectionPolicy } from '../../host/multipath/psp.js';
import type { ScsiTarget } from '../../host/target.js';
import { IscsiServer } from '../../iscsi/target/server.js';
import { IscsiSession } from '../../iscsi/initiator/session.js';
import { StorageArray } from '../../scsi/storage-array.js';
import type { Lun } from '../../scsi/logical-unit.js';
import type { TargetPort } from '../../scsi/ports.js';
import { formatBytes, formatMs, storedBytes, type SuiteContext } from '../measure.js';
import type { ScenarioResult } from '../results.js';
import { fillPattern } from '../workloads.js';

const MiB = 1024 * 1024;
const BLOCK = 512;

/** Sizes of the multipath suite. */
export interface MultipathWorkload {
  /** Bytes each throughput run reads or writes (1 MiB commands). */
  readonly streamBytes: number;
  /** Bytes of the iSCSI clone with a portal killed half-way. */
  readonly cloneBytes: number;
  /** Command timeouts the black-hole run is swept over, ms. */
  readonly commandTimeoutsMs: readonly number[];
  /** Path checker intervals whose idle detection time is shown, ms. */
  readonly checkerIntervalsMs: readonly number[];
}

/** Scenario names of the suite. */
export const MULTIPATH_SCENARIOS = {
  read: 'multipath-read-1MiB',
  write: 'multipath-write-1MiB',
  failover: 'multipath-failover',
  blackHole: 'multipath-black-hole',
  iscsi: 'multipath-iscsi-clone',
} as const;

/** The policies the throughput runs compare, by name in the results. */
const POLICIES: ReadonlyArray<{ readonly how: string; readonly paths: number; readonly policy: PathSelectionPolicy }> = [
  { how: 'Fixed, 2 paths (uses 1)', paths: 2, policy: { policy: 'fixed' } },
  { how: 'Round Robin, 1 path', paths: 1, policy: { policy: 'round-robin', iops: 1 } },
  { how: 'Round Robin, 2 paths', paths: 2, policy: { policy: 'round-robin', iops: 1 } },
  { how: 'Round Robin, 4 paths', paths: 4, policy: { policy: 'round-robin', iops: 1 } },
];

/** An array whose LUN is behind `groups.length` target ports (port i in group groups[i]), and a fabric in front of it. */
function rig(ctx: SuiteContext, lunBytes: number, groups: readonly number[]): { array: StorageArray; lun: Lun; ports: TargetPort[]; fabric: Fabric; paths: FabricPath[] } {
  const array = new StorageArray({ capacityBytes: 2 * lunBytes });
  const lun = array.createLun({ sizeBytes: lunBytes, blockSize: BLOCK });
  const ports = groups.map((g, i) => array.addTargetPort({ name: `iqn.2026-11.dev.vaai-sim:bench,t,0x${(i + 2).toString(16).padStart(4, '0')}`, relativeId: i + 2, groupId: g }));
  const fabric = new Fabric(array, { preset: ctx.preset, ...ctx.model });
  const host = fabric.host('iqn.2026-11.dev.vaai-sim:esx-1');
  const paths = ports.map((p, i) => host.path(lun, p, { name: `vmhba1:C0:T${i}:L0` }));
  return { array, lun, ports, fabric, paths };
}

/** Writes a pattern over the first `bytes` of `lun`, in-process (no fabric). */
function seed(lun: Lun, bytes: number, from = 0): void {
  const chunk = new Uint8Array(Math.min(4 * MiB, bytes));
  for (let at = 0; at < bytes; at += chunk.length) {
    const n = Math.min(chunk.length, bytes - at);
    fillPattern(chunk, 1 + at / MiB);
    const r = lun.execute(cdb.write16({ lba: (from + at) / BLOCK, blocks: n / BLOCK }), chunk.subarray(0, n)) as { status: number };
    if (r.status !== 0) throw new Error(`seeding WRITE failed with status ${r.status}`);
  }
}

/** `workers` processes issuing `size`-byte READ(16)s or WRITE(16)s over a `region` of the device until `more()` says stop; completion times on the clock. */
async function stream(device: ScsiTarget, now: () => number, o: { op: 'read' | 'write'; size: number; region: number; workers: number; more: (issued: number) => boolean }): Promise<number[]> {
  const done: number[] = [];
  const data = new Uint8Array(o.size);
  fillPattern(data, 77);
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (o.more(issued)) {
      const at = (issued++ * o.size) % o.region;
      const c = o.op === 'read' ? cdb.read16({ lba: at / BLOCK, blocks: o.size / BLOCK }) : cdb.write16({ lba: at / BLOCK, blocks: o.size / BLOCK });
      const r = await device.execute(c, o.op === 'write' ? data : undefined);
      if (r.status !== 0) throw new Error(`multipath bench: ${o.op} answered status ${r.status}`);
      done.push(now());
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  return done;
}

/**
 * The I/O pause around a fault at `faultAt`: the longest time from the fault, or from a completion
 * after it, to the next completion (the gaps before the fault are the workload's own).
 */
export function ioPause(completions: readonly number[], faultAt: number): number {
  const after = completions.filter((t) => t >= faultAt).sort((a, b) => a - b);
  let pause = 0;
  let prev = faultAt;
  for (const t of after) {
    pause = Math.max(pause, t - prev);
    prev = t;
  }
  return pause;
}

async function throughput(ctx: SuiteContext, op: 'read' | 'write', bytes: number): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  const region = Math.min(bytes, 64 * MiB);
  for (const { how, paths: n, policy } of POLICIES) {
    const r = rig(ctx, region, Array(n).fill(1));
    if (op === 'read') seed(r.lun, region);
    const release = await ctx.memory.hold(() => storedBytes(r.array));
    const started = performance.now();
    let simulatedMs = 0;
    const host = r.fabric.hosts[0]!;
    let before = { ...host.stats };
    let perPath: number[] = [];
    await r.fabric.clock.run(async () => {
      const device = await MultipathDevice.create({ paths: r.paths, clock: r.fabric.clock, checkerIntervalMs: 0, policy });
      before = { ...host.stats };
      // What the claim read (INQUIRY, VPD, REPORT TARGET PORT GROUPS) is not the workload's.
      const claimed = device.paths.map((p) => p.stats.bytesIn + p.stats.bytesOut);
      const t0 = r.fabric.clock.now;
      await stream(device, () => r.fabric.clock.now, { op, size: MiB, region, workers: r.fabric.model.queueDepth, more: (i) => i * MiB < bytes });
      simulatedMs = r.fabric.clock.now - t0;
      perPath = device.paths.map((p, i) => p.stats.bytesIn + p.stats.bytesOut - claimed[i]!);
      await device.close();
    });
    ctx.memory.sample();
    release();
    const mbPerSecond = bytes / 1e6 / (simulatedMs / 1000);
    ctx.progress(`  ${op} ${how}: ${mbPerSecond.toFixed(0)} MB/s (simulated), per path ${perPath.map((b) => formatBytes(b)).join(' / ')}`);
    out.push({
      scenario: op === 'read' ? MULTIPATH_SCENARIOS.read : MULTIPATH_SCENARIOS.write,
      path: 'host',
      variant: how,
      bytes,
      wallMs: performance.now() - started,
      wallSamples: 1,
      simulatedMs,
      fabricBytes: host.stats.fabricBytes - before.fabricBytes,
      commands: host.stats.commands - before.commands,
      hostCpuMs: host.stats.hostCpuMs - before.hostCpuMs,
      metrics: { mbPerSecond, paths: n, pathsUsed: perPath.filter((b) => b > 0).length, queueDepth: r.fabric.model.queueDepth, linkMbPerSecond: r.paths[0]!.linkBytesPerSecond / 1e6 },
    });
  }
  return out;
}

type Fault = 'link down' | 'standby (02/04/0B)' | 'black hole';

/** One fault under streaming 64 KiB reads at queue depth 8 over two paths (groups 1 A/O and 2 A/NO, MRU on path 1). */
async function failoverRun(ctx: SuiteContext, fault: Fault, commandTimeoutMs: number, checkerIntervalMs: number): Promise<{ pauseMs: number; simulatedMs: number; wallMs: number; commands: number; fabricBytes: number; hostCpuMs: number; failovers: number; roundTripMs: number }> {
  const size = 64 * 1024;
  const region = 16 * MiB;
  const r = rig(ctx, region, [1, 2]);
  r.array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
  seed(r.lun, region);
  const started = performance.now();
  const clock = r.fabric.clock;
  let pauseMs = 0;
  let failovers = 0;
  let simulatedMs = 0;
  await clock.run(async () => {
    const device = await MultipathDevice.create({ paths: r.paths, clock, checkerIntervalMs, commandTimeoutMs });
    const t0 = clock.now;
    const faultAt = t0 + 100;
    const endAt = faultAt + commandTimeoutMs + 100;
    const injector = (async () => {
      await clock.sleep(faultAt - clock.now);
      if (fault === 'link down') r.ports[0]!.setLink('down');
      else if (fault === 'black hole') r.ports[0]!.setLink('black-hole');
      else await r.array.setTargetPortGroupState(1, 'standby');
    })();
    // After the pause, 100 ms of I/O on the surviving path; at most `endAt` either way.
    let resumedAt = Infinity;
    const done = await stream(device, () => clock.now, {
      op: 'read',
      size,
      region,
      workers: 8,
      more: () => {
        if (clock.now >= faultAt && device.stats.failovers > 0 && resumedAt === Infinity) resumedAt = clock.now;
        return clock.now < Math.min(endAt, resumedAt + 100);
      },
    });
    await injector;
    pauseMs = ioPause(done, faultAt);
    failovers = device.stats.failovers;
    simulatedMs = clock.now - t0;
    await device.close();
  });
  const host = r.fabric.hosts[0]!;
  return { pauseMs, simulatedMs, wallMs: performance.now() - started, commands: host.stats.commands, fabricBytes: host.stats.fabricBytes, hostCpuMs: host.stats.hostCpuMs, failovers, roundTripMs: r.fabric.model.commandLatencyMs };
}

/**
 * With no I/O flowing, the time from a black hole on path 1 to the path checker marking it dead,
 * in the worst case: the fault comes just after a check, so the next check is one interval away
 * and its TEST UNIT READY then waits out the command timeout.
 */
async function idleDetection(ctx: SuiteContext, commandTimeoutMs: number, checkerIntervalMs: number): Promise<number> {
  const r = rig(ctx, MiB, [1, 2]);
  const clock = r.fabric.clock;
  let detectedMs = 0;
  await clock.run(async () => {
    const device = await MultipathDevice.create({ paths: r.paths, clock, checkerIntervalMs, commandTimeoutMs });
    // The first check goes out one interval after the device was created; it is answered within a round trip.
    await clock.sleep(checkerIntervalMs + 1);
    const faultAt = clock.now;
    r.ports[0]!.setLink('black-hole');
    const dead = new Promise<number>((resolve) => device.on('pathStateChanged', (e) => e.to === 'dead' && resolve(clock.now)));
    detectedMs = (await dead) - faultAt;
    await device.close();
  });
  return detectedMs;
}

type FaultRun = Awaited<ReturnType<typeof failoverRun>>;

/** The result of one fault run, with its pause, round trip and failovers beside `metrics`. */
function faultResult(scenario: string, variant: string, run: FaultRun, metrics: Record<string, number>): ScenarioResult {
  return {
    scenario,
    path: 'host',
    variant,
    bytes: 0,
    wallMs: run.wallMs,
    wallSamples: 1,
    simulatedMs: run.simulatedMs,
    fabricBytes: run.fabricBytes,
    commands: run.commands,
    hostCpuMs: run.hostCpuMs,
    metrics: { pauseMs: run.pauseMs, roundTripMs: run.roundTripMs, failovers: run.failovers, ...metrics },
  };
}

async function failover(ctx: SuiteContext, w: MultipathWorkload): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  const defaultChecker = 5000;
  const defaultTimeout = 30_000;
  let blackHoleAtDefault: FaultRun | undefined;
  for (const fault of ['link down', 'standby (02/04/0B)', 'black hole'] as const) {
    const run = await failoverRun(ctx, fault, defaultTimeout, defaultChecker);
    if (fault === 'black hole') blackHoleAtDefault = run;
    ctx.progress(`  ${fault}: I/O pause ${formatMs(run.pauseMs)} (simulated), ${run.failovers} failovers`);
    out.push(faultResult(MULTIPATH_SCENARIOS.failover, fault, run, { checkerIntervalMs: defaultChecker, commandTimeoutMs: defaultTimeout }));
  }
  for (const timeout of w.commandTimeoutsMs) {
    // The run at the default timeout was made above: the same inputs give the same simulated figures.
    const run = timeout === defaultTimeout && blackHoleAtDefault !== undefined ? blackHoleAtDefault : await failoverRun(ctx, 'black hole', timeout, defaultChecker);
    const idle: Record<string, number> = {};
    for (const interval of w.checkerIntervalsMs) idle[`idleDetectionMs@${interval}`] = await idleDetection(ctx, timeout, interval);
    ctx.progress(`  black hole, command timeout ${formatMs(timeout)}: I/O pause ${formatMs(run.pauseMs)}; checker finds it idle in ${Object.values(idle).map((v) => formatMs(v)).join(' / ')}`);
    out.push(faultResult(MULTIPATH_SCENARIOS.blackHole, `command timeout ${formatMs(timeout)}`, run, { commandTimeoutMs: timeout, checkerIntervalMs: defaultChecker, ...idle }));
  }
  return out;
}

/**
 * The iSCSI clone: an in-process server (the benchmark takes portal 1's link down through
 * `server.targetPort(...).setLink`, which only the process serving the portal can do) with two
 * portals in groups 1 (active/optimized) and 2 (active/non-optimized); one session per portal, one
 * multipath device over them; host READ/WRITE of the source half of a LUN to its other half.
 */
async function iscsiClone(ctx: SuiteContext, bytes: number): Promise<ScenarioResult> {
  const T = 'iqn.2026-11.dev.vaai-sim:bench-multipath';
  const HOST = 'iqn.2026-11.dev.vaai-sim:bench-multipath-host';
  const array = new StorageArray({ capacityBytes: 2 * bytes + 64 * MiB });
  const lun = array.createLun({ sizeBytes: 2 * bytes, lunId: 0 });
  array.configureTargetPortGroup(2, { state: 'active/non-optimized' });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun] }], portals: [{ host: '127.0.0.1', port: 0, targetPortGroup: 1 }, { host: '127.0.0.1', port: 0, targetPortGroup: 2 }] });
  const release = await ctx.memory.hold(() => storedBytes(array));
  const sessions: IscsiSession[] = [];
  try {
    seed(lun, bytes);
    await server.listen();
    for (const [i, p] of server.portals.entries()) {
      sessions.push(await IscsiSession.connect({ host: '127.0.0.1', port: p.port, targetName: T, initiatorName: HOST, isid: Uint8Array.of(0x80, 0x4d, 0x50, 0x42, 0, i + 1) }));
    }
    const portal1 = server.targetPort(T, 0)!;
    let written = 0;
    let killedAt = Infinity;
    const completions: number[] = [];
    const device = await MultipathDevice.create({ paths: [{ target: sessions[0]!.lun(0), name: 'portal1' }, { target: sessions[1]!.lun(0), name: 'portal2' }], checkerIntervalMs: 0 });
    const timed: ScsiTarget = {
      description: 'multipath device',
      execute: async (c, d, o) => {
        const r = await device.execute(c, d, o);
        completions.push(performance.now());
        if (c[0] === 0x8a && r.status === 0) {
          written += d?.length ?? 0;
          if (written >= bytes / 2 && killedAt === Infinity) {
            killedAt = performance.now();
            portal1.setLink('down');
          }
        }
        return r;
      },
    };
    const started = performance.now();
    const report = await cloneRange({ source: timed, sourceLba: 0, destinationLba: bytes / BLOCK, blocks: bytes / BLOCK, transferBytes: MiB, offload: false });
    const wallMs = performance.now() - started;
    const pauseMs = ioPause(completions, killedAt);
    const stats = device.paths.map((p) => p.stats.bytesOut + p.stats.bytesIn);
    const failovers = device.stats.failovers;
    await device.close();
    // The copy against its source, read in-process.
    let verified = report.bytes === bytes ? 1 : 0;
    const chunk = 8 * MiB;
    for (let at = 0; at < bytes && verified === 1; at += chunk) {
      const n = Math.min(chunk, bytes - at);
      const a = lun.execute(cdb.read16({ lba: at / BLOCK, blocks: n / BLOCK }), undefined, { initiator: 'verifier' }) as { data?: Uint8Array };
      const b = lun.execute(cdb.read16({ lba: (bytes + at) / BLOCK, blocks: n / BLOCK }), undefined, { initiator: 'verifier' }) as { data?: Uint8Array };
      if (a.data === undefined || b.data === undefined || Buffer.compare(a.data, b.data) !== 0) verified = 0;
    }
    ctx.memory.sample();
    ctx.progress(`  iSCSI clone of ${formatBytes(bytes)} with portal 1 down half-way: ${formatMs(wallMs)}, pause ${formatMs(pauseMs)}, ${verified === 1 ? 'verified' : 'NOT VERIFIED'}`);
    return {
      scenario: MULTIPATH_SCENARIOS.iscsi,
      path: 'host',
      variant: 'host READ/WRITE, portal 1 down half-way',
      bytes,
      wallMs,
      wallSamples: 1,
      simulatedMs: null,
      fabricBytes: report.hostBytes * 2,
      commands: report.readCommands + report.writeCommands,
      hostCpuMs: null,
      metrics: { pauseMs, verified, failovers, portal1Bytes: stats[0]!, portal2Bytes: stats[1]!, mbPerSecond: bytes / 1e6 / (wallMs / 1000) },
    };
  } finally {
    for (const s of sessions) await s.close().catch(() => undefined);
    await server.close();
    release();
  }
}

/** Runs the multipath suite. */
export async function multipathSuite(ctx: SuiteContext, w: MultipathWorkload): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  ctx.progress(`multipath: streaming ${formatBytes(w.streamBytes)} of 1 MiB reads and writes, Fixed vs Round Robin over 1, 2 and 4 paths (one link each)`);
  out.push(...(await throughput(ctx, 'read', w.streamBytes)));
  out.push(...(await throughput(ctx, 'write', w.streamBytes)));
  ctx.progress('multipath: failover under streaming reads (simulated)');
  out.push(...(await failover(ctx, w)));
  ctx.progress(`multipath: ${formatBytes(w.cloneBytes)} clone over two iSCSI portals, portal 1 killed half-way`);
  out.push(await iscsiClone(ctx, w.cloneBytes));
  return out;
}
