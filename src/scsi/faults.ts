/**
 * Fault injection, for users who test their own fallback paths: make a chosen command fail with
 * chosen sense or status, or be delayed, on a LUN or LBA range, once, N times, or with a seeded
 * probability. Off by default; with no rule installed the dispatcher pays one boolean test.
 * @module
 */
import { SENSE_TABLE, isSenseReason, type SenseCode, type SenseReason } from '../spec/sense.js';
import { InvalidArgumentError, checkInteger, checkOptionKeys } from '../common/errors.js';
import { Mulberry32 } from '../common/prng.js';

/** A rule for {@link FaultInjector.add}. */
export interface FaultRule {
  /** Operation code the rule matches (CDB byte 0). */
  readonly opcode: number;
  /** Service action it matches (CDB byte 1 bits 4:0), for opcodes that have one; any when left out. */
  readonly serviceAction?: number;
  /** LUN number it matches; any LUN when left out. */
  readonly lunId?: number;
  /** Initiator (I_T nexus) it matches; any when left out. */
  readonly initiator?: string;
  /**
   * LBA range it matches: a command matches when any range it touches overlaps [start, start+count).
   * EXTENDED COPY touches its segments' source and destination ranges, UNMAP its descriptors' ranges.
   * Commands without an LBA never match a rule that has one.
   */
  readonly lba?: {
    /** First LBA of the range. */
    readonly start: number;
    /** Number of blocks in the range. */
    readonly count: number;
  };
  /** How many times the rule fires before it retires itself. @defaultValue unlimited */
  readonly times?: number;
  /** Probability (0..1] that a matching command is hit. @defaultValue 1 */
  readonly probability?: number;
  /** Seed of the rule's own pseudo-random sequence, so probabilistic runs repeat. @defaultValue 1 */
  readonly seed?: number;
  /** Fail with CHECK CONDITION and this sense (a typed reason or an explicit key/ASC/ASCQ). */
  readonly sense?: SenseReason | SenseCode;
  /** Fail with this status and no sense (BUSY 08h, RESERVATION CONFLICT 18h, TASK SET FULL 28h). */
  readonly status?: 0x08 | 0x18 | 0x28;
  /** Delay the command by this many milliseconds (then fail as above, or execute normally). */
  readonly delayMs?: number;
}

/** The effect chosen for one command. */
export interface FaultEffect {
  /** Sense to fail with. */
  readonly sense?: SenseCode;
  /** Status to fail with. */
  readonly status?: number;
  /** Delay before completing. */
  readonly delayMs?: number;
}

/** Handle of an installed rule. */
export interface FaultHandle {
  /** Removes the rule. */
  remove(): void;
  /** Times the rule has fired so far. */
  readonly hits: number;
}

/** @internal What the dispatcher tells the injector about a command. */
export interface FaultProbe {
  readonly opcode: number;
  readonly serviceAction: number;
  readonly lunId: number;
  readonly initiator: string;
  readonly lba: number | undefined;
  readonly blocks: number | undefined;
  readonly ranges: readonly { readonly lba: number; readonly blocks: number }[] | undefined;
}

interface InstalledRule {
  readonly rule: FaultRule;
  readonly effect: FaultEffect;
  remaining: number;
  hits: number;
  readonly random: Mulberry32;
}

const RULE_KEYS = ['opcode', 'serviceAction', 'lunId', 'initiator', 'lba', 'times', 'probability', 'seed', 'sense', 'status', 'delayMs'];

/**
 * The fault injector of one array (see {@link StorageArray.faults}). Fault rules are SCSI: they match
 * operation codes, service actions and I_T nexuses and answer with sense or a status, so they live
 * with the command set, not with the volumes.
 */
export class FaultInjector {
  readonly #rules: InstalledRule[] = [];

  /** True while at least one rule is installed. */
  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** Installs `rule`; throws {@link InvalidArgumentError} for a malformed one. */
  add(rule: FaultRule): FaultHandle {
    checkOptionKeys(rule, RULE_KEYS, 'FaultInjector.add');
    checkInteger(rule.opcode, 0, 255, 'FaultRule.opcode');
    if (rule.serviceAction !== undefined) checkInteger(rule.serviceAction, 0, 31, 'FaultRule.serviceAction');
    if (rule.lunId !== undefined) checkInteger(rule.lunId, 0, 16383, 'FaultRule.lunId');
    if (rule.initiator !== undefined && typeof rule.initiator !== 'string') {
      throw new InvalidArgumentError('FaultRule.initiator must be a string');
    }
    if (rule.lba !== undefined) {
      checkOptionKeys(rule.lba, ['start', 'count'], 'FaultRule.lba');
      checkInteger(rule.lba.start, 0, Number.MAX_SAFE_INTEGER, 'FaultRule.lba.start');
      checkInteger(rule.lba.count, 1, Number.MAX_SAFE_INTEGER, 'FaultRule.lba.count');
    }
    if (rule.times !== undefined) checkInteger(rule.times, 1, Number.MAX_SAFE_INTEGER, 'FaultRule.times');
    if (rule.probability !== undefined && !(typeof rule.probability === 'number' && rule.probability > 0 && rule.probability <= 1)) {
      throw new InvalidArgumentError(`FaultRule.probability must be in (0, 1], got ${String(rule.probability)}`);
    }
    if (rule.seed !== undefined) checkInteger(rule.seed, 0, 0xffffffff, 'FaultRule.seed');
    if (rule.delayMs !== undefined) checkInteger(rule.delayMs, 0, 3_600_000, 'FaultRule.delayMs');
    if (rule.status !== undefined && rule.status !== 0x08 && rule.status !== 0x18 && rule.status !== 0x28) {
      throw new InvalidArgumentError('FaultRule.status must be 0x08 (BUSY), 0x18 (RESERVATION CONFLICT) or 0x28 (TASK SET FULL)');
    }
    if (rule.sense !== undefined && rule.status !== undefined) {
      throw new InvalidArgumentError('FaultRule: give sense or status, not both');
    }
    if (rule.sense === undefined && rule.status === undefined && rule.delayMs === undefined) {
      throw new InvalidArgumentError('FaultRule: give at least one of sense, status or delayMs');
    }
    let sense: SenseCode | undefined;
    if (rule.sense !== undefined) {
      if (isSenseReason(rule.sense)) sense = SENSE_TABLE[rule.sense];
      else if (typeof rule.sense === 'object' && rule.sense !== null) {
        checkOptionKeys(rule.sense, ['key', 'asc', 'ascq'], 'FaultRule.sense');
        sense = {
          key: checkInteger(rule.sense.key, 1, 15, 'FaultRule.sense.key'),
          asc: checkInteger(rule.sense.asc, 0, 255, 'FaultRule.sense.asc'),
          ascq: checkInteger(rule.sense.ascq, 0, 255, 'FaultRule.sense.ascq'),
        };
      } else throw new InvalidArgumentError(`FaultRule.sense: unknown sense reason ${String(rule.sense)}`);
    }
    const effect: FaultEffect = {
      ...(sense !== undefined ? { sense } : {}),
      ...(rule.status !== undefined ? { status: rule.status } : {}),
      ...(rule.delayMs !== undefined ? { delayMs: rule.delayMs } : {}),
    };
    const installed: InstalledRule = { rule, effect, remaining: rule.times ?? Infinity, hits: 0, random: new Mulberry32(rule.seed ?? 1) };
    this.#rules.push(installed);
    const rules = this.#rules;
    return {
      remove(): void {
        const i = rules.indexOf(installed);
        if (i >= 0) rules.splice(i, 1);
      },
      get hits(): number {
        return installed.hits;
      },
    };
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules.length = 0;
  }

  /** @internal The effect for `probe`, from the first matching rule that fires, if any. */
  match(probe: FaultProbe): FaultEffect | undefined {
    return this.#match(probe, false);
  }

  /** @internal As {@link FaultInjector.match}, among the rules that fail the command (sense or status) only. */
  matchFailure(probe: FaultProbe): FaultEffect | undefined {
    return this.#match(probe, true);
  }

  #match(probe: FaultProbe, failingOnly: boolean): FaultEffect | undefined {
    for (let i = 0; i < this.#rules.length; i++) {
      const r = this.#rules[i]!;
      if (failingOnly && r.effect.sense === undefined && r.effect.status === undefined) continue;
      if (!matches(r.rule, probe)) continue;
      if (r.rule.probability !== undefined && r.rule.probability < 1 && r.random.float() >= r.rule.probability) continue;
      r.hits++;
      r.remaining--;
      if (r.remaining <= 0) this.#rules.splice(i, 1);
      return r.effect;
    }
    return undefined;
  }
}

function matches(rule: FaultRule, p: FaultProbe): boolean {
  if (rule.opcode !== p.opcode) return false;
  if (rule.serviceAction !== undefined && rule.serviceAction !== p.serviceAction) return false;
  if (rule.lunId !== undefined && rule.lunId !== p.lunId) return false;
  if (rule.initiator !== undefined && rule.initiator !== p.initiator) return false;
  const range = rule.lba;
  if (range === undefined) return true;
  const overlaps = (lba: number, blocks: number): boolean =>
    lba < range.start + range.count && range.start < lba + Math.max(blocks, 1);
  if (p.lba !== undefined && p.blocks !== undefined && overlaps(p.lba, p.blocks)) return true;
  return p.ranges?.some((r) => overlaps(r.lba, r.blocks)) ?? false;
}
