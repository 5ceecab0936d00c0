/**
 * A trivially correct reference model of the array: the one the project's own model-based test
 * runs the array against (test/model), exported so that anyone can do the same with the array or
 * with their own code. {@link checkTarget} uses it too, with a pool that never runs out.
 *
 * It is deliberately naive and shares no code or structure with `src/array/block-store.ts`:
 *
 * - data: per LUN a `Map` from LBA to that block's bytes (absent = zeros, LBPRZ);
 * - provisioning: per LUN and allocation unit a *slot* holding nothing (unmapped) or an extent
 *   *token* (a number). Two slots holding the same token share one extent (EXTENDED COPY in 'share'
 *   mode); a write always gives the slot a fresh token (copy-on-write);
 * - accounting, recomputed from scratch every time it is asked for: thick reservations plus the
 *   number of distinct tokens referenced by at least one *thin* slot.
 *
 * Each command method returns the {@link Expected} outcome (status, sense key/ASC/ASCQ, Data-In)
 * and applies the command's effect to the model, following the array's documented rules
 * (block-store.ts header, vaai-spec.md 1.3-1.5, 1.10):
 *
 * - a write to a slot needs a new unit when the slot is unmapped or its token is also held by another
 *   thin slot (evaluated slot by slot as the write proceeds); a command that needs more new units than
 *   are free fails with DATA PROTECT 27/07 and changes nothing;
 * - zeroing (WRITE SAME with an all-zero block or NDOB, with or without UNMAP; UNMAP) clears every
 *   slot it covers whole; a partial piece of a mapped slot is a write of zeros, of an unmapped one
 *   nothing at all;
 * - UNMAP never fails for space: a partial piece that would need a new unit while none is free is
 *   left as it is (UNMAP is advisory);
 * - with zero detection (an array option; WRITE only, not COMPARE AND WRITE or WRITE SAME), a WRITE
 *   is taken slot piece by slot piece: an all-zero piece that covers its slot whole clears the slot,
 *   an all-zero piece on an unmapped slot does nothing, any other piece is a write as above (fresh
 *   token); the space a WRITE needs is again counted slot by slot as the write proceeds, so a slot
 *   cleared by an earlier piece no longer holds its token for the pieces after it;
 * - EXTENDED COPY works piece by piece (a piece is the intersection of one source unit and one
 *   destination unit), memmove-like within one LUN, and stops at the first piece the pool cannot
 *   supply, keeping what it did. In 'share' mode a piece that is a whole unit on both sides makes the
 *   destination slot hold the source token; a piece whose source slot is unmapped clears a whole
 *   destination slot (zeroes a partial one); a piece copied onto itself does nothing; any other piece
 *   copies bytes (a write);
 * - READ(6)/WRITE(6), WRITE AND VERIFY and WRITE ATOMIC are READ(16)/WRITE(16) of their range (the
 *   verify after a write compares what was just written); ORWRITE(16) is a WRITE(16) of the OR of
 *   what the range holds and the Data-Out; VERIFY reads the range and compares (BYTCHK 01b the
 *   whole Data-Out, 11b one Data-Out block with each block, 00b nothing: the media never fail),
 *   answering MISCOMPARE 0E/1D/00 with the offset of the first differing byte in INFORMATION;
 * - PRE-FETCH changes nothing and answers GOOD (the array has no cache to fetch into: SBC-4 5.9
 *   then answers GOOD, not CONDITION MET); NUMBER OF LOGICAL BLOCKS 0 reaches the last LBA;
 * - SANITIZE BLOCK ERASE (thin LUNs only) clears every slot of the LUN: it reads zeros and is
 *   wholly deallocated;
 * - persistent reservations: each LUN's `pr` ({@link ReferencePr}) keeps its registrations,
 *   reservation, PRGENERATION and pending unit attentions by I_T nexus index.
 * @module
 */
import { checkOptions, is, type ValueCheck } from '../common/errors.js';
import { ReferencePr } from './reference-pr.js';

/** Geometry of one model LUN. */
export interface ModelLunSpec {
  /** Thin (allocates on write) or thick (reserves its whole size). */
  readonly thin: boolean;
  /** Number of logical blocks. */
  readonly blockCount: number;
}

/** Sense the model predicts (fixed format, key/ASC/ASCQ, and INFORMATION when it is defined). */
export interface ExpectedSense {
  /** SENSE KEY. */
  readonly key: number;
  /** ADDITIONAL SENSE CODE. */
  readonly asc: number;
  /** ADDITIONAL SENSE CODE QUALIFIER. */
  readonly ascq: number;
  /** INFORMATION, when the model defines it (the miscompare offset of COMPARE AND WRITE). */
  readonly information?: number;
}

/** What the model predicts for one command. */
export interface Expected {
  /** GOOD or CHECK CONDITION. */
  readonly status: 0x00 | 0x02;
  /** The sense, with CHECK CONDITION. */
  readonly sense?: ExpectedSense;
  /** Data-In, for READ. */
  readonly data?: Uint8Array;
}

/** One EXTENDED COPY block-to-block segment, by model LUN index. */
export interface ModelSegment {
  /** Source LUN index. */
  readonly src: number;
  /** Destination LUN index. */
  readonly dst: number;
  /** First source LBA. */
  readonly srcLba: number;
  /** First destination LBA. */
  readonly dstLba: number;
  /** Number of blocks. */
  readonly blocks: number;
}

/** One UNMAP block descriptor. */
export interface ModelRange {
  /** First LBA. */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
}

const GOOD: Expected = { status: 0x00 };
const checkCondition = (key: number, asc: number, ascq: number, information?: number): Expected => ({
  status: 0x02,
  sense: information === undefined ? { key, asc, ascq } : { key, asc, ascq, information },
});
/** ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE */
const LBA_OUT_OF_RANGE = checkCondition(0x05, 0x21, 0x00);
/** ILLEGAL REQUEST, INVALID FIELD IN CDB */
const INVALID_FIELD_IN_CDB = checkCondition(0x05, 0x24, 0x00);
/** ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE */
const INVALID_OPCODE = checkCondition(0x05, 0x20, 0x00);
/** DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT */
const OUT_OF_SPACE = checkCondition(0x07, 0x27, 0x07);
/** COPY ABORTED, no additional sense (segment out of range) */
const COPY_ABORTED = checkCondition(0x0a, 0x00, 0x00);

/** One LUN of the model. */
export class ModelLun {
  /** Thin or thick. */
  readonly thin: boolean;
  /** Number of logical blocks. */
  readonly blockCount: number;
  /** LBA -> block bytes; absent blocks read as zeros. */
  readonly blocks = new Map<number, Uint8Array>();
  /** Allocation unit -> extent token; undefined = unmapped. */
  readonly slots: Array<number | undefined>;
  /** Its persistent reservations (see {@link ReferencePr}). */
  pr = new ReferencePr();

  /** @param spec - geometry; @param unitBlocks - blocks per allocation unit */
  constructor(spec: ModelLunSpec, unitBlocks: number) {
    this.thin = spec.thin;
    this.blockCount = spec.blockCount;
    this.slots = new Array<number | undefined>(Math.ceil(spec.blockCount / unitBlocks)).fill(undefined);
  }
}

/** Options of {@link ReferenceArray}. */
export interface ReferenceArrayOptions {
  /** Logical block size in bytes. */
  readonly blockSize: number;
  /** Blocks per allocation unit. */
  readonly unitBlocks: number;
  /** Pool capacity in units. */
  readonly capacityUnits: number;
  /** Share whole units on EXTENDED COPY. */
  readonly share: boolean;
  /** Zero detection on WRITE. @defaultValue false */
  readonly zeroDetect?: boolean;
  /** The LUNs. */
  readonly luns: readonly ModelLunSpec[];
}

/** What {@link ReferenceArray} accepts. */
const REFERENCE_ARRAY_OPTIONS = {
  blockSize: is.integer(1, 65536),
  unitBlocks: is.positiveInteger,
  capacityUnits: is.integer(0, Number.MAX_SAFE_INTEGER),
  share: is.boolean,
  zeroDetect: is.boolean,
  luns: is.array(is.options({ thin: is.boolean, blockCount: is.positiveInteger } satisfies Record<keyof ModelLunSpec, ValueCheck>, ['thin', 'blockCount'])),
} as const satisfies Record<keyof ReferenceArrayOptions, ValueCheck>;

/** The reference array: LUNs, slots, tokens and a pool capacity. */
export class ReferenceArray {
  /** Logical block size in bytes (every LUN). */
  readonly blockSize: number;
  /** Blocks per allocation unit. */
  readonly unitBlocks: number;
  /** EXTENDED COPY shares whole units (the array's 'share' clone mode) instead of copying bytes. */
  readonly share: boolean;
  /** Zero detection on WRITE (see the header). */
  readonly zeroDetect: boolean;
  /** Pool capacity in units. */
  capacityUnits: number;
  /** The LUNs, by index. */
  readonly luns: ModelLun[];
  /** How often each rule fired (coverage of the property, reported by the tests). */
  readonly coverage = new Map<string, number>();
  #nextToken = 1;

  /** @param options - geometry, pool capacity, clone mode, zero detection and LUNs */
  constructor(options: ReferenceArrayOptions) {
    checkOptions(options, REFERENCE_ARRAY_OPTIONS, 'ReferenceArray', ['blockSize', 'unitBlocks', 'capacityUnits', 'share', 'luns']);
    this.blockSize = options.blockSize;
    this.unitBlocks = options.unitBlocks;
    this.capacityUnits = options.capacityUnits;
    this.share = options.share;
    this.zeroDetect = options.zeroDetect ?? false;
    this.luns = options.luns.map((l) => new ModelLun(l, options.unitBlocks));
  }

  #hit(rule: string): void {
    this.coverage.set(rule, (this.coverage.get(rule) ?? 0) + 1);
  }

  // ---- accounting, always recomputed from scratch ------------------------------------------------

  /** Units reserved by thick LUNs (their whole size, rounded up to units). */
  get reservedUnits(): number {
    let n = 0;
    for (const l of this.luns) if (!l.thin) n += l.slots.length;
    return n;
  }

  /** Distinct tokens referenced by at least one thin slot. */
  get allocatedUnits(): number {
    return this.#thinTokens().size;
  }

  /** Reserved plus allocated units. */
  get usedUnits(): number {
    return this.reservedUnits + this.allocatedUnits;
  }

  /** Units still free (0 when overcommitted). */
  get freeUnits(): number {
    return Math.max(0, this.capacityUnits - this.usedUnits);
  }

  #thinTokens(): Set<number> {
    const tokens = new Set<number>();
    for (const l of this.luns) {
      if (!l.thin) continue;
      for (const t of l.slots) if (t !== undefined) tokens.add(t);
    }
    return tokens;
  }

  /** Thin slots (other than `lun`/`slot`) that hold `token`. */
  #otherThinHolders(token: number, lun: ModelLun, slot: number): number {
    let n = 0;
    for (const l of this.luns) {
      if (!l.thin) continue;
      l.slots.forEach((t, s) => {
        if (t === token && !(l === lun && s === slot)) n++;
      });
    }
    return n;
  }

  /** `slot` holds a token that some other slot (thin or thick) holds too. */
  #shared(lun: ModelLun, slot: number): boolean {
    const token = lun.slots[slot];
    return token !== undefined && this.luns.some((l) => l.slots.some((t, s) => t === token && !(l === lun && s === slot)));
  }

  /** New units a write giving `slot` a fresh token needs: unmapped, or its token held by another thin slot. */
  #writeNeed(lun: ModelLun, slot: number): number {
    if (!lun.thin) return 0;
    const t = lun.slots[slot];
    if (t === undefined) return 1;
    return this.#otherThinHolders(t, lun, slot) > 0 ? 1 : 0;
  }

  // ---- geometry ----------------------------------------------------------------------------------

  #slotOf(lba: number): number {
    return Math.floor(lba / this.unitBlocks);
  }

  /** First LBA and block count of `slot` (the last slot of a LUN may be short). */
  #slotRange(lun: ModelLun, slot: number): [first: number, count: number] {
    const first = slot * this.unitBlocks;
    return [first, Math.min(this.unitBlocks, lun.blockCount - first)];
  }

  /** [slot, first LBA, blocks] for each slot piece of [lba, lba+blocks). */
  #pieces(lba: number, blocks: number): Array<[slot: number, lba: number, blocks: number]> {
    const out: Array<[number, number, number]> = [];
    let at = lba;
    while (at < lba + blocks) {
      const slot = this.#slotOf(at);
      const end = Math.min(lba + blocks, (slot + 1) * this.unitBlocks);
      out.push([slot, at, end - at]);
      at = end;
    }
    return out;
  }

  #coversSlot(lun: ModelLun, slot: number, lba: number, blocks: number): boolean {
    const [first, count] = this.#slotRange(lun, slot);
    return lba === first && blocks === count;
  }

  #inRange(lun: ModelLun, lba: number, blocks: number): boolean {
    return lba <= lun.blockCount && lba + blocks <= lun.blockCount;
  }

  // ---- primitive effects -------------------------------------------------------------------------

  #readBlocks(lun: ModelLun, lba: number, blocks: number): Uint8Array {
    const bs = this.blockSize;
    const out = new Uint8Array(blocks * bs);
    for (let i = 0; i < blocks; i++) {
      const b = lun.blocks.get(lba + i);
      if (b !== undefined) out.set(b, i * bs);
    }
    return out;
  }

  /** Writes `data` (whole blocks) at `lba` and gives every touched slot a fresh token. */
  #writeBlocks(lun: ModelLun, lba: number, data: Uint8Array): void {
    const bs = this.blockSize;
    const blocks = data.length / bs;
    for (let i = 0; i < blocks; i++) lun.blocks.set(lba + i, data.slice(i * bs, (i + 1) * bs));
    for (const [slot] of this.#pieces(lba, blocks)) {
      if (this.#shared(lun, slot)) this.#hit('write to a shared slot');
      lun.slots[slot] = this.#nextToken++;
    }
  }

  /** Unmaps `slot`: no token, and its blocks read as zeros. */
  #clearSlot(lun: ModelLun, slot: number): void {
    lun.slots[slot] = undefined;
    const [first, count] = this.#slotRange(lun, slot);
    for (let i = 0; i < count; i++) lun.blocks.delete(first + i);
  }

  /** Zeroing of one slot piece: whole slot -> unmapped; partial mapped -> a write of zeros; partial unmapped -> nothing. */
  #zeroPiece(lun: ModelLun, slot: number, lba: number, blocks: number): void {
    if (this.#coversSlot(lun, slot, lba, blocks)) this.#clearSlot(lun, slot);
    else if (lun.slots[slot] !== undefined) this.#writeBlocks(lun, lba, new Uint8Array(blocks * this.blockSize));
  }

  /** New units a zeroing of [lba, lba+blocks) needs (only partial pieces of mapped slots are written). */
  #zeroNeed(lun: ModelLun, lba: number, blocks: number): number {
    let need = 0;
    for (const [slot, at, n] of this.#pieces(lba, blocks)) {
      if (!this.#coversSlot(lun, slot, at, n) && lun.slots[slot] !== undefined) need += this.#writeNeed(lun, slot);
    }
    return need;
  }

  /**
   * New units a write of [lba, lba+blocks) needs, slot by slot as the write goes: each slot it gives
   * a fresh token stops sharing, so a later slot holding the same old token may find it private.
   */
  #writeNeedRange(lun: ModelLun, lba: number, blocks: number): number {
    const saved = lun.slots.slice();
    let need = 0;
    for (const [slot] of this.#pieces(lba, blocks)) {
      need += this.#writeNeed(lun, slot);
      lun.slots[slot] = -1 - slot; // a token no other slot holds, for the slots after this one
    }
    saved.forEach((t, i) => (lun.slots[i] = t));
    return need;
  }

  // ---- commands ----------------------------------------------------------------------------------

  /** READ(16). */
  read16(lunIndex: number, lba: number, blocks: number): Expected {
    const lun = this.luns[lunIndex]!;
    if (!this.#inRange(lun, lba, blocks)) return LBA_OUT_OF_RANGE;
    if (blocks === 0) return GOOD; // SBC-3: TRANSFER LENGTH 0 transfers nothing
    return { status: 0x00, data: this.#readBlocks(lun, lba, blocks) };
  }

  /**
   * VERIFY of [lba, lba+blocks): BYTCHK 0 checks the range only; 1 compares `data` (blocks x block
   * size bytes) with it, 3 compares `data` (one block) with each block; a difference is MISCOMPARE
   * 0E/1D/00 with INFORMATION = the offset of the first differing byte from the start of the range.
   */
  verify(lunIndex: number, lba: number, blocks: number, bytchk: 0 | 1 | 3, data: Uint8Array | undefined): Expected {
    const lun = this.luns[lunIndex]!;
    if (!this.#inRange(lun, lba, blocks)) return LBA_OUT_OF_RANGE;
    if (blocks === 0 || bytchk === 0) return GOOD;
    const current = this.#readBlocks(lun, lba, blocks);
    for (let i = 0; i < current.length; i++) {
      const want = bytchk === 1 ? data![i] : data![i % this.blockSize];
      if (current[i] !== want) return checkCondition(0x0e, 0x1d, 0x00, i);
    }
    return GOOD;
  }

  /** ORWRITE(16) of `data` (blocks x block size bytes): a WRITE(16) of the OR of the range and `data`. */
  orWrite16(lunIndex: number, lba: number, data: Uint8Array): Expected {
    const lun = this.luns[lunIndex]!;
    const blocks = data.length / this.blockSize;
    if (!this.#inRange(lun, lba, blocks)) return LBA_OUT_OF_RANGE;
    const ored = this.#readBlocks(lun, lba, blocks);
    for (let i = 0; i < ored.length; i++) ored[i] = ored[i]! | data[i]!;
    return this.write16(lunIndex, lba, ored);
  }

  /** PRE-FETCH: only the range is checked (blocks 0 = from `lba` to the last LBA); nothing changes. */
  preFetch(lunIndex: number, lba: number, blocks: number): Expected {
    return this.#inRange(this.luns[lunIndex]!, lba, blocks) ? GOOD : LBA_OUT_OF_RANGE;
  }

  /** SANITIZE BLOCK ERASE: every slot of a thin LUN is cleared (zeros, deallocated); a thick LUN does not offer it. */
  sanitizeBlockErase(lunIndex: number): Expected {
    const lun = this.luns[lunIndex]!;
    if (!lun.thin) return INVALID_OPCODE; // SANITIZE is implemented on thin LUNs only
    lun.slots.forEach((_, slot) => this.#clearSlot(lun, slot));
    return GOOD;
  }

  /** WRITE(16) of `data` (blocks x block size bytes). */
  write16(lunIndex: number, lba: number, data: Uint8Array): Expected {
    const lun = this.luns[lunIndex]!;
    const blocks = data.length / this.blockSize;
    if (!this.#inRange(lun, lba, blocks)) return LBA_OUT_OF_RANGE;
    if (blocks === 0) return GOOD;
    if (this.zeroDetect) return this.#zeroDetectWrite(lun, lba, data);
    if (this.#writeNeedRange(lun, lba, blocks) > this.freeUnits) return this.#outOfSpace('write');
    this.#writeBlocks(lun, lba, data);
    return GOOD;
  }

  /** A WRITE with zero detection (see the header): each slot piece is cleared, skipped or written. */
  #zeroDetectWrite(lun: ModelLun, lba: number, data: Uint8Array): Expected {
    const bs = this.blockSize;
    const plan = this.#pieces(lba, data.length / bs).map(([slot, at, n]) => {
      const bytes = data.subarray((at - lba) * bs, (at - lba + n) * bs);
      const zero = bytes.every((b) => b === 0);
      const action: 'clear' | 'skip' | 'write' =
        zero && this.#coversSlot(lun, slot, at, n) ? 'clear' : zero && lun.slots[slot] === undefined ? 'skip' : 'write';
      return { slot, at, bytes, action };
    });
    const need = this.#zeroDetectNeed(lun, plan, true);
    const free = this.freeUnits;
    if (need > free) return this.#outOfSpace(plan.some((p) => p.action !== 'write') ? 'write with zero pieces' : 'write');
    const needIfClearsStillShared = this.#zeroDetectNeed(lun, plan, false);

    // Coverage of the zero-detection rules.
    if (need !== needIfClearsStillShared) {
      this.#hit('zero detect: a cleared slot unshares a later data piece');
      if (needIfClearsStillShared > free) this.#hit('zero detect: a cleared slot unshares a later data piece, and that makes it fit');
    }
    if (this.#writeNeedRange(lun, lba, data.length / bs) > free) this.#hit('zero detect: fits only thanks to its zero pieces');
    if (plan.some((p) => p.action === 'write') && plan.some((p) => p.action !== 'write')) this.#hit('zero detect: data and zero pieces in one write');
    for (const p of plan) {
      const mapped = lun.slots[p.slot] !== undefined;
      if (p.action === 'clear') {
        if (!mapped) this.#hit('zero detect: whole zero piece, unmapped slot (nothing)');
        else if (this.#shared(lun, p.slot)) this.#hit('zero detect: whole zero piece clears a shared slot');
        else this.#hit(lun.thin ? 'zero detect: whole zero piece clears a thin slot (frees a unit)' : 'zero detect: whole zero piece clears a thick slot');
      } else if (p.action === 'skip') this.#hit('zero detect: partial zero piece, unmapped slot (nothing)');
      else if (p.bytes.every((b) => b === 0)) this.#hit('zero detect: partial zero piece over a mapped slot (written)');
    }

    for (const p of plan) {
      if (p.action === 'clear') this.#clearSlot(lun, p.slot);
      else if (p.action === 'write') this.#writeBlocks(lun, p.at, p.bytes);
    }
    return GOOD;
  }

  /**
   * New units a zero-detecting WRITE needs, slot by slot as it goes: written slots get a token no
   * other slot holds; cleared slots hold nothing (with `clearsUnshare`; without, they are counted as
   * still holding their token, only to see whether the clearing changed anything).
   */
  #zeroDetectNeed(lun: ModelLun, plan: ReadonlyArray<{ slot: number; action: 'clear' | 'skip' | 'write' }>, clearsUnshare: boolean): number {
    const saved = lun.slots.slice();
    let need = 0;
    for (const { slot, action } of plan) {
      if (action === 'clear' && clearsUnshare) lun.slots[slot] = undefined;
      if (action !== 'write') continue;
      need += this.#writeNeed(lun, slot);
      lun.slots[slot] = -1 - slot;
    }
    saved.forEach((t, i) => (lun.slots[i] = t));
    return need;
  }

  #outOfSpace(what: string): Expected {
    this.#hit(`out of space: ${what}`);
    return OUT_OF_SPACE;
  }

  /** WRITE SAME(16): `pattern` is the one Data-Out block, or undefined with NDOB (zeros). */
  writeSame16(lunIndex: number, lba: number, blocks: number, unmap: boolean, pattern: Uint8Array | undefined): Expected {
    const lun = this.luns[lunIndex]!;
    if (unmap && !lun.thin) return INVALID_FIELD_IN_CDB; // LBPWS = 0 on a fully provisioned LUN
    if (!this.#inRange(lun, lba, blocks)) return LBA_OUT_OF_RANGE;
    if (blocks === 0) blocks = lun.blockCount - lba; // WSNZ = 0: to the last LBA
    // UNMAP = 1 unmaps whatever the block holds (as LIO does and libiscsi checks); so does a zero pattern.
    const zero = unmap || pattern === undefined || pattern.every((b) => b === 0);
    if (zero) {
      if (this.#zeroNeed(lun, lba, blocks) > this.freeUnits) return this.#outOfSpace('partial zeroing');
      for (const [slot, at, n] of this.#pieces(lba, blocks)) this.#zeroPiece(lun, slot, at, n);
      return GOOD;
    }
    if (this.#writeNeedRange(lun, lba, blocks) > this.freeUnits) return this.#outOfSpace('write same');
    const data = new Uint8Array(blocks * this.blockSize);
    for (let i = 0; i < blocks; i++) data.set(pattern, i * this.blockSize);
    this.#writeBlocks(lun, lba, data);
    return GOOD;
  }

  /** UNMAP with the given block descriptors. */
  unmap(lunIndex: number, ranges: readonly ModelRange[]): Expected {
    const lun = this.luns[lunIndex]!;
    if (!lun.thin) return INVALID_OPCODE; // UNMAP is implemented on thin LUNs only
    if (ranges.some((r) => !this.#inRange(lun, r.lba, r.blocks))) return LBA_OUT_OF_RANGE;
    for (const r of ranges) {
      for (const [slot, at, n] of this.#pieces(r.lba, r.blocks)) {
        const partialMapped = !this.#coversSlot(lun, slot, at, n) && lun.slots[slot] !== undefined;
        // Advisory: a partial piece that would need a unit the pool does not have stays as it is.
        if (partialMapped && this.#writeNeed(lun, slot) > this.freeUnits) {
          this.#hit('unmap: partial piece kept for lack of space');
          continue;
        }
        this.#zeroPiece(lun, slot, at, n);
      }
    }
    return GOOD;
  }

  /** COMPARE AND WRITE: `verify` and `write` are each blocks x block size bytes. */
  compareAndWrite(lunIndex: number, lba: number, verify: Uint8Array, write: Uint8Array): Expected {
    const lun = this.luns[lunIndex]!;
    const blocks = verify.length / this.blockSize;
    if (!this.#inRange(lun, lba, blocks)) return LBA_OUT_OF_RANGE;
    if (blocks === 0) return GOOD; // SBC-4 5.3
    const current = this.#readBlocks(lun, lba, blocks);
    for (let i = 0; i < current.length; i++) {
      if (current[i] !== verify[i]) return checkCondition(0x0e, 0x1d, 0x00, i); // INFORMATION = offset in Data-Out
    }
    if (this.#writeNeedRange(lun, lba, blocks) > this.freeUnits) return this.#outOfSpace('compare and write');
    if (this.zeroDetect && this.#pieces(lba, blocks).some(([slot, at, n]) => this.#coversSlot(lun, slot, at, n) && write.subarray((at - lba) * this.blockSize, (at - lba + n) * this.blockSize).every((b) => b === 0))) {
      this.#hit('zero detect: COMPARE AND WRITE of a whole zero unit is a plain write');
    }
    this.#writeBlocks(lun, lba, write);
    return GOOD;
  }

  /** EXTENDED COPY (LID1) with block-to-block segments between model LUNs. */
  extendedCopy(segments: readonly ModelSegment[]): Expected {
    // Every segment is validated before any data moves.
    for (const s of segments) {
      if (!this.#inRange(this.luns[s.src]!, s.srcLba, s.blocks) || !this.#inRange(this.luns[s.dst]!, s.dstLba, s.blocks)) {
        return COPY_ABORTED;
      }
    }
    for (const s of segments) {
      if (s.blocks === 0) continue; // NUMBER OF BLOCKS 0: nothing to copy
      const src = this.luns[s.src]!;
      const dst = this.luns[s.dst]!;
      // Split [0, blocks) at every unit boundary of either side: each piece lies in one source slot
      // and one destination slot.
      const cuts = [0];
      for (let k = 1; k < s.blocks; k++) {
        if ((s.srcLba + k) % this.unitBlocks === 0 || (s.dstLba + k) % this.unitBlocks === 0) cuts.push(k);
      }
      cuts.push(s.blocks);
      const pieces: Array<[number, number]> = [];
      for (let i = 0; i + 1 < cuts.length; i++) pieces.push([cuts[i]!, cuts[i + 1]! - cuts[i]!]);
      // memmove: when the ranges overlap within one LUN and the destination lies above the source,
      // the pieces are taken from the end.
      if (src === dst && s.dstLba > s.srcLba && s.dstLba < s.srcLba + s.blocks) {
        pieces.reverse();
        this.#hit('xcopy: overlapping, backward');
      } else if (src === dst && s.dstLba < s.srcLba && s.dstLba + s.blocks > s.srcLba) this.#hit('xcopy: overlapping, forward');
      let done = 0;
      for (const [k, n] of pieces) {
        if (!this.#copyPiece(src, s.srcLba + k, dst, s.dstLba + k, n)) {
          return this.#outOfSpace(done > 0 || s !== segments[0] ? 'xcopy after progress' : 'xcopy at first piece');
        }
        done++;
      }
    }
    return GOOD;
  }

  /** One copy piece; false (and nothing changed) when the pool cannot supply it. */
  #copyPiece(src: ModelLun, srcLba: number, dst: ModelLun, dstLba: number, n: number): boolean {
    const srcSlot = this.#slotOf(srcLba);
    const dstSlot = this.#slotOf(dstLba);
    const srcToken = src.slots[srcSlot];
    const wholeDst = this.#coversSlot(dst, dstSlot, dstLba, n);
    if (srcToken === undefined) {
      // An unmapped source reads as zeros: zeroing of the destination piece.
      const need = !wholeDst && dst.slots[dstSlot] !== undefined ? this.#writeNeed(dst, dstSlot) : 0;
      if (need > this.freeUnits) return false;
      this.#hit(wholeDst ? 'xcopy piece: unmapped source clears a slot' : 'xcopy piece: unmapped source, partial');
      this.#zeroPiece(dst, dstSlot, dstLba, n);
      return true;
    }
    if (this.share && wholeDst && this.#coversSlot(src, srcSlot, srcLba, n)) {
      // Share the source extent. What the pool must supply: the growth of the thin token count.
      const before = this.allocatedUnits;
      const free = this.freeUnits;
      const old = dst.slots[dstSlot];
      dst.slots[dstSlot] = srcToken;
      const growth = this.allocatedUnits - before;
      if (growth > free) {
        dst.slots[dstSlot] = old;
        return false;
      }
      this.#hit(old === srcToken ? 'xcopy piece: share, already shared' : 'xcopy piece: share');
      const bytes = this.#readBlocks(src, srcLba, n);
      for (let i = 0; i < n; i++) dst.blocks.set(dstLba + i, bytes.slice(i * this.blockSize, (i + 1) * this.blockSize));
      return true;
    }
    // A piece copied onto itself (the same token at the same offset) changes nothing and needs no space.
    if (dst.slots[dstSlot] === srcToken && srcLba % this.unitBlocks === dstLba % this.unitBlocks) {
      this.#hit('xcopy piece: onto itself');
      return true;
    }
    if (this.#writeNeed(dst, dstSlot) > this.freeUnits) return false;
    this.#hit(this.#writeNeed(dst, dstSlot) > 0 && dst.slots[dstSlot] !== undefined ? 'xcopy piece: copy into a shared slot' : 'xcopy piece: copy');
    this.#writeBlocks(dst, dstLba, this.#readBlocks(src, srcLba, n));
    return true;
  }

  /** An independent copy of the model, in the same state (to try alternatives, such as orders of racing commands). */
  clone(): ReferenceArray {
    const copy = new ReferenceArray({
      blockSize: this.blockSize,
      unitBlocks: this.unitBlocks,
      capacityUnits: this.capacityUnits,
      share: this.share,
      zeroDetect: this.zeroDetect,
      luns: this.luns.map((l) => ({ thin: l.thin, blockCount: l.blockCount })),
    });
    this.luns.forEach((lun, i) => {
      const to = copy.luns[i]!;
      // Block buffers are replaced on every write, never changed in place: sharing them is safe.
      for (const [lba, bytes] of lun.blocks) to.blocks.set(lba, bytes);
      lun.slots.forEach((t, slot) => (to.slots[slot] = t));
      to.pr = lun.pr.clone();
    });
    copy.#nextToken = this.#nextToken;
    return copy;
  }

  /** Grows the pool by whole units of `bytes`. */
  growPool(bytes: number, unitBytes: number): void {
    this.capacityUnits += Math.floor(bytes / unitBytes);
  }

  // ---- observation -------------------------------------------------------------------------------

  /** The whole contents of LUN `lunIndex`. */
  contents(lunIndex: number): Uint8Array {
    const lun = this.luns[lunIndex]!;
    return this.#readBlocks(lun, 0, lun.blockCount);
  }

  /** Per slot of LUN `lunIndex`: mapped or not. */
  mapped(lunIndex: number): boolean[] {
    return this.luns[lunIndex]!.slots.map((t) => t !== undefined);
  }

  /** Self-check of the model: an unmapped slot holds no non-zero byte; slots sharing a token hold equal bytes. */
  selfCheck(): void {
    const byToken = new Map<number, Uint8Array>();
    this.luns.forEach((lun) => {
      lun.slots.forEach((t, slot) => {
        const [first, count] = this.#slotRange(lun, slot);
        const bytes = this.#readBlocks(lun, first, count);
        if (t === undefined) {
          if (bytes.some((b) => b !== 0)) throw new Error('model: unmapped slot holds data');
          return;
        }
        const seen = byToken.get(t);
        if (seen === undefined) byToken.set(t, bytes);
        else if (seen.length !== bytes.length || seen.some((b, i) => b !== bytes[i])) throw new Error('model: shared token with different bytes');
      });
    });
  }
}
