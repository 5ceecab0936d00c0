/**
 * What every Data-In decoder returns: the typed record, or a typed failure saying why the bytes do
 * not hold one. Decoders read only bytes that are there; a page that its own length field says is
 * longer than what arrived (the ALLOCATION LENGTH cut it) is `truncated`, with the length that
 * would hold it, so the caller can ask again. Nothing here throws on short input.
 * @module
 */

/** Why Data-In could not be decoded. */
export interface DataInFailure {
  /** Discriminant: no record. */
  readonly ok: false;
  /**
   * `truncated`: the data ends before the length its header announces (ALLOCATION LENGTH too small);
   * `short`: too few bytes for the header itself; `wrong-page`: a VPD page with another PAGE CODE;
   * `malformed`: a length field that no well-formed answer has.
   */
  readonly problem: 'truncated' | 'short' | 'wrong-page' | 'malformed';
  /** With `truncated` and `short`: how many bytes the answer needs (an ALLOCATION LENGTH that suffices). */
  readonly requiredLength?: number;
  /** The failure in words, for reports. */
  readonly message: string;
}

/** A decoded Data-In record. */
export interface DataInSuccess<T> {
  /** Discriminant: the record is in `value`. */
  readonly ok: true;
  /** The decoded record. */
  readonly value: T;
}

/** The result of a Data-In decoder. */
export type DataInResult<T> = DataInSuccess<T> | DataInFailure;

/** Wraps a decoded record. */
export function decoded<T>(value: T): DataInSuccess<T> {
  return { ok: true, value };
}

/** `what` needs `requiredLength` bytes and only `length` arrived. */
export function truncated(what: string, length: number, requiredLength: number): DataInFailure {
  return { ok: false, problem: 'truncated', requiredLength, message: `${what}: ${length} bytes, the header announces ${requiredLength}` };
}

/** `what` needs at least `requiredLength` bytes for its header. */
export function short(what: string, length: number, requiredLength: number): DataInFailure {
  return { ok: false, problem: 'short', requiredLength, message: `${what}: ${length} bytes, fewer than the ${requiredLength} it needs` };
}

/** `what` is not well formed. */
export function malformed(what: string, why: string): DataInFailure {
  return { ok: false, problem: 'malformed', message: `${what}: ${why}` };
}
