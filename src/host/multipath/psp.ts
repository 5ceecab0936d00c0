/**
 * Path selection policies in the manner of ESXi's PSPs: Fixed (VMW_PSP_FIXED), Most Recently Used
 * (VMW_PSP_MRU) and Round Robin (VMW_PSP_RR). A policy chooses among the paths the storage-array
 * type policy offers it: the usable paths of the best access state (active/optimized ones, or
 * active/non-optimized ones only when no optimized path is usable).
 * @module
 */
import { checkOptions, is, type ValueCheck } from '../../common/errors.js';

/** Round Robin: switch path after `iops` commands (`type: 'iops'`) or `bytes` bytes (`type: 'bytes'`). */
export interface RoundRobinPolicy {
  /** The policy. */
  readonly policy: 'round-robin';
  /** What counts towards a switch. @defaultValue 'iops' (ESXi's default) */
  readonly type?: 'iops' | 'bytes';
  /** Commands per path before switching. @defaultValue 1000 (ESXi's default; vendors often set 1) */
  readonly iops?: number;
  /** Bytes per path before switching. @defaultValue 10485760 (10 MiB, ESXi's default) */
  readonly bytes?: number;
  /** Use active/non-optimized paths beside optimized ones (ESXi's `useANO`). @defaultValue false */
  readonly useANO?: boolean;
}

/** Fixed: the preferred path whenever it is usable (failing back to it when it returns). */
export interface FixedPolicy {
  /** The policy. */
  readonly policy: 'fixed';
  /** The preferred path's name. @defaultValue the first path claimed */
  readonly preferred?: string;
}

/** Most Recently Used: stay on the current path until it fails; move to an optimized path when one appears. */
export interface MruPolicy {
  /** The policy. */
  readonly policy: 'mru';
}

/** A path selection policy and its settings. */
export type PathSelectionPolicy = FixedPolicy | MruPolicy | RoundRobinPolicy;

/** @internal What a policy knows of a path. */
export interface SelectablePath {
  readonly name: string;
  /** Active/optimized (or not ALUA): true; active/non-optimized: false. */
  readonly optimized: boolean;
}

/** @internal A policy's state: picks one of `tier` (never empty) for a command of `bytes` bytes. */
export interface PathSelector {
  select(tier: readonly SelectablePath[], others: readonly SelectablePath[], bytes: number): SelectablePath;
  /** Counts `bytes` of Data-In the path `name` returned (Round Robin by bytes). */
  received(name: string, bytes: number): void;
  /** The current path (for MRU and Round Robin), by name. */
  readonly current: string | undefined;
}

const ROUND_ROBIN = {
  policy: is.oneOf(['round-robin']),
  type: is.oneOf(['iops', 'bytes']),
  iops: is.integer(1, 0x7fffffff),
  bytes: is.integer(1, Number.MAX_SAFE_INTEGER),
  useANO: is.boolean,
} as const satisfies Record<keyof RoundRobinPolicy, ValueCheck>;

/** What a device's `policy` option accepts. */
export const isPathSelectionPolicy: ValueCheck = (v, what) => {
  is.object(v, what);
  const policy = (v as { policy?: unknown }).policy;
  if (policy === 'fixed') checkOptions(v, { policy: is.oneOf(['fixed']), preferred: is.string }, what, ['policy']);
  else if (policy === 'mru') checkOptions(v, { policy: is.oneOf(['mru']) }, what, ['policy']);
  else if (policy === 'round-robin') checkOptions(v, ROUND_ROBIN, what, ['policy']);
  else is.oneOf(['fixed', 'mru', 'round-robin'])(policy, `${what}.policy`);
};

/** @internal The selector of `policy`; `order` names every path in the order claimed (Fixed's default preference is the first). */
export function selectorFor(policy: PathSelectionPolicy, order: () => readonly string[]): PathSelector {
  switch (policy.policy) {
    case 'fixed':
      return new FixedSelector(policy.preferred ?? (() => order()[0]));
    case 'mru':
      return new MruSelector();
    case 'round-robin':
      return new RoundRobinSelector(policy, order);
  }
}

class FixedSelector implements PathSelector {
  readonly #preferred: string | (() => string | undefined);
  constructor(preferred: string | (() => string | undefined)) {
    this.#preferred = preferred;
  }
  get current(): string | undefined {
    return typeof this.#preferred === 'string' ? this.#preferred : this.#preferred();
  }
  select(tier: readonly SelectablePath[]): SelectablePath {
    const preferred = this.current;
    return tier.find((p) => p.name === preferred) ?? tier[0]!;
  }
  received(): void {}
}

class MruSelector implements PathSelector {
  current: string | undefined;
  select(tier: readonly SelectablePath[]): SelectablePath {
    // Stay on the current path while it is offered: an optimized path appearing empties the tier of
    // non-optimized ones, so MRU moves to it, and otherwise it stays where it is.
    const chosen = tier.find((p) => p.name === this.current) ?? tier[0]!;
    this.current = chosen.name;
    return chosen;
  }
  received(): void {}
}

class RoundRobinSelector implements PathSelector {
  current: string | undefined;
  readonly #byBytes: boolean;
  readonly #limit: number;
  readonly #useANO: boolean;
  #used = 0;
  readonly #order: () => readonly string[];
  constructor(policy: RoundRobinPolicy, order: () => readonly string[]) {
    this.#order = order;
    this.#byBytes = policy.type === 'bytes';
    this.#limit = this.#byBytes ? (policy.bytes ?? 10 * 1024 * 1024) : (policy.iops ?? 1000);
    this.#useANO = policy.useANO === true;
  }
  select(tier: readonly SelectablePath[], others: readonly SelectablePath[], bytes: number): SelectablePath {
    const ring = this.#useANO && tier.every((p) => p.optimized) ? [...tier, ...others.filter((p) => !p.optimized)] : tier;
    let at = ring.findIndex((p) => p.name === this.current);
    if (at < 0) {
      // The current path left the rotation (it died): go on with the next one after it, in claim order.
      const order = this.#order();
      const from = this.current === undefined ? -1 : order.indexOf(this.current);
      const rank = (p: SelectablePath): number => (order.indexOf(p.name) - from - 1 + order.length) % order.length;
      at = ring.reduce((best, p, i) => (rank(p) < rank(ring[best]!) ? i : best), 0);
      this.#used = 0;
    } else if (this.#used >= this.#limit) {
      at = (at + 1) % ring.length;
      this.#used = 0;
    }
    const chosen = ring[at]!;
    this.current = chosen.name;
    this.#used += this.#byBytes ? bytes : 1;
    return chosen;
  }
  received(name: string, bytes: number): void {
    if (this.#byBytes && name === this.current) this.#used += bytes;
  }
}
