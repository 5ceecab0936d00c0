/**
 * Task management (RFC 7143 11.5, 11.6; SAM-5 7), in the manner of LIO's `iscsi_target_tmr.c`. The
 * target runs a session's commands to completion in arrival order, so the only tasks a function can
 * still reach are writes waiting for their Data-Out.
 * @module
 */
import type { Lun } from '../../scsi/logical-unit.js';
import type { ExposedTarget } from './session.js';

/** Task management function codes (RFC 7143 11.5.1). */
export const TaskManagementFunction = {
  ABORT_TASK: 1,
  ABORT_TASK_SET: 2,
  CLEAR_ACA: 3,
  CLEAR_TASK_SET: 4,
  LOGICAL_UNIT_RESET: 5,
  TARGET_WARM_RESET: 6,
  TARGET_COLD_RESET: 7,
} as const;

/** Task management response codes (RFC 7143 11.6.1) this target answers with. */
export const TaskManagementResponse = {
  FUNCTION_COMPLETE: 0,
  TASK_DOES_NOT_EXIST: 1,
  /** The LUN field names a logical unit the target does not have (for LOGICAL UNIT RESET). */
  LUN_DOES_NOT_EXIST: 2,
  FUNCTION_NOT_SUPPORTED: 5,
} as const;

/** The tasks of a session a function may end: its writes still waiting for data, its commands that answer later. */
export interface AbortableTasks {
  /** Ends the task with this ITT; false when there is none. */
  abort(itt: number): boolean;
  /** Ends every task. */
  abortAll(): void;
}

/** What a function did: the response to send and whether the session ends after it. */
export interface TaskManagementOutcome {
  /** Response code (RFC 7143 11.6.1). */
  readonly response: number;
  /** TARGET COLD RESET ends the session once answered (RFC 7143 11.5.1). */
  readonly endSession: boolean;
}

/**
 * Performs a task management function for a session of `target`. `lun` is the addressed logical
 * unit (undefined when the LUN field names none).
 */
export function manageTasks(fn: number, referencedItt: number, lun: Lun | undefined, target: ExposedTarget | undefined, tasks: AbortableTasks): TaskManagementOutcome {
  const F = TaskManagementFunction;
  const R = TaskManagementResponse;
  switch (fn) {
    case F.ABORT_TASK: // a task not yet answered: a write waiting for data, or a command that answers later
      return { response: tasks.abort(referencedItt) ? R.FUNCTION_COMPLETE : R.TASK_DOES_NOT_EXIST, endSession: false };
    case F.ABORT_TASK_SET:
    case F.CLEAR_ACA:
    case F.CLEAR_TASK_SET:
      tasks.abortAll();
      return { response: R.FUNCTION_COMPLETE, endSession: false };
    case F.LOGICAL_UNIT_RESET:
      // A LUN the target does not have: "LUN does not exist" (RFC 7143 11.6.1), and nothing is reset or ended.
      if (lun === undefined) return { response: R.LUN_DOES_NOT_EXIST, endSession: false };
      lun.reset();
      tasks.abortAll();
      return { response: R.FUNCTION_COMPLETE, endSession: false };
    case F.TARGET_WARM_RESET:
    case F.TARGET_COLD_RESET:
      for (const l of target?.luns.values() ?? []) l.reset();
      tasks.abortAll();
      // A cold reset also ends the sessions: answer, then drop this connection (RFC 7143 11.5.1).
      return { response: R.FUNCTION_COMPLETE, endSession: fn === F.TARGET_COLD_RESET };
    default:
      return { response: R.FUNCTION_NOT_SUPPORTED, endSession: false };
  }
}
