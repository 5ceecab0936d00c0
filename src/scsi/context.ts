/**
 * Per-command context and per-nexus state.
 * @module
 */
import type { SenseReason } from '../spec/sense.js';
import type { CommandTable } from './command.js';
import type { Lun } from './logical-unit.js';
import type { ItNexus } from './ports.js';
import type { StorageArray } from './storage-array.js';

/** Options of {@link Lun.execute}. */
export interface ExecuteOptions {
  /**
   * The I_T nexus the command arrives on (an initiator port and one of the array's target ports, see
   * `StorageArray.addTargetPort`): unit attentions, SCSI-2 reservations and held EXTENDED COPY results
   * are kept per nexus. When given, `initiator` is not read.
   */
  readonly nexus?: ItNexus;
  /**
   * The in-process shorthand for a nexus: the initiator port's name, through the array's default
   * target port (relative target port 1). @defaultValue `"default"`
   */
  readonly initiator?: string;
  /**
   * A buffer to receive Data-In, as an HBA's scatter list would. When it is large enough the result's
   * `data` is a view of it, so a caller that reads in a loop reuses one buffer instead of allocating.
   */
  readonly dataIn?: Uint8Array;
}

/** @internal Results of one EXTENDED COPY held for RECEIVE COPY RESULTS (LIST ID USAGE 00b). */
export interface CopyRecord {
  readonly listId: number;
  /** COPY MANAGER STATUS: 1 completed without errors, 2 completed with errors. */
  readonly copyManagerStatus: 1 | 2;
  readonly segmentsProcessed: number;
  readonly bytesTransferred: number;
  /** SCSI status the EXTENDED COPY completed with. */
  readonly commandStatus: number;
  /** Sense it completed with, when it failed. */
  readonly sense?: Uint8Array;
}

/** @internal State kept per I_T nexus on a LUN. */
export interface NexusState {
  /** The nexus this state belongs to. */
  readonly nexus: ItNexus;
  readonly unitAttentions: SenseReason[];
  readonly copyResults: Map<number, CopyRecord>;
}

/** @internal */
export interface CommandContext {
  readonly lun: Lun;
  readonly array: StorageArray;
  /** The initiator port's name (what events and fault rules name). */
  readonly initiator: string;
  /** The I_T nexus the command arrived on. */
  readonly itNexus: ItNexus;
  /** The state of that nexus on `lun`. */
  readonly nexus: NexusState;
  /** The opcode table (handed in, so that INQUIRY and REPORT SUPPORTED OPERATION CODES need not import it). */
  readonly commands: CommandTable;
  readonly options: ExecuteOptions | undefined;
  /** Operation code of the command (CDB byte 0). */
  readonly opcode: number;
}

/** @internal A Data-In buffer of `length` bytes: a view of the caller's buffer when it fits. */
export function dataInBuffer(ctx: CommandContext, length: number): Uint8Array {
  const provided = ctx.options?.dataIn;
  if (provided instanceof Uint8Array && provided.length >= length) return provided.subarray(0, length);
  return new Uint8Array(length);
}
