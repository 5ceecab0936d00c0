/**
 * INQUIRY (SPC-4 6.6): standard data and the VPD pages, one table of pages from which the
 * Supported VPD Pages page (00h) is generated.
 * @module
 */
import { readU16, truncate, writeAscii, writeU16, writeU32, writeU64 } from '../../codec/bytes.js';
import { Opcode, VpdPage } from '../../spec/opcodes.js';
import { PRODUCT_IDENTIFICATION, PRODUCT_REVISION_LEVEL, VENDOR_IDENTIFICATION, t10VendorIdDesignator } from '../../spec/identity.js';
import type { Lun } from '../logical-unit.js';
import { defineCommand, type CommandSpec, type CommandTable, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import { fail, invalidCdbField, withData, type Failure, type Outcome } from '../outcome.js';
import { COPY_LIMITS } from '../xcopy/limits.js';
import { atomicLimits } from '../sbc/write-atomic.js';
import type { TargetPort } from '../ports.js';
import { explicitAluaSupported } from './target-port-groups.js';

interface InquiryCommand extends Decoded {
  readonly evpd: boolean;
  readonly pageCode: number;
  readonly allocationLength: number;
}

/** Version descriptors (SPC-4 table 146): SAM-5, SPC-4, SBC-3. SBC-3 makes initiators expect a 3Ch Block Limits page. */
const VERSION_DESCRIPTORS = [0x00a0, 0x0460, 0x04c0];

/** Standard INQUIRY data, 96 bytes. A LUN the initiator may not access answers qualifier 011b, type 1Fh. */
function standardInquiry(accessible: boolean): Uint8Array {
  const d = new Uint8Array(96);
  d[0] = accessible ? 0x00 : 0x7f; // PERIPHERAL QUALIFIER / PERIPHERAL DEVICE TYPE (00h direct access block)
  d[2] = 0x06; // VERSION: SPC-4
  d[3] = 0x12; // HISUP = 1, RESPONSE DATA FORMAT = 2
  d[4] = d.length - 5; // ADDITIONAL LENGTH
  d[5] = 0x08; // 3PC = 1: EXTENDED COPY is supported; PROTECT = 0
  d[7] = 0x02; // CMDQUE = 1
  writeAscii(d, 8, 8, VENDOR_IDENTIFICATION);
  writeAscii(d, 16, 16, PRODUCT_IDENTIFICATION);
  writeAscii(d, 32, 4, PRODUCT_REVISION_LEVEL);
  VERSION_DESCRIPTORS.forEach((v, i) => writeU16(d, 58 + 2 * i, v));
  return d;
}

/**
 * Standard INQUIRY data for a LUN number that names no logical unit, or one the initiator may not
 * access (SPC-4 6.6.2; SAM-5, incorrect logical unit selection): PERIPHERAL QUALIFIER 011b,
 * PERIPHERAL DEVICE TYPE 1Fh, the rest as every LUN of the array answers. The iSCSI target answers
 * it for a LUN number it does not have.
 */
export function inaccessibleLunInquiry(): Uint8Array {
  return standardInquiry(false);
}

/** A VPD page with its 4-byte header: PERIPHERAL (00h), PAGE CODE, PAGE LENGTH. */
function vpdPage(code: number, body: Uint8Array): Uint8Array {
  const d = new Uint8Array(4 + body.length);
  d[1] = code;
  writeU16(d, 2, body.length);
  d.set(body, 4);
  return d;
}

/** Unit Serial Number (80h). */
function unitSerialNumber(lun: Lun): Uint8Array {
  const body = new Uint8Array(lun.serialNumber.length);
  writeAscii(body, 0, body.length, lun.serialNumber);
  return body;
}

/**
 * The designators of the target port a command came through (SPC-4 7.8.6; docs/decisions/alua.md):
 * relative target port (type 4), target port group (type 5), both binary with association 01b, and
 * the port's SCSI name string (type 8, UTF-8, association 01b, null terminated and padded to a
 * multiple of 4 bytes, SPC-4 7.8.6.10). PIV = 0: the designators are not tied to one protocol.
 */
function targetPortDesignators(port: TargetPort): Uint8Array {
  const name = new TextEncoder().encode(port.name);
  const nameLength = Math.ceil((name.length + 1) / 4) * 4;
  const d = new Uint8Array(8 + 8 + 4 + nameLength);
  d.set([0x01, 0x14, 0x00, 0x04], 0); // CODE SET 1, ASSOCIATION 01b, TYPE 4 (relative target port)
  writeU16(d, 6, port.relativeId);
  d.set([0x01, 0x15, 0x00, 0x04], 8); // CODE SET 1, ASSOCIATION 01b, TYPE 5 (target port group)
  writeU16(d, 14, port.groupId);
  d.set([0x03, 0x18, 0x00, nameLength], 16); // CODE SET 3 (UTF-8), ASSOCIATION 01b, TYPE 8 (SCSI name string)
  d.set(name, 20);
  return d;
}

/**
 * Device Identification (83h): the NAA 6h designator first (what EXTENDED COPY CSCD descriptors and
 * ESXi's naa.* names use), then a T10 vendor ID designator, both the same on every path; then the
 * designators of the target port the command came through.
 */
function deviceIdentification(lun: Lun, _commands: CommandTable, port: TargetPort): Uint8Array {
  const naa = lun.naaDesignator;
  const t10 = t10VendorIdDesignator(lun.serialNumber);
  const portDesignators = targetPortDesignators(port);
  const body = new Uint8Array(4 + naa.length + 4 + t10.length + portDesignators.length);
  body[0] = 0x01; // PROTOCOL IDENTIFIER 0, CODE SET 1 (binary)
  body[1] = 0x03; // PIV 0, ASSOCIATION 0 (logical unit), DESIGNATOR TYPE 3 (NAA)
  body[3] = naa.length;
  body.set(naa, 4);
  const at = 4 + naa.length;
  body[at] = 0x02; // CODE SET 2 (ASCII)
  body[at + 1] = 0x01; // ASSOCIATION 0, DESIGNATOR TYPE 1 (T10 vendor ID based)
  body[at + 3] = t10.length;
  writeAscii(body, at + 4, t10.length, t10);
  body.set(portDesignators, at + 4 + t10.length);
  return body;
}

/** One third-party copy descriptor: TYPE, LENGTH, body padded to a multiple of 4 bytes (SPC-4 7.8.17). */
function tpcDescriptor(type: number, body: Uint8Array): Uint8Array {
  const total = Math.ceil((4 + body.length) / 4) * 4;
  const d = new Uint8Array(total);
  writeU16(d, 0, type);
  writeU16(d, 2, total - 4);
  d.set(body, 4);
  return d;
}

/** Third-party Copy (8Fh): Supported Commands, Parameter Data, Supported Descriptors, General Copy Operations. */
function thirdPartyCopy(lun: Lun, commandTable: CommandTable): Uint8Array {
  const commands: number[] = [];
  for (const opcode of [Opcode.EXTENDED_COPY, Opcode.RECEIVE_COPY_RESULTS]) {
    const sas = commandTable.supportedServiceActions(opcode, lun);
    commands.push(opcode, sas.length, ...sas);
  }
  const supportedCommands = new Uint8Array([commands.length, ...commands]);
  const parameterData = new Uint8Array(28);
  writeU16(parameterData, 4, COPY_LIMITS.maximumCscdDescriptorCount);
  writeU16(parameterData, 6, COPY_LIMITS.maximumSegmentDescriptorCount);
  writeU32(parameterData, 8, COPY_LIMITS.maximumDescriptorListLength);
  writeU32(parameterData, 12, COPY_LIMITS.maximumInlineDataLength);
  const codes = COPY_LIMITS.descriptorTypeCodes;
  const supportedDescriptors = new Uint8Array([codes.length, ...codes]);
  const general = new Uint8Array(32);
  writeU32(general, 0, COPY_LIMITS.totalConcurrentCopies);
  writeU32(general, 4, COPY_LIMITS.maximumConcurrentCopies);
  writeU32(general, 8, COPY_LIMITS.maximumSegmentLength);
  general[12] = Math.log2(lun.blockSize); // DATA SEGMENT GRANULARITY (log 2)
  general[13] = Math.log2(lun.blockSize); // INLINE DATA GRANULARITY (log 2)
  const parts = [
    tpcDescriptor(0x0001, supportedCommands),
    tpcDescriptor(0x0004, parameterData),
    tpcDescriptor(0x0008, supportedDescriptors),
    tpcDescriptor(0x8001, general),
  ];
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return body;
}

/** Block Limits (B0h), PAGE LENGTH 3Ch (SBC-3 6.6.4; the atomic fields at page bytes 44-63 from SBC-4 6.6.4). */
function blockLimits(lun: Lun): Uint8Array {
  const l = lun.limits;
  const b = new Uint8Array(0x3c);
  // Offsets below are page offsets minus the 4-byte header.
  // b[0] WSNZ = 0: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 writes to the end of the LUN
  b[1] = l.maximumCompareAndWriteLength; // MAXIMUM COMPARE AND WRITE LENGTH
  // One physical block: a transfer of whole physical blocks needs no read-modify-write (SBC-4 4.6.2).
  const granularity = 2 ** lun.physicalBlockExponent;
  writeU16(b, 2, granularity); // OPTIMAL TRANSFER LENGTH GRANULARITY
  writeU32(b, 4, l.maximumTransferLength); // MAXIMUM TRANSFER LENGTH
  // An allocation unit (a multiple of the granularity), within MAXIMUM TRANSFER LENGTH and rounded
  // down to whole physical blocks (Linux's sd ignores an optimal length that is not).
  const optimal = Math.min(lun.unitBlocks, l.maximumTransferLength);
  writeU32(b, 8, optimal - (optimal % granularity)); // OPTIMAL TRANSFER LENGTH
  if (lun.thin) {
    writeU32(b, 16, l.maximumUnmapLbaCount); // MAXIMUM UNMAP LBA COUNT
    writeU32(b, 20, l.maximumUnmapBlockDescriptorCount); // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
  }
  // OPTIMAL UNMAP GRANULARITY = the pool's allocation unit, whole physical blocks (createLun keeps
  // the physical block within it); UGAVALID = 1, UNMAP GRANULARITY ALIGNMENT = 0: units start at LBA 0
  writeU32(b, 24, lun.unitBlocks);
  writeU32(b, 28, 0x80000000);
  writeU64(b, 32, l.maximumWriteSameLength); // MAXIMUM WRITE SAME LENGTH
  const a = atomicLimits(lun); // WRITE ATOMIC(16) is implemented on every LUN
  writeU32(b, 40, a.maximumAtomicTransferLength); // MAXIMUM ATOMIC TRANSFER LENGTH
  writeU32(b, 44, a.atomicAlignment); // ATOMIC ALIGNMENT
  writeU32(b, 48, a.atomicTransferLengthGranularity); // ATOMIC TRANSFER LENGTH GRANULARITY
  writeU32(b, 52, a.maximumAtomicTransferLengthWithAtomicBoundary); // MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY
  writeU32(b, 56, a.maximumAtomicBoundarySize); // MAXIMUM ATOMIC BOUNDARY SIZE
  return b;
}

/**
 * Block Device Characteristics (B1h), PAGE LENGTH 3Ch: MEDIUM ROTATION RATE 1 (non-rotating); on a
 * thin LUN, where SANITIZE BLOCK ERASE and CRYPTOGRAPHIC ERASE are implemented, WABEREQ = WACEREQ =
 * 01b (a read after either erase completes GOOD; SBC-4 6.6.2); VBULS = 1 on a thin LUN: VERIFY and
 * WRITE AND VERIFY with BYTCHK 01b/11b compare an unmapped LBA as the zeros a read returns (LBPRZ)
 * instead of answering MISCOMPARE VERIFY OF UNMAPPED LBA. A thick LUN has no unmapped LBA (VBULS 0).
 */
function blockDeviceCharacteristics(lun: Lun): Uint8Array {
  const b = new Uint8Array(0x3c);
  writeU16(b, 0, 0x0001);
  if (lun.thin) {
    b[3] = 0x40 | 0x10; // page byte 7: WABEREQ 01b (7:6), WACEREQ 01b (5:4)
    b[4] = 0x01; // page byte 8: VBULS
  }
  return b;
}

/** Logical Block Provisioning (B2h), PAGE LENGTH 4 (SBC-3 6.6.6). */
function logicalBlockProvisioning(lun: Lun): Uint8Array {
  const b = new Uint8Array(4);
  // b[0] THRESHOLD EXPONENT = 0: thresholds are not set through the provisioning mode page.
  if (lun.thin) {
    b[1] = 0x80 | 0x40 | 0x20 | 0x04; // LBPU, LBPWS, LBPWS10, LBPRZ; ANC_SUP = 0, DP = 0
    b[2] = 0x02; // PROVISIONING TYPE: thin provisioned
  }
  return b;
}

interface VpdPageSpec {
  readonly code: number;
  readonly build: (lun: Lun, commands: CommandTable, port: TargetPort) => Uint8Array;
}

/** Every VPD page the array serves, in ascending page-code order. */
const VPD_PAGES: readonly VpdPageSpec[] = [
  { code: VpdPage.SUPPORTED_VPD_PAGES, build: () => new Uint8Array(VPD_PAGES.map((p) => p.code)) },
  { code: VpdPage.UNIT_SERIAL_NUMBER, build: unitSerialNumber },
  { code: VpdPage.DEVICE_IDENTIFICATION, build: deviceIdentification },
  { code: VpdPage.THIRD_PARTY_COPY, build: thirdPartyCopy },
  { code: VpdPage.BLOCK_LIMITS, build: blockLimits },
  { code: VpdPage.BLOCK_DEVICE_CHARACTERISTICS, build: blockDeviceCharacteristics },
  { code: VpdPage.LOGICAL_BLOCK_PROVISIONING, build: logicalBlockProvisioning },
];

function decode(cdb: Uint8Array): InquiryCommand | Failure {
  const evpd = (cdb[1]! & 0x01) !== 0;
  if ((cdb[1]! & 0x02) !== 0) return invalidCdbField(1, 1); // CMDDT (obsolete)
  const pageCode = cdb[2]!;
  if (!evpd && pageCode !== 0) return invalidCdbField(2);
  if (evpd && !VPD_PAGES.some((p) => p.code === pageCode)) return invalidCdbField(2);
  return { dataOutLength: 0, evpd, pageCode, allocationLength: readU16(cdb, 3) };
}

function execute(cmd: InquiryCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const lun = ctx.lun;
  const accessible = lun.accessibleBy(ctx.itNexus);
  let data: Uint8Array;
  if (!cmd.evpd) {
    data = standardInquiry(accessible);
    // TPGS (byte 5 bits 5:4): 01b implicit ALUA always; 11b when SET TARGET PORT GROUPS is also supported.
    if (accessible) data[5]! |= explicitAluaSupported(lun) ? 0x30 : 0x10;
  } else if (!accessible) return fail('LOGICAL_UNIT_NOT_SUPPORTED');
  else {
    const page = VPD_PAGES.find((p) => p.code === cmd.pageCode)!;
    data = vpdPage(page.code, page.build(lun, ctx.commands, ctx.itNexus.target));
  }
  return withData(truncate(data, cmd.allocationLength));
}

/** @internal */
export const INQUIRY_COMMAND: CommandSpec = defineCommand<InquiryCommand>({
  opcode: Opcode.INQUIRY,
  name: 'INQUIRY',
  reservationAccess: 'allowed',
  cdbLength: 6,
  usage: [Opcode.INQUIRY, 0x03, 0xff, 0xff, 0xff, 0x00],
  allowedUnderReservation: true,
  ignoresUnitAttention: true,
  decode,
  execute,
});
