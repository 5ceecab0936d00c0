/**
 * `vaai-sim/host`: the host side. A data mover, eager zeroing, an on-disk lock manager and thin-
 * provisioning handling that talk to any target through `execute`, and a fabric cost model on a
 * discrete-event clock that runs the same code on simulated time.
 *
 * @example
 * ```ts
 * import { StorageArray } from 'vaai-sim';
 * import { Fabric, cloneRange } from 'vaai-sim/host';
 * const array = new StorageArray({ capacityBytes: 1 << 30 });
 * const [a, b] = [array.createLun({ sizeBytes: 1 << 28 }), array.createLun({ sizeBytes: 1 << 28 })];
 * const fabric = new Fabric(array, '16gfc');
 * const host = fabric.host('esx-1');
 * const report = await fabric.clock.run(() => cloneRange({ source: host.port(a), destination: host.port(b) }));
 * console.log(report.offloadedBytes, fabric.clock.now, fabric.stats.fabricBytes);
 * ```
 * @module vaai-sim/host
 */

export type { ScsiTarget } from './target.js';
export { probeLun } from './probe.js';
export type { LunInfo, Designator, CopyManagerLimits } from './probe.js';
export { cloneRange, DEFAULT_TRANSFER_BYTES, MAX_TRANSFER_BYTES } from './data-mover.js';
export type { CloneOptions, CloneReport } from './data-mover.js';
export { zeroRange } from './zeroing.js';
export type { ZeroOptions, ZeroReport } from './zeroing.js';
export { LockManager } from './lock-manager.js';
export type { LockManagerOptions, LockMethod, LockStats } from './lock-manager.js';
export { ThinHost } from './thin-host.js';
export type { ThinHostOptions, ThinHostEvents, VmEvent } from './thin-host.js';
export { HostIoError, LogicalUnitNotFoundError, formatSense } from './errors.js';
export { PathClaimError, PathTransportError, AllPathsDownError, PermanentDeviceLossError, OutcomeUnknownError } from './errors.js';
export { FencingError, NodeFencedError } from './errors.js';
export { PrFencingNode, Scsi2FencingNode, FENCING_RESERVATION_TYPE } from './fencing.js';
export type { PrFencingNodeOptions, PrFencingEvents, FenceReport, RegisteredKeys, HeldReservation, RegistrationMode, Scsi2FencingNodeOptions, Scsi2FencingEvents } from './fencing.js';
export { MultipathDevice } from './multipath/device.js';
export type { MultipathDeviceOptions, PathSpec, PathState, PathInfo, PathStats, MultipathStats, MultipathEvents, PathStateChangedEvent, FailoverEvent, GroupStateChangedEvent } from './multipath/device.js';
export { InProcessPath } from './multipath/in-process-path.js';
export type { InProcessPathOptions } from './multipath/in-process-path.js';
export type { PathSelectionPolicy, FixedPolicy, MruPolicy, RoundRobinPolicy } from './multipath/psp.js';
export type { MultipathClock } from './multipath/timers.js';
export { isIdempotent, classifyAnswer, checkVerdict } from './multipath/classify.js';
export type { AnswerClass, CheckVerdict } from './multipath/classify.js';
export { Fabric, FabricHost, FabricPort, FabricPath, FABRIC_PRESETS } from './fabric.js';
export type { FabricModel, FabricPreset, FabricStats, FabricPathOptions } from './fabric.js';
export { SimClock, Resource } from './sim/clock.js';
export { FilterChain, FilterDomain } from './filters/chain.js';
export type { IoFilter, FilterRequest, NextLayer, ChangeCause, FilterChainOptions } from './filters/chain.js';
export { changesOf, extendedCopyDestinations, mayHaveChanged } from './filters/changes.js';
export type { LbaRange, CommandChanges, ForeignChange } from './filters/changes.js';
export { ChangedBlockTracker, ChangeTrackingError, allocatedAreas } from './filters/cbt.js';
export { ReplicationFilter } from './filters/replication.js';
export type { ReplicationOptions, ReplicationState, ReplicationStats } from './filters/replication.js';
export { lbaStatusExtents } from './lba-status.js';
export type { LbaStatusExtent, LbaStatusWalk } from './lba-status.js';
