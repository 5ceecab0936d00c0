import { expect } from 'vitest';
import { decodeSense, type Lun, type ScsiResult, cdb } from '../../src/index.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Awaits `execute` (which may answer synchronously). */
export async function run(lun: Lun, c: Uint8Array, dataOut?: Uint8Array, initiator?: string): Promise<ScsiResult> {
  return await lun.execute(c, dataOut, initiator === undefined ? undefined : { initiator });
}

export function expectGood(r: ScsiResult): void {
  expect(r.status, JSON.stringify(decodeSense(r.sense))).toBe(0);
  expect(r.sense).toBeUndefined();
}

export function expectSense(r: ScsiResult, key: number, asc: number, ascq: number): void {
  expect(r.status).toBe(2);
  const s = decodeSense(r.sense);
  expect(s && [s.key, s.asc, s.ascq]).toEqual([key, asc, ascq]);
}

export function pattern(bytes: number, seed: number): Uint8Array {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (seed * 31 + i * 7 + (i >>> 9)) & 0xff || 1;
  return b;
}

export async function write(lun: Lun, lba: number, data: Uint8Array, initiator?: string): Promise<ScsiResult> {
  return run(lun, cdb.write16({ lba, blocks: data.length / lun.blockSize }), data, initiator);
}

export async function read(lun: Lun, lba: number, blocks: number, initiator?: string): Promise<Uint8Array> {
  const r = await run(lun, cdb.read16({ lba, blocks }), undefined, initiator);
  expectGood(r);
  return r.data ?? new Uint8Array(0);
}

export async function xcopy(lun: Lun, segments: Array<{ from: Lun; to: Lun; blocks: number; sourceLba: number; destinationLba: number }>, listId = 0, listIdUsage?: number, initiator?: string): Promise<ScsiResult> {
  const luns = [...new Set(segments.flatMap((s) => [s.from, s.to]))];
  const list = cdb.extendedCopyParameterList({
    listId,
    ...(listIdUsage === undefined ? {} : { listIdUsage }),
    cscds: luns.map((l) => ({ designator: l.naaDesignator, blockSize: l.blockSize })),
    segments: segments.map((s) => ({ source: luns.indexOf(s.from), destination: luns.indexOf(s.to), blocks: s.blocks, sourceLba: s.sourceLba, destinationLba: s.destinationLba })),
  });
  return run(lun, cdb.extendedCopy(list.length), list, initiator);
}

/** Byte equality for large buffers (vitest's deep equality walks typed arrays element by element). */
export function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual).toBeDefined();
  const a = Buffer.from(actual!.buffer, actual!.byteOffset, actual!.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let i = 0;
  while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
  expect.fail(`bytes differ: lengths ${a.length}/${b.length}, first difference at offset ${i}`);
}
