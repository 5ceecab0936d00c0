/**
 * Builders for every CDB and parameter list the array implements, for initiators written against
 * the library (host-side tools, tests). Each returns a new `Uint8Array`; fields are named as in T10.
 * Values are written as given (truncated to the field), so deliberately malformed commands can be built too.
 * @module
 */
import { ASYMMETRIC_ACCESS_STATE, type AluaState } from '../spec/alua.js';
import { RW_LAYOUT_10, RW_LAYOUT_12, RW_LAYOUT_16, type RwLayout } from '../spec/cdb-layouts.js';
import { writeU16, writeU24, writeU32, writeU64 } from './bytes.js';

/** Flags common to READ and WRITE CDBs. */
export interface ReadWriteFields {
  /** LOGICAL BLOCK ADDRESS. */
  readonly lba: number;
  /** TRANSFER LENGTH in blocks. */
  readonly blocks: number;
  /** DPO bit. */
  readonly dpo?: boolean;
  /** FUA bit. */
  readonly fua?: boolean;
  /** RDPROTECT / WRPROTECT (0..7). */
  readonly protect?: number;
}

function rwFlags(f: ReadWriteFields): number {
  return ((f.protect ?? 0) << 5) | (f.dpo ? 0x10 : 0) | (f.fua ? 0x08 : 0);
}

function rw(opcode: number, l: RwLayout, f: ReadWriteFields): Uint8Array {
  const c = new Uint8Array(l.cdbLength);
  c[0] = opcode;
  c[1] = rwFlags(f);
  if (l.lbaBytes === 4) writeU32(c, l.lbaAt, f.lba);
  else writeU64(c, l.lbaAt, f.lba);
  if (l.lengthBytes === 2) writeU16(c, l.lengthAt, f.blocks);
  else writeU32(c, l.lengthAt, f.blocks);
  return c;
}

/** READ(10). */
export const read10 = (f: ReadWriteFields): Uint8Array => rw(0x28, RW_LAYOUT_10, f);
/** READ(12). */
export const read12 = (f: ReadWriteFields): Uint8Array => rw(0xa8, RW_LAYOUT_12, f);
/** READ(16). */
export const read16 = (f: ReadWriteFields): Uint8Array => rw(0x88, RW_LAYOUT_16, f);
/** WRITE(10). */
export const write10 = (f: ReadWriteFields): Uint8Array => rw(0x2a, RW_LAYOUT_10, f);
/** WRITE(12). */
export const write12 = (f: ReadWriteFields): Uint8Array => rw(0xaa, RW_LAYOUT_12, f);
/** WRITE(16). */
export const write16 = (f: ReadWriteFields): Uint8Array => rw(0x8a, RW_LAYOUT_16, f);
/** ORWRITE(16) (SBC-4): the WRITE(16) layout; `protect` is ORPROTECT. */
export const orwrite16 = (f: ReadWriteFields): Uint8Array => rw(0x8b, RW_LAYOUT_16, f);

/** Fields of READ DEFECT DATA(10)/(12) (SBC-4). */
export interface ReadDefectDataFields {
  /** REQ_PLIST: return the primary defect list. */
  readonly plist?: boolean;
  /** REQ_GLIST: return the grown defect list. */
  readonly glist?: boolean;
  /** DEFECT LIST FORMAT (0..7). @defaultValue 0 (short block format) */
  readonly format?: number;
  /** ALLOCATION LENGTH (16 bits for (10), 32 bits for (12)). */
  readonly allocationLength: number;
}

const defectFlags = (f: ReadDefectDataFields): number => (f.plist ? 0x10 : 0) | (f.glist ? 0x08 : 0) | ((f.format ?? 0) & 0x07);

/** READ DEFECT DATA(10): the list flags in byte 2, ALLOCATION LENGTH in bytes 7-8. */
export function readDefectData10(f: ReadDefectDataFields): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x37;
  c[2] = defectFlags(f);
  writeU16(c, 7, f.allocationLength);
  return c;
}

/** READ DEFECT DATA(12): the list flags in byte 1, ADDRESS DESCRIPTOR INDEX in 2-5, ALLOCATION LENGTH in 6-9. */
export function readDefectData12(f: ReadDefectDataFields & { readonly addressDescriptorIndex?: number }): Uint8Array {
  const c = new Uint8Array(12);
  c[0] = 0xb7;
  c[1] = defectFlags(f);
  writeU32(c, 2, f.addressDescriptorIndex ?? 0);
  writeU32(c, 6, f.allocationLength);
  return c;
}


/** Fields of READ(6)/WRITE(6): a 21-bit LBA and 1..256 blocks (256 is encoded as 0). */
export interface ReadWrite6Fields {
  /** LOGICAL BLOCK ADDRESS (0..1FFFFFh). */
  readonly lba: number;
  /** TRANSFER LENGTH in blocks (1..256; 256 is sent as 0). */
  readonly blocks: number;
}

function rw6(opcode: number, f: ReadWrite6Fields): Uint8Array {
  const c = new Uint8Array(6);
  c[0] = opcode;
  writeU24(c, 1, f.lba & 0x1fffff);
  c[4] = f.blocks & 0xff;
  return c;
}

/** READ(6). */
export const read6 = (f: ReadWrite6Fields): Uint8Array => rw6(0x08, f);
/** WRITE(6). */
export const write6 = (f: ReadWrite6Fields): Uint8Array => rw6(0x0a, f);

/** Fields of VERIFY and WRITE AND VERIFY (10)/(12)/(16). */
export interface VerifyFields {
  /** LOGICAL BLOCK ADDRESS. */
  readonly lba: number;
  /** VERIFICATION LENGTH (VERIFY) or TRANSFER LENGTH (WRITE AND VERIFY) in blocks. */
  readonly blocks: number;
  /** BYTCHK (0..3): 00b verify the medium, 01b compare the Data-Out, 11b (VERIFY) compare one block with every block. */
  readonly bytchk?: number;
  /** DPO bit. */
  readonly dpo?: boolean;
  /** VRPROTECT (VERIFY) or WRPROTECT (WRITE AND VERIFY), 0..7. */
  readonly protect?: number;
  /** GROUP NUMBER (0..31). */
  readonly group?: number;
}

/** Byte of GROUP NUMBER in each CDB size. */
const GROUP_AT = { 10: 6, 12: 10, 16: 14 } as const;

function verifyCdb(opcode: number, l: RwLayout, f: VerifyFields): Uint8Array {
  const c = rw(opcode, l, { lba: f.lba, blocks: f.blocks, protect: f.protect ?? 0, dpo: f.dpo ?? false });
  c[1]! |= ((f.bytchk ?? 0) & 0x03) << 1;
  c[GROUP_AT[l.cdbLength]] = (f.group ?? 0) & 0x1f;
  return c;
}

/** VERIFY(10); Data-Out is the blocks (BYTCHK 01b), one block (11b) or none (00b). */
export const verify10 = (f: VerifyFields): Uint8Array => verifyCdb(0x2f, RW_LAYOUT_10, f);
/** VERIFY(12). */
export const verify12 = (f: VerifyFields): Uint8Array => verifyCdb(0xaf, RW_LAYOUT_12, f);
/** VERIFY(16). */
export const verify16 = (f: VerifyFields): Uint8Array => verifyCdb(0x8f, RW_LAYOUT_16, f);
/** WRITE AND VERIFY(10); Data-Out is the blocks to write. */
export const writeAndVerify10 = (f: VerifyFields): Uint8Array => verifyCdb(0x2e, RW_LAYOUT_10, f);
/** WRITE AND VERIFY(12). */
export const writeAndVerify12 = (f: VerifyFields): Uint8Array => verifyCdb(0xae, RW_LAYOUT_12, f);
/** WRITE AND VERIFY(16). */
export const writeAndVerify16 = (f: VerifyFields): Uint8Array => verifyCdb(0x8e, RW_LAYOUT_16, f);

/** Fields of PRE-FETCH(10)/(16). */
export interface PreFetchFields {
  /** LOGICAL BLOCK ADDRESS. */
  readonly lba: number;
  /** NUMBER OF LOGICAL BLOCKS (0: to the last logical block). */
  readonly blocks: number;
  /** IMMED bit. */
  readonly immed?: boolean;
  /** GROUP NUMBER (0..31). */
  readonly group?: number;
}

/** PRE-FETCH(10). */
export function preFetch10(f: PreFetchFields): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x34;
  c[1] = f.immed ? 0x02 : 0;
  writeU32(c, 2, f.lba);
  c[6] = (f.group ?? 0) & 0x1f;
  writeU16(c, 7, f.blocks);
  return c;
}

/** PRE-FETCH(16). */
export function preFetch16(f: PreFetchFields): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x90;
  c[1] = f.immed ? 0x02 : 0;
  writeU64(c, 2, f.lba);
  writeU32(c, 10, f.blocks);
  c[14] = (f.group ?? 0) & 0x1f;
  return c;
}

/** Fields of SANITIZE (SBC-4 5.30). */
export interface SanitizeFields {
  /** SERVICE ACTION (0..31): 01h OVERWRITE, 02h BLOCK ERASE, 03h CRYPTOGRAPHIC ERASE, 1Fh EXIT FAILURE MODE. */
  readonly serviceAction: number;
  /** IMMED bit. */
  readonly immed?: boolean;
  /** AUSE (allow unrestricted sanitize exit) bit. */
  readonly ause?: boolean;
  /** PARAMETER LIST LENGTH (0 unless given). */
  readonly parameterListLength?: number;
}

/** SANITIZE. */
export function sanitize(f: SanitizeFields): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x48;
  c[1] = (f.immed ? 0x80 : 0) | (f.ause ? 0x20 : 0) | (f.serviceAction & 0x1f);
  writeU16(c, 7, f.parameterListLength ?? 0);
  return c;
}

/** The SANITIZE OVERWRITE parameter list (SBC-4 5.30.2.3). */
export interface SanitizeOverwriteParameters {
  /** OVERWRITE COUNT (1..31): the number of passes. */
  readonly count: number;
  /** INVERT bit: the pattern is inverted between consecutive passes. */
  readonly invert?: boolean;
  /** TEST field (0..3; 0 unless given). */
  readonly test?: number;
  /** INITIALIZATION PATTERN: repeated across each logical block. */
  readonly pattern: Uint8Array;
  /** INITIALIZATION PATTERN LENGTH, when it should differ from the pattern's length. */
  readonly patternLength?: number;
}

/** The SANITIZE OVERWRITE parameter list: byte 0 INVERT, TEST, OVERWRITE COUNT; bytes 2-3 the pattern's length; the pattern. Its length is PARAMETER LIST LENGTH. */
export function sanitizeOverwriteList(p: SanitizeOverwriteParameters): Uint8Array {
  const list = new Uint8Array(4 + p.pattern.length);
  list[0] = (p.invert ? 0x80 : 0) | (((p.test ?? 0) & 0x03) << 5) | (p.count & 0x1f);
  writeU16(list, 2, p.patternLength ?? p.pattern.length);
  list.set(p.pattern, 4);
  return list;
}

/** Fields of WRITE SAME(10)/(16). */
export interface WriteSameFields {
  /** LOGICAL BLOCK ADDRESS. */
  readonly lba: number;
  /** NUMBER OF LOGICAL BLOCKS. */
  readonly blocks: number;
  /** UNMAP bit. */
  readonly unmap?: boolean;
  /** ANCHOR bit. */
  readonly anchor?: boolean;
  /** NDOB bit (WRITE SAME(16) only): no Data-Out, zeros. */
  readonly ndob?: boolean;
  /** WRPROTECT (0..7). */
  readonly wrprotect?: number;
}

function wsFlags(f: WriteSameFields): number {
  return ((f.wrprotect ?? 0) << 5) | (f.anchor ? 0x10 : 0) | (f.unmap ? 0x08 : 0);
}

/** WRITE SAME(10); Data-Out is one logical block. */
export function writeSame10(f: WriteSameFields): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x41;
  c[1] = wsFlags(f);
  writeU32(c, 2, f.lba);
  writeU16(c, 7, f.blocks);
  return c;
}

/** WRITE SAME(16); Data-Out is one logical block, or none with NDOB. */
export function writeSame16(f: WriteSameFields): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x93;
  c[1] = wsFlags(f) | (f.ndob ? 0x01 : 0);
  writeU64(c, 2, f.lba);
  writeU32(c, 10, f.blocks);
  return c;
}

/** COMPARE AND WRITE; Data-Out is the verify blocks followed by the write blocks. */
export function compareAndWrite(f: { readonly lba: number; readonly blocks: number; readonly dpo?: boolean; readonly fua?: boolean; readonly wrprotect?: number }): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x89;
  c[1] = ((f.wrprotect ?? 0) << 5) | (f.dpo ? 0x10 : 0) | (f.fua ? 0x08 : 0);
  writeU64(c, 2, f.lba);
  c[13] = f.blocks;
  return c;
}

/** Fields of WRITE ATOMIC(16) (SBC-4 5.48). */
export interface WriteAtomicFields extends ReadWriteFields {
  /** ATOMIC BOUNDARY in blocks (bytes 10-11); 0 = the whole write is one atomic unit. @defaultValue 0 */
  readonly atomicBoundary?: number;
  /** GROUP NUMBER (byte 14 bits 4:0). @defaultValue 0 */
  readonly group?: number;
}

/** WRITE ATOMIC(16): TRANSFER LENGTH is 16 bits (bytes 12-13). */
export function writeAtomic16(f: WriteAtomicFields): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x9c;
  c[1] = rwFlags(f);
  writeU64(c, 2, f.lba);
  writeU16(c, 10, f.atomicBoundary ?? 0);
  writeU16(c, 12, f.blocks);
  c[14] = (f.group ?? 0) & 0x1f;
  return c;
}

/** UNMAP CDB for a parameter list of `parameterListLength` bytes. */
export function unmap(f: { readonly parameterListLength: number; readonly anchor?: boolean }): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x42;
  c[1] = f.anchor ? 0x01 : 0;
  writeU16(c, 7, f.parameterListLength);
  return c;
}

/** UNMAP parameter list: header and one 16-byte block descriptor per range. */
export function unmapParameterList(ranges: readonly { readonly lba: number; readonly blocks: number }[]): Uint8Array {
  const list = new Uint8Array(8 + 16 * ranges.length);
  writeU16(list, 0, list.length - 2); // UNMAP DATA LENGTH
  writeU16(list, 2, 16 * ranges.length); // UNMAP BLOCK DESCRIPTOR DATA LENGTH
  ranges.forEach((r, i) => {
    writeU64(list, 8 + 16 * i, r.lba);
    writeU32(list, 16 + 16 * i, r.blocks);
  });
  return list;
}

/** GET LBA STATUS (SERVICE ACTION IN(16) / 12h). */
export function getLbaStatus(f: { readonly lba: number; readonly allocationLength: number }): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x9e;
  c[1] = 0x12;
  writeU64(c, 2, f.lba);
  writeU32(c, 10, f.allocationLength);
  return c;
}

/** READ CAPACITY(10). */
export function readCapacity10(): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x25;
  return c;
}

/** READ CAPACITY(16) (SERVICE ACTION IN(16) / 10h). */
export function readCapacity16(allocationLength = 32): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x9e;
  c[1] = 0x10;
  writeU32(c, 10, allocationLength);
  return c;
}

/** INQUIRY: standard data, or the VPD page `page` when given. */
export function inquiry(f: { readonly page?: number; readonly allocationLength?: number } = {}): Uint8Array {
  const c = new Uint8Array(6);
  c[0] = 0x12;
  if (f.page !== undefined) {
    c[1] = 0x01; // EVPD
    c[2] = f.page;
  }
  writeU16(c, 3, f.allocationLength ?? 0xff);
  return c;
}

/** TEST UNIT READY. */
export function testUnitReady(): Uint8Array {
  return new Uint8Array(6);
}

/** REQUEST SENSE (fixed format). */
export function requestSense(allocationLength = 18): Uint8Array {
  const c = new Uint8Array(6);
  c[0] = 0x03;
  c[4] = allocationLength;
  return c;
}

/** REPORT LUNS. */
export function reportLuns(f: { readonly selectReport?: number; readonly allocationLength?: number } = {}): Uint8Array {
  const c = new Uint8Array(12);
  c[0] = 0xa0;
  c[2] = f.selectReport ?? 0;
  writeU32(c, 6, f.allocationLength ?? 4096);
  return c;
}

/** REPORT SUPPORTED OPERATION CODES (MAINTENANCE IN / 0Ch). */
export function reportSupportedOperationCodes(
  f: { readonly reportingOptions?: number; readonly rctd?: boolean; readonly opcode?: number; readonly serviceAction?: number; readonly allocationLength?: number } = {},
): Uint8Array {
  const c = new Uint8Array(12);
  c[0] = 0xa3;
  c[1] = 0x0c;
  c[2] = (f.rctd ? 0x80 : 0) | (f.reportingOptions ?? 0);
  c[3] = f.opcode ?? 0;
  writeU16(c, 4, f.serviceAction ?? 0);
  writeU32(c, 6, f.allocationLength ?? 8192);
  return c;
}

/**
 * REPORT TARGET PORT GROUPS (MAINTENANCE IN A3h, service action 0Ah; SPC-4 6.27): `extended` asks
 * for PARAMETER DATA FORMAT 001b (the extended header with IMPLICIT TRANSITION TIME), otherwise 000b
 * (length only); `format` writes any 3-bit value instead.
 */
export function reportTargetPortGroups(f: { readonly extended?: boolean; readonly format?: number; readonly allocationLength: number }): Uint8Array {
  const c = new Uint8Array(12);
  c[0] = 0xa3;
  c[1] = (((f.format ?? (f.extended ? 1 : 0)) & 0x07) << 5) | 0x0a;
  writeU32(c, 6, f.allocationLength);
  return c;
}

/** SET TARGET PORT GROUPS (MAINTENANCE OUT A4h, service action 0Ah; SPC-4 6.31) for a parameter list of `parameterListLength` bytes. */
export function setTargetPortGroups(parameterListLength: number): Uint8Array {
  const c = new Uint8Array(12);
  c[0] = 0xa4;
  c[1] = 0x0a;
  writeU32(c, 6, parameterListLength);
  return c;
}

/** One set target port group descriptor of SET TARGET PORT GROUPS. */
export interface SetTargetPortGroupDescriptor {
  /**
   * ASYMMETRIC ACCESS STATE: a state name, or its 4-bit code (0h active/optimized, 1h
   * active/non-optimized, 2h standby, 3h unavailable, Eh offline; others to build refused lists).
   */
  readonly state: AluaState | number;
  /** TARGET PORT GROUP, or for the offline state (Eh) the RELATIVE TARGET PORT IDENTIFIER. */
  readonly groupOrPort: number;
}

/** The SET TARGET PORT GROUPS parameter list: 4 reserved bytes, then one 4-byte descriptor each. Its length is PARAMETER LIST LENGTH. */
export function setTargetPortGroupsParameterList(descriptors: readonly SetTargetPortGroupDescriptor[]): Uint8Array {
  const list = new Uint8Array(4 + 4 * descriptors.length);
  descriptors.forEach((d, i) => {
    list[4 + 4 * i] = typeof d.state === 'number' ? d.state : ASYMMETRIC_ACCESS_STATE[d.state];
    writeU16(list, 4 + 4 * i + 2, d.groupOrPort);
  });
  return list;
}

/** MODE SELECT(6): PF (default 1), SP, PARAMETER LIST LENGTH (byte 4). */
export function modeSelect6(f: { readonly pf?: boolean; readonly sp?: boolean; readonly parameterListLength: number }): Uint8Array {
  const c = new Uint8Array(6);
  c[0] = 0x15;
  c[1] = (f.pf === false ? 0 : 0x10) | (f.sp ? 0x01 : 0);
  c[4] = f.parameterListLength;
  return c;
}

/** MODE SELECT(10): PF (default 1), SP, PARAMETER LIST LENGTH (bytes 7-8). */
export function modeSelect10(f: { readonly pf?: boolean; readonly sp?: boolean; readonly parameterListLength: number }): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x55;
  c[1] = (f.pf === false ? 0 : 0x10) | (f.sp ? 0x01 : 0);
  writeU16(c, 7, f.parameterListLength);
  return c;
}

/** MODE SENSE(6). */
export function modeSense6(f: { readonly pageCode?: number; readonly pageControl?: number; readonly subpage?: number; readonly dbd?: boolean; readonly allocationLength?: number } = {}): Uint8Array {
  const c = new Uint8Array(6);
  c[0] = 0x1a;
  c[1] = f.dbd ? 0x08 : 0;
  c[2] = ((f.pageControl ?? 0) << 6) | (f.pageCode ?? 0x3f);
  c[3] = f.subpage ?? 0;
  c[4] = f.allocationLength ?? 0xff;
  return c;
}

/** MODE SENSE(10). */
export function modeSense10(
  f: { readonly pageCode?: number; readonly pageControl?: number; readonly subpage?: number; readonly dbd?: boolean; readonly llbaa?: boolean; readonly allocationLength?: number } = {},
): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x5a;
  c[1] = (f.dbd ? 0x08 : 0) | (f.llbaa ? 0x10 : 0);
  c[2] = ((f.pageControl ?? 0) << 6) | (f.pageCode ?? 0x3f);
  c[3] = f.subpage ?? 0;
  writeU16(c, 7, f.allocationLength ?? 0xffff);
  return c;
}

/** SYNCHRONIZE CACHE(10). */
export function synchronizeCache10(f: { readonly lba?: number; readonly blocks?: number } = {}): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x35;
  writeU32(c, 2, f.lba ?? 0);
  writeU16(c, 7, f.blocks ?? 0);
  return c;
}

/** SYNCHRONIZE CACHE(16). */
export function synchronizeCache16(f: { readonly lba?: number; readonly blocks?: number } = {}): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x91;
  writeU64(c, 2, f.lba ?? 0);
  writeU32(c, 10, f.blocks ?? 0);
  return c;
}

/** RESERVE(6). */
export const reserve6 = (): Uint8Array => Uint8Array.of(0x16, 0, 0, 0, 0, 0);
/** RELEASE(6). */
export const release6 = (): Uint8Array => Uint8Array.of(0x17, 0, 0, 0, 0, 0);
/** RESERVE(10). */
export const reserve10 = (): Uint8Array => Uint8Array.of(0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0);
/** RELEASE(10). */
export const release10 = (): Uint8Array => Uint8Array.of(0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0);

/** EXTENDED COPY (LID1) CDB for a parameter list of `parameterListLength` bytes. */
export function extendedCopy(parameterListLength: number): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x83;
  writeU32(c, 10, parameterListLength);
  return c;
}

/** RECEIVE COPY RESULTS (LID1) with service action `serviceAction` (00h COPY STATUS, 03h OPERATING PARAMETERS, 04h FAILED SEGMENT DETAILS). */
export function receiveCopyResults(f: { readonly serviceAction: number; readonly listId?: number; readonly allocationLength?: number }): Uint8Array {
  const c = new Uint8Array(16);
  c[0] = 0x84;
  c[1] = f.serviceAction & 0x1f;
  c[2] = f.listId ?? 0;
  writeU32(c, 10, f.allocationLength ?? 1024);
  return c;
}

/** An identification (E4h) CSCD descriptor naming a LUN by its NAA designator (VPD 83h). */
export interface CscdDescriptor {
  /** The designator bytes (16 for NAA 6h). */
  readonly designator: Uint8Array;
  /** CODE SET of the designator. @defaultValue 1 (binary) */
  readonly codeSet?: number;
  /** ASSOCIATION and DESIGNATOR TYPE byte (bits 5:0). @defaultValue 0x03 (LU, NAA) */
  readonly associationAndType?: number;
  /** DISK BLOCK LENGTH of the designated LUN. */
  readonly blockSize: number;
  /** PERIPHERAL DEVICE TYPE. @defaultValue 0 */
  readonly peripheralDeviceType?: number;
  /** Overrides the type code byte (E4h), to build malformed lists. */
  readonly typeCode?: number;
}

/** A block-to-block (02h) segment descriptor. */
export interface SegmentDescriptor {
  /** Index of the source CSCD descriptor. */
  readonly source: number;
  /** Index of the destination CSCD descriptor. */
  readonly destination: number;
  /** BLOCK DEVICE NUMBER OF BLOCKS (0..65535). */
  readonly blocks: number;
  /** SOURCE LOGICAL BLOCK ADDRESS. */
  readonly sourceLba: number;
  /** DESTINATION LOGICAL BLOCK ADDRESS. */
  readonly destinationLba: number;
  /** DC bit. */
  readonly destinationCount?: boolean;
  /** Overrides the type code byte (02h), to build malformed lists. */
  readonly typeCode?: number;
}

/** Fields of an EXTENDED COPY (LID1) parameter list. */
export interface ExtendedCopyParameterList {
  /** LIST IDENTIFIER. @defaultValue 0 */
  readonly listId?: number;
  /** LIST ID USAGE (0 hold, 2 discard, 3 none). @defaultValue 3 when listId is 0, else 0 */
  readonly listIdUsage?: number;
  /** CSCD descriptors. */
  readonly cscds: readonly CscdDescriptor[];
  /** Segment descriptors. */
  readonly segments: readonly SegmentDescriptor[];
}

/** Encodes an EXTENDED COPY (LID1) parameter list (SPC-4 6.4). */
export function extendedCopyParameterList(p: ExtendedCopyParameterList): Uint8Array {
  const cscdLength = 32 * p.cscds.length;
  const segmentLength = 28 * p.segments.length;
  const list = new Uint8Array(16 + cscdLength + segmentLength);
  const listId = p.listId ?? 0;
  list[0] = listId;
  list[1] = ((p.listIdUsage ?? (listId === 0 ? 3 : 0)) & 0x03) << 3;
  writeU16(list, 2, cscdLength);
  writeU32(list, 8, segmentLength);
  p.cscds.forEach((d, i) => {
    const at = 16 + 32 * i;
    list[at] = d.typeCode ?? 0xe4;
    list[at + 1] = (d.peripheralDeviceType ?? 0) & 0x1f;
    list[at + 4] = d.codeSet ?? 0x01;
    list[at + 5] = d.associationAndType ?? 0x03;
    const n = Math.min(d.designator.length, 20);
    list[at + 7] = n;
    list.set(d.designator.subarray(0, n), at + 8);
    writeU24(list, at + 29, d.blockSize);
  });
  p.segments.forEach((s, i) => {
    const at = 16 + cscdLength + 28 * i;
    list[at] = s.typeCode ?? 0x02;
    list[at + 1] = s.destinationCount ? 0x02 : 0;
    writeU16(list, at + 2, 0x18);
    writeU16(list, at + 4, s.source);
    writeU16(list, at + 6, s.destination);
    writeU16(list, at + 10, s.blocks);
    writeU64(list, at + 12, s.sourceLba);
    writeU64(list, at + 20, s.destinationLba);
  });
  return list;
}

/** PERSISTENT RESERVE IN (5Eh, SPC-4 6.13): SERVICE ACTION (byte 1 bits 4:0) and ALLOCATION LENGTH (bytes 7-8). */
export function persistentReserveIn(f: { readonly serviceAction: number; readonly allocationLength: number }): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x5e;
  c[1] = f.serviceAction & 0x1f;
  writeU16(c, 7, f.allocationLength);
  return c;
}

/**
 * PERSISTENT RESERVE OUT (5Fh, SPC-4 6.14): SERVICE ACTION (byte 1 bits 4:0), SCOPE (byte 2 bits 7:4,
 * default 0h LU_SCOPE) and TYPE (byte 2 bits 3:0, default 0), PARAMETER LIST LENGTH (bytes 5-8).
 */
export function persistentReserveOut(f: { readonly serviceAction: number; readonly type?: number; readonly scope?: number; readonly parameterListLength: number }): Uint8Array {
  const c = new Uint8Array(10);
  c[0] = 0x5f;
  c[1] = f.serviceAction & 0x1f;
  c[2] = ((f.scope ?? 0) << 4) | ((f.type ?? 0) & 0x0f);
  writeU32(c, 5, f.parameterListLength);
  return c;
}

/** An 8-byte reservation key at `at` (a bigint, or a number below 2^53). */
function writeKey(list: Uint8Array, at: number, key: bigint | number): void {
  new DataView(list.buffer, list.byteOffset, list.byteLength).setBigUint64(at, BigInt.asUintN(64, BigInt(key)));
}

/**
 * An iSCSI TransportID (SPC-4 7.6.4.6, protocol identifier 5h): FORMAT CODE 00b with the iSCSI name
 * alone, or 01b with `isid` (12 hex digits) as `name,i,0x<ISID>`; the name null-terminated and padded
 * so the ADDITIONAL LENGTH (bytes 2-3) is a multiple of 4 and at least 20.
 */
export function iscsiTransportId(f: { readonly name: string; readonly isid?: string }): Uint8Array {
  const text = new TextEncoder().encode(f.isid === undefined ? f.name : `${f.name},i,0x${f.isid}`);
  const additional = Math.max(20, Math.ceil((text.length + 1) / 4) * 4);
  const id = new Uint8Array(4 + additional);
  id[0] = (f.isid === undefined ? 0x00 : 0x40) | 0x05;
  writeU16(id, 2, additional);
  id.set(text, 4);
  return id;
}

/** The fields of the basic PERSISTENT RESERVE OUT parameter list (SPC-4 6.14.3). */
export interface PrOutParameters {
  /** RESERVATION KEY (bytes 0-7). @defaultValue 0 */
  readonly key?: bigint | number;
  /** SERVICE ACTION RESERVATION KEY (bytes 8-15). @defaultValue 0 */
  readonly serviceActionKey?: bigint | number;
  /** SPEC_I_PT (byte 20 bit 3); when set, `transportIds` follow the 24 bytes. */
  readonly specIPt?: boolean;
  /** ALL_TG_PT (byte 20 bit 2). */
  readonly allTgPt?: boolean;
  /** APTPL (byte 20 bit 0). */
  readonly aptpl?: boolean;
  /** TransportIDs (built with {@link iscsiTransportId}) after TRANSPORTID PARAMETER DATA LENGTH, with `specIPt`. */
  readonly transportIds?: readonly Uint8Array[];
}

/** The basic PERSISTENT RESERVE OUT parameter list: 24 bytes, or with SPEC_I_PT 28 plus the TransportIDs. */
export function prOutParameterList(p: PrOutParameters): Uint8Array {
  const ids = p.specIPt === true ? (p.transportIds ?? []) : [];
  const idBytes = ids.reduce((n, id) => n + id.length, 0);
  const list = new Uint8Array(p.specIPt === true ? 28 + idBytes : 24);
  writeKey(list, 0, p.key ?? 0);
  writeKey(list, 8, p.serviceActionKey ?? 0);
  list[20] = (p.specIPt === true ? 0x08 : 0) | (p.allTgPt === true ? 0x04 : 0) | (p.aptpl === true ? 0x01 : 0);
  if (p.specIPt === true) {
    writeU32(list, 24, idBytes);
    let at = 28;
    for (const id of ids) {
      list.set(id, at);
      at += id.length;
    }
  }
  return list;
}

/** The REGISTER AND MOVE parameter list (SPC-4 6.14.4): keys, UNREG, APTPL, RELATIVE TARGET PORT IDENTIFIER and one TransportID. */
export function registerAndMoveParameterList(p: {
  readonly key: bigint | number;
  readonly serviceActionKey: bigint | number;
  readonly unreg?: boolean;
  readonly aptpl?: boolean;
  readonly relativeTargetPort: number;
  readonly transportId: Uint8Array;
}): Uint8Array {
  const list = new Uint8Array(24 + p.transportId.length);
  writeKey(list, 0, p.key);
  writeKey(list, 8, p.serviceActionKey);
  list[17] = (p.unreg === true ? 0x02 : 0) | (p.aptpl === true ? 0x01 : 0);
  writeU16(list, 18, p.relativeTargetPort);
  writeU32(list, 20, p.transportId.length);
  list.set(p.transportId, 24);
  return list;
}
