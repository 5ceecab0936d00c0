/**
 * Typed errors thrown by the TypeScript API for programmer errors (bad sizes, unknown options).
 * `execute` never throws: SCSI-level failures are statuses and sense data, not exceptions.
 * @module
 */

/** Base class of every error this library throws. */
export class VaaiSimError extends Error {
  /** A stable machine-readable code. */
  readonly code: string;
  /** @param code - stable code; @param message - what was wrong and how to fix it */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An argument or option had a wrong type, range or name. */
export class InvalidArgumentError extends VaaiSimError {
  /** @param message - names the argument and the accepted values */
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** The thin pool cannot hold what was asked (a thick LUN's reservation, a pool shrink). */
export class InsufficientSpaceError extends VaaiSimError {
  /** @param message - how much was needed and how much is free */
  constructor(message: string) {
    super('ERR_INSUFFICIENT_SPACE', message);
  }
}

/** Throws {@link InvalidArgumentError} when `options` is not a plain object or has a key not in `allowed`. */
export function checkOptionKeys(options: unknown, allowed: readonly string[], where: string): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(`${where}: options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(`${where}: unknown option '${key}' (known: ${allowed.join(', ')})`);
    }
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${what} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is an integer of at least 1 (a count). */
export function checkPositiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got ${describeValue(value)}`);
  return value;
}

/** Throws unless `value` is one of `allowed` (compared with `===`). */
export function checkOneOf<T>(value: unknown, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(`${what} must be one of ${allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

/** `value` for a message: strings quoted, plain objects and arrays as JSON (shortened), class instances by class, the rest as `String` does. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  if (value instanceof Set) return `a Set of ${value.size}`;
  if (typeof value === 'object' && value !== null) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null && !Array.isArray(value)) return `a ${(value as object).constructor?.name ?? 'object'}`;
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  }
  return String(value);
}

/** A check of one option's value: throws {@link InvalidArgumentError} naming `what` when it is wrong. */
export type ValueCheck = (value: unknown, what: string) => void;

/** Value checks to build option tables for {@link checkOptions} from. */
export const is = {
  /** An integer in [min, max]. */
  integer: (min: number, max: number): ValueCheck => (v, what) => void checkInteger(v, min, max, what),
  /** An integer of at least 1. */
  positiveInteger: ((v, what) => void checkPositiveInteger(v, what)) as ValueCheck,
  /** A finite number in [min, max]. */
  number: (min: number, max: number): ValueCheck => (v, what) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new InvalidArgumentError(`${what} must be a number in [${min}, ${max}], got ${describeValue(v)}`);
  },
  /** `true` or `false`. */
  boolean: ((v, what) => {
    if (typeof v !== 'boolean') throw new InvalidArgumentError(`${what} must be true or false, got ${describeValue(v)}`);
  }) as ValueCheck,
  /** A non-empty string. */
  string: ((v, what) => {
    if (typeof v !== 'string' || v === '') throw new InvalidArgumentError(`${what} must be a non-empty string, got ${describeValue(v)}`);
  }) as ValueCheck,
  /** A function. */
  function: ((v, what) => {
    if (typeof v !== 'function') throw new InvalidArgumentError(`${what} must be a function, got ${describeValue(v)}`);
  }) as ValueCheck,
  /** An object (not null, not an array): what it holds is checked elsewhere. */
  object: ((v, what) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`${what} must be an object, got ${describeValue(v)}`);
  }) as ValueCheck,
  /** One of the given values. */
  oneOf: (allowed: readonly unknown[]): ValueCheck => (v, what) => void checkOneOf(v, allowed, what),
  /** An array (of at least `minLength` items) whose every item passes `item`. */
  array: (item: ValueCheck, minLength = 0): ValueCheck => (v, what) => {
    if (!Array.isArray(v)) throw new InvalidArgumentError(`${what} must be an array, got ${describeValue(v)}`);
    if (v.length < minLength) throw new InvalidArgumentError(`${what} must have at least ${minLength} item(s), got ${v.length}`);
    v.forEach((x, i) => item(x, `${what}[${i}]`));
  },
  /** An object with the given options (checked with {@link checkOptions}); `required` keys must be present. */
  options:
    (checks: Readonly<Record<string, ValueCheck>>, required: readonly string[] = []): ValueCheck =>
    (v, what) =>
      checkOptions(v, checks, what, required),
  /** A SCSI target: an object with an `execute(cdb, dataOut, options)` function (a `Lun`, an iSCSI LUN, a fabric port). */
  target: ((v, what) => {
    if (v === null || typeof v !== 'object' || typeof (v as { execute?: unknown }).execute !== 'function') {
      throw new InvalidArgumentError(`${what} must be a target with an execute(cdb, dataOut, options) function, got ${describeValue(v)}`);
    }
  }) as ValueCheck,
  /** An instance of `type` (named `name` in messages). */
  instanceOf:
    (type: abstract new (...args: never[]) => unknown, name: string): ValueCheck =>
    (v, what) => {
      if (!(v instanceof type)) throw new InvalidArgumentError(`${what} must be a ${name}, got ${describeValue(v)}`);
    },
} as const;

/**
 * Checks an options object against a table of its keys: throws {@link InvalidArgumentError} when
 * it is not an object, has a key the table does not list, or a key whose value (when not
 * `undefined`) fails its check, or lacks a key listed in `required`. Messages read
 * `where: key must be ..., got ...`.
 */
export function checkOptions(options: unknown, checks: Readonly<Record<string, ValueCheck>>, where: string, required: readonly string[] = []): void {
  checkOptionKeys(options, Object.keys(checks), where);
  for (const [key, check] of Object.entries(checks)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) check(value, `${where}: ${key}`);
    else if (required.includes(key)) throw new InvalidArgumentError(`${where}: ${key} is required`);
  }
}
