/**
 * In-process benchmark of the array core's offloads against doing the same work from the host,
 * all measured in one run (ratios, not absolute numbers, are what carry over between machines).
 * Run: `npm run bench`.
 */
import { Bench } from 'tinybench';
import { StorageArray, cdb, type Lun } from '../src/index.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const CLONE_BYTES = 256 * MiB;
const SEGMENT_BLOCKS = 32768; // 16 MiB per segment: a hypervisor's largest transfer size
const HOST_CHUNK = 4 * MiB;

function check(r: unknown): void {
  if (r instanceof Promise || (r as { status: number }).status !== 0) throw new Error('command failed');
}

function cloneList(lun: Lun, srcLba: number, dstLba: number, blocks: number): Uint8Array {
  const segments = [];
  for (let done = 0; done < blocks; done += SEGMENT_BLOCKS) {
    segments.push({ source: 0, destination: 0, blocks: Math.min(SEGMENT_BLOCKS, blocks - done), sourceLba: srcLba + done, destinationLba: dstLba + done });
  }
  return cdb.extendedCopyParameterList({ cscds: [{ designator: lun.naaDesignator, blockSize: lun.blockSize }], segments });
}

function writtenLun(mode: 'share' | 'copy'): { array: StorageArray; lun: Lun } {
  const array = new StorageArray({ capacityBytes: 4 * GiB, cloneMode: mode });
  const lun = array.createLun({ sizeBytes: 64 * GiB });
  const chunk = new Uint8Array(HOST_CHUNK);
  for (let off = 0; off < CLONE_BYTES; off += HOST_CHUNK) {
    chunk.fill((off / HOST_CHUNK) & 0xff || 1);
    check(lun.execute(cdb.write16({ lba: off / 512, blocks: HOST_CHUNK / 512 }), chunk));
  }
  return { array, lun };
}

function unmapRange(lun: Lun, lba: number, blocks: number): void {
  const list = cdb.unmapParameterList([{ lba, blocks }]);
  check(lun.execute(cdb.unmap({ parameterListLength: list.length }), list));
}

const cloneBlocks = CLONE_BYTES / 512;
const DEST = 16 * GiB / 512;
const shared = writtenLun('share');
const copied = writtenLun('copy');
const hosted = writtenLun('share');
const shareList = cloneList(shared.lun, 0, DEST, cloneBlocks);
const copyList = cloneList(copied.lun, 0, DEST, cloneBlocks);
const srcBytes = new Uint8Array(CLONE_BYTES).fill(3);
const dstBytes = new Uint8Array(CLONE_BYTES);
const hostBuffer = new Uint8Array(HOST_CHUNK);

const caw = new StorageArray({ capacityBytes: GiB }).createLun({ sizeBytes: GiB });
const cawCdb = cdb.compareAndWrite({ lba: 0, blocks: 1 });
const cawA = new Uint8Array(1024).fill(1, 512);
const cawB = new Uint8Array(1024).fill(1, 0, 512);
check(caw.execute(cdb.write16({ lba: 0, blocks: 1 }), new Uint8Array(512)));
let cawTurn = 0;
const rawBlock = new Uint8Array(512);
let rawTurn = 0;

const zeroArray = new StorageArray({ capacityBytes: 2 * TiB });
const zeroLun = zeroArray.createLun({ sizeBytes: 2 * TiB });
const zeroBlock = new Uint8Array(512);
const wsBlocks = zeroLun.limits.maximumWriteSameLength;
const zeros = new Uint8Array(HOST_CHUNK);

const bench = new Bench({ name: 'vaai-sim core', time: 1500, iterations: 5, warmup: true });
bench
  .add('clone 256 MiB: XCOPY, shared extents', () => check(shared.lun.execute(cdb.extendedCopy(shareList.length), shareList)), {
    beforeEach: () => unmapRange(shared.lun, DEST, cloneBlocks),
  })
  .add('clone 256 MiB: XCOPY, byte copy', () => check(copied.lun.execute(cdb.extendedCopy(copyList.length), copyList)), {
    beforeEach: () => unmapRange(copied.lun, DEST, cloneBlocks),
  })
  .add('clone 256 MiB: host READ/WRITE 4 MiB', () => {
    for (let off = 0; off < CLONE_BYTES; off += HOST_CHUNK) {
      const r = hosted.lun.execute(cdb.read16({ lba: off / 512, blocks: HOST_CHUNK / 512 }), undefined, { dataIn: hostBuffer });
      check(r);
      check(hosted.lun.execute(cdb.write16({ lba: DEST + off / 512, blocks: HOST_CHUNK / 512 }), hostBuffer));
    }
  }, { beforeEach: () => unmapRange(hosted.lun, DEST, cloneBlocks) })
  .add('copy 256 MiB: Uint8Array.set', () => dstBytes.set(srcBytes))
  .add('COMPARE AND WRITE 1 block via execute', () => check(caw.execute(cawCdb, (cawTurn++ & 1) === 0 ? cawA : cawB)))
  .add('compare-then-copy 512 B, raw loop', () => {
    const d = (rawTurn++ & 1) === 0 ? cawA : cawB;
    for (let i = 0; i < 512; i++) if (d[i] !== rawBlock[i]) return;
    rawBlock.set(d.subarray(512));
  })
  .add('zero 1 TiB: WRITE SAME(16) UNMAP', () => {
    for (let lba = 0; lba < TiB / 512; lba += wsBlocks) check(zeroLun.execute(cdb.writeSame16({ lba, blocks: wsBlocks, unmap: true }), zeroBlock));
  })
  .add('zero 1 GiB: host WRITE(16) of zeros', () => {
    for (let off = 0; off < GiB; off += HOST_CHUNK) check(zeroLun.execute(cdb.write16({ lba: (TiB + off) / 512, blocks: HOST_CHUNK / 512 }), zeros));
  }, { afterEach: () => unmapRange(zeroLun, TiB / 512, GiB / 512) });

await bench.run();
console.table(bench.table());

const mean = (name: string): number => {
  const task = bench.getTask(name);
  const r = task?.result;
  if (r === undefined || !('latency' in r)) throw new Error(`no result for ${name}`);
  return r.latency.mean;
};
const hz = (name: string): number => 1000 / mean(name);
const ratio = (a: string, b: string): string => (mean(b) / mean(a)).toFixed(2);
console.log(`clone, shared extents vs host READ/WRITE:  ${ratio('clone 256 MiB: XCOPY, shared extents', 'clone 256 MiB: host READ/WRITE 4 MiB')}x faster`);
console.log(`clone, byte copy vs Uint8Array.set:        ${ratio('clone 256 MiB: XCOPY, byte copy', 'copy 256 MiB: Uint8Array.set')}x the bandwidth`);
console.log(`COMPARE AND WRITE via execute:             ${(hz('COMPARE AND WRITE 1 block via execute') / 1e6).toFixed(2)} M/s, ${ratio('COMPARE AND WRITE 1 block via execute', 'compare-then-copy 512 B, raw loop')}x the raw loop`);
console.log(`zero 1 TiB by WRITE SAME UNMAP vs host-writing 1 GiB of zeros: ${ratio('zero 1 TiB: WRITE SAME(16) UNMAP', 'zero 1 GiB: host WRITE(16) of zeros')}x faster`);
console.log(`peak RSS: ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`);
