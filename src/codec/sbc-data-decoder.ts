/**
 * Decoders for the SBC parameter data hosts read most: READ CAPACITY(16) (SBC-3 5.16.2) and GET LBA
 * STATUS (SBC-3 5.20.2), with the T10 field names. READ CAPACITY(16) data too short for its defined
 * fields is a `short` failure; GET LBA STATUS data may be cut by the ALLOCATION LENGTH (a walk asks
 * again from the last extent it got), so it decodes the whole descriptors that arrived and says
 * whether that was all of them.
 * @module
 */
import { readU32, readU64 } from './bytes.js';
import { decoded, short, type DataInResult } from './data-in.js';

/** READ CAPACITY(16) parameter data. */
export interface ReadCapacity16Data {
  /** RETURNED LOGICAL BLOCK ADDRESS: the last LBA. */
  readonly returnedLogicalBlockAddress: number;
  /** LOGICAL BLOCK LENGTH IN BYTES. */
  readonly logicalBlockLengthInBytes: number;
  /** P_TYPE (byte 12 bits 3:1). */
  readonly pType: number;
  /** PROT_EN (byte 12 bit 0). */
  readonly protEn: boolean;
  /** P_I EXPONENT (byte 13 bits 7:4). */
  readonly pIExponent: number;
  /** LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (byte 13 bits 3:0). */
  readonly logicalBlocksPerPhysicalBlockExponent: number;
  /** LBPME: logical block provisioning management (thin provisioning) is enabled. */
  readonly lbpme: boolean;
  /** LBPRZ: unmapped blocks read as zeros. */
  readonly lbprz: boolean;
  /** LOWEST ALIGNED LOGICAL BLOCK ADDRESS (bytes 14..15, 14 bits). */
  readonly lowestAlignedLogicalBlockAddress: number;
}

/** Bytes of READ CAPACITY(16) data up to the last defined field (LOWEST ALIGNED LOGICAL BLOCK ADDRESS). */
const READ_CAPACITY_16_FIELDS = 16;

/** Decodes READ CAPACITY(16) parameter data (32 bytes; the first 16 hold every defined field). */
export function decodeReadCapacity16(data: Uint8Array): DataInResult<ReadCapacity16Data> {
  if (data.length < READ_CAPACITY_16_FIELDS) return short('READ CAPACITY(16) parameter data', data.length, READ_CAPACITY_16_FIELDS);
  return decoded({
    returnedLogicalBlockAddress: readU64(data, 0),
    logicalBlockLengthInBytes: readU32(data, 8),
    pType: (data[12]! >>> 1) & 0x07,
    protEn: (data[12]! & 0x01) !== 0,
    pIExponent: data[13]! >>> 4,
    logicalBlocksPerPhysicalBlockExponent: data[13]! & 0x0f,
    lbpme: (data[14]! & 0x80) !== 0,
    lbprz: (data[14]! & 0x40) !== 0,
    lowestAlignedLogicalBlockAddress: ((data[14]! & 0x3f) << 8) | data[15]!,
  });
}

/** One LBA status descriptor (SBC-3 5.20.3). */
export interface LbaStatusDescriptor {
  /** LBA STATUS LOGICAL BLOCK ADDRESS: the extent's first LBA. */
  readonly lbaStatusLogicalBlockAddress: number;
  /** NUMBER OF LOGICAL BLOCKS in the extent. */
  readonly numberOfLogicalBlocks: number;
  /** PROVISIONING STATUS: 0 mapped, 1 deallocated, 2 anchored. */
  readonly provisioningStatus: number;
}

/** GET LBA STATUS parameter data. */
export interface LbaStatusData {
  /** PARAMETER DATA LENGTH: the bytes after this field the device server had. */
  readonly parameterDataLength: number;
  /** The whole descriptors that arrived, in order. */
  readonly descriptors: readonly LbaStatusDescriptor[];
  /** Whether every descriptor PARAMETER DATA LENGTH announces arrived (the ALLOCATION LENGTH cut none). */
  readonly complete: boolean;
}

/** Decodes GET LBA STATUS parameter data: the 8-byte header, then 16-byte LBA status descriptors. */
export function decodeLbaStatus(data: Uint8Array): DataInResult<LbaStatusData> {
  if (data.length < 8) return short('GET LBA STATUS parameter data', data.length, 8);
  const parameterDataLength = readU32(data, 0);
  const end = Math.min(data.length, 4 + parameterDataLength);
  const descriptors: LbaStatusDescriptor[] = [];
  for (let at = 8; at + 16 <= end; at += 16) {
    descriptors.push({ lbaStatusLogicalBlockAddress: readU64(data, at), numberOfLogicalBlocks: readU32(data, at + 8), provisioningStatus: data[at + 12]! & 0x0f });
  }
  return decoded({ parameterDataLength, descriptors, complete: data.length >= 4 + parameterDataLength });
}
