/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35), generated from the same opcode table that
 * dispatches, so what is reported is exactly what is implemented on this LUN.
 * @module
 */
import { readU16, readU32, truncate, writeU16, writeU32 } from '../../codec/bytes.js';
import { Opcode, ServiceAction } from '../../spec/opcodes.js';
import { defineCommand, usageOf, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { invalidCdbField, withData, type Failure, type Outcome } from '../outcome.js';

interface RsocCommand extends Decoded {
  /** RCTD: return command timeouts descriptors. */
  readonly timeouts: boolean;
  readonly reportingOptions: number;
  readonly requestedOpcode: number;
  readonly requestedServiceAction: number;
  readonly allocationLength: number;
}

/** Command timeouts descriptor (SPC-4 6.35.4): DESCRIPTOR LENGTH 0Ah; timeouts 0 = not specified. */
const TIMEOUTS_DESCRIPTOR_LENGTH = 12;

function decode(cdb: Uint8Array): RsocCommand | Failure {
  const reportingOptions = cdb[2]! & 0x07;
  if (reportingOptions > 3) return invalidCdbField(2, 2);
  return {
    dataOutLength: 0,
    timeouts: (cdb[2]! & 0x80) !== 0,
    reportingOptions,
    requestedOpcode: cdb[3]!,
    requestedServiceAction: readU16(cdb, 4),
    allocationLength: readU32(cdb, 6),
  };
}

function writeTimeouts(data: Uint8Array, at: number): void {
  writeU16(data, at, TIMEOUTS_DESCRIPTOR_LENGTH - 2);
}

/** All-commands format: 8-byte command descriptors (+ timeouts descriptor when RCTD = 1). */
function allCommands(cmd: RsocCommand, ctx: CommandContext): Uint8Array {
  const specs = ctx.commands.supportedCommands(ctx.lun);
  const each = 8 + (cmd.timeouts ? TIMEOUTS_DESCRIPTOR_LENGTH : 0);
  const data = new Uint8Array(4 + each * specs.length);
  writeU32(data, 0, data.length - 4); // COMMAND DATA LENGTH
  specs.forEach((spec, i) => {
    const at = 4 + each * i;
    data[at] = spec.opcode;
    const servactv = ctx.commands.hasServiceActions(spec.opcode);
    if (servactv) writeU16(data, at + 2, spec.serviceAction ?? 0);
    data[at + 5] = (cmd.timeouts ? 0x02 : 0) | (servactv ? 0x01 : 0); // CTDP, SERVACTV
    writeU16(data, at + 6, spec.cdbLength);
    if (cmd.timeouts) writeTimeouts(data, at + 8);
  });
  return data;
}

/** One-command format: SUPPORT, CDB SIZE and CDB USAGE DATA (+ timeouts descriptor when RCTD = 1). */
function oneCommand(cmd: RsocCommand, ctx: CommandContext): Uint8Array | Failure {
  const opcode = cmd.requestedOpcode;
  const withSa = ctx.commands.hasServiceActions(opcode);
  // 001b: the opcode must not have service actions; 010b: it must; 011b: either (SPC-4 table 232).
  if (cmd.reportingOptions === 1 && withSa) return invalidCdbField(2, 2);
  if (cmd.reportingOptions === 2 && !withSa) return invalidCdbField(2, 2);
  const spec = ctx.commands.findCommand(opcode, withSa ? cmd.requestedServiceAction : undefined);
  const supported = spec !== undefined && (spec.supported?.(ctx.lun) ?? true);
  const usage = supported ? usageOf(spec, ctx.lun) : [];
  const data = new Uint8Array(4 + usage.length + (cmd.timeouts ? TIMEOUTS_DESCRIPTOR_LENGTH : 0));
  data[1] = (cmd.timeouts ? 0x80 : 0) | (supported ? 0x03 : 0x01); // CTDP, SUPPORT (011b supported, 001b not)
  writeU16(data, 2, usage.length); // CDB SIZE
  data.set(usage, 4);
  if (cmd.timeouts) writeTimeouts(data, 4 + usage.length);
  return data;
}

function execute(cmd: RsocCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const data = cmd.reportingOptions === 0 ? allCommands(cmd, ctx) : oneCommand(cmd, ctx);
  if (!(data instanceof Uint8Array)) return data;
  return withData(truncate(data, cmd.allocationLength));
}

/** @internal */
export const REPORT_SUPPORTED_OPERATION_CODES_COMMAND: CommandSpec = defineCommand<RsocCommand>({
  opcode: Opcode.MAINTENANCE_IN,
  serviceAction: ServiceAction.REPORT_SUPPORTED_OPERATION_CODES,
  name: 'REPORT SUPPORTED OPERATION CODES',
  reservationAccess: 'read',
  cdbLength: 12,
  usage: [Opcode.MAINTENANCE_IN, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
  decode,
  execute,
});
