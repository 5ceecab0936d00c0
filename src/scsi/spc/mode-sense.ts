/**
 * MODE SENSE(6) and MODE SENSE(10) (SPC-4 6.11, 6.12) with the Caching (08h) and Control (0Ah) mode
 * pages (`mode-pages.ts`): current values per LUN (MODE SELECT sets them), changeable values (the
 * mask MODE SELECT checks against) and default values; there are no saved values. The
 * device-specific parameter reports DPOFUA = 1 (SBC-3 6.4.1: DPO and FUA are accepted) and WP = 1
 * while the Control page's SWP is one (SBC-4 6.5.2).
 * @module
 */
import { readU16, truncate, writeU16, writeU32, writeU64 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import type { Lun } from '../logical-unit.js';
import { fail, invalidCdbField, withData, type Failure, type Outcome } from '../outcome.js';
import { MODE_PAGES, modePage, type ModePageDefinition } from './mode-pages.js';

interface ModeSenseCommand extends Decoded {
  readonly ten: boolean;
  readonly disableBlockDescriptors: boolean;
  readonly longLba: boolean;
  readonly pageControl: number;
  readonly pageCode: number;
  readonly allocationLength: number;
}

const ALL_PAGES = 0x3f;

/** The page as MODE SENSE's PAGE CONTROL asks: 0 current, 1 changeable, 2 default values. */
function pageValues(lun: Lun, page: ModePageDefinition, pageControl: number): Uint8Array {
  if (pageControl === 1) return page.changeable;
  if (pageControl === 2) return page.defaults;
  return lun.modePages.current(page.pageCode);
}

function decode(ten: boolean) {
  return (cdb: Uint8Array): ModeSenseCommand | Failure => {
    const pageControl = cdb[2]! >>> 6;
    const pageCode = cdb[2]! & 0x3f;
    const subpage = cdb[3]!;
    if (pageControl === 3) return fail('SAVING_PARAMETERS_NOT_SUPPORTED', { fieldPointer: { in: 'cdb', byte: 2, bit: 7 } });
    if (pageCode !== ALL_PAGES && modePage(pageCode) === undefined) return invalidCdbField(2, 5);
    // Only subpage 00h exists here; FFh ("all subpages") is accepted with page 3Fh.
    if (subpage !== 0 && !(subpage === 0xff && pageCode === ALL_PAGES)) return invalidCdbField(3);
    return {
      dataOutLength: 0,
      ten,
      disableBlockDescriptors: (cdb[1]! & 0x08) !== 0,
      longLba: ten && (cdb[1]! & 0x10) !== 0,
      pageControl,
      pageCode,
      allocationLength: ten ? readU16(cdb, 7) : cdb[4]!,
    };
  };
}

function execute(cmd: ModeSenseCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const lun = ctx.lun;
  const pages = MODE_PAGES.filter((p) => cmd.pageCode === ALL_PAGES || p.pageCode === cmd.pageCode).map((p) => pageValues(lun, p, cmd.pageControl));
  const descriptorLength = cmd.disableBlockDescriptors ? 0 : cmd.longLba ? 16 : 8;
  const headerLength = cmd.ten ? 8 : 4;
  const pagesLength = pages.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(headerLength + descriptorLength + pagesLength);
  const deviceSpecific = (lun.writeProtected ? 0x80 : 0x00) | 0x10; // WP (SBC-4 6.5.2: SWP set), DPOFUA = 1
  if (cmd.ten) {
    writeU16(data, 0, data.length - 2); // MODE DATA LENGTH
    data[3] = deviceSpecific;
    data[4] = cmd.longLba ? 0x01 : 0x00; // LONGLBA
    writeU16(data, 6, descriptorLength); // BLOCK DESCRIPTOR LENGTH
  } else {
    data[0] = Math.min(0xff, data.length - 1); // MODE DATA LENGTH
    data[2] = deviceSpecific;
    data[3] = descriptorLength;
  }
  let at = headerLength;
  if (descriptorLength === 8) {
    // Short LBA mode parameter block descriptor: NUMBER OF LOGICAL BLOCKS saturates at FFFFFFFFh.
    writeU32(data, at, Math.min(lun.blockCount, 0xffffffff));
    writeU32(data, at + 4, lun.blockSize & 0xffffff); // byte 4 reserved, 5..7 LOGICAL BLOCK LENGTH
  } else if (descriptorLength === 16) {
    writeU64(data, at, lun.blockCount);
    writeU32(data, at + 12, lun.blockSize);
  }
  at += descriptorLength;
  for (const p of pages) {
    data.set(p, at);
    at += p.length;
  }
  return withData(truncate(data, cmd.allocationLength));
}

/** @internal */
export const MODE_SENSE_COMMANDS: readonly CommandSpec[] = [
  defineCommand<ModeSenseCommand>({
    opcode: Opcode.MODE_SENSE_6,
    name: 'MODE SENSE(6)',
    reservationAccess: 'read',
    cdbLength: 6,
    usage: [Opcode.MODE_SENSE_6, 0x08, 0xff, 0xff, 0xff, 0x00],
    decode: decode(false),
    execute,
  }),
  defineCommand<ModeSenseCommand>({
    opcode: Opcode.MODE_SENSE_10,
    name: 'MODE SENSE(10)',
    reservationAccess: 'read',
    cdbLength: 10,
    usage: [Opcode.MODE_SENSE_10, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0x00],
    decode: decode(true),
    execute,
  }),
];
