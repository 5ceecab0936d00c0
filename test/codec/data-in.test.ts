/**
 * The Data-In decoders read the array's own answers (what INQUIRY, REPORT SUPPORTED OPERATION CODES
 * and RECEIVE COPY RESULTS return through `execute`) into T10-named records, read hand-built buffers
 * the array never sends (other revisions, other targets), and answer data cut by the ALLOCATION
 * LENGTH with a typed failure that names the length that would hold it, never a RangeError.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb } from '../../src/index.js';
import { decodeOperatingParameters } from '../../src/codec/copy-results-decoder.js';
import type { DataInResult } from '../../src/codec/data-in.js';
import { decodeAllCommands, decodeOneCommand } from '../../src/codec/rsoc-decoder.js';
import { decodeLbaStatus, decodeReadCapacity16 } from '../../src/codec/sbc-data-decoder.js';
import {
  decodeBlockDeviceCharacteristics,
  decodeBlockLimits,
  decodeDeviceIdentification,
  decodeLogicalBlockProvisioning,
  decodeSupportedVpdPages,
  decodeThirdPartyCopy,
  decodeUnitSerialNumber,
  decodeVpdHeader,
} from '../../src/codec/vpd-decoder.js';

const MiB = 1024 * 1024;

function setup(thin = true) {
  const array = new StorageArray({ capacityBytes: 64 * MiB });
  const lun = array.createLun({ sizeBytes: 16 * MiB, thin, limits: { maximumCompareAndWriteLength: 8, maximumTransferLength: 4096 } });
  return { array, lun };
}

/** The Data-In of a command that must succeed. */
function dataIn(lun: ReturnType<typeof setup>['lun'], c: Uint8Array): Uint8Array {
  const r = lun.execute(c) as { status: number; data?: Uint8Array };
  expect(r.status).toBe(0);
  return r.data!;
}

const vpd = (lun: ReturnType<typeof setup>['lun'], page: number, allocationLength = 0xffff) => dataIn(lun, cdb.inquiry({ page, allocationLength }));

function value<T>(r: DataInResult<T>): T {
  if (!r.ok) throw new Error(`expected a record, got ${r.problem}: ${r.message}`);
  return r.value;
}

/** Every prefix of `whole` shorter than it decodes to a typed failure (no throw); the whole decodes. */
function everyCutFails(whole: Uint8Array, decode: (d: Uint8Array) => DataInResult<unknown>): void {
  expect(decode(whole).ok).toBe(true);
  for (let n = 0; n < whole.length; n++) {
    const r = decode(whole.subarray(0, n));
    expect(r.ok, `cut at ${n}`).toBe(false);
    if (!r.ok) {
      expect(['truncated', 'short']).toContain(r.problem);
      expect(r.requiredLength).toBeGreaterThan(n);
    }
  }
}

describe('VPD decoders, on the array', () => {
  it('00h lists the pages the array serves', () => {
    const { lun } = setup();
    expect(value(decodeSupportedVpdPages(vpd(lun, 0x00)))).toEqual({
      peripheralQualifier: 0,
      peripheralDeviceType: 0,
      pageCode: 0,
      pageLength: 7,
      supportedPages: [0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2],
    });
  });

  it('80h carries the serial number and 83h the NAA then the T10 vendor ID designator, then the target port designators', () => {
    const { lun } = setup();
    expect(value(decodeUnitSerialNumber(vpd(lun, 0x80))).productSerialNumber).toBe(lun.serialNumber);
    const ids = value(decodeDeviceIdentification(vpd(lun, 0x83))).designationDescriptors;
    expect(ids).toHaveLength(5);
    // The default target port: relative target port 1 (type 4), target port group 0 (type 5), its SCSI name (type 8), association 01b.
    expect(ids.slice(2).map((d) => [d.association, d.designatorType, d.codeSet])).toEqual([[1, 4, 1], [1, 5, 1], [1, 8, 3]]);
    expect([...ids[2]!.designator, ...ids[3]!.designator]).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    expect(ids[0]).toEqual({ protocolIdentifier: 0, codeSet: 1, piv: false, association: 0, designatorType: 3, designator: lun.naaDesignator });
    expect(ids[1]).toMatchObject({ codeSet: 2, association: 0, designatorType: 1 });
    expect(String.fromCharCode(...ids[1]!.designator)).toContain(lun.serialNumber);
  });

  it('8Fh carries the copy manager as RECEIVE COPY RESULTS (OPERATING PARAMETERS) reports it', () => {
    const { lun } = setup();
    const tpc = value(decodeThirdPartyCopy(vpd(lun, 0x8f))).thirdPartyCopyDescriptors;
    const op = value(decodeOperatingParameters(dataIn(lun, cdb.receiveCopyResults({ serviceAction: 0x03, allocationLength: 1024 }))));
    expect(tpc.map((d) => d.thirdPartyCopyDescriptorType)).toEqual([0x0001, 0x0004, 0x0008, 0x8001]);
    // Supported Commands lists the service actions REPORT SUPPORTED OPERATION CODES reports for 83h and 84h.
    const all = value(decodeAllCommands(dataIn(lun, cdb.reportSupportedOperationCodes({ allocationLength: 65536 })))).commandDescriptors;
    const serviceActions = (opcode: number) => all.filter((c) => c.operationCode === opcode).map((c) => c.serviceAction);
    expect(tpc[0]).toEqual({
      thirdPartyCopyDescriptorType: 0x0001,
      commands: [
        { operationCode: 0x83, serviceActions: serviceActions(0x83) },
        { operationCode: 0x84, serviceActions: serviceActions(0x84) },
      ],
    });
    expect(serviceActions(0x84)).toEqual(expect.arrayContaining([0x00, 0x03]));
    expect(tpc[1]).toEqual({
      thirdPartyCopyDescriptorType: 0x0004,
      maximumCscdDescriptorCount: op.maximumCscdDescriptorCount,
      maximumSegmentDescriptorCount: op.maximumSegmentDescriptorCount,
      maximumDescriptorListLength: op.maximumDescriptorListLength,
      maximumInlineDataLength: op.maximumInlineDataLength,
    });
    expect(tpc[2]).toEqual({ thirdPartyCopyDescriptorType: 0x0008, descriptorTypeCodes: op.implementedDescriptorTypeCodes });
    expect(tpc[3]).toEqual({
      thirdPartyCopyDescriptorType: 0x8001,
      totalConcurrentCopies: op.totalConcurrentCopies,
      maximumConcurrentCopies: op.maximumConcurrentCopies,
      maximumSegmentLength: op.maximumSegmentLength,
      dataSegmentGranularity: 9,
      inlineDataGranularity: 9,
    });
    expect(op).toMatchObject({ snlid: true, maximumCscdDescriptorCount: 16, maximumSegmentDescriptorCount: 64, maximumSegmentLength: 256 * MiB, implementedDescriptorTypeCodes: [0x02, 0xe4] });
  });

  it('B0h carries the LUN limits', () => {
    const { lun } = setup();
    expect(value(decodeBlockLimits(vpd(lun, 0xb0)))).toMatchObject({
      pageLength: 0x3c,
      wsnz: false,
      maximumCompareAndWriteLength: 8,
      maximumTransferLength: 4096,
      maximumUnmapLbaCount: lun.limits.maximumUnmapLbaCount,
      maximumUnmapBlockDescriptorCount: lun.limits.maximumUnmapBlockDescriptorCount,
      optimalUnmapGranularity: lun.unitBlocks,
      ugavalid: true,
      unmapGranularityAlignment: 0,
      maximumWriteSameLength: lun.limits.maximumWriteSameLength,
    });
  });

  it('B1h says non-rotating, and B2h thin or not', () => {
    const thin = setup(true).lun;
    const thick = setup(false).lun;
    expect(value(decodeBlockDeviceCharacteristics(vpd(thin, 0xb1)))).toMatchObject({ mediumRotationRate: 1, nominalFormFactor: 0, fuab: false, vbuls: true });
    expect(value(decodeLogicalBlockProvisioning(vpd(thin, 0xb2)))).toMatchObject({ lbpu: true, lbpws: true, lbpws10: true, lbprz: true, ancSup: false, dp: false, provisioningType: 2 });
    expect(value(decodeLogicalBlockProvisioning(vpd(thick, 0xb2)))).toMatchObject({ lbpu: false, lbpws: false, lbpws10: false, lbprz: false, provisioningType: 0 });
  });

  it('a page cut by the ALLOCATION LENGTH is truncated, with the length that holds it', () => {
    const { lun } = setup();
    const cut = decodeBlockLimits(vpd(lun, 0xb0, 16));
    expect(cut).toEqual({ ok: false, problem: 'truncated', requiredLength: 64, message: 'VPD page b0h: 16 bytes, the header announces 64' });
    expect(decodeBlockLimits(vpd(lun, 0xb0, 3))).toMatchObject({ ok: false, problem: 'short', requiredLength: 4 });
    expect(decodeBlockLimits(vpd(lun, 0xb0, (cut as { requiredLength: number }).requiredLength)).ok).toBe(true);
    for (const [page, decode] of [
      [0x00, decodeSupportedVpdPages],
      [0x80, decodeUnitSerialNumber],
      [0x83, decodeDeviceIdentification],
      [0x8f, decodeThirdPartyCopy],
      [0xb0, decodeBlockLimits],
      [0xb1, decodeBlockDeviceCharacteristics],
      [0xb2, decodeLogicalBlockProvisioning],
    ] as const) {
      everyCutFails(vpd(lun, page), decode);
    }
  });

  it('another page than the one asked for is wrong-page', () => {
    const { lun } = setup();
    expect(decodeBlockLimits(vpd(lun, 0xb2))).toMatchObject({ ok: false, problem: 'wrong-page' });
  });
});

describe('VPD decoders, on hand-built pages', () => {
  it('an SBC-2 Block Limits page (PAGE LENGTH 0Ch) reports what it has and 0 (not reported) for the rest', () => {
    const page = Uint8Array.of(0x00, 0xb0, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x80);
    expect(value(decodeBlockLimits(page))).toMatchObject({
      maximumCompareAndWriteLength: 1,
      optimalTransferLengthGranularity: 8,
      maximumTransferLength: 0x1000,
      optimalTransferLength: 0x80,
      maximumUnmapLbaCount: 0,
      maximumWriteSameLength: 0,
      ugavalid: false,
    });
  });

  it('device identification with a target port designator, PIV and an EUI-64, ignoring bytes past PAGE LENGTH', () => {
    const page = Uint8Array.of(
      0x00, 0x83, 0x00, 0x14,
      0x51, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, // iSCSI (5), binary, PIV, target port, relative target port 1
      0x01, 0x02, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, // binary, LU, EUI-64
      0xff, 0xff, // past PAGE LENGTH
    );
    expect(value(decodeDeviceIdentification(page)).designationDescriptors).toEqual([
      { protocolIdentifier: 5, codeSet: 1, piv: true, association: 1, designatorType: 4, designator: Uint8Array.of(0, 0, 0, 1) },
      { protocolIdentifier: 0, codeSet: 1, piv: false, association: 0, designatorType: 2, designator: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
    ]);
  });

  it('a designation descriptor longer than the page is malformed', () => {
    const page = Uint8Array.of(0x00, 0x83, 0x00, 0x06, 0x01, 0x03, 0x00, 0x10, 0xaa, 0xbb);
    expect(decodeDeviceIdentification(page)).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('a third-party copy descriptor type the array does not report keeps its bytes', () => {
    const page = Uint8Array.of(0x00, 0x8f, 0x00, 0x08, 0x00, 0x0c, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04);
    expect(value(decodeThirdPartyCopy(page)).thirdPartyCopyDescriptors).toEqual([{ thirdPartyCopyDescriptorType: 0x000c, body: Uint8Array.of(1, 2, 3, 4) }]);
    expect(decodeThirdPartyCopy(Uint8Array.of(0x00, 0x8f, 0x00, 0x06, 0x00, 0x0c, 0x00, 0x20, 0x01, 0x02))).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('a serial number padded with spaces, and the header fields of a LUN the initiator may not see', () => {
    expect(value(decodeUnitSerialNumber(Uint8Array.of(0x7f, 0x80, 0x00, 0x04, 0x41, 0x42, 0x20, 0x20)))).toEqual({
      peripheralQualifier: 3,
      peripheralDeviceType: 0x1f,
      pageCode: 0x80,
      pageLength: 4,
      productSerialNumber: 'AB',
    });
    expect(value(decodeVpdHeader(Uint8Array.of(0, 0xb1, 0, 0), 0xb1)).pageLength).toBe(0);
  });
});

describe('REPORT SUPPORTED OPERATION CODES decoders', () => {
  it('all commands: one descriptor per command of the opcode table, with timeouts descriptors when RCTD = 1', () => {
    const { lun } = setup();
    const plain = value(decodeAllCommands(dataIn(lun, cdb.reportSupportedOperationCodes({ allocationLength: 65536 }))));
    const timed = value(decodeAllCommands(dataIn(lun, cdb.reportSupportedOperationCodes({ allocationLength: 65536, rctd: true }))));
    expect(timed.commandDescriptors).toHaveLength(plain.commandDescriptors.length);
    expect(plain.commandDescriptors.length).toBeGreaterThan(20);
    const byName = (l: typeof plain, opcode: number, sa?: number) => l.commandDescriptors.find((c) => c.operationCode === opcode && c.serviceAction === sa);
    expect(byName(plain, 0x89)).toEqual({ operationCode: 0x89, servactv: false, ctdp: false, cdbLength: 16 });
    expect(byName(plain, 0x84, 0x03)).toEqual({ operationCode: 0x84, serviceAction: 0x03, servactv: true, ctdp: false, cdbLength: 16 });
    expect(byName(timed, 0x83, 0x00)).toEqual({
      operationCode: 0x83,
      serviceAction: 0,
      servactv: true,
      ctdp: true,
      cdbLength: 16,
      commandTimeouts: { commandSpecific: 0, nominalCommandProcessingTimeout: 0, recommendedCommandTimeout: 0 },
    });
    everyCutFails(dataIn(lun, cdb.reportSupportedOperationCodes({ allocationLength: 65536, rctd: true })), decodeAllCommands);
  });

  it('one command: SUPPORT and the CDB USAGE DATA, or not supported', () => {
    const { lun } = setup();
    const ws = value(decodeOneCommand(dataIn(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x93, allocationLength: 64 }))));
    expect(ws).toMatchObject({ ctdp: false, support: 0b011, supported: true, cdbSize: 16 });
    expect(ws.cdbUsageData[0]).toBe(0x93);
    expect(ws.cdbUsageData[1]! & 0x08).toBe(0x08); // UNMAP
    const none = value(decodeOneCommand(dataIn(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x02, allocationLength: 64 }))));
    expect(none).toEqual({ ctdp: false, support: 0b001, supported: false, cdbSize: 0, cdbUsageData: new Uint8Array(0) });
    const cut = dataIn(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x93, allocationLength: 10 }));
    expect(decodeOneCommand(cut)).toMatchObject({ ok: false, problem: 'truncated', requiredLength: 20 });
    everyCutFails(dataIn(lun, cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode: 0x93, allocationLength: 64, rctd: true })), decodeOneCommand);
  });

  it('hand-built: a vendor-specific SUPPORT with timeouts, and a descriptor past COMMAND DATA LENGTH', () => {
    const one = Uint8Array.of(0x00, 0x85, 0x00, 0x02, 0x28, 0xff, 0x00, 0x0a, 0x00, 0x07, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x3c);
    expect(value(decodeOneCommand(one))).toEqual({
      ctdp: true,
      support: 0b101,
      supported: true,
      cdbSize: 2,
      cdbUsageData: Uint8Array.of(0x28, 0xff),
      commandTimeouts: { commandSpecific: 7, nominalCommandProcessingTimeout: 30, recommendedCommandTimeout: 60 },
    });
    // COMMAND DATA LENGTH 10: one 8-byte descriptor and 2 bytes that cannot be one.
    const all = Uint8Array.of(0, 0, 0, 10, 0x28, 0, 0, 0, 0, 0, 0, 10, 0x2a, 0);
    expect(decodeAllCommands(all)).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('RECEIVE COPY RESULTS (OPERATING PARAMETERS) cut by the ALLOCATION LENGTH is truncated', () => {
    const { lun } = setup();
    everyCutFails(dataIn(lun, cdb.receiveCopyResults({ serviceAction: 0x03, allocationLength: 1024 })), decodeOperatingParameters);
  });
});

describe('SBC parameter data decoders', () => {
  it('READ CAPACITY(16): geometry and provisioning of a thin and a thick LUN', () => {
    const { lun } = setup(true);
    expect(value(decodeReadCapacity16(dataIn(lun, cdb.readCapacity16(32))))).toEqual({
      returnedLogicalBlockAddress: 16 * 2048 - 1,
      logicalBlockLengthInBytes: 512,
      pType: 0,
      protEn: false,
      pIExponent: 0,
      logicalBlocksPerPhysicalBlockExponent: 0,
      lbpme: true,
      lbprz: true,
      lowestAlignedLogicalBlockAddress: 0,
    });
    expect(value(decodeReadCapacity16(dataIn(setup(false).lun, cdb.readCapacity16(32))))).toMatchObject({ lbpme: false, lbprz: false });
    expect(decodeReadCapacity16(dataIn(lun, cdb.readCapacity16(12)))).toMatchObject({ ok: false, problem: 'short', requiredLength: 16 });
    const hand = Uint8Array.of(0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0x10, 0, 0x05, 0x23, 0x80 | 0x01, 0x02);
    expect(value(decodeReadCapacity16(hand))).toMatchObject({ returnedLogicalBlockAddress: 0xffff, logicalBlockLengthInBytes: 4096, pType: 2, protEn: true, pIExponent: 2, logicalBlocksPerPhysicalBlockExponent: 3, lbpme: true, lbprz: false, lowestAlignedLogicalBlockAddress: 0x102 });
  });

  it('GET LBA STATUS: the descriptors that arrived, and whether that was all', () => {
    const { lun } = setup(true);
    lun.execute(cdb.write16({ lba: 2048, blocks: 1 }), new Uint8Array(512).fill(7));
    const all = value(decodeLbaStatus(dataIn(lun, cdb.getLbaStatus({ lba: 0, allocationLength: 4096 }))));
    expect(all.complete).toBe(true);
    expect(all.descriptors.slice(0, 2)).toEqual([
      { lbaStatusLogicalBlockAddress: 0, numberOfLogicalBlocks: 2048, provisioningStatus: 1 },
      { lbaStatusLogicalBlockAddress: 2048, numberOfLogicalBlocks: 2048, provisioningStatus: 0 },
    ]);
    const cut = value(decodeLbaStatus(dataIn(lun, cdb.getLbaStatus({ lba: 0, allocationLength: 30 }))));
    expect(cut).toEqual({ parameterDataLength: all.parameterDataLength, descriptors: all.descriptors.slice(0, 1), complete: false });
    expect(decodeLbaStatus(new Uint8Array(7))).toMatchObject({ ok: false, problem: 'short', requiredLength: 8 });
  });
});
