import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/iscsi/pdu/crc32c.js';
import { PduFramer, type FramedPdu } from '../../src/iscsi/pdu/framer.js';
import * as enc from '../../src/iscsi/pdu/target-encoder.js';
import { decodeText, encodeText } from '../../src/iscsi/pdu/text.js';
import { concat } from '../conformance/helpers.js';

const seq = { statSN: 7, expCmdSN: 9, maxCmdSN: 72 };
const lun = new Uint8Array(8);

function fixtures(digests: enc.Digests): Uint8Array[] {
  return [
    enc.nopIn({ itt: 1, ttt: 0xffffffff, lun, ...seq }, new Uint8Array(0), digests),
    enc.dataIn({ final: true, itt: 2, dataSN: 0, offset: 0, lun, status: 0, overflow: 0, underflow: 3, ...seq }, Uint8Array.from({ length: 13 }, (_, i) => i + 1), digests),
    enc.textResponse({ final: true, itt: 3, ttt: 0xffffffff, lun, ...seq }, encodeText([['TargetName', 'iqn.2026-11.dev.vaai-sim:x'], ['TargetAddress', '127.0.0.1:3260,1']]), digests),
    enc.scsiResponse({ itt: 4, status: 2, response: 0, overflow: 0, underflow: 0, expDataSN: 0, ...seq }, new Uint8Array(18).fill(0x70, 0, 1), digests),
    enc.readyToTransfer({ itt: 5, ttt: 6, lun, r2tSN: 0, offset: 0, length: 4096, ...seq }, digests),
  ];
}

function summary(p: FramedPdu) {
  return { bhs: [...p.bhs], data: [...p.data], hd: p.headerDigest, dd: p.dataDigest };
}

describe('PDU framer', () => {
  for (const digests of [{ header: false, data: false }, { header: true, data: true }]) {
    it(`yields the same PDUs whatever the split (digests ${JSON.stringify(digests)})`, () => {
      const pdus = fixtures(digests);
      const stream = concat(...pdus);
      const whole = new PduFramer({ maxDataSegmentLength: 1 << 20 });
      whole.headerDigest = digests.header;
      whole.dataDigest = digests.data;
      const all = whole.push(stream);
      if (all.kind !== 'pdus') throw new Error(all.reason);
      expect(all.pdus.map((p) => p.raw.length)).toEqual(pdus.map((p) => p.length));
      const expected = all.pdus.map(summary);
      for (let cut = 0; cut <= stream.length; cut++) {
        const f = new PduFramer({ maxDataSegmentLength: 1 << 20 });
        f.headerDigest = digests.header;
        f.dataDigest = digests.data;
        const got: ReturnType<typeof summary>[] = [];
        for (const chunk of [stream.subarray(0, cut), stream.subarray(cut)]) {
          const r = f.push(chunk.slice());
          if (r.kind !== 'pdus') throw new Error(r.reason);
          got.push(...r.pdus.map(summary));
        }
        expect(got, `split at ${cut}`).toEqual(expected);
        expect(f.pending).toBe(0);
      }
      // one byte at a time
      const f = new PduFramer({ maxDataSegmentLength: 1 << 20 });
      f.headerDigest = digests.header;
      f.dataDigest = digests.data;
      const got: ReturnType<typeof summary>[] = [];
      for (let i = 0; i < stream.length; i++) {
        const r = f.push(stream.slice(i, i + 1));
        if (r.kind !== 'pdus') throw new Error(r.reason);
        got.push(...r.pdus.map(summary));
      }
      expect(got).toEqual(expected);
    });
  }

  it('digests are CRC32C of the header and of the padded data, little-endian', () => {
    const [, dataIn] = fixtures({ header: true, data: true });
    const f = new PduFramer({ maxDataSegmentLength: 1 << 20 });
    f.headerDigest = true;
    f.dataDigest = true;
    const r = f.push(dataIn!);
    if (r.kind !== 'pdus') throw new Error(r.reason);
    const p = r.pdus[0]!;
    expect(p.headerDigest).toBe(crc32c(dataIn!.subarray(0, 48)));
    expect(p.dataDigest).toBe(crc32c(dataIn!.subarray(52, 52 + 16))); // 13 bytes padded to 16
    expect(p.data.length).toBe(13);
  });

  it('reports an oversized data segment as a framing error instead of waiting for it', () => {
    const big = enc.dataIn({ final: true, itt: 1, dataSN: 0, offset: 0, lun, overflow: 0, underflow: 0, ...seq }, new Uint8Array(4096), { header: false, data: false });
    const f = new PduFramer({ maxDataSegmentLength: 1024 });
    const r = f.push(big.subarray(0, 48));
    expect(r.kind).toBe('error');
  });

  it('CRC32C matches the RFC 3720 B.4 vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('text segments: key=value pairs ended by NUL', () => {
    const bytes = encodeText([['HeaderDigest', 'CRC32C,None'], ['MaxBurstLength', '262144']]);
    expect(decodeText(bytes)).toEqual([['HeaderDigest', 'CRC32C,None'], ['MaxBurstLength', '262144']]);
    expect(typeof decodeText(new TextEncoder().encode('novalue\0'))).toBe('string');
  });
});
