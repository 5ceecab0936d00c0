/**
 * Value parsers for the command-line options: each turns the text given on the command line into
 * the value the option's help promises, or throws commander's `InvalidArgumentError` saying what
 * was expected (commander then names the option and the value: `error: option '--runs <n>'
 * argument '2.5' is invalid. Expected a positive integer.`).
 * @module
 */
import { InvalidArgumentError } from 'commander';

/** Largest integer a count or size may be (2^53 - 1). */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A decimal integer, written with digits only (and an optional sign): no `2.5`, `1e3`, `0x10` or blanks. */
function integerText(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A finite decimal number (`0.5`, `3`, `1e3`), not empty, not `Infinity`, not hexadecimal. */
function numberText(text: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** An integer in [min, max]; the message names the range. */
export function integerIn(min: number, max: number, expected?: string): (text: string) => number {
  const bounded = max === MAX_SAFE ? '' : ` of at most ${max}`;
  const what = expected ?? (min === 1 ? `a positive integer${bounded}` : max === MAX_SAFE ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`);
  return (text) => {
    const n = integerText(text.trim());
    if (n === undefined || n < min || n > max) throw new InvalidArgumentError(`Expected ${what}.`);
    return n;
  };
}

/** A positive integer (1, 2, …) of at most `max`. */
export function positiveInteger(max = MAX_SAFE): (text: string) => number {
  return integerIn(1, max);
}

/** A number > 0 of at most `max`. */
export function positiveNumber(max = Number.MAX_VALUE, unit = ''): (text: string) => number {
  const suffix = unit === '' ? '' : ` (${unit})`;
  const what = max === Number.MAX_VALUE ? `a number > 0${suffix}` : `a number > 0 and at most ${max}${suffix}`;
  return (text) => {
    const n = numberText(text.trim());
    if (n === undefined || n <= 0 || n > max) throw new InvalidArgumentError(`Expected ${what}.`);
    return n;
  };
}

/** A fraction in (0, 1]. */
export function fraction(text: string): number {
  const n = numberText(text.trim());
  if (n === undefined || n <= 0 || n > 1) throw new InvalidArgumentError('Expected a fraction greater than 0 and at most 1 (e.g. 0.3).');
  return n;
}

/** A size in GiB, as whole MiB (at least 1 MiB, at most what a byte count can hold); returns bytes. */
export function gibAsBytes(text: string): number {
  const n = numberText(text.trim());
  const mib = n === undefined ? 0 : Math.round(n * 1024);
  if (n === undefined || n <= 0 || mib < 1 || mib * 1024 * 1024 > MAX_SAFE) {
    throw new InvalidArgumentError(`Expected a size in GiB from 1/1024 (1 MiB) to ${Math.floor(MAX_SAFE / 2 ** 30)} (e.g. 0.5).`);
  }
  return mib * 1024 * 1024;
}

/** A size in whole MiB; returns bytes. */
export function mibAsBytes(text: string): number {
  return integerIn(1, Math.floor(MAX_SAFE / 2 ** 20), `a positive whole number of MiB`)(text) * 2 ** 20;
}

/** A comma-separated list of positive integers, e.g. `1,8,32`. */
export function positiveIntegerList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const one = integerIn(1, MAX_SAFE);
  try {
    if (parts.some((p) => p === '')) throw new InvalidArgumentError('empty');
    return parts.map((p) => one(p));
  } catch {
    throw new InvalidArgumentError('Expected a comma-separated list of positive integers (e.g. 1,8,32).');
  }
}

/**
 * A repeatable, comma-separable choice: each value must be one of `choices`; collects them in
 * order without repeats.
 */
export function choiceList<T extends string>(choices: readonly T[]): (text: string, previous: T[] | undefined) => T[] {
  return (text, previous) => {
    const out = [...(previous ?? [])];
    for (const raw of text.split(',')) {
      const name = raw.trim();
      if (!(choices as readonly string[]).includes(name)) throw new InvalidArgumentError(`Unknown name '${name}'; allowed: ${choices.join(', ')}.`);
      if (!out.includes(name as T)) out.push(name as T);
    }
    return out;
  };
}

/** An iSCSI name: `iqn.…`, `eui.…` or `naa.…` (RFC 7143 4.2.7), without blanks. */
export function iscsiName(text: string): string {
  if (!/^(iqn\.|eui\.|naa\.)\S+$/.test(text)) throw new InvalidArgumentError('Expected an iSCSI name starting with iqn., eui. or naa. (e.g. iqn.2026-11.dev.vaai-sim:array0).');
  return text;
}
