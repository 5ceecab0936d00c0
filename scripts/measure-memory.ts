/**
 * Measures what a 64 TiB thin LUN costs: right after creation, and after 1 GiB of data is written
 * to it (in 1 MiB WRITE(16) commands spread over the LUN). Run: `npm run measure:memory`.
 */
import { StorageArray, cdb } from '../src/index.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

function snapshot(): { rss: number; heapUsed: number; arrayBuffers: number } {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

function fmt(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

const base = snapshot();
const array = new StorageArray({ capacityBytes: 2 * GiB });
const lun = array.createLun({ sizeBytes: 64 * TiB, blockSize: 512 });
const created = snapshot();
const chunk = new Uint8Array(MiB).fill(0xa5);
const write = cdb.write16({ lba: 0, blocks: MiB / 512 });
const stride = Math.floor(lun.blockCount / 1024 / 2048) * 2048; // 1024 writes spread over the whole LUN
for (let i = 0; i < 1024; i++) {
  const lba = i * stride;
  new DataView(write.buffer).setUint32(2, Math.floor(lba / 2 ** 32));
  new DataView(write.buffer).setUint32(6, lba >>> 0);
  const r = lun.execute(write, chunk);
  if ('status' in r && r.status !== 0) throw new Error(`write ${i} failed`);
}
const written = snapshot();
console.log(`64 TiB thin LUN, created:        +${fmt(created.rss - base.rss)} RSS, +${fmt(created.heapUsed - base.heapUsed)} heap, +${fmt(created.arrayBuffers - base.arrayBuffers)} array buffers`);
console.log(`after 1 GiB written (1024 x 1 MiB): +${fmt(written.rss - base.rss)} RSS, +${fmt(written.heapUsed - base.heapUsed)} heap, +${fmt(written.arrayBuffers - base.arrayBuffers)} array buffers`);
console.log(`pool: ${array.poolStatus.allocatedUnits} units allocated (${fmt(array.poolStatus.usedBytes)})`);
