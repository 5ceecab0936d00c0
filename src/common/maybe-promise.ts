/**
 * A value that may come synchronously or later: `execute` answers synchronously unless a fault rule
 * delays the command, and every layer that calls it passes the same shape on.
 * @module
 */

/** A command may return synchronously, or a Promise when a fault rule delays it. */
export type MaybePromise<T> = T | Promise<T>;
