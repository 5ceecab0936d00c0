/**
 * The errors an iSCSI initiator throws: a login the target refused (with the RFC 7143 status
 * named), a TCP connection that could not be made or broke during login, and a malformed
 * `iscsi://` URL.
 * @module
 */
import { InvalidArgumentError, VaaiSimError } from '../common/errors.js';
import { formatLoginStatus, loginStatusName } from './pdu/login-status.js';

/** `host:port`, with an IPv6 address in brackets (`[::1]:3260`). */
export function formatPortal(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * A login that did not complete (RFC 7143 6, 11.13).
 *
 * Most often the target refused it with a Login Response whose Status-Class is not 0 (`origin` is
 * `'target'`): for example `target not found (0203h)`, `authentication failure (0201h)` or
 * `authorization failure (0202h)` for an initiator outside the target's ACL.
 *
 * The initiator also ends a login itself (`origin` is `'initiator'`), and then reports the status
 * it would have answered with: `authentication failure (0201h)` when the target fails mutual CHAP
 * or asks for authentication this initiator has no credentials for, and `target error (0300h)`
 * when the target breaks the login protocol (a malformed CHAP challenge, a Reject, a PDU that
 * cannot be decoded); `detail` then says what happened.
 */
export class IscsiLoginError extends VaaiSimError {
  /** The target name the login was for. */
  readonly targetName: string;
  /** Target portal address. */
  readonly host: string;
  /** Target portal port. */
  readonly port: number;
  /** Status-Class (0 success, 1 redirection, 2 initiator error, 3 target error). */
  readonly statusClass: number;
  /** Status-Detail within the class. */
  readonly statusDetail: number;
  /** `statusClass << 8 | statusDetail`, e.g. 0x0203. */
  readonly status: number;
  /** The RFC 7143 11.13.5 name of the status, e.g. 'target not found'. */
  readonly statusName: string;
  /** Who ended the login: the target (with its Login Response) or this initiator. */
  readonly origin: 'target' | 'initiator';
  /** What the initiator found wrong, when `origin` is `'initiator'` (or the redirection address). */
  readonly detail: string | undefined;

  /**
   * @param f - the login's target and portal, the status, who ended the login, and a detail
   */
  constructor(f: { readonly targetName: string; readonly host: string; readonly port: number; readonly status: number; readonly origin: 'target' | 'initiator'; readonly detail?: string }) {
    const statusName = loginStatusName(f.status);
    const what = `${statusName} (${formatLoginStatus(f.status)})`;
    const where = `iSCSI login to ${f.targetName} at ${formatPortal(f.host, f.port)}`;
    super(
      'ERR_ISCSI_LOGIN',
      f.origin === 'target'
        ? `${where} rejected: ${what}${f.detail === undefined ? '' : `, ${f.detail}`}`
        : `${where} failed: ${f.detail ?? 'ended by the initiator'}: ${what}`,
    );
    this.targetName = f.targetName;
    this.host = f.host;
    this.port = f.port;
    this.status = f.status;
    this.statusClass = f.status >>> 8;
    this.statusDetail = f.status & 0xff;
    this.statusName = statusName;
    this.origin = f.origin;
    this.detail = f.detail;
  }
}

/** What common system errors of `connect` mean, in words. */
const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the peer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed temporarily',
  EPIPE: 'connection closed by the peer',
};

/**
 * The TCP connection to a target portal could not be made (refused, unreachable, timed out, an
 * unknown host name), it closed or failed before the login completed (`during` 'login'), or, once
 * logged in, it closed or failed with commands outstanding or before a new one (`during` 'session':
 * the transport is lost, and a command it carried may or may not have run).
 */
export class IscsiConnectionError extends VaaiSimError {
  /** Target portal address. */
  readonly host: string;
  /** Target portal port. */
  readonly port: number;
  /** The system error (its `code` is e.g. `ECONNREFUSED`), or an Error saying the connection closed. */
  override readonly cause: Error;

  /**
   * @param host - portal address; @param port - portal port; @param cause - the system error
   * @param during - what was under way: 'connect', 'login' or 'session' (after the login)
   */
  constructor(host: string, port: number, cause: Error, during: 'connect' | 'login' | 'session' = 'connect') {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === undefined ? cause.message : `${SYSTEM_ERRORS[code] ?? cause.message} (${code})`;
    const where = `iSCSI connection to ${formatPortal(host, port)}`;
    super('ERR_ISCSI_CONNECTION', during === 'connect' ? `${where} failed: ${why}` : during === 'login' ? `${where} failed during login: ${why}` : `${where} closed: ${why}`);
    this.host = host;
    this.port = port;
    this.cause = cause;
    this.during = during;
  }

  /** What was under way: making the connection, the login, or the logged-in session. */
  readonly during: 'connect' | 'login' | 'session';
}

/**
 * A command had no answer within the session's `commandTimeoutMs` (a target port that is a black
 * hole, a hung target). The initiator cannot know whether the command ran: it ends the session (the
 * target then sees its I_T nexus lost, RFC 7143 6.3.5 at ERL 0), and every command still outstanding
 * on it rejects with this error too.
 */
export class IscsiTimeoutError extends VaaiSimError {
  /** Target portal address. */
  readonly host: string;
  /** Target portal port. */
  readonly port: number;
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;

  /** @param host - portal address; @param port - portal port; @param timeoutMs - the timeout that expired */
  constructor(host: string, port: number, timeoutMs: number) {
    super('ERR_ISCSI_TIMEOUT', `iSCSI command to ${formatPortal(host, port)} had no answer within ${timeoutMs} ms (commandTimeoutMs); the session is closed`);
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
  }
}

/** The part of an `iscsi://host[:port]/target-iqn/lun` URL that is missing or invalid. */
export type IscsiUrlPart = 'scheme' | 'host' | 'port' | 'target' | 'lun';

/** An `iscsi://` URL that `parseIscsiUrl` cannot read; `part` says which part is wrong. */
export class IscsiUrlError extends InvalidArgumentError {
  /** The URL as given. */
  readonly url: string;
  /** The part that is missing or invalid. */
  readonly part: IscsiUrlPart;

  /** @param url - the URL; @param part - the wrong part; @param problem - what is wrong with it */
  constructor(url: string, part: IscsiUrlPart, problem: string) {
    super(`invalid iSCSI URL '${url}': ${problem} (expected iscsi://host[:port]/target-iqn/lun)`);
    this.url = url;
    this.part = part;
  }
}
