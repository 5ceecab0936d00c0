/**
 * RECEIVE COPY RESULTS (LID1) (SPC-4 6.18): COPY STATUS and FAILED SEGMENT DETAILS of held copies
 * (per I_T nexus), and OPERATING PARAMETERS of the copy manager. Short allocation lengths truncate.
 * @module
 */
import { readU32, truncate, writeU16, writeU32 } from '../../codec/bytes.js';
import { Opcode, ServiceAction } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext, CopyRecord } from '../context.js';
import { invalidCdbField, withData, type Failure, type Outcome } from '../outcome.js';
import { COPY_LIMITS } from './limits.js';

interface RcrCommand extends Decoded {
  readonly listId: number;
  readonly allocationLength: number;
}

function decode(cdb: Uint8Array): RcrCommand {
  return { dataOutLength: 0, listId: cdb[2]!, allocationLength: readU32(cdb, 10) };
}

function held(cmd: RcrCommand, ctx: CommandContext): CopyRecord | Failure {
  return ctx.nexus.copyResults.get(cmd.listId) ?? invalidCdbField(2); // unknown LIST IDENTIFIER
}

/** TRANSFER COUNT with the smallest TRANSFER COUNT UNITS (0 bytes, 1 KiB, 2 MiB, ...) that fits 32 bits. */
function transferCount(bytes: number): [units: number, count: number] {
  let units = 0;
  let count = bytes;
  while (count > 0xffffffff) {
    count = Math.floor(count / 1024);
    units++;
  }
  return [units, count];
}

function copyStatus(cmd: RcrCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const record = held(cmd, ctx);
  if ('fail' in record) return record;
  const data = new Uint8Array(12);
  writeU32(data, 0, 8); // AVAILABLE DATA
  data[4] = record.copyManagerStatus; // HDD = 0, COPY MANAGER STATUS
  writeU16(data, 5, record.segmentsProcessed);
  const [units, count] = transferCount(record.bytesTransferred);
  data[7] = units;
  writeU32(data, 8, count);
  return withData(truncate(data, cmd.allocationLength));
}

function failedSegmentDetails(cmd: RcrCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const record = held(cmd, ctx);
  if ('fail' in record) return record;
  // A copy that completed without errors has no failed segment: AVAILABLE DATA = 0, nothing else.
  if (record.copyManagerStatus === 1) return withData(truncate(new Uint8Array(4), cmd.allocationLength));
  const sense = record.sense ?? new Uint8Array(0); // RESERVATION CONFLICT carries no sense
  const data = new Uint8Array(60 + sense.length);
  writeU32(data, 0, data.length - 4); // AVAILABLE DATA
  data[56] = record.commandStatus; // COPY COMMAND STATUS
  writeU16(data, 58, sense.length); // SENSE DATA LENGTH
  data.set(sense, 60);
  return withData(truncate(data, cmd.allocationLength));
}

/** OPERATING PARAMETERS (SPC-4 6.18.4), 44 bytes plus the implemented descriptor type codes. */
function operatingParameters(cmd: RcrCommand, _d: Uint8Array, ctx: CommandContext): Outcome {
  const codes = COPY_LIMITS.descriptorTypeCodes;
  const data = new Uint8Array(44 + codes.length);
  const log2Block = Math.log2(ctx.lun.blockSize);
  writeU32(data, 0, data.length - 4); // AVAILABLE DATA
  data[4] = 0x01; // SNLID: LIST ID USAGE 11b is supported
  writeU16(data, 8, COPY_LIMITS.maximumCscdDescriptorCount);
  writeU16(data, 10, COPY_LIMITS.maximumSegmentDescriptorCount);
  writeU32(data, 12, COPY_LIMITS.maximumDescriptorListLength);
  writeU32(data, 16, COPY_LIMITS.maximumSegmentLength);
  writeU32(data, 20, COPY_LIMITS.maximumInlineDataLength);
  writeU32(data, 24, COPY_LIMITS.heldDataLimit);
  writeU32(data, 28, 0); // MAXIMUM STREAM DEVICE TRANSFER SIZE: no stream devices
  writeU16(data, 34, COPY_LIMITS.totalConcurrentCopies);
  data[36] = COPY_LIMITS.maximumConcurrentCopies;
  data[37] = log2Block; // DATA SEGMENT GRANULARITY (log 2)
  data[38] = log2Block; // INLINE DATA GRANULARITY (log 2)
  data[39] = log2Block; // HELD DATA GRANULARITY (log 2)
  data[43] = codes.length; // IMPLEMENTED DESCRIPTOR LIST LENGTH
  data.set(codes, 44);
  return withData(truncate(data, cmd.allocationLength));
}

const USAGE = [Opcode.RECEIVE_COPY_RESULTS, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00];

/** @internal */
export const RECEIVE_COPY_RESULTS_COMMANDS: readonly CommandSpec[] = [
  defineCommand<RcrCommand>({
    opcode: Opcode.RECEIVE_COPY_RESULTS,
    serviceAction: ServiceAction.COPY_STATUS,
    name: 'RECEIVE COPY RESULTS(COPY STATUS)',
    reservationAccess: 'read',
    cdbLength: 16,
    usage: USAGE,
    decode,
    execute: copyStatus,
  }),
  defineCommand<RcrCommand>({
    opcode: Opcode.RECEIVE_COPY_RESULTS,
    serviceAction: ServiceAction.OPERATING_PARAMETERS,
    name: 'RECEIVE COPY RESULTS(OPERATING PARAMETERS)',
    reservationAccess: 'read',
    cdbLength: 16,
    usage: [Opcode.RECEIVE_COPY_RESULTS, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
    decode,
    execute: operatingParameters,
  }),
  defineCommand<RcrCommand>({
    opcode: Opcode.RECEIVE_COPY_RESULTS,
    serviceAction: ServiceAction.FAILED_SEGMENT_DETAILS,
    name: 'RECEIVE COPY RESULTS(FAILED SEGMENT DETAILS)',
    reservationAccess: 'read',
    cdbLength: 16,
    usage: USAGE,
    decode,
    execute: failedSegmentDetails,
  }),
];
