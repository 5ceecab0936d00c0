/**
 * The reference model of SCSI-3 persistent reservations on one LUN (SPC-4 5.13), as naive as the
 * rest of the kit's model and sharing no code with `src/scsi/pr`: the registrations as a list of
 * (I_T nexus index, key) in the order made, the reservation (holder and TYPE; SCOPE is always LU_SCOPE),
 * PRGENERATION, and per nexus the unit attentions it has yet to receive.
 *
 * The rules, with where peers differ (docs/decisions/persistent-reservations.md, "The testing kit"):
 *
 * - REGISTER / REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7): an unregistered nexus with RK ≠ 0
 *   (REGISTER only) conflicts; SARK 0 from an unregistered nexus is GOOD and changes nothing but
 *   perhaps PRGENERATION (see `unsure`); otherwise registers, changes the key, or with SARK 0 unregisters;
 *   PRGENERATION + 1. Unregistering the holder ends a Write Exclusive / Exclusive Access
 *   reservation silently, a registrants-only one with RESERVATIONS RELEASED (2A/04) to the other
 *   registrants (SPC-4 5.13.11.3); an all-registrants reservation ends with its last registrant.
 * - RESERVE (5.13.9): needs a registration with RK; the holder again with the same TYPE is GOOD;
 *   any other reservation conflicts. RELEASE (5.13.10): unregistered conflicts; no reservation or a
 *   registered non-holder is GOOD and changes nothing (with a wrong RK, SPC-4's key check and LIO's
 *   order differ: GOOD or RESERVATION CONFLICT are both accepted); the holder with a wrong RK
 *   conflicts; with another TYPE INVALID RELEASE OF PERSISTENT RESERVATION 05/26/04 (LIO: RESERVATION
 *   CONFLICT; both accepted, nothing changes); a released RO/AR reservation tells the other
 *   registrants 2A/04. Neither changes PRGENERATION.
 * - CLEAR (5.13.11.1): every registration and the reservation go, RESERVATIONS PREEMPTED (2A/03) to
 *   every other registrant; PRGENERATION + 1.
 * - PREEMPT and PREEMPT AND ABORT (5.13.11.2): with SARK the holder's key (or 0 under an
 *   all-registrants type) every other registration with that key (every other one with 0) goes and
 *   the caller holds a reservation of the CDB's TYPE (2A/04 to the registrants kept when the TYPE
 *   changed); with another key the registrations with it go (the caller's too when it has it, except
 *   under an all-registrants type, where only the caller may have it and nothing goes) and the
 *   reservation stays; no registration has it: RESERVATION CONFLICT;
 *   SARK 0 otherwise: INVALID FIELD IN PARAMETER LIST. REGISTRATIONS PREEMPTED (2A/05) to each
 *   removed nexus but the caller; PRGENERATION + 1.
 * - Access (SPC-4 5.13.1, SBC-4 4.17): the holder and, under the registrants-only and
 *   all-registrants types, every registrant pass; otherwise a `write` command conflicts under every
 *   type, a `read` command under the Exclusive Access types.
 * @module
 */

/** PERSISTENT RESERVE OUT service actions the kit sends (SPC-4 6.14.2, table 176). */
export const PR_OUT_ACTIONS: Readonly<{
  /** 00h. */
  REGISTER: 0x00;
  /** 01h. */
  RESERVE: 0x01;
  /** 02h. */
  RELEASE: 0x02;
  /** 03h. */
  CLEAR: 0x03;
  /** 04h. */
  PREEMPT: 0x04;
  /** 05h. */
  'PREEMPT AND ABORT': 0x05;
  /** 06h. */
  'REGISTER AND IGNORE EXISTING KEY': 0x06;
}> = Object.freeze({
  REGISTER: 0x00,
  RESERVE: 0x01,
  RELEASE: 0x02,
  CLEAR: 0x03,
  PREEMPT: 0x04,
  'PREEMPT AND ABORT': 0x05,
  'REGISTER AND IGNORE EXISTING KEY': 0x06,
} as const);

/** A PERSISTENT RESERVE OUT service action, as T10 names it. */
export type PrOutAction = keyof typeof PR_OUT_ACTIONS;

/** PERSISTENT RESERVE IN service actions (SPC-4 6.13.1, table 167). */
export const PR_IN_ACTIONS: Readonly<{
  /** 00h. */
  'READ KEYS': 0x00;
  /** 01h. */
  'READ RESERVATION': 0x01;
  /** 02h. */
  'REPORT CAPABILITIES': 0x02;
  /** 03h. */
  'READ FULL STATUS': 0x03;
}> = Object.freeze({ 'READ KEYS': 0x00, 'READ RESERVATION': 0x01, 'REPORT CAPABILITIES': 0x02, 'READ FULL STATUS': 0x03 } as const);

/** A PERSISTENT RESERVE IN service action, as T10 names it. */
export type PrInAction = keyof typeof PR_IN_ACTIONS;

/** The six persistent reservation TYPEs (SPC-4 6.14.2, table 177). */
export const PR_TYPES = Object.freeze([0x1, 0x3, 0x5, 0x6, 0x7, 0x8] as const);

/** A persistent reservation TYPE: 1h WE, 3h EA, 5h WE_RO, 6h EA_RO, 7h WE_AR, 8h EA_AR. */
export type PrType = (typeof PR_TYPES)[number];

/** Short names of the types, for counterexamples. */
export const PR_TYPE_NAMES: Readonly<Record<PrType, string>> = Object.freeze({ 1: 'WE', 3: 'EA', 5: 'WE_RO', 6: 'EA_RO', 7: 'WE_AR', 8: 'EA_AR' });

/** The unit attentions persistent reservations raise, by ASCQ (ASC 2Ah, SPC-4 5.13). */
export const PR_UNIT_ATTENTIONS: Readonly<{
  /** 2Ah/03h RESERVATIONS PREEMPTED. */
  RESERVATIONS_PREEMPTED: 0x03;
  /** 2Ah/04h RESERVATIONS RELEASED. */
  RESERVATIONS_RELEASED: 0x04;
  /** 2Ah/05h REGISTRATIONS PREEMPTED. */
  REGISTRATIONS_PREEMPTED: 0x05;
}> = Object.freeze({ RESERVATIONS_PREEMPTED: 0x03, RESERVATIONS_RELEASED: 0x04, REGISTRATIONS_PREEMPTED: 0x05 } as const);

/** What a command needs of the medium, for the access table: nothing, reading, or writing. */
export type AccessClass = 'allowed' | 'read' | 'write';

/** The answer of the PR model to one PERSISTENT RESERVE OUT: GOOD, RESERVATION CONFLICT, CHECK CONDITION, or either of several. */
export type PrAnswer =
  | {
      /** GOOD. */
      readonly status: 0x00;
    }
  | {
      /** RESERVATION CONFLICT. */
      readonly status: 0x18;
    }
  | {
      /** CHECK CONDITION. */
      readonly status: 0x02;
      /** SENSE KEY. */
      readonly key: number;
      /** ADDITIONAL SENSE CODE. */
      readonly asc: number;
      /** ADDITIONAL SENSE CODE QUALIFIER. */
      readonly ascq: number;
    }
  | {
      /** Any one of `answers` (where SPC-4 and a peer differ, and none changes anything). */
      readonly status: 'either';
      /** The answers accepted. */
      readonly answers: readonly PrAnswer[];
    };

const GOOD: PrAnswer = { status: 0x00 };
const CONFLICT: PrAnswer = { status: 0x18 };
/** ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST */
const INVALID_FIELD_IN_PARAMETER_LIST: PrAnswer = { status: 0x02, key: 0x05, asc: 0x26, ascq: 0x00 };
/** ILLEGAL REQUEST, INVALID RELEASE OF PERSISTENT RESERVATION */
const INVALID_RELEASE: PrAnswer = { status: 0x02, key: 0x05, asc: 0x26, ascq: 0x04 };

/** One registration: an I_T nexus (by index) and its key. */
export interface PrRegistration {
  /** Index of the I_T nexus. */
  readonly nexus: number;
  /** Its reservation key. */
  key: bigint;
}

/** The all-registrants types (WE_AR, EA_AR). */
export const allRegistrants = (t: number): boolean => t === 0x7 || t === 0x8;
/** The registrants-only and all-registrants types, under which every registrant has access. */
const registrantsHaveAccess = (t: number): boolean => t >= 0x5;
/** The Exclusive Access types, under which reads conflict too. */
const exclusiveAccess = (t: number): boolean => t === 0x3 || t === 0x6 || t === 0x8;

/** Persistent reservations of one model LUN. */
export class ReferencePr {
  /** Registrations, in the order made. */
  registrations: PrRegistration[] = [];
  /** The persistent reservation, if one is held. */
  reservation:
    | {
        /** Index of the nexus that reserved (under an all-registrants type, only some registrant). */
        holder: number;
        /** Its TYPE. */
        type: PrType;
      }
    | undefined;
  /** PRGENERATION (mod 2^32), the least the target may report (see {@link ReferencePr.unsure}). */
  generation = 0;
  /**
   * How many REGISTERs of SARK 0 from an unregistered nexus happened since PRGENERATION was last
   * read: SPC-4 6.13.2 counts every REGISTER that is not terminated (tgt does), 5.13.7 has it "take
   * no further action" (LIO and the array do not count it), so the target may report up to this
   * much more; {@link ReferencePr.observed} settles it.
   */
  unsure = 0;
  /** Per nexus index, the ASCQs (ASC 2Ah) of the unit attentions it has yet to receive. */
  readonly pending = new Map<number, Set<number>>();

  /** An independent copy. */
  clone(): ReferencePr {
    const copy = new ReferencePr();
    copy.registrations = this.registrations.map((r) => ({ ...r }));
    copy.reservation = this.reservation === undefined ? undefined : { ...this.reservation };
    copy.generation = this.generation;
    copy.unsure = this.unsure;
    for (const [n, s] of this.pending) copy.pending.set(n, new Set(s));
    return copy;
  }

  /** The registration of `nexus`. */
  registration(nexus: number): PrRegistration | undefined {
    return this.registrations.find((r) => r.nexus === nexus);
  }

  /** Whether `nexus` holds the reservation (every registrant does under an all-registrants type). */
  holds(nexus: number): boolean {
    const res = this.reservation;
    if (res === undefined || this.registration(nexus) === undefined) return false;
    return allRegistrants(res.type) || res.holder === nexus;
  }

  /** The key READ RESERVATION reports: 0 under an all-registrants type, else the holder's. */
  holderKey(): bigint | undefined {
    const res = this.reservation;
    if (res === undefined) return undefined;
    return allRegistrants(res.type) ? 0n : this.registration(res.holder)?.key;
  }

  /** Whether a command of class `access` from `nexus` meets RESERVATION CONFLICT. */
  conflicts(nexus: number, access: AccessClass): boolean {
    const res = this.reservation;
    if (res === undefined || access === 'allowed' || this.holds(nexus)) return false;
    if (registrantsHaveAccess(res.type) && this.registration(nexus) !== undefined) return false;
    return access === 'write' || exclusiveAccess(res.type);
  }

  /**
   * Whether a PRGENERATION the target reported is one the model allows ({@link ReferencePr.generation}
   * plus at most {@link ReferencePr.unsure}); if so, the model takes it.
   */
  observed(generation: number): boolean {
    const ahead = (generation - this.generation) >>> 0;
    if (ahead > this.unsure) return false;
    this.generation = generation;
    this.unsure = 0;
    return true;
  }

  /** PRGENERATION as the model expects it, as text. */
  generationText(): string {
    return this.unsure === 0 ? String(this.generation) : `${this.generation} to ${(this.generation + this.unsure) >>> 0}`;
  }

  /** The unit attentions `nexus` has yet to receive (ASCQs of ASC 2Ah). */
  pendingFor(nexus: number): ReadonlySet<number> {
    return this.pending.get(nexus) ?? new Set();
  }

  /** Records that `nexus` received the unit attention 2Ah/`ascq`; false when it had none such pending. */
  received(nexus: number, ascq: number): boolean {
    return this.pending.get(nexus)?.delete(ascq) ?? false;
  }

  #tell(nexuses: readonly number[], ascq: number): void {
    for (const n of nexuses) {
      const set = this.pending.get(n) ?? new Set<number>();
      set.add(ascq);
      this.pending.set(n, set);
    }
  }

  #others(nexus: number): number[] {
    return this.registrations.filter((r) => r.nexus !== nexus).map((r) => r.nexus);
  }

  #bump(): void {
    this.generation = (this.generation + 1) >>> 0;
  }

  #unregister(nexus: number): void {
    this.registrations = this.registrations.filter((r) => r.nexus !== nexus);
    const res = this.reservation;
    if (res === undefined) return;
    if (allRegistrants(res.type)) {
      if (this.registrations.length === 0) this.reservation = undefined;
      return;
    }
    if (res.holder !== nexus) return;
    this.reservation = undefined;
    if (registrantsHaveAccess(res.type)) this.#tell(this.registrations.map((r) => r.nexus), PR_UNIT_ATTENTIONS.RESERVATIONS_RELEASED);
  }

  /**
   * PERSISTENT RESERVE OUT `action` from `nexus` with RESERVATION KEY `key`, SERVICE ACTION
   * RESERVATION KEY `sark` and TYPE `type`: the answer, and the effect applied.
   */
  out(nexus: number, action: PrOutAction, key: bigint, sark: bigint, type: PrType): PrAnswer {
    const mine = this.registration(nexus);
    switch (action) {
      case 'REGISTER':
      case 'REGISTER AND IGNORE EXISTING KEY': {
        const ignore = action === 'REGISTER AND IGNORE EXISTING KEY';
        if (mine === undefined) {
          if (!ignore && key !== 0n) return CONFLICT;
          if (sark === 0n) {
            this.unsure++;
            return GOOD;
          }
          this.registrations.push({ nexus, key: sark });
        } else {
          if (!ignore && key !== mine.key) return CONFLICT;
          if (sark !== 0n) mine.key = sark;
          else this.#unregister(nexus);
        }
        this.#bump();
        return GOOD;
      }
      case 'RELEASE': {
        const res = this.reservation;
        if (mine === undefined) return CONFLICT;
        if (res === undefined || !this.holds(nexus)) return key === mine.key ? GOOD : { status: 'either', answers: [GOOD, CONFLICT] };
        if (key !== mine.key) return CONFLICT;
        if (type !== res.type) return { status: 'either', answers: [INVALID_RELEASE, CONFLICT] };
        this.reservation = undefined;
        if (registrantsHaveAccess(res.type)) this.#tell(this.#others(nexus), PR_UNIT_ATTENTIONS.RESERVATIONS_RELEASED);
        return GOOD;
      }
      default:
        break;
    }
    if (mine === undefined || mine.key !== key) return CONFLICT;
    const res = this.reservation;
    switch (action) {
      case 'RESERVE':
        if (res !== undefined) return this.holds(nexus) && res.type === type ? GOOD : CONFLICT;
        this.reservation = { holder: nexus, type };
        return GOOD;
      case 'CLEAR':
        this.#tell(this.#others(nexus), PR_UNIT_ATTENTIONS.RESERVATIONS_PREEMPTED);
        this.registrations = [];
        this.reservation = undefined;
        this.#bump();
        return GOOD;
      default:
        return this.#preempt(nexus, sark, type);
    }
  }

  #preempt(nexus: number, sark: bigint, type: PrType): PrAnswer {
    const res = this.reservation;
    const all = res !== undefined && allRegistrants(res.type);
    const takes = res !== undefined && (all ? sark === 0n : sark === this.registration(res.holder)?.key);
    if (sark === 0n && !takes) return INVALID_FIELD_IN_PARAMETER_LIST;
    // Taking the reservation (or under an all-registrants type) keeps the caller's own registration.
    const keepsCaller = takes || all;
    const removed = this.registrations.filter((r) => (r.nexus !== nexus || !keepsCaller) && (all && sark === 0n ? true : r.key === sark)).map((r) => r.nexus);
    // A key no registration has (the caller's own included) conflicts (5.13.11.2.3).
    if (!takes && !this.registrations.some((r) => r.key === sark)) return CONFLICT;
    this.registrations = this.registrations.filter((r) => !removed.includes(r.nexus));
    if (takes) {
      const changed = res.type !== type;
      this.reservation = { holder: nexus, type };
      if (changed) this.#tell(this.#others(nexus), PR_UNIT_ATTENTIONS.RESERVATIONS_RELEASED);
    } else if (res !== undefined && removed.includes(res.holder)) {
      // Under an all-registrants type the holder index is only a registrant: keep one that is.
      res.holder = nexus;
    }
    if (this.registrations.length === 0) this.reservation = undefined;
    this.#bump();
    this.#tell(removed.filter((n) => n !== nexus), PR_UNIT_ATTENTIONS.REGISTRATIONS_PREEMPTED);
    return GOOD;
  }
}
