/**
 * The kit's EXTENDED COPY encoding with a CSCD list of several LUNs (what the model tests send
 * through `encodeCommand`): segments name their source and destination by index, byte for byte as
 * SPC-4 6.4.6.5 lays out a block-to-block segment descriptor, and the `cscd-index-beyond-list`
 * defect names the index one past the list.
 */
import { describe, expect, it } from 'vitest';
import { readU16 } from '../../src/codec/bytes.js';
import { describeCommand, encodeCommand, type KitGeometry } from '../../src/testing/commands.js';

const designator = (n: number) => ({ codeSet: 1, associationAndType: 0x03, bytes: Uint8Array.of(0x60, 0, 0, 0, 0, 0, 0, n) });
const g: KitGeometry = { blockSize: 512, blockCount: 64, cscds: [designator(1), designator(2), designator(3)] };

describe('kit EXTENDED COPY across CSCDs', () => {
  it('encodes one CSCD descriptor per LUN and the indexes of each segment', () => {
    const { cdb, dataOut } = encodeCommand({ op: 'EXTENDED COPY', segments: [{ source: 2, destination: 1, srcLba: 4, dstLba: 8, blocks: 3 }] }, g);
    const list = dataOut!;
    expect(cdb[0]).toBe(0x83);
    expect(readU16(list, 2)).toBe(3 * 32); // CSCD DESCRIPTOR LIST LENGTH
    expect([0, 1, 2].map((i) => list[16 + 32 * i + 15])).toEqual([1, 2, 3]); // last designator byte of each CSCD
    const segment = 16 + 3 * 32;
    expect([readU16(list, segment + 4), readU16(list, segment + 6), readU16(list, segment + 10)]).toEqual([2, 1, 3]);
  });

  it('defaults to CSCD 0 (the LUN under test), and the beyond-list defect names CSCD 3 of 3', () => {
    const plain = encodeCommand({ op: 'EXTENDED COPY', segments: [{ srcLba: 0, dstLba: 8, blocks: 1 }] }, g).dataOut!;
    expect([readU16(plain, 16 + 96 + 4), readU16(plain, 16 + 96 + 6)]).toEqual([0, 0]);
    const broken = encodeCommand({ op: 'EXTENDED COPY', segments: [{ srcLba: 0, dstLba: 8, blocks: 1 }] }, g, undefined, 'cscd-index-beyond-list').dataOut!;
    expect(readU16(broken, 16 + 96 + 6)).toBe(3);
  });

  it('names the CSCDs in the description only when a segment gives them', () => {
    expect(describeCommand({ op: 'EXTENDED COPY', segments: [{ srcLba: 0, dstLba: 8, blocks: 1 }] })).toBe('EXTENDED COPY [0 -> 8 x1]');
    expect(describeCommand({ op: 'EXTENDED COPY', segments: [{ source: 2, destination: 1, srcLba: 0, dstLba: 8, blocks: 1 }] })).toBe('EXTENDED COPY [2:0 -> 1:8 x1]');
  });
});
