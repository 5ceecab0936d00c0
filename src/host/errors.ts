/**
 * The errors host-side paths throw: a command they cannot route around failed, or the logical unit
 * they were pointed at does not exist.
 * @module
 */
import { decodeSense, type DecodedSense } from '../codec/sense-decoder.js';
import { VaaiSimError } from '../common/errors.js';
import type { ScsiResult } from '../scsi/outcome.js';

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Sense as `key/asc/ascq` in hex, followed by its name when the sense table has one: `5/25/00 LOGICAL_UNIT_NOT_SUPPORTED`. */
export function formatSense(sense: DecodedSense): string {
  return `${sense.key.toString(16)}/${hex2(sense.asc)}/${hex2(sense.ascq)}${sense.reason ? ` ${sense.reason}` : ''}`;
}

/** A SCSI command failed and the host path has no fallback for it. */
export class HostIoError extends VaaiSimError {
  /** The command's operation code. */
  readonly opcode: number;
  /** Its status. */
  readonly status: number;
  /** Its sense, decoded, when there was sense. */
  readonly sense: DecodedSense | undefined;

  /**
   * @param what - which step failed; @param cdb - the command; @param result - its result
   * @param problem - what was wrong when the status was GOOD (e.g. too little Data-In)
   */
  constructor(what: string, cdb: Uint8Array, result: ScsiResult, problem?: string) {
    const sense = decodeSense(result.sense);
    const detail = problem ?? `failed with status ${hex2(result.status)}h${sense === undefined ? '' : ` sense ${formatSense(sense)}`}`;
    super('ERR_HOST_IO', `${what}: opcode ${hex2(cdb[0]!)}h ${detail}`);
    this.opcode = cdb[0]!;
    this.status = result.status;
    this.sense = sense;
  }
}

/**
 * The logical unit does not exist: the target answered CHECK CONDITION with ILLEGAL REQUEST,
 * LOGICAL UNIT NOT SUPPORTED (05/25/00), as it does for a LUN it does not have (or does not let
 * this I_T nexus reach).
 */
export class LogicalUnitNotFoundError extends VaaiSimError {
  /** The logical unit as the target was described (`ScsiTarget.description`), or 'the logical unit'. */
  readonly lun: string;
  /** The sense the target answered with. */
  readonly sense: DecodedSense;

  /** @param lun - which logical unit; @param command - the command that found out; @param sense - its sense */
  constructor(lun: string, command: string, sense: DecodedSense) {
    super('ERR_LUN_NOT_FOUND', `${lun} not found: ${command} answered CHECK CONDITION, sense ${formatSense(sense)}`);
    this.lun = lun;
    this.sense = sense;
  }
}
