/**
 * The options of {@link checkTarget} and {@link kitSetup}, and what each accepts.
 * @module
 */
import { InvalidArgumentError, describeValue, is, type ValueCheck } from '../../common/errors.js';
import type { ScsiTarget } from '../../host/target.js';
import { KIT_OPS, type KitCommand } from '../commands.js';

/** A check that runs after every step; returns a description of what is wrong, or nothing. */
export type Invariant = () => string | undefined | Promise<string | undefined>;

/** Options of {@link checkTarget}. */
export interface CheckTargetOptions {
  /**
   * The same LUN through other I_T nexuses (for a remote target: other iSCSI sessions). With them
   * the check also races commands between initiators (COMPARE AND WRITE atomicity, reservations).
   */
  readonly others?: readonly ScsiTarget[];
  /**
   * For an in-process LUN: initiator names passed as `options.initiator`, each its own nexus (the
   * first is the main one). Ignored when `others` is given.
   */
  readonly initiators?: readonly string[];
  /**
   * Blocks at the end of the LUN the check may change: an integer from 1 to 65,536, at most the
   * LUN's size. @defaultValue 64, or the whole LUN when it is smaller
   */
  readonly windowBlocks?: number;
  /** Runs: a positive integer. @defaultValue 100 */
  readonly numRuns?: number;
  /** Longest command sequence of a run: an integer from 1 to 10,000. @defaultValue 25 */
  readonly maxCommands?: number;
  /** fast-check seed (to replay a run): a 32-bit integer, signed or unsigned. */
  readonly seed?: number;
  /** Race commands between nexuses, when there are several. @defaultValue true */
  readonly races?: boolean;
  /** Also send malformed commands (each must be refused and change nothing). @defaultValue true */
  readonly malformed?: boolean;
  /** Checks to run after every step (see `poolAccountingExact`). */
  readonly invariants?: readonly Invariant[];
  /**
   * Restricts the commands further (the target's own list applies in any case): names from
   * {@link KIT_OPS}, as a Set or an array.
   */
  readonly ops?: ReadonlySet<KitCommand['op']> | readonly KitCommand['op'][];
}

/** The largest window {@link CheckTargetOptions.windowBlocks} allows (the model holds it in memory, and each run rewrites it). */
export const MAX_WINDOW_BLOCKS = 65536;

/** Names from {@link KIT_OPS}, in a Set or an array (at least one). */
const isOps: ValueCheck = (v, what) => {
  if (!(v instanceof Set) && !Array.isArray(v)) throw new InvalidArgumentError(`${what} must be a Set or an array of command names, got ${describeValue(v)}`);
  const names = [...(v as Iterable<unknown>)];
  if (names.length === 0) throw new InvalidArgumentError(`${what} is empty; name at least one of ${KIT_OPS.join(', ')}`);
  const unknown = names.filter((n) => !(KIT_OPS as readonly unknown[]).includes(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`${what}: unknown command ${unknown.map((n) => describeValue(n)).join(', ')} (known: ${KIT_OPS.join(', ')})`);
};

/** What {@link checkTarget} accepts, option by option. */
export const CHECK_TARGET_OPTIONS = {
  others: is.array(is.target),
  initiators: is.array(is.string, 1),
  windowBlocks: is.integer(1, MAX_WINDOW_BLOCKS),
  numRuns: is.positiveInteger,
  maxCommands: is.integer(1, 10_000),
  seed: is.integer(-0x80000000, 0xffffffff),
  races: is.boolean,
  malformed: is.boolean,
  invariants: is.array(is.function),
  ops: isOps,
} as const satisfies Record<keyof CheckTargetOptions, ValueCheck>;

/** The options {@link kitSetup} takes: those of {@link checkTarget} that choose the nexuses, the window and the commands. */
export type KitSetupOptions = Pick<CheckTargetOptions, 'others' | 'initiators' | 'windowBlocks' | 'ops'>;

/** What {@link kitSetup} accepts, option by option. */
export const SETUP_OPTIONS = { others: CHECK_TARGET_OPTIONS.others, initiators: CHECK_TARGET_OPTIONS.initiators, windowBlocks: CHECK_TARGET_OPTIONS.windowBlocks, ops: CHECK_TARGET_OPTIONS.ops } as const satisfies Record<keyof KitSetupOptions, ValueCheck>;
