/**
 * The work record (`ScsiResult.work`) is exact per command, and the fabric model charges from it,
 * not from the CDB: the cases where a CDB says one thing and the array does another (WRITE SAME
 * with NUMBER OF LOGICAL BLOCKS = 0, WRITE SAME with UNMAP and a non-zero pattern) are charged
 * what the array did.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type ScsiResult } from '../../src/index.js';
import { Fabric, FABRIC_PRESETS } from '../../src/host/fabric.js';

const MiB = 1024 * 1024;
const UNIT = MiB; // the default allocation unit
const m = FABRIC_PRESETS['16gfc'];

const NO_WORK = {
  dataOutBytes: 0,
  dataInBytes: 0,
  mediaReadBytes: 0,
  mediaWriteBytes: 0,
  sharedBytes: 0,
  copiedBytes: 0,
  deallocatedBytes: 0,
  zeroedBytes: 0,
};

function setup(options: { thin?: boolean; cloneMode?: 'share' | 'copy'; capacityBytes?: number; sizeBytes?: number } = {}) {
  const array = new StorageArray({ capacityBytes: options.capacityBytes ?? 1 << 30, ...(options.cloneMode === undefined ? {} : { cloneMode: options.cloneMode }) });
  const lun = array.createLun({ sizeBytes: options.sizeBytes ?? 64 * MiB, thin: options.thin ?? true });
  return { array, lun };
}

async function run(lun: { execute(c: Uint8Array, d?: Uint8Array): ScsiResult | Promise<ScsiResult> }, c: Uint8Array, d?: Uint8Array): Promise<ScsiResult> {
  return await lun.execute(c, d);
}

function pattern(bytes: number, value: number): Uint8Array {
  return new Uint8Array(bytes).fill(value);
}

/** Host CPU, link and latency of a command with `out` bytes of Data-Out and no Data-In. */
function front(out: number): number {
  return m.hostCpuPerCommandUs / 1000 + (out * m.hostCpuPerByteNs) / 1e6 + (out / m.linkBytesPerSecond) * 1000 + m.commandLatencyMs;
}

const metadataMs = (units: number): number => (units / m.arrayMetadataUnitsPerSecond) * 1000;
const mediaMs = (bytes: number): number => (bytes / m.arrayMediaBytesPerSecond) * 1000;

describe('the work record of each command', () => {
  it('READ: Data-In and media read of the blocks transferred', async () => {
    const { lun } = setup();
    for (const c of [cdb.read10({ lba: 8, blocks: 16 }), cdb.read12({ lba: 8, blocks: 16 }), cdb.read16({ lba: 8, blocks: 16 })]) {
      const r = await run(lun, c);
      expect(r.work).toEqual({ ...NO_WORK, dataInBytes: 16 * 512, mediaReadBytes: 16 * 512 });
    }
    // TRANSFER LENGTH 0 moves nothing
    expect((await run(lun, cdb.read16({ lba: 8, blocks: 0 }))).work).toEqual(NO_WORK);
  });

  it('WRITE: Data-Out and media write of the blocks, zero-detected pieces included', async () => {
    const { lun } = setup();
    for (const c of [cdb.write10({ lba: 0, blocks: 4 }), cdb.write12({ lba: 0, blocks: 4 }), cdb.write16({ lba: 0, blocks: 4 })]) {
      const r = await run(lun, c, pattern(2048, 7));
      expect(r.work).toEqual({ ...NO_WORK, dataOutBytes: 2048, mediaWriteBytes: 2048 });
    }
    expect((await run(lun, cdb.write16({ lba: 0, blocks: 4 }), new Uint8Array(2048))).work).toEqual({ ...NO_WORK, dataOutBytes: 2048, mediaWriteBytes: 2048 });
  });

  it('WRITE SAME with UNMAP deallocates its range on a thin LUN; a pattern is written; zeros are written on a thick LUN', async () => {
    const thin = setup().lun;
    expect((await run(thin, cdb.writeSame16({ lba: 0, blocks: 65536, unmap: true }), new Uint8Array(512))).work).toEqual({ ...NO_WORK, dataOutBytes: 512, deallocatedBytes: 32 * MiB });
    expect((await run(thin, cdb.writeSame16({ lba: 0, blocks: 100, ndob: true }))).work).toEqual({ ...NO_WORK, deallocatedBytes: 100 * 512 });
    expect((await run(thin, cdb.writeSame10({ lba: 0, blocks: 100 }), pattern(512, 0xa5))).work).toEqual({ ...NO_WORK, dataOutBytes: 512, mediaWriteBytes: 100 * 512 });
    // UNMAP = 1 unmaps whatever the Data-Out block holds, so a non-zero pattern is deallocation too
    expect((await run(thin, cdb.writeSame10({ lba: 0, blocks: 100, unmap: true }), pattern(512, 0xa5))).work).toEqual({ ...NO_WORK, dataOutBytes: 512, deallocatedBytes: 100 * 512 });
    const thick = setup({ thin: false }).lun;
    expect((await run(thick, cdb.writeSame16({ lba: 0, blocks: 2048 }), new Uint8Array(512))).work).toEqual({ ...NO_WORK, dataOutBytes: 512, zeroedBytes: MiB });
  });

  it('WRITE SAME with NUMBER OF LOGICAL BLOCKS = 0 records the range to the end of the LUN', async () => {
    const { lun } = setup();
    const rest = (lun.blockCount - 1000) * 512;
    expect((await run(lun, cdb.writeSame16({ lba: 1000, blocks: 0, unmap: true }), new Uint8Array(512))).work).toEqual({ ...NO_WORK, dataOutBytes: 512, deallocatedBytes: rest });
    expect((await run(lun, cdb.writeSame10({ lba: 1000, blocks: 0 }), pattern(512, 1))).work).toEqual({ ...NO_WORK, dataOutBytes: 512, mediaWriteBytes: rest });
  });

  it('UNMAP: the blocks of every descriptor; a partial unit the full pool had to leave mapped is not counted', async () => {
    const { lun } = setup();
    const list = cdb.unmapParameterList([
      { lba: 0, blocks: 2048 },
      { lba: 10_000, blocks: 0 },
      { lba: 50_000, blocks: 7 },
    ]);
    expect((await run(lun, cdb.unmap({ parameterListLength: list.length }), list)).work).toEqual({ ...NO_WORK, dataOutBytes: list.length, deallocatedBytes: (2048 + 7) * 512 });

    // A pool of two units, both in use: unit 1 shares unit 0's extent (EXTENDED COPY), unit 2 is written.
    const full = setup({ capacityBytes: 2 * UNIT, sizeBytes: 4 * UNIT }).lun;
    expect((await run(full, cdb.write16({ lba: 0, blocks: 2048 }), pattern(UNIT, 3))).status).toBe(0);
    const copy = cdb.extendedCopyParameterList({
      cscds: [{ designator: full.naaDesignator, blockSize: 512 }],
      segments: [{ source: 0, destination: 0, blocks: 2048, sourceLba: 0, destinationLba: 2048 }],
    });
    expect((await run(full, cdb.extendedCopy(copy.length), copy)).status).toBe(0);
    expect((await run(full, cdb.write16({ lba: 4096, blocks: 2048 }), pattern(UNIT, 4))).status).toBe(0);
    // Unmapping part of the shared unit would need a new unit: it stays mapped, the rest is deallocated.
    const partial = cdb.unmapParameterList([
      { lba: 2048, blocks: 8 },
      { lba: 4096, blocks: 2048 },
    ]);
    const r = await run(full, cdb.unmap({ parameterListLength: partial.length }), partial);
    expect(r.status).toBe(0);
    expect(r.work).toEqual({ ...NO_WORK, dataOutBytes: partial.length, deallocatedBytes: UNIT });
  });

  it('COMPARE AND WRITE: the compare reads and the write writes the blocks; a miscompare records only the read', async () => {
    const { lun } = setup();
    const verifyAndWrite = new Uint8Array(2 * 512);
    verifyAndWrite.fill(9, 512);
    const ok = await run(lun, cdb.compareAndWrite({ lba: 5, blocks: 1 }), verifyAndWrite);
    expect(ok.status).toBe(0);
    expect(ok.work).toEqual({ ...NO_WORK, dataOutBytes: 1024, mediaReadBytes: 512, mediaWriteBytes: 512 });
    const miscompare = await run(lun, cdb.compareAndWrite({ lba: 5, blocks: 1 }), verifyAndWrite); // LBA 5 now holds 9s
    expect(miscompare.status).toBe(2);
    expect(miscompare.work).toEqual({ ...NO_WORK, dataOutBytes: 1024, mediaReadBytes: 512 });
  });

  it('EXTENDED COPY: shared extents in share mode, copied bytes in copy mode, partial units copied in both', async () => {
    for (const cloneMode of ['share', 'copy'] as const) {
      const { lun } = setup({ cloneMode });
      expect((await run(lun, cdb.write16({ lba: 0, blocks: 8192 }), pattern(4 * MiB, 1))).status).toBe(0);
      const list = cdb.extendedCopyParameterList({
        cscds: [{ designator: lun.naaDesignator, blockSize: 512 }],
        segments: [
          { source: 0, destination: 0, blocks: 8192, sourceLba: 0, destinationLba: 16384 },
          // one block: not a whole unit, so it is copied even in share mode
          { source: 0, destination: 0, blocks: 1, sourceLba: 0, destinationLba: 40_000 },
        ],
      });
      const r = await run(lun, cdb.extendedCopy(list.length), list);
      expect(r.status).toBe(0);
      const whole = cloneMode === 'share' ? { sharedBytes: 4 * MiB, copiedBytes: 512 } : { sharedBytes: 0, copiedBytes: 4 * MiB + 512 };
      expect(r.work).toEqual({ ...NO_WORK, dataOutBytes: list.length, ...whole });
    }
  });

  it('EXTENDED COPY that runs out of space records the segments it completed', async () => {
    const { lun } = setup({ cloneMode: 'copy', capacityBytes: 3 * UNIT, sizeBytes: 8 * UNIT });
    expect((await run(lun, cdb.write16({ lba: 0, blocks: 2048 }), pattern(UNIT, 1))).status).toBe(0);
    const list = cdb.extendedCopyParameterList({
      cscds: [{ designator: lun.naaDesignator, blockSize: 512 }],
      segments: [0, 1, 2].map((i) => ({ source: 0, destination: 0, blocks: 2048, sourceLba: 0, destinationLba: (i + 1) * 2048 })),
    });
    const r = await run(lun, cdb.extendedCopy(list.length), list);
    expect(r.status).toBe(2);
    expect(r.work).toEqual({ ...NO_WORK, dataOutBytes: list.length, copiedBytes: 2 * UNIT });
  });

  it('a command that executes without media work records its transfer; a refused command has no record', async () => {
    const { lun } = setup();
    const inquiry = await run(lun, cdb.inquiry({ allocationLength: 36 }));
    expect(inquiry.work).toEqual({ ...NO_WORK, dataInBytes: 36 });
    // RESERVATION CONFLICT: refused before it executed
    expect((await lun.execute(cdb.reserve6(), undefined, { initiator: 'a' })).status).toBe(0);
    const conflict = await lun.execute(cdb.write16({ lba: 0, blocks: 1 }), new Uint8Array(512), { initiator: 'b' });
    expect(conflict.status).toBe(0x18);
    expect(conflict.work).toBeUndefined();
    // INVALID FIELD IN CDB: refused at decode
    const invalid = await lun.execute(cdb.read16({ lba: lun.blockCount, blocks: 1 }), undefined, { initiator: 'a' });
    expect(invalid.status).toBe(2);
    expect(invalid.work).toBeUndefined();
  });
});

describe('the fabric charges the work record, not the CDB', () => {
  async function charge(thin: boolean, c: Uint8Array, dataOut?: Uint8Array): Promise<{ now: number; fabricBytes: number; status: number }> {
    const { array, lun } = setup({ thin });
    const fabric = new Fabric(array, '16gfc');
    const r = await fabric.clock.run(() => fabric.host('h').port(lun).execute(c, dataOut));
    return { now: fabric.clock.now, fabricBytes: fabric.stats.fabricBytes, status: r.status };
  }

  it('WRITE SAME(16) with NUMBER OF LOGICAL BLOCKS = 0 is charged for the range to the end of the LUN', async () => {
    // A decoder of the CDB reads 0 blocks and charges no back-end time (0.055448 ms in all); the
    // array deallocates the whole 64 MiB LUN: 64 allocation units of metadata work.
    const c = await charge(true, cdb.writeSame16({ lba: 0, blocks: 0, unmap: true }), new Uint8Array(512));
    expect(c.status).toBe(0);
    expect(c.now).toBeCloseTo(front(512) + metadataMs(64), 9);
    expect(c.now).toBeCloseTo(0.375448, 9);
    expect(c.fabricBytes).toBe(512);
  });

  it('WRITE SAME(10) with NUMBER OF LOGICAL BLOCKS = 0 and a pattern is charged media time for the rest of the LUN', async () => {
    const c = await charge(true, cdb.writeSame10({ lba: 65536, blocks: 0 }), pattern(512, 0x5a));
    expect(c.now).toBeCloseTo(front(512) + mediaMs(32 * MiB), 9);
  });

  it('WRITE SAME with UNMAP and a non-zero pattern is charged as the deallocation the array does', async () => {
    // A decoder of the CDB sees a non-zero pattern and charges 32 MiB of media writes (8.39 ms).
    const c = await charge(true, cdb.writeSame16({ lba: 0, blocks: 65536, unmap: true }), pattern(512, 0xff));
    expect(c.now).toBeCloseTo(front(512) + metadataMs(32), 9);
  });

  it('COMPARE AND WRITE is charged its compare and its write; a miscompare its compare', async () => {
    // A decoder of the CDB charged a miscompare nothing for the block it compared (0.112048 ms in all).
    const { array, lun } = setup();
    const fabric = new Fabric(array, '16gfc');
    const port = fabric.host('h').port(lun);
    const data = new Uint8Array(1024);
    data.fill(1, 512);
    const statuses = await fabric.clock.run(async () => [(await port.execute(cdb.compareAndWrite({ lba: 0, blocks: 1 }), data)).status, (await port.execute(cdb.compareAndWrite({ lba: 0, blocks: 1 }), data)).status]);
    expect(statuses).toEqual([0, 2]);
    expect(fabric.clock.now).toBeCloseTo(2 * front(1024) + mediaMs(1024) + mediaMs(512), 9);
  });

  it('a refused command costs only the round trip', async () => {
    const c = await charge(true, cdb.read16({ lba: 1 << 20, blocks: 8 }));
    expect(c.status).toBe(2);
    expect(c.now).toBeCloseTo(front(0), 9);
  });
});
