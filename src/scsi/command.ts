/**
 * The shape of one entry of the opcode table: how a command is decoded, whether it needs a
 * parameter-list decode, and how it executes. Decode first (CDB fields, ranges, Data-Out length),
 * then execute with a typed command.
 * @module
 */
import type { Lun } from './logical-unit.js';
import type { CommandContext } from './context.js';
import type { Failure, Outcome } from './outcome.js';

/** @internal An LBA range a command touches (for fault matching). */
export interface LbaRange {
  readonly lba: number;
  readonly blocks: number;
}

/** @internal What every decoder yields. */
export interface Decoded {
  /** Data-Out length the CDB implies; the dispatcher rejects any other length. */
  readonly dataOutLength: number;
  /** Primary LBA range, when the command has one. */
  readonly lba?: number;
  readonly blocks?: number;
  /** Further ranges (EXTENDED COPY segments, UNMAP descriptors). */
  readonly ranges?: readonly LbaRange[];
}

/** @internal One row of the opcode table. */
export interface CommandSpec<C extends Decoded = Decoded> {
  readonly opcode: number;
  /** Service action, for opcodes whose CDB byte 1 bits 4:0 select one. */
  readonly serviceAction?: number;
  /** T10 name, verbatim. */
  readonly name: string;
  readonly cdbLength: number;
  /**
   * CDB USAGE DATA for REPORT SUPPORTED OPERATION CODES: byte n has a bit set for each CDB bit the
   * array evaluates on this LUN; bits it rejects as unsupported (ANCHOR with ANC_SUP = 0) show as 0.
   */
  readonly usage: readonly number[] | ((lun: Lun) => readonly number[]);
  /** Allowed from other initiators while a SCSI-2 reservation is held (SPC-2 5.5.1). */
  readonly allowedUnderReservation?: boolean;
  /**
   * How a persistent reservation held by another I_T nexus treats the command (SPC-4 5.13.1 table 66,
   * SBC-4 4.17 table 13; docs/decisions/persistent-reservations.md): `allowed` always runs; `read` runs
   * under the Write Exclusive types and conflicts under Exclusive Access for a nexus that is not
   * registered under a registrants type; `write` conflicts for such a nexus under every type. Left
   * out, `write`: a command the tables do not allow conflicts.
   */
  readonly reservationAccess?: 'allowed' | 'read' | 'write';
  /** Executed without reporting a pending unit attention (SAM-5 5.14: INQUIRY, REPORT LUNS, REQUEST SENSE). */
  readonly ignoresUnitAttention?: boolean;
  /**
   * The command changes the medium of the LUN it is sent to (WRITE, WRITE SAME, UNMAP, COMPARE AND
   * WRITE, ...): while the Control mode page's SWP is one, admission answers DATA PROTECT / WRITE
   * PROTECTED (SPC-5 7.5.10) before the command is decoded. EXTENDED COPY leaves it out: the LUNs it
   * writes are its segments' destinations, which the copy manager's admission checks.
   */
  readonly writesMedium?: boolean;
  /** Whether this LUN implements the command (e.g. UNMAP only on thin LUNs); all when left out. */
  readonly supported?: (lun: Lun) => boolean;
  readonly decode: (cdb: Uint8Array, ctx: CommandContext) => C | Failure;
  /** Decodes the parameter list (Data-Out), once its length was checked. */
  readonly decodeData?: (cmd: C, dataOut: Uint8Array, ctx: CommandContext) => C | Failure;
  /**
   * Runs the command. A Promise only where the command's status waits for work that goes on over
   * time (SANITIZE OVERWRITE with IMMED = 0, which ends when the sanitize does).
   */
  readonly execute: (cmd: C, dataOut: Uint8Array, ctx: CommandContext) => Outcome | Promise<Outcome>;
}

/**
 * @internal The opcode table as the commands that report it see it: handed to them through the
 * command context, so that INQUIRY and REPORT SUPPORTED OPERATION CODES do not import the table
 * that imports them.
 */
export interface CommandTable {
  /** Every command the array implements (on some LUN), by opcode then service action. */
  allCommands(): readonly CommandSpec[];
  /** True when `opcode` selects its command by a service action in CDB byte 1. */
  hasServiceActions(opcode: number): boolean;
  /** The row for `opcode` (and `serviceAction`, for opcodes that have them). */
  findCommand(opcode: number, serviceAction: number | undefined): CommandSpec | undefined;
  /** The commands `lun` implements, in REPORT SUPPORTED OPERATION CODES order. */
  supportedCommands(lun: Lun): CommandSpec[];
  /** The service actions of `opcode` that `lun` implements, ascending. */
  supportedServiceActions(opcode: number, lun: Lun): number[];
}

/** @internal The CDB usage data of `spec` on `lun`. */
export function usageOf(spec: CommandSpec, lun: Lun): readonly number[] {
  return typeof spec.usage === 'function' ? spec.usage(lun) : spec.usage;
}

/** @internal Erases the command type so rows of different commands share one table. */
export function defineCommand<C extends Decoded>(spec: CommandSpec<C>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** @internal A decoded command with no Data-Out and no LBA. */
export const NO_DATA: Decoded = Object.freeze({ dataOutLength: 0 });
