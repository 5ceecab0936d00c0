/**
 * An iSCSI initiator (RFC 7143) that exposes a remote LUN through the same
 * `execute(cdb, dataOut, options)` contract as a local one, with many commands in flight, so the
 * host-side data mover, lock manager and benchmark drive a remote target unchanged.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CHAP_MD5, chapResponse, hexConstant, isChapSecrets, newChapChallenge, type ChapSecrets } from '../auth/chap.js';
import { InvalidArgumentError, checkInteger, checkOptions, is, type ValueCheck } from '../../common/errors.js';
import { IscsiConnectionError, IscsiLoginError, IscsiTimeoutError, IscsiUrlError, formatPortal } from '../errors.js';
import { LoginStatus } from '../pdu/login-status.js';
import { readU16, readU32 } from '../../codec/bytes.js';
import { readCapacity16 } from '../../codec/cdb-encoder.js';
import { decodeReadCapacity16 } from '../../codec/sbc-data-decoder.js';
import { decodeSense } from '../../codec/sense-decoder.js';
import { ScsiStatus } from '../../spec/opcodes.js';
import { SenseKey } from '../../spec/sense.js';
import type { ExecuteOptions } from '../../scsi/context.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import type { ScsiTarget } from '../../host/target.js';
import { PduFramer } from '../pdu/framer.js';
import * as enc from '../pdu/initiator-encoder.js';
import { decodeTargetPdu, type LoginResponsePdu, type TargetPdu } from '../pdu/target-decoder.js';
import type { Digests } from '../pdu/target-encoder.js';
import { decodeText, encodeText } from '../pdu/text.js';

/** Options of {@link IscsiSession.connect}. */
export interface IscsiSessionOptions {
  /** Target portal address. */
  readonly host: string;
  /** Target portal port. @defaultValue 3260 */
  readonly port?: number;
  /** Target name (iqn). */
  readonly targetName: string;
  /** This initiator's name. @defaultValue 'iqn.2026-11.dev.vaai-sim:initiator' */
  readonly initiatorName?: string;
  /** Ask for CRC32C header and data digests. @defaultValue false */
  readonly digests?: boolean;
  /** CHAP credentials; `mutual` also checks the target's answer to this initiator's challenge. */
  readonly chap?: ChapSecrets;
  /**
   * The session's ISID (6 bytes). Give the ISID of a session that was lost to reinstate it: the
   * target then ends the old session, its reservations with it (RFC 7143 6.3.5).
   * @defaultValue a random ISID (type 10b, random), unique within this process
   */
  readonly isid?: Uint8Array;
  /**
   * How long the TCP connection and the login together may take before `connect` gives up with
   * {@link IscsiConnectionError} (a portal that accepts and never answers would otherwise hold it
   * forever), in milliseconds.
   * @defaultValue 15000 (open-iscsi's login_timeout)
   */
  readonly loginTimeoutMs?: number;
  /**
   * How long a command may go unanswered, from `execute` (waiting for room in the command window
   * included) to its status, in milliseconds. When it expires the command rejects with
   * {@link IscsiTimeoutError} and the session ends (its other commands reject with the same error):
   * the path is not answering (a black hole), and whether the command ran is unknown.
   * @defaultValue no timeout: a command waits for its answer or for the connection to end
   */
  readonly commandTimeoutMs?: number;
}

/** What {@link IscsiSession.connect} accepts. */
const SESSION_OPTIONS: Readonly<Record<keyof IscsiSessionOptions, ValueCheck>> = {
  host: is.string,
  port: is.integer(1, 65535),
  targetName: is.string,
  initiatorName: is.string,
  digests: is.boolean,
  chap: isChapSecrets,
  isid: (v, what) => {
    if (!(v instanceof Uint8Array) || v.length !== 6) throw new InvalidArgumentError(`${what}: an ISID is 6 bytes, not ${v instanceof Uint8Array ? v.length : typeof v}`);
  },
  loginTimeoutMs: is.integer(1, 3_600_000),
  commandTimeoutMs: is.integer(1, 3_600_000),
};


let isidCounter = 0;

/** A new random-format ISID (RFC 7143 11.12.5: T = 10b, B and C random, D a qualifier). */
function newIsid(): Uint8Array {
  const r = randomBytes(3);
  isidCounter = (isidCounter + 1) & 0xffff;
  return Uint8Array.of(0x80, r[0]!, r[1]!, r[2]!, isidCounter >>> 8, isidCounter & 0xff);
}

interface Task {
  readonly resolve: (r: ScsiResult) => void;
  readonly reject: (e: Error) => void;
  readonly data: Uint8Array | undefined;
  readonly dataOut: Uint8Array | undefined;
  readonly lun: Uint8Array;
  received: number;
}

/** The parts of an iSCSI URL. */
export interface IscsiUrl {
  /** Portal address. */
  readonly host: string;
  /** Portal port. */
  readonly port: number;
  /** Target name. */
  readonly targetName: string;
  /** LUN number. */
  readonly lun: number;
}

/** The highest LUN an iSCSI LUN field of this initiator can address (flat space, SAM-5 4.7.7: 14 bits). */
export const MAX_ISCSI_LUN = 16383;

/**
 * Parses `iscsi://host[:port]/target-iqn/lun` (an IPv6 host in brackets: `iscsi://[::1]:3260/...`;
 * the port defaults to 3260). Throws {@link IscsiUrlError} naming the part that is missing or
 * invalid: the scheme, the host, the port (an integer in 1..65535), the target name (an `iqn.`,
 * `eui.` or `naa.` name) or the LUN (an integer in 0..16383).
 */
export function parseIscsiUrl(url: string): IscsiUrl {
  if (typeof url !== 'string') throw new IscsiUrlError(String(url), 'scheme', `a URL is a string, not ${typeof url}`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme === null) throw new IscsiUrlError(url, 'scheme', 'the scheme iscsi:// is missing');
  if (scheme[1]!.toLowerCase() !== 'iscsi') throw new IscsiUrlError(url, 'scheme', `the scheme is '${scheme[1]}', not 'iscsi'`);
  const rest = url.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? undefined : rest.slice(slash + 1);
  if (!authority.startsWith('[') && authority.split(':').length > 2) throw new IscsiUrlError(url, 'host', `the IPv6 host '${authority}' must be in brackets, e.g. iscsi://[::1]:3260/...`);
  const m = /^(?:\[([^\]]*)\]|([^:\[\]]*))(?::(.*))?$/.exec(authority);
  if (m === null) throw new IscsiUrlError(url, 'host', `the host '${authority}' is not a name, an IPv4 address or an IPv6 address in brackets`);
  const host = m[1] ?? m[2]!;
  if (host === '') throw new IscsiUrlError(url, 'host', 'the host is missing');
  if (/\s/.test(host) || (m[1] !== undefined && !/^[0-9A-Fa-f:.]+(%.+)?$/.test(host))) throw new IscsiUrlError(url, 'host', `the host '${host}' is not a valid address`);
  let port = 3260;
  if (m[3] !== undefined) {
    if (!/^\d+$/.test(m[3]) || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new IscsiUrlError(url, 'port', `the port '${m[3]}' is not an integer in 1..65535`);
    port = Number(m[3]);
  }
  if (path === undefined || path === '') throw new IscsiUrlError(url, 'target', 'the target name is missing');
  const cut = path.indexOf('/');
  const targetName = cut < 0 ? path : path.slice(0, cut);
  if (targetName === '') throw new IscsiUrlError(url, 'target', 'the target name is missing');
  if (!/^(iqn|eui|naa)\.\S+$/i.test(targetName)) throw new IscsiUrlError(url, 'target', `the target name '${targetName}' is not an iqn., eui. or naa. name`);
  const lun = cut < 0 ? '' : path.slice(cut + 1);
  if (lun === '') throw new IscsiUrlError(url, 'lun', 'the LUN is missing');
  if (!/^\d+$/.test(lun) || Number(lun) > MAX_ISCSI_LUN) throw new IscsiUrlError(url, 'lun', `the LUN '${lun}' is not an integer in 0..${MAX_ISCSI_LUN}`);
  return { host, port, targetName, lun: Number(lun) };
}

/**
 * Data-In length a command may return, read from its CDB: the transfer length of READs, the
 * ALLOCATION LENGTH of the commands that have one.
 */
function expectedDataIn(cdb: Uint8Array, blockSize: number): number {
  switch (cdb[0]) {
    case 0x08: // READ(6): TRANSFER LENGTH 0 is 256 blocks
      return (cdb[4] === 0 ? 256 : cdb[4]!) * blockSize;
    case 0x28:
      return readU16(cdb, 7) * blockSize;
    case 0xa8:
      return readU32(cdb, 6) * blockSize;
    case 0x88:
      return readU32(cdb, 10) * blockSize;
    case 0x12:
      return readU16(cdb, 3);
    case 0x03:
    case 0x1a:
      return cdb[4]!;
    case 0x5a:
    case 0x5e: // PERSISTENT RESERVE IN
    case 0x37: // READ DEFECT DATA(10)
      return readU16(cdb, 7);
    case 0xb7: // READ DEFECT DATA(12)
      return readU32(cdb, 6);
    case 0x25:
      return 8;
    case 0xa0:
    case 0xa3:
      return readU32(cdb, 6);
    case 0x84:
    case 0x9e:
      return readU32(cdb, 10);
    default:
      return 0;
  }
}

/** One logged-in session with one connection. */
export class IscsiSession {
  readonly #socket: Socket;
  readonly #framer = new PduFramer({ maxDataSegmentLength: 16 * 1024 * 1024 });
  #digests: Digests = { header: false, data: false };
  #itt = 1;
  #cmdSN = 0;
  #maxCmdSN = 0;
  #expStatSN = 0;
  #targetMaxRecv = 8192;
  #firstBurst = 65536;
  #immediateData = true;
  #initialR2T = true;
  #blockSize = 512;
  readonly #tasks = new Map<number, Task>();
  readonly #windowWaiters: Array<() => void> = [];
  #loginWaiter: { readonly resolve: (pdu: LoginResponsePdu) => void; readonly reject: (e: Error) => void } | undefined;
  /** Until `connect` resolves, failures are login failures (typed for the caller of `connect`). */
  #loggedIn = false;
  #closed = false;
  #failure: Error | undefined;
  readonly #portal: { readonly host: string; readonly port: number; readonly targetName: string };
  #commandTimeoutMs: number | undefined;

  private constructor(socket: Socket, portal: { readonly host: string; readonly port: number; readonly targetName: string }) {
    this.#socket = socket;
    this.#portal = portal;
    socket.on('data', (chunk: Buffer) => this.#receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on('close', () => this.#fail(new IscsiConnectionError(portal.host, portal.port, new Error('the target closed the connection'), this.#loggedIn ? 'session' : 'login')));
    socket.on('error', (e) => this.#fail(new IscsiConnectionError(portal.host, portal.port, e, this.#loggedIn ? 'session' : 'login')));
  }

  /**
   * Connects and logs in to `options.targetName`. Rejects with {@link IscsiConnectionError} when
   * the TCP connection cannot be made or breaks before the login completes, and with
   * {@link IscsiLoginError} when the target refuses the login (or breaks the login protocol).
   */
  static async connect(options: IscsiSessionOptions): Promise<IscsiSession> {
    checkOptions(options, SESSION_OPTIONS, 'IscsiSession.connect', ['host', 'targetName']);
    const host = options.host;
    const port = options.port ?? 3260;
    const timeoutMs = options.loginTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      // The socket's 'error' handler of the moment turns this into the right IscsiConnectionError.
      timer = setTimeout(() => s.destroy(new Error(`no answer to the login within ${timeoutMs} ms (loginTimeoutMs)`)), timeoutMs);
      const failed = (e: Error): void => {
        clearTimeout(timer);
        s.destroy();
        reject(new IscsiConnectionError(host, port, e));
      };
      s.once('error', failed);
      s.once('connect', () => {
        s.off('error', failed);
        resolve(s);
      });
    });
    socket.setNoDelay(true);
    const session = new IscsiSession(socket, { host, port, targetName: options.targetName });
    try {
      await session.#login(options);
    } catch (e) {
      session.#fail(e instanceof Error ? e : new Error(String(e)));
      throw e;
    } finally {
      clearTimeout(timer);
    }
    session.#loggedIn = true;
    session.#commandTimeoutMs = options.commandTimeoutMs;
    return session;
  }

  /** A LUN of the target as a {@link ScsiTarget}. */
  lun(number: number): ScsiTarget {
    checkInteger(number, 0, MAX_ISCSI_LUN, 'IscsiSession.lun: number');
    const field = enc.lunField(number);
    const { targetName, host, port } = this.#portal;
    return { description: `LUN ${number} of ${targetName} at ${formatPortal(host, port)}`, execute: (cdb, dataOut, options) => this.#execute(field, cdb, dataOut, options) };
  }

  /** Logs out and closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const done = new Promise<void>((resolve) => this.#socket.once('close', () => resolve()));
    this.#socket.write(enc.logoutRequest({ itt: this.#itt++, cmdSN: this.#cmdSN, expStatSN: this.#expStatSN }, this.#digests));
    const timer = setTimeout(() => this.#socket.destroy(), 2000);
    await done;
    clearTimeout(timer);
  }

  #fail(e: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failure = e;
    for (const t of this.#tasks.values()) t.reject(e);
    this.#tasks.clear();
    for (const w of this.#windowWaiters.splice(0)) w();
    const login = this.#loginWaiter;
    this.#loginWaiter = undefined;
    login?.reject(e);
    this.#socket.destroy();
  }

  /** An error of the login this initiator ends itself, with the status it stands for. */
  #loginError(status: { readonly status: number }, detail: string): IscsiLoginError {
    return new IscsiLoginError({ ...this.#portal, status: status.status, origin: 'initiator', detail });
  }

  /** The target broke the protocol: during login an {@link IscsiLoginError} (target error), after it a plain Error. */
  #protocolError(detail: string): Error {
    return this.#loggedIn ? new Error(detail) : this.#loginError(LoginStatus.TARGET_ERROR, detail);
  }

  async #loginStep(pdu: Uint8Array): Promise<{ keys: Map<string, string>; transit: boolean; nsg: number }> {
    if (this.#closed) throw this.#failure!;
    const reply = new Promise<LoginResponsePdu>((resolve, reject) => (this.#loginWaiter = { resolve, reject }));
    this.#socket.write(pdu);
    const r = await reply;
    const pairs = decodeText(r.data);
    const keys = new Map(typeof pairs === 'string' ? [] : pairs.map(([k, v]) => [k, v] as const));
    if (r.statusClass !== 0) {
      // A redirection names where the target went (RFC 7143 11.13.5, 13.8); this initiator does not follow it.
      const address = keys.get('TargetAddress');
      throw new IscsiLoginError({ ...this.#portal, status: (r.statusClass << 8) | r.statusDetail, origin: 'target', ...(address === undefined ? {} : { detail: `TargetAddress ${address}` }) });
    }
    this.#expStatSN = (r.statSN + 1) >>> 0;
    this.#maxCmdSN = r.maxCmdSN;
    return { keys, transit: r.transit, nsg: r.nsg };
  }

  async #login(o: IscsiSessionOptions): Promise<void> {
    const isid = o.isid ?? newIsid();
    const itt = this.#itt++;
    const base = { isid, tsih: 0, itt, cid: 0, cmdSN: this.#cmdSN };
    const names: Array<[string, string]> = [['InitiatorName', o.initiatorName ?? 'iqn.2026-11.dev.vaai-sim:initiator'], ['TargetName', o.targetName], ['SessionType', 'Normal']];
    const chap = o.chap;
    let security = await this.#loginStep(
      enc.loginRequest({ ...base, transit: chap === undefined, csg: 0, nsg: 1, expStatSN: 0 }, encodeText([...names, ['AuthMethod', chap === undefined ? 'None' : 'CHAP,None']])),
    );
    if (chap !== undefined && security.keys.get('AuthMethod') === 'CHAP') {
      const challenge = await this.#loginStep(enc.loginRequest({ ...base, transit: false, csg: 0, nsg: 1, expStatSN: this.#expStatSN }, encodeText([['CHAP_A', CHAP_MD5]])));
      const id = Number(challenge.keys.get('CHAP_I'));
      const c = challenge.keys.get('CHAP_C') ?? '';
      if (challenge.keys.get('CHAP_A') !== CHAP_MD5 || !Number.isInteger(id) || !/^0x[0-9a-fA-F]+$/.test(c)) throw this.#loginError(LoginStatus.TARGET_ERROR, 'the target sent a malformed CHAP challenge');
      const answer: Array<[string, string]> = [['CHAP_N', chap.user], ['CHAP_R', `0x${chapResponse(id, chap.secret, Buffer.from(c.slice(2), 'hex'))}`]];
      const { id: myId, challenge: mine } = newChapChallenge();
      if (chap.mutual !== undefined) answer.push(['CHAP_I', String(myId)], ['CHAP_C', hexConstant(mine)]);
      security = await this.#loginStep(enc.loginRequest({ ...base, transit: true, csg: 0, nsg: 1, expStatSN: this.#expStatSN }, encodeText(answer)));
      if (chap.mutual !== undefined) {
        const r = security.keys.get('CHAP_R')?.toLowerCase();
        if (security.keys.get('CHAP_N') !== chap.mutual.user || r !== `0x${chapResponse(myId, chap.mutual.secret, mine)}`) throw this.#loginError(LoginStatus.AUTHENTICATION_FAILURE, 'the target failed mutual CHAP');
      }
    }
    if (!security.transit) throw this.#loginError(LoginStatus.AUTHENTICATION_FAILURE, chap === undefined ? 'the target requires CHAP and no CHAP secret was given' : `the target did not accept CHAP (AuthMethod=${security.keys.get('AuthMethod') ?? 'none'})`);
    const digest = o.digests === true ? 'CRC32C,None' : 'None';
    const operational = await this.#loginStep(
      enc.loginRequest(
        { ...base, transit: true, csg: 1, nsg: 3, expStatSN: this.#expStatSN },
        encodeText([
          ['HeaderDigest', digest],
          ['DataDigest', digest],
          ['InitialR2T', 'No'],
          ['ImmediateData', 'Yes'],
          ['MaxRecvDataSegmentLength', '262144'],
          ['MaxBurstLength', '16776192'],
          ['FirstBurstLength', '262144'],
          ['MaxOutstandingR2T', '1'],
          ['DataPDUInOrder', 'Yes'],
          ['DataSequenceInOrder', 'Yes'],
          ['ErrorRecoveryLevel', '0'],
          ['MaxConnections', '1'],
        ]),
      ),
    );
    const k = operational.keys;
    this.#targetMaxRecv = Number(k.get('MaxRecvDataSegmentLength') ?? 8192);
    this.#firstBurst = Number(k.get('FirstBurstLength') ?? 65536);
    this.#immediateData = k.get('ImmediateData') === 'Yes';
    this.#initialR2T = k.get('InitialR2T') !== 'No';
    this.#digests = { header: k.get('HeaderDigest') === 'CRC32C', data: k.get('DataDigest') === 'CRC32C' };
    this.#framer.headerDigest = this.#digests.header;
    this.#framer.dataDigest = this.#digests.data;
    this.#cmdSN = (this.#cmdSN + 0) >>> 0;
    // The block size, to know how much Data-In a READ brings.
    // A pending unit attention (a reinstated nexus's 06/29/07, a crossed soft threshold) answers the
    // first tries, one each (SAM-5 5.14), as the TEST UNIT READY of libiscsi's login meets them.
    let rc = await this.lun(0).execute(readCapacity16(32));
    for (let tries = 1; tries < 8 && rc.status === ScsiStatus.CHECK_CONDITION && decodeSense(rc.sense)?.key === SenseKey.UNIT_ATTENTION; tries++) {
      rc = await this.lun(0).execute(readCapacity16(32));
    }
    const capacity = rc.status === ScsiStatus.GOOD && rc.data !== undefined ? decodeReadCapacity16(rc.data) : undefined;
    if (capacity?.ok === true) this.#blockSize = capacity.value.logicalBlockLengthInBytes || 512;
  }

  async #execute(lun: Uint8Array, cdb: Uint8Array, dataOut: Uint8Array | undefined, options: ExecuteOptions | undefined): Promise<ScsiResult> {
    const timeoutMs = this.#commandTimeoutMs;
    if (timeoutMs === undefined || this.#closed) return this.#issue(lun, cdb, dataOut, options);
    // No answer in time: the session ends, which rejects this command (and every other) with the timeout.
    const timer = setTimeout(() => this.#fail(new IscsiTimeoutError(this.#portal.host, this.#portal.port, timeoutMs)), timeoutMs);
    try {
      return await this.#issue(lun, cdb, dataOut, options);
    } finally {
      clearTimeout(timer);
    }
  }

  async #issue(lun: Uint8Array, cdb: Uint8Array, dataOut: Uint8Array | undefined, options: ExecuteOptions | undefined): Promise<ScsiResult> {
    if (this.#closed) throw this.#failure ?? new Error('iSCSI session closed');
    while (((this.#maxCmdSN - this.#cmdSN) | 0) < 0) {
      await new Promise<void>((resolve) => this.#windowWaiters.push(resolve));
      if (this.#closed) throw this.#failure ?? new Error('iSCSI session closed');
    }
    const itt = this.#itt++ >>> 0;
    const out = dataOut !== undefined && dataOut.length > 0 ? dataOut : undefined;
    const inLength = out === undefined ? Math.max(expectedDataIn(cdb, this.#blockSize), options?.dataIn?.length ?? 0) : 0;
    const data = inLength > 0 ? (options?.dataIn !== undefined && options.dataIn.length >= inLength ? options.dataIn.subarray(0, inLength) : new Uint8Array(inLength)) : undefined;
    const cdb16 = new Uint8Array(16);
    cdb16.set(cdb.subarray(0, 16));
    const result = new Promise<ScsiResult>((resolve, reject) => this.#tasks.set(itt, { resolve, reject, data, dataOut: out, lun, received: 0 }));
    const immediate = out !== undefined && this.#immediateData ? out.subarray(0, Math.min(out.length, this.#firstBurst, this.#targetMaxRecv)) : undefined;
    const cmdSN = this.#cmdSN;
    this.#cmdSN = (this.#cmdSN + 1) >>> 0;
    this.#socket.write(
      enc.scsiCommand(
        { read: data !== undefined, write: out !== undefined, final: out === undefined || this.#initialR2T || (immediate?.length ?? 0) >= Math.min(out.length, this.#firstBurst), lun, itt, expectedLength: out?.length ?? inLength, cmdSN, expStatSN: this.#expStatSN, cdb: cdb16 },
        immediate,
        this.#digests,
      ),
    );
    if (out !== undefined && !this.#initialR2T) {
      // Unsolicited Data-Out up to FirstBurstLength.
      const end = Math.min(out.length, this.#firstBurst);
      this.#sendData(itt, lun, 0xffffffff, out, immediate?.length ?? 0, end);
    }
    return result;
  }

  #sendData(itt: number, lun: Uint8Array, ttt: number, out: Uint8Array, from: number, to: number): void {
    let dataSN = 0;
    for (let offset = from; offset < to; offset += this.#targetMaxRecv) {
      const n = Math.min(this.#targetMaxRecv, to - offset);
      this.#socket.write(enc.dataOut({ final: offset + n >= to, lun, itt, ttt, expStatSN: this.#expStatSN, dataSN: dataSN++, offset }, out.subarray(offset, offset + n), this.#digests));
    }
  }

  #receive(chunk: Uint8Array): void {
    const r = this.#framer.push(chunk);
    if (r.kind === 'error') return this.#fail(this.#protocolError(`iSCSI framing error: ${r.reason}`));
    for (const pdu of r.pdus) this.#handle(decodeTargetPdu(pdu));
  }

  #handle(pdu: TargetPdu): void {
    switch (pdu.kind) {
      case 'login-response': {
        const w = this.#loginWaiter;
        this.#loginWaiter = undefined;
        // The waiter runs later: keep copies, not views of the framer's buffer.
        w?.resolve({ ...pdu, isid: pdu.isid.slice(), data: pdu.data.slice() });
        return;
      }
      case 'corrupt':
        return this.#fail(this.#protocolError(`iSCSI ${pdu.failure} error from the target`));
      case 'invalid':
        return this.#fail(this.#protocolError(`iSCSI protocol error from the target: ${pdu.reason}`));
      case 'unsupported':
        return this.#fail(this.#protocolError(`iSCSI PDU with unknown opcode 0x${pdu.opcode.toString(16)} from the target`));
      default:
    }
    if (((pdu.maxCmdSN - this.#maxCmdSN) | 0) > 0) {
      this.#maxCmdSN = pdu.maxCmdSN;
      for (const w of this.#windowWaiters.splice(0)) w();
    }
    switch (pdu.kind) {
      case 'data-in': {
        const t = this.#tasks.get(pdu.itt);
        if (t === undefined || t.data === undefined) return;
        const { offset } = pdu;
        t.data.set(pdu.data.subarray(0, Math.max(0, t.data.length - offset)), offset);
        t.received = Math.max(t.received, offset + pdu.data.length);
        if (pdu.hasStatus) {
          this.#expStatSN = (pdu.statSN + 1) >>> 0;
          this.#tasks.delete(pdu.itt);
          t.resolve({ status: pdu.status as ScsiResult['status'], data: t.data.subarray(0, Math.min(t.received, t.data.length)) });
        }
        return;
      }
      case 'scsi-response': {
        this.#expStatSN = (pdu.statSN + 1) >>> 0;
        const t = this.#tasks.get(pdu.itt);
        if (t === undefined) return;
        this.#tasks.delete(pdu.itt);
        const sense = pdu.sense?.slice();
        const data = t.data !== undefined && t.received > 0 ? t.data.subarray(0, Math.min(t.received, t.data.length)) : undefined;
        t.resolve({ status: pdu.status as ScsiResult['status'], ...(sense === undefined ? {} : { sense }), ...(data === undefined ? {} : { data }) });
        return;
      }
      case 'r2t': {
        const t = this.#tasks.get(pdu.itt);
        if (t?.dataOut === undefined) return;
        this.#sendData(pdu.itt, t.lun, pdu.ttt, t.dataOut, pdu.offset, Math.min(t.dataOut.length, pdu.offset + pdu.length));
        return;
      }
      case 'nop-in':
        if (pdu.ttt !== 0xffffffff) this.#socket.write(enc.nopOut({ itt: 0xffffffff, ttt: pdu.ttt, cmdSN: this.#cmdSN, expStatSN: this.#expStatSN, immediate: true }, new Uint8Array(0), this.#digests));
        return;
      case 'logout-response':
        this.#socket.end();
        return;
      case 'reject':
        this.#fail(this.#protocolError(`iSCSI Reject, reason ${pdu.reason}`));
        return;
      default:
        // Text and task management responses are not used by this initiator; async messages are
        // informational at ERL 0.
        return;
    }
  }
}

