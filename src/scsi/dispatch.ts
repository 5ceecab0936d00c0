/**
 * The dispatcher: the path every command takes. Unit attention, access and reservation checks,
 * decode (CDB, then Data-Out length, then parameter list), fault injection, execute, and the
 * translation of typed failures into sense. It never throws: an unexpected exception would become
 * HARDWARE ERROR / INTERNAL TARGET FAILURE, which the fuzz tests assert never happens.
 * @module
 */
import type { MaybePromise } from '../common/maybe-promise.js';
import { encodeFixedSense } from '../codec/sense-encoder.js';
import type { Lun } from '../array/lun.js';
import { ScsiStatus } from '../spec/opcodes.js';
import type { SenseReason } from '../spec/sense.js';
import { lookupForDispatch } from './command-table.js';
import type { CommandContext, ExecuteOptions } from './context.js';
import { isFailure, type Failure, type Outcome, type ScsiResult } from './outcome.js';
import { invalidCdbField, recordWork } from './outcome.js';

/** The initiator name used when `ExecuteOptions.initiator` is left out. */
export const DEFAULT_INITIATOR = 'default';

const EMPTY = new Uint8Array(0);

function checkCondition(reason: SenseReason | Failure): ScsiResult {
  const failure = typeof reason === 'string' ? { fail: reason } : reason;
  return { status: ScsiStatus.CHECK_CONDITION, sense: encodeFixedSense(failure.fail, failure.details) };
}

function toResult(outcome: Outcome): ScsiResult {
  return isFailure(outcome) ? checkCondition(outcome) : outcome;
}

/** @internal Executes one command on `lun`. */
export function dispatch(lun: Lun, cdb: unknown, dataOut: unknown, options: ExecuteOptions | undefined): MaybePromise<ScsiResult> {
  try {
    return run(lun, cdb, dataOut, options, true);
  } catch {
    return checkCondition('INTERNAL_TARGET_FAILURE');
  }
}

function run(lun: Lun, cdb: unknown, dataOut: unknown, options: ExecuteOptions | undefined, faults: boolean): MaybePromise<ScsiResult> {
  if (!(cdb instanceof Uint8Array) || cdb.length === 0) return checkCondition('INVALID_COMMAND_OPERATION_CODE');
  const initiator = options?.initiator ?? DEFAULT_INITIATOR;
  if (typeof initiator !== 'string') return checkCondition('INVALID_FIELD_IN_CDB');
  const data = dataOut ?? EMPTY;
  if (!(data instanceof Uint8Array)) return checkCondition('INVALID_FIELD_IN_CDB');
  const array = lun.array;
  const nexus = lun.nexus(initiator);
  const spec = lookupForDispatch(cdb, lun);
  const ignoresUa = typeof spec !== 'string' && spec.ignoresUnitAttention === true;

  // SAM-5 5.14: a pending unit attention is reported instead of executing the command.
  if (nexus.unitAttentions.length > 0 && !ignoresUa) return checkCondition(nexus.unitAttentions.shift()!);
  if (spec === 'INVALID_OPCODE') return checkCondition('INVALID_COMMAND_OPERATION_CODE');
  // SPC-4: an unsupported service action is an invalid field in CDB byte 1, bits 4:0.
  if (spec === 'INVALID_SERVICE_ACTION') return checkCondition(invalidCdbField(1, 4));
  // A LUN this initiator may not access answers only INQUIRY (qualifier 011b) and REQUEST SENSE.
  if (!lun.accessibleBy(initiator) && spec.opcode !== 0x12 && spec.opcode !== 0x03) return checkCondition('LOGICAL_UNIT_NOT_SUPPORTED');
  if (cdb.length < spec.cdbLength) return checkCondition('INVALID_FIELD_IN_CDB');
  const holder = lun.reservationHolder;
  if (holder !== undefined && holder !== initiator && spec.allowedUnderReservation !== true) {
    return { status: ScsiStatus.RESERVATION_CONFLICT };
  }

  const ctx: CommandContext = { lun, array, initiator, nexus, options, opcode: spec.opcode };
  let cmd = spec.decode(cdb, ctx);
  if (isFailure(cmd)) return checkCondition(cmd);
  // The Data-Out length must be what the CDB implies (as LIO's target_cmd_size_check).
  if (data.length !== cmd.dataOutLength) return checkCondition('INVALID_FIELD_IN_CDB');
  if (spec.decodeData !== undefined) {
    cmd = spec.decodeData(cmd, data, ctx);
    if (isFailure(cmd)) return checkCondition(cmd);
  }

  if (faults && array.faults.active) {
    const effect = array.faults.match({
      opcode: spec.opcode,
      serviceAction: spec.serviceAction ?? 0,
      lunId: lun.id,
      initiator,
      lba: cmd.lba,
      blocks: cmd.blocks,
      ranges: cmd.ranges,
    });
    if (effect !== undefined) {
      const complete = (): MaybePromise<ScsiResult> => {
        if (effect.sense !== undefined) return { status: ScsiStatus.CHECK_CONDITION, sense: encodeFixedSense(effect.sense) };
        if (effect.status !== undefined) return { status: effect.status as ScsiResult['status'] };
        // A delay alone: the command then runs in full, against the state at that later time.
        return run(lun, cdb, dataOut, options, false);
      };
      if (effect.delayMs === undefined) return complete();
      return new Promise((resolve) => {
        setTimeout(() => {
          try {
            resolve(complete());
          } catch {
            resolve(checkCondition('INTERNAL_TARGET_FAILURE'));
          }
        }, effect.delayMs);
      });
    }
  }

  const outcome = spec.execute(cmd, data, ctx);
  const result = recordWork(toResult(outcome), outcome, data);
  if (array.pool.dirty) array.settle();
  return result;
}
