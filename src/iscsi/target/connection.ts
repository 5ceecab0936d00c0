/**
 * One iSCSI connection on the target side (RFC 7143): it owns the socket, the framer, the digests
 * and the sequence numbers, and routes each PDU to the concern that handles it: the login phase
 * (`login.ts`, with `auth.ts` and `negotiation.ts`), discovery (`discovery.ts`), task management
 * (`tmr.ts`) and the SCSI command path (`data-transfer.ts`); NOP and logout it answers itself. Each
 * normal session is its own I_T nexus (`session.ts`).
 * @module
 */
import { lunNumber } from '../pdu/header.js';
import { PduFramer, type FramedPdu } from '../pdu/framer.js';
import { decodeInitiatorPdu, type InitiatorPdu, type LoginRequestPdu, type NopOutPdu, type TaskManagementRequestPdu, type TextRequestPdu } from '../pdu/initiator-decoder.js';
import { InitiatorOpcode, RejectReason } from '../pdu/opcodes.js';
import * as enc from '../pdu/target-encoder.js';
import { encodeText } from '../pdu/text.js';
import { DataTransfer, type TransferChannel } from './data-transfer.js';
import { answerText } from './discovery.js';
import { TargetLogin } from './login.js';
import { TARGET_MAX_RECV_DATA_SEGMENT_LENGTH, defaultParameters, type SessionParameters } from './negotiation.js';
import { openSession, type ConnectionHost } from './session.js';
import { manageTasks } from './tmr.js';
import type { ItNexus } from '../../scsi/ports.js';

/** Bytes and close, as the transport provides them. */
export interface ConnectionIo {
  /** Sends bytes. */
  write(bytes: Uint8Array): void;
  /**
   * Sends several pieces as one burst (no copy into one buffer); `sent`, when given, is called once
   * the transport holds none of them any more (written, or dropped with the connection).
   */
  writev(parts: readonly Uint8Array[], sent?: () => void): void;
  /** Ends the connection. */
  close(): void;
}

/**
 * How many non-immediate commands the target takes at once: MaxCmdSN is the CmdSN of the oldest
 * command not yet ended plus this, minus one (RFC 7143 4.2.2.1), so that commands waiting for a gap
 * to fill, for their data or for execution never number more than this.
 */
const COMMAND_WINDOW = 64;

/** Serial number arithmetic on 32-bit sequence numbers (RFC 1982, as RFC 7143 4.2.2.1 uses it): a − b. */
function serialDistance(a: number, b: number): number {
  return (a - b) | 0;
}

/** A copy of a framed PDU that arrived ahead of its CmdSN, decoded again when its turn comes. */
function copyFramed(pdu: FramedPdu): FramedPdu {
  const { headerDigest, dataDigest } = pdu;
  return { bhs: pdu.bhs.slice(), ahs: pdu.ahs.slice(), data: pdu.data.slice(), raw: new Uint8Array(0), ...(headerDigest === undefined ? {} : { headerDigest }), ...(dataDigest === undefined ? {} : { dataDigest }) };
}

/** One connection; feed it bytes, it writes PDUs back. */
export class TargetConnection {
  readonly #host: ConnectionHost;
  readonly #io: ConnectionIo;
  /**
   * The framer refuses a data segment longer than the MaxRecvDataSegmentLength this target declares
   * (RFC 7143 13.12: a sender must not exceed its receiver's value); the connection then closes.
   */
  readonly #framer = new PduFramer({ maxDataSegmentLength: TARGET_MAX_RECV_DATA_SEGMENT_LENGTH });
  #phase: 'login' | 'full' | 'closed' = 'login';
  readonly #params: SessionParameters = defaultParameters(TARGET_MAX_RECV_DATA_SEGMENT_LENGTH);
  #digests: enc.Digests = { header: false, data: false };
  readonly #login: TargetLogin;
  /** The session's I_T nexus, once it is in the full feature phase. */
  #nexus: ItNexus | undefined;
  #statSN = 0;
  #expCmdSN = 0;
  /** Non-immediate commands taken (ExpCmdSN moved past them) that have not ended yet. */
  #outstanding = 0;
  /** The highest MaxCmdSN advertised: the window never shrinks below it (RFC 7143 4.2.2.1). */
  #maxCmdSN = COMMAND_WINDOW - 1;
  /** In-window PDUs that arrived ahead of ExpCmdSN, by CmdSN, waiting for the gap to fill. */
  readonly #early = new Map<number, FramedPdu>();
  readonly #transfers: DataTransfer;
  /** Commands are executed in arrival order, one after the other. */
  #queue: Promise<void> = Promise.resolve();

  /** @param host - the server; @param io - the socket */
  constructor(host: ConnectionHost, io: ConnectionIo) {
    this.#host = host;
    this.#io = io;
    this.#login = new TargetLogin(host, this.#params);
    this.#transfers = new DataTransfer(this.#channel());
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
      this.#handle(pdu.bhs, decodeInitiatorPdu(pdu), pdu);
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
    if (this.#nexus !== undefined) this.#host.unregisterNexus(this.#nexus, this);
    this.#io.close();
  }

  get #seq(): enc.Sequence {
    // The window: COMMAND_WINDOW commands from the oldest one not yet ended. Taking a command leaves it
    // where it was; ending one opens it by one.
    const max = (this.#expCmdSN - this.#outstanding + COMMAND_WINDOW - 1) >>> 0;
    if (serialDistance(max, this.#maxCmdSN) > 0) this.#maxCmdSN = max;
    return { statSN: this.#statSN, expCmdSN: this.#expCmdSN, maxCmdSN: this.#maxCmdSN };
  }

  /**
   * Where a non-immediate PDU's CmdSN falls (RFC 7143 4.2.2.1, 3.2.2.1): `take` when it is ExpCmdSN,
   * `hold` when it is inside the window but ahead (it waits until the commands before it arrive),
   * `drop` when it is outside [ExpCmdSN, MaxCmdSN] (a duplicate, or beyond the window): such a PDU is
   * silently ignored.
   */
  #place(cmdSN: number): 'take' | 'hold' | 'drop' {
    const ahead = serialDistance(cmdSN, this.#expCmdSN);
    if (ahead === 0) return 'take';
    return ahead > 0 && serialDistance(cmdSN, this.#seq.maxCmdSN) <= 0 ? 'hold' : 'drop';
  }

  /** Takes the non-immediate PDU with CmdSN = ExpCmdSN: advances ExpCmdSN; the returned function ends it. */
  #take(): () => void {
    this.#expCmdSN = (this.#expCmdSN + 1) >>> 0;
    this.#outstanding++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#outstanding--;
    };
  }

  /** Handles the PDUs that waited for the gap before them, now that ExpCmdSN has reached them. */
  #drainEarly(): void {
    for (let next = this.#early.get(this.#expCmdSN); next !== undefined && !this.closed; next = this.#early.get(this.#expCmdSN)) {
      this.#early.delete(this.#expCmdSN);
      this.#handle(next.bhs, decodeInitiatorPdu(next), next);
    }
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

  #enqueue(work: () => Promise<void> | void): void {
    this.#queue = this.#queue.then(work).catch(() => this.close());
  }

  /** This connection as the command path sees it. */
  #channel(): TransferChannel {
    const self = this; // the channel's getters read the connection's live state
    return {
      params: this.#params,
      get digests() {
        return self.#digests;
      },
      get sequence() {
        return self.#seq;
      },
      get nexus() {
        return self.#nexus;
      },
      get closed() {
        return self.closed;
      },
      status: () => this.#status(),
      send: (bytes) => this.#send(bytes),
      sendParts: (parts, sent) => {
        if (this.#phase !== 'closed') this.#io.writev(parts, sent);
      },
      enqueue: (work) => this.#enqueue(work),
      reject: (reason, bhs) => this.#reject(reason, bhs),
    };
  }

  #handle(bhs: Uint8Array, pdu: InitiatorPdu, framed: FramedPdu): void {
    if (pdu.kind === 'corrupt') {
      // A header digest error: the PDU cannot be trusted at all; at ERL 0 the connection ends.
      if (pdu.failure === 'header-digest') return this.close();
      this.#reject(RejectReason.DATA_DIGEST_ERROR, bhs);
      if (this.#phase === 'full' && pdu.dataOut !== undefined) this.#transfers.discardedDataOut(pdu.dataOut);
      return;
    }
    if (this.#phase === 'login') {
      if (pdu.kind !== 'login') return this.close();
      return this.#loginRequest(pdu);
    }
    if (pdu.kind === 'data-out') return this.#transfers.dataOut(bhs, pdu);
    if (pdu.kind === 'invalid') return this.#reject(RejectReason.PROTOCOL_ERROR, bhs);
    // A non-immediate PDU is taken in CmdSN order, inside the window only (a SNACK carries no CmdSN;
    // an immediate PDU is not subject to the window, RFC 7143 3.2.2.1).
    const ordered = !pdu.immediate && (pdu.kind !== 'unsupported' || pdu.opcode !== InitiatorOpcode.SNACK_REQUEST);
    let done = (): void => undefined;
    if (ordered) {
      const place = this.#place(pdu.cmdSN);
      if (place === 'drop') return;
      if (place === 'hold') {
        if (!this.#early.has(pdu.cmdSN)) this.#early.set(pdu.cmdSN, copyFramed(framed));
        return;
      }
      done = this.#take();
    }
    this.#dispatch(bhs, pdu, done);
    if (ordered) this.#drainEarly();
  }

  /** Routes a PDU that has been taken; `done` ends its place in the command window once it is answered. */
  #dispatch(bhs: Uint8Array, pdu: Exclude<InitiatorPdu, { kind: 'corrupt' | 'data-out' | 'invalid' }>, done: () => void): void {
    switch (pdu.kind) {
      case 'scsi-command':
        if (this.#login.discovery) {
          done();
          this.#reject(RejectReason.PROTOCOL_ERROR, bhs);
        } else this.#transfers.command(bhs, pdu, this.#login.target?.luns.get(lunNumber(pdu.lun) ?? -1), done);
        return;
      case 'nop-out':
        return this.#nop(pdu, done);
      case 'text':
        return this.#text(bhs, pdu, done);
      case 'task-management':
        return this.#taskManagement(pdu, done);
      case 'logout': {
        const itt = pdu.itt;
        return this.#enqueue(() => {
          done();
          this.#send(enc.logoutResponse({ itt, response: 0, ...this.#status() }, this.#digests));
          this.close();
        });
      }
      case 'login':
        // A Login Request in the full feature phase is a protocol error (RFC 7143 6.1).
        done();
        return this.#reject(RejectReason.PROTOCOL_ERROR, bhs);
      case 'unsupported':
        done();
        return this.#reject(RejectReason.COMMAND_NOT_SUPPORTED, bhs);
    }
  }

  /** A Login Request: the login decides, the connection answers (RFC 7143 11.13) and enters the full feature phase. */
  #loginRequest(pdu: LoginRequestPdu): void {
    this.#statSN = pdu.expStatSN; // ExpStatSN of the first login PDU starts the numbering
    this.#expCmdSN = pdu.cmdSN;
    this.#maxCmdSN = (pdu.cmdSN + COMMAND_WINDOW - 1) >>> 0;
    const step = this.#login.step(pdu);
    const { csg, itt } = pdu;
    const isid = this.#login.isid;
    const empty = new Uint8Array(0);
    switch (step.kind) {
      case 'partial':
        this.#send(enc.loginResponse({ transit: false, csg, nsg: 0, isid, tsih: 0, itt, statusClass: 0, statusDetail: 0, ...this.#seq }, empty, this.#digests));
        return;
      case 'refused': {
        const { status } = step.status;
        this.#send(enc.loginResponse({ transit: false, csg, nsg: 0, isid, tsih: 0, itt, statusClass: status >>> 8, statusDetail: status & 0xff, ...this.#status() }, empty, this.#digests));
        this.close();
        return;
      }
      case 'answer':
        this.#send(enc.loginResponse({ transit: step.transit, csg, nsg: step.nsg, isid, tsih: step.tsih, itt, statusClass: 0, statusDetail: 0, ...this.#status() }, encodeText(step.answers), this.#digests));
        if (step.complete) this.#enterFullFeaturePhase();
    }
  }

  #enterFullFeaturePhase(): void {
    this.#phase = 'full';
    this.#digests = { header: this.#params.headerDigest, data: this.#params.dataDigest };
    this.#framer.headerDigest = this.#params.headerDigest;
    this.#framer.dataDigest = this.#params.dataDigest;
    const target = this.#login.target;
    if (target === undefined) return; // a discovery session has no nexus
    this.#nexus = openSession(this.#host, this.#login.identity, target, this);
    if (this.#nexus === undefined) this.close(); // the server is closing: its target ports are gone
  }

  #text(bhs: Uint8Array, pdu: TextRequestPdu, done: () => void): void {
    const answers = answerText(pdu.data, { targets: this.#host.targets, addresses: (t) => this.#host.targetAddresses(t), initiatorName: this.#login.initiatorName, sessionTarget: this.#login.target });
    if (answers === 'reject') {
      const header = bhs.slice();
      return this.#enqueue(() => {
        done();
        this.#reject(RejectReason.PROTOCOL_ERROR, header);
      });
    }
    const { itt } = pdu;
    const lun = pdu.lun.slice();
    this.#enqueue(() => {
      done();
      this.#send(enc.textResponse({ final: true, itt, ttt: 0xffffffff, lun, ...this.#status() }, encodeText(answers), this.#digests));
    });
  }

  #nop(pdu: NopOutPdu, done: () => void): void {
    const { itt } = pdu;
    if (itt === 0xffffffff) return done(); // a NOP-Out answering a NOP-In, or a ping that wants no answer
    const data = pdu.data.slice(0, this.#params.initiatorMaxRecvDataSegmentLength);
    const lun = pdu.lun.slice();
    this.#enqueue(() => {
      done();
      this.#send(enc.nopIn({ itt, ttt: 0xffffffff, lun, ...this.#status() }, data, this.#digests));
    });
  }

  #taskManagement(pdu: TaskManagementRequestPdu, done: () => void): void {
    const { itt, referencedItt } = pdu;
    const fn = pdu.function;
    const target = this.#login.target;
    const lun = target?.luns.get(lunNumber(pdu.lun) ?? -1);
    this.#enqueue(() => {
      const { response, endSession } = manageTasks(fn, referencedItt, lun, target, this.#transfers);
      done();
      this.#send(enc.taskManagementResponse({ itt, response, ...this.#status() }, this.#digests));
      if (endSession) this.close();
    });
  }
}
