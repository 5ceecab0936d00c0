/**
 * `vaai-sim/testing`: a property-based test kit on fast-check (an optional peer dependency) that
 * checks any target with the `execute(cdb, dataOut, { initiator })` contract, and gives your own
 * tests arbitraries for commands and workloads, the reference model, and invariants.
 *
 * @example
 * ```ts
 * import { it, expect } from 'vitest';
 * import { StorageArray } from 'vaai-sim';
 * import { checkTarget, formatReport } from 'vaai-sim/testing';
 *
 * it('my array front end gets VAAI right', async () => {
 *   const array = new StorageArray({ capacityBytes: 1 << 30 });
 *   const lun = array.createLun({ sizeBytes: 64 << 20 });
 *   const report = await checkTarget(lun, { initiators: ['a', 'b'], numRuns: 50 });
 *   expect(report.passed, formatReport(report)).toBe(true);
 * });
 * ```
 * @module vaai-sim/testing
 */

export { checkTarget, formatReport, describeResult, kitCommands, kitSyncCommands, kitSetup, startKitRun, clearPersistentReservations, accessClass, prSpaceOf, KitModel, StepCommand, RaceCommand } from './check-target.js';
export type { CheckTargetOptions, KitSetupOptions, CheckReport, Counterexample, StepRecord, TargetCapabilities, Invariant, KitNexus, KitSystem, KitSetup, RaceStep } from './check-target.js';
export { commandArbitrary, malformedCommandArbitrary, encodedCommandArbitrary, rangeArbitrary, defectsFor, workloadArbitrary, prCommandArbitrary } from './arbitraries.js';
export type { CommandSpace, PrSpace, WorkloadOptions, WorkloadStep } from './arbitraries.js';
export { ReferencePr, PR_OUT_ACTIONS, PR_IN_ACTIONS, PR_TYPES, PR_TYPE_NAMES, PR_UNIT_ATTENTIONS, allRegistrants } from './reference-pr.js';
export type { PrOutAction, PrInAction, PrType, PrAnswer, PrRegistration, AccessClass } from './reference-pr.js';
export { KIT_OPS, PR_IN_ALLOCATION_LENGTH, prKey, encodeCommand, applyDefect, hasRange, describeCommand, seededBytes, compareAndWriteVerify, verifyDataOut, writeSameBlock } from './commands.js';
export type {
  KitCommand,
  RangedCommand,
  KitGeometry,
  EncodedCommand,
  Defect,
  MalformedCommand,
  BlockRange,
  CopySegment,
  TestUnitReadyCommand,
  Read10Command,
  Write10Command,
  WriteAtomic16Command,
  WriteSame10Command,
  SynchronizeCache16Command,
  GetLbaStatusCommand,
  ReadCapacity16Command,
  InquiryCommand,
  ReceiveCopyResultsCommand,
  Read16Command,
  Write16Command,
  WriteSame16Command,
  UnmapCommand,
  CompareAndWriteCommand,
  ExtendedCopyCommand,
  Reserve6Command,
  Release6Command,
  Read6Command,
  Write6Command,
  VerifyBytchk,
  VerifyCommand,
  WriteAndVerifyCommand,
  OrWrite16Command,
  PreFetchCommand,
  SanitizeBlockEraseCommand,
  PersistentReserveOutCommand,
  PersistentReserveInCommand,
} from './commands.js';
export { ReferenceArray, ModelLun } from './reference-array.js';
export type { ReferenceArrayOptions, ModelLunSpec, Expected, ExpectedSense, ModelSegment, ModelRange } from './reference-array.js';
export { poolAccountingExact, AcknowledgedWrites, unmappedBlocksReadZero } from './invariants.js';
export type { CloneStep, ZeroStep, LockStep, WriteStep, UnmapStep } from './arbitraries.js';
export { runWorkload } from './workload.js';
export type { WorkloadOutcome } from './workload.js';
