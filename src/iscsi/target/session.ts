/**
 * What an iSCSI session is to the target: the targets a server exposes, the identity of a session
 * (initiator name, ISID, TSIH), what a connection needs from its server, and the one place where a
 * logged-in session becomes an I_T nexus ({@link openSession}).
 * @module
 */
import type { Lun } from '../../scsi/logical-unit.js';
import { iscsiInitiatorPort, itNexus, type ItNexus, type TargetPort } from '../../scsi/ports.js';
import type { ChapSecrets } from '../auth/chap.js';
import type { LoginStatusEntry } from '../pdu/login-status.js';

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
  /** `TargetAddress` values of `target` for SendTargets (`ip:port,tpgt`): one per portal of the server. */
  targetAddresses(target: ExposedTarget): readonly string[];
  /** Target portal group tag of the portal the connection came in through. */
  readonly portalGroupTag: number;
  /**
   * The first Login Request of a normal session named `target` (known, and the initiator in its ACL):
   * the status to refuse the login with when the target's port on this portal cannot take it (its
   * link is down), else undefined.
   */
  loginTarget(target: ExposedTarget): LoginStatusEntry | undefined;
  /** A new TSIH for a session. */
  newTsih(): number;
  /**
   * The array's target port of `target` (`<target name>,t,0x<TPGT>`, RFC 7143 13.4), which carries its
   * LUN map and ACL; undefined when the server is not listening.
   */
  targetPort(target: ExposedTarget): TargetPort | undefined;
  /**
   * Registers a logged-in session as the session of its I_T nexus. When a session of the same nexus
   * (initiator name, ISID and target) is still logged in, this is session reinstatement (RFC 7143
   * 6.3.5): the old session is closed and its nexus lost, then the nexus continues in `connection`
   * with UNIT ATTENTION 06/29/07 (see {@link openSession}).
   */
  registerNexus(nexus: ItNexus, session: SessionIdentity, connection: { close(): void }): void;
  /** Whether a session with this initiator name, ISID and TSIH is logged in. */
  hasSession(session: SessionIdentity): boolean;
  /**
   * The session on `connection` ended (logout, a dropped connection, a cold reset): the loss of its
   * nexus (SAM-5 6.3.4). Nothing when `connection` no longer holds the nexus (a reinstated session's
   * old connection closing after the new one took the nexus over).
   */
  unregisterNexus(nexus: ItNexus, connection: { close(): void }): void;
}

/**
 * A normal session that has just completed its login becomes an I_T nexus: the initiator port (the
 * initiator name and ISID, `iqn…,i,0x<ISID>`) and the target port of the target it logged in to
 * (`iqn…,t,0x<TPGT>`), RFC 7143 4.4 and 13.4. The TSIH names the iSCSI session, not a SCSI port, so
 * it is not part of the nexus. Registers the nexus with the server and returns it (undefined when the
 * server has no port for the target, i.e. it is closing); the session's commands reach the logical
 * units on it, and {@link ConnectionHost.unregisterNexus} ends it.
 *
 * **Session reinstatement** (RFC 7143 6.3.5: a login with TSIH 0 and the initiator name and ISID of a
 * live session to the same target) gives the new session the **same** I_T nexus. The target
 * terminates the old session and all its tasks (RFC 7143 6.3.5), which is an I_T nexus loss
 * (SAM-5 6.3.4) of that nexus, handled before the new session's first command:
 * - its SCSI-2 reservation is released (the nexus-loss rule this array applies since before issue 11,
 *   after SAM-5 6.3.4; LIO's `transport_deregister_session` likewise releases the SPC-2 reservation
 *   of a session that goes), so the reinstated session must RESERVE again and another nexus may take it;
 * - its pending unit attentions and held EXTENDED COPY results are discarded with the old session,
 *   and each logical unit the nexus reaches establishes UNIT ATTENTION, I_T NEXUS LOSS OCCURRED
 *   (06/29/07, SAM-5 6.3.4, SPC-4 annex D) for it, which the reinstated session's first command other
 *   than INQUIRY, REPORT LUNS or REQUEST SENSE reports (SAM-5 5.14);
 * - other nexuses get no unit attention (the loss is of this nexus only) and see the reservation gone.
 * A session that ends without being reinstated (logout, a dropped connection) is the same loss, but
 * its nexus then no longer exists and the target keeps no state for it: a later login with the same
 * names starts clean.
 */
export function openSession(host: ConnectionHost, session: SessionIdentity, target: ExposedTarget, connection: { close(): void }): ItNexus | undefined {
  const port = host.targetPort(target);
  if (port === undefined) return undefined;
  const nexus = itNexus(iscsiInitiatorPort(session.initiatorName, session.isid), port);
  host.registerNexus(nexus, session, connection);
  return nexus;
}
