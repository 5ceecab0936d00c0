/**
 * The iSCSI target server: one or more portals (`portal.ts`), each listening with `node:net` and
 * running one `TargetConnection` per TCP connection; on each portal every target is a target port of
 * the array (its LUN map and ACL, in the portal's target port group), and every logged-in session goes
 * through the port of the portal it came in on, so that a nexus reaches only that target's LUNs. The
 * session table is the server's: a session reinstated through another portal is another nexus.
 * @module
 */
import { InvalidArgumentError, checkOptions, is, type ValueCheck } from '../../common/errors.js';
import { Lun } from '../../scsi/logical-unit.js';
import { StorageArray } from '../../scsi/storage-array.js';
import type { ItNexus, TargetPort } from '../../scsi/ports.js';
import { isChapSecrets, type ChapSecrets } from '../auth/chap.js';
import { formatPortal } from '../errors.js';
import { Portal, type PortalConfig, type SessionHost } from './portal.js';
import type { ExposedTarget, SessionIdentity } from './session.js';

/** One target of the server. */
export interface IscsiTargetConfig {
  /** The target's iSCSI qualified name, e.g. `iqn.2026-11.dev.vaai-sim:array0`. */
  readonly name: string;
  /** Its LUNs, each exposed under its own LUN number. */
  readonly luns: readonly Lun[];
  /** Initiator names allowed to log in to it (its ACL); any when left out. */
  readonly initiators?: readonly string[];
  /** CHAP secrets: when set, initiators must authenticate (one-way, or mutual with `mutual`). */
  readonly chap?: ChapSecrets;
}

/**
 * One portal of the server: a listening address, and for every target a SCSI target port in a target
 * port group, named by the portal group tag (RFC 7143 4.4, 13.4: `<target>,t,0x<TPGT>`).
 */
export interface IscsiPortalConfig {
  /** Address to listen on. @defaultValue the server's `host` ('127.0.0.1') */
  readonly host?: string;
  /** TCP port; 0 picks a free one. @defaultValue 3260 */
  readonly port?: number;
  /** Target portal group tag (TPGT), distinct across the server's portals. @defaultValue the portal's position, from 1 */
  readonly portalGroupTag?: number;
  /** TARGET PORT GROUP of the portal's target ports (SPC-5 6.37, the ALUA group). @defaultValue 0 */
  readonly targetPortGroup?: number;
}

/** Options of {@link IscsiServer}. */
export interface IscsiServerOptions {
  /** The array behind every target. */
  readonly array: StorageArray;
  /** The targets; each is served on every portal. */
  readonly targets: readonly IscsiTargetConfig[];
  /** Address to listen on (of every portal that names none). @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** TCP port of the one portal, without `portals`; 0 picks a free one. @defaultValue 3260 */
  readonly port?: number;
  /** Target portal group tag of the one portal, without `portals`. @defaultValue 1 */
  readonly portalGroupTag?: number;
  /**
   * Several portals, each a listening address and one target port per target (instead of `port` and
   * `portalGroupTag`, which describe the one portal of a server without this option).
   * @defaultValue one portal on `host`:`port` with tag `portalGroupTag`
   */
  readonly portals?: readonly IscsiPortalConfig[];
}

/** What one entry of {@link IscsiServerOptions.targets} accepts. */
const TARGET_OPTIONS = {
  name: is.string,
  luns: is.array(is.instanceOf(Lun, 'Lun')),
  initiators: is.array(is.string),
  chap: isChapSecrets,
} as const satisfies Record<keyof IscsiTargetConfig, ValueCheck>;

/** What one entry of {@link IscsiServerOptions.portals} accepts. */
const PORTAL_OPTIONS = {
  host: is.string,
  port: is.integer(0, 65535),
  portalGroupTag: is.integer(0, 65535),
  targetPortGroup: is.integer(0, 65535),
} as const satisfies Record<keyof IscsiPortalConfig, ValueCheck>;

/** What {@link IscsiServer} accepts. */
const SERVER_OPTIONS = {
  array: is.instanceOf(StorageArray, 'StorageArray'),
  targets: is.array(is.options(TARGET_OPTIONS, ['name', 'luns'])),
  host: is.string,
  port: is.integer(0, 65535),
  portalGroupTag: is.integer(0, 65535),
  portals: is.array(is.options(PORTAL_OPTIONS, [])),
} as const satisfies Record<keyof IscsiServerOptions, ValueCheck>;

/** A bound TCP address. */
export interface BoundAddress {
  /** IP address. */
  readonly address: string;
  /** TCP port. */
  readonly port: number;
}

/** A portal of a server, as {@link IscsiServer.portals} describes it. */
export interface IscsiPortalInfo {
  /** The address it listens on (the bound one once listening). */
  readonly host: string;
  /** Its TCP port (the bound one once listening; 0 before, when a free one is to be picked). */
  readonly port: number;
  /** Target portal group tag. */
  readonly portalGroupTag: number;
  /** TARGET PORT GROUP of its target ports. */
  readonly targetPortGroup: number | undefined;
}

/** True when two listening addresses would take the same TCP port (a wildcard address takes it on every address). */
function collide(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::' || h === '';
  return a.host === b.host || wildcard(a.host) || wildcard(b.host);
}

/**
 * An iSCSI target serving an array on one or more portals. Each portal is a listening address and,
 * for every target, one SCSI target port (`<target>,t,0x<TPGT>`) in the portal's target port group;
 * a session's I_T nexus is its initiator port with the target port of the portal it logged in to.
 * The link state of those target ports (down, black hole, latency) applies to the connections of the
 * portal (docs/decisions/iscsi.md, "Portals").
 */
export class IscsiServer {
  readonly #array: StorageArray;
  readonly #targets = new Map<string, ExposedTarget>();
  readonly #portals: Portal[];
  /**
   * Logged-in sessions by the key of their I_T nexus (initiator name and ISID, target port): at most
   * one per nexus (an iSCSI session is an I_T nexus, RFC 7143 4.4), which session reinstatement replaces.
   */
  readonly #sessions = new Map<string, { nexus: ItNexus; session: SessionIdentity; connection: { close(): void } }>();
  #tsih = 0;
  #listening = false;

  /** @param options - see {@link IscsiServerOptions} */
  constructor(options: IscsiServerOptions) {
    checkOptions(options, SERVER_OPTIONS, 'IscsiServer', ['array', 'targets']);
    this.#array = options.array;
    for (const t of options.targets) {
      if (!/^(iqn\.|eui\.|naa\.)/.test(t.name)) throw new InvalidArgumentError(`IscsiServer: target name '${t.name}' is not an iqn., eui. or naa. name`);
      if (this.#targets.has(t.name)) throw new InvalidArgumentError(`IscsiServer: duplicate target ${t.name}`);
      for (const lun of t.luns) if (lun.array !== this.#array) throw new InvalidArgumentError(`IscsiServer: LUN ${lun.id} of ${t.name} belongs to another array`);
      if (t.chap !== undefined && (t.chap.secret.length < 12 || (t.chap.mutual !== undefined && t.chap.mutual.secret.length < 12))) {
        throw new InvalidArgumentError(`IscsiServer: CHAP secrets of ${t.name} must be at least 12 characters (RFC 7143 12.1.3)`);
      }
      this.#targets.set(t.name, {
        name: t.name,
        luns: new Map(t.luns.map((l) => [l.id, l])),
        initiators: t.initiators === undefined ? undefined : new Set(t.initiators),
        ...(t.chap === undefined ? {} : { chap: t.chap }),
      });
    }
    this.#portals = this.#portalConfigs(options).map((p) => new Portal(p, this.#array, this.#targets, this.#sessionHost()));
  }

  /** The portals of {@link IscsiServerOptions}, with defaults; throws on a repeated tag or a TCP port two portals would share. */
  #portalConfigs(options: IscsiServerOptions): PortalConfig[] {
    const host = options.host ?? '127.0.0.1';
    if (options.portals !== undefined && (options.port !== undefined || options.portalGroupTag !== undefined)) {
      throw new InvalidArgumentError('IscsiServer: give either portals or port/portalGroupTag (the one portal), not both');
    }
    const given = options.portals ?? [{ port: options.port ?? 3260, portalGroupTag: options.portalGroupTag ?? 1 }];
    if (given.length === 0) throw new InvalidArgumentError('IscsiServer: portals must name at least one portal');
    const configs = given.map((p, i): PortalConfig => ({ index: i, host: p.host ?? host, port: p.port ?? 3260, tag: p.portalGroupTag ?? i + 1, group: p.targetPortGroup }));
    for (const a of configs) {
      for (const b of configs.slice(0, a.index)) {
        if (a.tag === b.tag) throw new InvalidArgumentError(`IscsiServer: portals ${b.index + 1} and ${a.index + 1} have the same portal group tag ${a.tag}; each portal is its own portal group`);
        if (collide(a, b)) throw new InvalidArgumentError(`IscsiServer: portals ${b.index + 1} and ${a.index + 1} both listen on ${formatPortal(a.host, a.port)}`);
      }
    }
    return configs;
  }

  /** Where the first portal listens, once it does. */
  get address(): BoundAddress | undefined {
    return this.#portals[0]!.bound;
  }

  /** Every portal, in the order given: its address (bound once listening), tag and target port group. */
  get portals(): readonly IscsiPortalInfo[] {
    return this.#portals.map((p) => p.info);
  }

  /**
   * The URL a client uses for `target`'s LUN `lun` through portal `portal` (0-based, in the order of
   * {@link IscsiServerOptions.portals}): `iscsi://host:port/iqn/lun`.
   */
  url(target: string, lun = 0, portal = 0): string {
    const { host, port } = this.#portal(portal, 'url').info;
    return `iscsi://${formatPortal(host, port)}/${target}/${lun}`;
  }

  /**
   * The array's target port of `target` on portal `portal` (0-based) while the server listens: the
   * port whose link state ({@link TargetPort.setLink}) the portal honours. Undefined for an unknown
   * target, or before {@link IscsiServer.listen}.
   */
  targetPort(target: string, portal = 0): TargetPort | undefined {
    const t = this.#targets.get(target);
    return t === undefined ? undefined : this.#portal(portal, 'targetPort').port(t);
  }

  #portal(index: number, what: string): Portal {
    const portal = Number.isInteger(index) ? this.#portals[index] : undefined;
    if (portal === undefined) throw new InvalidArgumentError(`IscsiServer.${what}: portal must be an integer from 0 to ${this.#portals.length - 1}, got ${String(index)}`);
    return portal;
  }

  /**
   * Starts listening on every portal; resolves with the first one's bound address. On each portal,
   * each target becomes a target port of the array (`<target name>,t,0x<TPGT>`, RFC 7143 13.4) in the
   * portal's target port group, carrying the target's LUN map and ACL, until {@link IscsiServer.close}.
   * When a portal cannot listen, the others are closed again and the system error (with its `address`
   * and `port`) rejects.
   */
  async listen(): Promise<BoundAddress> {
    if (this.#listening) return this.address!;
    this.#listening = true;
    try {
      for (const portal of this.#portals) await portal.open();
    } catch (e) {
      await this.close();
      throw e;
    }
    return this.address!;
  }

  /** Stops listening on every portal and closes every connection. */
  async close(): Promise<void> {
    this.#listening = false;
    // Every session's nexus ends with its connection; the ports go with the portals.
    await Promise.all(this.#portals.map((p) => p.close()));
  }

  /** What every portal's connections share: the session table, TSIHs and SendTargets' list of portals. */
  #sessionHost(): SessionHost {
    return {
      newTsih: () => (this.#tsih = (this.#tsih % 0xffff) + 1),
      addresses: (target) => this.#portals.filter((p) => p.serves(target)).map((p) => p.targetAddress(target)),
      registerNexus: (nexus, session, connection) => {
        const old = this.#sessions.get(nexus.key);
        this.#sessions.set(nexus.key, { nexus, session, connection });
        if (old === undefined) return;
        // Session reinstatement (RFC 7143 6.3.5): the old session and its tasks end, which is an I_T
        // nexus loss, and the same nexus continues in the new session (the rule: see openSession).
        this.#array.nexusLost(nexus, { reinstated: true });
        old.connection.close();
      },
      hasSession: (session) => {
        for (const s of this.#sessions.values()) {
          if (s.session.tsih === session.tsih && s.session.initiatorName === session.initiatorName && s.session.isid === session.isid) return true;
        }
        return false;
      },
      unregisterNexus: (nexus, connection) => {
        if (this.#sessions.get(nexus.key)?.connection !== connection) return; // reinstated: the nexus lives on
        this.#sessions.delete(nexus.key);
        this.#array.nexusLost(nexus);
      },
    };
  }
}
