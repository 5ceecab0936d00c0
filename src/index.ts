/**
 * vaai-sim: a simulated thin-provisioned block-storage array that executes the VAAI SCSI offload
 * commands (EXTENDED COPY, WRITE SAME, COMPARE AND WRITE, UNMAP) byte-exactly.
 *
 * @example
 * ```ts
 * import { StorageArray, cdb } from 'vaai-sim';
 * const array = new StorageArray({ capacityBytes: 1 << 30, softThresholdPercent: 75 });
 * const lun = array.createLun({ sizeBytes: 64 * 2 ** 40, blockSize: 512 });
 * const r = await lun.execute(cdb.read16({ lba: 0, blocks: 8 }), undefined, { initiator: 'iqn.host-a' });
 * ```
 * @module vaai-sim
 */

// The array
export { StorageArray } from './scsi/storage-array.js';
export type { StorageArrayOptions, CloneMode } from './scsi/storage-array.js';
export { VolumeManager } from './array/volume-manager.js';
export { ArrayReplication } from './scsi/replication.js';
export type { ReplicaPair, ReplicationGroupState, CycleReport } from './scsi/replication.js';
export { Lun } from './scsi/logical-unit.js';
export { Volume, DEFAULT_BLOCK_LIMITS } from './array/volume.js';
export type { LunOptions, BlockLimits } from './array/volume.js';
export { TargetPort, initiatorPort, iscsiInitiatorPort, itNexus } from './scsi/ports.js';
export type { InitiatorPort, ItNexus, TargetPortAccess, TargetPortOptions } from './scsi/ports.js';
export { TargetPortGroup, isAluaState } from './scsi/alua.js';
export type { TargetPortGroupSettings } from './scsi/alua.js';
export { ALUA_STATES, ASYMMETRIC_ACCESS_STATE, AluaStatus } from './spec/alua.js';
export type { AluaState, AluaStatusCode } from './spec/alua.js';
export type { PoolStatus } from './array/thin-pool.js';
export { FaultInjector } from './scsi/faults.js';
export type { FaultRule, FaultHandle, FaultEffect } from './scsi/faults.js';
export { TypedEmitter } from './array/events.js';
export type {
  ArrayEvents,
  Listener,
  ThresholdCrossedEvent,
  OutOfSpaceEvent,
  SpaceFreedEvent,
  CopyProgressEvent,
  AluaStateChangedEvent,
  PortLink,
  PortLinkChangedEvent,
} from './array/events.js';
export { VaaiSimError, InvalidArgumentError, InsufficientSpaceError } from './common/errors.js';

// Commands and results
export type { CommandWork, ScsiResult } from './scsi/outcome.js';
export type { ExecuteOptions } from './scsi/context.js';
export { DEFAULT_INITIATOR } from './scsi/dispatch.js';
export type { MaybePromise } from './common/maybe-promise.js';
export { COPY_LIMITS } from './scsi/xcopy/limits.js';

// T10 constants and sense
export { Opcode, ServiceAction, ScsiStatus, VpdPage, PrInServiceAction, PrOutServiceAction, PrType } from './spec/opcodes.js';
export type { ScsiStatusCode } from './spec/opcodes.js';
export { SenseKey, SENSE_TABLE, isSenseReason } from './spec/sense.js';
export type { SenseCode, SenseReason } from './spec/sense.js';
export { VENDOR_IDENTIFICATION, PRODUCT_IDENTIFICATION, PRODUCT_REVISION_LEVEL } from './spec/identity.js';

// Codecs
export { encodeDescriptorSense, encodeFixedSense, encodeSense, FIXED_SENSE_LENGTH } from './codec/sense-encoder.js';
export type { FieldPointer, SenseDetails, SenseFormat } from './codec/sense-encoder.js';
export { decodeSense } from './codec/sense-decoder.js';
export type { DecodedSense } from './codec/sense-decoder.js';
export * as cdb from './codec/cdb-encoder.js';
export { decodeReportTargetPortGroups } from './codec/rtpg-decoder.js';
export type { ReportTargetPortGroupsData, TargetPortGroupDescriptor } from './codec/rtpg-decoder.js';
export { decodePrReadKeys, decodePrReadReservation, decodePrReportCapabilities, decodePrReadFullStatus, decodeIscsiTransportId, prTypeMask } from './codec/pr-decoder.js';
export type {
  PrReadKeysData,
  PrReadReservationData,
  PrReportCapabilitiesData,
  PrReadFullStatusData,
  PrFullStatusDescriptor,
  IscsiTransportId,
  TransportIdProblem,
} from './codec/pr-decoder.js';
export type { DataInResult, DataInSuccess, DataInFailure } from './codec/data-in.js';
