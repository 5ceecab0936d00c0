/**
 * SANITIZE OVERWRITE over iSCSI, on raw PDUs (libiscsi's Sanitize.Reset and Overwrite as the target
 * sees them): a SANITIZE with IMMED = 0 does not hold up the session's later commands, which meet the
 * sanitize in progress (NOT READY, 04h/1Bh); its status comes when the sanitize ends; ABORT TASK ends
 * the task without any status while the sanitize goes on through a LUN reset, a second session and
 * the loss of the first (docs/decisions/sanitize.md). The sanitize's slices run on vitest's fake
 * setTimeout, so no test waits on real time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageArray, cdb, decodeSense, type Lun } from '../../src/index.js';
import { readU32 } from '../../src/codec/bytes.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import * as ienc from '../../src/iscsi/pdu/initiator-encoder.js';
import { TargetOpcode } from '../../src/iscsi/pdu/opcodes.js';
import { RawClient, type RawScsiResult } from './raw-client.js';

const MiB = 2 ** 20;
const T = 'iqn.2026-11.dev.vaai-sim:sanitize';
const LUN_BYTES = 64 * MiB;
const BLOCK = 512;
/** 16 MiB per 100 ms slice: four slices a pass over the 64 MiB LUN. */
const RATE = 160 * MiB;
const PASS_MS = 400;
const ABORT_TASK = 1;
const LOGICAL_UNIT_RESET = 5;

function senseOf(r: RawScsiResult): [number, number, number] | undefined {
  const s = decodeSense(r.sense);
  return s === undefined ? undefined : [s.key, s.asc, s.ascq];
}

const LIST = cdb.sanitizeOverwriteList({ count: 1, pattern: new Uint8Array(BLOCK).fill(0xaa) });
const OVERWRITE = cdb.sanitize({ serviceAction: 0x01, parameterListLength: LIST.length });
const IN_PROGRESS: [number, number, number] = [0x02, 0x04, 0x1b];

describe('SANITIZE OVERWRITE over iSCSI', () => {
  let server: IscsiServer;
  let lun: Lun;
  let port = 0;
  const clients: RawClient[] = [];

  beforeEach(async () => {
    const array = new StorageArray({ capacityBytes: 1 << 30 });
    lun = array.createLun({ sizeBytes: LUN_BYTES, lunId: 0 });
    lun.sanitizeOverwriteRate = RATE;
    server = new IscsiServer({ array, targets: [{ name: T, luns: [lun] }], port: 0 });
    port = (await server.listen()).port;
    // Only setTimeout: the sockets and the rest of the server run as they do.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });

  afterEach(async () => {
    vi.useRealTimers();
    for (const c of clients.splice(0)) c.destroy();
    await server.close();
  });

  async function login(): Promise<RawClient> {
    const c = await RawClient.connect(port);
    clients.push(c);
    await c.login({ targetName: T });
    return c;
  }

  /** Sends SANITIZE OVERWRITE (IMMED = 0) with its list as immediate data; returns its ITT. */
  function startOverwrite(c: RawClient): number {
    const { pdu, itt } = c.commandPdu({ cdb: OVERWRITE, write: true, expectedLength: LIST.length, immediate: LIST });
    c.send(pdu);
    return itt;
  }

  /** A task management request (immediate) and its response code. */
  async function tmf(c: RawClient, fn: number, referencedItt = 0xffffffff): Promise<number> {
    const itt = c.itt++;
    c.send(ienc.taskManagementRequest({ fn, lun: ienc.lunField(0), itt, referencedItt, cmdSN: c.cmdSN, expStatSN: c.expStatSN }, c.digests));
    const p = await c.next();
    expect(p.opcode).toBe(TargetOpcode.TASK_MANAGEMENT_RESPONSE);
    expect(readU32(p.bhs, 16)).toBe(itt);
    c.expStatSN = (readU32(p.bhs, 24) + 1) >>> 0;
    return p.bhs[2]!;
  }

  const tur = async (c: RawClient): Promise<[number, number, number] | undefined> => senseOf(await c.scsi(cdb.testUnitReady()));

  it('IMMED = 0: later commands on the same session run meanwhile (TEST UNIT READY 02/04/1B, INQUIRY GOOD); GOOD comes when the last slice is written', async () => {
    const c = await login();
    const itt = startOverwrite(c);
    expect(await tur(c)).toEqual(IN_PROGRESS);
    const inquiry = await c.scsi(cdb.inquiry({ allocationLength: 36 }), { readLength: 36 });
    expect(inquiry.status).toBe(0);
    await vi.advanceTimersByTimeAsync(PASS_MS - 100);
    expect(await tur(c)).toEqual(IN_PROGRESS);
    await vi.advanceTimersByTimeAsync(100);
    const r = await c.result(itt);
    expect([r.status, r.sense]).toEqual([0, undefined]);
    expect(await tur(c)).toBeUndefined();
    const read = await c.scsi(cdb.read16({ lba: LUN_BYTES / BLOCK - 1, blocks: 1 }), { readLength: BLOCK });
    expect(read.data.every((b) => b === 0xaa)).toBe(true);
  });

  it('ABORT TASK ends the SANITIZE task with no status ever sent; the sanitize goes on through a LUN reset and is seen from a second session', async () => {
    const c = await login();
    const itt = startOverwrite(c);
    expect(await tur(c)).toEqual(IN_PROGRESS);
    expect(await tmf(c, ABORT_TASK, itt)).toBe(0); // FUNCTION COMPLETE
    expect(await tmf(c, ABORT_TASK, itt)).toBe(1); // TASK DOES NOT EXIST: it is gone
    expect(await tmf(c, LOGICAL_UNIT_RESET)).toBe(0);
    expect(await tur(c)).toEqual([0x06, 0x29, 0x03]);
    expect(await tur(c)).toEqual(IN_PROGRESS);
    const c2 = await login();
    expect(await tur(c2)).toEqual(IN_PROGRESS);
    await vi.advanceTimersByTimeAsync(PASS_MS);
    expect(lun.sanitizeInProgress).toBe(false);
    // The aborted task's answer is never sent: the ping's echo is the next PDU.
    await c.ping();
    expect(await tur(c)).toBeUndefined();
    expect(await tur(c2)).toBeUndefined();
  });

  it('the session that started it is lost: the sanitize goes on, a new session sees it in progress, then done', async () => {
    const c = await login();
    startOverwrite(c);
    expect(await tur(c)).toEqual(IN_PROGRESS);
    c.destroy();
    await c.closed;
    const c2 = await login();
    expect(await tur(c2)).toEqual(IN_PROGRESS);
    await vi.advanceTimersByTimeAsync(PASS_MS);
    expect(await tur(c2)).toBeUndefined();
    const read = await c2.scsi(cdb.read16({ lba: 0, blocks: 1 }), { readLength: BLOCK });
    expect(read.data.every((b) => b === 0xaa)).toBe(true);
  });
});
