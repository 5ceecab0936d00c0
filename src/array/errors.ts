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
