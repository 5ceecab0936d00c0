/**
 * What a host learns about a LUN before using its offloads, the way a hypervisor does: geometry
 * from READ CAPACITY(16), identity from VPD 83h, limits from VPD B0h, the copy manager's limits from
 * RECEIVE COPY RESULTS (OPERATING PARAMETERS), and the command set from REPORT SUPPORTED OPERATION
 * CODES. Everything goes through `execute`, so it works on any target.
 * @module
 */
import { readU16, readU32, readU64 } from '../codec/bytes.js';
import * as cdb from '../codec/cdb-encoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { SenseKey } from '../spec/sense.js';
import type { ScsiResult } from '../scsi/outcome.js';
import { HostIoError, LogicalUnitNotFoundError } from './errors.js';
import type { ScsiTarget } from './target.js';

/** The LUN's identification designator, as an EXTENDED COPY CSCD names it. */
export interface Designator {
  /** CODE SET. */
  readonly codeSet: number;
  /** ASSOCIATION and DESIGNATOR TYPE (bits 5:0 of byte 1). */
  readonly associationAndType: number;
  /** The designator bytes. */
  readonly bytes: Uint8Array;
}

/** The copy manager's limits (RECEIVE COPY RESULTS, OPERATING PARAMETERS). */
export interface CopyManagerLimits {
  /** MAXIMUM CSCD DESCRIPTOR COUNT. */
  readonly maxCscdDescriptors: number;
  /** MAXIMUM SEGMENT DESCRIPTOR COUNT. */
  readonly maxSegmentDescriptors: number;
  /** MAXIMUM DESCRIPTOR LIST LENGTH in bytes. */
  readonly maxDescriptorListLength: number;
  /** MAXIMUM SEGMENT LENGTH in bytes (0: no limit reported). */
  readonly maxSegmentBytes: number;
}

/** What a host knows about a LUN after probing it. */
export interface LunInfo {
  /** Logical block size in bytes. */
  readonly blockSize: number;
  /** Number of logical blocks. */
  readonly blockCount: number;
  /** LBPME: thin provisioned. */
  readonly thin: boolean;
  /** LBPRZ: unmapped blocks read as zeros. */
  readonly unmappedReadsZero: boolean;
  /** The first NAA (else any) LU designator of VPD 83h, when there is one. */
  readonly designator: Designator | undefined;
  /** MAXIMUM TRANSFER LENGTH in blocks (0: not reported). */
  readonly maxTransferBlocks: number;
  /** MAXIMUM WRITE SAME LENGTH in blocks (0: not reported). */
  readonly maxWriteSameBlocks: number;
  /** MAXIMUM COMPARE AND WRITE LENGTH in blocks (0: not supported). */
  readonly maxCompareAndWriteBlocks: number;
  /** MAXIMUM UNMAP LBA COUNT (0: UNMAP not supported). */
  readonly maxUnmapBlocks: number;
  /** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT. */
  readonly maxUnmapDescriptors: number;
  /** The copy manager's limits, when EXTENDED COPY is offered. */
  readonly copyManager: CopyManagerLimits | undefined;
  /** Operation codes (and `opcode/serviceAction` strings) REPORT SUPPORTED OPERATION CODES lists; undefined when it is not supported. */
  readonly supported: ReadonlySet<string> | undefined;
}

async function ask(target: ScsiTarget, c: Uint8Array, initiator: string | undefined): Promise<ScsiResult> {
  return await target.execute(c, undefined, initiator === undefined ? undefined : { initiator });
}

/** Retries once per pending unit attention (at most `limit`), as initiators do at login. */
async function askPastUnitAttentions(target: ScsiTarget, c: Uint8Array, initiator: string | undefined, limit = 10): Promise<ScsiResult> {
  let r = await ask(target, c, initiator);
  for (let i = 0; i < limit && r.status === 2 && decodeSense(r.sense)?.key === SenseKey.UNIT_ATTENTION; i++) r = await ask(target, c, initiator);
  return r;
}

/**
 * Probes `target` through `execute`. Nothing works without geometry, so when READ CAPACITY(16)
 * fails it throws: {@link LogicalUnitNotFoundError} when the target answers LOGICAL UNIT NOT
 * SUPPORTED (05/25/00), {@link HostIoError} (with the decoded sense) for any other failure.
 */
export async function probeLun(target: ScsiTarget, initiator?: string): Promise<LunInfo> {
  const readCapacity = cdb.readCapacity16(32);
  const rc = await askPastUnitAttentions(target, readCapacity, initiator);
  if (rc.status !== 0 || rc.data === undefined || rc.data.length < 16) {
    const sense = decodeSense(rc.sense);
    if (rc.status === 2 && sense?.reason === 'LOGICAL_UNIT_NOT_SUPPORTED') throw new LogicalUnitNotFoundError(target.description ?? 'the logical unit', 'READ CAPACITY(16)', sense);
    const what = `probing ${target.description ?? 'the logical unit'} with READ CAPACITY(16)`;
    throw new HostIoError(what, readCapacity, rc, rc.status === 0 ? `returned ${rc.data?.length ?? 0} bytes of parameter data, not 16` : undefined);
  }
  const blockCount = readU64(rc.data, 0) + 1;
  const blockSize = readU32(rc.data, 8);
  const thin = (rc.data[14]! & 0x80) !== 0;
  const unmappedReadsZero = (rc.data[14]! & 0x40) !== 0;

  let designator: Designator | undefined;
  const id = await ask(target, cdb.inquiry({ page: 0x83, allocationLength: 0xffff }), initiator);
  if (id.status === 0 && id.data !== undefined) {
    const d = id.data;
    const end = Math.min(d.length, 4 + readU16(d, 2));
    for (let at = 4; at + 4 <= end; at += 4 + d[at + 3]!) {
      const assoc = (d[at + 1]! >>> 4) & 0x03;
      const type = d[at + 1]! & 0x0f;
      const len = d[at + 3]!;
      if (assoc !== 0 || len > 20 || at + 4 + len > end) continue;
      const candidate = { codeSet: d[at]! & 0x0f, associationAndType: d[at + 1]! & 0x3f, bytes: d.slice(at + 4, at + 4 + len) };
      if (type === 3) {
        designator = candidate;
        break;
      }
      designator ??= candidate;
    }
  }

  let maxTransferBlocks = 0;
  let maxWriteSameBlocks = 0;
  let maxCompareAndWriteBlocks = 0;
  let maxUnmapBlocks = 0;
  let maxUnmapDescriptors = 0;
  const bl = await ask(target, cdb.inquiry({ page: 0xb0, allocationLength: 0xffff }), initiator);
  if (bl.status === 0 && bl.data !== undefined && bl.data.length >= 16) {
    const d = bl.data;
    maxCompareAndWriteBlocks = d[5]!;
    maxTransferBlocks = readU32(d, 8);
    if (d.length >= 44) {
      maxUnmapBlocks = readU32(d, 20);
      maxUnmapDescriptors = readU32(d, 24);
      maxWriteSameBlocks = readU64(d, 36);
    }
  }

  let copyManager: CopyManagerLimits | undefined;
  const op = await ask(target, cdb.receiveCopyResults({ serviceAction: 0x03, allocationLength: 1024 }), initiator);
  if (op.status === 0 && op.data !== undefined && op.data.length >= 24) {
    copyManager = {
      maxCscdDescriptors: readU16(op.data, 8),
      maxSegmentDescriptors: readU16(op.data, 10),
      maxDescriptorListLength: readU32(op.data, 12),
      maxSegmentBytes: readU32(op.data, 16),
    };
  }

  let supported: Set<string> | undefined;
  const rsoc = await ask(target, cdb.reportSupportedOperationCodes({ allocationLength: 65536 }), initiator);
  if (rsoc.status === 0 && rsoc.data !== undefined && rsoc.data.length >= 4) {
    supported = new Set();
    const d = rsoc.data;
    const end = Math.min(d.length, 4 + readU32(d, 0));
    for (let at = 4; at + 8 <= end; ) {
      const opcode = d[at]!;
      const servactv = (d[at + 5]! & 0x01) !== 0;
      supported.add(servactv ? `${opcode}/${readU16(d, at + 2)}` : String(opcode));
      supported.add(String(opcode));
      at += 8 + ((d[at + 5]! & 0x02) !== 0 ? 12 : 0);
    }
  }

  return {
    blockSize,
    blockCount,
    thin,
    unmappedReadsZero,
    designator,
    maxTransferBlocks,
    maxWriteSameBlocks,
    maxCompareAndWriteBlocks,
    maxUnmapBlocks,
    maxUnmapDescriptors,
    copyManager,
    supported,
  };
}
