/**
 * The model of the LUN's window: the reference array, the SCSI-2 reservation holder and the blocks
 * whose content is unknown, and its prediction of each command's answer.
 * @module
 */
import { decodePrReadFullStatus, decodePrReadKeys, decodePrReadReservation, decodePrReportCapabilities } from '../../codec/pr-decoder.js';
import { decodeLbaStatus, decodeReadCapacity16 } from '../../codec/sbc-data-decoder.js';
import type { BlockRange, Defect, EncodedCommand, KitCommand, PersistentReserveInCommand } from '../commands.js';
import { ReferenceArray } from '../reference-array.js';
import { PR_TYPE_NAMES, type AccessClass, type PrAnswer, type ReferencePr } from '../reference-pr.js';
import { refusal, unitAttention2A, type Prediction } from './predict.js';
import type { ScsiResult } from '../../scsi/outcome.js';

/** Commands that touch no medium: targets differ in how a SCSI-2 reservation of another nexus treats them. */
const NO_MEDIUM: ReadonlySet<KitCommand['op']> = new Set(['TEST UNIT READY', 'READ CAPACITY(16)', 'RECEIVE COPY RESULTS', 'GET LBA STATUS', 'SYNCHRONIZE CACHE(16)', 'PRE-FETCH(10)', 'PRE-FETCH(16)']);

/**
 * What each kit command needs of the medium under a persistent reservation (SPC-4 5.13.1, SBC-4
 * 4.17): INQUIRY, READ CAPACITY and the PR commands are allowed, reads and the commands that read
 * (VERIFY, PRE-FETCH, GET LBA STATUS, RECEIVE COPY RESULTS) are `read`, the rest `write` (EXTENDED
 * COPY reads and writes the LUN under test).
 */
export function accessClass(op: KitCommand['op']): AccessClass {
  switch (op) {
    case 'INQUIRY':
    case 'TEST UNIT READY':
    case 'READ CAPACITY(16)':
    case 'PERSISTENT RESERVE IN':
    case 'PERSISTENT RESERVE OUT':
    case 'RESERVE(6)':
    case 'RELEASE(6)':
      return 'allowed';
    case 'READ(6)':
    case 'READ(10)':
    case 'READ(16)':
    case 'VERIFY(10)':
    case 'VERIFY(16)':
    case 'PRE-FETCH(10)':
    case 'PRE-FETCH(16)':
    case 'GET LBA STATUS':
    case 'RECEIVE COPY RESULTS':
      return 'read';
    default:
      return 'write';
  }
}

/** A prediction from the PR model's answer. */
function fromPr(a: PrAnswer): Prediction {
  if (a.status === 'either') return { kind: 'oneOf', options: a.answers.map(fromPr) };
  if (a.status === 0x18) return { kind: 'conflict' };
  if (a.status === 0x00) return { kind: 'exact', expected: { status: 0 } };
  return { kind: 'exact', expected: { status: 0x02, sense: { key: a.key, asc: a.asc, ascq: a.ascq } } };
}

/** The sorted keys as text. */
const keysText = (keys: readonly bigint[]): string => `[${keys.map((k) => `${k.toString(16)}h`).join(', ')}]`;

/** What a PERSISTENT RESERVE IN answer must say, per the PR model (the order of keys is the target's: SPC-4 leaves it open). */
function prIn(command: PersistentReserveInCommand, pr: ReferencePr): Prediction {
  const generation = pr.generationText();
  /** Whether the generation reported is one the model allows (which it then takes). */
  const sameGeneration = (g: number) => pr.observed(g);
  const keys = pr.registrations.map((r) => r.key).sort();
  const res = pr.reservation;
  switch (command.action) {
    case 'READ KEYS':
      return {
        kind: 'shape',
        text: `GOOD, PRGENERATION ${generation}, keys ${keysText(keys)}`,
        test: (d) => {
          const k = decodePrReadKeys(d);
          if (!k.ok) return k.message;
          const got = [...k.value.keys].sort();
          return keysText(got) !== keysText(keys) || !sameGeneration(k.value.generation) ? `PRGENERATION ${k.value.generation}, keys ${keysText(got)}` : undefined;
        },
      };
    case 'READ RESERVATION': {
      const want = res === undefined ? 'no reservation' : `key ${pr.holderKey()!.toString(16)}h type ${PR_TYPE_NAMES[res.type]}`;
      return {
        kind: 'shape',
        text: `GOOD, PRGENERATION ${generation}, ${want}`,
        test: (d) => {
          const r = decodePrReadReservation(d);
          if (!r.ok) return r.message;
          const v = r.value.reservation;
          const got = v === undefined ? 'no reservation' : `key ${v.key.toString(16)}h type ${PR_TYPE_NAMES[v.type as keyof typeof PR_TYPE_NAMES] ?? v.type}${v.scope === 0 ? '' : ` scope ${v.scope}`}`;
          return got !== want || !sameGeneration(r.value.generation) ? `PRGENERATION ${r.value.generation}, ${got}` : undefined;
        },
      };
    }
    case 'REPORT CAPABILITIES':
      return {
        kind: 'shape',
        text: `GOOD, REPORT CAPABILITIES${res === undefined ? '' : ` (with TMV, a type mask that has ${PR_TYPE_NAMES[res.type]})`}`,
        test: (d) => {
          const c = decodePrReportCapabilities(d);
          if (!c.ok) return c.message;
          return res !== undefined && c.value.tmv && !c.value.types.includes(res.type) ? `type mask ${c.value.typeMask.toString(16)}h without ${PR_TYPE_NAMES[res.type]}, which is held` : undefined;
        },
      };
    case 'READ FULL STATUS': {
      const rows = (list: ReadonlyArray<{ key: bigint; holder: boolean; type: number }>) => list.map((r) => `${r.key.toString(16)}h${r.holder ? ` holder ${PR_TYPE_NAMES[r.type as keyof typeof PR_TYPE_NAMES] ?? r.type}` : ''}`).sort().join(', ');
      const want = rows(pr.registrations.map((r) => ({ key: r.key, holder: pr.holds(r.nexus), type: res?.type ?? 0 })));
      return {
        kind: 'shape',
        text: `GOOD, PRGENERATION ${generation}, registrations [${want}]`,
        test: (d) => {
          const f = decodePrReadFullStatus(d);
          if (!f.ok) return f.message;
          const got = rows(f.value.descriptors.map((x) => ({ key: x.key, holder: x.reservationHolder, type: x.type })));
          return got !== want || !sameGeneration(f.value.generation) ? `PRGENERATION ${f.value.generation}, registrations [${got}]` : undefined;
        },
      };
    }
  }
}

/**
 * The model of the LUN's window: the reference array (one thin LUN the size of the window, a pool
 * that never runs out), the SCSI-2 reservation holder, and blocks whose content is unknown
 * (unmapped where the LUN does not promise zeros).
 */
export class KitModel {
  /** The reference array holding the window's data (model LBA 0 is the window's first block). */
  ref: ReferenceArray;
  /** Nexus index holding a RESERVE(6), if any. */
  holder: number | undefined;
  /** Model LBAs whose content is unknown (unmapped with LBPRZ = 0). */
  readonly unknown: Set<number>;

  /**
   * @param first - the window's first LBA on the LUN
   * @param blocks - the window's length in blocks (it ends at the LUN's last LBA)
   * @param blockSize - logical block size
   * @param lbprz - unmapped blocks read zero
   * @param from - a model to copy the state of
   */
  constructor(
    /** The window's first LBA. */
    readonly first: number,
    /** The window's length in blocks. */
    readonly blocks: number,
    /** Logical block size. */
    readonly blockSize: number,
    /** LBPRZ. */
    readonly lbprz: boolean,
    from?: KitModel,
  ) {
    this.ref = from?.ref.clone() ?? new ReferenceArray({ blockSize, unitBlocks: 1, capacityUnits: Number.MAX_SAFE_INTEGER, share: false, luns: [{ thin: true, blockCount: blocks }] });
    this.holder = from?.holder;
    this.unknown = new Set(from?.unknown);
  }

  /** The LUN's persistent reservations (in the reference array, so cloned with it). */
  get pr(): ReferencePr {
    return this.ref.luns[0]!.pr;
  }

  /** Whether `nexus` may read the window now: no unit attention pending, no reservation in the way. */
  mayRead(nexus: number): boolean {
    return (this.holder === undefined || this.holder === nexus) && this.pr.pendingFor(nexus).size === 0 && !this.pr.conflicts(nexus, 'read');
  }

  /** The first of `nexusCount` nexuses that may read the window (-1: none). */
  firstReader(nexusCount: number): number {
    for (let n = 0; n < nexusCount; n++) if (this.mayRead(n)) return n;
    return -1;
  }

  /**
   * After `nexus` got `actual` for a step the model predicted as a unit attention: takes that
   * unit attention off its list. Returns why that is wrong, or nothing.
   */
  received(nexus: number, actual: ScsiResult): string | undefined {
    const ascq = unitAttention2A(actual);
    return ascq !== undefined && this.pr.received(nexus, ascq) ? undefined : `a unit attention the model does not have pending for nexus ${nexus}`;
  }

  /** An independent copy in the same state. */
  clone(): KitModel {
    return new KitModel(this.first, this.blocks, this.blockSize, this.lbprz, this);
  }

  /** Takes the state of `other` (a clone of this model that went another way). */
  become(other: KitModel): void {
    this.ref = other.ref;
    this.holder = other.holder;
    this.unknown.clear();
    for (const b of other.unknown) this.unknown.add(b);
  }

  /** What the medium holds over `r` (real LBAs), per the model. */
  current(r: BlockRange): Uint8Array {
    return this.ref.read16(0, r.lba - this.first, r.blocks).data?.slice() ?? new Uint8Array(r.blocks * this.blockSize);
  }

  /** Whether any block of `r` has unknown content. */
  touchesUnknown(r: BlockRange): boolean {
    for (let i = 0; i < r.blocks; i++) if (this.unknown.has(r.lba - this.first + i)) return true;
    return false;
  }

  /** Adopts what the target returned for unknown blocks of `r`. */
  adopt(r: BlockRange, data: Uint8Array): void {
    this.ref.write16(0, r.lba - this.first, data);
    for (let i = 0; i < r.blocks; i++) this.unknown.delete(r.lba - this.first + i);
  }

  #known(lba: number, blocks: number): void {
    for (let i = 0; i < blocks; i++) this.unknown.delete(lba + i);
  }

  #forget(lba: number, blocks: number): void {
    if (this.lbprz) return;
    for (let i = 0; i < blocks; i++) this.unknown.add(lba + i);
  }

  /**
   * Predicts the answer to `command` from nexus `nexus` and applies its effect.
   * @internal
   */
  predict(nexus: number, command: KitCommand, encoded: EncodedCommand, defect: Defect | undefined): Prediction {
    // A pending unit attention comes first (SAM-5 5.14; INQUIRY neither reports nor clears it).
    const pending = this.pr.pendingFor(nexus);
    if (pending.size > 0 && command.op !== 'INQUIRY') return { kind: 'unit-attention', ascqs: [...pending] };
    if (this.pr.conflicts(nexus, accessClass(command.op))) {
      // SBC-4 4.17 and LIO's class-by-data-direction differ on the commands that touch no medium,
      // and on the order of the checks of a malformed command (see NO_MEDIUM): not checked.
      return NO_MEDIUM.has(command.op) || defect !== undefined ? { kind: 'skip' } : { kind: 'conflict' };
    }
    const other = this.holder !== undefined && this.holder !== nexus;
    if (other && command.op !== 'INQUIRY') {
      // SPC-2 5.5.1: INQUIRY and RELEASE are allowed under another initiator's reservation (RELEASE
      // then does nothing); media access conflicts.
      if (command.op === 'RELEASE(6)') return { kind: 'exact', expected: { status: 0 } };
      // Commands that touch no medium, and the order of the checks of a malformed command against
      // a reservation, differ between targets: not checked.
      if (NO_MEDIUM.has(command.op) || defect !== undefined) return { kind: 'skip' };
      return { kind: 'conflict' };
    }
    if (defect !== undefined) return refusal(defect);
    const m = (lba: number) => lba - this.first;
    const bs = this.blockSize;
    switch (command.op) {
      case 'TEST UNIT READY':
        return { kind: 'exact', expected: { status: 0 } };
      case 'RESERVE(6)':
        this.holder = nexus;
        return { kind: 'exact', expected: { status: 0 } };
      case 'RELEASE(6)':
        this.holder = undefined;
        return { kind: 'exact', expected: { status: 0 } };
      case 'PERSISTENT RESERVE OUT':
        return fromPr(this.pr.out(nexus, command.action, command.key, command.serviceActionKey, command.type));
      case 'PERSISTENT RESERVE IN':
        return prIn(command, this.pr);
      case 'READ(6)':
      case 'READ(10)':
      case 'READ(16)':
        return { kind: 'exact', expected: this.ref.read16(0, m(command.lba), command.blocks) };
      case 'WRITE(6)':
      case 'WRITE(10)':
      case 'WRITE(16)':
      case 'WRITE AND VERIFY(10)': // the verify compares what the write just wrote
      case 'WRITE AND VERIFY(16)':
      case 'WRITE ATOMIC(16)': // the model applies every command whole, so an atomic write is a write
        this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected: this.ref.write16(0, m(command.lba), encoded.dataOut ?? new Uint8Array(0)) };
      case 'SYNCHRONIZE CACHE(16)':
        return { kind: 'exact', expected: { status: 0 } };
      case 'ORWRITE(16)': {
        const expected = this.ref.orWrite16(0, m(command.lba), encoded.dataOut ?? new Uint8Array(0));
        if (expected.status === 0) this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected };
      }
      case 'VERIFY(10)':
      case 'VERIFY(16)':
        // The offset of the miscompare is checked where the target reports INFORMATION (VALID = 1):
        // SBC-4 requires MISCOMPARE DURING VERIFY OPERATION, not INFORMATION (tgt sends none).
        return { kind: 'exact', expected: this.ref.verify(0, m(command.lba), command.blocks, command.bytchk, encoded.dataOut), informationIfValid: true };
      case 'PRE-FETCH(10)':
      case 'PRE-FETCH(16)':
        // The model (like the array) has no cache: GOOD. SBC-4 5.9 has a target whose cache took
        // every block answer CONDITION MET, so that is accepted too.
        return { kind: 'exact', expected: this.ref.preFetch(0, m(command.lba), command.blocks), conditionMet: true };
      case 'SANITIZE BLOCK ERASE': {
        // Offered only where the window is the whole LUN (model LBA 0 is LBA 0).
        const expected = this.ref.sanitizeBlockErase(0);
        if (expected.status === 0) this.#forget(0, this.blocks);
        return { kind: 'exact', expected };
      }
      case 'GET LBA STATUS': {
        const lba = command.lba;
        return {
          kind: 'shape',
          text: `GOOD, a first descriptor starting at LBA ${lba}`,
          test: (d) => {
            const status = decodeLbaStatus(d);
            if (!status.ok) return status.message;
            const first = status.value.descriptors[0];
            if (first === undefined) return `${d.length} bytes of parameter data, no LBA status descriptor`;
            return first.lbaStatusLogicalBlockAddress !== lba ? `the first descriptor starts at LBA ${first.lbaStatusLogicalBlockAddress}` : undefined;
          },
        };
      }
      case 'READ CAPACITY(16)': {
        const last = this.first + this.blocks - 1;
        return {
          kind: 'shape',
          text: `GOOD, RETURNED LOGICAL BLOCK ADDRESS ${last}, block length ${bs}`,
          test: (d) => {
            const capacity = decodeReadCapacity16(d);
            if (!capacity.ok) return capacity.message;
            const { returnedLogicalBlockAddress: lastLba, logicalBlockLengthInBytes: length } = capacity.value;
            return lastLba !== last || length !== bs ? `last LBA ${lastLba}, block length ${length}` : undefined;
          },
        };
      }
      case 'INQUIRY':
        return { kind: 'shape', text: 'GOOD, a direct access block device', test: (d) => (d.length < 36 ? `${d.length} bytes of INQUIRY data` : (d[0]! & 0x1f) !== 0 ? `PERIPHERAL DEVICE TYPE ${d[0]! & 0x1f}` : undefined) };
      case 'RECEIVE COPY RESULTS':
        return { kind: 'shape', text: 'GOOD, operating parameters', test: (d) => (d.length < 44 ? `${d.length} bytes of operating parameters` : undefined) };
      case 'WRITE SAME(10)':
      case 'WRITE SAME(16)': {
        const expected = this.ref.writeSame16(0, m(command.lba), command.blocks, command.unmap, encoded.dataOut);
        if (command.unmap) this.#forget(m(command.lba), command.blocks);
        else this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected };
      }
      case 'UNMAP': {
        const expected = this.ref.unmap(0, command.ranges.map((r) => ({ lba: m(r.lba), blocks: r.blocks })));
        for (const r of command.ranges) this.#forget(m(r.lba), r.blocks);
        return { kind: 'exact', expected };
      }
      case 'COMPARE AND WRITE': {
        const half = command.blocks * bs;
        const data = encoded.dataOut!;
        const expected = this.ref.compareAndWrite(0, m(command.lba), data.subarray(0, half), data.subarray(half));
        if (expected.status === 0) this.#known(m(command.lba), command.blocks);
        return { kind: 'exact', expected };
      }
      case 'EXTENDED COPY': {
        const expected = this.ref.extendedCopy(command.segments.map((s) => ({ src: 0, dst: 0, srcLba: m(s.srcLba), dstLba: m(s.dstLba), blocks: s.blocks })));
        if (expected.status === 0) for (const s of command.segments) this.#known(m(s.dstLba), s.blocks);
        return { kind: 'exact', expected };
      }
    }
  }
}
