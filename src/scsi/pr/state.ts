/**
 * The persistent reservation state of one logical unit (SPC-4 5.13): the registrations (one per
 * registered I_T nexus, each with its reservation key), the persistent reservation (holder, TYPE,
 * SCOPE) and the PRgeneration counter, with the access rule that admission applies to every command.
 * The state survives LOGICAL UNIT RESET, I_T nexus loss and session reinstatement (SPC-4 5.13.1);
 * it does not survive power loss (PTPL_C = 0). Decisions: docs/decisions/persistent-reservations.md.
 * @module
 */
import { PrType } from '../../spec/opcodes.js';
import { itNexus, type InitiatorPort, type ItNexus, type TargetPort } from '../ports.js';

/** How a persistent reservation held by another I_T nexus treats a command (SPC-4 5.13.1 table 66, SBC-4 4.17 table 13). */
export type ReservationAccess = 'allowed' | 'read' | 'write';

/**
 * One registered I_T nexus. `initiator` names the initiator side: an initiator port (its port name,
 * ISID included), or with `byName` an iSCSI name alone (a SPEC_I_PT or REGISTER AND MOVE TransportID
 * of format 00b), which every initiator port of that name matches.
 */
export interface Registration {
  readonly initiator: InitiatorPort;
  readonly byName: boolean;
  readonly target: TargetPort;
  key: bigint;
  /** Registered with ALL_TG_PT = 1: `group` holds the registrations made through every target port together. */
  readonly allTgPt: boolean;
  readonly group: Registration[];
}

/** The persistent reservation. `holder` is the reserving registration; every registrant holds an all-registrants type. */
export interface PersistentReservation {
  holder: Registration;
  readonly type: number;
  readonly scope: number;
}

/** The six TYPE codes, ascending. */
export const PR_TYPES: readonly number[] = Object.values(PrType);

/** True for the all-registrants types (WE_AR 7h, EA_AR 8h). */
export function isAllRegistrants(type: number): boolean {
  return type === PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS || type === PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

/** True for the registrants-only and all-registrants types (5h..8h), which registered nexuses may use as a holder does. */
export function isRegistrantsType(type: number): boolean {
  return type >= PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY && type <= PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

function isExclusiveAccess(type: number): boolean {
  return type === PrType.EXCLUSIVE_ACCESS || type === PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY || type === PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
}

/** Lower-case, as iSCSI names and ISIDs compare (RFC 3722 normalises names to lower case). */
const norm = (s: string): string => s.toLowerCase();

/** True when `reg` is the registration of `nexus`. */
export function registrationMatches(reg: Registration, nexus: ItNexus): boolean {
  if (reg.target !== nexus.target) return false;
  return reg.byName ? norm(reg.initiator.deviceName) === norm(nexus.initiator.deviceName) : norm(reg.initiator.name) === norm(nexus.initiator.name);
}

/** True when two registrations name the same I_T nexus (or one name covers the other's port). */
export function overlaps(a: Registration, b: Registration): boolean {
  if (a.target !== b.target) return false;
  if (a.byName || b.byName) return norm(a.initiator.deviceName) === norm(b.initiator.deviceName);
  return norm(a.initiator.name) === norm(b.initiator.name);
}

/** @internal The persistent reservation state of one LUN. */
export class PersistentReservations {
  /** PRgeneration (SPC-4 6.13.2): 32 bits, wraps. */
  generation = 0;
  /** The registrations in the order they were made (READ KEYS and READ FULL STATUS list them so). */
  registrations: Registration[] = [];
  reservation: PersistentReservation | undefined;

  /** The registration of `nexus`: its own port's first, else one by its iSCSI name. */
  registrationOf(nexus: ItNexus): Registration | undefined {
    let byName: Registration | undefined;
    for (const r of this.registrations) {
      if (!registrationMatches(r, nexus)) continue;
      if (!r.byName) return r;
      byName ??= r;
    }
    return byName;
  }

  /** True when `reg` is registered and would take an existing registration's place. */
  isRegistered(reg: Registration): boolean {
    return this.registrations.some((r) => overlaps(r, reg));
  }

  /** True when `reg` holds the reservation (any registrant does, for the all-registrants types). */
  isHolder(reg: Registration | undefined): boolean {
    const r = this.reservation;
    if (r === undefined || reg === undefined) return false;
    return isAllRegistrants(r.type) || r.holder === reg;
  }

  /**
   * True when the persistent reservation refuses a command of access class `access` from `nexus`
   * with RESERVATION CONFLICT (SPC-4 5.13.1 tables 66-67 and SBC-4's, as
   * docs/decisions/persistent-reservations.md sets them out).
   */
  conflicts(nexus: ItNexus, access: ReservationAccess): boolean {
    const r = this.reservation;
    if (r === undefined || access === 'allowed') return false;
    const reg = this.registrationOf(nexus);
    if (this.isHolder(reg)) return false;
    if (reg !== undefined && isRegistrantsType(r.type)) return false;
    return access === 'write' || isExclusiveAccess(r.type);
  }

  /** Counts one change of the registrations (SPC-4 6.13.2: PRgeneration wraps at 2^32). */
  bump(): void {
    this.generation = (this.generation + 1) >>> 0;
  }

  /** Removes `regs` (the reservation is the caller's business). */
  remove(regs: readonly Registration[]): void {
    const gone = new Set(regs);
    this.registrations = this.registrations.filter((r) => !gone.has(r));
    for (const r of regs) {
      const i = r.group.indexOf(r);
      if (i >= 0) r.group.splice(i, 1);
    }
  }

  /** The I_T nexus a unit attention for `reg` goes to (for a registration by name, the port of that name: SPC-4 establishes it per I_T nexus). */
  static nexusOf(reg: Registration): ItNexus {
    return itNexus(reg.initiator, reg.target);
  }
}
