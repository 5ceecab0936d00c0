/**
 * A volume of the array: its block store, geometry, identity (NAA designator, serial number) and
 * limits. No SCSI state lives here: the logical unit that exports a volume (its nexus state, unit
 * attentions, reservation and `execute`) is `scsi/logical-unit.ts`.
 * @module
 */
import { toHex } from '../codec/bytes.js';
import type { VolumeManager } from './volume-manager.js';
import { BlockStore } from './block-store.js';
import type { ThinPool } from './thin-pool.js';

/** Per-LUN limits reported in the Block Limits VPD page (B0h) and enforced by the commands. */
export interface BlockLimits {
  /** MAXIMUM COMPARE AND WRITE LENGTH in blocks (1..255). @defaultValue 255 */
  readonly maximumCompareAndWriteLength: number;
  /** MAXIMUM TRANSFER LENGTH in blocks for READ/WRITE. @defaultValue 65536 */
  readonly maximumTransferLength: number;
  /** MAXIMUM UNMAP LBA COUNT per UNMAP command; 0xFFFFFFFF means no limit. @defaultValue 0xFFFFFFFF */
  readonly maximumUnmapLbaCount: number;
  /** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT per UNMAP command. @defaultValue 256 */
  readonly maximumUnmapBlockDescriptorCount: number;
  /** MAXIMUM WRITE SAME LENGTH in blocks. @defaultValue 4194304 (2 GiB of 512-byte blocks) */
  readonly maximumWriteSameLength: number;
}

/** Default {@link BlockLimits}. */
export const DEFAULT_BLOCK_LIMITS: BlockLimits = Object.freeze({
  maximumCompareAndWriteLength: 255,
  maximumTransferLength: 65536,
  maximumUnmapLbaCount: 0xffffffff,
  maximumUnmapBlockDescriptorCount: 256,
  maximumWriteSameLength: 4 * 1024 * 1024,
});

/** Options of {@link VolumeManager.createLun} (and so of `StorageArray.createLun`). */
export interface LunOptions {
  /** Size in bytes: a positive multiple of `blockSize`. */
  readonly sizeBytes: number;
  /** Logical block size in bytes: 512, 1024, 2048 or 4096, at most the pool's allocation unit. @defaultValue 512 */
  readonly blockSize?: number;
  /**
   * Physical block size in bytes: `blockSize` times a power of two from 2^0 to 2^15, at most the
   * pool's allocation unit. 4096 with 512-byte logical blocks is a "512e" LUN: READ CAPACITY(16)
   * reports LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT 3 and the Block Limits VPD an OPTIMAL
   * TRANSFER LENGTH GRANULARITY of 8 blocks; every LBA stays addressable. @defaultValue `blockSize`
   */
  readonly physicalBlockSize?: number;
  /** Thin (space allocated on write) or thick (reserved in full at creation). @defaultValue true */
  readonly thin?: boolean;
  /** LUN number reported by REPORT LUNS (0..16383). @defaultValue the lowest free number */
  readonly lunId?: number;
  /** Initiators allowed to access the LUN; any initiator when left out. */
  readonly initiators?: readonly string[];
  /** Block limits that differ from {@link DEFAULT_BLOCK_LIMITS}. */
  readonly limits?: Partial<BlockLimits>;
}

/** @internal Everything the array decides for a new volume. */
export interface VolumeInit {
  readonly id: number;
  readonly sizeBytes: number;
  readonly blockSize: number;
  readonly physicalBlockSize: number;
  readonly thin: boolean;
  readonly serialNumber: string;
  readonly naaDesignator: Uint8Array;
  readonly initiators: readonly string[] | undefined;
  readonly limits: BlockLimits;
}

/**
 * A volume: what a LUN stores and how it is named, without any SCSI state. The SCSI layer's `Lun`
 * extends it; create one with `StorageArray.createLun`.
 */
export class Volume {
  /** LUN number (REPORT LUNS). */
  readonly id: number;
  /** Logical block size in bytes. */
  readonly blockSize: number;
  /** Physical block size in bytes: `blockSize` times 2^{@link physicalBlockExponent}. */
  readonly physicalBlockSize: number;
  /** LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (READ CAPACITY(16)): log2 of `physicalBlockSize / blockSize`, 0..15. */
  readonly physicalBlockExponent: number;
  /** Capacity in bytes. */
  readonly sizeBytes: number;
  /** Capacity in logical blocks (last LBA + 1). */
  readonly blockCount: number;
  /** True when thin provisioned (LBPME = 1). */
  readonly thin: boolean;
  /** Unit Serial Number (VPD 80h). */
  readonly serialNumber: string;
  /** The 16-byte NAA 6h designator of VPD 83h (what EXTENDED COPY CSCD descriptors name). */
  readonly naaDesignator: Uint8Array;
  /** Limits reported in VPD B0h and enforced. */
  readonly limits: BlockLimits;
  /** Allocation unit (OPTIMAL UNMAP GRANULARITY) in blocks. */
  readonly unitBlocks: number;
  /** @internal */
  readonly store: BlockStore;
  /** @internal The initiators of {@link LunOptions.initiators}; `undefined` for any. */
  readonly initiators: ReadonlySet<string> | undefined;

  /** @internal Use `StorageArray.createLun`. */
  constructor(pool: ThinPool, init: VolumeInit) {
    this.id = init.id;
    this.blockSize = init.blockSize;
    this.physicalBlockSize = init.physicalBlockSize;
    this.physicalBlockExponent = Math.log2(init.physicalBlockSize / init.blockSize);
    this.sizeBytes = init.sizeBytes;
    this.blockCount = init.sizeBytes / init.blockSize;
    this.thin = init.thin;
    this.serialNumber = init.serialNumber;
    this.naaDesignator = init.naaDesignator;
    this.limits = init.limits;
    this.unitBlocks = pool.unitBytes / init.blockSize;
    this.store = new BlockStore(pool, init.sizeBytes, init.thin);
    this.initiators = init.initiators === undefined ? undefined : new Set(init.initiators);
  }

  /** The designator as ESXi names devices: `naa.` followed by 32 hex digits. */
  get naaName(): string {
    return `naa.${toHex(this.naaDesignator)}`;
  }

  /** Bytes of this LUN backed by allocation units (shared units count for every LUN that maps them). */
  get mappedBytes(): number {
    let bytes = 0;
    for (const u of this.store.units.keys()) bytes += this.store.unitLength(u);
    return bytes;
  }

  /**
   * @internal True when CSCD designator fields name this volume. Only the NAA designator can: the T10
   * vendor ID designator of VPD 83h is longer than the 20 bytes a CSCD descriptor holds.
   */
  matchesDesignator(codeSet: number, associationAndType: number, designator: Uint8Array): boolean {
    return codeSet === 0x01 && associationAndType === 0x03 && bytesEqual(designator, this.naaDesignator);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
