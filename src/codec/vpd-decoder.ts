/**
 * Decoders for the VPD pages the array reports (INQUIRY with EVPD = 1): Supported VPD Pages (00h),
 * Unit Serial Number (80h), Device Identification (83h), Third-party Copy (8Fh), Block Limits (B0h),
 * Block Device Characteristics (B1h) and Logical Block Provisioning (B2h). Records carry the T10
 * field names (SPC-4 7.8, SBC-3 6.6). A page cut by the ALLOCATION LENGTH is a `truncated` failure
 * (with the length that holds it); a field past a shorter PAGE LENGTH (an older revision's page)
 * reads as 0, which for every limit below means "not reported".
 * @module
 */
import { readU16, readU32, readU64 } from './bytes.js';
import { decoded, malformed, short, truncated, type DataInResult } from './data-in.js';

/** The 4-byte header every VPD page starts with (SPC-4 7.8.1). */
export interface VpdPageHeader {
  /** PERIPHERAL QUALIFIER (byte 0 bits 7:5). */
  readonly peripheralQualifier: number;
  /** PERIPHERAL DEVICE TYPE (byte 0 bits 4:0). */
  readonly peripheralDeviceType: number;
  /** PAGE CODE (byte 1). */
  readonly pageCode: number;
  /** PAGE LENGTH (bytes 2..3): the bytes that follow the header. */
  readonly pageLength: number;
}

/** Bounds-checked field reads over one page: a field past the page's end reads as 0. */
class PageFields {
  constructor(readonly page: Uint8Array) {}
  u8(at: number): number {
    return at < this.page.length ? this.page[at]! : 0;
  }
  u16(at: number): number {
    return at + 2 <= this.page.length ? readU16(this.page, at) : 0;
  }
  u32(at: number): number {
    return at + 4 <= this.page.length ? readU32(this.page, at) : 0;
  }
  u64(at: number): number {
    return at + 8 <= this.page.length ? readU64(this.page, at) : 0;
  }
}

/**
 * Checks the header of VPD page `pageCode` in `data` and returns it with the page (header and
 * PAGE LENGTH bytes, without anything after it).
 */
export function decodeVpdHeader(data: Uint8Array, pageCode: number): DataInResult<VpdPageHeader & { readonly page: Uint8Array }> {
  // The page's name is written only for a failure: a host probes a target on every copy.
  const what = (): string => `VPD page ${pageCode.toString(16).padStart(2, '0')}h`;
  if (data.length < 4) return short(what(), data.length, 4);
  if (data[1] !== pageCode) return { ok: false, problem: 'wrong-page', message: `${what()}: the answer is page ${data[1]!.toString(16).padStart(2, '0')}h` };
  const pageLength = readU16(data, 2);
  if (data.length < 4 + pageLength) return truncated(what(), data.length, 4 + pageLength);
  return decoded({ peripheralQualifier: data[0]! >>> 5, peripheralDeviceType: data[0]! & 0x1f, pageCode, pageLength, page: data.subarray(0, 4 + pageLength) });
}

/** Decodes VPD page `pageCode`: its header, then its body by `body` (which reads the whole page through `f`). */
function decodePage<T>(data: Uint8Array, pageCode: number, body: (f: PageFields) => DataInResult<T>): DataInResult<VpdPageHeader & T> {
  const h = decodeVpdHeader(data, pageCode);
  if (!h.ok) return h;
  const { peripheralQualifier, peripheralDeviceType, pageLength, page } = h.value;
  const b = body(new PageFields(page));
  return b.ok ? decoded(Object.assign({ peripheralQualifier, peripheralDeviceType, pageCode, pageLength }, b.value)) : b;
}

/** Supported VPD Pages (00h, SPC-4 7.8.16). */
export interface SupportedVpdPages extends VpdPageHeader {
  /** The supported VPD page list, in the order reported (ascending). */
  readonly supportedPages: readonly number[];
}

/** Decodes the Supported VPD Pages page (00h). */
export function decodeSupportedVpdPages(data: Uint8Array): DataInResult<SupportedVpdPages> {
  return decodePage(data, 0x00, (f) => decoded({ supportedPages: [...f.page.subarray(4)] }));
}

/** Unit Serial Number (80h, SPC-4 7.8.18). */
export interface UnitSerialNumber extends VpdPageHeader {
  /** PRODUCT SERIAL NUMBER: ASCII, without the trailing spaces that pad it (SPC-4 4.4.1). */
  readonly productSerialNumber: string;
}

/** Decodes the Unit Serial Number page (80h). */
export function decodeUnitSerialNumber(data: Uint8Array): DataInResult<UnitSerialNumber> {
  return decodePage(data, 0x80, (f) => decoded({ productSerialNumber: String.fromCharCode(...f.page.subarray(4)).replace(/[ \0]+$/, '') }));
}

/** One designation descriptor of the Device Identification page (SPC-4 7.8.6.1). */
export interface DesignationDescriptor {
  /** PROTOCOL IDENTIFIER (byte 0 bits 7:4), meaningful when PIV = 1. */
  readonly protocolIdentifier: number;
  /** CODE SET (byte 0 bits 3:0): 1 binary, 2 ASCII, 3 UTF-8. */
  readonly codeSet: number;
  /** PIV (byte 1 bit 7). */
  readonly piv: boolean;
  /** ASSOCIATION (byte 1 bits 5:4): 0 logical unit, 1 target port, 2 target device. */
  readonly association: number;
  /** DESIGNATOR TYPE (byte 1 bits 3:0): 1 T10 vendor ID based, 2 EUI-64, 3 NAA, 4 relative target port, 8 SCSI name string, ... */
  readonly designatorType: number;
  /** The DESIGNATOR bytes (DESIGNATOR LENGTH of them). */
  readonly designator: Uint8Array;
}

/** Device Identification (83h, SPC-4 7.8.6). */
export interface DeviceIdentification extends VpdPageHeader {
  /** The designation descriptor list, in the order reported. */
  readonly designationDescriptors: readonly DesignationDescriptor[];
}

/** Decodes the Device Identification page (83h). A descriptor that runs past PAGE LENGTH is `malformed`. */
export function decodeDeviceIdentification(data: Uint8Array): DataInResult<DeviceIdentification> {
  return decodePage(data, 0x83, (f) => {
    const page = f.page;
    const designationDescriptors: DesignationDescriptor[] = [];
    for (let at = 4; at < page.length; ) {
      if (at + 4 > page.length || at + 4 + page[at + 3]! > page.length) return malformed('VPD page 83h', `the designation descriptor at byte ${at} runs past PAGE LENGTH`);
      const length = page[at + 3]!;
      designationDescriptors.push({
        protocolIdentifier: page[at]! >>> 4,
        codeSet: page[at]! & 0x0f,
        piv: (page[at + 1]! & 0x80) !== 0,
        association: (page[at + 1]! >>> 4) & 0x03,
        designatorType: page[at + 1]! & 0x0f,
        designator: page.slice(at + 4, at + 4 + length),
      });
      at += 4 + length;
    }
    return decoded({ designationDescriptors });
  });
}

/** Supported Commands third-party copy descriptor (0001h, SPC-4 7.8.17.3): one entry per command. */
export interface SupportedCommand {
  /** OPERATION CODE. */
  readonly operationCode: number;
  /** The SERVICE ACTION list. */
  readonly serviceActions: readonly number[];
}

/** One third-party copy descriptor of the Third-party Copy page, decoded when its type is one the array reports. */
export type ThirdPartyCopyDescriptor =
  | {
      /** Supported Commands. */
      readonly thirdPartyCopyDescriptorType: 0x0001;
      /** The commands and their service actions. */
      readonly commands: readonly SupportedCommand[];
    }
  | {
      /** Parameter Data (SPC-4 7.8.17.5). */
      readonly thirdPartyCopyDescriptorType: 0x0004;
      /** MAXIMUM CSCD DESCRIPTOR COUNT. */
      readonly maximumCscdDescriptorCount: number;
      /** MAXIMUM SEGMENT DESCRIPTOR COUNT. */
      readonly maximumSegmentDescriptorCount: number;
      /** MAXIMUM DESCRIPTOR LIST LENGTH. */
      readonly maximumDescriptorListLength: number;
      /** MAXIMUM INLINE DATA LENGTH. */
      readonly maximumInlineDataLength: number;
    }
  | {
      /** Supported Descriptors (SPC-4 7.8.17.6). */
      readonly thirdPartyCopyDescriptorType: 0x0008;
      /** The DESCRIPTOR TYPE CODE list (segment and CSCD descriptor type codes). */
      readonly descriptorTypeCodes: readonly number[];
    }
  | {
      /** General Copy Operations (SPC-4 7.8.17.11). */
      readonly thirdPartyCopyDescriptorType: 0x8001;
      /** TOTAL CONCURRENT COPIES. */
      readonly totalConcurrentCopies: number;
      /** MAXIMUM CONCURRENT COPIES. */
      readonly maximumConcurrentCopies: number;
      /** MAXIMUM SEGMENT LENGTH in bytes. */
      readonly maximumSegmentLength: number;
      /** DATA SEGMENT GRANULARITY (log 2). */
      readonly dataSegmentGranularity: number;
      /** INLINE DATA GRANULARITY (log 2). */
      readonly inlineDataGranularity: number;
    }
  | {
      /** Any other THIRD-PARTY COPY DESCRIPTOR TYPE. */
      readonly thirdPartyCopyDescriptorType: number;
      /** The descriptor's bytes after its 4-byte header. */
      readonly body: Uint8Array;
    };

/** Third-party Copy (8Fh, SPC-4 7.8.17). */
export interface ThirdPartyCopy extends VpdPageHeader {
  /** The third-party copy descriptors, in the order reported. */
  readonly thirdPartyCopyDescriptors: readonly ThirdPartyCopyDescriptor[];
}

function supportedCommands(d: Uint8Array): SupportedCommand[] | undefined {
  const end = Math.min(d.length, 5 + (d[4] ?? 0));
  const commands: SupportedCommand[] = [];
  for (let at = 5; at < end; ) {
    if (at + 2 > end || at + 2 + d[at + 1]! > end) return undefined;
    commands.push({ operationCode: d[at]!, serviceActions: [...d.subarray(at + 2, at + 2 + d[at + 1]!)] });
    at += 2 + d[at + 1]!;
  }
  return commands;
}

function thirdPartyCopyDescriptor(d: Uint8Array): ThirdPartyCopyDescriptor | undefined {
  const type = readU16(d, 0);
  const f = new PageFields(d);
  switch (type) {
    case 0x0001: {
      const commands = supportedCommands(d);
      return commands === undefined ? undefined : { thirdPartyCopyDescriptorType: 0x0001, commands };
    }
    case 0x0004:
      return {
        thirdPartyCopyDescriptorType: 0x0004,
        maximumCscdDescriptorCount: f.u16(8),
        maximumSegmentDescriptorCount: f.u16(10),
        maximumDescriptorListLength: f.u32(12),
        maximumInlineDataLength: f.u32(16),
      };
    case 0x0008:
      return { thirdPartyCopyDescriptorType: 0x0008, descriptorTypeCodes: [...d.subarray(5, 5 + f.u8(4))] };
    case 0x8001:
      return {
        thirdPartyCopyDescriptorType: 0x8001,
        totalConcurrentCopies: f.u32(4),
        maximumConcurrentCopies: f.u32(8),
        maximumSegmentLength: f.u32(12),
        dataSegmentGranularity: f.u8(16),
        inlineDataGranularity: f.u8(17),
      };
    default:
      return { thirdPartyCopyDescriptorType: type, body: d.slice(4) };
  }
}

/** Decodes the Third-party Copy page (8Fh). A descriptor that runs past PAGE LENGTH is `malformed`. */
export function decodeThirdPartyCopy(data: Uint8Array): DataInResult<ThirdPartyCopy> {
  return decodePage(data, 0x8f, (f) => {
    const page = f.page;
    const thirdPartyCopyDescriptors: ThirdPartyCopyDescriptor[] = [];
    for (let at = 4; at < page.length; ) {
      const end = at + 4 + (at + 4 <= page.length ? readU16(page, at + 2) : 0);
      const descriptor = at + 4 <= page.length && end <= page.length ? thirdPartyCopyDescriptor(page.subarray(at, end)) : undefined;
      if (descriptor === undefined) return malformed('VPD page 8Fh', `the third-party copy descriptor at byte ${at} runs past its length`);
      thirdPartyCopyDescriptors.push(descriptor);
      at = end;
    }
    return decoded({ thirdPartyCopyDescriptors });
  });
}

/** Block Limits (B0h, SBC-3 6.6.4). Fields past PAGE LENGTH read as 0 (not reported). */
export interface BlockLimits extends VpdPageHeader {
  /** WSNZ: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 is refused. */
  readonly wsnz: boolean;
  /** MAXIMUM COMPARE AND WRITE LENGTH in blocks (0: COMPARE AND WRITE not supported). */
  readonly maximumCompareAndWriteLength: number;
  /** OPTIMAL TRANSFER LENGTH GRANULARITY in blocks. */
  readonly optimalTransferLengthGranularity: number;
  /** MAXIMUM TRANSFER LENGTH in blocks (0: not reported). */
  readonly maximumTransferLength: number;
  /** OPTIMAL TRANSFER LENGTH in blocks. */
  readonly optimalTransferLength: number;
  /** MAXIMUM PREFETCH XDREAD XDWRITE TRANSFER LENGTH in blocks. */
  readonly maximumPrefetchXdreadXdwriteTransferLength: number;
  /** MAXIMUM UNMAP LBA COUNT (0: UNMAP not supported). */
  readonly maximumUnmapLbaCount: number;
  /** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT. */
  readonly maximumUnmapBlockDescriptorCount: number;
  /** OPTIMAL UNMAP GRANULARITY in blocks. */
  readonly optimalUnmapGranularity: number;
  /** UGAVALID: UNMAP GRANULARITY ALIGNMENT is valid. */
  readonly ugavalid: boolean;
  /** UNMAP GRANULARITY ALIGNMENT: LBA of the first unmap granule. */
  readonly unmapGranularityAlignment: number;
  /** MAXIMUM WRITE SAME LENGTH in blocks (0: not reported). */
  readonly maximumWriteSameLength: number;
  /** MAXIMUM ATOMIC TRANSFER LENGTH in blocks (SBC-4; 0: WRITE ATOMIC not supported). */
  readonly maximumAtomicTransferLength: number;
  /** ATOMIC ALIGNMENT: the LBA of a WRITE ATOMIC is a multiple of it (0: any LBA). */
  readonly atomicAlignment: number;
  /** ATOMIC TRANSFER LENGTH GRANULARITY: a WRITE ATOMIC's length is a multiple of it (0: any length). */
  readonly atomicTransferLengthGranularity: number;
  /** MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY in blocks. */
  readonly maximumAtomicTransferLengthWithAtomicBoundary: number;
  /** MAXIMUM ATOMIC BOUNDARY SIZE in blocks (0: only ATOMIC BOUNDARY 0). */
  readonly maximumAtomicBoundarySize: number;
}

/** Decodes the Block Limits page (B0h). */
export function decodeBlockLimits(data: Uint8Array): DataInResult<BlockLimits> {
  return decodePage(data, 0xb0, (f) =>
    decoded({
      wsnz: (f.u8(4) & 0x01) !== 0,
      maximumCompareAndWriteLength: f.u8(5),
      optimalTransferLengthGranularity: f.u16(6),
      maximumTransferLength: f.u32(8),
      optimalTransferLength: f.u32(12),
      maximumPrefetchXdreadXdwriteTransferLength: f.u32(16),
      maximumUnmapLbaCount: f.u32(20),
      maximumUnmapBlockDescriptorCount: f.u32(24),
      optimalUnmapGranularity: f.u32(28),
      ugavalid: (f.u8(32) & 0x80) !== 0,
      unmapGranularityAlignment: f.u32(32) & 0x7fffffff,
      maximumWriteSameLength: f.u64(36),
      maximumAtomicTransferLength: f.u32(44),
      atomicAlignment: f.u32(48),
      atomicTransferLengthGranularity: f.u32(52),
      maximumAtomicTransferLengthWithAtomicBoundary: f.u32(56),
      maximumAtomicBoundarySize: f.u32(60),
    }),
  );
}

/** Block Device Characteristics (B1h, SBC-3 6.6.2). */
export interface BlockDeviceCharacteristics extends VpdPageHeader {
  /** MEDIUM ROTATION RATE: 0 not reported, 1 non-rotating medium, else revolutions per minute. */
  readonly mediumRotationRate: number;
  /** PRODUCT TYPE. */
  readonly productType: number;
  /** WABEREQ (byte 7 bits 7:6). */
  readonly wabereq: number;
  /** WACEREQ (byte 7 bits 5:4). */
  readonly wacereq: number;
  /** NOMINAL FORM FACTOR (byte 7 bits 3:0). */
  readonly nominalFormFactor: number;
  /** FUAB. */
  readonly fuab: boolean;
  /** VBULS. */
  readonly vbuls: boolean;
}

/** Decodes the Block Device Characteristics page (B1h). */
export function decodeBlockDeviceCharacteristics(data: Uint8Array): DataInResult<BlockDeviceCharacteristics> {
  return decodePage(data, 0xb1, (f) =>
    decoded({
      mediumRotationRate: f.u16(4),
      productType: f.u8(6),
      wabereq: f.u8(7) >>> 6,
      wacereq: (f.u8(7) >>> 4) & 0x03,
      nominalFormFactor: f.u8(7) & 0x0f,
      fuab: (f.u8(8) & 0x02) !== 0,
      vbuls: (f.u8(8) & 0x01) !== 0,
    }),
  );
}

/** Logical Block Provisioning (B2h, SBC-3 6.6.6). */
export interface LogicalBlockProvisioning extends VpdPageHeader {
  /** THRESHOLD EXPONENT. */
  readonly thresholdExponent: number;
  /** LBPU: UNMAP is supported. */
  readonly lbpu: boolean;
  /** LBPWS: WRITE SAME(16) with UNMAP is supported. */
  readonly lbpws: boolean;
  /** LBPWS10: WRITE SAME(10) with UNMAP is supported. */
  readonly lbpws10: boolean;
  /** LBPRZ: unmapped blocks read as zeros. */
  readonly lbprz: boolean;
  /** ANC_SUP: ANCHOR is supported. */
  readonly ancSup: boolean;
  /** DP: a provisioning group descriptor follows. */
  readonly dp: boolean;
  /** PROVISIONING TYPE: 0 not reported (full), 1 resource provisioned, 2 thin provisioned. */
  readonly provisioningType: number;
}

/** Decodes the Logical Block Provisioning page (B2h). */
export function decodeLogicalBlockProvisioning(data: Uint8Array): DataInResult<LogicalBlockProvisioning> {
  return decodePage(data, 0xb2, (f) => {
    const flags = f.u8(5);
    return decoded({
      thresholdExponent: f.u8(4),
      lbpu: (flags & 0x80) !== 0,
      lbpws: (flags & 0x40) !== 0,
      lbpws10: (flags & 0x20) !== 0,
      lbprz: (flags & 0x04) !== 0,
      ancSup: (flags & 0x02) !== 0,
      dp: (flags & 0x01) !== 0,
      provisioningType: f.u8(6) & 0x07,
    });
  });
}
