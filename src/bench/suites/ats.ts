/**
 * COMPARE AND WRITE of one block through `execute`, against a raw compare-then-copy loop over the
 * same amount of memory, measured in the same run.
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import * as cdb from '../../codec/cdb-encoder.js';
import { measureWall, simulate, storedBytes, wallFields, type SuiteContext } from '../measure.js';
import type { ScenarioResult } from '../results.js';

/** Runs the COMPARE AND WRITE micro-benchmark. */
export async function atsSuite(ctx: SuiteContext): Promise<ScenarioResult[]> {
  ctx.progress('COMPARE AND WRITE, one 512-byte block');
  const array = new StorageArray({ capacityBytes: 1 << 30, arrayId: 0xa75 });
  const lun = array.createLun({ sizeBytes: 1 << 30 });
  const release = await ctx.memory.hold(() => storedBytes(array));
  const command = cdb.compareAndWrite({ lba: 0, blocks: 1 });
  // Two payloads that flip the block between two images, so every command compares equal and writes.
  const toOnes = new Uint8Array(1024).fill(1, 512);
  const toZeros = new Uint8Array(1024).fill(1, 0, 512);
  lun.execute(cdb.write16({ lba: 0, blocks: 1 }), new Uint8Array(512));
  let turn = 0;
  const batch = 1000;
  const block = new Uint8Array(512);
  let rawTurn = 0;
  const wall = await measureWall(ctx, 'ats-1block', [
    {
      name: 'COMPARE AND WRITE x1000 via execute',
      iterations: 50,
      run: () => {
        for (let i = 0; i < batch; i++) {
          const r = lun.execute(command, (turn++ & 1) === 0 ? toOnes : toZeros);
          if ((r as { status: number }).status !== 0) throw new Error('COMPARE AND WRITE failed');
        }
      },
    },
    {
      name: 'compare-then-copy x1000, raw loop',
      iterations: 50,
      run: () => {
        for (let i = 0; i < batch; i++) {
          const d = (rawTurn++ & 1) === 0 ? toOnes : toZeros;
          let equal = true;
          for (let j = 0; j < 512; j++) {
            if (d[j] !== block[j]) {
              equal = false;
              break;
            }
          }
          if (!equal) throw new Error('raw loop miscompared');
          block.set(d.subarray(512));
        }
      },
    },
  ]);
  const caw = wall.get('COMPARE AND WRITE x1000 via execute')!;
  const raw = wall.get('compare-then-copy x1000, raw loop')!;
  const sim = await simulate(ctx, array, async (fabric) => {
    await fabric.host('esx-1').port(lun).execute(command, (turn++ & 1) === 0 ? toOnes : toZeros);
  });
  release();
  return [
    {
      scenario: 'ats-1block',
      path: 'offload',
      variant: 'COMPARE AND WRITE',
      bytes: 512,
      // Per command: each sample is one batch of `batch` commands.
      ...wallFields(caw, batch),
      simulatedMs: sim.simulatedMs,
      fabricBytes: sim.fabricBytes,
      commands: sim.commands,
      hostCpuMs: sim.hostCpuMs,
      metrics: { commandsPerSample: batch, opsPerSecond: (1000 * batch) / caw.ms, rawLoopOpsPerSecond: (1000 * batch) / raw.ms, rawLoopRmePercent: raw.rmePercent },
    },
  ];
}
