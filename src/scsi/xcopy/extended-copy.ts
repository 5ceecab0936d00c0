/**
 * EXTENDED COPY (LID1) (SPC-4 6.4): the copy manager. Every CSCD is resolved only among the LUNs the
 * requesting initiator may access (the lesson of CVE-2020-28374), every segment is validated before
 * any data moves, and each segment then runs through the block store's copy, which shares whole
 * allocation units (or copies bytes when the array is in copy mode).
 * @module
 */
import { readU32 } from '../../codec/bytes.js';
import { encodeSense } from '../../codec/sense-encoder.js';
import type { Lun } from '../logical-unit.js';
import { admitTouched, touchedFault, type Refusal } from '../admission.js';
import type { CopyTally } from '../../array/block-store.js';
import { Opcode, ScsiStatus, ServiceAction } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded, type LbaRange } from '../command.js';
import type { CommandContext, CopyRecord } from '../context.js';
import { GOOD, fail, failedAfter, goodWith, isFailure, type Failure, type Outcome, type ScsiResult } from '../outcome.js';
import { COPY_LIMITS } from './limits.js';
import { ListIdUsage, decodeCopyParameterList, type CopyParameterList, type IdentificationCscd } from './parameter-list-decoder.js';

/** @internal */
export interface ExtendedCopyCommand extends Decoded {
  readonly list?: CopyParameterList;
  readonly ranges?: readonly LbaRange[];
}

/** @internal A segment resolved to LUNs and byte ranges. */
interface ResolvedSegment {
  readonly source: Lun;
  readonly destination: Lun;
  readonly sourceOffset: number;
  readonly destinationOffset: number;
  readonly bytes: number;
}

function segmentFailure(reason: Failure['fail'], index: number, byteInSegment: number): Failure {
  return fail(reason, { commandSpecificInformation: index, fieldPointer: { in: 'segment', byte: byteInSegment } });
}

/**
 * Fault rules of the LUNs a segment touches other than the one the EXTENDED COPY was sent to (whose
 * rules the dispatcher matched for the whole command).
 */
function touchedFaults(ctx: CommandContext, luns: readonly Lun[], sourceLba: number, destinationLba: number, blocks: number): Refusal | undefined {
  for (const lun of luns) {
    if (lun === ctx.lun) continue;
    const refused = touchedFault(lun, {
      opcode: Opcode.EXTENDED_COPY,
      serviceAction: ServiceAction.EXTENDED_COPY_LID1,
      initiator: ctx.initiator,
      lba: undefined,
      blocks: undefined,
      ranges: [{ lba: sourceLba, blocks }, { lba: destinationLba, blocks }],
    }, ctx.lun);
    if (refused !== undefined) return refused;
  }
  return undefined;
}

/** The LUN a CSCD designates, among those the command's I_T nexus may access; identical designator bytes required. */
function resolveCscd(cscd: IdentificationCscd, ctx: CommandContext): Lun | undefined {
  // The designator names at most one LUN; only that one's access is asked (not every LUN's, per CSCD).
  for (const lun of ctx.array.luns) {
    if (lun.matchesDesignator(cscd.codeSet, cscd.associationAndType, cscd.designator)) return lun.accessibleBy(ctx.itNexus) ? lun : undefined;
  }
  return undefined;
}

function resolve(list: CopyParameterList, ctx: CommandContext): ResolvedSegment[] | Failure | ScsiResult {
  const luns = new Map<number, Lun | Failure>();
  const lunFor = (id: number, index: number, field: number): Lun | Failure => {
    const known = luns.get(id);
    if (known !== undefined) return known;
    const cscd = list.cscds[id];
    let result: Lun | Failure;
    if (cscd === undefined) result = segmentFailure('COPY_TARGET_DEVICE_NOT_REACHABLE', index, field);
    else if (cscd.peripheralDeviceType !== 0x00) result = segmentFailure('INCORRECT_COPY_TARGET_DEVICE_TYPE', index, field);
    else {
      const lun = resolveCscd(cscd, ctx);
      if (lun === undefined) result = segmentFailure('COPY_TARGET_DEVICE_NOT_REACHABLE', index, field);
      // DISK BLOCK LENGTH must be the designated LUN's block size (as SCST checks).
      else if (cscd.diskBlockLength !== lun.blockSize) result = fail('INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { in: 'parameter', byte: cscd.at + 29 } });
      else result = lun;
    }
    luns.set(id, result);
    return result;
  };

  const resolved: ResolvedSegment[] = [];
  for (let i = 0; i < list.segments.length; i++) {
    const s = list.segments[i]!;
    const source = lunFor(s.sourceCscdId, i, 4);
    if (isFailure(source)) return source;
    const destination = lunFor(s.destinationCscdId, i, 6);
    if (isFailure(destination)) return destination;
    const bytes = s.blocks * (s.destinationCount ? destination.blockSize : source.blockSize);
    if (bytes % source.blockSize !== 0 || bytes % destination.blockSize !== 0) {
      // A residue would remain on one side: the two block sizes do not divide the transfer.
      return segmentFailure('INCORRECT_COPY_TARGET_DEVICE_TYPE', i, 10);
    }
    if (bytes > COPY_LIMITS.maximumSegmentLength) return segmentFailure('COPY_ABORTED', i, 10);
    // The copy manager's I/O goes through each LUN like the initiator's own would (as in LIO): the
    // one admission path, with out of range a copy error (COPY ABORTED with the segment pointer).
    const refused = admitTouched(ctx.itNexus, [
      { lun: source, lba: s.sourceLba, blocks: bytes / source.blockSize, outOfRange: segmentFailure('COPY_ABORTED', i, 12) },
      { lun: destination, lba: s.destinationLba, blocks: bytes / destination.blockSize, outOfRange: segmentFailure('COPY_ABORTED', i, 20), writes: true },
    ]);
    if (refused !== undefined) return refused;
    const faulted = touchedFaults(ctx, [source, destination], s.sourceLba, s.destinationLba, s.blocks);
    if (faulted !== undefined) return faulted;
    resolved.push({
      source,
      destination,
      sourceOffset: s.sourceLba * source.blockSize,
      destinationOffset: s.destinationLba * destination.blockSize,
      bytes,
    });
  }
  return resolved;
}

function hold(ctx: CommandContext, record: CopyRecord): void {
  const results = ctx.nexus.copyResults;
  results.delete(record.listId); // a new copy with a held list ID replaces the old results
  results.set(record.listId, record);
  if (results.size > COPY_LIMITS.heldResultsPerNexus) results.delete(results.keys().next().value!);
}

function decodeData(cmd: ExtendedCopyCommand, list: Uint8Array): ExtendedCopyCommand | Failure {
  if (list.length === 0) return cmd; // PARAMETER LIST LENGTH 0: no copy, GOOD (SPC-4 6.4.1)
  const decoded = decodeCopyParameterList(list);
  if (isFailure(decoded)) return decoded;
  const ranges: LbaRange[] = [];
  for (const s of decoded.segments) {
    ranges.push({ lba: s.sourceLba, blocks: s.blocks }, { lba: s.destinationLba, blocks: s.blocks });
  }
  return { dataOutLength: cmd.dataOutLength, list: decoded, ranges };
}

function execute(cmd: ExtendedCopyCommand, _list: Uint8Array, ctx: CommandContext): Outcome {
  const list = cmd.list;
  if (list === undefined) return GOOD;
  const plan = resolve(list, ctx);
  if (!Array.isArray(plan)) {
    // The list was valid, so its results are held even though no segment could start.
    if (list.listIdUsage === ListIdUsage.HOLD) {
      const failed = isFailure(plan);
      hold(ctx, {
        listId: list.listId,
        copyManagerStatus: 2,
        segmentsProcessed: 0,
        bytesTransferred: 0,
        commandStatus: failed ? ScsiStatus.CHECK_CONDITION : plan.status,
        ...(failed ? { sense: encodeSense(ctx.lun.senseFormat, plan.fail, plan.details) } : {}),
      });
    }
    return plan;
  }
  const array = ctx.array;
  const share = array.cloneMode === 'share';
  const tally: CopyTally = { shared: 0, copied: 0 };
  let transferred = 0;
  for (let i = 0; i < plan.length; i++) {
    const seg = plan[i]!;
    const outcome = seg.destination.store.copyFrom(seg.source.store, seg.sourceOffset, seg.destinationOffset, seg.bytes, share, tally);
    transferred += outcome.done;
    if (outcome.outOfSpace) {
      // What was copied stays copied; COPY STATUS reports how far the copy got (docs/decisions/extended-copy.md, "Out of space mid-copy").
      array.reportOutOfSpace(ctx, Opcode.EXTENDED_COPY, outcome.neededUnits, array.pool.freeUnits);
      const failure = fail('SPACE_ALLOCATION_FAILED_WRITE_PROTECT', { commandSpecificInformation: i });
      array.reportCopyProgress(ctx, list.listId, i, plan.length, transferred, tally.shared);
      if (list.listIdUsage === ListIdUsage.HOLD) {
        hold(ctx, {
          listId: list.listId,
          copyManagerStatus: 2,
          segmentsProcessed: i,
          bytesTransferred: transferred,
          commandStatus: ScsiStatus.CHECK_CONDITION,
          sense: encodeSense(ctx.lun.senseFormat, failure.fail, failure.details),
        });
      }
      // The segments before it, and the part of this one that fit, were done: that work is recorded.
      return failedAfter(failure, { sharedBytes: tally.shared, copiedBytes: tally.copied });
    }
    array.reportCopyProgress(ctx, list.listId, i + 1, plan.length, transferred, tally.shared);
  }
  if (list.listIdUsage === ListIdUsage.HOLD) {
    hold(ctx, { listId: list.listId, copyManagerStatus: 1, segmentsProcessed: plan.length, bytesTransferred: transferred, commandStatus: ScsiStatus.GOOD });
  }
  return goodWith({ sharedBytes: tally.shared, copiedBytes: tally.copied });
}

/** @internal */
export const EXTENDED_COPY_COMMAND: CommandSpec = defineCommand<ExtendedCopyCommand>({
  opcode: Opcode.EXTENDED_COPY,
  serviceAction: ServiceAction.EXTENDED_COPY_LID1,
  name: 'EXTENDED COPY(LID1)',
  // The copy manager admits each source (as a read) and destination (as a write) through admitTouched.
  reservationAccess: 'allowed',
  cdbLength: 16,
  usage: [Opcode.EXTENDED_COPY, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
  decode: (cdb) => ({ dataOutLength: readU32(cdb, 10) }),
  decodeData,
  execute,
});
