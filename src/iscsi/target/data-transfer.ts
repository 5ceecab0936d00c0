/**
 * The SCSI command path of a session (RFC 7143 4.2.2.6, 11.2–11.8): immediate and unsolicited data,
 * R2T and Data-Out assembly, execution in arrival order, Data-In with phase collapse (the last
 * Data-In carries the status), and the SCSI Response with sense.
 * @module
 */
import type { Lun } from '../../scsi/logical-unit.js';
import { truncate, readU16 } from '../../codec/bytes.js';
import { encodeFixedSense } from '../../codec/sense-encoder.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import type { ItNexus } from '../../scsi/ports.js';
import { inaccessibleLunInquiry } from '../../scsi/spc/inquiry.js';
import { Opcode, ScsiStatus } from '../../spec/opcodes.js';
import type { DataOutPdu, ScsiCommandPdu } from '../pdu/initiator-decoder.js';
import { RejectReason } from '../pdu/opcodes.js';
import * as enc from '../pdu/target-encoder.js';
import type { SessionParameters } from './negotiation.js';
import type { AbortableTasks } from './tmr.js';

/** The largest Data-Out a command may announce (EDTL) before the target refuses to buffer it. */
const MAX_WRITE_BUFFER = 256 * 1024 * 1024;

/** What the command path needs from its connection: the negotiated values, sequence numbers and a way to send. */
export interface TransferChannel {
  /** Negotiated parameters of the session. */
  readonly params: SessionParameters;
  /** Digests in use. */
  readonly digests: enc.Digests;
  /** Sequence numbers to put on a PDU that carries no status (StatSN does not advance). */
  readonly sequence: enc.Sequence;
  /** Sequence numbers for a status-bearing PDU, advancing StatSN. */
  status(): enc.Sequence;
  /** Sends a PDU (nothing once the connection has closed). */
  send(bytes: Uint8Array): void;
  /** Sends a PDU given as parts, without copying them into one buffer. */
  sendParts(parts: readonly Uint8Array[]): void;
  /** Queues work after every command before it: commands are executed in arrival order. */
  enqueue(work: () => Promise<void> | void): void;
  /** Answers a PDU with a Reject (RFC 7143 11.17). */
  reject(reason: number, bhs: Uint8Array): void;
  /** The I_T nexus the session's commands run under (undefined before the full feature phase). */
  readonly nexus: ItNexus | undefined;
  /** True once the connection, and with it the session, has ended. */
  readonly closed: boolean;
}

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

/** The commands of one session: writes waiting for their data, and execution with its answer. */
export class DataTransfer implements AbortableTasks {
  readonly #channel: TransferChannel;
  readonly #writes = new Map<number, PendingWrite>();
  #nextTtt = 1;

  /** @param channel - the connection the commands arrived on */
  constructor(channel: TransferChannel) {
    this.#channel = channel;
  }

  /** Ends the write with this ITT that waits for data; false when there is none. */
  abort(itt: number): boolean {
    return this.#writes.delete(itt);
  }

  /** Ends every write that waits for data. */
  abortAll(): void {
    this.#writes.clear();
  }

  /** A SCSI Command PDU for `lun` (undefined when its LUN field names no logical unit of the target). */
  command(bhs: Uint8Array, pdu: ScsiCommandPdu, lun: Lun | undefined): void {
    const { itt, write } = pdu;
    const expected = pdu.expectedLength;
    const lunField = pdu.lun.slice();
    const cdb = pdu.cdb.slice();
    if (!write || expected === 0) {
      this.#channel.enqueue(() => this.#execute(itt, lun, lunField, cdb, undefined, expected));
      return;
    }
    // No command the array implements takes more than 256 MiB of Data-Out: refuse to buffer more.
    if (expected > MAX_WRITE_BUFFER) {
      this.#channel.reject(RejectReason.INVALID_PDU_FIELD, bhs);
      return;
    }
    const buffer = new Uint8Array(expected);
    const immediate = pdu.data.subarray(0, Math.min(pdu.data.length, expected));
    buffer.set(immediate);
    const pending: PendingWrite = { itt, lun, lunField, cdb, buffer, received: immediate.length, ttt: this.#nextTtt++ >>> 0, r2tSN: 0, r2tEnd: 0, digestError: false };
    this.#writes.set(itt, pending);
    // Unsolicited data may follow when InitialR2T=No, up to FirstBurstLength; otherwise ask now.
    const params = this.#channel.params;
    const unsolicitedEnd = params.initialR2T ? immediate.length : Math.min(expected, params.firstBurstLength);
    if (pending.received >= expected) this.#finishWrite(pending);
    else if (pending.received >= unsolicitedEnd) this.#requestData(pending);
  }

  /** A Data-Out PDU. */
  dataOut(bhs: Uint8Array, pdu: DataOutPdu): void {
    const p = this.#writes.get(pdu.itt);
    if (p === undefined) {
      this.#channel.reject(RejectReason.INVALID_PDU_FIELD, bhs);
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
      this.#channel.reject(RejectReason.PROTOCOL_ERROR, bhs);
      return;
    }
    p.buffer.set(pdu.data, offset);
    p.received = offset + pdu.data.length;
    if (p.received >= p.buffer.length) this.#finishWrite(p);
    else if (final && (p.r2tEnd === 0 || p.received >= p.r2tEnd)) this.#requestData(p);
  }

  /**
   * A Data-Out with a data digest error was discarded (its header is sound: header digests passed or
   * are off). RFC 7143 7.8: its write is left without that data; at ERL 0 the task ends with CHECK
   * CONDITION, PROTOCOL SERVICE CRC ERROR once its data sequence is over.
   */
  discardedDataOut(pdu: DataOutPdu): void {
    const p = this.#writes.get(pdu.itt);
    if (p === undefined) return;
    p.digestError = true;
    if (pdu.final) this.#failCrc(p);
  }

  #requestData(p: PendingWrite): void {
    const c = this.#channel;
    const length = Math.min(c.params.maxBurstLength, p.buffer.length - p.received);
    p.r2tEnd = p.received + length;
    const r2t = enc.readyToTransfer({ itt: p.itt, ttt: p.ttt, lun: p.lunField, r2tSN: p.r2tSN++, offset: p.received, length, ...c.sequence }, c.digests);
    c.enqueue(() => c.send(r2t));
  }

  /** Ends a write that lost data to a digest error: CHECK CONDITION, ABORTED COMMAND, 47h/05h (RFC 7143 11.4.7.2). */
  #failCrc(p: PendingWrite): void {
    this.#writes.delete(p.itt);
    const c = this.#channel;
    const sense = encodeFixedSense('PROTOCOL_SERVICE_CRC_ERROR');
    c.enqueue(() => c.send(enc.scsiResponse({ itt: p.itt, status: ScsiStatus.CHECK_CONDITION, response: 0, overflow: 0, underflow: 0, expDataSN: 0, ...c.status() }, sense, c.digests)));
  }

  #finishWrite(p: PendingWrite): void {
    this.#writes.delete(p.itt);
    this.#channel.enqueue(() => this.#execute(p.itt, p.lun, p.lunField, p.cdb, p.buffer, p.buffer.length));
  }

  async #execute(itt: number, lun: Lun | undefined, lunField: Uint8Array, cdb: Uint8Array, dataOut: Uint8Array | undefined, expected: number): Promise<void> {
    const c = this.#channel;
    const nexus = c.nexus;
    // A session that has ended (logout, a dropped connection, reinstated by a new login) has its
    // remaining tasks terminated (RFC 7143 6.3.5): they must not act on a nexus that is gone, or that
    // a reinstated session now holds.
    if (c.closed || nexus === undefined) return;
    const result = lun === undefined ? missingLun(cdb) : await lun.execute(cdb, dataOut, { nexus });
    const data = result.data;
    if (data !== undefined && data.length > 0 && result.status === ScsiStatus.GOOD) {
      this.#sendDataIn(itt, lunField, data, expected, result.status);
      return;
    }
    const sent = data?.length ?? 0;
    const residual = expected - Math.min(sent, expected);
    c.send(
      enc.scsiResponse(
        { itt, status: result.status, response: 0, overflow: sent > expected ? sent - expected : 0, underflow: dataOut === undefined ? residual : 0, expDataSN: 0, ...c.status() },
        result.sense,
        c.digests,
      ),
    );
  }

  /** Data-In in PDUs of the initiator's MaxRecvDataSegmentLength; the last carries the status. */
  #sendDataIn(itt: number, lunField: Uint8Array, data: Uint8Array, expected: number, status: number): void {
    const c = this.#channel;
    const total = Math.min(data.length, expected);
    const overflow = data.length > expected ? data.length - expected : 0;
    const underflow = data.length < expected ? expected - data.length : 0;
    const max = c.params.initiatorMaxRecvDataSegmentLength;
    let dataSN = 0;
    if (total === 0) {
      c.send(enc.scsiResponse({ itt, status, response: 0, overflow, underflow, expDataSN: 0, ...c.status() }, undefined, c.digests));
      return;
    }
    for (let offset = 0; offset < total; offset += max) {
      const n = Math.min(max, total - offset);
      const last = offset + n >= total;
      const burstEnd = (offset + n) % c.params.maxBurstLength === 0;
      const seq = last ? c.status() : c.sequence;
      const parts = enc.dataInParts(
        { final: last || burstEnd, itt, dataSN: dataSN++, offset, lun: lunField, ...(last ? { status } : {}), overflow, underflow, ...seq },
        data.subarray(offset, offset + n),
        c.digests,
      );
      c.sendParts(parts[2].length > 0 ? parts : [parts[0], parts[1]]);
    }
  }
}

/**
 * The answer for a LUN number the target does not have: INQUIRY (standard data) with PERIPHERAL
 * QUALIFIER 011b and type 1Fh as the SCSI layer builds it for an inaccessible LUN (SPC-4 6.6.2),
 * REQUEST SENSE returning LOGICAL UNIT NOT SUPPORTED as data, any other command CHECK CONDITION
 * with that sense (SPC-4 4.5.2; SAM-5, incorrect logical unit selection).
 */
export function missingLun(cdb: Uint8Array): ScsiResult {
  if (cdb[0] === Opcode.INQUIRY && (cdb[1]! & 0x01) === 0) {
    return { status: ScsiStatus.GOOD, data: truncate(inaccessibleLunInquiry(), readU16(cdb, 3)) };
  }
  if (cdb[0] === Opcode.REQUEST_SENSE) return { status: ScsiStatus.GOOD, data: encodeFixedSense('LOGICAL_UNIT_NOT_SUPPORTED') };
  return { status: ScsiStatus.CHECK_CONDITION, sense: encodeFixedSense('LOGICAL_UNIT_NOT_SUPPORTED') };
}
