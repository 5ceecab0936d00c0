/**
 * READ DEFECT DATA(10) (37h) and READ DEFECT DATA(12) (B7h) (SBC-4). A simulated array has no
 * primary (manufacturer) and no grown defect list beyond empty ones, so the answer is the parameter
 * data header alone: PLISTV and GLISTV say which of the (empty) lists were requested and are
 * returned, DEFECT LIST FORMAT echoes the requested format, DEFECT LIST LENGTH is zero. Decisions:
 * docs/decisions/libiscsi.md, "ORWRITE(16) and READ DEFECT DATA".
 * @module
 */
import { readU16, readU32, truncate } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { invalidCdbField, withData, type Failure, type Outcome } from '../outcome.js';

/**
 * DEFECT LIST FORMAT values the array answers (SBC-4): short block (000b), extended bytes from index
 * (001b), extended physical sector (010b), long block (011b), bytes from index (100b), physical
 * sector (101b). An empty list is the same in each; 110b (vendor specific) and 111b (reserved) are
 * INVALID FIELD IN CDB.
 */
const LAST_STANDARD_FORMAT = 0x05;

/** @internal A decoded READ DEFECT DATA. */
export interface ReadDefectDataCommand extends Decoded {
  /** REQ_PLIST, REQ_GLIST and DEFECT LIST FORMAT, in the bit positions of the reply's byte 1. */
  readonly listFlags: number;
  readonly allocationLength: number;
}

/** Where the fields sit in the CDB of one size, and how long the reply's header is. */
interface DefectLayout {
  readonly cdbLength: number;
  /** Byte holding REQ_PLIST (bit 4), REQ_GLIST (bit 3) and DEFECT LIST FORMAT (bits 2:0). */
  readonly flagsAt: number;
  readonly allocationAt: number;
  readonly allocationBytes: 2 | 4;
  /** 4 for (10): DEFECT LIST LENGTH in bytes 2-3; 8 for (12): GENERATION CODE 2-3, LENGTH 4-7. */
  readonly headerLength: number;
}

const LAYOUT_10: DefectLayout = { cdbLength: 10, flagsAt: 2, allocationAt: 7, allocationBytes: 2, headerLength: 4 };
/** (12): bytes 2-5 are ADDRESS DESCRIPTOR INDEX; with empty lists every index is past the end. */
const LAYOUT_12: DefectLayout = { cdbLength: 12, flagsAt: 1, allocationAt: 6, allocationBytes: 4, headerLength: 8 };

function decode(l: DefectLayout): (cdb: Uint8Array, ctx: CommandContext) => ReadDefectDataCommand | Failure {
  return (cdb) => {
    const listFlags = cdb[l.flagsAt]! & 0x1f;
    if ((listFlags & 0x07) > LAST_STANDARD_FORMAT) return invalidCdbField(l.flagsAt, 2);
    const allocationLength = l.allocationBytes === 2 ? readU16(cdb, l.allocationAt) : readU32(cdb, l.allocationAt);
    return { dataOutLength: 0, listFlags, allocationLength };
  };
}

/**
 * The header: byte 1 = PLISTV (4), GLISTV (3), DEFECT LIST FORMAT (2:0) as requested; GENERATION
 * CODE (12 only) zero; DEFECT LIST LENGTH zero. Truncated to ALLOCATION LENGTH (zero: no data).
 */
function execute(l: DefectLayout): (cmd: ReadDefectDataCommand, dataOut: Uint8Array, ctx: CommandContext) => Outcome {
  return (cmd) => {
    const data = new Uint8Array(l.headerLength);
    data[1] = cmd.listFlags;
    return withData(truncate(data, cmd.allocationLength));
  };
}

/** CDB USAGE DATA: the list flags and format, ALLOCATION LENGTH, and for (12) ADDRESS DESCRIPTOR INDEX. */
function usage(opcode: number, l: DefectLayout): number[] {
  const u = new Array<number>(l.cdbLength).fill(0);
  u[0] = opcode;
  u[l.flagsAt] = 0x1f;
  if (l.cdbLength === 12) u.fill(0xff, 2, 6);
  u.fill(0xff, l.allocationAt, l.allocationAt + l.allocationBytes);
  return u;
}

function spec(opcode: number, name: string, l: DefectLayout): CommandSpec {
  return defineCommand<ReadDefectDataCommand>({ opcode, name, cdbLength: l.cdbLength, usage: usage(opcode, l), reservationAccess: 'read', decode: decode(l), execute: execute(l) });
}

/** @internal */
export const READ_DEFECT_DATA_COMMANDS: readonly CommandSpec[] = [
  spec(Opcode.READ_DEFECT_DATA_10, 'READ DEFECT DATA(10)', LAYOUT_10),
  spec(Opcode.READ_DEFECT_DATA_12, 'READ DEFECT DATA(12)', LAYOUT_12),
];
