/**
 * The dispatcher: the path every command takes. Admission (unit attention, access and reservation
 * checks, in `admission.ts`, which the copy manager calls too for the LUNs a copy touches), decode (CDB, then Data-Out length, then parameter list), fault injection, execute, and the
 * translation of typed failures into sense. It never throws: an unexpected exception would become
 * HARDWARE ERROR / INTERNAL TARGET FAILURE, which the fuzz tests assert never happens.
 * @module
 */
import type { MaybePromise } from '../common/maybe-promise.js';
import { encodeSense } from '../codec/sense-encoder.js';
import { ScsiStatus } from '../spec/opcodes.js';
import type { SenseReason } from '../spec/sense.js';
import { admitAddressed } from './admission.js';
import { nonOptimizedDelay } from './alua.js';
import { COMMAND_TABLE, lookupForDispatch } from './command-table.js';
import type { CommandSpec } from './command.js';
import type { CommandContext, ExecuteOptions } from './context.js';
import { isFailure, recordWork, type Failure, type Outcome, type ScsiResult } from './outcome.js';
import type { Lun } from './logical-unit.js';
import { isItNexus, type ItNexus } from './ports.js';

/** The initiator name used when `ExecuteOptions.initiator` is left out. */
export const DEFAULT_INITIATOR = 'default';

const EMPTY = new Uint8Array(0);

/** The answer of a delayed command that a PREEMPT AND ABORT aborted. */
const TASK_ABORTED: ScsiResult = Object.freeze({ status: ScsiStatus.TASK_ABORTED });

/** CHECK CONDITION with the sense for `reason`, in the format `lun` returns (its Control page's D_SENSE). */
function checkCondition(lun: Lun, reason: SenseReason | Failure): ScsiResult {
  const failure = typeof reason === 'string' ? { fail: reason } : reason;
  return { status: ScsiStatus.CHECK_CONDITION, sense: encodeSense(lun.senseFormat, failure.fail, failure.details) };
}

function toResult(lun: Lun, outcome: Outcome): ScsiResult {
  return isFailure(outcome) ? checkCondition(lun, outcome) : outcome;
}

/** The nexus `options` name: `nexus`, or `initiator` through the default target port; `undefined` when malformed. */
function nexusOf(lun: Lun, options: ExecuteOptions | undefined): ItNexus | undefined {
  const given = options?.nexus;
  if (given !== undefined) return isItNexus(given) ? given : undefined;
  const initiator = options?.initiator ?? DEFAULT_INITIATOR;
  return typeof initiator === 'string' ? lun.array.nexusOf(initiator) : undefined;
}

function isCommandSpec(value: object): value is CommandSpec {
  return 'decode' in value;
}

/**
 * @internal Executes one command on `lun`. Through an active/non-optimized target port whose group
 * has a `nonOptimizedDelayMs`, the command first waits that long as a delayed task, like one a fault
 * rule delays (docs/decisions/alua.md).
 */
export function dispatch(lun: Lun, cdb: unknown, dataOut: unknown, options: ExecuteOptions | undefined): MaybePromise<ScsiResult> {
  try {
    const itNexus = nexusOf(lun, options);
    const delay = itNexus === undefined ? 0 : nonOptimizedDelay(itNexus.target);
    if (delay > 0) return delayedTask(lun, itNexus!, delay, () => run(lun, cdb, dataOut, options, true));
    return run(lun, cdb, dataOut, options, true);
  } catch {
    return checkCondition(lun, 'INTERNAL_TARGET_FAILURE');
  }
}

/**
 * A command that waits `ms` before `complete` answers it, held in `lun.delayedTasks` meanwhile so
 * that a PREEMPT AND ABORT can abort it: it then never runs, and settles as TASK ABORTED
 * (docs/decisions/persistent-reservations.md).
 */
function delayedTask(lun: Lun, nexus: ItNexus, ms: number, complete: () => MaybePromise<ScsiResult>): Promise<ScsiResult> {
  return new Promise((resolve) => {
    const task = {
      nexus,
      abort: (): void => {
        clearTimeout(timer);
        lun.delayedTasks.delete(task);
        resolve(TASK_ABORTED);
      },
    };
    const timer = setTimeout(() => {
      lun.delayedTasks.delete(task);
      try {
        resolve(complete());
      } catch {
        resolve(checkCondition(lun, 'INTERNAL_TARGET_FAILURE'));
      }
    }, ms);
    lun.delayedTasks.add(task);
  });
}

/**
 * @internal The Data-Out length `cdb` implies on `lun`, exactly as {@link dispatch} will require it
 * of the buffer, and whether the command writes the medium; `undefined` when the command would not
 * decode (an unknown opcode or a CDB field error: `execute` then answers that failure whatever the
 * data). A transport uses it to ask only for the data the command takes and to report residuals
 * (RFC 7143 11.4.5.1). Decoding changes nothing.
 */
export function impliedDataOut(lun: Lun, cdb: Uint8Array, itNexus: ItNexus): { readonly length: number; readonly writesMedium: boolean } | undefined {
  if (cdb.length === 0) return undefined;
  const spec = lookupForDispatch(cdb, lun);
  if (typeof spec === 'string') return undefined;
  try {
    const ctx: CommandContext = { lun, array: lun.array, initiator: itNexus.initiator.name, itNexus, nexus: lun.nexus(itNexus), options: { nexus: itNexus }, opcode: spec.opcode, commands: COMMAND_TABLE };
    const cmd = spec.decode(cdb, ctx);
    return isFailure(cmd) ? undefined : { length: cmd.dataOutLength, writesMedium: spec.writesMedium === true };
  } catch {
    return undefined;
  }
}

function run(lun: Lun, cdb: unknown, dataOut: unknown, options: ExecuteOptions | undefined, faults: boolean): MaybePromise<ScsiResult> {
  if (!(cdb instanceof Uint8Array) || cdb.length === 0) return checkCondition(lun, 'INVALID_COMMAND_OPERATION_CODE');
  const itNexus = nexusOf(lun, options);
  if (itNexus === undefined) return checkCondition(lun, 'INVALID_FIELD_IN_CDB');
  const data = dataOut ?? EMPTY;
  if (!(data instanceof Uint8Array)) return checkCondition(lun, 'INVALID_FIELD_IN_CDB');
  const array = lun.array;
  const nexus = lun.nexus(itNexus);
  const initiator = itNexus.initiator.name;
  const admitted = admitAddressed(lun, itNexus, nexus, lookupForDispatch(cdb, lun), cdb.length);
  if (!isCommandSpec(admitted)) return toResult(lun, admitted);
  const spec = admitted;

  const ctx: CommandContext = { lun, array, initiator, itNexus, nexus, options, opcode: spec.opcode, commands: COMMAND_TABLE };
  let cmd = spec.decode(cdb, ctx);
  if (isFailure(cmd)) return checkCondition(lun, cmd);
  // The Data-Out length must be what the CDB implies (as LIO's target_cmd_size_check).
  if (data.length !== cmd.dataOutLength) return checkCondition(lun, 'INVALID_FIELD_IN_CDB');
  if (spec.decodeData !== undefined) {
    cmd = spec.decodeData(cmd, data, ctx);
    if (isFailure(cmd)) return checkCondition(lun, cmd);
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
        if (effect.sense !== undefined) return { status: ScsiStatus.CHECK_CONDITION, sense: encodeSense(lun.senseFormat, effect.sense) };
        if (effect.status !== undefined) return { status: effect.status as ScsiResult['status'] };
        // A delay alone: the command then runs in full, against the state at that later time.
        return run(lun, cdb, dataOut, options, false);
      };
      if (effect.delayMs === undefined) return complete();
      return delayedTask(lun, itNexus, effect.delayMs, complete);
    }
  }

  const outcome = spec.execute(cmd, data, ctx);
  // A command whose status waits for work over time (SANITIZE OVERWRITE, IMMED = 0) answers when it ends.
  if (outcome instanceof Promise) return outcome.then((o) => recordWork(toResult(lun, o), o, data));
  const result = recordWork(toResult(lun, outcome), outcome, data);
  if (array.pool.dirty) array.settle();
  return result;
}
