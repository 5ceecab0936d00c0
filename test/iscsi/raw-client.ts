/**
 * A raw iSCSI client for robustness tests: a plain `node:net` socket that sends whatever bytes a test
 * builds (well-formed PDUs from the initiator encoder, or deliberately broken ones) and frames what
 * the target answers with {@link PduFramer}. Every wait is bounded by a timeout.
 */
import { connect, type Socket } from 'node:net';
import { readU16, readU32, writeU32 } from '../../src/codec/bytes.js';
import { assemblePdu } from '../../src/iscsi/pdu/assemble.js';
import { crc32c } from '../../src/iscsi/pdu/crc32c.js';
import { BHS_LENGTH, PduFramer } from '../../src/iscsi/pdu/framer.js';
import * as enc from '../../src/iscsi/pdu/initiator-encoder.js';
import { TargetOpcode } from '../../src/iscsi/pdu/opcodes.js';
import type { Digests } from '../../src/iscsi/pdu/target-encoder.js';
import { decodeText, encodeText } from '../../src/iscsi/pdu/text.js';
import { Mulberry32 } from '../../src/common/prng.js';

/** Default time a test waits for one answer of the target on loopback. */
export const WAIT_MS = 2000;

/** One PDU received from the target (copied out of the framer's buffer). */
export interface ReceivedPdu {
  /** Opcode (byte 0, bits 5:0). */
  readonly opcode: number;
  /** The 48-byte BHS. */
  readonly bhs: Uint8Array;
  /** The data segment, without padding. */
  readonly data: Uint8Array;
  /** Header digest as received, when header digests are on. */
  readonly headerDigest?: number;
  /** Data digest as received, when data digests are on and there is data. */
  readonly dataDigest?: number;
}

/** Operational keys the raw client offers by default (RFC 7143 13). */
export const DEFAULT_OPERATIONAL: ReadonlyArray<readonly [string, string]> = [
  ['HeaderDigest', 'None'],
  ['DataDigest', 'None'],
  ['InitialR2T', 'Yes'],
  ['ImmediateData', 'Yes'],
  ['MaxRecvDataSegmentLength', '262144'],
  ['MaxBurstLength', '262144'],
  ['FirstBurstLength', '65536'],
  ['MaxOutstandingR2T', '1'],
  ['DataPDUInOrder', 'Yes'],
  ['DataSequenceInOrder', 'Yes'],
  ['ErrorRecoveryLevel', '0'],
  ['MaxConnections', '1'],
];

/** What a finished SCSI command brought back. */
export interface RawScsiResult {
  readonly status: number;
  /** Flags byte (byte 1) of the PDU that carried the status. */
  readonly flags: number;
  /** Residual Count of the PDU that carried the status. */
  readonly residual: number;
  readonly data: Uint8Array;
  readonly sense: Uint8Array | undefined;
  /** R2Ts the target sent for this command, as [offset, length]. */
  readonly r2ts: ReadonlyArray<readonly [number, number]>;
}

/** Reproducible "random" bytes from `seed` (the project's mulberry32). */
export function seededBytes(length: number, seed: number): Uint8Array {
  return new Mulberry32(seed).bytes(length);
}

/** A bare 48-byte BHS with the given opcode byte and common fields, for PDUs the encoders do not build. */
export function rawBhs(f: { first: number; flags?: number; itt: number; cmdSN: number; expStatSN: number; dsl?: number }): Uint8Array {
  const b = new Uint8Array(BHS_LENGTH);
  b[0] = f.first;
  b[1] = f.flags ?? 0x80;
  const dsl = f.dsl ?? 0;
  b[5] = (dsl >>> 16) & 0xff;
  b[6] = (dsl >>> 8) & 0xff;
  b[7] = dsl & 0xff;
  writeU32(b, 16, f.itt);
  writeU32(b, 20, 0xffffffff);
  writeU32(b, 24, f.cmdSN);
  writeU32(b, 28, f.expStatSN);
  return b;
}

/** Appends a (correct) header digest to a bare BHS when header digests are on. */
export function withHeaderDigest(bhs: Uint8Array, digests: Digests): Uint8Array {
  if (!digests.header) return bhs;
  const out = new Uint8Array(bhs.length + 4);
  out.set(bhs);
  const d = crc32c(bhs);
  out[bhs.length] = d & 0xff;
  out[bhs.length + 1] = (d >>> 8) & 0xff;
  out[bhs.length + 2] = (d >>> 16) & 0xff;
  out[bhs.length + 3] = (d >>> 24) & 0xff;
  return out;
}

let rawClients = 0;

/** One raw connection to the target. */
export class RawClient {
  readonly socket: Socket;
  readonly framer = new PduFramer({ maxDataSegmentLength: 0xffffff });
  digests: Digests = { header: false, data: false };
  /** Bytes received from the target in total. */
  bytesReceived = 0;
  /** Set when the target sent bytes this client cannot frame. */
  framingError: string | undefined;
  /** True once the socket has closed. */
  isClosed = false;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  itt = 1;
  cmdSN = 0;
  expStatSN = 0;
  /** Each raw client has its own ISID, so no two of them are one session (RFC 7143 6.3.5). */
  readonly isid = Uint8Array.of(0x80, 0x52, 0x41, 0x57, (rawClients >>> 8) & 0xff, rawClients++ & 0xff);
  tsih = 0;
  readonly #queue: ReceivedPdu[] = [];
  #waiter: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => {
      this.isClosed = true;
      this.#wake();
    });
    // Writes after the target closed may fail (EPIPE, ECONNRESET): that is what some tests provoke.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      const r = this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (r.kind === 'error') {
        this.framingError = r.reason;
        socket.destroy();
        return;
      }
      for (const p of r.pdus) {
        this.#queue.push({
          opcode: p.bhs[0]! & 0x3f,
          bhs: p.bhs.slice(),
          data: p.data.slice(),
          ...(p.headerDigest === undefined ? {} : { headerDigest: p.headerDigest }),
          ...(p.dataDigest === undefined ? {} : { dataDigest: p.dataDigest }),
        });
      }
      this.#wake();
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<RawClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(WAIT_MS * 5, () => s.destroy()); // a safety net: no test leaves a socket hanging
    });
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Writes bytes as they are. */
  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** PDUs received and not yet taken. */
  get pending(): number {
    return this.#queue.length;
  }

  /** The next PDU from the target; throws when the connection closes first or after `timeoutMs`. */
  async next(timeoutMs = WAIT_MS): Promise<ReceivedPdu> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.#queue.shift();
      if (p !== undefined) {
        this.#checkDigests(p);
        return p;
      }
      if (this.isClosed) throw new Error('connection closed with no PDU pending');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no PDU from the target within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Target PDUs must carry correct digests once they are negotiated. */
  #checkDigests(p: ReceivedPdu): void {
    if (this.digests.header && p.headerDigest !== crc32c(p.bhs)) throw new Error('target PDU with a wrong header digest');
    if (this.digests.data && p.data.length > 0) {
      const padded = new Uint8Array((p.data.length + 3) & ~3);
      padded.set(p.data);
      if (p.dataDigest !== crc32c(padded)) throw new Error('target PDU with a wrong data digest');
    }
  }

  /** Waits until the target closes the connection; throws after `timeoutMs`. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the target did not close the connection within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes abruptly (RST-like: no logout, no FIN handshake wait). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Advances ExpStatSN from a status-bearing PDU. */
  #status(p: ReceivedPdu): void {
    this.expStatSN = (readU32(p.bhs, 24) + 1) >>> 0;
  }

  /**
   * A normal login: the security stage with AuthMethod=None, then the operational stage with
   * {@link DEFAULT_OPERATIONAL} overridden by `operational`. Returns the target's operational answers
   * and turns digests on as negotiated. Throws on any unexpected answer.
   */
  /**
   * Logs in to `targetName` (a normal session), or with `discovery` a discovery session (no target);
   * resolves with the keys of the last Login Response.
   */
  async login(o: { targetName?: string; discovery?: boolean; initiatorName?: string; operational?: Record<string, string> }): Promise<Map<string, string>> {
    const itt = this.itt++;
    const base = { isid: this.isid, tsih: 0, itt, cid: 0, cmdSN: this.cmdSN };
    const naming: Array<[string, string]> = o.discovery === true ? [['SessionType', 'Discovery']] : [['TargetName', o.targetName ?? ''], ['SessionType', 'Normal']];
    const security = await this.#loginStep(
      enc.loginRequest(
        { ...base, transit: true, csg: 0, nsg: 1, expStatSN: 0 },
        encodeText([['InitiatorName', o.initiatorName ?? 'iqn.2026-11.dev.vaai-sim:raw-client'], ...naming, ['AuthMethod', 'None']]),
      ),
    );
    if (security.keys.get('AuthMethod') !== 'None' || !security.transit || security.nsg !== 1) throw new Error('raw login: unexpected security stage answer');
    const keys = new Map<string, string>(DEFAULT_OPERATIONAL.map(([k, v]) => [k, v]));
    for (const [k, v] of Object.entries(o.operational ?? {})) keys.set(k, v);
    const operational = await this.#loginStep(enc.loginRequest({ ...base, transit: true, csg: 1, nsg: 3, expStatSN: this.expStatSN }, encodeText([...keys])));
    if (!operational.transit || operational.nsg !== 3 || operational.tsih === 0) throw new Error('raw login: the target did not move to full feature phase');
    this.tsih = operational.tsih;
    this.digests = { header: operational.keys.get('HeaderDigest') === 'CRC32C', data: operational.keys.get('DataDigest') === 'CRC32C' };
    this.framer.headerDigest = this.digests.header;
    this.framer.dataDigest = this.digests.data;
    return operational.keys;
  }

  async #loginStep(pdu: Uint8Array): Promise<{ keys: Map<string, string>; transit: boolean; nsg: number; tsih: number }> {
    this.send(pdu);
    const r = await this.next();
    if (r.opcode !== TargetOpcode.LOGIN_RESPONSE) throw new Error(`raw login: opcode 0x${r.opcode.toString(16)} instead of a Login Response`);
    if (r.bhs[36] !== 0) throw new Error(`raw login: status ${r.bhs[36]}/${r.bhs[37]}`);
    this.#status(r);
    const pairs = decodeText(r.data);
    if (typeof pairs === 'string') throw new Error(`raw login: ${pairs}`);
    return { keys: new Map(pairs.map(([k, v]) => [k, v])), transit: (r.bhs[1]! & 0x80) !== 0, nsg: r.bhs[1]! & 3, tsih: readU16(r.bhs, 14) };
  }

  /** Builds (and does not send) a SCSI Command PDU with the next ITT and CmdSN. */
  commandPdu(f: { cdb: Uint8Array; lun?: number; read?: boolean; write?: boolean; final?: boolean; expectedLength: number; immediate?: Uint8Array; itt?: number; cmdSN?: number }): { pdu: Uint8Array; itt: number; cmdSN: number } {
    const itt = f.itt ?? this.itt++;
    const cmdSN = f.cmdSN ?? this.cmdSN;
    if (f.cmdSN === undefined) this.cmdSN = (this.cmdSN + 1) >>> 0;
    const cdb = new Uint8Array(16);
    cdb.set(f.cdb.subarray(0, 16));
    const pdu = enc.scsiCommand(
      { read: f.read ?? false, write: f.write ?? false, final: f.final ?? true, lun: enc.lunField(f.lun ?? 0), itt, expectedLength: f.expectedLength, cmdSN, expStatSN: this.expStatSN, cdb },
      f.immediate,
      this.digests,
    );
    return { pdu, itt, cmdSN };
  }

  /**
   * Sends a Text Request (final, one PDU) with `pairs`: non-immediate, taking the next CmdSN, or
   * immediate with the current one (as libiscsi's text tests send it). Returns its ITT.
   */
  sendText(pairs: ReadonlyArray<[string, string]>, immediate = false): number {
    const itt = this.itt++;
    const cmdSN = this.cmdSN;
    if (!immediate) this.cmdSN = (this.cmdSN + 1) >>> 0;
    this.send(
      assemblePdu(immediate ? 0x44 : 0x04, encodeText(pairs), this.digests, (b) => {
        b[1] = 0x80;
        writeU32(b, 16, itt);
        writeU32(b, 20, 0xffffffff);
        writeU32(b, 24, cmdSN);
        writeU32(b, 28, this.expStatSN);
      }),
    );
    return itt;
  }

  /** Sends a Text Request (final, one PDU) with `pairs` and resolves with the pairs of its Text Response. */
  async text(pairs: ReadonlyArray<[string, string]>): Promise<Array<[string, string]>> {
    const itt = this.sendText(pairs);
    const r = await this.next();
    if (r.opcode !== TargetOpcode.TEXT_RESPONSE || readU32(r.bhs, 16) !== itt) throw new Error(`text: opcode 0x${r.opcode.toString(16)} instead of the Text Response for ${itt}`);
    this.#status(r);
    const answer = decodeText(r.data);
    if (typeof answer === 'string') throw new Error(`text: ${answer}`);
    return answer.map(([k, v]) => [k, v]);
  }

  /** Builds a Data-Out PDU. */
  dataOutPdu(f: { itt: number; ttt: number; offset: number; final: boolean; dataSN?: number; lun?: number }, data: Uint8Array): Uint8Array {
    return enc.dataOut({ final: f.final, lun: enc.lunField(f.lun ?? 0), itt: f.itt, ttt: f.ttt, expStatSN: this.expStatSN, dataSN: f.dataSN ?? 0, offset: f.offset }, data, this.digests);
  }

  /** Builds a NOP-Out ping (ITT set, so the target answers with a NOP-In), as an immediate PDU. */
  nopPdu(data: Uint8Array = new Uint8Array(0), itt = this.itt++): { pdu: Uint8Array; itt: number } {
    return { pdu: enc.nopOut({ itt, ttt: 0xffffffff, cmdSN: this.cmdSN, expStatSN: this.expStatSN, immediate: true }, data, this.digests), itt };
  }

  /** Sends a ping and expects its NOP-In echo as the very next PDU. */
  async ping(data: Uint8Array = new Uint8Array(0)): Promise<ReceivedPdu> {
    const { pdu, itt } = this.nopPdu(data);
    this.send(pdu);
    const r = await this.next();
    if (r.opcode !== TargetOpcode.NOP_IN || readU32(r.bhs, 16) !== itt) throw new Error(`ping: opcode 0x${r.opcode.toString(16)} itt ${readU32(r.bhs, 16)} instead of the NOP-In for ${itt}`);
    this.#status(r);
    return r;
  }

  /**
   * Collects the target's answer to the command `itt`: R2Ts are answered with `dataOut` (when given),
   * Data-In is gathered, and the SCSI Response (or Data-In with status) ends it. Any other PDU throws.
   */
  async result(itt: number, dataOut?: Uint8Array, maxDataSegment = 262144): Promise<RawScsiResult> {
    const chunks: Array<[number, Uint8Array]> = [];
    const r2ts: Array<[number, number]> = [];
    for (let guard = 0; guard < 10_000; guard++) {
      const p = await this.next();
      if (readU32(p.bhs, 16) !== itt) throw new Error(`result: PDU 0x${p.opcode.toString(16)} for itt ${readU32(p.bhs, 16)} while waiting for ${itt}`);
      if (p.opcode === TargetOpcode.READY_TO_TRANSFER) {
        const ttt = readU32(p.bhs, 20);
        const offset = readU32(p.bhs, 40);
        const length = readU32(p.bhs, 44);
        r2ts.push([offset, length]);
        if (dataOut === undefined) throw new Error('result: R2T for a command without Data-Out');
        let dataSN = 0;
        for (let at = offset; at < offset + length; at += maxDataSegment) {
          const n = Math.min(maxDataSegment, offset + length - at);
          this.send(this.dataOutPdu({ itt, ttt, offset: at, final: at + n >= offset + length, dataSN: dataSN++ }, dataOut.subarray(at, at + n)));
        }
        continue;
      }
      if (p.opcode === TargetOpcode.SCSI_DATA_IN) {
        chunks.push([readU32(p.bhs, 40), p.data]);
        if ((p.bhs[1]! & 0x01) !== 0) {
          this.#status(p);
          return { status: p.bhs[3]!, flags: p.bhs[1]!, residual: readU32(p.bhs, 44), data: join(chunks), sense: undefined, r2ts };
        }
        continue;
      }
      if (p.opcode === TargetOpcode.SCSI_RESPONSE) {
        this.#status(p);
        const senseLength = p.data.length >= 2 ? readU16(p.data, 0) : 0;
        return { status: p.bhs[3]!, flags: p.bhs[1]!, residual: readU32(p.bhs, 44), data: join(chunks), sense: senseLength > 0 ? p.data.slice(2, 2 + senseLength) : undefined, r2ts };
      }
      throw new Error(`result: unexpected opcode 0x${p.opcode.toString(16)}`);
    }
    throw new Error('result: too many PDUs');
  }

  /** The next PDU, which must be a Reject; ExpStatSN advances past it. */
  async nextReject(timeoutMs = WAIT_MS): Promise<RejectPdu> {
    const r = rejectOf(await this.next(timeoutMs));
    this.expStatSN = (r.statSN + 1) >>> 0;
    return r;
  }

  /** Runs one SCSI command to completion (R2Ts answered from `dataOut`). */
  async scsi(cdb: Uint8Array, f: { dataOut?: Uint8Array; readLength?: number; lun?: number } = {}): Promise<RawScsiResult> {
    const write = f.dataOut !== undefined && f.dataOut.length > 0;
    const { pdu, itt } = this.commandPdu({ cdb, lun: f.lun ?? 0, read: !write && (f.readLength ?? 0) > 0, write, expectedLength: write ? f.dataOut!.length : (f.readLength ?? 0) });
    this.send(pdu);
    return this.result(itt, f.dataOut);
  }
}

function join(chunks: ReadonlyArray<readonly [number, Uint8Array]>): Uint8Array {
  const end = chunks.reduce((n, [at, d]) => Math.max(n, at + d.length), 0);
  const out = new Uint8Array(end);
  for (const [at, d] of chunks) out.set(d, at);
  return out;
}

/** The fields of a Reject PDU (RFC 7143 11.17). */
export interface RejectPdu {
  /** Reason code (byte 2). */
  readonly reason: number;
  /** Flags byte (byte 1): 0x80. */
  readonly flags: number;
  /** The ITT field: always 0xffffffff. */
  readonly itt: number;
  /** StatSN the Reject carries. */
  readonly statSN: number;
  /** ExpCmdSN the Reject carries. */
  readonly expCmdSN: number;
  /** The rejected PDU's header, as the data segment. */
  readonly header: Uint8Array;
}

/** Reads a Reject PDU. */
export function rejectOf(p: ReceivedPdu): RejectPdu {
  if (p.opcode !== TargetOpcode.REJECT) throw new Error(`expected a Reject, got opcode 0x${p.opcode.toString(16)}`);
  return { reason: p.bhs[2]!, flags: p.bhs[1]!, itt: readU32(p.bhs, 16), statSN: readU32(p.bhs, 24), expCmdSN: readU32(p.bhs, 28), header: p.data };
}
