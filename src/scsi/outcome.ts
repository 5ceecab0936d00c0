/**
 * What handlers return: a {@link ScsiResult} or a typed {@link Failure} that the dispatcher turns
 * into CHECK CONDITION with sense. Handlers never build sense bytes and never throw.
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
}

/** @internal A failed command, as a typed reason plus optional sense details. */
export interface Failure {
  readonly fail: SenseReason;
  readonly details?: SenseDetails;
}

/** @internal What a handler returns. */
export type Outcome = ScsiResult | Failure;

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

/** @internal GOOD with Data-In. */
export function withData(data: Uint8Array): ScsiResult {
  return { status: 0x00, data };
}
