/**
 * The exit codes of `vaai-sim` and the mapping of a thrown error to one of them, shared by
 * `main` (which returns the code) and the executable (which maps anything that escapes `main`).
 * @module
 */

/** The exit codes, as `--help` and docs/cli.md document them. */
export const EXIT = {
  /** Everything asked was done: the check passed, the benchmark ran, the server stopped cleanly. */
  ok: 0,
  /** `check` found a defect, or `bench --strict` missed a target. */
  failed: 1,
  /** Usage or input error: an unknown command or option, a bad value, a bad config file or URL. */
  usage: 2,
  /** The iSCSI target could not be reached, refused the login, or has no such LUN. */
  unreachable: 3,
  /** The system refused a resource the command needs: the listen address is in use or not permitted, a file cannot be written. */
  environment: 4,
  /** An unexpected internal error (a defect of vaai-sim; `VAAI_SIM_DEBUG=1` prints its stack). */
  internal: 70,
} as const;

/** The exit-code section of every `--help` text. */
export const EXIT_CODES_HELP = `Exit codes:
  0   ok
  1   the check found a defect; bench --strict: a target was missed
  2   usage or input error (bad option, value, config file or URL)
  3   the iSCSI target could not be reached, refused the login or has no such LUN
  4   the system refused a resource (listen address in use or not permitted, file not writable)
  70  internal error (set VAAI_SIM_DEBUG=1 for the stack)`;

/** The code of the error `serve` throws when it cannot listen (the system refused the address): exit 4. */
export const LISTEN_ERROR = 'ERR_LISTEN';

/** Error codes (`VaaiSimError.code`) of a target that could not be reached or refused us. */
const TARGET_CODES = new Set(['ERR_ISCSI_LOGIN', 'ERR_ISCSI_CONNECTION', 'ERR_LUN_NOT_FOUND']);
/** Error codes of bad input. */
const INPUT_CODES = new Set(['ERR_INVALID_ARGUMENT', 'ERR_INSUFFICIENT_SPACE']);
/** Node system error codes of a connection that could not be made or was dropped. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** Node system error codes of a resource the system refused. */
const ENVIRONMENT_CODES = new Set([LISTEN_ERROR, 'EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EMFILE', 'ENFILE', 'EISDIR', 'ENOTDIR']);

/** The `code` of an error, when it has a string one. */
export function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The exit code for an error thrown while running a command (see {@link EXIT}). */
export function exitCodeFor(error: unknown): number {
  const code = errorCode(error);
  if (code === undefined) return EXIT.internal;
  if (TARGET_CODES.has(code) || NETWORK_CODES.has(code)) return EXIT.unreachable;
  if (INPUT_CODES.has(code)) return EXIT.usage;
  if (ENVIRONMENT_CODES.has(code)) return EXIT.environment;
  return EXIT.internal;
}

/**
 * The line printed for an error: `vaai-sim: <message>`, with `internal error:` before the message
 * of an unexpected one, and the stack only when the environment variable `VAAI_SIM_DEBUG` is `1`.
 */
export function describeError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const message = error instanceof Error ? error.message : String(error);
  const internal = exitCodeFor(error) === EXIT.internal;
  const debug = env.VAAI_SIM_DEBUG === '1';
  const head = message
    .split('\n')
    .map((line, i) => `vaai-sim: ${i === 0 && internal ? 'internal error: ' : ''}${line}`)
    .join('\n');
  if (debug && error instanceof Error && error.stack !== undefined) return `${head}\n${error.stack}\n`;
  return `${head}${internal ? '\n  (a defect of vaai-sim: run again with VAAI_SIM_DEBUG=1 for the stack and report it)' : ''}\n`;
}
