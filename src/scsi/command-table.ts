/**
 * The one opcode table. Dispatch, REPORT SUPPORTED OPERATION CODES, the Third-party Copy VPD page's
 * command list and the INVALID COMMAND OPERATION CODE answer are all derived from it, so what the
 * array reports can never disagree with what it implements.
 * @module
 */
import type { CommandSpec, CommandTable } from './command.js';
import type { CommandContext } from './context.js';
import type { Lun } from './logical-unit.js';
import { CAPACITY_COMMANDS } from './sbc/capacity.js';
import { COMPARE_AND_WRITE_COMMAND } from './sbc/compare-and-write.js';
import { ORWRITE_COMMAND } from './sbc/orwrite.js';
import { PRE_FETCH_COMMANDS } from './sbc/pre-fetch.js';
import { READ_DEFECT_DATA_COMMANDS } from './sbc/read-defect-data.js';
import { READ_WRITE_COMMANDS } from './sbc/read-write.js';
import { SANITIZE_COMMANDS } from './sbc/sanitize.js';
import { UNMAP_COMMAND } from './sbc/unmap.js';
import { VERIFY_COMMANDS } from './sbc/verify.js';
import { WRITE_ATOMIC_COMMAND } from './sbc/write-atomic.js';
import { WRITE_SAME_COMMANDS } from './sbc/write-same.js';
import { BASIC_COMMANDS } from './spc/basic.js';
import { INQUIRY_COMMAND } from './spc/inquiry.js';
import { MODE_SELECT_COMMANDS } from './spc/mode-select.js';
import { MODE_SENSE_COMMANDS } from './spc/mode-sense.js';
import { REPORT_SUPPORTED_OPERATION_CODES_COMMAND } from './spc/report-supported-operation-codes.js';
import { TARGET_PORT_GROUPS_COMMANDS } from './spc/target-port-groups.js';
import { PERSISTENT_RESERVE_COMMANDS } from './pr/commands.js';
import { EXTENDED_COPY_COMMAND } from './xcopy/extended-copy.js';
import { RECEIVE_COPY_RESULTS_COMMANDS } from './xcopy/receive-copy-results.js';

type Index = Array<CommandSpec | Map<number, CommandSpec> | undefined>;

/** The rows sorted by opcode then service action, and indexed by opcode (a map where service actions select). */
function build(): { readonly table: readonly CommandSpec[]; readonly byOpcode: Index } {
  const all: CommandSpec[] = [
    ...BASIC_COMMANDS,
    INQUIRY_COMMAND,
    ...MODE_SELECT_COMMANDS,
    ...MODE_SENSE_COMMANDS,
    REPORT_SUPPORTED_OPERATION_CODES_COMMAND,
    ...TARGET_PORT_GROUPS_COMMANDS,
    ...PERSISTENT_RESERVE_COMMANDS,
    ...READ_WRITE_COMMANDS,
    ...VERIFY_COMMANDS,
    ...PRE_FETCH_COMMANDS,
    ...WRITE_SAME_COMMANDS,
    COMPARE_AND_WRITE_COMMAND,
    WRITE_ATOMIC_COMMAND,
    ORWRITE_COMMAND,
    ...READ_DEFECT_DATA_COMMANDS,
    UNMAP_COMMAND,
    ...SANITIZE_COMMANDS,
    ...CAPACITY_COMMANDS,
    EXTENDED_COPY_COMMAND,
    ...RECEIVE_COPY_RESULTS_COMMANDS,
  ].sort((a, b) => a.opcode - b.opcode || (a.serviceAction ?? 0) - (b.serviceAction ?? 0));
  const index: Index = new Array(256).fill(undefined);
  for (const spec of all) {
    if (spec.serviceAction === undefined) {
      if (index[spec.opcode] !== undefined) throw new Error(`opcode table: duplicate ${spec.name}`);
      index[spec.opcode] = spec;
    } else {
      const slot = index[spec.opcode];
      const map = slot instanceof Map ? slot : new Map<number, CommandSpec>();
      if (slot !== undefined && !(slot instanceof Map)) throw new Error(`opcode table: ${spec.name} mixes service actions`);
      if (map.has(spec.serviceAction)) throw new Error(`opcode table: duplicate ${spec.name}`);
      map.set(spec.serviceAction, spec);
      index[spec.opcode] = map;
    }
  }
  return { table: Object.freeze(all), byOpcode: index };
}

const { table, byOpcode } = build();

/** @internal Every command the array implements (on some LUN), by opcode then service action. */
export function allCommands(): readonly CommandSpec[] {
  return table;
}

/** @internal True when `opcode` selects its command by a service action in CDB byte 1. */
export function hasServiceActions(opcode: number): boolean {
  return byOpcode[opcode] instanceof Map;
}

/** @internal The row for `opcode` (and `serviceAction`, for opcodes that have them). */
export function findCommand(opcode: number, serviceAction: number | undefined): CommandSpec | undefined {
  const slot = byOpcode[opcode];
  if (slot instanceof Map) return serviceAction === undefined ? undefined : slot.get(serviceAction);
  return slot;
}

/** @internal The commands `lun` implements, in REPORT SUPPORTED OPERATION CODES order. */
export function supportedCommands(lun: Lun): CommandSpec[] {
  return allCommands().filter((spec) => spec.supported?.(lun) ?? true);
}

/** @internal The service actions of `opcode` that `lun` implements, ascending. */
export function supportedServiceActions(opcode: number, lun: Lun): number[] {
  return supportedCommands(lun)
    .filter((spec) => spec.opcode === opcode && spec.serviceAction !== undefined)
    .map((spec) => spec.serviceAction!);
}

/** @internal Lookup for dispatch: a row, or why there is none. */
export function lookupForDispatch(cdb: Uint8Array, lun: Lun): CommandSpec | 'INVALID_OPCODE' | 'INVALID_SERVICE_ACTION' {
  const slot = byOpcode[cdb[0]!];
  if (slot === undefined) return 'INVALID_OPCODE';
  if (slot instanceof Map) {
    const spec = cdb.length > 1 ? slot.get(cdb[1]! & 0x1f) : undefined;
    if (spec !== undefined && (spec.supported?.(lun) ?? true)) return spec;
    // An opcode none of whose service actions this LUN implements (SANITIZE on a thick LUN) is not implemented here.
    for (const s of slot.values()) if (s.supported?.(lun) ?? true) return 'INVALID_SERVICE_ACTION';
    return 'INVALID_OPCODE';
  }
  return slot.supported?.(lun) ?? true ? slot : 'INVALID_OPCODE';
}

/** @internal The table as commands see it through {@link CommandContext.commands}. */
export const COMMAND_TABLE: CommandTable = Object.freeze({ allCommands, hasServiceActions, findCommand, supportedCommands, supportedServiceActions });
