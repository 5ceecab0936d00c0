/**
 * What a multipath device does with each answer (ESXi's failover triggers, KB 1003433, and
 * multipath-tools' tur checker for the path checker), and which commands it may re-issue on another
 * path when their outcome is unknown. docs/decisions/multipath.md gives the sources.
 * @module
 */
import { readU16, readU32, readU64 } from '../../codec/bytes.js';
import { decodeSense } from '../../codec/sense-decoder.js';
import { Opcode, ServiceAction } from '../../spec/opcodes.js';
import { SenseKey } from '../../spec/sense.js';
import type { ScsiResult } from '../../scsi/outcome.js';

/**
 * How a device treats one answer:
 * - `done`: hand it to the caller unchanged (GOOD, and every sense not listed below);
 * - `manual-intervention` (02/04/03), `transitioning` (02/04/0A), `standby` (02/04/0B),
 *   `state-changed` (06/2A/06): ESXi's failover triggers; the command did not execute;
 * - `unavailable` (02/04/0C), `offline` (02/04/12): the port refuses I/O in that ALUA state; an
 *   ALUA device that believed the port active learns of a change whose unit attention another
 *   command on the same nexus received (docs/decisions/multipath.md), otherwise they are `done`;
 * - `not-supported` (05/25/00): the logical unit is gone through this path (PDL when on every path).
 */
export type AnswerClass = 'done' | 'manual-intervention' | 'transitioning' | 'standby' | 'unavailable' | 'offline' | 'state-changed' | 'not-supported';

/** The class of `result` (fixed or descriptor sense alike). */
export function classifyAnswer(result: ScsiResult): AnswerClass {
  if (result.status !== 2) return 'done';
  const s = decodeSense(result.sense);
  if (s === undefined) return 'done';
  if (s.key === SenseKey.NOT_READY && s.asc === 0x04) {
    if (s.ascq === 0x03) return 'manual-intervention';
    if (s.ascq === 0x0a) return 'transitioning';
    if (s.ascq === 0x0b) return 'standby';
    if (s.ascq === 0x0c) return 'unavailable';
    if (s.ascq === 0x12) return 'offline';
  }
  if (s.key === SenseKey.UNIT_ATTENTION && s.asc === 0x2a && s.ascq === 0x06) return 'state-changed';
  if (s.key === SenseKey.ILLEGAL_REQUEST && s.asc === 0x25 && s.ascq === 0x00) return 'not-supported';
  return 'done';
}

/**
 * What a path checker's TEST UNIT READY says about a path (multipath-tools' tur checker):
 * GOOD and RESERVATION CONFLICT (another initiator's reservation) are `up`; 02/04/0B
 * is `standby` (PATH_GHOST); 02/04/0A is `transitioning` (PATH_PENDING); a UNIT ATTENTION is
 * `retry` (06/2A/06 also re-reads the port groups); 05/25/00 is `lost`; any other CHECK CONDITION
 * (02/04/0C unavailable, 02/04/12 offline, 02/04/03, ...) and any other status (BUSY, TASK SET FULL)
 * is `down`.
 */
export type CheckVerdict = 'up' | 'standby' | 'transitioning' | 'retry' | 'lost' | 'down';

/** The verdict of one TEST UNIT READY answer. */
export function checkVerdict(result: ScsiResult): CheckVerdict {
  if (result.status === 0x00 || result.status === 0x18) return 'up';
  const s = result.status === 2 ? decodeSense(result.sense) : undefined;
  if (s === undefined) return 'down';
  if (s.key === SenseKey.UNIT_ATTENTION) return 'retry';
  if (s.key === SenseKey.NOT_READY && s.asc === 0x04 && s.ascq === 0x0b) return 'standby';
  if (s.key === SenseKey.NOT_READY && s.asc === 0x04 && s.ascq === 0x0a) return 'transitioning';
  if (s.key === SenseKey.ILLEGAL_REQUEST && s.asc === 0x25 && s.ascq === 0x00) return 'lost';
  return 'down';
}

/**
 * Commands whose second execution answers as the first did and leaves the medium as the first did,
 * given the same medium: reads, inquiries, writes of given data, WRITE SAME, UNMAP, ORWRITE (OR is
 * idempotent), VERIFY, cache and prefetch hints. Everything else is not (COMPARE AND WRITE,
 * RESERVE/RELEASE, which belong to one I_T nexus, MODE SELECT, SANITIZE, RECEIVE COPY RESULTS,
 * which is per nexus, and anything unknown), except EXTENDED COPY, decided by its list.
 */
const IDEMPOTENT = new Set<number>([
  Opcode.TEST_UNIT_READY,
  Opcode.READ_6,
  Opcode.WRITE_6,
  Opcode.INQUIRY,
  Opcode.MODE_SENSE_6,
  Opcode.READ_CAPACITY_10,
  Opcode.READ_10,
  Opcode.WRITE_10,
  Opcode.WRITE_AND_VERIFY_10,
  Opcode.VERIFY_10,
  Opcode.PRE_FETCH_10,
  Opcode.SYNCHRONIZE_CACHE_10,
  Opcode.READ_DEFECT_DATA_10,
  Opcode.WRITE_SAME_10,
  Opcode.UNMAP,
  Opcode.MODE_SENSE_10,
  Opcode.READ_16,
  Opcode.WRITE_16,
  Opcode.ORWRITE_16,
  Opcode.WRITE_AND_VERIFY_16,
  Opcode.VERIFY_16,
  Opcode.PRE_FETCH_16,
  Opcode.SYNCHRONIZE_CACHE_16,
  Opcode.WRITE_SAME_16,
  Opcode.WRITE_ATOMIC_16,
  Opcode.SERVICE_ACTION_IN_16,
  Opcode.REPORT_LUNS,
  Opcode.MAINTENANCE_IN,
  Opcode.READ_12,
  Opcode.WRITE_12,
  Opcode.WRITE_AND_VERIFY_12,
  Opcode.VERIFY_12,
  Opcode.READ_DEFECT_DATA_12,
]);

/**
 * True when `cdb` may be executed a second time (on another path) without changing its result or
 * the medium's end state. An EXTENDED COPY (LID1) is, when every segment is a block-to-block copy
 * (02h) whose destination range does not overlap its source range on the same CSCD designator
 * (copying onto its own source would copy already-copied blocks the second time).
 */
export function isIdempotent(cdb: Uint8Array, dataOut: Uint8Array | undefined): boolean {
  const opcode = cdb[0];
  if (opcode === undefined) return false;
  if (IDEMPOTENT.has(opcode)) return true;
  if (opcode === Opcode.EXTENDED_COPY && (cdb[1]! & 0x1f) === 0) return extendedCopyIsIdempotent(dataOut);
  // RECEIVE COPY RESULTS: the copy manager's OPERATING PARAMETERS are the same on every nexus; the
  // results of a copy are held for the nexus that ran it, so another path would not find them.
  if (opcode === Opcode.RECEIVE_COPY_RESULTS) return (cdb[1]! & 0x1f) === ServiceAction.OPERATING_PARAMETERS;
  return false;
}

/** The segments of an EXTENDED COPY (LID1) list are all 02h and none writes onto its own source. */
function extendedCopyIsIdempotent(list: Uint8Array | undefined): boolean {
  if (list === undefined || list.length < 16) return false;
  const cscdLength = readU16(list, 2);
  const segmentLength = readU32(list, 8);
  const end = 16 + cscdLength + segmentLength;
  if (list.length < end) return false;
  const designators: string[] = [];
  for (let at = 16; at + 32 <= 16 + cscdLength; at += 32) designators.push(Array.from(list.subarray(at + 4, at + 8 + list[at + 7]!)).join(','));
  for (let at = 16 + cscdLength; at < end; ) {
    if (at + 28 > end || list[at] !== 0x02) return false;
    const source = designators[readU16(list, at + 4)];
    const destination = designators[readU16(list, at + 6)];
    if (source === undefined || destination === undefined) return false;
    const blocks = readU16(list, at + 10);
    const from = readU64(list, at + 12);
    const to = readU64(list, at + 20);
    if (source === destination && from < to + blocks && to < from + blocks) return false;
    at += readU16(list, at + 2) + 4;
  }
  return true;
}
