/**
 * Building the benchmark's disks: written data laid out as a guest would leave it, reset between
 * runs. Setup is not measured; it uses the same `execute` path as everything else.
 * @module
 */
import type { Lun } from '../scsi/logical-unit.js';
import * as cdb from '../codec/cdb-encoder.js';

const MiB = 1024 * 1024;
/** Bytes of distinct data written per disk; the rest of the written area shares these units. */
export const SEED_BYTES = 64 * MiB;

function check(r: unknown, what: string): void {
  if (r instanceof Promise || (r as { status: number }).status !== 0) throw new Error(`benchmark setup: ${what} failed`);
}

/** Fills `buffer` with data that differs per byte and per `seed`, never all zero. */
export function fillPattern(buffer: Uint8Array, seed: number): void {
  const words = new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.length >>> 2);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0 || 1;
  }
}

/** EXTENDED COPY within `lun`, in 16 MiB segments and up to 64 segments per command (setup only). */
export function shareWithin(lun: Lun, sourceLba: number, destinationLba: number, blocks: number): void {
  const per = Math.floor((16 * MiB) / lun.blockSize);
  const designator = { designator: lun.naaDesignator, blockSize: lun.blockSize };
  for (let done = 0; done < blocks; ) {
    const segments = [];
    for (let i = 0; i < 64 && done < blocks; i++) {
      const n = Math.min(per, blocks - done);
      segments.push({ source: 0, destination: 0, blocks: n, sourceLba: sourceLba + done, destinationLba: destinationLba + done });
      done += n;
    }
    const list = cdb.extendedCopyParameterList({ cscds: [designator], segments });
    check(lun.execute(cdb.extendedCopy(list.length), list), 'EXTENDED COPY');
  }
}

/**
 * Writes `fraction` of `lun` the way a guest leaves a thin disk: in every 10 MiB stripe the first
 * `fraction` of it is written. The first {@link SEED_BYTES} written are distinct data written with
 * WRITE(16); the rest of the written area shares those units (as a disk cloned from a template does),
 * so the benchmark's memory holds the seed once. Returns the bytes written.
 */
export function writeDisk(lun: Lun, fraction: number, seed: number): number {
  const bs = lun.blockSize;
  const stripe = Math.min(10 * MiB, lun.sizeBytes);
  const writtenPerStripe = Math.round((fraction * stripe) / MiB) * MiB;
  const runs: Array<[offset: number, bytes: number]> = [];
  for (let at = 0; at < lun.sizeBytes; at += stripe) runs.push([at, Math.min(writtenPerStripe, lun.sizeBytes - at)]);
  const chunk = new Uint8Array(4 * MiB);
  let seeded = 0;
  let written = 0;
  for (const [offset, bytes] of runs) {
    for (let done = 0; done < bytes; ) {
      if (seeded < SEED_BYTES) {
        const n = Math.min(chunk.length, bytes - done, SEED_BYTES - seeded);
        fillPattern(chunk, seed + seeded / MiB);
        check(lun.execute(cdb.write16({ lba: (offset + done) / bs, blocks: n / bs }), chunk.subarray(0, n)), 'WRITE');
        seeded += n;
        done += n;
      } else {
        const n = Math.min(SEED_BYTES, bytes - done);
        shareWithin(lun, 0, (offset + done) / bs, n / bs);
        done += n;
      }
    }
    written += bytes;
  }
  return written;
}

/** Deallocates all of `lun` with WRITE SAME(16) UNMAP (setup between runs). */
export function resetDisk(lun: Lun): void {
  const zero = new Uint8Array(lun.blockSize);
  const max = lun.limits.maximumWriteSameLength;
  for (let lba = 0; lba < lun.blockCount; lba += max) {
    const blocks = Math.min(max, lun.blockCount - lba);
    check(lun.execute(cdb.writeSame16({ lba, blocks, unmap: lun.thin }), zero), 'WRITE SAME');
  }
}

/** Reads the first `blocks` of both LUNs and throws unless they are equal (a clone's, a restore's, a replica's check). */
export function verifyEqual(a: Lun, b: Lun, blocks: number, what = 'clone'): void {
  const n = Math.floor((4 * MiB) / a.blockSize);
  const left = new Uint8Array(4 * MiB);
  const right = new Uint8Array(4 * MiB);
  for (let lba = 0; lba < blocks; lba += n) {
    const count = Math.min(n, blocks - lba);
    const ra = a.execute(cdb.read16({ lba, blocks: count }), undefined, { dataIn: left });
    const rb = b.execute(cdb.read16({ lba, blocks: count }), undefined, { dataIn: right });
    check(ra, 'READ');
    check(rb, 'READ');
    const da = (ra as { data: Uint8Array }).data;
    const db = (rb as { data: Uint8Array }).data;
    for (let i = 0; i < da.length; i++) if (da[i] !== db[i]) throw new Error(`benchmark check: ${what} differs at LBA ${lba + Math.floor(i / a.blockSize)}`);
  }
}
