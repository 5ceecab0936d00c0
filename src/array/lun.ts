/**
 * A logical unit of the array: its geometry, identity (NAA designator, serial number), limits, access
 * list, SCSI-2 reservation and per-nexus state, and `execute`, the one entry point for commands.
 * @module
 */
import { toHex } from '../codec/bytes.js';
import type { ScsiResult } from '../scsi/outcome.js';
import type { MaybePromise } from '../common/maybe-promise.js';
import { dispatch } from '../scsi/dispatch.js';
import type { ExecuteOptions, NexusState } from '../scsi/context.js';
import { BlockStore } from './block-store.js';
import type { StorageArray } from './storage-array.js';

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

/** Options of {@link StorageArray.createLun}. */
export interface LunOptions {
  /** Size in bytes: a positive multiple of `blockSize`. */
  readonly sizeBytes: number;
  /** Logical block size in bytes: 512, 1024, 2048 or 4096, at most the pool's allocation unit. @defaultValue 512 */
  readonly blockSize?: number;
  /** Thin (space allocated on write) or thick (reserved in full at creation). @defaultValue true */
  readonly thin?: boolean;
  /** LUN number reported by REPORT LUNS (0..16383). @defaultValue the lowest free number */
  readonly lunId?: number;
  /** Initiators allowed to access the LUN; any initiator when left out. */
  readonly initiators?: readonly string[];
  /** Block limits that differ from {@link DEFAULT_BLOCK_LIMITS}. */
  readonly limits?: Partial<BlockLimits>;
}

/** @internal Everything the array decides for a new LUN. */
export interface LunInit {
  readonly id: number;
  readonly sizeBytes: number;
  readonly blockSize: number;
  readonly thin: boolean;
  readonly serialNumber: string;
  readonly naaDesignator: Uint8Array;
  readonly initiators: readonly string[] | undefined;
  readonly limits: BlockLimits;
}

/** A logical unit. Create one with {@link StorageArray.createLun}. */
export class Lun {
  /** LUN number (REPORT LUNS). */
  readonly id: number;
  /** Logical block size in bytes. */
  readonly blockSize: number;
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
  /** The array this LUN belongs to. */
  readonly array: StorageArray;
  /** @internal */
  readonly store: BlockStore;
  /** @internal Initiator holding the SCSI-2 reservation, if any. */
  reservationHolder: string | undefined;
  readonly #initiators: ReadonlySet<string> | undefined;
  readonly #nexuses = new Map<string, NexusState>();

  /** @internal Use {@link StorageArray.createLun}. */
  constructor(array: StorageArray, init: LunInit) {
    this.array = array;
    this.id = init.id;
    this.blockSize = init.blockSize;
    this.sizeBytes = init.sizeBytes;
    this.blockCount = init.sizeBytes / init.blockSize;
    this.thin = init.thin;
    this.serialNumber = init.serialNumber;
    this.naaDesignator = init.naaDesignator;
    this.limits = init.limits;
    this.unitBlocks = array.pool.unitBytes / init.blockSize;
    this.store = new BlockStore(array.pool, init.sizeBytes, init.thin);
    this.#initiators = init.initiators === undefined ? undefined : new Set(init.initiators);
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

  /** The initiator holding a SCSI-2 reservation on this LUN, if any. */
  get reservedBy(): string | undefined {
    return this.reservationHolder;
  }

  /** True when `initiator` may access this LUN. */
  accessibleBy(initiator: string): boolean {
    if (this.#initiators !== undefined && !this.#initiators.has(initiator)) return false;
    const policy = this.array.accessPolicy;
    return policy === undefined || policy(initiator, this);
  }

  /**
   * Executes one SCSI command: `cdb` is the CDB, `dataOut` the Data-Out buffer (its length must be what
   * the CDB implies). Never throws: malformed input is answered with CHECK CONDITION and sense, and a
   * failed command changes nothing (except an EXTENDED COPY that ran out of space, which keeps what it
   * copied and reports it through COPY STATUS). Returns synchronously unless a fault rule delays the command.
   */
  execute(cdb: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): MaybePromise<ScsiResult> {
    return dispatch(this, cdb, dataOut, options);
  }

  /**
   * LOGICAL UNIT RESET (SAM-5 6.3), as a task management request does it: the SCSI-2 reservation is
   * released and every nexus, the requester's included, gets UNIT ATTENTION 06/29/03 (libiscsi's
   * MultipathIO.Reset checks both paths).
   */
  reset(): void {
    this.reservationHolder = undefined;
    for (const state of this.#nexuses.values()) {
      if (!state.unitAttentions.includes('BUS_DEVICE_RESET_FUNCTION_OCCURRED')) state.unitAttentions.push('BUS_DEVICE_RESET_FUNCTION_OCCURRED');
    }
  }

  /**
   * I_T nexus loss (SAM-5 6.3.4; a session logged out or its connection dropped): the nexus's SCSI-2
   * reservation is released and its state (unit attentions, held copy results) forgotten.
   */
  nexusLost(initiator: string): void {
    if (this.reservationHolder === initiator) this.reservationHolder = undefined;
    this.#nexuses.delete(initiator);
  }

  /** @internal State of the nexus `initiator`, created on first use. */
  nexus(initiator: string): NexusState {
    let state = this.#nexuses.get(initiator);
    if (state === undefined) {
      state = { unitAttentions: [], copyResults: new Map() };
      // A nexus that first appears while the soft threshold stands crossed is told too.
      if (this.thin && this.array.thresholdReported) state.unitAttentions.push('THIN_PROVISIONING_SOFT_THRESHOLD_REACHED');
      this.#nexuses.set(initiator, state);
    }
    return state;
  }

  /** @internal Queues a unit attention on every nexus (once: a pending identical one is not repeated). */
  raiseUnitAttention(reason: NexusState['unitAttentions'][number]): void {
    for (const state of this.#nexuses.values()) {
      if (!state.unitAttentions.includes(reason)) state.unitAttentions.push(reason);
    }
  }

  /**
   * @internal True when CSCD designator fields name this LUN. Only the NAA designator can: the T10
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
