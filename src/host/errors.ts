/**
 * The error host-side paths throw when a command they cannot route around fails.
 * @module
 */
import { decodeSense, type DecodedSense } from '../codec/sense-decoder.js';
import { VaaiSimError } from '../array/errors.js';
import type { ScsiResult } from '../scsi/outcome.js';

/** A SCSI command failed and the host path has no fallback for it. */
export class HostIoError extends VaaiSimError {
  /** The command's operation code. */
  readonly opcode: number;
  /** Its status. */
  readonly status: number;
  /** Its sense, decoded, when there was sense. */
  readonly sense: DecodedSense | undefined;

  /** @param what - which step failed; @param cdb - the command; @param result - its result */
  constructor(what: string, cdb: Uint8Array, result: ScsiResult) {
    const sense = decodeSense(result.sense);
    const detail = sense === undefined ? '' : ` sense ${sense.key.toString(16)}/${sense.asc.toString(16).padStart(2, '0')}/${sense.ascq.toString(16).padStart(2, '0')}${sense.reason ? ` ${sense.reason}` : ''}`;
    super('ERR_HOST_IO', `${what}: opcode ${cdb[0]!.toString(16).padStart(2, '0')}h failed with status ${result.status.toString(16).padStart(2, '0')}h${detail}`);
    this.opcode = cdb[0]!;
    this.status = result.status;
    this.sense = sense;
  }
}
