/**
 * One iSCSI connection on the target side (RFC 7143): the login phase (security stage with
 * AuthMethod=None, operational negotiation), discovery (SendTargets), and the full feature phase:
 * SCSI commands with immediate and unsolicited data, R2T and Data-Out, Data-In with phase collapse,
 * SCSI Response with sense, NOP, task management and logout. Each session is its own I_T nexus.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { is, type ValueCheck } from '../../common/errors.js';
import { readU16, readU32, toHex } from '../../codec/bytes.js';
import type { Lun } from '../../array/lun.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import { encodeFixedSense } from '../../codec/sense-encoder.js';
import { PduFramer } from '../pdu/framer.js';
import { lunNumber } from '../pdu/header.js';
import {
  decodeInitiatorPdu,
  type DataOutPdu,
  type InitiatorPdu,
  type LoginRequestPdu,
  type NopOutPdu,
  type ScsiCommandPdu,
  type TaskManagementRequestPdu,
  type TextRequestPdu,
} from '../pdu/initiator-decoder.js';
import { LoginStatus, type LoginStatusEntry } from '../pdu/login-status.js';
import { InitiatorOpcode, RejectReason } from '../pdu/opcodes.js';
import * as enc from '../pdu/target-encoder.js';
import { decodeText, encodeText } from '../pdu/text.js';
import { defaultParameters, negotiateKey, type SessionParameters } from './negotiation.js';

/** A CHAP name and secret. */
export interface ChapCredentials {
  /** The name given as CHAP_N. */
  readonly user: string;
  /** The secret (at least 12 bytes, as RFC 7143 12.1.3 asks). */
  readonly secret: string;
}

/** CHAP secrets (RFC 7143 12.1.3, RFC 1994 with MD5): the initiator's, and for mutual CHAP the target's. */
export interface ChapSecrets extends ChapCredentials {
  /** For mutual CHAP: the name and secret the target answers the initiator's challenge with. */
  readonly mutual?: ChapCredentials;
}

/** CHAP name and secret as options accept them. */
const CHAP_CREDENTIALS = { user: is.string, secret: is.string } as const satisfies Record<keyof ChapCredentials, ValueCheck>;

/** Checks {@link ChapSecrets} given as an option (user and secret required, mutual optional). */
export const isChapSecrets: ValueCheck = is.options({ ...CHAP_CREDENTIALS, mutual: is.options(CHAP_CREDENTIALS, ['user', 'secret']) } satisfies Record<keyof ChapSecrets, ValueCheck>, ['user', 'secret']);

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

/** What names an iSCSI session: initiator name, ISID (hex) and, once logged in, TSIH. */
export interface SessionIdentity {
  /** InitiatorName. */
  readonly initiatorName: string;
  /** ISID as 12 hex digits. */
  readonly isid: string;
  /** TSIH (0 while the session is being created). */
  readonly tsih: number;
}

/** Bytes and close, as the transport provides them. */
export interface ConnectionIo {
  /** Sends bytes. */
  write(bytes: Uint8Array): void;
  /** Sends several pieces as one burst (no copy into one buffer). */
  writev(parts: readonly Uint8Array[]): void;
  /** Ends the connection. */
  close(): void;
}

/** The largest data segment this target accepts. */
const TARGET_MAX_RECV = 262144;
/** The largest Data-Out a command may announce (EDTL) before the target refuses to buffer it. */
const MAX_WRITE_BUFFER = 256 * 1024 * 1024;
/** CmdSN window the target advertises. */
const COMMAND_WINDOW = 64;

interface PendingWrite {
  readonly itt: number;
  readonly lun: Lun | undefined;
  readonly lunField: Uint8Array;
  readonly cdb: Uint8Array;
  readonly buffer: Uint8Array;
  received: number;
  readonly ttt: number;
  r2tSN: number;
  /** End of the data the current R2T asked for (0 when none is outstanding). */
  r2tEnd: number;
  /** A Data-Out of this write was discarded for a data digest error (RFC 7143 7.8). */
  digestError: boolean;
}

/** One connection; feed it bytes, it writes PDUs back. */
export class TargetConnection {
  readonly #host: ConnectionHost;
  readonly #io: ConnectionIo;
  /**
   * The framer refuses a data segment longer than the MaxRecvDataSegmentLength this target declares
   * (RFC 7143 13.12: a sender must not exceed its receiver's value); the connection then closes.
   */
  readonly #framer = new PduFramer({ maxDataSegmentLength: TARGET_MAX_RECV });
  #phase: 'login' | 'full' | 'closed' = 'login';
  #params: SessionParameters = defaultParameters(TARGET_MAX_RECV);
  #digests: enc.Digests = { header: false, data: false };
  #loginKeys = new Map<string, string>();
  #loginText: Uint8Array[] = [];
  #initiatorName = '';
  /** CHAP progress: none needed or done, method agreed, challenge sent. */
  #auth: 'open' | 'chap' | 'challenged' | 'done' = 'open';
  #chapId = 0;
  #chapChallenge = new Uint8Array(0);
  #target: ExposedTarget | undefined;
  #discovery = false;
  #isid = new Uint8Array(6);
  #tsih = 0;
  #nexus = '';
  #statSN = 0;
  #expCmdSN = 0;
  readonly #writes = new Map<number, PendingWrite>();
  #nextTtt = 1;
  /** Commands are executed in arrival order, one after the other. */
  #queue: Promise<void> = Promise.resolve();

  /** @param host - the server; @param io - the socket */
  constructor(host: ConnectionHost, io: ConnectionIo) {
    this.#host = host;
    this.#io = io;
  }

  /** Feeds received bytes. */
  receive(chunk: Uint8Array): void {
    if (this.#phase === 'closed') return;
    const framed = this.#framer.push(chunk);
    if (framed.kind === 'error') {
      this.close();
      return;
    }
    for (const pdu of framed.pdus) {
      if (this.closed) return;
      // The decoded fields are views into the framer's buffer, valid until the next push: each
      // handler consumes them at once or copies what queued work keeps (a CDB, a LUN field, data).
      this.#handle(pdu.bhs, decodeInitiatorPdu(pdu));
    }
  }

  /** True once the connection has ended. */
  get closed(): boolean {
    return this.#phase === 'closed';
  }

  /** Ends the connection (and its session's nexus). */
  close(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    if (this.#nexus !== '') this.#host.unregisterNexus(this.#nexus);
    this.#io.close();
  }

  get #seq(): enc.Sequence {
    return { statSN: this.#statSN, expCmdSN: this.#expCmdSN, maxCmdSN: this.#expCmdSN + COMMAND_WINDOW - 1 };
  }

  /** The sequence numbers of a status-bearing PDU, advancing StatSN. */
  #status(): enc.Sequence {
    const s = this.#seq;
    this.#statSN = (this.#statSN + 1) >>> 0;
    return s;
  }

  #send(bytes: Uint8Array): void {
    if (this.#phase !== 'closed') this.#io.write(bytes);
  }

  #reject(reason: number, bhs: Uint8Array): void {
    this.#send(enc.reject({ reason, ...this.#status() }, bhs, this.#digests));
  }

  #handle(bhs: Uint8Array, pdu: InitiatorPdu): void {
    if (pdu.kind === 'corrupt') {
      // A header digest error: the PDU cannot be trusted at all; at ERL 0 the connection ends.
      if (pdu.failure === 'header-digest') return this.close();
      this.#reject(RejectReason.DATA_DIGEST_ERROR, bhs);
      // RFC 7143 7.8: a discarded Data-Out leaves its write without that data; at ERL 0 the task
      // ends with CHECK CONDITION "protocol service CRC error" once its data sequence is over.
      if (this.#phase === 'full' && pdu.dataOut !== undefined) this.#discardedDataOut(pdu.dataOut);
      return;
    }
    if (this.#phase === 'login') {
      if (pdu.kind !== 'login') return this.close();
      return this.#login(pdu);
    }
    if (pdu.kind === 'data-out') return this.#dataOut(bhs, pdu);
    if (pdu.kind === 'invalid') return this.#reject(RejectReason.PROTOCOL_ERROR, bhs);
    // CmdSN of a non-immediate PDU advances the window (ERL 0: commands are taken in arrival order).
    // (A SNACK carries no CmdSN.)
    const ordered = pdu.kind !== 'unsupported' || pdu.opcode !== InitiatorOpcode.SNACK_REQUEST;
    if (ordered && !pdu.immediate && pdu.cmdSN === this.#expCmdSN) this.#expCmdSN = (this.#expCmdSN + 1) >>> 0;
    switch (pdu.kind) {
      case 'scsi-command':
        if (this.#discovery) this.#reject(RejectReason.PROTOCOL_ERROR, bhs);
        else this.#command(bhs, pdu);
        return;
      case 'nop-out':
        return this.#nop(pdu);
      case 'text':
        return this.#text(pdu);
      case 'task-management':
        return this.#taskManagement(pdu);
      case 'logout': {
        const itt = pdu.itt;
        return this.#enqueue(() => {
          this.#send(enc.logoutResponse({ itt, response: 0, ...this.#status() }, this.#digests));
          this.close();
        });
      }
      case 'login':
        // A Login Request in the full feature phase is a protocol error (RFC 7143 6.1).
        return this.#reject(RejectReason.PROTOCOL_ERROR, bhs);
      case 'unsupported':
        return this.#reject(RejectReason.COMMAND_NOT_SUPPORTED, bhs);
    }
  }

  #enqueue(work: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(work).catch(() => this.close());
  }

  // ---- login -----------------------------------------------------------------------------------

  /** Refuses the login with `status` (RFC 7143 11.13.5) and ends the connection. */
  #loginFail(pdu: LoginRequestPdu, status: LoginStatusEntry): void {
    const statusClass = status.status >>> 8;
    const statusDetail = status.status & 0xff;
    this.#send(enc.loginResponse({ transit: false, csg: pdu.csg, nsg: 0, isid: pdu.isid, tsih: 0, itt: pdu.itt, statusClass, statusDetail, ...this.#status() }, new Uint8Array(0), this.#digests));
    this.close();
  }

  #login(pdu: LoginRequestPdu): void {
    const { transit, csg, nsg, itt } = pdu;
    const cont = pdu.continue;
    this.#isid = pdu.isid.slice();
    this.#statSN = pdu.expStatSN; // ExpStatSN of the first login PDU starts the numbering
    this.#expCmdSN = pdu.cmdSN;
    this.#loginText.push(pdu.data.slice());
    if (cont) {
      // The initiator continues its text in the next PDU: acknowledge with an empty response.
      this.#send(enc.loginResponse({ transit: false, csg, nsg: 0, isid: this.#isid, tsih: 0, itt, statusClass: 0, statusDetail: 0, ...this.#seq }, new Uint8Array(0), this.#digests));
      return;
    }
    const joined = new Uint8Array(this.#loginText.reduce((n, d) => n + d.length, 0));
    let at = 0;
    for (const d of this.#loginText) {
      joined.set(d, at);
      at += d.length;
    }
    this.#loginText = [];
    const pairs = decodeText(joined);
    if (typeof pairs === 'string') return this.#loginFail(pdu, LoginStatus.INITIATOR_ERROR);
    for (const [k, v] of pairs) this.#loginKeys.set(k, v);
    const answers: Array<[string, string]> = [];
    if (this.#initiatorName === '') {
      const name = this.#loginKeys.get('InitiatorName');
      if (name === undefined) return this.#loginFail(pdu, LoginStatus.MISSING_PARAMETER);
      this.#initiatorName = name;
      this.#discovery = this.#loginKeys.get('SessionType') === 'Discovery';
      if (!this.#discovery) {
        const target = this.#host.targets.get(this.#loginKeys.get('TargetName') ?? '');
        if (target === undefined) return this.#loginFail(pdu, LoginStatus.NOT_FOUND);
        if (target.initiators !== undefined && !target.initiators.has(name)) return this.#loginFail(pdu, LoginStatus.AUTHORIZATION_FAILURE);
        this.#target = target;
      }
      // A non-zero TSIH asks to add a connection to an existing session. This target negotiates
      // MaxConnections=1 (as the initiators it serves do: libiscsi, open-iscsi and ESXi use one
      // connection per session), so an existing session has no room: too many connections
      // (RFC 7143 11.13.5, 0206h); an unknown TSIH names no session (020Ah).
      if (pdu.tsih !== 0) return this.#loginFail(pdu, this.#host.hasSession({ initiatorName: name, isid: this.#isidHex(), tsih: pdu.tsih }) ? LoginStatus.TOO_MANY_CONNECTIONS : LoginStatus.SESSION_DOES_NOT_EXIST);
    }
    const chap = this.#target?.chap;
    if (chap !== undefined && this.#auth === 'open') this.#auth = 'chap';
    // A target that requires CHAP does not let the initiator skip the security stage.
    if (chap !== undefined && csg !== 0 && this.#auth !== 'done') return this.#loginFail(pdu, LoginStatus.AUTHENTICATION_FAILURE);
    for (const [key, value] of pairs) {
      if (key === 'InitiatorName' || key === 'TargetName' || key === 'SessionType' || key === 'InitiatorAlias') continue;
      if (key === 'AuthMethod') {
        const wanted = chap === undefined ? 'None' : 'CHAP';
        if (!value.split(',').includes(wanted)) return this.#loginFail(pdu, LoginStatus.AUTHENTICATION_FAILURE);
        answers.push([key, wanted]);
        continue;
      }
      if (key.startsWith('CHAP_')) continue; // handled below, as a set
      const answer = negotiateKey(key, value, this.#params, this.#discovery);
      if (answer !== undefined) answers.push([key, answer]);
    }
    if (csg === 0 && chap !== undefined) {
      const step = this.#chapStep(chap, answers);
      if (step === 'fail') return this.#loginFail(pdu, LoginStatus.AUTHENTICATION_FAILURE);
    }
    // Leave the security stage only once authentication is complete.
    if (csg === 0 && chap !== undefined && this.#auth !== 'done') {
      const response = enc.loginResponse({ transit: false, csg, nsg: 0, isid: this.#isid, tsih: 0, itt, statusClass: 0, statusDetail: 0, ...this.#status() }, encodeText(answers), this.#digests);
      this.#send(response);
      return;
    }
    if (csg === 1 || (transit && nsg !== 1)) {
      answers.push(['MaxRecvDataSegmentLength', String(TARGET_MAX_RECV)]);
    }
    const final = transit && nsg === 3;
    if (final) {
      if (!this.#discovery) {
        answers.push(['TargetPortalGroupTag', String(this.#host.portalGroupTag)]);
      }
      this.#tsih = this.#host.newTsih();
    }
    const response = enc.loginResponse(
      { transit, csg, nsg: transit ? nsg : 0, isid: this.#isid, tsih: final ? this.#tsih : 0, itt, statusClass: 0, statusDetail: 0, ...this.#status() },
      encodeText(answers),
      this.#digests,
    );
    this.#send(response);
    if (final) {
      this.#phase = 'full';
      this.#digests = { header: this.#params.headerDigest, data: this.#params.dataDigest };
      this.#framer.headerDigest = this.#params.headerDigest;
      this.#framer.dataDigest = this.#params.dataDigest;
      if (this.#target !== undefined) {
        const isid = this.#isidHex();
        this.#nexus = `${this.#initiatorName},i,0x${isid},t,${this.#target.name},tsih,${this.#tsih}`;
        this.#host.registerNexus(this.#nexus, this.#target, { initiatorName: this.#initiatorName, isid, tsih: this.#tsih }, this);
      }
    }
  }

  #isidHex(): string {
    return toHex(this.#isid);
  }

  /**
   * One CHAP exchange step (RFC 7143 12.1.3): CHAP_A gets the challenge (CHAP_A, CHAP_I, CHAP_C);
   * CHAP_N and CHAP_R are checked against MD5(id, secret, challenge); a CHAP_I and CHAP_C from the
   * initiator ask for mutual authentication, answered with the target's CHAP_N and CHAP_R.
   */
  #chapStep(chap: ChapSecrets, answers: Array<[string, string]>): 'fail' | 'ok' {
    const keys = this.#loginKeys;
    if (this.#auth === 'chap' && keys.has('CHAP_A')) {
      if (!keys.get('CHAP_A')!.split(',').includes('5')) return 'fail'; // MD5 only
      this.#chapId = randomBytes(1)[0]!;
      this.#chapChallenge = new Uint8Array(randomBytes(16));
      answers.push(['CHAP_A', '5'], ['CHAP_I', String(this.#chapId)], ['CHAP_C', `0x${Buffer.from(this.#chapChallenge).toString('hex')}`]);
      keys.delete('CHAP_A');
      this.#auth = 'challenged';
      return 'ok';
    }
    if (this.#auth === 'challenged' && keys.has('CHAP_R')) {
      const expected = chapResponse(this.#chapId, chap.secret, this.#chapChallenge);
      if (keys.get('CHAP_N') !== chap.user || keys.get('CHAP_R')!.toLowerCase() !== `0x${expected}`) return 'fail';
      const id = keys.get('CHAP_I');
      const challenge = keys.get('CHAP_C');
      if (id !== undefined || challenge !== undefined) {
        if (chap.mutual === undefined || id === undefined || challenge === undefined || !/^0x[0-9a-fA-F]{2,}$/.test(challenge)) return 'fail';
        const theirs = Buffer.from(challenge.slice(2), 'hex');
        // A reflected challenge would let an attacker use the target as an oracle (RFC 7143 12.1.3).
        if (Buffer.compare(theirs, Buffer.from(this.#chapChallenge)) === 0) return 'fail';
        answers.push(['CHAP_N', chap.mutual.user], ['CHAP_R', `0x${chapResponse(Number(id) & 0xff, chap.mutual.secret, theirs)}`]);
      } else if (chap.mutual !== undefined) {
        return 'fail'; // the target was configured for mutual CHAP
      }
      for (const k of ['CHAP_N', 'CHAP_R', 'CHAP_I', 'CHAP_C']) keys.delete(k);
      this.#auth = 'done';
    }
    return 'ok';
  }

  // ---- text (SendTargets) ------------------------------------------------------------------------

  #text(pdu: TextRequestPdu): void {
    const pairs = decodeText(pdu.data);
    const answers: Array<[string, string]> = [];
    if (typeof pairs !== 'string') {
      for (const [key, value] of pairs) {
        if (key !== 'SendTargets') {
          answers.push([key, 'NotUnderstood']);
          continue;
        }
        for (const target of this.#host.targets.values()) {
          if (value !== 'All' && value !== target.name && !(value === '' && target === this.#target)) continue;
          if (target.initiators !== undefined && !target.initiators.has(this.#initiatorName)) continue;
          answers.push(['TargetName', target.name], ['TargetAddress', this.#host.portal]);
        }
      }
    }
    const { itt } = pdu;
    const lun = pdu.lun.slice();
    this.#enqueue(() => this.#send(enc.textResponse({ final: true, itt, ttt: 0xffffffff, lun, ...this.#status() }, encodeText(answers), this.#digests)));
  }

  // ---- full feature phase --------------------------------------------------------------------------

  #nop(pdu: NopOutPdu): void {
    const { itt } = pdu;
    if (itt === 0xffffffff) return; // a NOP-Out answering a NOP-In, or a ping that wants no answer
    const data = pdu.data.slice(0, this.#params.initiatorMaxRecvDataSegmentLength);
    const lun = pdu.lun.slice();
    this.#enqueue(() => this.#send(enc.nopIn({ itt, ttt: 0xffffffff, lun, ...this.#status() }, data, this.#digests)));
  }

  #taskManagement(pdu: TaskManagementRequestPdu): void {
    const { itt, referencedItt } = pdu;
    const lun = this.#target?.luns.get(lunNumber(pdu.lun) ?? -1);
    this.#enqueue(() => this.#manageTasks(pdu.function, itt, referencedItt, lun));
  }

  #manageTasks(fn: number, itt: number, referencedItt: number, lun: Lun | undefined): void {
    let response = 0; // Function complete
    switch (fn) {
      case 1: // ABORT TASK: commands run to completion in order, so the task is already done
        response = this.#writes.delete(referencedItt) ? 0 : 1; // 1: task does not exist
        break;
      case 2: // ABORT TASK SET
      case 3: // CLEAR ACA
      case 4: // CLEAR TASK SET
        this.#writes.clear();
        break;
      case 5: // LOGICAL UNIT RESET
        if (lun === undefined) response = 1;
        else lun.reset();
        this.#writes.clear();
        break;
      case 6: // TARGET WARM RESET
      case 7: // TARGET COLD RESET
        for (const l of this.#target?.luns.values() ?? []) l.reset();
        this.#writes.clear();
        if (fn === 7) {
          // A cold reset also ends the sessions: answer, then drop this connection (RFC 7143 11.5.1).
          this.#send(enc.taskManagementResponse({ itt, response, ...this.#status() }, this.#digests));
          this.close();
          return;
        }
        break;
      default:
        response = 5; // Task management function not supported
    }
    this.#send(enc.taskManagementResponse({ itt, response, ...this.#status() }, this.#digests));
  }

  #command(bhs: Uint8Array, pdu: ScsiCommandPdu): void {
    const { itt, write } = pdu;
    const expected = pdu.expectedLength;
    const lunField = pdu.lun.slice();
    const lun = this.#target?.luns.get(lunNumber(lunField) ?? -1);
    const cdb = pdu.cdb.slice();
    if (!write || expected === 0) {
      this.#enqueue(() => this.#execute(itt, lun, lunField, cdb, undefined, expected));
      return;
    }
    // No command the array implements takes more than 256 MiB of Data-Out: refuse to buffer more.
    if (expected > MAX_WRITE_BUFFER) {
      this.#reject(RejectReason.INVALID_PDU_FIELD, bhs);
      return;
    }
    const buffer = new Uint8Array(expected);
    const immediate = pdu.data.subarray(0, Math.min(pdu.data.length, expected));
    buffer.set(immediate);
    const pending: PendingWrite = { itt, lun, lunField, cdb, buffer, received: immediate.length, ttt: this.#nextTtt++ >>> 0, r2tSN: 0, r2tEnd: 0, digestError: false };
    this.#writes.set(itt, pending);
    // Unsolicited data may follow when InitialR2T=No, up to FirstBurstLength; otherwise ask now.
    const unsolicitedEnd = this.#params.initialR2T ? immediate.length : Math.min(expected, this.#params.firstBurstLength);
    if (pending.received >= expected) this.#finishWrite(pending);
    else if (pending.received >= unsolicitedEnd) this.#requestData(pending);
  }

  #requestData(p: PendingWrite): void {
    const length = Math.min(this.#params.maxBurstLength, p.buffer.length - p.received);
    p.r2tEnd = p.received + length;
    const r2t = enc.readyToTransfer({ itt: p.itt, ttt: p.ttt, lun: p.lunField, r2tSN: p.r2tSN++, offset: p.received, length, ...this.#seq }, this.#digests);
    this.#enqueue(() => this.#send(r2t));
  }

  #dataOut(bhs: Uint8Array, pdu: DataOutPdu): void {
    const p = this.#writes.get(pdu.itt);
    if (p === undefined) {
      this.#reject(RejectReason.INVALID_PDU_FIELD, bhs);
      return;
    }
    const { offset, final } = pdu;
    if (p.digestError) {
      // The rest of a sequence one of whose PDUs was discarded: wait for its end (RFC 7143 7.8 b).
      if (final || offset + pdu.data.length >= p.buffer.length) this.#failCrc(p);
      return;
    }
    // DataPDUInOrder=Yes and DataSequenceInOrder=Yes (negotiation.ts always answers Yes): each Data-Out
    // continues exactly where the data so far ends, with no gap or overlay (RFC 7143 13.19, 13.20).
    // Taking a gap would write zeros the initiator never sent and answer GOOD.
    if (offset !== p.received || offset + pdu.data.length > p.buffer.length) {
      this.#reject(RejectReason.PROTOCOL_ERROR, bhs);
      return;
    }
    p.buffer.set(pdu.data, offset);
    p.received = offset + pdu.data.length;
    if (p.received >= p.buffer.length) this.#finishWrite(p);
    else if (final && (p.r2tEnd === 0 || p.received >= p.r2tEnd)) this.#requestData(p);
  }

  /** A Data-Out with a data digest error was discarded (its header is sound: header digests passed or are off). */
  #discardedDataOut(pdu: DataOutPdu): void {
    const p = this.#writes.get(pdu.itt);
    if (p === undefined) return;
    p.digestError = true;
    if (pdu.final) this.#failCrc(p);
  }

  /** Ends a write that lost data to a digest error: CHECK CONDITION, ABORTED COMMAND, 47h/05h (RFC 7143 11.4.7.2). */
  #failCrc(p: PendingWrite): void {
    this.#writes.delete(p.itt);
    const sense = encodeFixedSense({ key: 0x0b, asc: 0x47, ascq: 0x05 }); // PROTOCOL SERVICE CRC ERROR
    this.#enqueue(() => this.#send(enc.scsiResponse({ itt: p.itt, status: 0x02, response: 0, overflow: 0, underflow: 0, expDataSN: 0, ...this.#status() }, sense, this.#digests)));
  }

  #finishWrite(p: PendingWrite): void {
    this.#writes.delete(p.itt);
    this.#enqueue(() => this.#execute(p.itt, p.lun, p.lunField, p.cdb, p.buffer, p.buffer.length));
  }

  async #execute(itt: number, lun: Lun | undefined, lunField: Uint8Array, cdb: Uint8Array, dataOut: Uint8Array | undefined, expected: number): Promise<void> {
    let result: ScsiResult;
    if (lun === undefined) {
      result = this.#missingLun(cdb);
    } else {
      result = await lun.execute(cdb, dataOut, { initiator: this.#nexus });
    }
    const data = result.data;
    if (data !== undefined && data.length > 0 && result.status === 0) {
      this.#sendDataIn(itt, lunField, data, expected, result.status);
      return;
    }
    const sent = data?.length ?? 0;
    const residual = expected - Math.min(sent, expected);
    this.#send(
      enc.scsiResponse(
        { itt, status: result.status, response: 0, overflow: sent > expected ? sent - expected : 0, underflow: dataOut === undefined ? residual : 0, expDataSN: 0, ...this.#status() },
        result.sense,
        this.#digests,
      ),
    );
  }

  /** Data-In in PDUs of the initiator's MaxRecvDataSegmentLength; the last carries the status. */
  #sendDataIn(itt: number, lunField: Uint8Array, data: Uint8Array, expected: number, status: number): void {
    const total = Math.min(data.length, expected);
    const overflow = data.length > expected ? data.length - expected : 0;
    const underflow = data.length < expected ? expected - data.length : 0;
    const max = this.#params.initiatorMaxRecvDataSegmentLength;
    let dataSN = 0;
    if (total === 0) {
      this.#send(enc.scsiResponse({ itt, status, response: 0, overflow, underflow, expDataSN: 0, ...this.#status() }, undefined, this.#digests));
      return;
    }
    for (let offset = 0; offset < total; offset += max) {
      const n = Math.min(max, total - offset);
      const last = offset + n >= total;
      const burstEnd = (offset + n) % this.#params.maxBurstLength === 0;
      const seq = last ? this.#status() : this.#seq;
      const parts = enc.dataInParts(
        { final: last || burstEnd, itt, dataSN: dataSN++, offset, lun: lunField, ...(last ? { status } : {}), overflow, underflow, ...seq },
        data.subarray(offset, offset + n),
        this.#digests,
      );
      if (this.#phase !== 'closed') this.#io.writev(parts[2].length > 0 ? parts : [parts[0], parts[1]]);
    }
  }

  /** A LUN number the target does not have: LOGICAL UNIT NOT SUPPORTED, INQUIRY with qualifier 011b. */
  #missingLun(cdb: Uint8Array): ScsiResult {
    if (cdb[0] === 0x12 && (cdb[1]! & 0x01) === 0) {
      const d = new Uint8Array(36);
      d[0] = 0x7f;
      d[2] = 0x06;
      d[3] = 0x12;
      d[4] = 31;
      return { status: 0x00, data: d.subarray(0, Math.min(36, readU16(cdb, 3))) };
    }
    if (cdb[0] === 0x03) return { status: 0x00, data: encodeFixedSense('LOGICAL_UNIT_NOT_SUPPORTED') };
    return { status: 0x02, sense: encodeFixedSense('LOGICAL_UNIT_NOT_SUPPORTED') };
  }
}

/** The CHAP response: MD5 over the identifier byte, the secret and the challenge (RFC 1994), in hex. */
export function chapResponse(id: number, secret: string, challenge: Uint8Array): string {
  return createHash('md5').update(Uint8Array.of(id & 0xff)).update(secret).update(challenge).digest('hex');
}
