/**
 * Sense reasons are declared once (the table's keys), and the decoder reads both formats the same:
 * fixed (70h) as the array writes it and descriptor (72h, SPC-4 4.5.2) as a D_SENSE = 1 target does,
 * with the information (00h), command-specific information (01h) and sense key specific (02h)
 * descriptors.
 */
import { describe, expect, it } from 'vitest';
import { decodeSense } from '../../src/codec/sense-decoder.js';
import { encodeDescriptorSense, encodeFixedSense } from '../../src/codec/sense-encoder.js';
import { SENSE_TABLE, isSenseReason, type SenseReason } from '../../src/spec/sense.js';

describe('sense reasons', () => {
  it('every reason of the table decodes back to itself in both formats', () => {
    for (const reason of Object.keys(SENSE_TABLE) as SenseReason[]) {
      expect(isSenseReason(reason)).toBe(true);
      for (const sense of [encodeFixedSense(reason), encodeDescriptorSense(reason)]) {
        expect(decodeSense(sense)).toMatchObject({ ...SENSE_TABLE[reason], reason });
      }
    }
  });

  it('PROTOCOL SERVICE CRC ERROR is ABORTED COMMAND 47h/05h (SPC-4 annex D)', () => {
    expect(SENSE_TABLE.PROTOCOL_SERVICE_CRC_ERROR).toEqual({ key: 0x0b, asc: 0x47, ascq: 0x05 });
    expect([...encodeFixedSense('PROTOCOL_SERVICE_CRC_ERROR').subarray(0, 14)]).toEqual([0x70, 0, 0x0b, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x47, 0x05]);
  });
});

describe('descriptor-format sense', () => {
  it('encodes the header and the three descriptors byte for byte', () => {
    const sense = encodeDescriptorSense('COPY_ABORTED', { information: 0x1_0000_0002, commandSpecificInformation: 3, fieldPointer: { in: 'segment', byte: 4, bit: 7 } });
    expect([...sense]).toEqual([
      0x72, 0x0a, 0x00, 0x00, 0, 0, 0, 32,
      0x00, 0x0a, 0x80, 0, 0, 0, 0, 0x01, 0, 0, 0, 0x02,
      0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
      0x02, 0x06, 0, 0, 0x80 | 0x20 | 0x08 | 7, 0, 4, 0,
    ]);
    expect(decodeSense(sense)).toEqual({
      responseCode: 0x72,
      key: 0x0a,
      asc: 0,
      ascq: 0,
      information: 0x1_0000_0002,
      commandSpecificInformation: 3,
      fieldPointer: { in: 'segment', byte: 4, bit: 7 },
      reason: 'COPY_ABORTED',
    });
  });

  it('reads a CDB field pointer and ignores an information descriptor without VALID', () => {
    const sense = encodeDescriptorSense('INVALID_FIELD_IN_CDB', { information: 9, fieldPointer: { in: 'cdb', byte: 1 } });
    expect(decodeSense(sense)).toMatchObject({ information: 9, fieldPointer: { in: 'cdb', byte: 1 } });
    sense[10] = 0; // VALID = 0
    expect(decodeSense(sense)).not.toHaveProperty('information');
  });

  it('leaves out a descriptor cut by the allocation length, and keeps the ones before it', () => {
    const whole = encodeDescriptorSense('MISCOMPARE_DURING_VERIFY_OPERATION', { information: 17, fieldPointer: { in: 'parameter', byte: 2 } });
    expect(decodeSense(whole.subarray(0, 8))).toEqual({ responseCode: 0x72, key: 0x0e, asc: 0x1d, ascq: 0, reason: 'MISCOMPARE_DURING_VERIFY_OPERATION' });
    expect(decodeSense(whole.subarray(0, 19))).not.toHaveProperty('information');
    expect(decodeSense(whole.subarray(0, 24))).toMatchObject({ information: 17 });
    expect(decodeSense(whole.subarray(0, 24))).not.toHaveProperty('fieldPointer');
    expect(decodeSense(whole.subarray(0, 7))).toBeUndefined();
  });

  it('stops at ADDITIONAL SENSE LENGTH even when more bytes follow', () => {
    const sense = encodeDescriptorSense('INVALID_FIELD_IN_CDB', { fieldPointer: { in: 'cdb', byte: 1 } });
    sense[7] = 0;
    expect(decodeSense(sense)).not.toHaveProperty('fieldPointer');
  });
});

describe('fixed-format sense', () => {
  it('reads SENSE-KEY SPECIFIC only when ADDITIONAL SENSE LENGTH covers it', () => {
    const sense = encodeFixedSense('INVALID_FIELD_IN_CDB', { fieldPointer: { in: 'cdb', byte: 2 } });
    expect(decodeSense(sense)?.fieldPointer).toEqual({ in: 'cdb', byte: 2 });
    sense[7] = 6; // ends at ASCQ (byte 13)
    expect(decodeSense(sense)).not.toHaveProperty('fieldPointer');
  });
});
