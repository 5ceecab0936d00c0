import { describe, expect, it } from 'vitest';
import { assemblePdu, type Digests } from '../../src/iscsi/pdu/assemble.js';
import { PduFramer } from '../../src/iscsi/pdu/framer.js';
import { decodeInitiatorPdu, type InitiatorPdu } from '../../src/iscsi/pdu/initiator-decoder.js';
import * as ienc from '../../src/iscsi/pdu/initiator-encoder.js';
import { decodeTargetPdu, type TargetPdu } from '../../src/iscsi/pdu/target-decoder.js';
import * as tenc from '../../src/iscsi/pdu/target-encoder.js';
import { encodeText } from '../../src/iscsi/pdu/text.js';
import { concat } from '../conformance/helpers.js';

const seq = { statSN: 0x01020304, expCmdSN: 0x0a0b0c0d, maxCmdSN: 0x0a0b0c4c };
const lun3 = ienc.lunField(3);
const isid = Uint8Array.of(0x80, 1, 2, 3, 4, 5);
const cdb = Uint8Array.from({ length: 16 }, (_, i) => 0x89 + i);
const bytes = (n: number, from = 1) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

/** Each fixture: the bytes an encoder wrote, and the record the decoder must give back. */
type Fixture<T> = readonly [Uint8Array, T];

function initiatorFixtures(d: Digests): Fixture<InitiatorPdu>[] {
  const text = encodeText([['SendTargets', 'All']]);
  return [
    [
      ienc.loginRequest({ transit: true, csg: 1, nsg: 3, isid, tsih: 0x1234, itt: 7, cid: 9, cmdSN: 11, expStatSN: 13 }, text),
      { kind: 'login', immediate: true, transit: true, continue: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0, isid, tsih: 0x1234, itt: 7, cid: 9, cmdSN: 11, expStatSN: 13, data: text },
    ],
    [
      assemblePdu(0x04, text, d, (b) => {
        b[1] = 0x80;
        b.set(lun3, 8);
        b.set([0, 0, 0, 21, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 22, 0, 0, 0, 23], 16);
      }),
      { kind: 'text', immediate: false, final: true, continue: false, lun: lun3, itt: 21, ttt: 0xffffffff, cmdSN: 22, expStatSN: 23, data: text },
    ],
    [
      ienc.scsiCommand({ read: false, write: true, final: false, lun: lun3, itt: 0xfffffffe, expectedLength: 4096, cmdSN: 0xffffffff, expStatSN: 5, cdb }, bytes(13), d),
      { kind: 'scsi-command', immediate: false, final: false, read: false, write: true, attribute: 1, lun: lun3, itt: 0xfffffffe, expectedLength: 4096, cmdSN: 0xffffffff, expStatSN: 5, cdb, data: bytes(13) },
    ],
    [
      ienc.dataOut({ final: true, lun: lun3, itt: 31, ttt: 32, expStatSN: 33, dataSN: 34, offset: 0x10000 }, bytes(9, 7), d),
      { kind: 'data-out', final: true, lun: lun3, itt: 31, ttt: 32, expStatSN: 33, dataSN: 34, offset: 0x10000, data: bytes(9, 7) },
    ],
    [
      ienc.nopOut({ itt: 41, ttt: 0xffffffff, cmdSN: 42, expStatSN: 43, immediate: true }, bytes(5), d),
      { kind: 'nop-out', immediate: true, lun: new Uint8Array(8), itt: 41, ttt: 0xffffffff, cmdSN: 42, expStatSN: 43, data: bytes(5) },
    ],
    [
      ienc.taskManagementRequest({ fn: 5, lun: lun3, itt: 51, referencedItt: 52, cmdSN: 53, expStatSN: 54 }, d),
      { kind: 'task-management', immediate: true, function: 5, lun: lun3, itt: 51, referencedItt: 52, refCmdSN: 0, expDataSN: 0, cmdSN: 53, expStatSN: 54 },
    ],
    [ienc.logoutRequest({ itt: 61, cmdSN: 62, expStatSN: 63 }, d), { kind: 'logout', immediate: true, reason: 0, cid: 0, itt: 61, cmdSN: 62, expStatSN: 63 }],
    [assemblePdu(0x10, undefined, d, (b) => (b[1] = 0x80)), { kind: 'unsupported', opcode: 0x10, immediate: false, cmdSN: 0 }],
  ];
}

function targetFixtures(d: Digests): Fixture<TargetPdu>[] {
  const sense = Uint8Array.of(0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0);
  const text = encodeText([['TargetName', 'iqn.2026-11.dev.vaai-sim:x']]);
  return [
    [
      tenc.loginResponse({ transit: true, csg: 1, nsg: 3, isid, tsih: 77, itt: 7, statusClass: 0, statusDetail: 0, ...seq }, text, d),
      { kind: 'login-response', transit: true, continue: false, csg: 1, nsg: 3, versionMax: 0, versionActive: 0, isid, tsih: 77, itt: 7, statusClass: 0, statusDetail: 0, ...seq, data: text },
    ],
    [tenc.textResponse({ final: true, itt: 8, ttt: 0xffffffff, lun: lun3, ...seq }, text, d), { kind: 'text-response', final: true, continue: false, itt: 8, ttt: 0xffffffff, ...seq, data: text }],
    [
      tenc.scsiResponse({ itt: 9, status: 2, response: 0, overflow: 0, underflow: 512, expDataSN: 3, ...seq }, sense, d),
      { kind: 'scsi-response', itt: 9, response: 0, status: 2, expDataSN: 3, sense, overflow: false, underflow: true, residualCount: 512, ...seq },
    ],
    [
      tenc.scsiResponse({ itt: 10, status: 0, response: 0, overflow: 4, underflow: 0, expDataSN: 0, ...seq }, undefined, d),
      { kind: 'scsi-response', itt: 10, response: 0, status: 0, expDataSN: 0, sense: undefined, overflow: true, underflow: false, residualCount: 4, ...seq },
    ],
    [
      tenc.dataIn({ final: true, itt: 11, dataSN: 2, offset: 8192, lun: lun3, status: 0, overflow: 0, underflow: 3, ...seq }, bytes(13), d),
      { kind: 'data-in', final: true, acknowledge: false, hasStatus: true, status: 0, lun: lun3, itt: 11, ttt: 0xffffffff, dataSN: 2, offset: 8192, data: bytes(13), overflow: false, underflow: true, residualCount: 3, ...seq },
    ],
    [
      tenc.dataIn({ final: false, itt: 12, dataSN: 0, offset: 0, lun: lun3, overflow: 0, underflow: 0, ...seq }, bytes(4), d),
      { kind: 'data-in', final: false, acknowledge: false, hasStatus: false, status: 0, lun: lun3, itt: 12, ttt: 0xffffffff, dataSN: 0, offset: 0, data: bytes(4), overflow: false, underflow: false, residualCount: 0, statSN: 0, expCmdSN: seq.expCmdSN, maxCmdSN: seq.maxCmdSN },
    ],
    [tenc.readyToTransfer({ itt: 13, ttt: 14, lun: lun3, r2tSN: 1, offset: 65536, length: 262144, ...seq }, d), { kind: 'r2t', lun: lun3, itt: 13, ttt: 14, r2tSN: 1, offset: 65536, length: 262144, ...seq }],
    [tenc.nopIn({ itt: 15, ttt: 0xffffffff, lun: lun3, ...seq }, bytes(3), d), { kind: 'nop-in', lun: lun3, itt: 15, ttt: 0xffffffff, data: bytes(3), ...seq }],
    [tenc.taskManagementResponse({ itt: 16, response: 1, ...seq }, d), { kind: 'task-management-response', response: 1, itt: 16, ...seq }],
    [tenc.logoutResponse({ itt: 17, response: 0, ...seq }, d), { kind: 'logout-response', response: 0, itt: 17, time2Wait: 0, time2Retain: 0, ...seq }],
    [tenc.reject({ reason: 9, ...seq }, bytes(48), d), { kind: 'reject', reason: 9, rejectedHeader: bytes(48), ...seq }],
    [
      assemblePdu(0x32, sense, d, (b) => {
        b.set(lun3, 8);
        b.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 24);
        b.set([0, 0, 0, 5, 0, 2, 0, 3], 36);
      }),
      { kind: 'async-message', lun: lun3, asyncEvent: 0, asyncVCode: 0, parameters: [5, 2, 3], data: sense, statSN: 0x01020304, expCmdSN: 0x05060708, maxCmdSN: 0x090a0b0c },
    ],
    [assemblePdu(0x3c, undefined, d, () => {}), { kind: 'unsupported', opcode: 0x3c }],
  ];
}

/** Frames `stream` cut in two at `cut` and decodes every PDU (copying views before the next push). */
function frameAndDecode<T>(stream: Uint8Array, cut: number, d: Digests, decode: (p: Parameters<typeof decodeTargetPdu>[0]) => T): T[] {
  const f = new PduFramer({ maxDataSegmentLength: 1 << 20 });
  f.headerDigest = d.header;
  f.dataDigest = d.data;
  const out: T[] = [];
  for (const chunk of [stream.subarray(0, cut), stream.subarray(cut)]) {
    const r = f.push(chunk.slice());
    if (r.kind !== 'pdus') throw new Error(r.reason);
    out.push(...r.pdus.map((p) => structuredClone(decode(p))));
  }
  expect(f.pending).toBe(0);
  return out;
}

const digestModes: Digests[] = [
  { header: false, data: false },
  { header: true, data: false },
  { header: true, data: true },
];

describe('PDU decoders by direction: every encoder fixture, split at every offset', () => {
  for (const d of digestModes) {
    it(`initiator to target (digests ${JSON.stringify(d)})`, () => {
      // Login PDUs never carry digests (they are negotiated by login): frame the rest.
      const fixtures = initiatorFixtures(d).filter(([, want]) => want.kind !== 'login' || (!d.header && !d.data));
      const stream = concat(...fixtures.map(([b]) => b));
      const want = fixtures.map(([, w]) => w);
      for (let cut = 0; cut <= stream.length; cut++) expect(frameAndDecode(stream, cut, d, decodeInitiatorPdu), `split at ${cut}`).toEqual(want);
    });
    it(`target to initiator (digests ${JSON.stringify(d)})`, () => {
      const fixtures = targetFixtures(d).filter(([, want]) => want.kind !== 'login-response' || (!d.header && !d.data));
      const stream = concat(...fixtures.map(([b]) => b));
      const want = fixtures.map(([, w]) => w);
      for (let cut = 0; cut <= stream.length; cut++) expect(frameAndDecode(stream, cut, d, decodeTargetPdu), `split at ${cut}`).toEqual(want);
    });
  }
});

function decodeOne<T>(bytesIn: Uint8Array, d: Digests, decode: (p: Parameters<typeof decodeTargetPdu>[0]) => T): T {
  const [got] = frameAndDecode(bytesIn, 0, d, decode);
  return got!;
}

describe('PDU decoders: what they refuse', () => {
  const on = { header: true, data: true };
  it('a flipped header bit is a header digest failure, in both directions', () => {
    const out = ienc.nopOut({ itt: 1, ttt: 0xffffffff, cmdSN: 1, expStatSN: 1, immediate: true }, new Uint8Array(0), on);
    out[20] = out[20]! ^ 1;
    expect(decodeOne(out, on, decodeInitiatorPdu)).toEqual({ kind: 'corrupt', failure: 'header-digest' });
    const back = tenc.nopIn({ itt: 1, ttt: 0xffffffff, lun: lun3, ...seq }, new Uint8Array(0), on);
    back[47] = back[47]! ^ 0x80;
    expect(decodeOne(back, on, decodeTargetPdu)).toEqual({ kind: 'corrupt', failure: 'header-digest' });
  });

  it('a flipped data bit of a Data-Out is a data digest failure that still names the task (RFC 7143 7.8)', () => {
    const out = ienc.dataOut({ final: true, lun: lun3, itt: 99, ttt: 5, expStatSN: 1, dataSN: 0, offset: 512 }, bytes(6), on);
    out[57] = out[57]! ^ 1;
    const got = decodeOne(out, on, decodeInitiatorPdu);
    expect(got.kind).toBe('corrupt');
    if (got.kind !== 'corrupt') return;
    expect(got.failure).toBe('data-digest');
    expect(got.dataOut?.itt).toBe(99);
    expect(got.dataOut?.final).toBe(true);
    // A padding byte counts too: the digest covers the padded segment.
    const padded = ienc.dataOut({ final: true, lun: lun3, itt: 99, ttt: 5, expStatSN: 1, dataSN: 0, offset: 0 }, bytes(6), on);
    padded[52 + 7] = 1;
    expect(decodeOne(padded, on, decodeInitiatorPdu)).toMatchObject({ kind: 'corrupt', failure: 'data-digest' });
  });

  it('field rules: Login with T and C, Text with F and C, Data-In with S but not F, a SenseLength beyond the data', () => {
    const off = { header: false, data: false };
    const login = ienc.loginRequest({ transit: true, csg: 1, nsg: 3, isid, tsih: 0, itt: 1, cid: 0, cmdSN: 0, expStatSN: 0 }, new Uint8Array(0));
    login[1]! |= 0x40;
    expect(decodeOne(login, off, decodeInitiatorPdu)).toMatchObject({ kind: 'invalid', opcode: 0x03 });
    const text = assemblePdu(0x04, undefined, off, (b) => (b[1] = 0xc0));
    expect(decodeOne(text, off, decodeInitiatorPdu)).toMatchObject({ kind: 'invalid', opcode: 0x04 });
    const dataIn = tenc.dataIn({ final: true, itt: 1, dataSN: 0, offset: 0, lun: lun3, status: 0, overflow: 0, underflow: 0, ...seq }, bytes(4), off);
    dataIn[1] = 0x01;
    expect(decodeOne(dataIn, off, decodeTargetPdu)).toMatchObject({ kind: 'invalid', opcode: 0x25 });
    const response = tenc.scsiResponse({ itt: 1, status: 2, response: 0, overflow: 0, underflow: 0, expDataSN: 0, ...seq }, bytes(18), off);
    response[48 + 1] = 19; // SenseLength 19, 18 bytes follow
    expect(decodeOne(response, off, decodeTargetPdu)).toMatchObject({ kind: 'invalid', opcode: 0x21 });
  });

  it('a SCSI Command with an additional header segment (extended CDB) is refused, not truncated', () => {
    const off = { header: false, data: false };
    const cmd = ienc.scsiCommand({ read: true, write: false, final: true, lun: lun3, itt: 1, expectedLength: 512, cmdSN: 0, expStatSN: 0, cdb }, undefined, off);
    const withAhs = new Uint8Array(cmd.length + 8);
    withAhs.set(cmd.subarray(0, 48));
    withAhs[4] = 2; // TotalAHSLength in words
    withAhs.set([0, 5, 1, 0], 48); // AHSLength 5, type 1 (extended CDB)
    expect(decodeOne(withAhs, off, decodeInitiatorPdu)).toMatchObject({ kind: 'invalid', opcode: 0x01 });
  });
});
