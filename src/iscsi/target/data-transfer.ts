/**
 * The SCSI command path of a session (RFC 7143 4.2.2.6, 11.2–11.8): immediate and unsolicited data,
 * R2T and Data-Out assembly with DataSN and Buffer Offset checked (RFC 7143 7.8, 7.9, 11.7), the
 * Expected Data Transfer Length resolved against the Data-Out the CDB implies (residuals, RFC 7143
 * 11.4.5.1), execution in CmdSN order, Data-In with phase collapse (the last Data-In carries the
 * status), and the SCSI Response with sense.
 * @module
 */
import type { Lun } from '../../scsi/logical-unit.js';
import { truncate, readU16 } from '../../codec/bytes.js';
import { encodeSense, type SenseFormat } from '../../codec/sense-encoder.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import { impliedDataOut } from '../../scsi/dispatch.js';
import type { ItNexus } from '../../scsi/ports.js';
import type { SenseReason } from '../../spec/sense.js';
import { inaccessibleLunInquiry } from '../../scsi/spc/inquiry.js';
import { Opcode, ScsiStatus } from '../../spec/opcodes.js';
import type { DataOutPdu, ScsiCommandPdu } from '../pdu/initiator-decoder.js';
import { RejectReason } from '../pdu/opcodes.js';
import * as enc from '../pdu/target-encoder.js';
import type { SessionParameters } from './negotiation.js';
import { isBlockWrite, shortenedWrite } from './residuals.js';
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
  /**
   * Sends a PDU given as parts, without copying them into one buffer; `sent` is called once the
   * transport no longer holds the parts (written to the kernel, or dropped with the connection).
   */
  sendParts(parts: readonly Uint8Array[], sent?: () => void): void;
  /** Queues work after every command before it: commands are executed in CmdSN order. */
  enqueue(work: () => Promise<void> | void): void;
  /** Answers a PDU with a Reject (RFC 7143 11.17). */
  reject(reason: number, bhs: Uint8Array): void;
  /** The I_T nexus the session's commands run under (undefined before the full feature phase). */
  readonly nexus: ItNexus | undefined;
  /** True once the connection, and with it the session, has ended. */
  readonly closed: boolean;
}

/**
 * The Data-Out length the iSCSI layer resolves the EDTL against, or `undefined` to hand the SCSI layer
 * the EDTL's data as it is (its rule: exactly what the CDB implies, else 05/24/00). Residuals apply to
 * the block writes (their Data-Out is blocks of the medium, so fewer or more can be taken) and to a
 * command that takes no Data-Out and writes nothing, flagged as a write (libiscsi Read10Invalid).
 * Other mismatches stay the SCSI layer's: a COMPARE AND WRITE of 0 blocks offered data, a parameter
 * list length that disagrees with the EDTL (libiscsi CompareAndWrite.Simple wants 05/24/00 there).
 */
function residualLength(implied: { readonly length: number; readonly writesMedium: boolean } | undefined, cdb: Uint8Array, edtl: number): number | undefined {
  if (implied === undefined || implied.length === edtl) return implied?.length;
  if (isBlockWrite(cdb)) return implied.length;
  return implied.length === 0 && !implied.writesMedium ? 0 : undefined;
}

/** Residual counts of a response (RFC 7143 11.4.5.1): at most one of them is non-zero. */
interface Residual {
  readonly overflow: number;
  readonly underflow: number;
}

const NO_RESIDUAL: Residual = { overflow: 0, underflow: 0 };

/** Reads up to this many bytes receive their Data-In in a reused buffer. */
const POOLED_READ_MAX = 16 * 1024 * 1024;
/** At most this many bytes of idle Data-In buffers are kept per connection. */
const POOL_BYTES = 32 * 1024 * 1024;
/** Pooled buffers are allocated in multiples of this, so that nearby read sizes share them. */
const POOL_GRAIN = 256 * 1024;

/**
 * The Data-In buffers of one connection, reused from read to read as an HBA reuses its scatter
 * lists. A fresh zeroed buffer per read (and the garbage collection of it) cost more than the copy
 * to the socket for 1 MiB reads. A buffer is handed to READ as its `dataIn` (READ fills every byte
 * of the part it returns: the medium's bytes, zeros where unmapped) and comes back only once the
 * socket has let go of the last PDU that carries it.
 */
class ReadBuffers {
  readonly #free: Uint8Array[] = [];
  #idleBytes = 0;

  /** A buffer of at least `length` bytes, or `undefined` when reads this long are not pooled. */
  take(length: number): Uint8Array | undefined {
    if (length === 0 || length > POOLED_READ_MAX) return undefined;
    const i = this.#free.findIndex((b) => b.length >= length);
    if (i < 0) return new Uint8Array(Math.ceil(length / POOL_GRAIN) * POOL_GRAIN);
    const b = this.#free[i]!;
    this.#free.splice(i, 1);
    this.#idleBytes -= b.length;
    return b;
  }

  /** Returns a buffer nothing refers to any more. */
  give(buffer: Uint8Array): void {
    if (this.#idleBytes + buffer.length > POOL_BYTES) return;
    this.#free.push(buffer);
    this.#idleBytes += buffer.length;
  }
}

/** The reserved Target Transfer Tag of unsolicited Data-Out (RFC 7143 11.7.4). */
const UNSOLICITED_TTT = 0xffffffff;

interface PendingWrite {
  readonly itt: number;
  readonly lun: Lun | undefined;
  readonly lunField: Uint8Array;
  /** The CDB to run: the one received, or on a residual overflow of a block write the same write of the blocks offered. */
  readonly cdb: Uint8Array;
  /** What the command takes: the first `buffer.length` bytes of the Data-Out. */
  readonly buffer: Uint8Array;
  /** The Expected Data Transfer Length of the Data-Out. */
  readonly edtl: number;
  /** The Data-Out length the received CDB implies (`undefined` when the CDB does not decode: then all of it). */
  readonly implied: number | undefined;
  /** On a residual overflow, the CDB cannot be cut down to the data offered: nothing runs (05/0E/03). */
  readonly refused: boolean;
  /** The offset the next Data-Out must start at (data beyond `buffer` is received and dropped). */
  received: number;
  readonly ttt: number;
  r2tSN: number;
  /** The DataSN the next Data-Out of the current sequence must carry (RFC 7143 11.7.5). */
  dataSN: number;
  /** Unsolicited Data-Out may still come (the command's F bit was 0 and InitialR2T=No). */
  unsolicited: boolean;
  /** End of the unsolicited data (FirstBurstLength or the EDTL). */
  readonly unsolicitedEnd: number;
  /** End of the data the current R2T asked for (0 when none is outstanding). */
  r2tEnd: number;
  /** Why the task ends in CHECK CONDITION once its data sequence is over (a Data-Out was discarded). */
  failed: SenseReason | undefined;
  /** Called once when the task ends (answered or aborted): its CmdSN leaves the command window. */
  readonly done: () => void;
}

/** The commands of one session: writes waiting for their data, and execution with its answer. */
export class DataTransfer implements AbortableTasks {
  readonly #channel: TransferChannel;
  readonly #writes = new Map<number, PendingWrite>();
  /** Commands that answer later (SANITIZE OVERWRITE with IMMED = 0, a fault rule's delay), by ITT: each one's `done`. */
  readonly #later = new Map<number, () => void>();
  readonly #readBuffers = new ReadBuffers();
  #nextTtt = 1;

  /** @param channel - the connection the commands arrived on */
  constructor(channel: TransferChannel) {
    this.#channel = channel;
  }

  /**
   * Ends the task with this ITT: a write that waits for data, or a command that answers later, whose
   * answer is then never sent (SAM-5 7.2: an aborted task returns no status); what the command
   * started on its LUN goes on (a sanitize lives on the LUN). False when there is no such task.
   */
  abort(itt: number): boolean {
    const later = this.#later.get(itt);
    if (later !== undefined) {
      this.#later.delete(itt);
      later();
      return true;
    }
    const p = this.#writes.get(itt);
    if (p === undefined) return false;
    this.#writes.delete(itt);
    p.done();
    return true;
  }

  /** Ends every write that waits for data and every command that answers later (no status is sent for them). */
  abortAll(): void {
    for (const done of this.#later.values()) done();
    this.#later.clear();
    for (const p of this.#writes.values()) p.done();
    this.#writes.clear();
  }

  /**
   * A SCSI Command PDU for `lun` (undefined when its LUN field names no logical unit of the target);
   * `done` is called once when the task ends.
   *
   * The Data-Out the task takes is what the CDB implies, whatever the Expected Data Transfer Length
   * says (RFC 7143 11.4.5.1; docs/decisions/iscsi.md, "Residuals"): an EDTL larger than that is a
   * residual underflow (the command runs on the data it implies, U bit, count EDTL minus that); a
   * smaller one is a residual overflow (O bit, count the CDB's length minus EDTL): a block write runs
   * on the whole blocks offered; anything else (a partial block, a parameter list) is answered CHECK
   * CONDITION, ILLEGAL REQUEST, INVALID FIELD IN INFORMATION UNIT with nothing written.
   */
  command(bhs: Uint8Array, pdu: ScsiCommandPdu, lun: Lun | undefined, done: () => void): void {
    const { itt, write } = pdu;
    const c = this.#channel;
    const edtl = write ? pdu.expectedLength : 0;
    const lunField = pdu.lun.slice();
    const cdb = pdu.cdb.slice();
    const nexus = c.nexus;
    const implied = lun === undefined || nexus === undefined ? undefined : residualLength(impliedDataOut(lun, cdb, nexus), cdb, edtl);
    if (edtl === 0 && (implied ?? 0) === 0) {
      const readLength = write ? 0 : pdu.expectedLength;
      c.enqueue(() => this.#execute(itt, lun, lunField, cdb, undefined, readLength, done));
      return;
    }
    // No command the array implements takes more than 256 MiB of Data-Out: refuse to buffer more.
    if (edtl > MAX_WRITE_BUFFER) {
      c.reject(RejectReason.INVALID_PDU_FIELD, bhs);
      done();
      return;
    }
    // The bytes the command takes: what the CDB implies when the EDTL covers it; on an overflow the
    // EDTL when the write can be cut down to it, else none.
    const shortened = implied !== undefined && implied > edtl && lun !== undefined ? shortenedWrite(cdb, edtl, lun.blockSize) : undefined;
    const refused = implied !== undefined && implied > edtl && shortened === undefined;
    const takes = implied === undefined ? edtl : implied <= edtl ? implied : refused ? 0 : edtl;
    const buffer = new Uint8Array(takes);
    const immediate = pdu.data.subarray(0, Math.min(pdu.data.length, edtl));
    buffer.set(immediate.subarray(0, takes));
    // Unsolicited Data-Out follows when the F bit is 0 (with InitialR2T=No), up to FirstBurstLength.
    const params = c.params;
    const unsolicited = !pdu.final && !params.initialR2T && immediate.length < Math.min(edtl, params.firstBurstLength);
    const p: PendingWrite = {
      itt,
      lun,
      lunField,
      cdb: shortened ?? cdb,
      buffer,
      edtl,
      implied,
      refused,
      received: immediate.length,
      ttt: this.#nextTtt++ >>> 0,
      r2tSN: 0,
      dataSN: 0,
      unsolicited,
      unsolicitedEnd: Math.min(edtl, params.firstBurstLength),
      r2tEnd: 0,
      failed: undefined,
      done,
    };
    this.#writes.set(itt, p);
    this.#next(p);
  }

  /** A Data-Out PDU. */
  dataOut(bhs: Uint8Array, pdu: DataOutPdu): void {
    const p = this.#writes.get(pdu.itt);
    if (p === undefined) {
      this.#channel.reject(RejectReason.INVALID_PDU_FIELD, bhs);
      return;
    }
    const { offset, final, data } = pdu;
    if (p.failed !== undefined) {
      // The rest of a sequence one of whose PDUs was discarded: wait for its end (RFC 7143 7.8 b, 11.17.1).
      if (final) this.#fail(p);
      return;
    }
    // DataSN runs 0, 1, 2 … within each sequence. A gap means the target lost a PDU to a digest error
    // it did not see, and is handled as one (RFC 7143 7.9, 7.8): at ERL 0 there is no recovery R2T,
    // so the task ends with PROTOCOL SERVICE CRC ERROR once its sequence is over.
    if (pdu.dataSN !== p.dataSN) {
      p.failed = 'PROTOCOL_SERVICE_CRC_ERROR';
      if (final) this.#fail(p);
      return;
    }
    // DataPDUInOrder=Yes and DataSequenceInOrder=Yes (negotiation.ts always answers Yes): each Data-Out
    // continues exactly where the data so far ends, inside what was asked for (RFC 7143 13.19, 13.20).
    // Taking a gap would write zeros the initiator never sent. The PDU is rejected and its task ends
    // with CHECK CONDITION after the sequence (RFC 7143 11.17.1).
    const limit = p.unsolicited ? p.unsolicitedEnd : p.r2tEnd;
    if (offset !== p.received || offset + data.length > limit) {
      this.#channel.reject(RejectReason.PROTOCOL_ERROR, bhs);
      p.failed = 'DATA_OFFSET_ERROR';
      if (final) this.#fail(p);
      return;
    }
    p.dataSN++;
    if (offset < p.buffer.length) p.buffer.set(data.subarray(0, p.buffer.length - offset), offset);
    p.received = offset + data.length;
    if (p.unsolicited) {
      if (final || p.received >= p.unsolicitedEnd) p.unsolicited = false;
      else return;
    } else if (!final && p.received < p.r2tEnd) {
      return;
    }
    p.r2tEnd = 0;
    this.#next(p);
  }

  /**
   * A Data-Out with a data digest error was discarded (its header is sound: header digests passed or
   * are off). RFC 7143 7.8: its write is left without that data; at ERL 0 the task ends with CHECK
   * CONDITION, PROTOCOL SERVICE CRC ERROR once its data sequence is over.
   */
  discardedDataOut(pdu: DataOutPdu): void {
    const p = this.#writes.get(pdu.itt);
    if (p === undefined) return;
    p.failed = 'PROTOCOL_SERVICE_CRC_ERROR';
    if (pdu.final) this.#fail(p);
  }

  /** After the unsolicited data or an R2T's sequence: ask for more, or run the command. */
  #next(p: PendingWrite): void {
    if (p.unsolicited) return;
    if (p.received < p.buffer.length) {
      this.#requestData(p);
      return;
    }
    this.#writes.delete(p.itt);
    const c = this.#channel;
    if (p.refused) {
      // Residual overflow that no shorter command expresses: nothing runs.
      const overflow = (p.implied ?? 0) - p.edtl;
      const sense = encodeSense(formatOf(p.lun), 'INVALID_FIELD_IN_INFORMATION_UNIT');
      c.enqueue(() => {
        p.done();
        c.send(enc.scsiResponse({ itt: p.itt, status: ScsiStatus.CHECK_CONDITION, response: 0, overflow, underflow: 0, expDataSN: 0, ...c.status() }, sense, c.digests));
      });
      return;
    }
    const residual = p.implied !== undefined && p.implied > p.edtl ? { overflow: p.implied - p.edtl, underflow: 0 } : { overflow: 0, underflow: p.edtl - p.buffer.length };
    c.enqueue(() => this.#execute(p.itt, p.lun, p.lunField, p.cdb, p.buffer, 0, p.done, residual));
  }

  #requestData(p: PendingWrite): void {
    const c = this.#channel;
    const length = Math.min(c.params.maxBurstLength, p.buffer.length - p.received);
    p.r2tEnd = p.received + length;
    p.dataSN = 0;
    const r2t = enc.readyToTransfer({ itt: p.itt, ttt: p.ttt, lun: p.lunField, r2tSN: p.r2tSN++, offset: p.received, length, ...c.sequence }, c.digests);
    c.enqueue(() => c.send(r2t));
  }

  /** Ends a write that lost Data-Out: CHECK CONDITION, ABORTED COMMAND with the reason (RFC 7143 11.4.7.2, 11.17.1). */
  #fail(p: PendingWrite): void {
    this.#writes.delete(p.itt);
    const c = this.#channel;
    const sense = encodeSense(formatOf(p.lun), p.failed ?? 'PROTOCOL_SERVICE_CRC_ERROR');
    c.enqueue(() => {
      p.done();
      c.send(enc.scsiResponse({ itt: p.itt, status: ScsiStatus.CHECK_CONDITION, response: 0, overflow: 0, underflow: 0, expDataSN: 0, ...c.status() }, sense, c.digests));
    });
  }

  /**
   * Runs a command and answers it. `readLength` is the Data-In the initiator expects (0 for a write);
   * `writeResidual`, for a write, its Data-Out residual.
   */
  #execute(itt: number, lun: Lun | undefined, lunField: Uint8Array, cdb: Uint8Array, dataOut: Uint8Array | undefined, readLength: number, done: () => void, writeResidual = NO_RESIDUAL): void {
    const c = this.#channel;
    const nexus = c.nexus;
    // A session that has ended (logout, a dropped connection, reinstated by a new login) has its
    // remaining tasks terminated (RFC 7143 6.3.5): they must not act on a nexus that is gone, or that
    // a reinstated session now holds.
    if (c.closed || nexus === undefined) return;
    const pooled = dataOut === undefined && lun !== undefined ? this.#readBuffers.take(readLength) : undefined;
    const answer = lun === undefined ? missingLun(cdb) : lun.execute(cdb, dataOut, pooled === undefined ? { nexus } : { nexus, dataIn: pooled });
    if (!(answer instanceof Promise)) {
      this.#answer(itt, lunField, answer, dataOut, readLength, pooled, done, writeResidual);
      return;
    }
    // A command that answers later does not hold up the commands after it (SAM-5 SIMPLE tasks): its
    // answer is queued when it comes, unless the task was aborted or the session ended meanwhile.
    this.#later.set(itt, done);
    void answer.then((result) => {
      c.enqueue(() => {
        if (!this.#later.delete(itt) || c.closed) {
          if (pooled !== undefined) this.#readBuffers.give(pooled);
          return;
        }
        this.#answer(itt, lunField, result, dataOut, readLength, pooled, done, writeResidual);
      });
    });
  }

  /** Sends the answer to a command that ran: Data-In and status, or the SCSI Response with the residuals. */
  #answer(itt: number, lunField: Uint8Array, result: ScsiResult, dataOut: Uint8Array | undefined, readLength: number, pooled: Uint8Array | undefined, done: () => void, writeResidual: Residual): void {
    const c = this.#channel;
    done();
    const data = result.data;
    // The pooled buffer is in flight only when the answer's data is a view of it.
    const carried = pooled !== undefined && data !== undefined && data.buffer === pooled.buffer ? pooled : undefined;
    if (pooled !== undefined && carried === undefined) this.#readBuffers.give(pooled);
    if (dataOut === undefined && data !== undefined && data.length > 0 && result.status === ScsiStatus.GOOD) {
      this.#sendDataIn(itt, lunField, data, readLength, result.status, carried === undefined ? undefined : () => this.#readBuffers.give(carried));
      return;
    }
    if (carried !== undefined) this.#readBuffers.give(carried);
    // A write's residual is about its Data-Out; Data-In it was not flagged for is not sent.
    const sent = dataOut === undefined ? (data?.length ?? 0) : 0;
    const overflow = dataOut === undefined ? (sent > readLength ? sent - readLength : 0) : writeResidual.overflow;
    const underflow = dataOut === undefined ? readLength - Math.min(sent, readLength) : writeResidual.underflow;
    c.send(enc.scsiResponse({ itt, status: result.status, response: 0, overflow, underflow, expDataSN: 0, ...c.status() }, result.sense, c.digests));
  }

  /**
   * Data-In in PDUs of the initiator's MaxRecvDataSegmentLength; the last carries the status.
   * `sent` is called once the socket has let go of `data`.
   */
  #sendDataIn(itt: number, lunField: Uint8Array, data: Uint8Array, expected: number, status: number, sent?: () => void): void {
    const c = this.#channel;
    const total = Math.min(data.length, expected);
    const overflow = data.length > expected ? data.length - expected : 0;
    const underflow = data.length < expected ? expected - data.length : 0;
    const max = c.params.initiatorMaxRecvDataSegmentLength;
    let dataSN = 0;
    if (total === 0) {
      c.send(enc.scsiResponse({ itt, status, response: 0, overflow, underflow, expDataSN: 0, ...c.status() }, undefined, c.digests));
      sent?.();
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
      c.sendParts(parts[2].length > 0 ? parts : [parts[0], parts[1]], last ? sent : undefined);
    }
  }
}

/** The sense format of `lun` (its Control page's D_SENSE); fixed where there is no such LUN. */
function formatOf(lun: Lun | undefined): SenseFormat {
  return lun?.senseFormat ?? 'fixed';
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
  // REQUEST SENSE returns the format its DESC bit asks for (SPC-5 6.39); there is no Control page to say otherwise.
  if (cdb[0] === Opcode.REQUEST_SENSE) return { status: ScsiStatus.GOOD, data: encodeSense((cdb[1]! & 0x01) !== 0 ? 'descriptor' : 'fixed', 'LOGICAL_UNIT_NOT_SUPPORTED') };
  return { status: ScsiStatus.CHECK_CONDITION, sense: encodeSense('fixed', 'LOGICAL_UNIT_NOT_SUPPORTED') };
}
