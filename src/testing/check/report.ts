/**
 * The check's report: the steps of a run as a counterexample lists them, what the target offers,
 * the result of {@link checkTarget}, and results and reports as text.
 * @module
 */
import { decodeSense } from '../../codec/sense-decoder.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import type { BlockRange, KitCommand } from '../commands.js';

/** One step of a run, as a counterexample lists it. */
export interface StepRecord {
  /** The nexus that sent it (several for a race). */
  readonly nexus: string;
  /** The command, decoded. */
  readonly command: string;
  /** What the model expected. */
  readonly expected: string;
  /** What came back. */
  readonly actual: string;
  /** Whether they agree. */
  readonly ok: boolean;
}

/** What the target offers, as the check found it. */
export interface TargetCapabilities {
  /** Logical block size. */
  readonly blockSize: number;
  /** Number of logical blocks. */
  readonly blockCount: number;
  /** The window the check works in. */
  readonly window: BlockRange;
  /** Commands the check sends. */
  readonly ops: readonly KitCommand['op'][];
  /** LBPRZ: unmapped blocks read zero (otherwise their content is not checked). */
  readonly unmappedReadsZero: boolean;
  /** Number of nexuses. */
  readonly nexuses: number;
}

/** A shrunk counterexample. */
export interface Counterexample {
  /** The steps of the failing run, up to and including the one that failed. */
  readonly steps: readonly StepRecord[];
  /** What failed. */
  readonly failure: string;
}

/** The result of {@link checkTarget}. */
export interface CheckReport {
  /** True when every run agreed with the model. */
  readonly passed: boolean;
  /** Runs executed. */
  readonly runs: number;
  /** Commands executed, over all runs (shrinking included). */
  readonly commands: number;
  /** What the target offers. */
  readonly capabilities: TargetCapabilities;
  /** fast-check seed of the check. */
  readonly seed: number;
  /** fast-check path of the counterexample. */
  readonly path?: string;
  /** The shrunk counterexample, when a run failed. */
  readonly counterexample?: Counterexample;
}

/** SAM status RESERVATION CONFLICT. */
export const RESERVATION_CONFLICT = 0x18;

/** A byte as two hex digits. */
export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** A result as one line: status, sense and the amount of Data-In. */
export function describeResult(r: ScsiResult): string {
  if (r.status === 0) return r.data !== undefined && r.data.length > 0 ? `GOOD, ${r.data.length} bytes` : 'GOOD';
  if (r.status === RESERVATION_CONFLICT) return 'RESERVATION CONFLICT';
  if (r.status === 0x02) {
    const s = decodeSense(r.sense);
    if (s === undefined) return 'CHECK CONDITION (no sense)';
    return `CHECK CONDITION ${hex2(s.key)}/${hex2(s.asc)}/${hex2(s.ascq)}${s.information === undefined ? '' : ` INFORMATION ${s.information}`}`;
  }
  return `status ${hex2(r.status)}h`;
}

/** The report as text: what was checked, and the counterexample step by step. */
export function formatReport(report: CheckReport): string {
  const c = report.capabilities;
  const lines = [
    `checkTarget: ${report.passed ? 'PASSED' : 'FAILED'} after ${report.runs} runs, ${report.commands} commands (seed ${report.seed}${report.path === undefined ? '' : `, path ${report.path}`})`,
    `  LUN: ${c.blockCount} blocks of ${c.blockSize} bytes; window LBA ${c.window.lba}..${c.window.lba + c.window.blocks - 1}; ${c.nexuses} nexus(es); LBPRZ ${c.unmappedReadsZero ? 1 : 0}`,
    `  commands: ${c.ops.join(', ')}`,
  ];
  const x = report.counterexample;
  if (x !== undefined) {
    lines.push(`  counterexample (${x.steps.length} steps):`);
    x.steps.forEach((s, i) => lines.push(`  ${String(i + 1).padStart(3)}. ${s.ok ? '  ' : '✗ '}[${s.nexus}] ${s.command}`, `         expected: ${s.expected}`, `         actual:   ${s.actual}`));
    lines.push(`  failure: ${x.failure}`);
  }
  return lines.join('\n');
}
