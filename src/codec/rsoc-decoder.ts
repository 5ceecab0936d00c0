/**
 * Decoders for the parameter data of REPORT SUPPORTED OPERATION CODES (SPC-4 6.35): the
 * all-commands form (REPORTING OPTIONS 000b: command descriptors, each with a command timeouts
 * descriptor when CTDP = 1) and the one-command form (001b..011b: SUPPORT, CDB SIZE and CDB USAGE
 * DATA). Records carry the T10 field names. Data cut by the ALLOCATION LENGTH is a `truncated`
 * failure with the length that holds it.
 * @module
 */
import { readU16, readU32 } from './bytes.js';
import { decoded, malformed, short, truncated, type DataInResult } from './data-in.js';

/** Command timeouts descriptor (SPC-4 6.35.4). */
export interface CommandTimeoutsDescriptor {
  /** COMMAND SPECIFIC (byte 3). */
  readonly commandSpecific: number;
  /** NOMINAL COMMAND PROCESSING TIMEOUT in seconds (0: not specified). */
  readonly nominalCommandProcessingTimeout: number;
  /** RECOMMENDED COMMAND TIMEOUT in seconds (0: not specified). */
  readonly recommendedCommandTimeout: number;
}

/** Length of a command timeouts descriptor: DESCRIPTOR LENGTH (0Ah) plus its 2-byte field. */
const TIMEOUTS_DESCRIPTOR_LENGTH = 12;

function timeoutsAt(d: Uint8Array, at: number): CommandTimeoutsDescriptor {
  return { commandSpecific: d[at + 3]!, nominalCommandProcessingTimeout: readU32(d, at + 4), recommendedCommandTimeout: readU32(d, at + 8) };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One command descriptor of the all-commands form (SPC-4 6.35.2). */
export interface CommandDescriptor {
  /** OPERATION CODE. */
  readonly operationCode: number;
  /** SERVICE ACTION, when SERVACTV = 1. */
  readonly serviceAction?: number;
  /** SERVACTV: the operation code has service actions and SERVICE ACTION names one. */
  readonly servactv: boolean;
  /** CTDP: a command timeouts descriptor follows. */
  readonly ctdp: boolean;
  /** CDB LENGTH. */
  readonly cdbLength: number;
  /** The command timeouts descriptor, when CTDP = 1. */
  readonly commandTimeouts?: CommandTimeoutsDescriptor;
}

/** The all-commands parameter data. */
export interface AllCommandsParameterData {
  /** COMMAND DATA LENGTH. */
  readonly commandDataLength: number;
  /** The command descriptors, in the order reported. */
  readonly commandDescriptors: readonly CommandDescriptor[];
}

/** Decodes the all-commands form (REPORTING OPTIONS 000b). */
export function decodeAllCommands(data: Uint8Array): DataInResult<AllCommandsParameterData> {
  const what = 'REPORT SUPPORTED OPERATION CODES (all commands)';
  if (data.length < 4) return short(what, data.length, 4);
  const commandDataLength = readU32(data, 0);
  if (data.length < 4 + commandDataLength) return truncated(what, data.length, 4 + commandDataLength);
  const end = 4 + commandDataLength;
  const commandDescriptors: CommandDescriptor[] = [];
  for (let at = 4; at < end; ) {
    const ctdp = at + 8 <= end && (data[at + 5]! & 0x02) !== 0;
    const next = at + 8 + (ctdp ? TIMEOUTS_DESCRIPTOR_LENGTH : 0);
    if (next > end) return malformed(what, `the command descriptor at byte ${at} runs past COMMAND DATA LENGTH`);
    const servactv = (data[at + 5]! & 0x01) !== 0;
    // Built field by field, not by spreading optional parts: a host probes a target on every copy.
    const descriptor: Mutable<CommandDescriptor> = { operationCode: data[at]!, servactv, ctdp, cdbLength: readU16(data, at + 6) };
    if (servactv) descriptor.serviceAction = readU16(data, at + 2);
    if (ctdp) descriptor.commandTimeouts = timeoutsAt(data, at + 8);
    commandDescriptors.push(descriptor);
    at = next;
  }
  return decoded({ commandDataLength, commandDescriptors });
}

/** The one-command parameter data (SPC-4 6.35.3). */
export interface OneCommandParameterData {
  /** CTDP: a command timeouts descriptor follows the CDB USAGE DATA. */
  readonly ctdp: boolean;
  /** SUPPORT: 000b not available, 001b not supported, 011b supported as the standard says, 101b supported in a vendor-specific manner. */
  readonly support: number;
  /** SUPPORT is 011b or 101b. */
  readonly supported: boolean;
  /** CDB SIZE. */
  readonly cdbSize: number;
  /** CDB USAGE DATA: byte 0 the operation code, then a mask of the bits the command uses. */
  readonly cdbUsageData: Uint8Array;
  /** The command timeouts descriptor, when CTDP = 1. */
  readonly commandTimeouts?: CommandTimeoutsDescriptor;
}

/** Decodes the one-command form (REPORTING OPTIONS 001b, 010b or 011b). */
export function decodeOneCommand(data: Uint8Array): DataInResult<OneCommandParameterData> {
  const what = 'REPORT SUPPORTED OPERATION CODES (one command)';
  if (data.length < 4) return short(what, data.length, 4);
  const ctdp = (data[1]! & 0x80) !== 0;
  const support = data[1]! & 0x07;
  const cdbSize = readU16(data, 2);
  const required = 4 + cdbSize + (ctdp ? TIMEOUTS_DESCRIPTOR_LENGTH : 0);
  if (data.length < required) return truncated(what, data.length, required);
  return decoded({
    ctdp,
    support,
    supported: support === 0b011 || support === 0b101,
    cdbSize,
    cdbUsageData: data.slice(4, 4 + cdbSize),
    ...(ctdp ? { commandTimeouts: timeoutsAt(data, 4 + cdbSize) } : {}),
  });
}
