/**
 * The Login Response's Status-Class and Status-Detail (RFC 7143 11.13.5), as one table that the
 * target answers from and the initiator names its errors with.
 * @module
 */

/** One login status: the 16-bit value (Status-Class << 8 | Status-Detail) and its RFC 7143 name. */
export interface LoginStatusEntry {
  /** Status-Class << 8 | Status-Detail, e.g. 0x0203. */
  readonly status: number;
  /** The RFC 7143 11.13.5 description, in lower case, e.g. 'target not found'. */
  readonly name: string;
}

function entry(status: number, name: string): LoginStatusEntry {
  return Object.freeze({ status, name });
}

/** Every login status of RFC 7143 11.13.5, by a constant name. */
export const LoginStatus = Object.freeze({
  /** 0000h: login is proceeding OK. */
  SUCCESS: entry(0x0000, 'success'),
  /** 0101h: the requested iSCSI Target Name has temporarily moved to the address given (TargetAddress). */
  TARGET_MOVED_TEMPORARILY: entry(0x0101, 'target moved temporarily'),
  /** 0102h: the requested iSCSI Target Name has permanently moved to the address given (TargetAddress). */
  TARGET_MOVED_PERMANENTLY: entry(0x0102, 'target moved permanently'),
  /** 0200h: miscellaneous iSCSI initiator error (e.g. a malformed request). */
  INITIATOR_ERROR: entry(0x0200, 'initiator error'),
  /** 0201h: the initiator could not be successfully authenticated, or target authentication is not supported. */
  AUTHENTICATION_FAILURE: entry(0x0201, 'authentication failure'),
  /** 0202h: the initiator is not allowed access to the given target. */
  AUTHORIZATION_FAILURE: entry(0x0202, 'authorization failure'),
  /** 0203h: the requested iSCSI Target Name does not exist at this address. */
  NOT_FOUND: entry(0x0203, 'target not found'),
  /** 0204h: the requested iSCSI Target Name has been removed, and no forwarding address is provided. */
  TARGET_REMOVED: entry(0x0204, 'target removed'),
  /** 0205h: the requested iSCSI version range is not supported by the target. */
  UNSUPPORTED_VERSION: entry(0x0205, 'unsupported version'),
  /** 0206h: too many connections on this SSID. */
  TOO_MANY_CONNECTIONS: entry(0x0206, 'too many connections'),
  /** 0207h: missing parameters (e.g. iSCSI Initiator Name and/or Target Name). */
  MISSING_PARAMETER: entry(0x0207, 'missing parameter'),
  /** 0208h: the target does not support session spanning to this connection (address). */
  CANT_INCLUDE_IN_SESSION: entry(0x0208, "can't include in session"),
  /** 0209h: the target does not support this type of session or not from this initiator. */
  SESSION_TYPE_NOT_SUPPORTED: entry(0x0209, 'session type not supported'),
  /** 020Ah: an attempt to add a connection to a non-existent session. */
  SESSION_DOES_NOT_EXIST: entry(0x020a, 'session does not exist'),
  /** 020Bh: an invalid request type during login. */
  INVALID_DURING_LOGIN: entry(0x020b, 'invalid during login'),
  /** 0300h: the target sustained an error. */
  TARGET_ERROR: entry(0x0300, 'target error'),
  /** 0301h: the iSCSI service or target is not currently operational. */
  SERVICE_UNAVAILABLE: entry(0x0301, 'service unavailable'),
  /** 0302h: the target has insufficient session, connection or other resources. */
  OUT_OF_RESOURCES: entry(0x0302, 'out of resources'),
});

/** The names of the four Status-Classes (RFC 7143 11.13.5). */
const CLASS_NAMES: readonly string[] = ['success', 'redirection', 'initiator error', 'target error'];

const byStatus = new Map<number, string>(Object.values(LoginStatus).map((e) => [e.status, e.name]));

/**
 * The name of a login status (Status-Class << 8 | Status-Detail): its RFC 7143 11.13.5 name, or for
 * a detail the RFC does not define, `unknown <class name> status` (RFC 7143 11.13.5 asks initiators
 * to treat an unknown detail by its class).
 */
export function loginStatusName(status: number): string {
  const known = byStatus.get(status);
  if (known !== undefined) return known;
  const className = CLASS_NAMES[status >>> 8];
  return className === undefined ? 'unknown status class' : `unknown ${className} status`;
}

/** A login status as four upper-case hex digits with an `h` suffix, as T10 and RFC 7143 write them: `0203h`. */
export function formatLoginStatus(status: number): string {
  return `${status.toString(16).toUpperCase().padStart(4, '0')}h`;
}
