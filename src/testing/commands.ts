/**
 * The kit's commands as data: each VAAI-relevant command of one LUN in a structured, decoded form
 * (what the arbitraries generate and shrink), its encoding to a CDB and Data-Out, and a one-line
 * description for counterexamples. A shrunk command is still a well-formed command of its kind,
 * because shrinking happens on this form and the bytes are made from it afterwards.
 * @module
 */
import * as cdb from '../codec/cdb-encoder.js';
import type { Designator } from '../host/probe.js';
import { Mulberry32 } from '../common/prng.js';
import { PR_IN_ACTIONS, PR_OUT_ACTIONS, PR_TYPE_NAMES, type PrInAction, type PrOutAction, type PrType } from './reference-pr.js';

/** An LBA range. */
export interface BlockRange {
  /** First LBA. */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
}

/**
 * One block-to-block segment of an EXTENDED COPY: within the LUN under test, or between the LUNs of
 * {@link KitGeometry.cscds} when `source` and `destination` name them.
 */
export interface CopySegment {
  /** First source LBA. */
  readonly srcLba: number;
  /** First destination LBA. */
  readonly dstLba: number;
  /** Number of blocks. */
  readonly blocks: number;
  /** CSCD descriptor index of the source. @defaultValue 0 (the LUN under test) */
  readonly source?: number;
  /** CSCD descriptor index of the destination. @defaultValue 0 (the LUN under test) */
  readonly destination?: number;
}

/** TEST UNIT READY. */
export interface TestUnitReadyCommand {
  /** Operation, as T10 names it. */
  readonly op: 'TEST UNIT READY';
}

/** READ(16). */
export interface Read16Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'READ(16)';
}

/** READ(10): LBAs below 2^32, at most 65,535 blocks. */
export interface Read10Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'READ(10)';
}

/** WRITE(10) of bytes made from `seed` (0: zeros). */
export interface Write10Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'WRITE(10)';
  /** Seed of the data (see {@link seededBytes}); 0 writes zeros. */
  readonly seed: number;
}

/** WRITE SAME(10) of one block made from `seed` (0: a zero block), optionally with UNMAP. */
export interface WriteSame10Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'WRITE SAME(10)';
  /** The UNMAP bit. */
  readonly unmap: boolean;
  /** Seed of the block (0: zeros). */
  readonly seed: number;
}

/** SYNCHRONIZE CACHE(16) of a range. */
export interface SynchronizeCache16Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'SYNCHRONIZE CACHE(16)';
}

/** GET LBA STATUS from an LBA. */
export interface GetLbaStatusCommand {
  /** Operation, as T10 names it. */
  readonly op: 'GET LBA STATUS';
  /** STARTING LOGICAL BLOCK ADDRESS. */
  readonly lba: number;
}

/** READ CAPACITY(16). */
export interface ReadCapacity16Command {
  /** Operation, as T10 names it. */
  readonly op: 'READ CAPACITY(16)';
}

/** Standard INQUIRY data. */
export interface InquiryCommand {
  /** Operation, as T10 names it. */
  readonly op: 'INQUIRY';
}

/** RECEIVE COPY RESULTS, OPERATING PARAMETERS (03h). */
export interface ReceiveCopyResultsCommand {
  /** Operation, as T10 names it. */
  readonly op: 'RECEIVE COPY RESULTS';
}

/** WRITE(16) of bytes made from `seed` (0: zeros). */
export interface Write16Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'WRITE(16)';
  /** Seed of the data (see {@link seededBytes}); 0 writes zeros. */
  readonly seed: number;
}

/** WRITE ATOMIC(16) of bytes made from `seed` (0: zeros): all of it lands or none (SBC-4 5.48). */
export interface WriteAtomic16Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'WRITE ATOMIC(16)';
  /** Seed of the data (see {@link seededBytes}); 0 writes zeros. */
  readonly seed: number;
}

/** READ(6): a 21-bit LBA and 1 to 256 blocks (256 is sent as TRANSFER LENGTH 0; SBC-4, READ(6) command). */
export interface Read6Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'READ(6)';
}

/** WRITE(6) of bytes made from `seed` (0: zeros): a 21-bit LBA and 1 to 256 blocks (256 is sent as 0; SBC-4, WRITE(6) command). */
export interface Write6Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'WRITE(6)';
  /** Seed of the data (see {@link seededBytes}); 0 writes zeros. */
  readonly seed: number;
}

/**
 * BYTCHK of VERIFY (SBC-4, VERIFY(10) command): 0 (00b) verifies the medium with no Data-Out, 1 (01b) compares a
 * Data-Out of every block, 3 (11b) compares one Data-Out block with every block of the range.
 */
export type VerifyBytchk = 0 | 1 | 3;

/**
 * VERIFY(10)/(16). With BYTCHK 01b the Data-Out is what the medium holds (per the model) over the
 * range, with BYTCHK 11b the first block of the range; either with the byte at `miscompareAt`
 * changed, when set (see {@link verifyDataOut}).
 */
export interface VerifyCommand extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'VERIFY(10)' | 'VERIFY(16)';
  /** BYTCHK. */
  readonly bytchk: VerifyBytchk;
  /** Offset in the Data-Out of a byte made to differ; `null` for a matching compare (ignored with BYTCHK 00b). */
  readonly miscompareAt: number | null;
}

/** WRITE AND VERIFY(10)/(16) of bytes made from `seed` (0: zeros), BYTCHK 00b (verify the medium) or 01b (compare with the Data-Out). */
export interface WriteAndVerifyCommand extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'WRITE AND VERIFY(10)' | 'WRITE AND VERIFY(16)';
  /** BYTCHK: 0 or 1 (10b and 11b are reserved; SBC-4, WRITE AND VERIFY(10) command). */
  readonly bytchk: 0 | 1;
  /** Seed of the data (see {@link seededBytes}); 0 writes zeros. */
  readonly seed: number;
}

/** ORWRITE(16) of bytes made from `seed` (0: zeros): each block becomes the OR of what it held and the Data-Out (SBC-4, ORWRITE(16) command). */
export interface OrWrite16Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'ORWRITE(16)';
  /** Seed of the data (see {@link seededBytes}); 0 ORs in zeros (nothing changes). */
  readonly seed: number;
}

/** PRE-FETCH(10)/(16) with IMMED 0: NUMBER OF LOGICAL BLOCKS 0 means to the last LBA (SBC-4 5.9 and the PRE-FETCH(16) command after it). */
export interface PreFetchCommand extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'PRE-FETCH(10)' | 'PRE-FETCH(16)';
}

/**
 * SANITIZE with the BLOCK ERASE service action (02h), IMMED 0 and PARAMETER LIST LENGTH 0 (SBC-4
 * 5.30): the whole LUN is erased, so the kit offers it only where its window is the whole LUN.
 */
export interface SanitizeBlockEraseCommand {
  /** Operation, as T10 names it. */
  readonly op: 'SANITIZE BLOCK ERASE';
}

/** WRITE SAME(16) of one block made from `seed` (0: a zero block), optionally with UNMAP or NDOB. */
export interface WriteSame16Command extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'WRITE SAME(16)';
  /** The UNMAP bit. */
  readonly unmap: boolean;
  /** The NDOB bit (no Data-Out: zeros). */
  readonly ndob: boolean;
  /** Seed of the block (0: zeros; ignored with NDOB). */
  readonly seed: number;
}

/** UNMAP with block descriptors. */
export interface UnmapCommand {
  /** Operation, as T10 names it. */
  readonly op: 'UNMAP';
  /** The UNMAP block descriptors. */
  readonly ranges: readonly BlockRange[];
}

/**
 * COMPARE AND WRITE: the verify half is what the medium holds (per the model) with the byte at
 * `miscompareAt` changed, when set; the write half is made from `seed`.
 */
export interface CompareAndWriteCommand extends BlockRange {
  /** Operation, as T10 names it. */
  readonly op: 'COMPARE AND WRITE';
  /** Seed of the write half. */
  readonly seed: number;
  /** Offset in the verify half of a byte made to differ; `null` for a matching compare. */
  readonly miscompareAt: number | null;
}

/** EXTENDED COPY (LID1) with the CSCDs of {@link KitGeometry.cscds} (by default the LUN itself) and block-to-block segments. */
export interface ExtendedCopyCommand {
  /** Operation, as T10 names it. */
  readonly op: 'EXTENDED COPY';
  /** Segments, in order. */
  readonly segments: readonly CopySegment[];
}

/** RESERVE(6) (SPC-2). */
export interface Reserve6Command {
  /** Operation, as T10 names it. */
  readonly op: 'RESERVE(6)';
}

/** RELEASE(6) (SPC-2). */
export interface Release6Command {
  /** Operation, as T10 names it. */
  readonly op: 'RELEASE(6)';
}

/**
 * PERSISTENT RESERVE OUT (SPC-4 6.14) with the basic 24-byte parameter list: SPEC_I_PT, ALL_TG_PT
 * and APTPL zero, SCOPE LU_SCOPE. A wrong `key` is a well-formed command the target must answer
 * with RESERVATION CONFLICT; the malformed fields are {@link Defect}s.
 */
export interface PersistentReserveOutCommand {
  /** Operation, as T10 names it. */
  readonly op: 'PERSISTENT RESERVE OUT';
  /** The service action. */
  readonly action: PrOutAction;
  /** RESERVATION KEY. */
  readonly key: bigint;
  /** SERVICE ACTION RESERVATION KEY. */
  readonly serviceActionKey: bigint;
  /** TYPE (RESERVE, RELEASE, PREEMPT and PREEMPT AND ABORT look at it; sent with every action). */
  readonly type: PrType;
}

/** PERSISTENT RESERVE IN (SPC-4 6.13) with an ALLOCATION LENGTH that holds the whole answer. */
export interface PersistentReserveInCommand {
  /** Operation, as T10 names it. */
  readonly op: 'PERSISTENT RESERVE IN';
  /** The service action. */
  readonly action: PrInAction;
}

/** A well-formed command of the kit. */
export type KitCommand =
  | TestUnitReadyCommand
  | Read10Command
  | Read16Command
  | Write10Command
  | Write16Command
  | WriteAtomic16Command
  | WriteSame10Command
  | WriteSame16Command
  | SynchronizeCache16Command
  | GetLbaStatusCommand
  | ReadCapacity16Command
  | InquiryCommand
  | ReceiveCopyResultsCommand
  | UnmapCommand
  | CompareAndWriteCommand
  | ExtendedCopyCommand
  | Reserve6Command
  | Release6Command
  | Read6Command
  | Write6Command
  | VerifyCommand
  | WriteAndVerifyCommand
  | OrWrite16Command
  | PreFetchCommand
  | SanitizeBlockEraseCommand
  | PersistentReserveOutCommand
  | PersistentReserveInCommand;

/**
 * Every {@link KitCommand} operation name, as T10 names it (the names `checkTarget`'s `ops` option
 * and `vaai-sim check --ops` accept).
 */
export const KIT_OPS = Object.freeze([
  'TEST UNIT READY',
  'INQUIRY',
  'READ CAPACITY(16)',
  'READ(10)',
  'READ(16)',
  'WRITE(10)',
  'WRITE(16)',
  'WRITE ATOMIC(16)',
  'WRITE SAME(10)',
  'WRITE SAME(16)',
  'SYNCHRONIZE CACHE(16)',
  'GET LBA STATUS',
  'UNMAP',
  'COMPARE AND WRITE',
  'EXTENDED COPY',
  'RECEIVE COPY RESULTS',
  'RESERVE(6)',
  'RELEASE(6)',
  'READ(6)',
  'WRITE(6)',
  'VERIFY(10)',
  'VERIFY(16)',
  'WRITE AND VERIFY(10)',
  'WRITE AND VERIFY(16)',
  'ORWRITE(16)',
  'PRE-FETCH(10)',
  'PRE-FETCH(16)',
  'SANITIZE BLOCK ERASE',
  'PERSISTENT RESERVE IN',
  'PERSISTENT RESERVE OUT',
] as const satisfies readonly KitCommand['op'][]);

// Every op is listed: a KitCommand op missing from KIT_OPS fails to compile here.
const everyOpListed: Exclude<KitCommand['op'], (typeof KIT_OPS)[number]> extends never ? true : never = true;
void everyOpListed;

/**
 * A deliberate defect applied to a well-formed command when it is encoded (so shrinking keeps it):
 *
 * - `lba-beyond-end`: the range is moved to end one block past the last LBA;
 * - `over-limit`: the transfer length is one above the limit the LUN reports (COMPARE AND WRITE,
 *   WRITE SAME), the range moved back so that it still ends inside the LUN;
 * - `too-many-descriptors`: UNMAP with one block descriptor more than the LUN allows;
 * - `short-parameter-list`: UNMAP whose PARAMETER LIST LENGTH cuts the header;
 * - `bad-segment-type`: an EXTENDED COPY segment descriptor of an unknown type code (FFh);
 * - `bad-cscd-type`: an EXTENDED COPY CSCD descriptor of an unknown type code (FEh);
 * - `cscd-index-beyond-list`: an EXTENDED COPY segment naming a CSCD the list does not have;
 * - `unsupported-ndob`: WRITE SAME(16) with NDOB on a LUN whose CDB usage data does not offer it
 *   (SBC-4: ILLEGAL REQUEST, INVALID FIELD IN CDB);
 * - `reserved-bytchk`: a reserved BYTCHK value, 10b for VERIFY and 11b for WRITE AND VERIFY (SBC-4,
 *   VERIFY(10) and WRITE AND VERIFY(10) commands: INVALID FIELD IN CDB);
 * - `nonzero-parameter-list-length`: SANITIZE BLOCK ERASE with PARAMETER LIST LENGTH 1 (SBC-4
 *   5.30.1: it shall be zero for BLOCK ERASE; INVALID FIELD IN CDB);
 * - `pr-parameter-list-length`: PERSISTENT RESERVE OUT with PARAMETER LIST LENGTH 20 and 20 bytes
 *   of Data-Out instead of 24 (SPC-4 6.14.1: PARAMETER LIST LENGTH ERROR);
 * - `pr-unknown-type`: RESERVE or PREEMPT (AND ABORT) with TYPE 2h, which SPC-4 6.14.2 leaves
 *   reserved (INVALID FIELD IN CDB);
 * - `pr-unsupported-aptpl`: REGISTER (AND IGNORE EXISTING KEY) with APTPL = 1 to a target whose
 *   REPORT CAPABILITIES says PTPL_C = 0 (SPC-4 6.14.3: INVALID FIELD IN PARAMETER LIST).
 */
export type Defect =
  | 'lba-beyond-end'
  | 'over-limit'
  | 'too-many-descriptors'
  | 'short-parameter-list'
  | 'bad-segment-type'
  | 'bad-cscd-type'
  | 'cscd-index-beyond-list'
  | 'unsupported-ndob'
  | 'reserved-bytchk'
  | 'nonzero-parameter-list-length'
  | 'pr-parameter-list-length'
  | 'pr-unknown-type'
  | 'pr-unsupported-aptpl';

/** A command made malformed by one {@link Defect}. */
export interface MalformedCommand {
  /** The well-formed command the defect is applied to. */
  readonly command: KitCommand;
  /** The defect. */
  readonly defect: Defect;
}

/** What encoding needs to know about the LUN. */
export interface KitGeometry {
  /** Logical block size in bytes. */
  readonly blockSize: number;
  /** Number of logical blocks. */
  readonly blockCount: number;
  /** The LUN's designator (VPD 83h), naming it as EXTENDED COPY's CSCD. */
  readonly designator?: Designator;
  /**
   * The CSCD descriptor list of an EXTENDED COPY, LUNs of `blockSize`-byte blocks that segments
   * name by index. @defaultValue the LUN's `designator` alone
   */
  readonly cscds?: readonly Designator[];
  /** MAXIMUM COMPARE AND WRITE LENGTH. */
  readonly maxCompareAndWriteBlocks?: number;
  /** MAXIMUM WRITE SAME LENGTH (0: no limit). */
  readonly maxWriteSameBlocks?: number;
  /** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT. */
  readonly maxUnmapDescriptors?: number;
}

/** A command as bytes: the CDB and the Data-Out (if any). */
export interface EncodedCommand {
  /** The CDB. */
  readonly cdb: Uint8Array;
  /** The Data-Out buffer. */
  readonly dataOut: Uint8Array | undefined;
}

/** Deterministic bytes from `seed` (mulberry32); seed 0 gives zeros. */
export function seededBytes(seed: number, length: number): Uint8Array {
  return seed === 0 ? new Uint8Array(length) : new Mulberry32(seed).bytes(length);
}

/** The one block of a WRITE SAME (undefined with NDOB). */
export function writeSameBlock(c: WriteSame16Command | WriteSame10Command, blockSize: number): Uint8Array | undefined {
  return c.op === 'WRITE SAME(16)' && c.ndob ? undefined : seededBytes(c.seed, blockSize);
}

/** The verify half of a COMPARE AND WRITE, from what the medium holds (`current`). */
export function compareAndWriteVerify(c: CompareAndWriteCommand, current: Uint8Array): Uint8Array {
  const verify = current.slice();
  if (c.miscompareAt !== null && verify.length > 0) {
    const at = c.miscompareAt % verify.length;
    verify[at] = verify[at]! ^ (1 + (c.seed % 255));
  }
  return verify;
}

/**
 * The Data-Out of a VERIFY from what the medium holds over its range (`current`): none with BYTCHK
 * 00b or no blocks, the whole range with 01b, its first block with 11b; the byte at `miscompareAt`
 * (modulo the length) is inverted, when set.
 */
export function verifyDataOut(c: VerifyCommand, current: Uint8Array, blockSize: number): Uint8Array | undefined {
  if (c.bytchk === 0 || c.blocks === 0) return undefined;
  const data = (c.bytchk === 3 ? current.subarray(0, blockSize) : current).slice();
  if (c.miscompareAt !== null && data.length > 0) {
    const at = c.miscompareAt % data.length;
    data[at] = data[at]! ^ 0xff;
  }
  return data;
}

function designatorOf(g: KitGeometry): Designator {
  return g.designator ?? { codeSet: 1, associationAndType: 0x03, bytes: new Uint8Array(8) };
}

function xcopyList(segments: readonly CopySegment[], g: KitGeometry, defect: Defect | undefined): Uint8Array {
  const cscds = g.cscds ?? [designatorOf(g)];
  const list = cdb.extendedCopyParameterList({
    cscds: cscds.map((d, i) => ({
      designator: d.bytes,
      codeSet: d.codeSet,
      associationAndType: d.associationAndType,
      blockSize: g.blockSize,
      ...(defect === 'bad-cscd-type' && i === 0 ? { typeCode: 0xfe } : {}),
    })),
    segments: segments.map((s, i) => ({
      source: s.source ?? 0,
      destination: defect === 'cscd-index-beyond-list' && i === segments.length - 1 ? cscds.length : (s.destination ?? 0),
      blocks: s.blocks,
      sourceLba: s.srcLba,
      destinationLba: s.dstLba,
      ...(defect === 'bad-segment-type' && i === segments.length - 1 ? { typeCode: 0xff } : {}),
    })),
  });
  return list;
}

/** Moves a range so that it ends one block past the last LBA (at least one block long). */
function beyondEnd(r: BlockRange, g: KitGeometry): BlockRange {
  const blocks = Math.max(1, r.blocks);
  return { lba: g.blockCount - blocks + 1, blocks };
}

/** One block more than `limit`, ending at the last LBA at the latest (so only the length is wrong). */
function overLimit(lba: number, limit: number, g: KitGeometry): BlockRange {
  return { lba: Math.min(lba, g.blockCount - (limit + 1)), blocks: limit + 1 };
}

/** The commands whose CDB carries one LBA range. */
export type RangedCommand = Extract<KitCommand, BlockRange>;

const RANGED: ReadonlySet<KitCommand['op']> = new Set<KitCommand['op']>([
  'READ(6)', 'READ(10)', 'READ(16)', 'WRITE(6)', 'WRITE(10)', 'WRITE(16)', 'WRITE ATOMIC(16)', 'WRITE SAME(10)', 'WRITE SAME(16)', 'COMPARE AND WRITE', 'SYNCHRONIZE CACHE(16)',
  'VERIFY(10)', 'VERIFY(16)', 'WRITE AND VERIFY(10)', 'WRITE AND VERIFY(16)', 'ORWRITE(16)', 'PRE-FETCH(10)', 'PRE-FETCH(16)',
]);

/** Whether `command`'s CDB carries one LBA range (LOGICAL BLOCK ADDRESS and a length). */
export function hasRange(command: KitCommand): command is RangedCommand {
  return RANGED.has(command.op);
}

/**
 * The command as sent with a range defect applied (`lba-beyond-end` moves the range past the end,
 * `over-limit` lengthens it); any other defect leaves the command as it is.
 */
export function applyDefect(command: KitCommand, defect: Defect | undefined, g: KitGeometry): KitCommand {
  if (defect === 'lba-beyond-end') {
    if (hasRange(command)) return { ...command, ...beyondEnd(command, g) };
    switch (command.op) {
      case 'UNMAP':
        return { ...command, ranges: [...command.ranges.slice(0, -1), beyondEnd(command.ranges[command.ranges.length - 1] ?? { lba: 0, blocks: 1 }, g)] };
      case 'GET LBA STATUS':
        return { ...command, lba: g.blockCount };
      default:
        return command;
    }
  }
  if (defect === 'over-limit') {
    if (command.op === 'WRITE SAME(10)' || command.op === 'WRITE SAME(16)') return { ...command, ...overLimit(command.lba, g.maxWriteSameBlocks ?? 0, g) };
    if (command.op === 'COMPARE AND WRITE') return { ...command, ...overLimit(command.lba, g.maxCompareAndWriteBlocks ?? 0, g) };
  }
  return command;
}

/**
 * Encodes `command` (with `defect`, if given) for a LUN of geometry `g`. `current` gives what the
 * medium holds (COMPARE AND WRITE's verify half); without it the verify half is zeros.
 */
export function encodeCommand(original: KitCommand, g: KitGeometry, current?: (range: BlockRange) => Uint8Array, defect?: Defect): EncodedCommand {
  const bs = g.blockSize;
  const command = applyDefect(original, defect, g);
  switch (command.op) {
    case 'TEST UNIT READY':
      return { cdb: cdb.testUnitReady(), dataOut: undefined };
    case 'RESERVE(6)':
      return { cdb: cdb.reserve6(), dataOut: undefined };
    case 'RELEASE(6)':
      return { cdb: cdb.release6(), dataOut: undefined };
    case 'READ(10)':
    case 'READ(16)': {
      const r = command;
      return { cdb: command.op === 'READ(10)' ? cdb.read10(r) : cdb.read16(r), dataOut: undefined };
    }
    case 'WRITE(10)':
    case 'WRITE(16)': {
      const r = command;
      return { cdb: command.op === 'WRITE(10)' ? cdb.write10(r) : cdb.write16(r), dataOut: r.blocks === 0 ? undefined : seededBytes(command.seed, r.blocks * bs) };
    }
    case 'WRITE ATOMIC(16)':
      return { cdb: cdb.writeAtomic16(command), dataOut: command.blocks === 0 ? undefined : seededBytes(command.seed, command.blocks * bs) };
    case 'READ(6)':
      return { cdb: cdb.read6(command), dataOut: undefined };
    case 'WRITE(6)':
      return { cdb: cdb.write6(command), dataOut: seededBytes(command.seed, command.blocks * bs) };
    case 'ORWRITE(16)':
      return { cdb: cdb.orwrite16(command), dataOut: command.blocks === 0 ? undefined : seededBytes(command.seed, command.blocks * bs) };
    case 'VERIFY(10)':
    case 'VERIFY(16)': {
      const bytchk = defect === 'reserved-bytchk' ? 2 : command.bytchk;
      const fields = { lba: command.lba, blocks: command.blocks, bytchk };
      const medium = defect === undefined && current !== undefined && command.blocks > 0 ? current(command) : new Uint8Array(command.blocks * bs);
      // A reserved BYTCHK defines no Data-Out: none is sent.
      return { cdb: command.op === 'VERIFY(10)' ? cdb.verify10(fields) : cdb.verify16(fields), dataOut: bytchk === 2 ? undefined : verifyDataOut(command, medium, bs) };
    }
    case 'WRITE AND VERIFY(10)':
    case 'WRITE AND VERIFY(16)': {
      const fields = { lba: command.lba, blocks: command.blocks, bytchk: defect === 'reserved-bytchk' ? 3 : command.bytchk };
      return { cdb: command.op === 'WRITE AND VERIFY(10)' ? cdb.writeAndVerify10(fields) : cdb.writeAndVerify16(fields), dataOut: command.blocks === 0 ? undefined : seededBytes(command.seed, command.blocks * bs) };
    }
    case 'PRE-FETCH(10)':
      return { cdb: cdb.preFetch10(command), dataOut: undefined };
    case 'PRE-FETCH(16)':
      return { cdb: cdb.preFetch16(command), dataOut: undefined };
    case 'PERSISTENT RESERVE OUT': {
      const list = cdb.prOutParameterList({ key: command.key, serviceActionKey: command.serviceActionKey, aptpl: defect === 'pr-unsupported-aptpl' });
      const dataOut = defect === 'pr-parameter-list-length' ? list.subarray(0, 20) : list;
      const type = defect === 'pr-unknown-type' ? 0x2 : command.type;
      return { cdb: cdb.persistentReserveOut({ serviceAction: PR_OUT_ACTIONS[command.action], type, parameterListLength: dataOut.length }), dataOut };
    }
    case 'PERSISTENT RESERVE IN':
      return { cdb: cdb.persistentReserveIn({ serviceAction: PR_IN_ACTIONS[command.action], allocationLength: PR_IN_ALLOCATION_LENGTH }), dataOut: undefined };
    case 'SANITIZE BLOCK ERASE':
      return { cdb: cdb.sanitize({ serviceAction: 0x02, parameterListLength: defect === 'nonzero-parameter-list-length' ? 1 : 0 }), dataOut: undefined };
    case 'WRITE SAME(10)': {
      return { cdb: cdb.writeSame10({ lba: command.lba, blocks: command.blocks, unmap: command.unmap }), dataOut: writeSameBlock(command, bs) };
    }
    case 'SYNCHRONIZE CACHE(16)': {
      return { cdb: cdb.synchronizeCache16({ lba: command.lba, blocks: command.blocks }), dataOut: undefined };
    }
    case 'GET LBA STATUS':
      return { cdb: cdb.getLbaStatus({ lba: command.lba, allocationLength: 24 }), dataOut: undefined };
    case 'READ CAPACITY(16)':
      return { cdb: cdb.readCapacity16(32), dataOut: undefined };
    case 'INQUIRY':
      return { cdb: cdb.inquiry({ allocationLength: 96 }), dataOut: undefined };
    case 'RECEIVE COPY RESULTS':
      return { cdb: cdb.receiveCopyResults({ serviceAction: 0x03, allocationLength: 1024 }), dataOut: undefined };
    case 'WRITE SAME(16)': {
      const r: BlockRange = command;
      if (defect === 'unsupported-ndob') return { cdb: cdb.writeSame16({ ...r, unmap: false, ndob: true }), dataOut: undefined };
      return { cdb: cdb.writeSame16({ ...r, unmap: command.unmap, ndob: command.ndob }), dataOut: writeSameBlock(command, bs) };
    }
    case 'UNMAP': {
      let ranges = command.ranges;
      if (defect === 'too-many-descriptors') {
        const n = (g.maxUnmapDescriptors ?? 0) + 1;
        ranges = Array.from({ length: n }, (_, i) => ranges[i % Math.max(1, ranges.length)] ?? { lba: 0, blocks: 0 });
      }
      const list = cdb.unmapParameterList(ranges);
      return { cdb: cdb.unmap({ parameterListLength: defect === 'short-parameter-list' ? 6 : list.length }), dataOut: defect === 'short-parameter-list' ? list.subarray(0, 6) : list };
    }
    case 'COMPARE AND WRITE': {
      const r: BlockRange = command;
      const length = r.blocks * bs;
      const medium = defect === undefined && current !== undefined ? current(r) : new Uint8Array(length);
      const dataOut = new Uint8Array(2 * length);
      dataOut.set(compareAndWriteVerify(command, medium), 0);
      dataOut.set(seededBytes(command.seed, length), length);
      return { cdb: cdb.compareAndWrite(r), dataOut };
    }
    case 'EXTENDED COPY': {
      let segments = command.segments;
      if (defect === 'lba-beyond-end') {
        const last = segments[segments.length - 1] ?? { srcLba: 0, dstLba: 0, blocks: 1 };
        segments = [...segments.slice(0, -1), { ...last, dstLba: beyondEnd({ lba: last.dstLba, blocks: last.blocks }, g).lba, blocks: Math.max(1, last.blocks) }];
      }
      const list = xcopyList(segments, g, defect);
      return { cdb: cdb.extendedCopy(list.length), dataOut: list };
    }
  }
}

/**
 * The ALLOCATION LENGTH of the kit's PERSISTENT RESERVE IN: room for READ FULL STATUS of 32
 * registrations with 256-byte TransportIDs (the kit registers one per nexus).
 */
export const PR_IN_ALLOCATION_LENGTH = 8192;

/**
 * The reservation key of nexus `nexus` (variant 0 or 1: a nexus changes between its two keys). Keys
 * use all 8 bytes, so a target that keeps fewer is caught; each names one nexus.
 */
export function prKey(nexus: number, variant: 0 | 1 = 0): bigint {
  return 0x5641_4149_0000_0000n | (BigInt(nexus + 1) << 8n) | BigInt(variant + 1);
}

/** A reservation key as the counterexample shows it. */
function keyText(key: bigint): string {
  return key === 0n ? '0' : `${key.toString(16)}h`;
}

/** `n:` for a segment that names CSCD `n`, nothing for the default (the LUN under test). */
function cscd(index: number | undefined): string {
  return index === undefined ? '' : `${index}:`;
}

function range(r: BlockRange): string {
  return `lba ${r.lba} blocks ${r.blocks}`;
}

/**
 * One line naming `command` and its defect, as a counterexample lists it; with the LUN's geometry
 * `g`, a range defect is shown applied (the LBAs and lengths actually sent).
 */
export function describeCommand(original: KitCommand, defect?: Defect, g?: KitGeometry): string {
  const command = g === undefined ? original : applyDefect(original, defect, g);
  let text: string;
  switch (command.op) {
    case 'READ(6)':
    case 'READ(10)':
    case 'READ(16)':
    case 'SYNCHRONIZE CACHE(16)':
    case 'PRE-FETCH(10)':
    case 'PRE-FETCH(16)':
      text = `${command.op} ${range(command)}`;
      break;
    case 'WRITE(6)':
    case 'WRITE(10)':
    case 'WRITE(16)':
    case 'WRITE ATOMIC(16)':
    case 'ORWRITE(16)':
      text = `${command.op} ${range(command)} data seed ${command.seed}`;
      break;
    case 'VERIFY(10)':
    case 'VERIFY(16)': {
      const what = command.bytchk === 0 ? 'the medium' : `${command.bytchk === 3 ? 'one block of ' : ''}${command.miscompareAt === null ? 'Data-Out = medium' : `Data-Out = medium but byte ${command.miscompareAt}`}`;
      text = `${command.op} ${range(command)} BYTCHK ${command.bytchk.toString(2).padStart(2, '0')}b, ${what}`;
      break;
    }
    case 'WRITE AND VERIFY(10)':
    case 'WRITE AND VERIFY(16)':
      text = `${command.op} ${range(command)} BYTCHK 0${command.bytchk}b data seed ${command.seed}`;
      break;
    case 'WRITE SAME(10)':
      text = `WRITE SAME(10) ${range(command)}${command.unmap ? ' UNMAP' : ''} block seed ${command.seed}`;
      break;
    case 'GET LBA STATUS':
      text = `GET LBA STATUS lba ${command.lba}`;
      break;
    case 'WRITE SAME(16)':
      text = defect === 'unsupported-ndob' ? `WRITE SAME(16) ${range(command)} NDOB` : `WRITE SAME(16) ${range(command)}${command.unmap ? ' UNMAP' : ''}${command.ndob ? ' NDOB' : ` block seed ${command.seed}`}`;
      break;
    case 'UNMAP':
      text = `UNMAP ${command.ranges.map((r) => `[${r.lba}+${r.blocks}]`).join(' ')}`;
      break;
    case 'COMPARE AND WRITE':
      text = `COMPARE AND WRITE ${range(command)} ${command.miscompareAt === null ? 'verify = medium' : `verify = medium but byte ${command.miscompareAt}`} write seed ${command.seed}`;
      break;
    case 'PERSISTENT RESERVE OUT': {
      const a = command.action;
      const typed = a === 'RESERVE' || a === 'RELEASE' || a === 'PREEMPT' || a === 'PREEMPT AND ABORT';
      const sark = a === 'REGISTER' || a === 'REGISTER AND IGNORE EXISTING KEY' || a === 'PREEMPT' || a === 'PREEMPT AND ABORT';
      text = `PERSISTENT RESERVE OUT ${a} key ${keyText(command.key)}${sark ? ` sa-key ${keyText(command.serviceActionKey)}` : ''}${typed ? ` type ${PR_TYPE_NAMES[command.type]}` : ''}`;
      break;
    }
    case 'PERSISTENT RESERVE IN':
      text = `PERSISTENT RESERVE IN ${command.action}`;
      break;
    case 'EXTENDED COPY':
      text = `EXTENDED COPY ${command.segments.map((s) => `[${cscd(s.source)}${s.srcLba} -> ${cscd(s.destination)}${s.dstLba} x${s.blocks}]`).join(' ')}`;
      break;
    default:
      text = command.op;
  }
  return defect === undefined ? text : `${text} (malformed: ${defect})`;
}
