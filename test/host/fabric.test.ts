import { describe, expect, it } from 'vitest';
import { StorageArray, cdb } from '../../src/index.js';
import { Fabric, FABRIC_PRESETS } from '../../src/host/fabric.js';
import { Resource, SimClock } from '../../src/host/sim/clock.js';

describe('SimClock', () => {
  it('orders events by time, then by scheduling order, and runs processes concurrently', async () => {
    const clock = new SimClock();
    const log: string[] = [];
    const proc = async (name: string, steps: number[]) => {
      for (const s of steps) {
        await clock.sleep(s);
        log.push(`${name}@${clock.now}`);
      }
    };
    await clock.run(() => Promise.all([proc('a', [2, 2]), proc('b', [1, 3]), proc('c', [4])]));
    // at t=4 the ties wake in the order their sleeps were scheduled: c (at 0), b (at 1), a (at 2)
    expect(log).toEqual(['b@1', 'a@2', 'c@4', 'b@4', 'a@4']);
    expect(clock.now).toBe(4);
  });

  it('a resource serves FIFO with its capacity', async () => {
    const clock = new SimClock();
    const link = new Resource(clock, 2);
    const done: Array<[number, number]> = [];
    await clock.run(() => Promise.all([0, 1, 2, 3, 4].map(async (i) => {
      await link.use(10);
      done.push([i, clock.now]);
    })));
    expect(done).toEqual([[0, 10], [1, 10], [2, 20], [3, 20], [4, 30]]);
    expect(link.busyTime).toBe(50);
  });

  it('reports a stalled simulation instead of hanging', async () => {
    const clock = new SimClock();
    await expect(clock.run(() => new Promise<void>(() => undefined))).rejects.toThrow(/stalled/);
  });
});

describe('Fabric cost model, hand-computed', () => {
  const bytes = 3125 * 512; // 1.6 MB
  function setup(model = {}) {
    const array = new StorageArray({ capacityBytes: 1 << 30 });
    const lun = array.createLun({ sizeBytes: 64 << 20 });
    return { array, lun, fabric: new Fabric(array, { preset: '16gfc', ...model }) };
  }

  it('one WRITE: host CPU + link + half latency + media + half latency', async () => {
    const { lun, fabric } = setup();
    const port = fabric.host('h').port(lun);
    const r = await fabric.clock.run(() => port.execute(cdb.write16({ lba: 0, blocks: 3125 }), new Uint8Array(bytes)));
    expect(r.status).toBe(0);
    const m = FABRIC_PRESETS['16gfc'];
    const cpu = m.hostCpuPerCommandUs / 1000 + (bytes * m.hostCpuPerByteNs) / 1e6; // 0.005 + 0.4
    const link = (bytes / m.linkBytesPerSecond) * 1000; // 1.0
    const media = (bytes / m.arrayMediaBytesPerSecond) * 1000; // 0.4
    expect(fabric.clock.now).toBeCloseTo(cpu + link + m.commandLatencyMs + media, 9);
    expect(fabric.clock.now).toBeCloseTo(1.855, 9);
    expect(fabric.stats).toEqual({ commands: 1, fabricBytes: bytes, hostCpuMs: cpu });
  });

  it('one READ comes back over the receive side and is charged CPU on arrival', async () => {
    const { lun, fabric } = setup();
    const port = fabric.host('h').port(lun);
    await fabric.clock.run(() => port.execute(cdb.read16({ lba: 0, blocks: 3125 })));
    // 0.005 CPU + 0.025 + 0.4 media + 0.025 + 1.0 link + 0.4 CPU
    expect(fabric.clock.now).toBeCloseTo(1.855, 9);
  });

  it('two hosts share the array back end but not their links', async () => {
    const { lun, fabric } = setup();
    const a = fabric.host('a').port(lun);
    const b = fabric.host('b').port(lun);
    await fabric.clock.run(() => Promise.all([a, b].map((p, i) => p.execute(cdb.write16({ lba: i * 4096, blocks: 3125 }), new Uint8Array(bytes)))));
    // both arrive at 1.43 ms; the second waits 0.4 ms for the array's shared media bandwidth
    expect(fabric.clock.now).toBeCloseTo(1.855 + 0.4, 9);
  });

  it('queue depth limits outstanding commands per host', async () => {
    const { lun, fabric } = setup({ queueDepth: 1, hostCpuPerCommandUs: 1e-9, hostCpuPerByteNs: 1e-9, commandLatencyMs: 1 });
    const p = fabric.host('a').port(lun);
    await fabric.clock.run(() => Promise.all([0, 1, 2].map(() => p.execute(cdb.testUnitReady()))));
    expect(fabric.clock.now).toBeCloseTo(3, 6);
  });

  it('EXTENDED COPY with shared extents costs metadata time per unit; byte copy costs copy bandwidth', async () => {
    for (const cloneMode of ['share', 'copy'] as const) {
      const array = new StorageArray({ capacityBytes: 1 << 30, cloneMode });
      const lun = array.createLun({ sizeBytes: 64 << 20 });
      await lun.execute(cdb.write16({ lba: 0, blocks: 8192 }), new Uint8Array(4 << 20).fill(1));
      const fabric = new Fabric(array, '16gfc');
      const list = cdb.extendedCopyParameterList({
        cscds: [{ designator: lun.naaDesignator, blockSize: 512 }],
        segments: [{ source: 0, destination: 0, blocks: 8192, sourceLba: 0, destinationLba: 16384 }],
      });
      const port = fabric.host('h').port(lun);
      await fabric.clock.run(() => port.execute(cdb.extendedCopy(list.length), list));
      const m = FABRIC_PRESETS['16gfc'];
      const front = m.hostCpuPerCommandUs / 1000 + (list.length * m.hostCpuPerByteNs) / 1e6 + (list.length / m.linkBytesPerSecond) * 1000 + m.commandLatencyMs;
      const back = cloneMode === 'share' ? (4 / m.arrayMetadataUnitsPerSecond) * 1000 : ((4 << 20) / m.arrayCopyBytesPerSecond) * 1000;
      expect(fabric.clock.now).toBeCloseTo(front + back, 9);
      expect(fabric.stats.fabricBytes).toBe(list.length);
    }
  });

  it('WRITE SAME of zeros: metadata time on a thin LUN, zeroing bandwidth on a thick one', async () => {
    for (const thin of [true, false]) {
      const array = new StorageArray({ capacityBytes: 1 << 30 });
      const lun = array.createLun({ sizeBytes: 64 << 20, thin });
      const fabric = new Fabric(array, '16gfc');
      const port = fabric.host('h').port(lun);
      await fabric.clock.run(() => port.execute(cdb.writeSame16({ lba: 0, blocks: 65536, unmap: thin }), new Uint8Array(512)));
      const m = FABRIC_PRESETS['16gfc'];
      const front = m.hostCpuPerCommandUs / 1000 + (512 * m.hostCpuPerByteNs) / 1e6 + (512 / m.linkBytesPerSecond) * 1000 + m.commandLatencyMs;
      const back = thin ? (32 / m.arrayMetadataUnitsPerSecond) * 1000 : ((32 << 20) / m.arrayZeroBytesPerSecond) * 1000;
      expect(fabric.clock.now).toBeCloseTo(front + back, 9);
    }
  });

  it('rejects unknown presets and invalid parameters', () => {
    const array = new StorageArray({ capacityBytes: 1 << 20 });
    expect(() => new Fabric(array, 'token-ring' as never)).toThrow(/unknown preset/);
    expect(() => new Fabric(array, { queueDepth: 0 })).toThrow(/queueDepth/);
    expect(() => new Fabric(array, { linkSpeed: 1 } as never)).toThrow(/unknown option/);
  });
});
