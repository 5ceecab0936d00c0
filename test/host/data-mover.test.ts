import { describe, expect, it } from 'vitest';
import { Opcode, StorageArray, cdb, InvalidArgumentError } from '../../src/index.js';
import { cloneRange } from '../../src/host/data-mover.js';
import { HostIoError } from '../../src/host/errors.js';
import { Fabric } from '../../src/host/fabric.js';
import { expectBytes, pattern } from '../array/helpers.js';

const MiB = 1024 * 1024;

function setup(options: { cloneMode?: 'share' | 'copy'; capacity?: number } = {}) {
  const array = new StorageArray({ capacityBytes: options.capacity ?? 256 * MiB, ...(options.cloneMode ? { cloneMode: options.cloneMode } : {}) });
  const a = array.createLun({ sizeBytes: 64 * MiB });
  const b = array.createLun({ sizeBytes: 64 * MiB });
  return { array, a, b };
}

async function fill(lun: { execute: (c: Uint8Array, d?: Uint8Array) => unknown }, lba: number, data: Uint8Array) {
  await lun.execute(cdb.write16({ lba, blocks: data.length / 512 }), data);
}

async function readAll(lun: { execute: (c: Uint8Array) => unknown }, lba: number, blocks: number): Promise<Uint8Array> {
  const out = new Uint8Array(blocks * 512);
  for (let done = 0; done < blocks; done += 8192) {
    const n = Math.min(8192, blocks - done);
    const r = (await lun.execute(cdb.read16({ lba: lba + done, blocks: n }))) as { data: Uint8Array };
    out.set(r.data, done * 512);
  }
  return out;
}

describe('data mover', () => {
  it('clones a range with EXTENDED COPY in 4 MiB segments by default', async () => {
    const { array, a, b } = setup();
    const data = pattern(10 * MiB, 5);
    await fill(a, 0, data);
    const report = await cloneRange({ source: a, destination: b, sourceLba: 0, destinationLba: 2048, blocks: data.length / 512 });
    expect(report).toMatchObject({ bytes: 10 * MiB, offloadedBytes: 10 * MiB, hostBytes: 0, xcopyCommands: 3, fallbackSegments: 0, transferBytes: 4 * MiB });
    expectBytes(await readAll(b, 2048, data.length / 512), data);
    expect(array.poolStatus.allocatedUnits).toBe(10); // every segment was whole-unit aligned: all shared
  });

  it('honours the transfer size, up to 16 MiB', async () => {
    const { a } = setup();
    await fill(a, 0, pattern(MiB, 1));
    expect((await cloneRange({ source: a, sourceLba: 0, destinationLba: 65536, blocks: 8192, transferBytes: MiB })).xcopyCommands).toBe(4);
    const big = await cloneRange({ source: a, sourceLba: 0, destinationLba: 0, blocks: 65536 * 2, transferBytes: 16 * MiB });
    expect(big.transferBytes).toBe(16 * MiB);
    expect(big.xcopyCommands).toBe(4);
    await expect(cloneRange({ source: a, transferBytes: 32 * MiB })).rejects.toThrow(InvalidArgumentError);
  });

  it('falls back to host READ/WRITE for exactly the segments the array refuses', async () => {
    const { array, a, b } = setup();
    const data = pattern(8 * MiB, 9);
    await fill(a, 0, data);
    // refuse the EXTENDED COPY of the second 4 MiB segment, once
    array.faults.add({ opcode: Opcode.EXTENDED_COPY, lba: { start: 8192, count: 1 }, sense: 'COPY_TARGET_DEVICE_NOT_REACHABLE', times: 1 });
    const report = await cloneRange({ source: a, destination: b, blocks: data.length / 512, transferBytes: 4 * MiB, parallel: 1 });
    expect(report).toMatchObject({ offloadedBytes: 4 * MiB, hostBytes: 4 * MiB, fallbackSegments: 1, xcopyCommands: 2, readCommands: 1, writeCommands: 1 });
    expectBytes(await readAll(b, 0, data.length / 512), data);
  });

  it('stops offloading after INVALID COMMAND OPERATION CODE', async () => {
    const { array, a, b } = setup();
    await fill(a, 0, pattern(4 * MiB, 2));
    array.faults.add({ opcode: Opcode.EXTENDED_COPY, sense: 'INVALID_COMMAND_OPERATION_CODE' });
    const report = await cloneRange({ source: a, destination: b, blocks: 8192, transferBytes: MiB, parallel: 1 });
    expect(report).toMatchObject({ xcopyCommands: 1, fallbackSegments: 1, hostBytes: 4 * MiB, offloadedBytes: 0 });
  });

  it('copies from the host only when asked', async () => {
    const { a, b } = setup();
    const data = pattern(2 * MiB, 3);
    await fill(a, 0, data);
    const report = await cloneRange({ source: a, destination: b, blocks: 4096, offload: false });
    expect(report).toMatchObject({ xcopyCommands: 0, hostBytes: 2 * MiB, readCommands: 1, writeCommands: 1 });
    expectBytes(await readAll(b, 0, 4096), data);
  });

  it('cannot offload to a LUN of another array, and copies through the host instead', async () => {
    const one = setup();
    const two = setup();
    const data = pattern(MiB, 4);
    await fill(one.a, 0, data);
    const report = await cloneRange({ source: one.a, destination: two.b, blocks: 2048 });
    expect(report).toMatchObject({ fallbackSegments: 1, hostBytes: MiB });
    expectBytes(await readAll(two.b, 0, 2048), data);
  });

  it('reports an error the host cannot route around', async () => {
    const { a, b } = setup({ capacity: 2 * MiB, cloneMode: 'copy' });
    await fill(a, 0, pattern(2 * MiB, 4));
    await expect(cloneRange({ source: a, destination: b, blocks: 4096 })).rejects.toThrow(HostIoError);
  });

  it('runs unchanged through a simulated fabric, with far fewer fabric bytes when offloaded', async () => {
    const results: Record<string, { ms: number; bytes: number }> = {};
    for (const offload of [true, false]) {
      const { array, a, b } = setup();
      await fill(a, 0, pattern(8 * MiB, 6));
      const fabric = new Fabric(array, '16gfc');
      const host = fabric.host('esx-1');
      await fabric.clock.run(() => cloneRange({ source: host.port(a), destination: host.port(b), blocks: 16384, offload }));
      results[String(offload)] = { ms: fabric.clock.now, bytes: fabric.stats.fabricBytes };
    }
    expect(results['true']!.bytes).toBeLessThan(results['false']!.bytes / 100);
    expect(results['true']!.ms).toBeLessThan(results['false']!.ms);
  });
});
