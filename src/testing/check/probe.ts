/**
 * What the check learns before it runs: the nexuses, the target's geometry and limits (through the
 * host's probe and the Data-In decoders), the commands it offers and the window the check works in.
 * @module
 */
import * as cdb from '../../codec/cdb-encoder.js';
import { decodeOneCommand } from '../../codec/rsoc-decoder.js';
import { decodeLogicalBlockProvisioning } from '../../codec/vpd-decoder.js';
import { InvalidArgumentError, checkOptions, is } from '../../common/errors.js';
import { probeLun, type LunInfo } from '../../host/probe.js';
import type { ScsiTarget } from '../../host/target.js';
import { decodePrReportCapabilities } from '../../codec/pr-decoder.js';
import type { CommandSpace, PrSpace } from '../arbitraries.js';
import { PR_IN_ACTIONS, PR_OUT_ACTIONS, PR_TYPES, type PrInAction, type PrOutAction, type PrType } from '../reference-pr.js';
import { KIT_OPS, type KitCommand } from '../commands.js';
import { SETUP_OPTIONS, type KitSetupOptions } from './options.js';
import type { TargetCapabilities } from './report.js';
import type { KitNexus } from './steps.js';

/**
 * What WRITE SAME(16) takes: UNMAP needs LBPWS (VPD B2h) and, like NDOB, a set bit in the CDB USAGE
 * DATA of REPORT SUPPORTED OPERATION CODES (one command). Without that report, NDOB is not sent.
 */
export async function writeSameBits(target: KitNexus): Promise<{ unmap: boolean; unmap10: boolean; ndob: boolean }> {
  const b2 = await target.execute(cdb.inquiry({ page: 0xb2, allocationLength: 64 }));
  const page = b2.status === 0 && b2.data !== undefined ? decodeLogicalBlockProvisioning(b2.data) : undefined;
  const lbp = page?.ok === true ? page.value : undefined;
  /** The CDB USAGE DATA of `opcode`, or undefined when it is not reported as supported. */
  const usage = async (opcode: number): Promise<Uint8Array | undefined> => {
    const one = await target.execute(cdb.reportSupportedOperationCodes({ reportingOptions: 1, opcode, allocationLength: 64 }));
    const report = one.status === 0 && one.data !== undefined ? decodeOneCommand(one.data) : undefined;
    return report?.ok === true && report.value.support === 0b011 && report.value.cdbSize >= 2 ? report.value.cdbUsageData : undefined;
  };
  const [u16, u10] = [await usage(0x93), await usage(0x41)];
  // Byte 1 of the WRITE SAME(10) and WRITE SAME(16) CDBs: UNMAP is bit 3, NDOB bit 0 (SBC-3).
  return {
    unmap: lbp?.lbpws === true && (u16 === undefined || (u16[1]! & 0x08) !== 0),
    unmap10: lbp?.lbpws10 === true && (u10 === undefined || (u10[1]! & 0x08) !== 0),
    ndob: u16 !== undefined && (u16[1]! & 0x01) !== 0,
  };
}

/**
 * The kit commands the target offers, as its probe found it (and as `restrict` allows). The SBC
 * commands the kit added with SBC-4 coverage (READ(6) to SANITIZE) are offered only where REPORT
 * SUPPORTED OPERATION CODES lists them: READ(6)/WRITE(6) where their 21-bit LBA reaches the last
 * LBA; SANITIZE BLOCK ERASE (service action 02h) only on a thin LUN and with `wholeLun`, a window
 * that is the whole LUN, since it erases every block; PERSISTENT RESERVE IN/OUT where it lists READ
 * KEYS (5Eh/00h) and REGISTER (5Fh/00h) (the check then offers them only with two or more nexuses,
 * and instead of RESERVE(6)/RELEASE(6)).
 */
export function opsOf(info: LunInfo, restrict: ReadonlySet<KitCommand['op']> | undefined, wholeLun = false): Set<KitCommand['op']> {
  const s = info.supported;
  const listed = (opcode: number, sa?: number): boolean => s === undefined || s.has(sa === undefined ? String(opcode) : `${opcode}/${sa}`) || s.has(String(opcode));
  const ops = new Set<KitCommand['op']>(['TEST UNIT READY', 'INQUIRY', 'READ CAPACITY(16)']);
  if (listed(0x28)) ops.add('READ(10)');
  if (listed(0x88)) ops.add('READ(16)');
  if (listed(0x2a)) ops.add('WRITE(10)');
  if (listed(0x8a)) ops.add('WRITE(16)');
  // Only where REPORT SUPPORTED OPERATION CODES lists it: few targets implement WRITE ATOMIC(16).
  if (s !== undefined && s.has(String(0x9c))) ops.add('WRITE ATOMIC(16)');
  const rsoc = (opcode: number, sa?: number): boolean => s !== undefined && s.has(sa === undefined ? String(opcode) : `${opcode}/${sa}`);
  const sixByte = info.blockCount <= 0x200000;
  if (sixByte && rsoc(0x08)) ops.add('READ(6)');
  if (sixByte && rsoc(0x0a)) ops.add('WRITE(6)');
  if (rsoc(0x2f)) ops.add('VERIFY(10)');
  if (rsoc(0x8f)) ops.add('VERIFY(16)');
  if (rsoc(0x2e)) ops.add('WRITE AND VERIFY(10)');
  if (rsoc(0x8e)) ops.add('WRITE AND VERIFY(16)');
  if (rsoc(0x8b)) ops.add('ORWRITE(16)');
  if (rsoc(0x34)) ops.add('PRE-FETCH(10)');
  if (rsoc(0x90)) ops.add('PRE-FETCH(16)');
  if (wholeLun && info.thin && rsoc(0x48, 0x02)) ops.add('SANITIZE BLOCK ERASE');
  if (s !== undefined && s.has(String(0x41))) ops.add('WRITE SAME(10)');
  if (s !== undefined && s.has(String(0x93))) ops.add('WRITE SAME(16)');
  if (s !== undefined && s.has(String(0x91))) ops.add('SYNCHRONIZE CACHE(16)');
  if (info.thin && s !== undefined && s.has(`${0x9e}/${0x12}`)) ops.add('GET LBA STATUS');
  if (info.thin && info.maxUnmapBlocks > 0 && listed(0x42)) ops.add('UNMAP');
  if (info.maxCompareAndWriteBlocks > 0 && listed(0x89)) ops.add('COMPARE AND WRITE');
  if (info.copyManager !== undefined && info.designator !== undefined && listed(0x83)) {
    ops.add('EXTENDED COPY');
    ops.add('RECEIVE COPY RESULTS');
  }
  if (s !== undefined && s.has(String(0x16)) && s.has(String(0x17))) {
    ops.add('RESERVE(6)');
    ops.add('RELEASE(6)');
  }
  // Persistent reservations: where REPORT SUPPORTED OPERATION CODES lists READ KEYS and REGISTER.
  if (rsoc(0x5e, PR_IN_ACTIONS['READ KEYS']) && rsoc(0x5f, PR_OUT_ACTIONS.REGISTER)) {
    ops.add('PERSISTENT RESERVE IN');
    ops.add('PERSISTENT RESERVE OUT');
  }
  return restrict === undefined ? ops : new Set([...ops].filter((o) => restrict.has(o)));
}

/**
 * What the target offers of persistent reservations (`undefined` when the ops leave them out): the
 * service actions REPORT SUPPORTED OPERATION CODES lists, and the TYPEs and PTPL_C of REPORT
 * CAPABILITIES (all six TYPEs, and APTPL never sent, when it has no valid type mask or none).
 */
export async function prSpaceOf(info: LunInfo, ops: ReadonlySet<KitCommand['op']>, target: KitNexus): Promise<PrSpace | undefined> {
  if (!ops.has('PERSISTENT RESERVE OUT') || !ops.has('PERSISTENT RESERVE IN')) return undefined;
  const listed = (opcode: number, sa: number) => info.supported?.has(`${opcode}/${sa}`) === true;
  const outActions = new Set((Object.keys(PR_OUT_ACTIONS) as PrOutAction[]).filter((a) => listed(0x5f, PR_OUT_ACTIONS[a])));
  const inActions = new Set((Object.keys(PR_IN_ACTIONS) as PrInAction[]).filter((a) => listed(0x5e, PR_IN_ACTIONS[a])));
  let types: readonly PrType[] = PR_TYPES;
  let ptplC = true;
  if (inActions.has('REPORT CAPABILITIES')) {
    const r = await target.execute(cdb.persistentReserveIn({ serviceAction: PR_IN_ACTIONS['REPORT CAPABILITIES'], allocationLength: 8 }));
    const c = r.status === 0 && r.data !== undefined ? decodePrReportCapabilities(r.data) : undefined;
    if (c?.ok === true) {
      ptplC = c.value.ptplC;
      if (c.value.tmv && c.value.types.length > 0) types = PR_TYPES.filter((t) => c.value.types.includes(t));
    }
  }
  return { outActions, inActions, types, ptplC };
}

/** What {@link kitSetup} found: the nexuses, where commands may go, and what the target offers. */
export interface KitSetup {
  /** The LUN through each nexus. */
  readonly nexuses: readonly KitNexus[];
  /** Commands, limits and the window. */
  readonly space: CommandSpace;
  /** What the target offers. */
  readonly capabilities: TargetCapabilities;
}

/**
 * Probes `target` (clearing pending unit attentions on every nexus) and works out the command space
 * for {@link kitCommands}: what {@link checkTarget} does before it runs, for your own property.
 */
export async function kitSetup(target: ScsiTarget, options: KitSetupOptions = {}): Promise<KitSetup> {
  is.target(target, 'kitSetup: target');
  checkOptions(options, SETUP_OPTIONS, 'kitSetup');
  return await setUp(target, options, 'kitSetup');
}

/** {@link kitSetup} on checked options; `where` names the caller in errors. */
export async function setUp(target: ScsiTarget, options: KitSetupOptions, where: string): Promise<KitSetup> {
  const nexuses: KitNexus[] =
    options.others !== undefined
      ? [target, ...options.others].map((t, i) => ({ name: `nexus ${i}`, execute: (c, d) => t.execute(c, d) }))
      : (options.initiators ?? ['vaai-sim-check']).map((name) => ({ name, execute: (c, d) => target.execute(c, d, { initiator: name }) }));
  // Clear pending unit attentions (a reset, a new session) on every nexus.
  for (const n of nexuses) for (let i = 0; i < 10 && (await n.execute(cdb.testUnitReady())).status === 0x02; i++);
  const info = await probeLun(target, options.others === undefined ? nexuses[0]!.name : undefined);
  if (options.windowBlocks !== undefined && options.windowBlocks > info.blockCount) {
    throw new InvalidArgumentError(`${where}: windowBlocks must be at most the LUN's ${info.blockCount} blocks, got ${options.windowBlocks}`);
  }
  const windowBlocks = options.windowBlocks ?? Math.min(64, info.blockCount);
  const first = info.blockCount - windowBlocks;
  const ops = opsOf(info, options.ops === undefined ? undefined : new Set(options.ops), first === 0);
  // Persistent reservations need two nexuses to mean anything; with them, the SCSI-2 RESERVE and
  // RELEASE are left out (their interplay, SPC-4 5.13.3, is not in the model).
  if (nexuses.length < 2) {
    ops.delete('PERSISTENT RESERVE IN');
    ops.delete('PERSISTENT RESERVE OUT');
  }
  const pr = await prSpaceOf(info, ops, nexuses[0]!);
  if (pr !== undefined) {
    ops.delete('RESERVE(6)');
    ops.delete('RELEASE(6)');
  } else {
    ops.delete('PERSISTENT RESERVE IN');
    ops.delete('PERSISTENT RESERVE OUT');
  }
  if (ops.size === 0) throw new InvalidArgumentError(`${where}: the target offers none of the ops asked for (${[...options.ops!].join(', ')})`);
  const ws = await writeSameBits(nexuses[0]!);
  const maxBlocks = Math.max(1, Math.min(16, windowBlocks, info.maxTransferBlocks || 16));
  const space: CommandSpace = {
    blockSize: info.blockSize,
    blockCount: info.blockCount,
    first,
    maxBlocks,
    ops,
    ...(info.designator === undefined ? {} : { designator: info.designator }),
    maxCompareAndWriteBlocks: info.maxCompareAndWriteBlocks,
    maxWriteSameBlocks: info.maxWriteSameBlocks,
    maxUnmapDescriptors: info.maxUnmapDescriptors,
    maxSegments: info.copyManager?.maxSegmentDescriptors ?? 4,
    maxTransferBlocks: info.maxTransferBlocks,
    writeSameNdob: ws.ndob,
    writeSameUnmap: ws.unmap,
    writeSame10Unmap: ws.unmap10,
    ...(pr === undefined ? {} : { pr }),
  };
  const capabilities: TargetCapabilities = { blockSize: info.blockSize, blockCount: info.blockCount, window: { lba: first, blocks: windowBlocks }, ops: KIT_OPS.filter((o) => ops.has(o)), unmappedReadsZero: info.unmappedReadsZero, nexuses: nexuses.length };
  return { nexuses, space, capabilities };
}
