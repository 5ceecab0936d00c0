/** Shared pieces of the fencing tests: a node's view of a LUN as one initiator, and one-block I/O. */
import { expect } from 'vitest';
import { cdb, type Lun } from '../../../src/index.js';
import type { ScsiTarget } from '../../../src/host/target.js';
import type { ScsiResult } from '../../../src/scsi/outcome.js';

/** The LUN as initiator `name` sees it through the array's default target port. */
export function asInitiator(lun: Lun, name: string): ScsiTarget {
  return { description: name, execute: (c, d, o) => lun.execute(c, d, { ...o, initiator: name }) };
}

/** WRITE(16) of one 512-byte block of `fill` at `lba`. */
export async function writeBlock(target: ScsiTarget, lba: number, fill: number): Promise<ScsiResult> {
  return await target.execute(cdb.write16({ lba, blocks: 1 }), new Uint8Array(512).fill(fill));
}

/** READ(16) of one block at `lba`. */
export async function readBlock(target: ScsiTarget, lba: number): Promise<ScsiResult> {
  return await target.execute(cdb.read16({ lba, blocks: 1 }));
}

/** Expects status `status` and, for GOOD and RESERVATION CONFLICT, no sense. */
export function expectStatus(r: ScsiResult, status: number): void {
  expect({ status: r.status, sense: r.sense === undefined || r.sense.length === 0 ? undefined : Array.from(r.sense.subarray(0, 14)) }).toEqual({ status, sense: undefined });
}

/** The block at `lba` as an observer (a nexus nobody fences; reads are allowed under WRITE EXCLUSIVE – REGISTRANTS ONLY). */
export async function blockByte(lun: Lun, lba: number): Promise<number> {
  let r = await lun.execute(cdb.read16({ lba, blocks: 1 }), undefined, { initiator: 'observer' });
  for (let i = 0; i < 3 && r.status === 2; i++) r = await lun.execute(cdb.read16({ lba, blocks: 1 }), undefined, { initiator: 'observer' });
  expect(r.status).toBe(0);
  return r.data![0]!;
}

/** Reads past the unit attentions a nexus has pending (a PREEMPT's 2A/05, a reset's 29/03). */
export async function drainUnitAttentions(target: ScsiTarget): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const r = await target.execute(cdb.testUnitReady());
    if (r.status !== 2) return;
  }
}
