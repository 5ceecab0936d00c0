/**
 * The contract every host-side path talks to: anything with `execute(cdb, dataOut, options)`. A
 * local `Lun` satisfies it, and so does a LUN behind a simulated fabric or (later) a remote
 * target, so the same host code drives all of them.
 * @module
 */
import type { ExecuteOptions } from '../scsi/context.js';
import type { MaybePromise } from '../common/maybe-promise.js';
import type { ScsiResult } from '../scsi/outcome.js';

/** Something that executes SCSI commands: a LUN, local or remote. */
export interface ScsiTarget {
  /** What this target is, for error messages (an iSCSI LUN says `LUN 1 of iqn.… at 127.0.0.1:3260`). */
  readonly description?: string;
  /** Executes one command, with the contract of `Lun.execute` in the main entry point. */
  execute(cdb: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): MaybePromise<ScsiResult>;
}
