/**
 * Volume management: one thin pool, its volumes (created, deleted, named), the pool's events and
 * soft threshold, and the clone mode that decides whether a copy shares extents or copies bytes.
 * The SCSI target (`scsi/storage-array.ts`) extends it with logical units, ports and fault rules.
 * @module
 */
import { NAA_COMPANY_ID } from '../spec/identity.js';
import { InsufficientSpaceError, InvalidArgumentError, checkInteger, checkOptionKeys } from '../common/errors.js';
import { TypedEmitter, type ArrayEvents } from './events.js';
import { DEFAULT_BLOCK_LIMITS, type BlockLimits, type LunOptions, type Volume, type VolumeInit } from './volume.js';
import { DEFAULT_BUFFER_CACHE_BYTES, ThinPool, type PoolStatus } from './thin-pool.js';

/** How EXTENDED COPY moves data inside the array. */
export type CloneMode = 'share' | 'copy';

/** Options of {@link VolumeManager} (and so of `StorageArray`). */
export interface StorageArrayOptions {
  /** Pool capacity in bytes (rounded down to whole allocation units). Thin LUNs may together exceed it. */
  readonly capacityBytes: number;
  /**
   * Soft threshold in percent of capacity (1..100). Crossing it gives every nexus of every thin LUN
   * UNIT ATTENTION 06/38/07 once. No threshold when left out.
   */
  readonly softThresholdPercent?: number;
  /** Allocation unit in bytes (a power of two, 4 KiB..1 GiB): the OPTIMAL UNMAP GRANULARITY of every LUN. @defaultValue 1 MiB */
  readonly allocationUnitBytes?: number;
  /**
   * `share`: EXTENDED COPY makes whole allocation units shared, copy-on-write extents (metadata
   * clone); `copy`: it copies every byte. Partial units are always copied. @defaultValue 'share'
   */
  readonly cloneMode?: CloneMode;
  /** 32-bit identifier placed in every LUN's NAA designator and serial number. @defaultValue random */
  readonly arrayId?: number;
  /**
   * Zero detection, as many arrays do inline, per allocation unit: the all-zero pieces of a WRITE
   * deallocate the units they cover whole and allocate nothing where the unit is unmapped, instead
   * of storing zeros. @defaultValue false
   */
  readonly zeroDetect?: boolean;
  /**
   * Bytes of freed allocation-unit buffers kept for reuse. A larger cache makes repeated large
   * writes and copies faster (no fresh memory to zero and fault in) at the cost of holding that
   * memory after data is unmapped. @defaultValue 256 MiB
   */
  readonly bufferCacheBytes?: number;
}

const ARRAY_OPTION_KEYS = ['capacityBytes', 'softThresholdPercent', 'allocationUnitBytes', 'cloneMode', 'arrayId', 'zeroDetect', 'bufferCacheBytes'];
const LUN_OPTION_KEYS = ['sizeBytes', 'blockSize', 'physicalBlockSize', 'thin', 'lunId', 'initiators', 'limits'];
const LIMIT_KEYS = Object.keys(DEFAULT_BLOCK_LIMITS);
const MAX_LUN_ID = 16383;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/**
 * The volumes of one thin pool. Abstract: the SCSI layer's `StorageArray` makes each volume a
 * logical unit (`newVolume`) and answers the soft threshold with unit attentions.
 */
export abstract class VolumeManager<V extends Volume> extends TypedEmitter<ArrayEvents> {
  #cloneMode: CloneMode;
  /** The 32-bit array identifier in designators and serial numbers. */
  readonly arrayId: number;
  /** Whether all-zero WRITEs are treated as zeroing. */
  readonly zeroDetect: boolean;
  /** @internal */
  readonly pool: ThinPool;
  /** @internal True between the soft threshold's report and the fall back below it. */
  thresholdReported = false;
  readonly #luns = new Map<number, V>();
  #sorted: readonly V[] | undefined;
  #lunSerial = 0;

  /** Creates the pool; throws {@link InvalidArgumentError} for invalid options. */
  constructor(options: StorageArrayOptions) {
    super();
    checkOptionKeys(options, ARRAY_OPTION_KEYS, 'StorageArray');
    const unitBytes = options.allocationUnitBytes ?? 1024 * 1024;
    if (!isPowerOfTwo(unitBytes) || unitBytes < 4096 || unitBytes > 2 ** 30) {
      throw new InvalidArgumentError(`StorageArray: allocationUnitBytes must be a power of two from 4096 to 2^30, got ${String(unitBytes)}`);
    }
    const capacity = checkInteger(options.capacityBytes, 0, Number.MAX_SAFE_INTEGER, 'StorageArray: capacityBytes');
    const threshold = options.softThresholdPercent;
    if (threshold !== undefined && !(typeof threshold === 'number' && threshold > 0 && threshold <= 100)) {
      throw new InvalidArgumentError(`StorageArray: softThresholdPercent must be in (0, 100], got ${String(threshold)}`);
    }
    const mode = options.cloneMode ?? 'share';
    if (mode !== 'share' && mode !== 'copy') throw new InvalidArgumentError(`StorageArray: cloneMode must be 'share' or 'copy', got ${String(mode)}`);
    this.#cloneMode = mode;
    if (options.zeroDetect !== undefined && typeof options.zeroDetect !== 'boolean') throw new InvalidArgumentError('StorageArray: zeroDetect must be a boolean');
    this.zeroDetect = options.zeroDetect ?? false;
    this.arrayId =
      options.arrayId === undefined
        ? crypto.getRandomValues(new Uint32Array(1))[0]!
        : checkInteger(options.arrayId, 0, 0xffffffff, 'StorageArray: arrayId');
    const cache = checkInteger(options.bufferCacheBytes ?? DEFAULT_BUFFER_CACHE_BYTES, 0, Number.MAX_SAFE_INTEGER, 'StorageArray: bufferCacheBytes');
    this.pool = new ThinPool(Math.floor(capacity / unitBytes), unitBytes, threshold, cache);
  }

  /** How EXTENDED COPY moves data; may be changed at any time (it applies to the next copy). */
  get cloneMode(): CloneMode {
    return this.#cloneMode;
  }

  /** Changes how the next EXTENDED COPY moves data. */
  set cloneMode(mode: CloneMode) {
    if (mode !== 'share' && mode !== 'copy') throw new InvalidArgumentError(`StorageArray: cloneMode must be 'share' or 'copy', got ${String(mode)}`);
    this.#cloneMode = mode;
  }

  /** The pool's accounting, now. */
  get poolStatus(): PoolStatus {
    return this.pool.status();
  }

  /** Every LUN, by ascending number. */
  get luns(): readonly V[] {
    // Kept sorted between creations and deletions: EXTENDED COPY resolves CSCDs through this list.
    this.#sorted ??= Object.freeze([...this.#luns.values()].sort((a, b) => a.id - b.id));
    return this.#sorted;
  }

  /** The LUN numbered `id`, if any. */
  getLun(id: number): V | undefined {
    return this.#luns.get(id);
  }

  /**
   * Creates a LUN. Thin LUNs cost nothing until written, whatever their size; thick LUNs reserve
   * their whole size in the pool now and throw {@link InsufficientSpaceError} when it does not fit.
   */
  createLun(options: LunOptions): V {
    checkOptionKeys(options, LUN_OPTION_KEYS, 'createLun');
    const blockSize = options.blockSize ?? 512;
    if (![512, 1024, 2048, 4096].includes(blockSize) || blockSize > this.pool.unitBytes) {
      throw new InvalidArgumentError(`createLun: blockSize must be 512, 1024, 2048 or 4096 (and at most the allocation unit), got ${String(blockSize)}`);
    }
    const physicalBlockSize = this.#physicalBlockSize(options.physicalBlockSize, blockSize);
    const sizeBytes = checkInteger(options.sizeBytes, blockSize, Number.MAX_SAFE_INTEGER, 'createLun: sizeBytes');
    if (sizeBytes % blockSize !== 0) throw new InvalidArgumentError(`createLun: sizeBytes (${sizeBytes}) must be a multiple of blockSize (${blockSize})`);
    const thin = options.thin ?? true;
    if (typeof thin !== 'boolean') throw new InvalidArgumentError('createLun: thin must be a boolean');
    let id = options.lunId;
    if (id === undefined) {
      id = 0;
      while (this.#luns.has(id)) id++;
    }
    checkInteger(id, 0, MAX_LUN_ID, 'createLun: lunId');
    if (this.#luns.has(id)) throw new InvalidArgumentError(`createLun: LUN ${id} already exists`);
    const initiators = options.initiators;
    if (initiators !== undefined && (!Array.isArray(initiators) || !initiators.every((i) => typeof i === 'string'))) {
      throw new InvalidArgumentError('createLun: initiators must be an array of strings');
    }
    const limits = this.#limits(options.limits);
    // One command must be able to cover a whole physical block (libiscsi's Inquiry.BlockLimits
    // asks MAXIMUM UNMAP LBA COUNT >= 2^exponent of every device server).
    const perPhysical = physicalBlockSize / blockSize;
    for (const key of ['maximumTransferLength', 'maximumUnmapLbaCount'] as const) {
      if (limits[key] < perPhysical) {
        throw new InvalidArgumentError(`createLun: limits.${key} (${limits[key]}) must be at least one physical block (${perPhysical} logical blocks)`);
      }
    }
    const units = Math.ceil(sizeBytes / this.pool.unitBytes);
    if (!thin) {
      if (units > this.pool.freeUnits) {
        throw new InsufficientSpaceError(`createLun: a thick LUN of ${sizeBytes} bytes needs ${units} units, the pool has ${this.pool.freeUnits} free`);
      }
      this.pool.reservedUnits += units;
      this.pool.dirty = true;
    }
    const serial = this.#lunSerial++;
    const naa = new Uint8Array(16);
    // NAA 6h (IEEE Registered Extended): NAA (4 bits) | company id (24) | vendor specific id (36) | extension (64).
    naa[0] = 0x60 | (NAA_COMPANY_ID >>> 20);
    naa[1] = (NAA_COMPANY_ID >>> 12) & 0xff;
    naa[2] = (NAA_COMPANY_ID >>> 4) & 0xff;
    naa[3] = ((NAA_COMPANY_ID & 0x0f) << 4) | (this.arrayId >>> 28);
    naa[4] = (this.arrayId >>> 20) & 0xff;
    naa[5] = (this.arrayId >>> 12) & 0xff;
    naa[6] = (this.arrayId >>> 4) & 0xff;
    naa[7] = (this.arrayId & 0x0f) << 4;
    new DataView(naa.buffer).setUint32(12, serial);
    const lun = this.newVolume({
      id,
      sizeBytes,
      blockSize,
      physicalBlockSize,
      thin,
      serialNumber: `VSIM${this.arrayId.toString(16).padStart(8, '0')}${serial.toString(16).padStart(4, '0')}`,
      naaDesignator: naa,
      initiators,
      limits,
    });
    this.#luns.set(id, lun);
    this.#sorted = undefined;
    this.settle();
    return lun;
  }

  /** Deletes a LUN, returning its allocation (or reservation) to the pool. */
  deleteLun(lun: V | number): void {
    const id = typeof lun === 'number' ? lun : lun.id;
    const found = this.#luns.get(id);
    if (found === undefined || (typeof lun !== 'number' && found !== lun)) throw new InvalidArgumentError(`deleteLun: no LUN ${id} in this array`);
    found.store.clear();
    if (!found.thin) this.pool.reservedUnits -= Math.ceil(found.sizeBytes / this.pool.unitBytes);
    this.pool.dirty = true;
    this.#luns.delete(id);
    this.#sorted = undefined;
    this.settle();
  }

  /** Grows the pool by `additionalBytes` (rounded down to whole units); writes that failed for space can succeed again. */
  growPool(additionalBytes: number): void {
    checkInteger(additionalBytes, 0, Number.MAX_SAFE_INTEGER, 'growPool: additionalBytes');
    this.pool.capacityUnits += Math.floor(additionalBytes / this.pool.unitBytes);
    this.pool.dirty = true;
    this.settle();
  }

  /** @internal Makes the volume for `init` (the SCSI layer makes a logical unit). */
  protected abstract newVolume(init: VolumeInit): V;

  /** @internal Called once when pool use crosses the soft threshold upward, before `thresholdCrossed` is emitted. */
  protected abstract onThresholdCrossed(): void;

  /** @internal After pool use changed: report freed space and the soft threshold. */
  settle(): void {
    const pool = this.pool;
    pool.dirty = false;
    const used = pool.usedUnits;
    if (used < pool.usedAtSettle && this.hasListeners('spaceFreed')) {
      this.emit('spaceFreed', { freedBytes: (pool.usedAtSettle - used) * pool.unitBytes, usedBytes: used * pool.unitBytes });
    }
    pool.usedAtSettle = used;
    if (pool.softThresholdPercent === undefined) return;
    if (pool.aboveThreshold()) {
      if (pool.thresholdArmed) {
        pool.thresholdArmed = false;
        this.thresholdReported = true;
        this.onThresholdCrossed();
        if (this.hasListeners('thresholdCrossed')) {
          this.emit('thresholdCrossed', {
            usedBytes: used * pool.unitBytes,
            capacityBytes: pool.capacityUnits * pool.unitBytes,
            thresholdPercent: pool.softThresholdPercent,
          });
        }
      }
    } else if (!pool.thresholdArmed) {
      // Re-armed: the next crossing is reported again.
      pool.thresholdArmed = true;
      this.thresholdReported = false;
    }
  }

  /**
   * The physical block size of a new LUN: `blockSize` times 2^0..2^15 (READ CAPACITY(16)'s 4-bit
   * exponent), and at most the allocation unit, so that an allocation unit (OPTIMAL UNMAP
   * GRANULARITY) holds whole physical blocks.
   */
  #physicalBlockSize(asked: number | undefined, blockSize: number): number {
    if (asked === undefined) return blockSize;
    const ratio = typeof asked === 'number' ? asked / blockSize : NaN;
    if (!isPowerOfTwo(ratio) || ratio > 2 ** 15 || asked > this.pool.unitBytes) {
      throw new InvalidArgumentError(
        `createLun: physicalBlockSize must be blockSize (${blockSize}) times a power of two from 1 to 2^15, at most the allocation unit (${this.pool.unitBytes}), got ${String(asked)}`,
      );
    }
    return asked;
  }

  #limits(overrides: Partial<BlockLimits> | undefined): BlockLimits {
    if (overrides === undefined) return DEFAULT_BLOCK_LIMITS;
    checkOptionKeys(overrides, LIMIT_KEYS, 'createLun: limits');
    const l = { ...DEFAULT_BLOCK_LIMITS, ...overrides };
    checkInteger(l.maximumCompareAndWriteLength, 1, 255, 'limits.maximumCompareAndWriteLength');
    checkInteger(l.maximumTransferLength, 1, 0xffffffff, 'limits.maximumTransferLength');
    checkInteger(l.maximumUnmapLbaCount, 1, 0xffffffff, 'limits.maximumUnmapLbaCount');
    checkInteger(l.maximumUnmapBlockDescriptorCount, 1, 0xffffffff, 'limits.maximumUnmapBlockDescriptorCount');
    checkInteger(l.maximumWriteSameLength, 1, Number.MAX_SAFE_INTEGER, 'limits.maximumWriteSameLength');
    return Object.freeze(l);
  }
}
