/**
 * MODE SELECT(6) and MODE SELECT(10) (SPC-5 6.11, 6.12) for the pages MODE SENSE reports
 * (`mode-pages.ts`). The parameter list is checked whole before anything changes: the mode parameter
 * header, at most one block descriptor (it may restate the LUN's capacity and block length, not
 * change them), then each page in full; a bit that differs from its current value where the page's
 * changeable mask is zero is INVALID FIELD IN PARAMETER LIST with the field pointer on that byte and
 * bit. When a value changed, every other I_T nexus of the logical unit gets UNIT ATTENTION 06/2A/01
 * MODE PARAMETERS CHANGED (SPC-5 6.11). Decisions: docs/decisions/reporting.md, "MODE SELECT".
 * @module
 */
import { readU16, readU24, readU32, readU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { GOOD, fail, invalidCdbField, invalidParameterField, type Failure, type Outcome } from '../outcome.js';
import { modePage } from './mode-pages.js';

interface ModeSelectCommand extends Decoded {
  readonly ten: boolean;
  /** The pages of the parameter list, checked, with PS cleared, by page code. */
  readonly pages?: ReadonlyMap<number, Uint8Array>;
}

const PARAMETER_LIST_LENGTH_ERROR: Failure = Object.freeze(fail('PARAMETER_LIST_LENGTH_ERROR'));

function decode(ten: boolean) {
  return (cdb: Uint8Array): ModeSelectCommand | Failure => {
    const pageFormat = (cdb[1]! & 0x10) !== 0;
    const savePages = (cdb[1]! & 0x01) !== 0;
    const length = ten ? readU16(cdb, 7) : cdb[4]!;
    // SPC-5 6.11: SP = 1 on a logical unit that implements no saved pages is INVALID FIELD IN CDB.
    if (savePages) return invalidCdbField(1, 0);
    // PF = 0 would make what follows the block descriptors vendor specific; the array has no such format.
    // An empty parameter list is not an error whatever PF says (SPC-5 6.11).
    if (!pageFormat && length > 0) return invalidCdbField(1, 4);
    return { dataOutLength: length, ten };
  };
}

/** The most significant set bit of a nonzero byte (where the field pointer's BIT POINTER points). */
function topBit(byte: number): number {
  return 31 - Math.clz32(byte);
}

/** Checks the block descriptor at `at` (`long`: 16 bytes, else 8) against the LUN: it may not change anything. */
function checkBlockDescriptor(d: Uint8Array, at: number, long: boolean, ctx: CommandContext): Failure | undefined {
  const lun = ctx.lun;
  // NUMBER OF LOGICAL BLOCKS: zero (SBC-4 6.5.2: no change) or the capacity as MODE SENSE reports it.
  const blocks = long ? readU64(d, at) : readU32(d, at);
  if (blocks !== 0 && blocks !== (long ? lun.blockCount : Math.min(lun.blockCount, 0xffffffff))) return invalidParameterField(at);
  const blockLength = long ? readU32(d, at + 12) : readU24(d, at + 5);
  if (blockLength !== lun.blockSize) return invalidParameterField(long ? at + 12 : at + 5);
  return undefined;
}

/** Checks the mode parameter list whole; the pages it sets, or why it is refused. */
function decodeData(cmd: ModeSelectCommand, d: Uint8Array, ctx: CommandContext): ModeSelectCommand | Failure {
  if (d.length === 0) return cmd;
  const headerLength = cmd.ten ? 8 : 4;
  if (d.length < headerLength) return PARAMETER_LIST_LENGTH_ERROR;
  // MODE DATA LENGTH is reserved in MODE SELECT and the device-specific parameter's WP and DPOFUA are
  // ignored (SBC-4 6.5.2), so a header read back from MODE SENSE may be sent as it is. MEDIUM TYPE is 00h.
  const mediumTypeAt = cmd.ten ? 2 : 1;
  if (d[mediumTypeAt] !== 0) return invalidParameterField(mediumTypeAt);
  const longLba = cmd.ten && (d[4]! & 0x01) !== 0;
  const descriptorLengthAt = cmd.ten ? 6 : 3;
  const descriptorLength = cmd.ten ? readU16(d, 6) : d[3]!;
  if (descriptorLength !== 0 && descriptorLength !== (longLba ? 16 : 8)) return invalidParameterField(descriptorLengthAt);
  if (d.length < headerLength + descriptorLength) return PARAMETER_LIST_LENGTH_ERROR;
  if (descriptorLength > 0) {
    const refused = checkBlockDescriptor(d, headerLength, longLba, ctx);
    if (refused !== undefined) return refused;
  }
  const pages = new Map<number, Uint8Array>();
  let at = headerLength + descriptorLength;
  while (at < d.length) {
    if (d.length - at < 2) return PARAMETER_LIST_LENGTH_ERROR;
    // PS is reserved in MODE SELECT (SPC-5 7.5.2); SPF = 1 names a subpage, and the array has none.
    if ((d[at]! & 0x80) !== 0) return invalidParameterField(at, 7);
    if ((d[at]! & 0x40) !== 0) return invalidParameterField(at, 6);
    const page = modePage(d[at]! & 0x3f);
    if (page === undefined) return invalidParameterField(at, 5);
    const length = page.defaults.length;
    if (d[at + 1] !== length - 2) return invalidParameterField(at + 1);
    if (d.length - at < length) return PARAMETER_LIST_LENGTH_ERROR;
    const current = pages.get(page.pageCode) ?? ctx.lun.modePages.current(page.pageCode);
    for (let i = 2; i < length; i++) {
      const fixed = (d[at + i]! ^ current[i]!) & ~page.changeable[i]! & 0xff;
      if (fixed !== 0) return invalidParameterField(at + i, topBit(fixed));
    }
    const values = d.slice(at, at + length);
    values[0] = page.pageCode;
    pages.set(page.pageCode, values);
    at += length;
  }
  return { ...cmd, pages };
}

function execute(cmd: ModeSelectCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  let changed = false;
  for (const [pageCode, values] of cmd.pages ?? []) changed = ctx.lun.modePages.replace(pageCode, values) || changed;
  // SPC-5 6.11: parameters that apply to other I_T nexuses changed, so each of them is told.
  if (changed) ctx.lun.raiseUnitAttention('MODE_PARAMETERS_CHANGED', ctx.itNexus);
  return GOOD;
}

/** @internal */
export const MODE_SELECT_COMMANDS: readonly CommandSpec[] = [
  defineCommand<ModeSelectCommand>({
    opcode: Opcode.MODE_SELECT_6,
    name: 'MODE SELECT(6)',
    cdbLength: 6,
    // byte 1: PF (4); SP is rejected (no saved pages), so it is not reported as used
    usage: [Opcode.MODE_SELECT_6, 0x10, 0x00, 0x00, 0xff, 0x00],
    decode: decode(false),
    decodeData,
    execute,
  }),
  defineCommand<ModeSelectCommand>({
    opcode: Opcode.MODE_SELECT_10,
    name: 'MODE SELECT(10)',
    cdbLength: 10,
    usage: [Opcode.MODE_SELECT_10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00],
    decode: decode(true),
    decodeData,
    execute,
  }),
];
