/**
 * What a command changed on the medium, decoded from the command itself so that a filter sees the
 * effect of offloads as well as of plain writes: WRITE(10)/(12)/(16), WRITE SAME(10)/(16) (also
 * with UNMAP or NDOB), UNMAP, the write half of a COMPARE AND WRITE that succeeded, and the
 * destination blocks of every block-to-block segment of an EXTENDED COPY, on whichever LUN its
 * CSCD names.
 * @module
 */
import { readU16, readU32, readU64 } from '../../codec/bytes.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import { decodeSense } from '../../codec/sense-decoder.js';
import { SenseKey } from '../../spec/sense.js';

/** An LBA range. */
export interface LbaRange {
  /** First LBA. */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
}

/** Blocks changed on a LUN named by its designator (VPD 83h) rather than by the command's own LUN. */
export interface ForeignChange {
  /** The designator bytes of the LUN, as the EXTENDED COPY's CSCD names it. */
  readonly designator: Uint8Array;
  /** Its changed blocks. */
  readonly ranges: readonly LbaRange[];
}

/** The blocks a command changed (or may have changed), on its own LUN and on others. */
export interface CommandChanges {
  /** Blocks of the LUN the command was sent to. */
  readonly own: readonly LbaRange[];
  /** Blocks of LUNs an EXTENDED COPY names by designator (which may be the command's own LUN). */
  readonly byDesignator: readonly ForeignChange[];
}

const NONE: CommandChanges = { own: [], byDesignator: [] };

/**
 * Whether a command (`opcode`) with this result may have changed data. GOOD did; a command refused
 * before touching data did not (RESERVATION CONFLICT, ILLEGAL REQUEST, MISCOMPARE, and DATA
 * PROTECT, which is how an exhausted pool refuses a write, except for EXTENDED COPY, which keeps
 * the segments it did); any other failure may have changed part of its range, so it counts, as
 * tracking must never miss a change (reporting one too many costs a block read).
 */
export function mayHaveChanged(opcode: number, result: ScsiResult): boolean {
  if (result.status === 0x00) return true;
  if (result.status !== 0x02) return false;
  const key = decodeSense(result.sense)?.key;
  return key !== SenseKey.ILLEGAL_REQUEST && key !== SenseKey.MISCOMPARE && (key !== SenseKey.DATA_PROTECT || opcode === 0x83);
}

function range(lba: number, blocks: number, blockCount: number): LbaRange[] {
  if (blocks <= 0 || lba >= blockCount) return [];
  return [{ lba, blocks: Math.min(blocks, blockCount - lba) }];
}

/**
 * The blocks `cdb` (with `dataOut`, answered with `result`) changed on a LUN of `blockCount` blocks.
 * EXTENDED COPY destinations are reported by designator (an EXTENDED COPY may write to any LUN its
 * CSCDs name); everything else is on the command's own LUN.
 */
export function changesOf(cdb: Uint8Array, dataOut: Uint8Array | undefined, result: ScsiResult, blockCount: number): CommandChanges {
  if (cdb.length === 0 || !mayHaveChanged(cdb[0]!, result)) return NONE;
  switch (cdb[0]) {
    case 0x2a: // WRITE(10)
      return { own: range(readU32(cdb, 2), readU16(cdb, 7), blockCount), byDesignator: [] };
    case 0xaa: // WRITE(12)
      return { own: range(readU32(cdb, 2), readU32(cdb, 6), blockCount), byDesignator: [] };
    case 0x8a: // WRITE(16)
      return { own: range(readU64(cdb, 2), readU32(cdb, 10), blockCount), byDesignator: [] };
    case 0x41: {
      // WRITE SAME(10): NUMBER OF LOGICAL BLOCKS 0 means to the last LBA (WSNZ = 0)
      const lba = readU32(cdb, 2);
      const n = readU16(cdb, 7);
      return { own: range(lba, n === 0 ? blockCount - lba : n, blockCount), byDesignator: [] };
    }
    case 0x93: {
      // WRITE SAME(16)
      const lba = readU64(cdb, 2);
      const n = readU32(cdb, 10);
      return { own: range(lba, n === 0 ? blockCount - lba : n, blockCount), byDesignator: [] };
    }
    case 0x89: // COMPARE AND WRITE: only a compare that matched writes
      return result.status === 0x00 ? { own: range(readU64(cdb, 2), cdb[13]!, blockCount), byDesignator: [] } : NONE;
    case 0x42: {
      // UNMAP: the block descriptors of the parameter list
      if (dataOut === undefined || dataOut.length < 8) return NONE;
      const end = Math.min(dataOut.length, 8 + readU16(dataOut, 2));
      const own: LbaRange[] = [];
      for (let at = 8; at + 16 <= end; at += 16) own.push(...range(readU64(dataOut, at), readU32(dataOut, at + 8), blockCount));
      return { own, byDesignator: [] };
    }
    case 0x83:
      return (cdb[1]! & 0x1f) === 0x00 ? { own: [], byDesignator: extendedCopyDestinations(dataOut) } : NONE;
    default:
      return NONE;
  }
}

/** The destination ranges of the block-to-block segments (02h) of an EXTENDED COPY (LID1) list, by CSCD designator. */
export function extendedCopyDestinations(list: Uint8Array | undefined): ForeignChange[] {
  if (list === undefined || list.length < 16) return [];
  const cscdLength = readU16(list, 2);
  const segmentLength = readU32(list, 8);
  const designators: Array<Uint8Array | undefined> = [];
  for (let at = 16; at + 32 <= Math.min(list.length, 16 + cscdLength); at += 32) {
    // Identification descriptor CSCD (E4h): the designator follows its 4-byte header at byte 4.
    const n = list[at + 7]!;
    designators.push(list[at] === 0xe4 && n <= 20 ? list.slice(at + 8, at + 8 + n) : undefined);
  }
  const out: ForeignChange[] = [];
  const end = Math.min(list.length, 16 + cscdLength + segmentLength);
  for (let at = 16 + cscdLength; at + 4 <= end; ) {
    const length = readU16(list, at + 2) + 4;
    if (list[at] === 0x02 && at + 28 <= end) {
      const designator = designators[readU16(list, at + 6)];
      const blocks = readU16(list, at + 10);
      if (designator !== undefined && blocks > 0) out.push({ designator, ranges: [{ lba: readU64(list, at + 20), blocks }] });
    }
    at += length;
  }
  return out;
}
