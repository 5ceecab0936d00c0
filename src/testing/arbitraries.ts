/**
 * fast-check arbitraries for the commands of one LUN, well-formed and deliberately malformed, and
 * for hypervisor-like workloads over several LUNs and initiators. They generate the structured
 * form of {@link KitCommand}; shrinking works on that form, so a shrunk EXTENDED COPY is still a
 * parsable EXTENDED COPY with fewer or shorter segments. {@link encodedCommandArbitrary} turns
 * any of them into CDB and Data-Out bytes.
 * @module
 */
import fc from 'fast-check';
import { InvalidArgumentError, checkOptions, is, type ValueCheck } from '../common/errors.js';
import { encodeCommand, prKey, type BlockRange, type CopySegment, type Defect, type EncodedCommand, type KitCommand, type KitGeometry, type MalformedCommand, type VerifyBytchk } from './commands.js';
import type { PrInAction, PrOutAction, PrType } from './reference-pr.js';

/** What a target offers of persistent reservations, as the kit found it (REPORT SUPPORTED OPERATION CODES, REPORT CAPABILITIES). */
export interface PrSpace {
  /** The PERSISTENT RESERVE OUT service actions it lists. */
  readonly outActions: ReadonlySet<PrOutAction>;
  /** The PERSISTENT RESERVE IN service actions it lists. */
  readonly inActions: ReadonlySet<PrInAction>;
  /** The TYPEs it supports (the type mask of REPORT CAPABILITIES, or all six without TMV). */
  readonly types: readonly PrType[];
  /** PTPL_C: it can persist through power loss (APTPL = 1 is then no defect). */
  readonly ptplC: boolean;
}

/** Where commands may go, and which the LUN offers. */
export interface CommandSpace extends KitGeometry {
  /** The LBAs commands touch: `[first, blockCount)`, the end of the LUN so that its last LBA is in play. */
  readonly first: number;
  /** Longest transfer generated, in blocks. @defaultValue 16 */
  readonly maxBlocks?: number;
  /** Commands to generate; all when left out. */
  readonly ops?: ReadonlySet<KitCommand['op']>;
  /** MAXIMUM SEGMENT DESCRIPTOR COUNT of the copy manager. @defaultValue 4 */
  readonly maxSegments?: number;
  /** WRITE SAME(16) takes NDOB (its CDB usage data says so). @defaultValue true */
  readonly writeSameNdob?: boolean;
  /** WRITE SAME(16) takes UNMAP (LBPWS). @defaultValue whether UNMAP is offered */
  readonly writeSameUnmap?: boolean;
  /** WRITE SAME(10) takes UNMAP (LBPWS10). @defaultValue whether UNMAP is offered */
  readonly writeSame10Unmap?: boolean;
  /**
   * MAXIMUM TRANSFER LENGTH in blocks (0: no limit); READ(6) and WRITE(6) of 256 blocks (TRANSFER
   * LENGTH 0) are generated only where it and the space allow 256. @defaultValue 0
   */
  readonly maxTransferBlocks?: number;
  /**
   * Persistent reservations, where the target offers them (and the check has two or more nexuses):
   * {@link prCommandArbitrary} generates them, since each nexus uses its own keys.
   */
  readonly pr?: PrSpace;
}

const seed = fc.integer({ min: 1, max: 0x7fffffff });

function has(space: CommandSpace, op: KitCommand['op']): boolean {
  return space.ops === undefined || space.ops.has(op);
}

/** A range inside the space, biased to its first and last blocks. */
export function rangeArbitrary(space: CommandSpace, minBlocks = 0, maxBlocks = space.maxBlocks ?? 16): fc.Arbitrary<BlockRange> {
  const end = space.blockCount;
  const room = end - space.first;
  const most = Math.max(minBlocks, Math.min(maxBlocks, room));
  return fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.integer({ min: space.first, max: end - 1 }), weight: 3 },
        { arbitrary: fc.constantFrom(space.first, end - 1), weight: 1 },
        // ranges that end exactly at the last LBA
        { arbitrary: fc.constant(-1), weight: 1 },
      ),
      fc.integer({ min: minBlocks, max: most }),
    )
    .map(([lba, blocks]) => {
      if (lba === -1) return { lba: end - Math.max(blocks, 1), blocks: Math.max(blocks, 1) };
      return { lba, blocks: Math.max(minBlocks, Math.min(blocks, end - lba)) };
    });
}

/**
 * A READ(6)/WRITE(6) range: 1 to 256 blocks; 256 blocks (sent as TRANSFER LENGTH 0) where the space
 * holds them and MAXIMUM TRANSFER LENGTH allows them.
 */
function sixByteRange(space: CommandSpace): fc.Arbitrary<BlockRange> {
  const limit = space.maxTransferBlocks ?? 0;
  const whole = space.blockCount - space.first >= 256 && (limit === 0 || limit >= 256);
  const some = rangeArbitrary(space, 1, Math.min(space.maxBlocks ?? 16, 256));
  if (!whole) return some;
  const full = fc.integer({ min: space.first, max: space.blockCount - 256 }).map((lba) => ({ lba, blocks: 256 }));
  return fc.oneof({ arbitrary: some, weight: 3 }, { arbitrary: full, weight: 1 });
}

/** A segment: often overlapping its own source (destination a few blocks either side). */
function segmentArbitrary(space: CommandSpace): fc.Arbitrary<CopySegment> {
  return fc
    .tuple(rangeArbitrary(space, 1), fc.option(fc.integer({ min: -4, max: 4 }), { freq: 2 }), fc.integer({ min: space.first, max: space.blockCount - 1 }))
    .map(([src, shift, elsewhere]) => {
      const dst = shift === null ? elsewhere : Math.min(Math.max(space.first, src.lba + shift), space.blockCount - 1);
      const blocks = Math.max(1, Math.min(src.blocks, space.blockCount - dst, space.blockCount - src.lba));
      return { srcLba: src.lba, dstLba: dst, blocks };
    });
}

/** Well-formed commands of the kinds `space` offers, each within its limits. */
export function commandArbitrary(space: CommandSpace): fc.Arbitrary<KitCommand> {
  const choices: Array<fc.WeightedArbitrary<KitCommand>> = [];
  const add = (weight: number, arbitrary: fc.Arbitrary<KitCommand>) => choices.push({ arbitrary, weight });
  if (has(space, 'READ(16)')) add(3, rangeArbitrary(space).map((r) => ({ op: 'READ(16)', ...r })));
  if (has(space, 'WRITE(16)')) add(4, fc.tuple(rangeArbitrary(space), fc.oneof(seed, fc.constant(0))).map(([r, s]) => ({ op: 'WRITE(16)', ...r, seed: s })));
  if (has(space, 'WRITE SAME(16)')) {
    const max = space.maxWriteSameBlocks === undefined || space.maxWriteSameBlocks === 0 ? undefined : space.maxWriteSameBlocks;
    add(
      2,
      fc
        .tuple(rangeArbitrary(space, 1, max), fc.boolean(), fc.boolean(), fc.oneof(seed, fc.constant(0)))
        .map(([r, unmap, ndob, s]) => ({ op: 'WRITE SAME(16)', ...r, unmap: unmap && (space.writeSameUnmap ?? has(space, 'UNMAP')), ndob: ndob && space.writeSameNdob !== false, seed: s })),
    );
  }
  // 10-byte CDBs address LBAs below 2^32 and at most 65,535 blocks.
  const small = space.blockCount <= 0x100000000;
  if (small && has(space, 'READ(10)')) add(1, rangeArbitrary(space).map((r) => ({ op: 'READ(10)', ...r })));
  // WRITE ATOMIC(16)'s TRANSFER LENGTH is 16 bits: at most 65,535 blocks.
  if (has(space, 'WRITE ATOMIC(16)')) add(1, fc.tuple(rangeArbitrary(space, 0, Math.min(space.maxBlocks ?? 16, 0xffff)), fc.oneof(seed, fc.constant(0))).map(([r, s]) => ({ op: 'WRITE ATOMIC(16)', ...r, seed: s })));
  if (small && has(space, 'WRITE(10)')) add(2, fc.tuple(rangeArbitrary(space), fc.oneof(seed, fc.constant(0))).map(([r, s]) => ({ op: 'WRITE(10)', ...r, seed: s })));
  if (small && has(space, 'WRITE SAME(10)')) {
    const max = space.maxWriteSameBlocks === undefined || space.maxWriteSameBlocks === 0 ? undefined : space.maxWriteSameBlocks;
    add(
      1,
      fc
        .tuple(rangeArbitrary(space, 1, max), fc.boolean(), fc.oneof(seed, fc.constant(0)))
        .map(([r, unmap, s]) => ({ op: 'WRITE SAME(10)', ...r, unmap: unmap && (space.writeSame10Unmap ?? has(space, 'UNMAP')), seed: s })),
    );
  }
  // 6-byte CDBs address LBAs below 2^21 and 1 to 256 blocks (256 sent as TRANSFER LENGTH 0).
  const tiny = space.blockCount <= 0x200000;
  if (tiny && has(space, 'READ(6)')) add(1, sixByteRange(space).map((r) => ({ op: 'READ(6)', ...r })));
  if (tiny && has(space, 'WRITE(6)')) add(1, fc.tuple(sixByteRange(space), fc.oneof(seed, fc.constant(0))).map(([r, s]) => ({ op: 'WRITE(6)', ...r, seed: s })));
  for (const op of ['VERIFY(10)', 'VERIFY(16)'] as const) {
    if (!has(space, op) || (op === 'VERIFY(10)' && !small)) continue;
    add(
      1,
      fc
        .tuple(rangeArbitrary(space), fc.constantFrom<VerifyBytchk>(0, 1, 3), fc.option(fc.nat({ max: (space.maxBlocks ?? 16) * space.blockSize - 1 }), { freq: 2 }))
        .map(([r, bytchk, miscompareAt]) => ({ op, ...r, bytchk, miscompareAt })),
    );
  }
  for (const op of ['WRITE AND VERIFY(10)', 'WRITE AND VERIFY(16)'] as const) {
    if (!has(space, op) || (op === 'WRITE AND VERIFY(10)' && !small)) continue;
    add(1, fc.tuple(rangeArbitrary(space), fc.constantFrom<0 | 1>(0, 1), fc.oneof(seed, fc.constant(0))).map(([r, bytchk, s]) => ({ op, ...r, bytchk, seed: s })));
  }
  if (has(space, 'ORWRITE(16)')) add(2, fc.tuple(rangeArbitrary(space), fc.oneof(seed, fc.constant(0))).map(([r, s]) => ({ op: 'ORWRITE(16)', ...r, seed: s })));
  for (const op of ['PRE-FETCH(10)', 'PRE-FETCH(16)'] as const) {
    if (has(space, op) && (op === 'PRE-FETCH(16)' || small)) add(1, rangeArbitrary(space).map((r) => ({ op, ...r })));
  }
  if (has(space, 'SANITIZE BLOCK ERASE')) add(1, fc.constant<KitCommand>({ op: 'SANITIZE BLOCK ERASE' }));
  if (has(space, 'SYNCHRONIZE CACHE(16)')) add(1, rangeArbitrary(space).map((r) => ({ op: 'SYNCHRONIZE CACHE(16)', ...r })));
  if (has(space, 'GET LBA STATUS')) add(1, rangeArbitrary(space, 1).map((r) => ({ op: 'GET LBA STATUS', lba: r.lba })));
  for (const op of ['READ CAPACITY(16)', 'INQUIRY', 'RECEIVE COPY RESULTS'] as const) if (has(space, op)) add(1, fc.constant<KitCommand>({ op }));
  if (has(space, 'UNMAP')) {
    const descriptors = Math.max(1, Math.min(4, space.maxUnmapDescriptors ?? 4));
    add(2, fc.array(rangeArbitrary(space), { minLength: 1, maxLength: descriptors }).map((ranges) => ({ op: 'UNMAP', ranges })));
  }
  if (has(space, 'COMPARE AND WRITE')) {
    const max = Math.max(1, Math.min(space.maxCompareAndWriteBlocks ?? 1, 4));
    add(
      3,
      fc
        .tuple(rangeArbitrary(space, 1, max), seed, fc.option(fc.nat({ max: max * space.blockSize - 1 }), { freq: 3 }))
        .map(([r, s, miscompareAt]) => ({ op: 'COMPARE AND WRITE', ...r, seed: s, miscompareAt })),
    );
  }
  if (has(space, 'EXTENDED COPY')) {
    add(3, fc.array(segmentArbitrary(space), { minLength: 1, maxLength: Math.max(1, Math.min(3, space.maxSegments ?? 4)) }).map((segments) => ({ op: 'EXTENDED COPY', segments })));
  }
  if (has(space, 'RESERVE(6)')) add(1, fc.constant<KitCommand>({ op: 'RESERVE(6)' }));
  if (has(space, 'RELEASE(6)')) add(1, fc.constant<KitCommand>({ op: 'RELEASE(6)' }));
  if (has(space, 'TEST UNIT READY')) add(1, fc.constant<KitCommand>({ op: 'TEST UNIT READY' }));
  if (choices.length === 0) throw new RangeError('commandArbitrary: the space offers no command');
  return fc.oneof(...choices);
}

/** A reservation key nexus `nexus` of `nexusCount` might send: mostly its own, sometimes another's or 0. */
function prKeyArbitrary(nexus: number, nexusCount: number, weights: { own: number; changed: number; zero: number; other: number }): fc.Arbitrary<bigint> {
  const choices: Array<fc.WeightedArbitrary<bigint>> = [
    { arbitrary: fc.constant(prKey(nexus, 0)), weight: weights.own },
    { arbitrary: fc.constant(prKey(nexus, 1)), weight: weights.changed },
    { arbitrary: fc.constant(0n), weight: weights.zero },
  ];
  if (nexusCount > 1) {
    choices.push({ arbitrary: fc.tuple(fc.integer({ min: 1, max: nexusCount - 1 }), fc.constantFrom<0 | 1>(0, 0, 0, 1)).map(([k, v]) => prKey((nexus + k) % nexusCount, v)), weight: weights.other });
  }
  return fc.oneof(...choices.filter((c) => c.weight > 0));
}

/**
 * PERSISTENT RESERVE OUT and IN commands of nexus `nexus` (of `nexusCount`), of the service actions
 * and TYPEs `space.pr` offers. Each nexus registers only its own two keys ({@link prKey}), so a key
 * names one nexus; its RESERVATION KEY is mostly its own (a wrong one must meet RESERVATION
 * CONFLICT), PREEMPT's SERVICE ACTION RESERVATION KEY mostly another nexus's.
 */
export function prCommandArbitrary(space: CommandSpace, nexus: number, nexusCount: number): fc.Arbitrary<KitCommand> {
  const pr = space.pr;
  if (pr === undefined) throw new RangeError('prCommandArbitrary: the space offers no persistent reservations');
  const type = fc.constantFrom(...pr.types);
  const key = prKeyArbitrary(nexus, nexusCount, { own: 6, changed: 1, zero: 1, other: 1 });
  // REGISTER from an unregistered nexus needs RESERVATION KEY 0.
  const registerRk = prKeyArbitrary(nexus, nexusCount, { own: 3, changed: 1, zero: 3, other: 1 });
  const registerKey = prKeyArbitrary(nexus, nexusCount, { own: 4, changed: 1, zero: 2, other: 0 });
  const victimKey = prKeyArbitrary(nexus, nexusCount, { own: 1, changed: 0, zero: 2, other: 5 });
  const weights: Readonly<Record<PrOutAction, number>> = { REGISTER: 3, 'REGISTER AND IGNORE EXISTING KEY': 2, RESERVE: 3, RELEASE: 2, CLEAR: 1, PREEMPT: 2, 'PREEMPT AND ABORT': 1 };
  const choices: Array<fc.WeightedArbitrary<KitCommand>> = [];
  for (const action of pr.outActions) {
    const sark = action === 'REGISTER' || action === 'REGISTER AND IGNORE EXISTING KEY' ? registerKey : action === 'PREEMPT' || action === 'PREEMPT AND ABORT' ? victimKey : fc.constant(0n);
    choices.push({ weight: weights[action], arbitrary: fc.tuple(action === 'REGISTER' ? registerRk : key, sark, type).map(([k, sa, t]) => ({ op: 'PERSISTENT RESERVE OUT', action, key: k, serviceActionKey: sa, type: t })) });
  }
  for (const action of pr.inActions) choices.push({ weight: 1, arbitrary: fc.constant<KitCommand>({ op: 'PERSISTENT RESERVE IN', action }) });
  if (choices.length === 0) throw new RangeError('prCommandArbitrary: the space offers no persistent reservation service action');
  return fc.oneof(...choices);
}

/** The defects that apply to `command` on a LUN with `space`'s limits. */
export function defectsFor(command: KitCommand, space: CommandSpace): Defect[] {
  const room = space.blockCount - space.first;
  switch (command.op) {
    case 'READ(6)':
    case 'READ(10)':
    case 'READ(16)':
    case 'WRITE(6)':
    case 'WRITE(10)':
    case 'WRITE(16)':
    case 'WRITE ATOMIC(16)':
    case 'ORWRITE(16)':
    case 'PRE-FETCH(10)':
    case 'PRE-FETCH(16)':
    case 'SYNCHRONIZE CACHE(16)':
    case 'GET LBA STATUS':
      return ['lba-beyond-end'];
    case 'VERIFY(10)':
    case 'VERIFY(16)':
    case 'WRITE AND VERIFY(10)':
    case 'WRITE AND VERIFY(16)':
      return ['lba-beyond-end', 'reserved-bytchk'];
    case 'SANITIZE BLOCK ERASE':
      return ['nonzero-parameter-list-length'];
    // One block over the limit, only where that still fits the space (so nothing outside it is at risk).
    case 'WRITE SAME(10)':
      return space.maxWriteSameBlocks !== undefined && space.maxWriteSameBlocks > 0 && space.maxWriteSameBlocks < room ? ['lba-beyond-end', 'over-limit'] : ['lba-beyond-end'];
    case 'WRITE SAME(16)':
      return [
        'lba-beyond-end',
        ...(space.maxWriteSameBlocks !== undefined && space.maxWriteSameBlocks > 0 && space.maxWriteSameBlocks < room ? (['over-limit'] as const) : []),
        ...(space.writeSameNdob === false ? (['unsupported-ndob'] as const) : []),
      ];
    case 'COMPARE AND WRITE':
      return (space.maxCompareAndWriteBlocks ?? 255) < Math.min(255, room) ? ['lba-beyond-end', 'over-limit'] : ['lba-beyond-end'];
    case 'UNMAP':
      return space.maxUnmapDescriptors !== undefined && space.maxUnmapDescriptors < 64 ? ['lba-beyond-end', 'too-many-descriptors', 'short-parameter-list'] : ['lba-beyond-end', 'short-parameter-list'];
    case 'EXTENDED COPY':
      return ['bad-segment-type', 'bad-cscd-type', 'cscd-index-beyond-list'];
    case 'PERSISTENT RESERVE OUT': {
      const a = command.action;
      return [
        'pr-parameter-list-length',
        ...(a === 'RESERVE' || a === 'PREEMPT' || a === 'PREEMPT AND ABORT' ? (['pr-unknown-type'] as const) : []),
        ...((a === 'REGISTER' || a === 'REGISTER AND IGNORE EXISTING KEY') && space.pr?.ptplC === false ? (['pr-unsupported-aptpl'] as const) : []),
      ];
    }
    default:
      return [];
  }
}

/** Malformed commands: a well-formed command of `space` and one defect that applies to it. */
export function malformedCommandArbitrary(space: CommandSpace): fc.Arbitrary<MalformedCommand> {
  return commandArbitrary(space)
    .filter((command) => defectsFor(command, space).length > 0)
    .chain((command) => fc.constantFrom(...defectsFor(command, space)).map((defect) => ({ command, defect })));
}

/**
 * CDB and Data-Out bytes of well-formed (or, with `malformed`, defective) commands, for testing a
 * decoder or a target at the byte level. COMPARE AND WRITE verifies zeros (no model here).
 */
export function encodedCommandArbitrary(space: CommandSpace, malformed = false): fc.Arbitrary<EncodedCommand> {
  if (malformed) return malformedCommandArbitrary(space).map((m) => encodeCommand(m.command, space, undefined, m.defect));
  return commandArbitrary(space).map((c) => encodeCommand(c, space));
}

// ---- workloads ----------------------------------------------------------------------------------------

/** Fields every workload step has. */
interface StepBase {
  /** The initiator (host) index that issues it. */
  readonly host: number;
}

/** A clone of an extent from one LUN to another (or the same): an EXTENDED COPY. */
export interface CloneStep extends StepBase {
  /** Discriminant. */
  readonly kind: 'clone';
  /** Source LUN index. */
  readonly fromLun: number;
  /** Destination LUN index. */
  readonly toLun: number;
  /** First LBA (the same on both LUNs). */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
}

/** Zeroing an extent: WRITE SAME of a zero block. */
export interface ZeroStep extends StepBase {
  /** Discriminant. */
  readonly kind: 'zero';
  /** LUN index. */
  readonly lun: number;
  /** First LBA. */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
}

/** An on-disk lock attempt: COMPARE AND WRITE of the lock block, from free to held by this host, then back. */
export interface LockStep extends StepBase {
  /** Discriminant. */
  readonly kind: 'lock';
  /** LUN index. */
  readonly lun: number;
  /** LBA of the lock block. */
  readonly lockLba: number;
}

/** A guest write. */
export interface WriteStep extends StepBase {
  /** Discriminant. */
  readonly kind: 'write';
  /** LUN index. */
  readonly lun: number;
  /** First LBA. */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
  /** Seed of the data (see `seededBytes`). */
  readonly seed: number;
}

/** A guest or file system freeing an extent: UNMAP. */
export interface UnmapStep extends StepBase {
  /** Discriminant. */
  readonly kind: 'unmap';
  /** LUN index. */
  readonly lun: number;
  /** First LBA. */
  readonly lba: number;
  /** Number of blocks. */
  readonly blocks: number;
}

/** One step of a hypervisor-like workload, by LUN and initiator (host) index. */
export type WorkloadStep = CloneStep | ZeroStep | LockStep | WriteStep | UnmapStep;

/** The shape of a workload. */
export interface WorkloadOptions {
  /** Number of LUNs. */
  readonly luns: number;
  /** Blocks per LUN. */
  readonly blocksPerLun: number;
  /** Number of initiators (hosts). */
  readonly hosts: number;
  /** Longest workload, in steps. @defaultValue 40 */
  readonly maxSteps?: number;
  /** Largest extent of one step, in blocks. @defaultValue 64 */
  readonly maxBlocks?: number;
  /** Relative weights of the step kinds. @defaultValue clone 1, zero 1, lock 2, write 6, unmap 1 */
  readonly mix?: Partial<Record<WorkloadStep['kind'], number>>;
  /** LBAs of on-disk locks (one block each). @defaultValue [0] */
  readonly lockLbas?: readonly number[];
}

/** The step kinds of a workload. */
const STEP_KINDS = ['clone', 'zero', 'lock', 'write', 'unmap'] as const satisfies readonly WorkloadStep['kind'][];

/** What {@link workloadArbitrary} accepts. */
const WORKLOAD_OPTIONS = {
  luns: is.integer(1, 1024),
  blocksPerLun: is.positiveInteger,
  hosts: is.integer(1, 1024),
  maxSteps: is.integer(0, 100_000),
  maxBlocks: is.positiveInteger,
  mix: is.options(Object.fromEntries(STEP_KINDS.map((k) => [k, is.integer(0, 1000)]))),
  lockLbas: is.array(is.integer(0, Number.MAX_SAFE_INTEGER), 1),
} as const satisfies Record<keyof WorkloadOptions, ValueCheck>;

/** Workloads: clones, zeroing, lock attempts, guest writes and unmaps spread over LUNs and hosts. */
export function workloadArbitrary(o: WorkloadOptions): fc.Arbitrary<WorkloadStep[]> {
  checkOptions(o, WORKLOAD_OPTIONS, 'workloadArbitrary', ['luns', 'blocksPerLun', 'hosts']);
  const beyond = o.lockLbas?.find((lba) => lba >= o.blocksPerLun);
  if (beyond !== undefined) throw new InvalidArgumentError(`workloadArbitrary: lockLbas must be below blocksPerLun (${o.blocksPerLun}), got ${beyond}`);
  const mix = { clone: 1, zero: 1, lock: 2, write: 6, unmap: 1, ...o.mix };
  const maxBlocks = Math.min(o.maxBlocks ?? 64, o.blocksPerLun);
  const lun = fc.nat({ max: o.luns - 1 });
  const host = fc.nat({ max: o.hosts - 1 });
  const extent = fc.tuple(fc.nat({ max: o.blocksPerLun - 1 }), fc.integer({ min: 1, max: maxBlocks })).map(([lba, blocks]) => ({ lba, blocks: Math.min(blocks, o.blocksPerLun - lba) }));
  const kinds: Array<fc.WeightedArbitrary<WorkloadStep>> = [
    { weight: mix.clone, arbitrary: fc.record({ host, fromLun: lun, toLun: lun, e: extent }).map(({ e, ...r }) => ({ kind: 'clone' as const, ...r, ...e })) },
    { weight: mix.zero, arbitrary: fc.record({ host, lun, e: extent }).map(({ e, ...r }) => ({ kind: 'zero' as const, ...r, ...e })) },
    { weight: mix.lock, arbitrary: fc.record({ host, lun, lockLba: fc.constantFrom(...(o.lockLbas ?? [0])) }).map((r) => ({ kind: 'lock' as const, ...r })) },
    { weight: mix.write, arbitrary: fc.record({ host, lun, e: extent, seed }).map(({ e, ...r }) => ({ kind: 'write' as const, ...r, ...e })) },
    { weight: mix.unmap, arbitrary: fc.record({ host, lun, e: extent }).map(({ e, ...r }) => ({ kind: 'unmap' as const, ...r, ...e })) },
  ].filter((k) => k.weight > 0);
  if (kinds.length === 0) throw new InvalidArgumentError(`workloadArbitrary: mix gives every step kind weight 0; give one of ${STEP_KINDS.join(', ')} a positive weight`);
  return fc.array(fc.oneof(...kinds), { maxLength: o.maxSteps ?? 40 });
}
