/**
 * What handlers return: a {@link ScsiResult} or a typed {@link Failure} that the dispatcher turns
 * into CHECK CONDITION with sense. Handlers never build sense bytes and never throw. Either may
 * carry the work the handler did, which the dispatcher completes into the result's
 * {@link CommandWork} record.
 * @module
 */
import type { FieldPointer, SenseDetails } from '../codec/sense-encoder.js';
import type { ScsiStatusCode } from '../spec/opcodes.js';
import type { SenseReason } from '../spec/sense.js';

/** The answer to one SCSI command. */
export interface ScsiResult {
  /** SCSI status: 00h GOOD, 02h CHECK CONDITION, 18h RESERVATION CONFLICT (08h BUSY and 28h TASK SET FULL only by fault injection). */
  readonly status: ScsiStatusCode;
  /** Fixed-format sense data (response code 70h), present with CHECK CONDITION. */
  readonly sense?: Uint8Array;
  /** Data-In, when the command returns data. */
  readonly data?: Uint8Array;
  /**
   * The work the command caused in an in-process array: bytes over the fabric, media bytes, bytes
   * shared, copied, deallocated or zeroed. Present on every answer of a command that reached its
   * executor, whether it then succeeded or failed (a failed command records what it did before it
   * stopped: the segments of an EXTENDED COPY that ran out of space, the compare of a COMPARE AND
   * WRITE that miscompared; otherwise only its transfer). Absent when the command was refused before executing
   * (unit attention, access, reservation conflict, an invalid CDB or parameter list, an injected
   * fault), and from remote targets, whose answers carry only status, sense and data.
   */
  readonly work?: CommandWork;
}

/**
 * The work one command caused, as the array did it: what a cost model charges (the fabric model in
 * `vaai-sim/host` does, instead of decoding CDBs itself). All fields are byte counts; a command
 * that does none of a kind has 0 there. Bytes shared, deallocated or zeroed are LBA ranges the array
 * handled as metadata or as zeros, not bytes that crossed any bus.
 */
export interface CommandWork {
  /** Data-Out the command carried over the fabric (parameter lists included). */
  readonly dataOutBytes: number;
  /** Data-In it returned over the fabric. */
  readonly dataInBytes: number;
  /** Bytes the array read from its media: READ data, the compared blocks of COMPARE AND WRITE. */
  readonly mediaReadBytes: number;
  /**
   * Bytes of host data the array wrote to its media: WRITE data (zero-detected pieces included), a
   * WRITE SAME pattern repeated over its range, the write instance of COMPARE AND WRITE.
   */
  readonly mediaWriteBytes: number;
  /**
   * EXTENDED COPY bytes moved as metadata: whole extents shared with the source, or whole units
   * deallocated where the source is unmapped.
   */
  readonly sharedBytes: number;
  /** EXTENDED COPY bytes the array copied internally (byte-copy mode, partial units). */
  readonly copiedBytes: number;
  /**
   * Bytes of LBA range a thin LUN deallocated, as metadata: whole allocation units returned to the
   * pool and partial ones zeroed in place (UNMAP, WRITE SAME with UNMAP, NDOB or a zero pattern).
   * A range UNMAP had to leave mapped (a partial unit of a full pool) is not counted.
   */
  readonly deallocatedBytes: number;
  /** Bytes of zeros a fully provisioned LUN wrote for WRITE SAME of zeros (it cannot deallocate). */
  readonly zeroedBytes: number;
}

/** @internal The work of a command, before the dispatcher adds the fabric transfer. */
export type MediaWork = Partial<Omit<CommandWork, 'dataOutBytes' | 'dataInBytes'>>;

/** @internal A failed command, as a typed reason plus optional sense details. */
export interface Failure {
  readonly fail: SenseReason;
  readonly details?: SenseDetails;
  /** Work done before the command failed (it is charged like a completed command's). */
  readonly work?: MediaWork;
}

/**
 * @internal What an executor returns when it did media work: GOOD (with Data-In or not) and that
 * work, which the dispatcher's {@link recordWork} completes into the answer's {@link CommandWork}.
 */
export interface Executed {
  readonly status: 0x00;
  readonly data?: Uint8Array;
  readonly media: MediaWork;
}

/** @internal What a handler returns. */
export type Outcome = ScsiResult | Failure | Executed;

/** @internal The shared GOOD result without data. Frozen: callers cannot alter it. */
export const GOOD: ScsiResult = Object.freeze({ status: 0x00 });

/** @internal */
export function fail(reason: SenseReason, details?: SenseDetails): Failure {
  return details === undefined ? { fail: reason } : { fail: reason, details };
}

/** @internal INVALID FIELD IN CDB pointing at `byte` (and `bit`, for a field inside a byte). */
export function invalidCdbField(byte: number, bit?: number): Failure {
  const fieldPointer: FieldPointer = bit === undefined ? { in: 'cdb', byte } : { in: 'cdb', byte, bit };
  return { fail: 'INVALID_FIELD_IN_CDB', details: { fieldPointer } };
}

/** @internal INVALID FIELD IN PARAMETER LIST pointing at `byte` of the parameter list. */
export function invalidParameterField(byte: number, bit?: number): Failure {
  const fieldPointer: FieldPointer = bit === undefined ? { in: 'parameter', byte } : { in: 'parameter', byte, bit };
  return { fail: 'INVALID_FIELD_IN_PARAMETER_LIST', details: { fieldPointer } };
}

/** @internal */
export function isFailure(outcome: unknown): outcome is Failure {
  return typeof outcome === 'object' && outcome !== null && 'fail' in outcome;
}

/** @internal `failure`, recording the work done before the command stopped. */
export function failedAfter(failure: Failure, work: MediaWork): Failure {
  return { ...failure, work };
}

/** @internal GOOD, recording the work that was done. */
export function goodWith(work: MediaWork): Executed {
  return { status: 0x00, media: work };
}

function completeWork(work: MediaWork | undefined, dataOutBytes: number, dataInBytes: number): CommandWork {
  return {
    dataOutBytes,
    dataInBytes,
    mediaReadBytes: work?.mediaReadBytes ?? 0,
    mediaWriteBytes: work?.mediaWriteBytes ?? 0,
    sharedBytes: work?.sharedBytes ?? 0,
    copiedBytes: work?.copiedBytes ?? 0,
    deallocatedBytes: work?.deallocatedBytes ?? 0,
    zeroedBytes: work?.zeroedBytes ?? 0,
  };
}

/**
 * @internal The dispatcher's last step for a command that executed: `result` (the executor's
 * `outcome` translated) with its complete work record, the fabric transfer included.
 */
export function recordWork(result: ScsiResult, outcome: Outcome, dataOut: Uint8Array): ScsiResult {
  const media = 'media' in outcome ? outcome.media : outcome.work;
  const work = completeWork(media, dataOut.length, result.data?.length ?? 0);
  // One object of a fixed shape per answer (this runs for every command; a spread of an unknown
  // shape cost more than the rest of a COMPARE AND WRITE's bookkeeping).
  const { status, sense, data } = result;
  if (sense === undefined) return data === undefined ? { status, work } : { status, data, work };
  return data === undefined ? { status, sense, work } : { status, sense, data, work };
}

/** @internal GOOD with Data-In (and the work of producing it, when it read the media). */
export function withData(data: Uint8Array, work?: MediaWork): ScsiResult | Executed {
  return work === undefined ? { status: 0x00, data } : { status: 0x00, data, media: work };
}
