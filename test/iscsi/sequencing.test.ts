/**
 * RFC 7143 to the letter on the command path, over raw PDUs on loopback: the CmdSN window (3.2.2.1,
 * 4.2.2.1), DataSN and Buffer Offset of Data-Out at ErrorRecoveryLevel 0 (7.8, 7.9, 11.7, 11.17.1),
 * and residual overflow and underflow when the Expected Data Transfer Length disagrees with the
 * CDB (11.4.5.1; libiscsi's Write10/12/16Residuals and Read10Invalid). No test waits for silence:
 * "no answer" is shown by an immediate NOP-Out ping, which is answered after everything queued
 * before it, arriving first.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense } from '../../src/index.js';
import { readU32 } from '../../src/codec/bytes.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import { TargetOpcode } from '../../src/iscsi/pdu/opcodes.js';
import { expectBytes, pattern } from '../array/helpers.js';
import { RawClient, type RawScsiResult, type ReceivedPdu } from './raw-client.js';

const MiB = 1024 * 1024;
const T = 'iqn.2026-11.dev.vaai-sim:sequencing';
/** The CmdSN window the target advertises when no command is outstanding. */
const WINDOW = 64;
/** Flags of a final SCSI Response: F, plus O (0x04) or U (0x02). */
const F = 0x80;
const O = 0x04;
const U = 0x02;

function senseOf(r: RawScsiResult): [number, number, number] | undefined {
  const s = decodeSense(r.sense);
  return s === undefined ? undefined : [s.key, s.asc, s.ascq];
}

/** ExpCmdSN and MaxCmdSN of a target PDU (bytes 28 and 32 of every status-bearing or R2T BHS). */
function window(p: ReceivedPdu): [number, number] {
  return [readU32(p.bhs, 28), readU32(p.bhs, 32)];
}

/** Marks a built PDU immediate (the I bit); valid while header digests are off. */
function immediate(pdu: Uint8Array): Uint8Array {
  pdu[0] = pdu[0]! | 0x40;
  return pdu;
}

describe('iSCSI sequencing and residuals (RFC 7143)', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun0 = array.createLun({ sizeBytes: 64 * MiB, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun0] }], port: 0 });
  let port = 0;
  const raws: RawClient[] = [];

  const rawLogin = async (operational: Record<string, string> = {}): Promise<RawClient> => {
    const c = await RawClient.connect(port);
    raws.push(c);
    await c.login({ targetName: T, operational });
    return c;
  };
  const medium = async (lba: number, blocks: number): Promise<Uint8Array> => {
    const r = await lun0.execute(cdb.read10({ lba, blocks }));
    expect(r.status).toBe(0);
    return r.data!;
  };
  /** The next PDU answers command `itt` (a SCSI Response). */
  const expectResponse = async (c: RawClient, itt: number): Promise<RawScsiResult> => c.result(itt);

  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterEach(() => {
    for (const c of raws.splice(0)) c.destroy();
  });
  afterAll(async () => {
    await server.close();
  });

  describe('the CmdSN window (RFC 7143 3.2.2.1, 4.2.2.1)', () => {
    it('advertises MaxCmdSN = ExpCmdSN + 63 when idle; a command outside [ExpCmdSN, MaxCmdSN] is ignored and the next in-window one answered', async () => {
      const c = await rawLogin();
      const first = c.commandPdu({ cdb: cdb.testUnitReady(), expectedLength: 0 });
      c.send(first.pdu);
      const r0 = await c.next();
      expect(r0.opcode).toBe(TargetOpcode.SCSI_RESPONSE);
      const exp = c.cmdSN;
      expect(window(r0)).toEqual([exp, (exp + WINDOW - 1) >>> 0]);
      c.expStatSN = (readU32(r0.bhs, 24) + 1) >>> 0;
      // [CmdSN, why it is outside]: MaxCmdSN + 1 (iSCSICmdSnTooHigh), ExpCmdSN - 1 (iSCSICmdSnTooLow,
      // a duplicate), half the number space away, the CmdSN just used
      for (const cmdSN of [(exp + WINDOW) >>> 0, (exp - 1) >>> 0, (exp + 0x80000000) >>> 0, first.cmdSN]) {
        const w = c.commandPdu({ cdb: cdb.write10({ lba: 10, blocks: 1 }), write: true, expectedLength: 512, immediate: pattern(512, 5), cmdSN });
        c.send(w.pdu);
        // the ping overtakes nothing: had the write run, its response would come first
        const nop = await c.ping();
        expect(window(nop), `CmdSN ${cmdSN}`).toEqual([exp, (exp + WINDOW - 1) >>> 0]);
      }
      expectBytes(await medium(10, 1), new Uint8Array(512));
      const next = await c.scsi(cdb.testUnitReady());
      expect(next.status).toBe(0);
    });

    it('a command that arrives ahead of its turn waits for the gap to fill; commands run in CmdSN order', async () => {
      const c = await rawLogin();
      const [a, b] = [pattern(512, 21), pattern(512, 22)];
      const exp = c.cmdSN;
      // CmdSN exp+1 writes A, exp writes B, both to LBA 20; exp+1 is sent first
      const later = c.commandPdu({ cdb: cdb.write10({ lba: 20, blocks: 1 }), write: true, expectedLength: 512, immediate: a, cmdSN: (exp + 1) >>> 0 });
      const earlier = c.commandPdu({ cdb: cdb.write10({ lba: 20, blocks: 1 }), write: true, expectedLength: 512, immediate: b, cmdSN: exp });
      c.cmdSN = (exp + 2) >>> 0;
      c.send(later.pdu);
      const nop = await c.ping(); // held, not answered
      expect(window(nop)[0]).toBe(exp);
      expectBytes(await medium(20, 1), new Uint8Array(512));
      c.send(earlier.pdu);
      const r1 = await c.next();
      expect([r1.opcode, readU32(r1.bhs, 16), r1.bhs[3]]).toEqual([TargetOpcode.SCSI_RESPONSE, earlier.itt, 0]);
      const r2 = await c.next();
      expect([r2.opcode, readU32(r2.bhs, 16), r2.bhs[3]]).toEqual([TargetOpcode.SCSI_RESPONSE, later.itt, 0]);
      expect(window(r2)[0]).toBe((exp + 2) >>> 0);
      c.expStatSN = (readU32(r2.bhs, 24) + 1) >>> 0;
      expectBytes(await medium(20, 1), a); // the later CmdSN ran last
    });

    it('MaxCmdSN itself is in the window: a command there waits until the 63 before it have come', async () => {
      const c = await rawLogin();
      const exp = c.cmdSN;
      const last = c.commandPdu({ cdb: cdb.testUnitReady(), expectedLength: 0, cmdSN: (exp + WINDOW - 1) >>> 0 });
      c.send(last.pdu);
      await c.ping();
      const itts: number[] = [];
      for (let i = 0; i < WINDOW - 1; i++) {
        const t = c.commandPdu({ cdb: cdb.testUnitReady(), expectedLength: 0, cmdSN: (exp + i) >>> 0 });
        itts.push(t.itt);
        c.send(t.pdu);
      }
      for (const itt of [...itts, last.itt]) expect((await expectResponse(c, itt)).status).toBe(0);
    });

    it('a command waiting for its data keeps its place: MaxCmdSN does not move until it ends', async () => {
      const c = await rawLogin(); // InitialR2T=Yes
      const data = pattern(1024, 31);
      const w = c.commandPdu({ cdb: cdb.write10({ lba: 30, blocks: 2 }), write: true, expectedLength: 1024 });
      c.send(w.pdu);
      const r2t = await c.next();
      expect(r2t.opcode).toBe(TargetOpcode.READY_TO_TRANSFER);
      // ExpCmdSN has moved past the write; the window still starts at it
      expect(window(r2t)).toEqual([c.cmdSN, (w.cmdSN + WINDOW - 1) >>> 0]);
      c.send(c.dataOutPdu({ itt: w.itt, ttt: readU32(r2t.bhs, 20), offset: 0, final: true }, data));
      const r = await c.next();
      expect([r.opcode, r.bhs[3]]).toEqual([TargetOpcode.SCSI_RESPONSE, 0]);
      expect(window(r)).toEqual([c.cmdSN, (c.cmdSN + WINDOW - 1) >>> 0]);
      c.expStatSN = (readU32(r.bhs, 24) + 1) >>> 0;
    });

    it('an immediate command is not subject to the window and does not advance ExpCmdSN', async () => {
      const c = await rawLogin();
      const exp = c.cmdSN;
      const t = c.commandPdu({ cdb: cdb.testUnitReady(), expectedLength: 0, cmdSN: (exp + 1000) >>> 0 });
      c.send(immediate(t.pdu));
      const r = await c.next();
      expect([r.opcode, readU32(r.bhs, 16), r.bhs[3]]).toEqual([TargetOpcode.SCSI_RESPONSE, t.itt, 0]);
      expect(window(r)).toEqual([exp, (exp + WINDOW - 1) >>> 0]);
      c.expStatSN = (readU32(r.bhs, 24) + 1) >>> 0;
      expect((await c.scsi(cdb.testUnitReady())).status).toBe(0);
    });
  });

  describe('Data-Out DataSN and Buffer Offset at ErrorRecoveryLevel 0 (RFC 7143 7.8, 7.9, 11.7, 11.17.1)', () => {
    it('a wrong DataSN (0,0 / 27 / -1 / 1,0) ends the write with 0B/47/05 after its sequence and writes nothing (iSCSIDataSnInvalid)', async () => {
      const old = pattern(1024, 41);
      expect((await lun0.execute(cdb.write10({ lba: 40, blocks: 2 }), old)).status).toBe(0);
      // [DataSNs of the Data-Out PDUs (512 bytes each, offsets 0, 512, …), InitialR2T]
      for (const [dataSNs, initialR2T] of [
        [[0, 0], 'Yes'],
        [[27], 'Yes'],
        [[0xffffffff], 'Yes'],
        [[1, 0], 'Yes'],
        [[0, 0], 'No'],
        [[27], 'No'],
        [[1, 0], 'No'],
      ] as const) {
        const c = await rawLogin({ InitialR2T: initialR2T, ImmediateData: 'No' });
        const length = dataSNs.length * 512;
        const w = c.commandPdu({ cdb: cdb.write10({ lba: 40, blocks: dataSNs.length }), write: true, expectedLength: length, final: initialR2T === 'Yes' });
        c.send(w.pdu);
        let ttt = 0xffffffff;
        if (initialR2T === 'Yes') {
          const r2t = await c.next();
          expect([r2t.opcode, readU32(r2t.bhs, 40), readU32(r2t.bhs, 44)]).toEqual([TargetOpcode.READY_TO_TRANSFER, 0, length]);
          ttt = readU32(r2t.bhs, 20);
        }
        dataSNs.forEach((dataSN, i) => c.send(c.dataOutPdu({ itt: w.itt, ttt, offset: i * 512, final: i === dataSNs.length - 1, dataSN }, pattern(512, 50 + i))));
        const r = await c.result(w.itt);
        expect([r.status, r.flags, r.residual], `DataSN ${dataSNs.join(',')}, InitialR2T=${initialR2T}`).toEqual([0x02, F, 0]);
        expect(senseOf(r)).toEqual([0x0b, 0x47, 0x05]);
        expectBytes(await medium(40, 2), old);
        expect((await c.scsi(cdb.testUnitReady())).status).toBe(0); // the session goes on
      }
    });

    it('DataSN starts again at 0 with each R2T: a write of two bursts lands', async () => {
      const c = await rawLogin({ MaxBurstLength: '262144' });
      const data = pattern(2 * 262144, 43);
      const r = await c.scsi(cdb.write10({ lba: 2048, blocks: data.length / 512 }), { dataOut: data });
      expect([r.status, r.flags, r.residual]).toEqual([0, F, 0]);
      expect(r.r2ts).toEqual([
        [0, 262144],
        [262144, 262144],
      ]);
      expectBytes(await medium(2048, data.length / 512), data);
    });

    it('a Buffer Offset outside the solicited range (beyond it, a gap, an overlap) is rejected 0x04 and the write ends 0B/4B/05 after its sequence, nothing written', async () => {
      const old = pattern(1024, 61);
      expect((await lun0.execute(cdb.write10({ lba: 1100, blocks: 2 }), old)).status).toBe(0);
      // [offset, length] of the bad PDU after a good first half (0, 512), when `afterHalf`
      for (const [offset, length, afterHalf] of [
        [1024, 512, false],
        [512, 1024, false],
        [0xfffffe00, 512, false],
        [0, 1028, false],
        [512, 512, false],
        [256, 512, true],
        [0, 512, true],
        [768, 256, true],
      ] as const) {
        const c = await rawLogin();
        const w = c.commandPdu({ cdb: cdb.write10({ lba: 1100, blocks: 2 }), write: true, expectedLength: 1024 });
        c.send(w.pdu);
        const r2t = await c.next();
        expect(r2t.opcode).toBe(TargetOpcode.READY_TO_TRANSFER);
        const ttt = readU32(r2t.bhs, 20);
        let dataSN = 0;
        if (afterHalf) c.send(c.dataOutPdu({ itt: w.itt, ttt, offset: 0, final: false, dataSN: dataSN++ }, pattern(512, 62)));
        const bad = c.dataOutPdu({ itt: w.itt, ttt, offset, final: true, dataSN }, pattern(length, 7));
        c.send(bad);
        const reject = await c.nextReject();
        expect(reject.reason, `offset ${offset}, length ${length}`).toBe(0x04);
        expect(Array.from(reject.header)).toEqual(Array.from(bad.subarray(0, 48)));
        const r = await c.result(w.itt);
        expect([r.status, r.flags, r.residual]).toEqual([0x02, F, 0]);
        expect(senseOf(r)).toEqual([0x0b, 0x4b, 0x05]);
        expectBytes(await medium(1100, 2), old);
        await c.ping();
      }
    });
  });

  describe('residuals (RFC 7143 11.4.5.1)', () => {
    const writes = [
      ['WRITE(10)', (blocks: number) => cdb.write10({ lba: 0, blocks })],
      ['WRITE(12)', (blocks: number) => cdb.write12({ lba: 0, blocks })],
      ['WRITE(16)', (blocks: number) => cdb.write16({ lba: 0, blocks })],
    ] as const;
    // [blocks in the CDB, EDTL, status, flags, residual, bytes written]: libiscsi's Write*Residuals
    // cases and more. Underflow (EDTL > what the CDB takes): GOOD, the CDB's blocks written, U and
    // EDTL - that. Overflow (EDTL < it): the whole blocks the EDTL holds written, GOOD, O and the CDB's
    // length - EDTL; an EDTL that ends inside a block: CHECK CONDITION 05/0E/03, nothing written.
    const grid = [
      [1, 0, 0, O, 512, 0],
      [1, 1024, 0, U, 512, 512],
      [2, 512, 0, O, 512, 512],
      [1, 10000, 0, U, 10000 - 512, 512],
      [1, 200, 2, O, 312, 0],
      [3, 1100, 2, O, 436, 0],
      [1, 513, 0, U, 1, 512],
      [4, 4096, 0, U, 2048, 2048],
      [4, 1536, 0, O, 512, 1536],
      [2, 1024, 0, 0, 0, 1024],
    ] as const;
    for (const [name, build] of writes) {
      it(`${name} with an EDTL other than the CDB's length: underflow runs on the CDB's blocks, overflow on the whole blocks offered (immediate data and R2T)`, async () => {
        for (const viaR2T of [false, true]) {
          const c = await rawLogin({ ImmediateData: viaR2T ? 'No' : 'Yes', FirstBurstLength: '65536' });
          for (const [blocks, edtl, status, flags, residual, written] of grid) {
            const before = pattern(4 * 512, 70 + blocks);
            expect((await lun0.execute(cdb.write10({ lba: 0, blocks: 4 }), before)).status).toBe(0);
            const data = pattern(edtl, 90 + edtl);
            const w = c.commandPdu({ cdb: build(blocks), write: edtl > 0, expectedLength: edtl, ...(viaR2T ? {} : { immediate: data }) });
            c.send(w.pdu);
            const r = await c.result(w.itt, data);
            const label = `${name} ${blocks} blocks, EDTL ${edtl}, ${viaR2T ? 'R2T' : 'immediate'}`;
            expect([r.status, r.flags, r.residual], label).toEqual([status, F | flags, residual]);
            expect(senseOf(r), label).toEqual(status === 0 ? undefined : [0x05, 0x0e, 0x03]);
            // R2Ts ask for what is written, never for the EDTL beyond the CDB's length
            expect(r.r2ts, label).toEqual(viaR2T && written > 0 ? [[0, written]] : []);
            const expected = before.slice();
            expected.set(data.subarray(0, written));
            expectBytes(await medium(0, 4), expected);
          }
        }
      });
    }

    it('an overflow whose initiator still sends unsolicited data: the target takes the burst, then answers (InitialR2T=No)', async () => {
      const c = await rawLogin({ InitialR2T: 'No', ImmediateData: 'No' });
      const before = await medium(0, 2);
      const w = c.commandPdu({ cdb: cdb.write10({ lba: 0, blocks: 2 }), write: true, expectedLength: 200, final: false });
      c.send(w.pdu);
      c.send(c.dataOutPdu({ itt: w.itt, ttt: 0xffffffff, offset: 0, final: true }, pattern(200, 3)));
      const r = await c.result(w.itt);
      expect([r.status, r.flags, r.residual, senseOf(r)]).toEqual([0x02, F | O, 824, [0x05, 0x0e, 0x03]]);
      expectBytes(await medium(0, 2), before);
      await c.ping(); // the Data-Out was not taken for a stray one
    });

    it('other commands with Data-Out keep the SCSI layer\'s rule: COMPARE AND WRITE of 0 blocks (256 in a byte) offered data is 05/24/00, no residual (CompareAndWrite.Simple)', async () => {
      const c = await rawLogin();
      const before = await medium(0, 1);
      // [blocks in the CDB, EDTL]
      for (const [blocks, edtl] of [
        [0, 2 * 256 * 512],
        [1, 2048],
        [2, 1024],
      ] as const) {
        const data = pattern(edtl, 5);
        const w = c.commandPdu({ cdb: cdb.compareAndWrite({ lba: 0, blocks }), write: true, expectedLength: edtl });
        c.send(w.pdu);
        const r = await c.result(w.itt, data);
        expect([r.status, r.flags, r.residual, senseOf(r)], `${blocks} blocks, EDTL ${edtl}`).toEqual([0x02, F, 0, [0x05, 0x24, 0x00]]);
        expectBytes(await medium(0, 1), before);
      }
    });

    it('READ(10) with an EDTL other than the CDB length: GOOD, the data that fits, O or U with the count', async () => {
      const c = await rawLogin();
      const base = pattern(2 * 512, 81);
      expect((await lun0.execute(cdb.write10({ lba: 1000, blocks: 2 }), base)).status).toBe(0);
      // [blocks, EDTL, R bit, flags of the status PDU, residual, bytes of Data-In] (libiscsi Read10Invalid, Read10Residuals)
      for (const [blocks, edtl, read, flags, residual, bytes] of [
        [1, 0, false, F | O, 512, 0],
        [1, 10000, true, F | 0x01 | U, 10000 - 512, 512],
        [1, 200, true, F | 0x01 | O, 312, 200],
        [2, 512, true, F | 0x01 | O, 512, 512],
        [2, 1024, true, F | 0x01, 0, 1024],
      ] as const) {
        const t = c.commandPdu({ cdb: cdb.read10({ lba: 1000, blocks }), read, expectedLength: edtl });
        c.send(t.pdu);
        const r = await c.result(t.itt);
        expect([r.status, r.flags, r.residual], `${blocks} blocks, EDTL ${edtl}`).toEqual([0, flags, residual]);
        expectBytes(r.data, base.subarray(0, bytes));
      }
    });

    it('READ(10) flagged as a write (W bit, Data-Out sent): GOOD, no Data-In, U with the Data-Out it did not take, nothing written (Read10Invalid)', async () => {
      for (const viaR2T of [false, true]) {
        const c = await rawLogin({ ImmediateData: viaR2T ? 'No' : 'Yes' });
        const before = await medium(1000, 1);
        const t = c.commandPdu({ cdb: cdb.read10({ lba: 1000, blocks: 1 }), write: true, expectedLength: 512, ...(viaR2T ? {} : { immediate: pattern(512, 0xa6) }) });
        c.send(t.pdu);
        const r = await c.result(t.itt, pattern(512, 0xa6));
        expect([r.status, r.flags, r.residual, r.data.length, r.r2ts.length]).toEqual([0, F | U, 512, 0, 0]);
        expectBytes(await medium(1000, 1), before);
      }
    });
  });
});
