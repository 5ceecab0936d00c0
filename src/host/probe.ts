/**
 * What a host learns about a LUN before using its offloads, the way a hypervisor does: geometry
 * from READ CAPACITY(16), identity from VPD 83h, limits from VPD B0h, the copy manager's limits from
 * RECEIVE COPY RESULTS (OPERATING PARAMETERS), and the command set from REPORT SUPPORTED OPERATION
 * CODES. Everything goes through `execute`, so it works on any target.
 * @module
 */
import * as cdb from '../codec/cdb-encoder.js';
import { decodeOperatingParameters } from '../codec/copy-results-decoder.js';
import { decodeAllCommands } from '../codec/rsoc-decoder.js';
import { decodeReadCapacity16 } from '../codec/sbc-data-decoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { decodeBlockLimits, decodeDeviceIdentification } from '../codec/vpd-decoder.js';
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
  const capacity = rc.status === 0 && rc.data !== undefined ? decodeReadCapacity16(rc.data) : undefined;
  if (capacity?.ok !== true) {
    const sense = decodeSense(rc.sense);
    if (rc.status === 2 && sense?.reason === 'LOGICAL_UNIT_NOT_SUPPORTED') throw new LogicalUnitNotFoundError(target.description ?? 'the logical unit', 'READ CAPACITY(16)', sense);
    const what = `probing ${target.description ?? 'the logical unit'} with READ CAPACITY(16)`;
    throw new HostIoError(what, readCapacity, rc, rc.status === 0 ? `returned ${rc.data?.length ?? 0} bytes of parameter data, not 16` : undefined);
  }
  const blockCount = capacity.value.returnedLogicalBlockAddress + 1;
  const blockSize = capacity.value.logicalBlockLengthInBytes;
  const thin = capacity.value.lbpme;
  const unmappedReadsZero = capacity.value.lbprz;

  let designator: Designator | undefined;
  const id = await ask(target, cdb.inquiry({ page: 0x83, allocationLength: 0xffff }), initiator);
  const identification = id.status === 0 && id.data !== undefined ? decodeDeviceIdentification(id.data) : undefined;
  if (identification?.ok === true) {
    // A logical unit designator an EXTENDED COPY CSCD can carry (at most 20 bytes): NAA first, else the first one.
    for (const d of identification.value.designationDescriptors) {
      if (d.association !== 0 || d.designator.length > 20) continue;
      const candidate = { codeSet: d.codeSet, associationAndType: (d.association << 4) | d.designatorType, bytes: d.designator };
      if (d.designatorType === 3) {
        designator = candidate;
        break;
      }
      designator ??= candidate;
    }
  }

  const bl = await ask(target, cdb.inquiry({ page: 0xb0, allocationLength: 0xffff }), initiator);
  const decodedLimits = bl.status === 0 && bl.data !== undefined ? decodeBlockLimits(bl.data) : undefined;
  const limits = decodedLimits?.ok === true ? decodedLimits.value : undefined;

  let copyManager: CopyManagerLimits | undefined;
  const op = await ask(target, cdb.receiveCopyResults({ serviceAction: 0x03, allocationLength: 1024 }), initiator);
  const parameters = op.status === 0 && op.data !== undefined ? decodeOperatingParameters(op.data) : undefined;
  if (parameters?.ok === true) {
    const p = parameters.value;
    copyManager = {
      maxCscdDescriptors: p.maximumCscdDescriptorCount,
      maxSegmentDescriptors: p.maximumSegmentDescriptorCount,
      maxDescriptorListLength: p.maximumDescriptorListLength,
      maxSegmentBytes: p.maximumSegmentLength,
    };
  }

  let supported: Set<string> | undefined;
  const rsoc = await ask(target, cdb.reportSupportedOperationCodes({ allocationLength: 65536 }), initiator);
  const commands = rsoc.status === 0 && rsoc.data !== undefined ? decodeAllCommands(rsoc.data) : undefined;
  if (commands?.ok === true) {
    supported = new Set();
    for (const c of commands.value.commandDescriptors) {
      if (c.serviceAction !== undefined) supported.add(`${c.operationCode}/${c.serviceAction}`);
      supported.add(String(c.operationCode));
    }
  }

  return {
    blockSize,
    blockCount,
    thin,
    unmappedReadsZero,
    designator,
    maxTransferBlocks: limits?.maximumTransferLength ?? 0,
    maxWriteSameBlocks: limits?.maximumWriteSameLength ?? 0,
    maxCompareAndWriteBlocks: limits?.maximumCompareAndWriteLength ?? 0,
    maxUnmapBlocks: limits?.maximumUnmapLbaCount ?? 0,
    maxUnmapDescriptors: limits?.maximumUnmapBlockDescriptorCount ?? 0,
    copyManager,
    supported,
  };
}
