/**
 * Clone: EXTENDED COPY (shared extents, and forced byte copy) against a host READ/WRITE copy, for a
 * fully written disk and for a thin disk with part of it written.
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import { cloneRange } from '../../host/data-mover.js';
import { formatBytes, measureWall, simulate, storedBytes, wallFields, type SuiteContext } from '../measure.js';
import type { ScenarioResult } from '../results.js';
import { resetDisk, verifyEqual, writeDisk } from '../workloads.js';

/** One clone scenario. */
export interface CloneScenario {
  /** Scenario name. */
  readonly scenario: string;
  /** Disk size in bytes. */
  readonly bytes: number;
  /** Fraction of the disk written (1 = full). */
  readonly writtenFraction: number;
  /** Also measure forced byte-copy offload and a plain `Uint8Array.set` of the same bytes. */
  readonly withByteCopy: boolean;
}

/** Extra figures the clone suite reports for the targets. */
export interface CloneExtras {
  /** Mean ms of `Uint8Array.set` over the written bytes, when measured. */
  readonly typedArraySetMs?: number;
}

function disk(bytes: number, fraction: number, cloneMode: 'share' | 'copy') {
  // Zero detection on: the host path's zeros (read from unwritten blocks) are not stored. The
  // buffer cache holds one clone's worth of units, so repeated runs reuse memory (as an array would).
  const array = new StorageArray({ capacityBytes: 4 * bytes, zeroDetect: true, bufferCacheBytes: Math.ceil(bytes * fraction), arrayId: 0xb0c0 });
  const source = array.createLun({ sizeBytes: bytes });
  const destination = array.createLun({ sizeBytes: bytes });
  writeDisk(source, fraction, 1); // in share mode, so that the source holds its seed data once
  array.cloneMode = cloneMode;
  return { array, source, destination };
}

/** One way of cloning: which path, its label, the array's clone mode, and whether EXTENDED COPY is used. */
interface ClonePath {
  readonly path: 'offload' | 'host';
  readonly variant: string;
  readonly mode: 'share' | 'copy';
  readonly offload: boolean;
}

/**
 * One scenario done one way, on an array of its own. A function of its own so that its array is
 * unreachable once it returns: a suspended async function keeps the values of its finished loop
 * iterations reachable, and the next path's array would be resident beside this one's.
 */
async function clonePath(ctx: SuiteContext, s: CloneScenario, p: ClonePath): Promise<ScenarioResult> {
  const blocks = s.bytes / 512;
  const { array, source, destination } = disk(s.bytes, s.writtenFraction, p.mode);
  const release = await ctx.memory.hold(() => storedBytes(array));
  const name = `${s.scenario} ${p.path} (${p.variant})`;
  const wall = await measureWall(ctx, s.scenario, [
    {
      name,
      beforeEach: () => resetDisk(destination),
      run: () => cloneRange({ source, destination, blocks, offload: p.offload }),
    },
  ]);
  verifyEqual(source, destination, blocks);
  resetDisk(destination);
  const sim = await simulate(ctx, array, (fabric) => {
    const host = fabric.host('esx-1');
    return cloneRange({ source: host.port(source), destination: host.port(destination), blocks, offload: p.offload });
  });
  verifyEqual(source, destination, blocks);
  release();
  return {
    scenario: s.scenario,
    path: p.path,
    variant: p.variant,
    bytes: s.bytes,
    ...wallFields(wall.get(name)!),
    simulatedMs: sim.simulatedMs,
    fabricBytes: sim.fabricBytes,
    commands: sim.commands,
    hostCpuMs: sim.hostCpuMs,
    metrics: { poolUnitsAfter: array.poolStatus.allocatedUnits },
  };
}

/** Runs one clone scenario: offload (shared), offload (byte copy) when asked, host. */
export async function cloneSuite(ctx: SuiteContext, s: CloneScenario): Promise<{ results: ScenarioResult[]; extras: CloneExtras }> {
  ctx.progress(`clone ${formatBytes(s.bytes)}, ${Math.round(s.writtenFraction * 100)} % written`);
  const results: ScenarioResult[] = [];
  const extras: { typedArraySetMs?: number } = {};
  const paths: ClonePath[] = [
    { path: 'offload', variant: 'shared extents', mode: 'share', offload: true },
    ...(s.withByteCopy ? [{ path: 'offload' as const, variant: 'byte copy', mode: 'copy' as const, offload: true }] : []),
    { path: 'host', variant: 'READ/WRITE', mode: 'share', offload: false },
  ];
  for (const p of paths) results.push(await clonePath(ctx, s, p));
  if (s.withByteCopy) {
    // The reference for the byte-copy target: the same number of bytes copied with Uint8Array.set,
    // in 64 MiB pieces (one 64 MiB source and destination, reused).
    const piece = Math.min(64 * 1024 * 1024, s.bytes);
    const from = new Uint8Array(piece).fill(7);
    const to = new Uint8Array(piece);
    const release = await ctx.memory.hold(() => 2 * piece);
    const copies = Math.ceil((s.bytes * s.writtenFraction) / piece);
    const name = `${s.scenario} Uint8Array.set of the same bytes`;
    const wall = await measureWall(ctx, s.scenario, [{ name, run: () => { for (let i = 0; i < copies; i++) to.set(from); } }]);
    extras.typedArraySetMs = wall.get(name)!.ms;
    release();
  }
  return { results, extras };
}
