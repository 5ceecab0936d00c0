/**
 * Decoders of PERSISTENT RESERVE IN parameter data (SPC-4 6.13): READ KEYS, READ RESERVATION, REPORT
 * CAPABILITIES and READ FULL STATUS, and of the iSCSI TransportIDs (SPC-4 7.6.4.6) that READ FULL
 * STATUS carries and PERSISTENT RESERVE OUT takes. Reservation keys are 64-bit, so they are bigints.
 * Data cut by the ALLOCATION LENGTH is a `truncated` failure whose `requiredLength` holds all of it.
 * @module
 */
import { readU16, readU32 } from './bytes.js';
import { decoded, malformed, short, truncated, type DataInResult } from './data-in.js';

/** The reservation key at `at` (8 bytes, big-endian). */
function keyAt(data: Uint8Array, at: number): bigint {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(at);
}

/** PRGENERATION and ADDITIONAL LENGTH, the 8-byte header of READ KEYS, READ RESERVATION and READ FULL STATUS; the data must hold all of it. */
function header(data: Uint8Array, what: string): DataInResult<{ readonly generation: number; readonly additionalLength: number }> {
  if (data.length < 8) return short(what, data.length, 8);
  const additionalLength = readU32(data, 4);
  if (data.length < 8 + additionalLength) return truncated(what, data.length, 8 + additionalLength);
  return decoded({ generation: readU32(data, 0), additionalLength });
}

/** READ KEYS parameter data (SPC-4 6.13.2). */
export interface PrReadKeysData {
  /** PRGENERATION. */
  readonly generation: number;
  /** ADDITIONAL LENGTH: 8 per registered I_T nexus. */
  readonly additionalLength: number;
  /** The RESERVATION KEY of each registration, in the order sent. */
  readonly keys: readonly bigint[];
}

/** Decodes READ KEYS data. */
export function decodePrReadKeys(data: Uint8Array): DataInResult<PrReadKeysData> {
  const h = header(data, 'READ KEYS data');
  if (!h.ok) return h;
  const { generation, additionalLength } = h.value;
  if (additionalLength % 8 !== 0) return malformed('READ KEYS data', `ADDITIONAL LENGTH ${additionalLength} is not a multiple of 8`);
  const keys: bigint[] = [];
  for (let at = 8; at < 8 + additionalLength; at += 8) keys.push(keyAt(data, at));
  return decoded({ generation, additionalLength, keys });
}

/** READ RESERVATION parameter data (SPC-4 6.13.3). */
export interface PrReadReservationData {
  /** PRGENERATION. */
  readonly generation: number;
  /** The persistent reservation, when one is held (ADDITIONAL LENGTH 16). */
  readonly reservation?: {
    /** RESERVATION KEY of the holder (0 for the all-registrants types). */
    readonly key: bigint;
    /** SCOPE (byte 21 bits 7:4). */
    readonly scope: number;
    /** TYPE (byte 21 bits 3:0). */
    readonly type: number;
  };
}

/** Decodes READ RESERVATION data. */
export function decodePrReadReservation(data: Uint8Array): DataInResult<PrReadReservationData> {
  const h = header(data, 'READ RESERVATION data');
  if (!h.ok) return h;
  const { generation, additionalLength } = h.value;
  if (additionalLength === 0) return decoded({ generation });
  if (additionalLength !== 16) return malformed('READ RESERVATION data', `ADDITIONAL LENGTH ${additionalLength}, not 0 or 16`);
  return decoded({ generation, reservation: { key: keyAt(data, 8), scope: data[21]! >> 4, type: data[21]! & 0x0f } });
}

/** REPORT CAPABILITIES parameter data (SPC-4 6.13.4). */
export interface PrReportCapabilitiesData {
  /** LENGTH (bytes 0-1): 8. */
  readonly length: number;
  /** CRH: compatible reservation handling (SPC-4 5.13.3). */
  readonly crh: boolean;
  /** SIP_C: SPEC_I_PT capable. */
  readonly sipC: boolean;
  /** ATP_C: ALL_TG_PT capable. */
  readonly atpC: boolean;
  /** PTPL_C: persist through power loss capable. */
  readonly ptplC: boolean;
  /** TMV: the type mask is valid. */
  readonly tmv: boolean;
  /** ALLOW COMMANDS (byte 3 bits 6:4). */
  readonly allowCommands: number;
  /** PTPL_A: persist through power loss activated. */
  readonly ptplA: boolean;
  /** PERSISTENT RESERVATION TYPE MASK (bytes 4-5) as sent. */
  readonly typeMask: number;
  /** The TYPE codes the mask advertises, ascending. */
  readonly types: readonly number[];
}

/** Type mask bit of each TYPE (byte 4 bits 7, 6, 5, 3, 1; byte 5 bit 0), SPC-4 6.13.4 table 174. */
const TYPE_MASK_BITS: readonly (readonly [type: number, bit: number])[] = [
  [0x1, 0x0200],
  [0x3, 0x0800],
  [0x5, 0x2000],
  [0x6, 0x4000],
  [0x7, 0x8000],
  [0x8, 0x0001],
];

/** The PERSISTENT RESERVATION TYPE MASK that advertises `types`. */
export function prTypeMask(types: readonly number[]): number {
  return TYPE_MASK_BITS.filter(([t]) => types.includes(t)).reduce((m, [, bit]) => m | bit, 0);
}

/** Decodes REPORT CAPABILITIES data. */
export function decodePrReportCapabilities(data: Uint8Array): DataInResult<PrReportCapabilitiesData> {
  const what = 'REPORT CAPABILITIES data';
  if (data.length < 2) return short(what, data.length, 2);
  const length = readU16(data, 0);
  if (length < 8) return malformed(what, `LENGTH ${length}, less than 8`);
  if (data.length < length) return truncated(what, data.length, length);
  const typeMask = readU16(data, 4);
  return decoded({
    length,
    crh: (data[2]! & 0x10) !== 0,
    sipC: (data[2]! & 0x08) !== 0,
    atpC: (data[2]! & 0x04) !== 0,
    ptplC: (data[2]! & 0x01) !== 0,
    tmv: (data[3]! & 0x80) !== 0,
    allowCommands: (data[3]! >> 4) & 0x07,
    ptplA: (data[3]! & 0x01) !== 0,
    typeMask,
    types: TYPE_MASK_BITS.filter(([, bit]) => (typeMask & bit) !== 0).map(([t]) => t).sort((a, b) => a - b),
  });
}

/** An iSCSI TransportID (SPC-4 7.6.4.6). */
export interface IscsiTransportId {
  /** FORMAT CODE: 0 (iSCSI name only) or 1 (name and ISID). */
  readonly format: 0 | 1;
  /** The iSCSI name (without `,i,0x<ISID>`). */
  readonly name: string;
  /** The ISID as sent (hex digits), format 1 only. */
  readonly isid?: string;
  /** Bytes the TransportID takes: 4 + ADDITIONAL LENGTH. */
  readonly length: number;
}

/** Why bytes are not an iSCSI TransportID: the byte of the TransportID the problem is at, and what it is. */
export interface TransportIdProblem {
  /** Offset within the TransportID of the field at fault. */
  readonly byte: number;
  /** The problem in words. */
  readonly message: string;
}

/**
 * Decodes the iSCSI TransportID at `at` of `data`: PROTOCOL IDENTIFIER 5h, FORMAT CODE 00b or 01b,
 * ADDITIONAL LENGTH a multiple of 4 and at least 20 within the data, the name null-terminated within
 * it, and for format 01b the separator `,i,0x` followed by the ISID. Anything else is a problem at
 * the byte it concerns.
 */
export function decodeIscsiTransportId(data: Uint8Array, at = 0): IscsiTransportId | TransportIdProblem {
  if (data.length - at < 24) return { byte: 0, message: `${data.length - at} bytes, fewer than the 24 of the shortest iSCSI TransportID` };
  if ((data[at]! & 0x0f) !== 0x05) return { byte: 0, message: `PROTOCOL IDENTIFIER ${data[at]! & 0x0f}, not 5h (iSCSI)` };
  const format = data[at]! >> 6;
  if (format > 1 || (data[at]! & 0x30) !== 0) return { byte: 0, message: `FORMAT CODE ${format}, not 00b or 01b` };
  const additional = readU16(data, at + 2);
  if (additional < 20 || additional % 4 !== 0 || at + 4 + additional > data.length) return { byte: 2, message: `ADDITIONAL LENGTH ${additional}` };
  const field = data.subarray(at + 4, at + 4 + additional);
  const nul = field.indexOf(0);
  if (nul <= 0) return { byte: 4, message: 'the iSCSI name is empty or not null-terminated' };
  const text = new TextDecoder().decode(field.subarray(0, nul));
  if (format === 0) {
    if (text.includes(',i,0x')) return { byte: 4, message: 'format 00b with a separator' };
    return { format: 0, name: text, length: 4 + additional };
  }
  const sep = text.toLowerCase().indexOf(',i,0x');
  const isid = sep < 0 ? '' : text.slice(sep + 5);
  if (sep <= 0 || !/^[0-9a-fA-F]{12}$/.test(isid)) return { byte: 4, message: 'format 01b without ",i,0x" and a 12-digit ISID' };
  return { format: 1, name: text.slice(0, sep), isid, length: 4 + additional };
}

/** One full status descriptor of READ FULL STATUS (SPC-4 6.13.5 table 176). */
export interface PrFullStatusDescriptor {
  /** RESERVATION KEY. */
  readonly key: bigint;
  /** ALL_TG_PT: registered through every target port. */
  readonly allTgPt: boolean;
  /** R_HOLDER: this I_T nexus holds the reservation. */
  readonly reservationHolder: boolean;
  /** SCOPE (meaningful with R_HOLDER). */
  readonly scope: number;
  /** TYPE (meaningful with R_HOLDER). */
  readonly type: number;
  /** RELATIVE TARGET PORT IDENTIFIER of the registration's target port. */
  readonly relativeTargetPort: number;
  /** The initiator port's TransportID, or why it could not be read. */
  readonly transportId: IscsiTransportId | TransportIdProblem;
}

/** READ FULL STATUS parameter data. */
export interface PrReadFullStatusData {
  /** PRGENERATION. */
  readonly generation: number;
  /** ADDITIONAL LENGTH. */
  readonly additionalLength: number;
  /** One descriptor per registered I_T nexus, in the order sent. */
  readonly descriptors: readonly PrFullStatusDescriptor[];
}

/** Decodes READ FULL STATUS data. */
export function decodePrReadFullStatus(data: Uint8Array): DataInResult<PrReadFullStatusData> {
  const what = 'READ FULL STATUS data';
  const h = header(data, what);
  if (!h.ok) return h;
  const { generation, additionalLength } = h.value;
  const end = 8 + additionalLength;
  const descriptors: PrFullStatusDescriptor[] = [];
  let at = 8;
  while (at < end) {
    if (at + 24 > end) return malformed(what, `a full status descriptor at byte ${at} overruns ADDITIONAL LENGTH`);
    const idLength = readU32(data, at + 20);
    if (at + 24 + idLength > end) return malformed(what, `the TransportID of the descriptor at byte ${at} overruns ADDITIONAL LENGTH`);
    descriptors.push({
      key: keyAt(data, at),
      allTgPt: (data[at + 12]! & 0x02) !== 0,
      reservationHolder: (data[at + 12]! & 0x01) !== 0,
      scope: data[at + 13]! >> 4,
      type: data[at + 13]! & 0x0f,
      relativeTargetPort: readU16(data, at + 18),
      transportId: decodeIscsiTransportId(data.subarray(at + 24, at + 24 + idLength)),
    });
    at += 24 + idLength;
  }
  return decoded({ generation, additionalLength, descriptors });
}
