/**
 * The iSCSI target server: listens with `node:net`, runs one {@link TargetConnection} per TCP
 * connection, registers each target as a target port of the array (its LUN map and ACL), and routes
 * every logged-in session through its target's port, so that a nexus reaches only that target's LUNs.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import { InvalidArgumentError, checkOptions, is, type ValueCheck } from '../../common/errors.js';
import { Lun } from '../../scsi/logical-unit.js';
import { StorageArray } from '../../scsi/storage-array.js';
import type { ItNexus, TargetPort } from '../../scsi/ports.js';
import { isChapSecrets, type ChapSecrets } from '../auth/chap.js';
import { TargetConnection } from './connection.js';
import type { ConnectionHost, ExposedTarget, SessionIdentity } from './session.js';

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

/** Options of {@link IscsiServer}. */
export interface IscsiServerOptions {
  /** The array behind every target. */
  readonly array: StorageArray;
  /** The targets. */
  readonly targets: readonly IscsiTargetConfig[];
  /** Address to listen on. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks a free one. @defaultValue 3260 */
  readonly port?: number;
  /** Target portal group tag. @defaultValue 1 */
  readonly portalGroupTag?: number;
}

/** What one entry of {@link IscsiServerOptions.targets} accepts. */
const TARGET_OPTIONS = {
  name: is.string,
  luns: is.array(is.instanceOf(Lun, 'Lun')),
  initiators: is.array(is.string),
  chap: isChapSecrets,
} as const satisfies Record<keyof IscsiTargetConfig, ValueCheck>;

/** What {@link IscsiServer} accepts. */
const SERVER_OPTIONS = {
  array: is.instanceOf(StorageArray, 'StorageArray'),
  targets: is.array(is.options(TARGET_OPTIONS, ['name', 'luns'])),
  host: is.string,
  port: is.integer(0, 65535),
  portalGroupTag: is.integer(0, 65535),
} as const satisfies Record<keyof IscsiServerOptions, ValueCheck>;

/** A bound TCP address. */
export interface BoundAddress {
  /** IP address. */
  readonly address: string;
  /** TCP port. */
  readonly port: number;
}

/** An iSCSI target portal serving an array. */
export class IscsiServer {
  readonly #array: StorageArray;
  readonly #targets = new Map<string, ExposedTarget>();
  readonly #host: string;
  readonly #port: number;
  readonly #tpgt: number;
  readonly #connections = new Set<TargetConnection>();
  /**
   * The array's target port of each target while the server listens: it carries the target's LUN map
   * and ACL, so that a session reaches only its target's LUNs (also as an EXTENDED COPY CSCD).
   */
  readonly #ports = new Map<string, TargetPort>();
  /**
   * Logged-in sessions by the key of their I_T nexus (initiator name and ISID, target port): at most
   * one per nexus (an iSCSI session is an I_T nexus, RFC 7143 4.4), which session reinstatement replaces.
   */
  readonly #sessions = new Map<string, { nexus: ItNexus; session: SessionIdentity; connection: { close(): void } }>();
  #server: Server | undefined;
  #tsih = 0;
  #bound: BoundAddress | undefined;

  /** @param options - see {@link IscsiServerOptions} */
  constructor(options: IscsiServerOptions) {
    checkOptions(options, SERVER_OPTIONS, 'IscsiServer', ['array', 'targets']);
    this.#array = options.array;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 3260;
    this.#tpgt = options.portalGroupTag ?? 1;
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
  }

  /** Where the server listens, once it does. */
  get address(): BoundAddress | undefined {
    return this.#bound;
  }

  /** The URL a client uses for `target`'s LUN `lun`: `iscsi://host:port/iqn/lun`. */
  url(target: string, lun = 0): string {
    const a = this.#bound ?? { address: this.#host, port: this.#port };
    return `iscsi://${a.address}:${a.port}/${target}/${lun}`;
  }

  /**
   * Starts listening; resolves with the bound address. Each target becomes a target port of the array
   * (`<target name>,t,0x<TPGT>`, RFC 7143 13.4) carrying its LUN map and ACL, until {@link IscsiServer.close}.
   */
  listen(): Promise<BoundAddress> {
    this.#registerPorts();
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.#host, () => {
        const a = server.address();
        if (a === null || typeof a === 'string') return reject(new Error('IscsiServer: no TCP address'));
        this.#bound = { address: a.address, port: a.port };
        resolve(this.#bound);
      });
    });
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of this.#connections) c.close();
    const server = this.#server;
    this.#server = undefined;
    // Every session's nexus ended with its connection; the ports go with the server.
    for (const port of this.#ports.values()) this.#array.removeTargetPort(port);
    this.#ports.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #registerPorts(): void {
    if (this.#ports.size > 0) return;
    const tpgt = this.#tpgt.toString(16).padStart(4, '0');
    for (const target of this.#targets.values()) {
      const port = this.#array.addTargetPort({
        name: `${target.name},t,0x${tpgt}`,
        luns: [...target.luns.values()],
        ...(target.initiators === undefined ? {} : { initiators: [...target.initiators] }),
      });
      this.#ports.set(target.name, port);
    }
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    const host: ConnectionHost = {
      targets: this.#targets,
      portal: `${this.#bound?.address ?? this.#host}:${this.#bound?.port ?? this.#port},${this.#tpgt}`,
      portalGroupTag: this.#tpgt,
      newTsih: () => (this.#tsih = (this.#tsih % 0xffff) + 1),
      targetPort: (target) => this.#ports.get(target.name),
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
    const connection = new TargetConnection(host, {
      write: (bytes) => socket.write(bytes),
      writev: (parts, sent) => {
        socket.cork();
        // The last part's callback runs once every part before it has been written too (or dropped).
        parts.forEach((p, i) => socket.write(p, i === parts.length - 1 && sent !== undefined ? () => sent() : undefined));
        process.nextTick(() => socket.uncork());
      },
      close: () => socket.end(),
    });
    this.#connections.add(connection);
    socket.on('data', (chunk: Buffer) => connection.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    const gone = (): void => {
      connection.close();
      this.#connections.delete(connection);
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }
}
