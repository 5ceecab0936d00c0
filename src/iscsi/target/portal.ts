/**
 * One portal of the iSCSI server: a listening address with its portal group tag, and for every target
 * one SCSI target port in the portal's target port group. The portal runs a {@link TargetConnection}
 * per TCP connection, and applies the link state of its target ports to them
 * (docs/decisions/iscsi.md, "Portals"):
 * - `'down'`: the connections through the port are dropped (an I_T nexus loss for each session) and
 *   new ones are refused: the portal stops listening when every one of its ports is down (TCP is
 *   refused, as from an address whose link is gone), and a login to a target whose port alone is down
 *   is refused with `service unavailable (0301h)`;
 * - `'black-hole'`: TCP is accepted and nothing is answered, neither a login nor a command; what was
 *   sent either way waits until the link is restored or the connection dropped;
 * - a latency: every PDU the target sends through the port leaves that many milliseconds later.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { StorageArray } from '../../scsi/storage-array.js';
import type { ItNexus, TargetPort } from '../../scsi/ports.js';
import { formatPortal } from '../errors.js';
import { LoginStatus } from '../pdu/login-status.js';
import { TargetConnection } from './connection.js';
import type { PortLink } from '../../array/events.js';
import { GatedSocket, LINK_UP, type LinkCondition } from './link.js';
import type { ConnectionHost, ExposedTarget, SessionIdentity } from './session.js';

/** A portal as the server configured it. */
export interface PortalConfig {
  /** Position among the server's portals, from 0. */
  readonly index: number;
  /** Address to listen on. */
  readonly host: string;
  /** TCP port (0: a free one). */
  readonly port: number;
  /** Target portal group tag. */
  readonly tag: number;
  /** TARGET PORT GROUP of the portal's target ports (the array's default when undefined). */
  readonly group: number | undefined;
}

/** What the portals of one server share: sessions are the server's, whichever portal they came through. */
export interface SessionHost {
  /** A new TSIH. */
  newTsih(): number;
  /** `TargetAddress` values (`address:port,tpgt`) of every listening portal, for `target`. */
  addresses(target: ExposedTarget): readonly string[];
  /** See {@link ConnectionHost.registerNexus}. */
  registerNexus(nexus: ItNexus, session: SessionIdentity, connection: { close(): void }): void;
  /** See {@link ConnectionHost.hasSession}. */
  hasSession(session: SessionIdentity): boolean;
  /** See {@link ConnectionHost.unregisterNexus}. */
  unregisterNexus(nexus: ItNexus, connection: { close(): void }): void;
}

/** The link of a target port as the transport honours it. */
function conditionOf(port: TargetPort): LinkCondition {
  return port.link === 'up' && port.latencyMs === 0 ? LINK_UP : { link: port.link, latencyMs: port.latencyMs };
}

/** One TCP connection of the portal. */
interface Link {
  readonly socket: GatedSocket;
  readonly connection: TargetConnection;
  /** The target its login named, once it did. */
  target: ExposedTarget | undefined;
}

/** A listening address serving every target of the server through its own target ports. */
export class Portal {
  /** The configuration. */
  readonly config: PortalConfig;
  readonly #array: StorageArray;
  readonly #targets: ReadonlyMap<string, ExposedTarget>;
  readonly #shared: SessionHost;
  readonly #ports = new Map<ExposedTarget, TargetPort>();
  readonly #links = new Set<Link>();
  #server: Server | undefined;
  #bound: { readonly address: string; readonly port: number } | undefined;
  #open = false;
  /** Listeners stopped by a link that went down, until their close completes. */
  readonly #closing = new Set<Promise<void>>();
  #unsubscribe: (() => void) | undefined;

  /**
   * @param config - address, tag and group; @param array - the array whose target ports it adds
   * @param targets - the server's targets; @param shared - what the server's portals share
   */
  constructor(config: PortalConfig, array: StorageArray, targets: ReadonlyMap<string, ExposedTarget>, shared: SessionHost) {
    this.config = config;
    this.#array = array;
    this.#targets = targets;
    this.#shared = shared;
  }

  /** The bound address, while listening. */
  get bound(): { readonly address: string; readonly port: number } | undefined {
    return this.#bound;
  }

  /** True while open and not refusing connections (some of its ports is not down). */
  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** Address, port (bound, once it was), tag and group. */
  get info(): { readonly host: string; readonly port: number; readonly portalGroupTag: number; readonly targetPortGroup: number | undefined } {
    const { host, port, tag, group } = this.config;
    return { host: this.#bound?.address ?? host, port: this.#bound?.port ?? port, portalGroupTag: tag, targetPortGroup: group };
  }

  /** The target port of `target` on this portal, while it is open. */
  port(target: ExposedTarget): TargetPort | undefined {
    return this.#ports.get(target);
  }

  /** True while the portal takes logins to `target`: it listens, and the target's port here is not down. */
  serves(target: ExposedTarget): boolean {
    return this.#server !== undefined && this.#ports.get(target)?.link !== 'down';
  }

  /** The SendTargets `TargetAddress` of this portal (RFC 7143 13.8): `address:port,tpgt`. */
  targetAddress(target: ExposedTarget): string {
    void target; // one address for every target of the portal
    const { host, port } = this.info;
    return `${formatPortal(host, port)},${this.config.tag}`;
  }

  /**
   * Adds a target port per target (`<target>,t,0x<TPGT>`) in the portal's group, and listens (unless
   * every port is down already). Rejects with the system error when the address cannot be taken.
   */
  async open(): Promise<void> {
    if (this.#open) return;
    this.#open = true;
    const tpgt = this.config.tag.toString(16).padStart(4, '0');
    for (const target of this.#targets.values()) {
      const port = this.#array.addTargetPort({
        name: `${target.name},t,0x${tpgt}`,
        luns: [...target.luns.values()],
        ...(target.initiators === undefined ? {} : { initiators: [...target.initiators] }),
        ...(this.config.group === undefined ? {} : { groupId: this.config.group }),
      });
      this.#ports.set(target, port);
    }
    this.#unsubscribe = this.#watchLinks();
    if (this.#aggregate().link === 'down') return; // every port down already: nothing to listen for yet
    await this.#listen(this.config.port);
  }

  /** Stops listening, ends every connection (a nexus loss for each session) and removes the target ports. */
  async close(): Promise<void> {
    this.#open = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const link of [...this.#links]) {
      link.connection.close();
      // What waits behind a black hole or a latency is not sent: the connection goes now.
      const { link: state, latencyMs } = this.#condition(link);
      if (state !== 'up' || latencyMs > 0) link.socket.drop();
    }
    for (const port of this.#ports.values()) if (this.#array.hasTargetPort(port)) this.#array.removeTargetPort(port);
    this.#ports.clear();
    this.#stopListening();
    await Promise.all(this.#closing);
  }

  /** Follows the link state of the portal's target ports (the array's `portLinkChanged` event). */
  #watchLinks(): () => void {
    return this.#array.on('portLinkChanged', (e) => {
      if ([...this.#ports.values()].some((p) => p.relativeId === e.relativeId)) this.#linkChanged();
    });
  }

  /** A port's link changed: drop, hold or release the connections, and refuse or accept TCP. */
  #linkChanged(): void {
    for (const link of [...this.#links]) {
      if (this.#condition(link).link === 'down') {
        link.connection.close();
        link.socket.drop();
        this.#links.delete(link);
      } else link.socket.update();
    }
    // Listening stops and starts at once (not after a promise), so that a connection attempted
    // right after the change meets the new state. Restarting takes the port bound before; should it
    // be taken meanwhile, the portal stays closed (the error has nobody to go to).
    const down = this.#aggregate().link === 'down';
    if (down) this.#stopListening();
    else if (this.#server === undefined && this.#bound !== undefined) this.#listen(this.#bound.port).catch(() => undefined);
  }

  /**
   * The link a connection is subject to: its target's port once the login named the target, before
   * that (and for a discovery session) the portal's: up when some port is up (with the least latency
   * of those), else a black hole when some port is one, else down.
   */
  #condition(link: Link): LinkCondition {
    const port = link.target === undefined ? undefined : this.#ports.get(link.target);
    return port === undefined ? this.#aggregate() : conditionOf(port);
  }

  #aggregate(): LinkCondition {
    if (this.#ports.size === 0) return LINK_UP;
    const all = [...this.#ports.values()].map(conditionOf);
    for (const state of ['up', 'black-hole'] as const satisfies readonly PortLink[]) {
      const some = all.filter((c) => c.link === state);
      if (some.length > 0) return { link: state, latencyMs: Math.min(...some.map((c) => c.latencyMs)) };
    }
    return { link: 'down', latencyMs: 0 };
  }

  /** Listens on `port` (0: a free one); resolves once bound, rejects with the system error. */
  #listen(port: number): Promise<void> {
    if (!this.#open || this.#server !== undefined) return Promise.resolve();
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', (e) => {
        if (this.#server === server) this.#server = undefined;
        reject(e);
      });
      server.listen(port, this.config.host, () => {
        const a = server.address();
        if (a === null || typeof a === 'string') return reject(new Error('IscsiServer: no TCP address'));
        this.#bound = { address: a.address, port: a.port };
        resolve();
      });
    });
  }

  /** Stops taking connections now (TCP is refused from here on); the close completes in the background. */
  #stopListening(): void {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    if (!server.listening) {
      // Still binding: close it once bound (or let a failed bind end it).
      server.once('listening', () => server.close());
      return;
    }
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.#closing.add(closed);
    void closed.then(() => this.#closing.delete(closed));
  }

  #accept(socket: Socket): void {
    if (!this.#open) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    let link: Link | undefined;
    const shared = this.#shared;
    const host: ConnectionHost = {
      targets: this.#targets,
      portalGroupTag: this.config.tag,
      targetAddresses: (target) => shared.addresses(target),
      newTsih: () => shared.newTsih(),
      targetPort: (target) => this.#ports.get(target),
      loginTarget: (target) => {
        if (link === undefined) return undefined;
        link.target = target;
        if (this.#condition(link).link === 'down') return LoginStatus.SERVICE_UNAVAILABLE;
        link.socket.update(); // a black hole of the target's own port starts here
        return undefined;
      },
      registerNexus: (nexus, session, connection) => shared.registerNexus(nexus, session, connection),
      hasSession: (session) => shared.hasSession(session),
      unregisterNexus: (nexus, connection) => shared.unregisterNexus(nexus, connection),
    };
    let connection: TargetConnection | undefined;
    const gated = new GatedSocket(socket, () => (link === undefined ? this.#aggregate() : this.#condition(link)), (chunk) => connection?.receive(chunk));
    connection = new TargetConnection(host, gated);
    link = { socket: gated, connection, target: undefined };
    this.#links.add(link);
    const gone = (): void => {
      connection.close();
      this.#links.delete(link);
    };
    socket.on('close', gone);
    socket.on('error', gone);
    if (this.#condition(link).link === 'down') {
      // accepted as the link went down
      connection.close();
      gated.drop();
    }
  }
}
