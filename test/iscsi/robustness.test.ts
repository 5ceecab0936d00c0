/**
 * Robustness of the iSCSI target over real loopback sockets: malformed, truncated and oversized PDUs,
 * wrong lengths, digest errors, unknown opcodes, clients that vanish mid-transfer, and many sessions
 * at once. Raw PDUs go through `RawClient` (test/iscsi/raw-client.ts); every wait is bounded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense } from '../../src/index.js';
import { readU16, readU32 } from '../../src/codec/bytes.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import { IscsiSession } from '../../src/iscsi/initiator/session.js';
import * as enc from '../../src/iscsi/pdu/initiator-encoder.js';
import { TargetOpcode } from '../../src/iscsi/pdu/opcodes.js';
import { encodeText } from '../../src/iscsi/pdu/text.js';
import { expectBytes, pattern } from '../array/helpers.js';
import { crc32c } from '../../src/iscsi/pdu/crc32c.js';
import { RawClient, rawBhs, seededBytes, withHeaderDigest, type RawScsiResult } from './raw-client.js';

const MiB = 1024 * 1024;
const T = 'iqn.2026-11.dev.vaai-sim:robust';
/** MaxRecvDataSegmentLength the target declares. */
const TARGET_MAX_RECV = 262144;
const CRC = { HeaderDigest: 'CRC32C', DataDigest: 'CRC32C' };

function senseOf(r: RawScsiResult): [number, number, number] | undefined {
  const s = decodeSense(r.sense);
  return s === undefined ? undefined : [s.key, s.asc, s.ascq];
}

describe('iSCSI target robustness on loopback', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun0 = array.createLun({ sizeBytes: 64 * MiB, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun0] }], port: 0 });
  let port = 0;
  const raws: RawClient[] = [];
  const sessions: IscsiSession[] = [];

  const raw = async (): Promise<RawClient> => {
    const c = await RawClient.connect(port);
    raws.push(c);
    return c;
  };
  const rawLogin = async (operational: Record<string, string> = {}): Promise<RawClient> => {
    const c = await raw();
    await c.login({ targetName: T, operational });
    return c;
  };
  const session = async (options: { digests?: boolean; initiatorName?: string } = {}): Promise<IscsiSession> => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: T, ...options });
    sessions.push(s);
    return s;
  };
  /** The target still logs in a new session and answers TEST UNIT READY with GOOD. */
  const expectTargetServes = async (): Promise<void> => {
    const s = await session();
    expect((await s.lun(0).execute(cdb.testUnitReady())).status).toBe(0);
    await s.close();
  };
  /** What the medium holds, read on the array itself (no iSCSI in between). */
  const medium = async (lba: number, blocks: number): Promise<Uint8Array> => {
    const r = await lun0.execute(cdb.read10({ lba, blocks }));
    expect(r.status).toBe(0);
    return r.data!;
  };
  /**
   * The next PDU must be a Reject with `reason` carrying `rejected`'s header; StatSN continues the
   * sequence, and ExpCmdSN is the client's next CmdSN (a rejected immediate PDU consumes none).
   */
  const expectReject = async (c: RawClient, reason: number, rejected: Uint8Array): Promise<void> => {
    const statSN = c.expStatSN;
    const r = await c.nextReject();
    expect(r.reason).toBe(reason);
    expect(r.flags).toBe(0x80);
    expect(r.itt).toBe(0xffffffff);
    expect(r.statSN).toBe(statSN);
    expect(r.expCmdSN).toBe(c.cmdSN);
    expect(Array.from(r.header)).toEqual(Array.from(rejected.subarray(0, 48)));
  };

  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterEach(() => {
    for (const c of raws.splice(0)) c.destroy();
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await server.close();
  });

  describe('malformed and truncated PDUs', () => {
    it('a login whose text is garbage is refused with 02/00 (initiator error) and the connection closed', async () => {
      const noEquals = seededBytes(300, 7).map((b) => (b === 0x3d ? 0x2d : b)); // no '=' anywhere
      const garbage = [new TextEncoder().encode('not a key value pair\0'), new TextEncoder().encode('=value-without-key\0'), noEquals];
      for (const [i, text] of garbage.entries()) {
        const c = await raw();
        const itt = 0x100 + i;
        c.send(enc.loginRequest({ transit: true, csg: 0, nsg: 1, isid: c.isid, tsih: 0, itt, cid: 0, cmdSN: 0, expStatSN: 0 }, text));
        const r = await c.next();
        expect(r.opcode).toBe(TargetOpcode.LOGIN_RESPONSE);
        expect([r.bhs[36], r.bhs[37]]).toEqual([0x02, 0x00]);
        expect(r.bhs[1]! & 0x80).toBe(0); // no transit
        expect(readU16(r.bhs, 14)).toBe(0); // no TSIH: no session
        expect(readU32(r.bhs, 16)).toBe(itt);
        expect(Array.from(r.bhs.subarray(8, 14))).toEqual(Array.from(c.isid));
        expect(r.data.length).toBe(0);
        await c.waitClosed();
        expect(c.pending).toBe(0);
      }
      await expectTargetServes();
    });

    it('a PDU cut short, then the socket closed: no answer, and the target serves others', async () => {
      const login = enc.loginRequest(
        { transit: true, csg: 0, nsg: 1, isid: Uint8Array.of(0x80, 1, 2, 3, 4, 5), tsih: 0, itt: 1, cid: 0, cmdSN: 0, expStatSN: 0 },
        encodeText([['InitiatorName', 'iqn.2026-11.dev.vaai-sim:cut'], ['TargetName', T], ['SessionType', 'Normal'], ['AuthMethod', 'None']]),
      );
      // 1, 20, 47 bytes of the BHS; then the whole BHS and 10 bytes of its data segment
      for (const cut of [1, 20, 47, 58]) {
        const c = await raw();
        c.send(login.subarray(0, cut));
        c.socket.end();
        await c.waitClosed();
        expect(c.bytesReceived).toBe(0);
      }
      // in full feature phase: half the header of a SCSI command
      const c = await rawLogin();
      const before = c.bytesReceived;
      c.send(c.commandPdu({ cdb: cdb.testUnitReady(), expectedLength: 0 }).pdu.subarray(0, 24));
      c.socket.end();
      await c.waitClosed();
      expect(c.bytesReceived).toBe(before);
      await expectTargetServes();
    });

    it('a DataSegmentLength above MaxRecvDataSegmentLength closes the connection; one at the limit is served', async () => {
      // Login phase: a Login Request header announcing 262145 bytes, sent alone: closed on the header.
      const c1 = await raw();
      const login = enc.loginRequest({ transit: true, csg: 0, nsg: 1, isid: c1.isid, tsih: 0, itt: 1, cid: 0, cmdSN: 0, expStatSN: 0 }, new Uint8Array(0));
      login[5] = ((TARGET_MAX_RECV + 1) >>> 16) & 0xff;
      login[6] = ((TARGET_MAX_RECV + 1) >>> 8) & 0xff;
      login[7] = (TARGET_MAX_RECV + 1) & 0xff;
      c1.send(login);
      await c1.waitClosed();
      expect(c1.bytesReceived).toBe(0);
      // Full feature phase: a NOP-Out announcing the largest 24-bit length (16 MiB - 1); no Reject, closed.
      for (const dsl of [TARGET_MAX_RECV + 1, 0xffffff]) {
        const c2 = await rawLogin();
        const before = c2.bytesReceived;
        c2.send(rawBhs({ first: 0x40, itt: 9, cmdSN: c2.cmdSN, expStatSN: c2.expStatSN, dsl }));
        await c2.waitClosed();
        expect(c2.bytesReceived).toBe(before);
      }
      // Exactly the limit is accepted: a 262144-byte ping is echoed in full.
      const c3 = await rawLogin();
      const payload = pattern(TARGET_MAX_RECV, 3);
      expectBytes((await c3.ping(payload)).data, payload);
      await expectTargetServes();
    });

    it('random bytes before login: the connection is closed without a byte of answer', async () => {
      // Long enough that the first "PDU" is complete whatever its header says (AHS up to 1020 bytes,
      // data up to the limit), so the target must decide: frame it and refuse it, or refuse the header.
      const size = 48 + 255 * 4 + 4 + TARGET_MAX_RECV + 4 + 64;
      for (let seed = 1; seed <= 8; seed++) {
        const bytes = seededBytes(size, seed);
        if ((bytes[0]! & 0x3f) === 0x03) bytes[0] = bytes[0]! ^ 0x01; // not a Login Request
        const c = await raw();
        c.send(bytes);
        await c.waitClosed();
        expect(c.bytesReceived).toBe(0);
      }
      await expectTargetServes();
    });
  });

  describe('adding a connection to a session (TSIH not zero)', () => {
    it('an unknown TSIH is refused 02/0A (session does not exist); a live session\'s is refused 02/06 (too many connections: MaxConnections=1)', async () => {
      const live = await rawLogin();
      const names = encodeText([
        ['InitiatorName', 'iqn.2026-11.dev.vaai-sim:raw-client'],
        ['TargetName', T],
        ['SessionType', 'Normal'],
        ['AuthMethod', 'None'],
      ]);
      for (const [tsih, detail] of [[(live.tsih + 1000) & 0xffff || 1, 0x0a], [live.tsih, 0x06]] as const) {
        const c = await raw();
        c.send(enc.loginRequest({ transit: true, csg: 0, nsg: 1, isid: live.isid, tsih, itt: 1, cid: 1, cmdSN: 0, expStatSN: 0 }, names));
        const r = await c.next();
        expect(r.opcode).toBe(TargetOpcode.LOGIN_RESPONSE);
        expect([r.bhs[36], r.bhs[37]]).toEqual([0x02, detail]);
        await c.waitClosed();
      }
      // The live session was not disturbed.
      await live.ping();
    });
  });

  describe('wrong lengths', () => {
    // Lengths that disagree with the CDB (residuals) and Data-Out outside the solicited range:
    // test/iscsi/sequencing.test.ts.
    it('Data-Out for an unknown ITT is rejected 0x09 (INVALID PDU FIELD) and the session keeps working', async () => {
      const c = await rawLogin();
      const stray = c.dataOutPdu({ itt: 0x7777, ttt: 5, offset: 0, final: true }, pattern(512, 1));
      c.send(stray);
      await expectReject(c, 0x09, stray);
      // a Data-Out for a command that has already completed is just as unknown
      const data = pattern(512, 2);
      const w = c.commandPdu({ cdb: cdb.write10({ lba: 1150, blocks: 1 }), write: true, expectedLength: 512, immediate: data });
      c.send(w.pdu);
      expect((await c.result(w.itt)).status).toBe(0);
      const late = c.dataOutPdu({ itt: w.itt, ttt: 0xffffffff, offset: 0, final: true }, pattern(512, 3));
      c.send(late);
      await expectReject(c, 0x09, late);
      await c.ping();
      expect((await c.scsi(cdb.testUnitReady())).status).toBe(0);
      expectBytes((await c.scsi(cdb.read10({ lba: 1150, blocks: 1 }), { readLength: 512 })).data, data);
    });
  });

  describe('digest errors (CRC32C negotiated)', () => {
    it('a wrong header digest closes the connection, and the command it carried never runs', async () => {
      // corrupt the digest itself, or a CDB byte under a correct-looking digest
      for (const [i, at] of [48, 33].entries()) {
        const c = await rawLogin(CRC);
        expect(c.digests).toEqual({ header: true, data: true });
        await c.ping(pattern(100, 1)); // digests both ways check out
        const lba = 1200 + i;
        const { pdu } = c.commandPdu({ cdb: cdb.write10({ lba, blocks: 1 }), write: true, expectedLength: 512, immediate: pattern(512, 77) });
        pdu[at] = pdu[at]! ^ 0x01;
        const before = c.bytesReceived;
        c.send(pdu);
        await c.waitClosed();
        expect(c.bytesReceived).toBe(before);
        expectBytes(await medium(lba, 1), new Uint8Array(512));
      }
      await expectTargetServes();
    });

    it('a wrong data digest on a NOP-Out or a SCSI command: Reject 0x02, the PDU is discarded, and its retry works', async () => {
      const c = await rawLogin(CRC);
      // NOP-Out: Reject, and no NOP-In for it (the next PDU is the answer to the next ping)
      const { pdu: nop } = c.nopPdu(pattern(64, 5));
      const badNop = nop.slice();
      badNop[badNop.length - 1] = badNop[badNop.length - 1]! ^ 0x80;
      c.send(badNop);
      await expectReject(c, 0x02, badNop);
      expectBytes((await c.ping(pattern(64, 5))).data, pattern(64, 5));
      // SCSI WRITE with immediate data: the whole command is discarded, its CmdSN not consumed
      const data = pattern(1024, 21);
      const cmd = c.commandPdu({ cdb: cdb.write10({ lba: 1210, blocks: 2 }), write: true, expectedLength: 1024, immediate: data });
      const badCmd = cmd.pdu.slice();
      badCmd[badCmd.length - 1] = badCmd[badCmd.length - 1]! ^ 0x01;
      c.send(badCmd);
      const statSN = c.expStatSN;
      const rej = await c.nextReject();
      expect([rej.reason, rej.statSN, rej.expCmdSN]).toEqual([0x02, statSN, cmd.cmdSN]);
      expect(Array.from(rej.header)).toEqual(Array.from(badCmd.subarray(0, 48)));
      await c.ping(); // no R2T, no response in between
      expectBytes(await medium(1210, 2), new Uint8Array(1024));
      // the retry (same ITT, same CmdSN) runs
      c.send(cmd.pdu);
      const r = await c.result(cmd.itt);
      expect([r.status, r.r2ts.length]).toEqual([0, 0]);
      expectBytes(await medium(1210, 2), data);
    });

    it('a wrong data digest on a Data-Out: Reject 0x02, then the task ends with CHECK CONDITION 0B/47/05 (RFC 7143 7.8) and nothing is written', async () => {
      const c = await rawLogin(CRC);
      const old = pattern(1024, 30);
      expect((await c.scsi(cdb.write10({ lba: 1220, blocks: 2 }), { dataOut: old })).status).toBe(0);
      const data = pattern(1024, 31);
      // (a) the first of two Data-Out PDUs is corrupted, the final one is fine
      // (b) the only, final, Data-Out PDU is corrupted
      for (const split of [512, 1024]) {
        const { pdu, itt } = c.commandPdu({ cdb: cdb.write10({ lba: 1220, blocks: 2 }), write: true, expectedLength: 1024 });
        c.send(pdu);
        const r2t = await c.next();
        expect(r2t.opcode).toBe(TargetOpcode.READY_TO_TRANSFER);
        const ttt = readU32(r2t.bhs, 20);
        const first = c.dataOutPdu({ itt, ttt, offset: 0, final: split === 1024, dataSN: 0 }, data.subarray(0, split));
        first[first.length - 2] = first[first.length - 2]! ^ 0x10;
        c.send(first);
        if (split < 1024) c.send(c.dataOutPdu({ itt, ttt, offset: split, final: true, dataSN: 1 }, data.subarray(split)));
        await expectReject(c, 0x02, first);
        const r = await c.result(itt);
        expect(r.status, `split ${split}`).toBe(0x02);
        expect(senseOf(r)).toEqual([0x0b, 0x47, 0x05]); // ABORTED COMMAND, PROTOCOL SERVICE CRC ERROR
        // fixed format (70h), ADDITIONAL SENSE LENGTH 0Ah, nothing else set (SPC-4 4.5.3)
        expect(Array.from(r.sense!)).toEqual([0x70, 0, 0x0b, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x47, 0x05, 0, 0, 0, 0]);
        expectBytes(await medium(1220, 2), old);
      }
      // the session still works, through R2T and all
      const { pdu, itt } = c.commandPdu({ cdb: cdb.write10({ lba: 1220, blocks: 2 }), write: true, expectedLength: 1024 });
      c.send(pdu);
      expect((await c.result(itt, data)).r2ts).toEqual([[0, 1024]]);
      expectBytes(await medium(1220, 2), data);
    });
  });

  describe('unknown opcodes in full feature phase', () => {
    for (const digests of [false, true]) {
      it(`are rejected 0x05 (COMMAND NOT SUPPORTED) and the session keeps working (digests ${digests})`, async () => {
        const c = await rawLogin(digests ? CRC : {});
        // reserved, vendor-specific, and target opcodes sent by an initiator
        for (const op of [0x07, 0x0f, 0x11, 0x1c, 0x1d, 0x1e, 0x20, 0x3f]) {
          const bhs = rawBhs({ first: 0x40 | op, itt: 0x500 + op, cmdSN: c.cmdSN, expStatSN: c.expStatSN });
          const pdu = withHeaderDigest(bhs, c.digests);
          c.send(pdu);
          await expectReject(c, 0x05, bhs);
        }
        // one with a data segment (unpadded length 37; 40 on the wire)
        const data = pattern(37, 4);
        const withData = enc.nopOut({ itt: 0x600, ttt: 0xffffffff, cmdSN: c.cmdSN, expStatSN: c.expStatSN, immediate: true }, data, c.digests);
        withData[0] = 0x40 | 0x1c;
        if (digests) fixHeaderDigest(withData);
        c.send(withData);
        await expectReject(c, 0x05, withData);
        await c.ping(pattern(16, 1));
        expect((await c.scsi(cdb.testUnitReady())).status).toBe(0);
        const block = pattern(512, digests ? 12 : 11);
        expect((await c.scsi(cdb.write10({ lba: 1300 + (digests ? 1 : 0), blocks: 1 }), { dataOut: block })).status).toBe(0);
        expectBytes((await c.scsi(cdb.read10({ lba: 1300 + (digests ? 1 : 0), blocks: 1 }), { readLength: 512 })).data, block);
      });
    }
  });

  describe('clients that vanish', () => {
    it('in the middle of Data-Out: the target keeps serving, partial writes never reach the medium, acknowledged ones stay', async () => {
      const keeper = await session();
      const acked = pattern(8192, 71);
      expect((await keeper.lun(0).execute(cdb.write10({ lba: 5000, blocks: 16 }), acked)).status).toBe(0);

      const a = await rawLogin();
      // A's own acknowledged write
      const ownAcked = pattern(8192, 72);
      expect((await a.scsi(cdb.write10({ lba: 6000, blocks: 16 }), { dataOut: ownAcked })).status).toBe(0);
      // over 6000: immediate data for half, the R2T for the rest never answered
      const w2 = a.commandPdu({ cdb: cdb.write10({ lba: 6000, blocks: 16 }), write: true, expectedLength: 8192, immediate: pattern(4096, 74) });
      a.send(w2.pdu);
      const r2t2 = await a.next();
      expect([r2t2.opcode, readU32(r2t2.bhs, 16), readU32(r2t2.bhs, 40), readU32(r2t2.bhs, 44)]).toEqual([TargetOpcode.READY_TO_TRANSFER, w2.itt, 4096, 4096]);
      // over 5000: solicited data, one whole Data-Out PDU of two, then part of the second PDU (the
      // last bytes A ever sends: anything after them would be framed as the rest of that PDU)
      const w1 = a.commandPdu({ cdb: cdb.write10({ lba: 5000, blocks: 16 }), write: true, expectedLength: 8192 });
      a.send(w1.pdu);
      const r2t = await a.next();
      expect([r2t.opcode, readU32(r2t.bhs, 16), readU32(r2t.bhs, 40), readU32(r2t.bhs, 44)]).toEqual([TargetOpcode.READY_TO_TRANSFER, w1.itt, 0, 8192]);
      const partial = pattern(8192, 73);
      a.send(a.dataOutPdu({ itt: w1.itt, ttt: readU32(r2t.bhs, 20), offset: 0, final: false, dataSN: 0 }, partial.subarray(0, 4096)));
      a.send(a.dataOutPdu({ itt: w1.itt, ttt: readU32(r2t.bhs, 20), offset: 4096, final: true, dataSN: 1 }, partial.subarray(4096)).subarray(0, 48 + 1000));
      // meanwhile another session is served and sees none of it
      expect((await keeper.lun(0).execute(cdb.testUnitReady())).status).toBe(0);
      expectBytes((await keeper.lun(0).execute(cdb.read10({ lba: 5000, blocks: 16 }))).data, acked);
      expectBytes((await keeper.lun(0).execute(cdb.read10({ lba: 6000, blocks: 16 }))).data, ownAcked);
      expect(a.pending).toBe(0); // and A got no answer to either write
      a.destroy();
      await a.closed;

      // B sends everything but the last 4 bytes of the final PDU, then vanishes
      const bAcked = pattern(4096, 75);
      expect((await keeper.lun(0).execute(cdb.write10({ lba: 7000, blocks: 8 }), bAcked)).status).toBe(0);
      const b = await rawLogin();
      const w3 = b.commandPdu({ cdb: cdb.write10({ lba: 7000, blocks: 8 }), write: true, expectedLength: 4096 });
      b.send(w3.pdu);
      const r2t3 = await b.next();
      const last = b.dataOutPdu({ itt: w3.itt, ttt: readU32(r2t3.bhs, 20), offset: 0, final: true }, pattern(4096, 76));
      b.send(last.subarray(0, last.length - 4));
      b.destroy();
      await b.closed;
      await new Promise((resolve) => setTimeout(resolve, 100)); // let the target see both connections go

      for (const reader of [keeper, await session()]) {
        const lun = reader.lun(0);
        expect((await lun.execute(cdb.testUnitReady())).status).toBe(0);
        expectBytes((await lun.execute(cdb.read10({ lba: 5000, blocks: 16 }))).data, acked);
        expectBytes((await lun.execute(cdb.read10({ lba: 6000, blocks: 16 }))).data, ownAcked);
        expectBytes((await lun.execute(cdb.read10({ lba: 7000, blocks: 8 }))).data, bAcked);
      }
      expectBytes(await medium(5000, 16), acked);
      expectBytes(await medium(6000, 16), ownAcked);
      expectBytes(await medium(7000, 8), bAcked);
    });
  });

  describe('many sessions', () => {
    it('256 concurrent sessions each do TEST UNIT READY, WRITE and READ of their own block; no acknowledged write is lost', async () => {
      const N = 256;
      const BASE = 20000;
      const block = (i: number): Uint8Array => pattern(512, 1000 + i);
      // all 256 logged in at the same time (half of them with CRC32C digests)
      const connected = await Promise.allSettled(
        Array.from({ length: N }, (_, i) => IscsiSession.connect({ host: '127.0.0.1', port, targetName: T, digests: i % 2 === 1, initiatorName: `iqn.2026-11.dev.vaai-sim:host-${i}` })),
      );
      const all = connected.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
      sessions.push(...all);
      expect(connected.filter((c) => c.status === 'rejected').map((c) => String((c as PromiseRejectedResult).reason))).toEqual([]);
      const outcomes = await Promise.all(
        all.map(async (s, i) => {
          const lun = s.lun(0);
          const tur = await lun.execute(cdb.testUnitReady());
          const w = await lun.execute(cdb.write10({ lba: BASE + i, blocks: 1 }), block(i));
          const r = await lun.execute(cdb.read10({ lba: BASE + i, blocks: 1 }));
          return [tur.status, w.status, r.status, r.data !== undefined && Buffer.from(r.data).equals(Buffer.from(block(i)))];
        }),
      );
      expect(outcomes).toEqual(Array.from({ length: N }, () => [0, 0, 0, true]));
      await Promise.all(all.map((s) => s.close()));
      const expected = new Uint8Array(N * 512);
      for (let i = 0; i < N; i++) expected.set(block(i), i * 512);
      const check = await session();
      expectBytes((await check.lun(0).execute(cdb.read10({ lba: BASE, blocks: N }))).data, expected);
      expectBytes(await medium(BASE, N), expected);
    }, 30_000);
  });
});

/** Rewrites the header digest after bytes of the BHS were changed. */
function fixHeaderDigest(pdu: Uint8Array): void {
  const d = crc32c(pdu.subarray(0, 48));
  pdu[48] = d & 0xff;
  pdu[49] = (d >>> 8) & 0xff;
  pdu[50] = (d >>> 16) & 0xff;
  pdu[51] = (d >>> 24) & 0xff;
}
