/**
 * Decoder of REPORT TARGET PORT GROUPS parameter data (SPC-4 6.27): the length-only header (format
 * 000b) or the extended header (format 001b, with IMPLICIT TRANSITION TIME), then one target port
 * group descriptor per group with its target port descriptors. Records carry the T10 field names.
 * @module
 */
import { ALUA_STATES, SUPPORTED_STATE_BIT, aluaStateOfCode, type AluaState } from '../spec/alua.js';
import { readU16, readU32 } from './bytes.js';
import { decoded, malformed, short, truncated, type DataInResult } from './data-in.js';

/** One target port group descriptor (SPC-4 6.27 table 166). */
export interface TargetPortGroupDescriptor {
  /** PREF: a preferred target port group. */
  readonly preferred: boolean;
  /** ASYMMETRIC ACCESS STATE (byte 0 bits 3:0), the code as sent. */
  readonly asymmetricAccessState: number;
  /** The state it names; `undefined` for 4h (logical block dependent) and reserved codes. */
  readonly state: AluaState | undefined;
  /** Byte 1: T_SUP, O_SUP, LBD_SUP, U_SUP, S_SUP, AN_SUP, AO_SUP, as sent. */
  readonly supportedStateBits: number;
  /** The states whose supported-state bit is set (LBD_SUP is `supportsLbaDependent`). */
  readonly supportedStates: readonly AluaState[];
  /** LBD_SUP: the logical block dependent state is supported. */
  readonly supportsLbaDependent: boolean;
  /** TARGET PORT GROUP. */
  readonly targetPortGroup: number;
  /** STATUS CODE: 00h none, 01h altered by SET TARGET PORT GROUPS, 02h altered by implicit behaviour. */
  readonly statusCode: number;
  /** Vendor specific (byte 6). */
  readonly vendorSpecific: number;
  /** TARGET PORT COUNT. */
  readonly targetPortCount: number;
  /** RELATIVE TARGET PORT IDENTIFIER of each target port descriptor, in the order sent. */
  readonly relativeTargetPorts: readonly number[];
}

/** REPORT TARGET PORT GROUPS parameter data. */
export interface ReportTargetPortGroupsData {
  /** The header's format: length only (000b) or extended (001b). */
  readonly format: 'length-only' | 'extended';
  /** RETURN DATA LENGTH: the bytes after the 4-byte field itself. */
  readonly returnDataLength: number;
  /** IMPLICIT TRANSITION TIME in seconds (extended header only; 0: not specified). */
  readonly implicitTransitionSeconds?: number;
  /** The target port group descriptors, in the order sent. */
  readonly groups: readonly TargetPortGroupDescriptor[];
}

const WHAT = 'REPORT TARGET PORT GROUPS data';

/**
 * Decodes REPORT TARGET PORT GROUPS parameter data. The header format is the one asked for when
 * `format` is given, otherwise read from the data: byte 4 with FORMAT TYPE 001b (bits 6:4; reserved
 * bits of a first descriptor) is the extended header. Data cut by the ALLOCATION LENGTH is a
 * `truncated` failure whose `requiredLength` holds all of it; descriptors that overrun RETURN DATA
 * LENGTH are `malformed`.
 */
export function decodeReportTargetPortGroups(data: Uint8Array, format?: 'length-only' | 'extended'): DataInResult<ReportTargetPortGroupsData> {
  if (data.length < 4) return short(WHAT, data.length, 4);
  const returnDataLength = readU32(data, 0);
  const end = 4 + returnDataLength;
  if (data.length < end) return truncated(WHAT, data.length, end);
  const extended = format === undefined ? end >= 8 && (data[4]! & 0x70) === 0x10 : format === 'extended';
  if (extended && end < 8) return malformed(WHAT, `RETURN DATA LENGTH ${returnDataLength} leaves no room for the extended header`);
  const groups: TargetPortGroupDescriptor[] = [];
  let at = extended ? 8 : 4;
  while (at < end) {
    if (at + 8 > end) return malformed(WHAT, `a target port group descriptor at byte ${at} overruns RETURN DATA LENGTH`);
    const count = data[at + 7]!;
    if (at + 8 + 4 * count > end) return malformed(WHAT, `the ${count} target port descriptors of the group at byte ${at} overrun RETURN DATA LENGTH`);
    const bits = data[at + 1]!;
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(readU16(data, at + 8 + 4 * i + 2));
    groups.push({
      preferred: (data[at]! & 0x80) !== 0,
      asymmetricAccessState: data[at]! & 0x0f,
      state: aluaStateOfCode(data[at]! & 0x0f),
      supportedStateBits: bits,
      supportedStates: ALUA_STATES.filter((s) => (bits & SUPPORTED_STATE_BIT[s]) !== 0),
      supportsLbaDependent: (bits & 0x10) !== 0,
      targetPortGroup: readU16(data, at + 2),
      statusCode: data[at + 5]!,
      vendorSpecific: data[at + 6]!,
      targetPortCount: count,
      relativeTargetPorts: ports,
    });
    at += 8 + 4 * count;
  }
  return decoded(
    extended
      ? { format: 'extended', returnDataLength, implicitTransitionSeconds: data[5]!, groups }
      : { format: 'length-only', returnDataLength, groups },
  );
}
