/**
 * Backups with changed block tracking: a full backup of a thin disk (its allocated areas), then
 * rounds of guest writes (with offloads among them: an EXTENDED COPY inside the disk and a WRITE
 * SAME) each followed by an incremental backup of the areas changed since the last backup's change
 * ID. Bytes read and time are reported for the full and the incremental backups, measured
 * in-process and modelled on the fabric (a backup proxy reading the same areas).
 *
 * Every backup is verified: the restore image (the full backup plus the incrementals so far,
 * written to a LUN of their own) must equal the disk at backup time, kept as an EXTENDED COPY clone
 * (shared extents, so the check costs almost nothing).
 * @module
 */
import type { Lun } from '../../scsi/logical-unit.js';
import { StorageArray } from '../../scsi/storage-array.js';
import * as cdb from '../../codec/cdb-encoder.js';
import { ChangedBlockTracker, allocatedAreas } from '../../host/filters/cbt.js';
import { FilterChain } from '../../host/filters/chain.js';
import type { LbaRange } from '../../host/filters/changes.js';
import type { ScsiTarget } from '../../host/target.js';
import { simulate, storedBytes, type SuiteContext } from '../measure.js';
import type { ScenarioResult } from '../results.js';
import { fillPattern, verifyEqual, writeDisk } from '../workloads.js';
import { Mulberry32 } from '../../common/prng.js';

const MiB = 1024 * 1024;
const CHUNK_BLOCKS = 2048; // 1 MiB reads and writes

/** Sizes of the backup scenario. */
export interface BackupWorkload {
  /** Size of the disk backed up. */
  readonly diskBytes: number;
  /** Fraction of the disk written before the first (full) backup. */
  readonly writtenFraction: number;
  /** Rounds of guest writes and incremental backups. */
  readonly rounds: number;
  /** Fraction of the disk the guest changes per round (random 4 KiB to 64 KiB writes). */
  readonly changedFractionPerRound: number;
}

function check(r: { status: number }, what: string): void {
  if (r.status !== 0) throw new Error(`backup suite: ${what} failed with status ${r.status}`);
}

/** Reads `areas` of `target` in 1 MiB pieces, handing each piece to `sink`; returns the bytes read. */
async function readAreas(target: ScsiTarget, areas: readonly LbaRange[], buffer: Uint8Array, sink?: (lba: number, data: Uint8Array) => Promise<void>): Promise<number> {
  let bytes = 0;
  for (const a of areas) {
    for (let at = a.lba; at < a.lba + a.blocks; at += CHUNK_BLOCKS) {
      const blocks = Math.min(CHUNK_BLOCKS, a.lba + a.blocks - at);
      const r = await target.execute(cdb.read16({ lba: at, blocks }), undefined, { dataIn: buffer });
      check(r, 'backup READ');
      bytes += blocks * 512;
      await sink?.(at, r.data!);
    }
  }
  return bytes;
}


/** One round of guest I/O through the chain: random writes, one EXTENDED COPY inside the disk, one WRITE SAME. */
async function guestRound(chain: FilterChain, disk: Lun, round: number, w: BackupWorkload): Promise<void> {
  const prng = new Mulberry32(0xbac0 + round);
  const random = (): number => prng.float();
  const data = new Uint8Array(64 * 1024);
  let written = 0;
  const target = w.diskBytes * w.changedFractionPerRound;
  while (written < target) {
    const blocks = 8 * (1 + Math.floor(random() * 16)); // 4 KiB to 64 KiB
    const lba = Math.floor(random() * (disk.blockCount - blocks));
    fillPattern(data.subarray(0, blocks * 512), round * 1000 + written);
    check(await chain.execute(cdb.write16({ lba, blocks }), data.subarray(0, blocks * 512)), 'guest WRITE');
    written += blocks * 512;
  }
  // A file copied inside the guest's file system by the hypervisor's data mover (1 MiB), and 1 MiB zeroed.
  const src = Math.floor(random() * (disk.blockCount - CHUNK_BLOCKS));
  const dst = Math.floor(random() * (disk.blockCount - CHUNK_BLOCKS));
  const list = cdb.extendedCopyParameterList({ cscds: [{ designator: disk.naaDesignator, blockSize: 512 }], segments: [{ source: 0, destination: 0, blocks: CHUNK_BLOCKS, sourceLba: src, destinationLba: dst }] });
  check(await chain.execute(cdb.extendedCopy(list.length), list), 'guest EXTENDED COPY');
  check(await chain.execute(cdb.writeSame16({ lba: Math.floor(random() * (disk.blockCount - CHUNK_BLOCKS)), blocks: CHUNK_BLOCKS }), new Uint8Array(512)), 'guest WRITE SAME');
}

/** Runs the scenario; every restore is verified (a mismatch throws). */
export async function backupSuite(ctx: SuiteContext, w: BackupWorkload): Promise<ScenarioResult[]> {
  ctx.progress(`backup: ${w.diskBytes / MiB} MiB disk, ${Math.round(w.writtenFraction * 100)} % written; full backup, then ${w.rounds} rounds of guest writes (${(w.changedFractionPerRound * 100).toFixed(1)} % of the disk) and incremental backups`);
  const array = new StorageArray({ capacityBytes: 8 * w.diskBytes, arrayId: 0xbac0 });
  const disk = array.createLun({ sizeBytes: w.diskBytes });
  const restore = array.createLun({ sizeBytes: w.diskBytes });
  const snapshot = array.createLun({ sizeBytes: w.diskBytes });
  const release = await ctx.memory.hold(() => storedBytes(array) + CHUNK_BLOCKS * 512);
  writeDisk(disk, w.writtenFraction, 11);
  const cbt = new ChangedBlockTracker();
  const chain = await FilterChain.create(disk, { filters: [cbt] });
  const buffer = new Uint8Array(CHUNK_BLOCKS * 512);
  const toRestore = async (lba: number, data: Uint8Array): Promise<void> => {
    check(await restore.execute(cdb.write16({ lba, blocks: data.length / 512 }), data), 'restore WRITE');
  };
  /** The disk as it is at backup time, kept by EXTENDED COPY (shared extents). */
  const keepSnapshot = async (): Promise<void> => {
    const list = cdb.extendedCopyParameterList({
      cscds: [{ designator: disk.naaDesignator, blockSize: 512 }, { designator: snapshot.naaDesignator, blockSize: 512 }],
      segments: Array.from({ length: Math.ceil(disk.blockCount / 65535) }, (_, i) => ({ source: 0, destination: 1, sourceLba: i * 65535, destinationLba: i * 65535, blocks: Math.min(65535, disk.blockCount - i * 65535) })),
    });
    check(await disk.execute(cdb.extendedCopy(list.length), list), 'snapshot EXTENDED COPY');
  };

  const results: ScenarioResult[] = [];
  /** Records a scenario: its measured time, and the same reads by a backup proxy across the modelled fabric (per backup, over `backups`). */
  const record = async (scenario: string, variant: string, backups: ReadonlyArray<readonly LbaRange[]>, wallMs: number, bytes: number, extra: Record<string, number>): Promise<void> => {
    const sim = await simulate(ctx, array, async (fabric) => {
      for (const areas of backups) await readAreas(fabric.host('backup-proxy').port(disk), areas, buffer);
    });
    const n = backups.length;
    const extents = backups.reduce((sum, a) => sum + a.length, 0) / n;
    results.push({ scenario, path: 'host', variant, bytes, wallMs, wallSamples: n, simulatedMs: sim.simulatedMs / n, fabricBytes: sim.fabricBytes / n, commands: sim.commands / n, hostCpuMs: sim.hostCpuMs / n, metrics: { bytesRead: bytes, extents, ...extra } });
  };

  // Full backup: the allocated areas.
  await keepSnapshot();
  let changeId = cbt.changeId;
  const allocated = await allocatedAreas(disk, disk.blockCount);
  let t0 = performance.now();
  const fullBytes = await readAreas(chain, allocated, buffer, toRestore);
  const fullMs = performance.now() - t0;
  verifyEqual(restore, snapshot, disk.blockCount, 'the restored full backup (against the disk at backup time)');
  await record('backup-full', 'full backup (allocated areas)', [allocated], fullMs, fullBytes, { verified: 1 });
  ctx.progress(`  full: ${(fullBytes / MiB).toFixed(1)} MiB read in ${fullMs.toFixed(1)} ms; restore verified`);

  let incrementalBytes = 0;
  let incrementalMs = 0;
  let verified = 0;
  const rounds: LbaRange[][] = [];
  for (let round = 1; round <= w.rounds; round++) {
    await guestRound(chain, disk, round, w);
    await keepSnapshot();
    const changed = cbt.changedAreas(changeId);
    changeId = cbt.changeId;
    t0 = performance.now();
    const bytes = await readAreas(chain, changed, buffer, toRestore);
    incrementalMs += performance.now() - t0;
    incrementalBytes += bytes;
    rounds.push(changed);
    verifyEqual(restore, snapshot, disk.blockCount, `the restore after incremental ${round} (against the disk at backup time)`);
    verified++;
  }
  const meanBytes = incrementalBytes / w.rounds;
  await record('backup-incremental', `incremental backup (changed areas), mean of ${w.rounds} rounds`, rounds, incrementalMs / w.rounds, meanBytes, { verified, rounds: w.rounds, fullOverIncrementalBytes: fullBytes / meanBytes });
  ctx.progress(`  incremental: ${(meanBytes / MiB).toFixed(1)} MiB read per round in ${(incrementalMs / w.rounds).toFixed(1)} ms (${(fullBytes / meanBytes).toFixed(1)}x less than full); ${verified} restores verified`);
  array.deleteLun(snapshot);
  release();
  return results;
}
