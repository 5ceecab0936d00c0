import { describe, expect, it } from 'vitest';
import { dataIn, dataInParts } from '../../src/iscsi/pdu/target-encoder.js';
import { decodeTargetPdu } from '../../src/iscsi/pdu/target-decoder.js';
import { PduFramer } from '../../src/iscsi/pdu/framer.js';
import { concat } from '../conformance/helpers.js';

const lun = Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 0);
const seq = { statSN: 0x11223344, expCmdSN: 0x55667788, maxCmdSN: 0x99aabbcc };
const data = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

describe('Data-In as parts (the read path): the same bytes as the whole PDU, without copying the data', () => {
  const grid = [0, 1, 2, 3, 4, 5, 512, 4097].flatMap((length) =>
    [
      { header: false, data: false },
      { header: true, data: false },
      { header: false, data: true },
      { header: true, data: true },
    ].flatMap((digests) => [undefined, 0x02].map((status) => ({ length, digests, status }))),
  );
  it.each(grid)('$length bytes, digests $digests, status $status', ({ length, digests, status }) => {
    const d = data(length);
    const f = { final: status !== undefined, itt: 0x01020304, dataSN: 7, offset: 0x10000, lun, ...(status === undefined ? {} : { status }), overflow: 0, underflow: status === undefined ? 0 : 96, ...seq };
    const parts = dataInParts(f, d, digests);
    expect(parts[1]).toBe(d); // the data itself, not a copy
    expect(parts[0].length).toBe(48 + (digests.header ? 4 : 0));
    const pad = (4 - (length % 4)) % 4;
    expect(parts[2].length).toBe(pad + (digests.data && length > 0 ? 4 : 0));
    expect(concat(...parts)).toEqual(dataIn(f, d, digests));
  });

  it('decodes as the Data-In it encodes: flags, status, residual, sequence numbers, offset', () => {
    const framer = new PduFramer({ maxDataSegmentLength: 1 << 20 });
    framer.headerDigest = true;
    framer.dataDigest = true;
    const parts = dataInParts({ final: true, itt: 9, dataSN: 3, offset: 4096, lun, status: 0, overflow: 0, underflow: 512, ...seq }, data(1021), { header: true, data: true });
    const framed = framer.push(concat(...parts));
    if (framed.kind === 'error') throw new Error('framing failed');
    expect(framed.pdus.length).toBe(1);
    const pdu = decodeTargetPdu(framed.pdus[0]!);
    expect(pdu).toMatchObject({ kind: 'data-in', itt: 9, dataSN: 3, offset: 4096, final: true, status: 0, overflow: false, underflow: true, residualCount: 512, statSN: seq.statSN, expCmdSN: seq.expCmdSN, maxCmdSN: seq.maxCmdSN });
  });
});
