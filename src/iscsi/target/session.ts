/**
 * What an iSCSI session is to the target: the targets a server exposes, the identity of a session
 * (initiator name, ISID, TSIH), what a connection needs from its server, and the one place where a
 * logged-in session becomes an I_T nexus ({@link openSession}).
 * @module
 */
import type { Lun } from '../../scsi/logical-unit.js';
import type { ChapSecrets } from '../auth/chap.js';

/** A target as the server exposes it. */
export interface ExposedTarget {
  /** CHAP required to log in, when set. */
  readonly chap?: ChapSecrets;
  /** iSCSI qualified name. */
  readonly name: string;
  /** LUNs by number (each under its own array LUN id). */
  readonly luns: ReadonlyMap<number, Lun>;
  /** Initiator names allowed to log in; any when undefined. */
  readonly initiators: ReadonlySet<string> | undefined;
}

/** What names an iSCSI session: initiator name, ISID (hex) and, once logged in, TSIH. */
export interface SessionIdentity {
  /** InitiatorName. */
  readonly initiatorName: string;
  /** ISID as 12 hex digits. */
  readonly isid: string;
  /** TSIH (0 while the session is being created). */
  readonly tsih: number;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  /** Targets by name. */
  readonly targets: ReadonlyMap<string, ExposedTarget>;
  /** `TargetAddress` values for SendTargets (`ip:port,tpgt`). */
  readonly portal: string;
  /** Target portal group tag. */
  readonly portalGroupTag: number;
  /** A new TSIH for a session. */
  newTsih(): number;
  /**
   * Registers a logged-in session's nexus name with its target (for LUN access control). A session
   * with the same initiator name, ISID and target that is still logged in is closed first: this is
   * session reinstatement (RFC 7143 6.3.5), how an initiator that lost its connection starts over.
   */
  registerNexus(nexus: string, target: ExposedTarget, session: SessionIdentity, connection: { close(): void }): void;
  /** Whether a session with this initiator name, ISID and TSIH is logged in. */
  hasSession(session: SessionIdentity): boolean;
  /** Forgets a nexus. */
  unregisterNexus(nexus: string): void;
}

/**
 * A normal session that has just completed its login becomes an I_T nexus: names it and registers it
 * with the server (which closes a session it reinstates). Returns the nexus name, under which the
 * session's commands reach the logical units and which {@link ConnectionHost.unregisterNexus} forgets.
 */
export function openSession(host: ConnectionHost, session: SessionIdentity, target: ExposedTarget, connection: { close(): void }): string {
  const nexus = `${session.initiatorName},i,0x${session.isid},t,${target.name},tsih,${session.tsih}`;
  host.registerNexus(nexus, target, session, connection);
  return nexus;
}
