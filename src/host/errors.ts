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

/**
 * A path refused a command it was to carry: the multipath device was given a path to another logical
 * unit (its VPD 83h logical-unit designator differs from the device's), or one it cannot identify.
 */
export class PathClaimError extends VaaiSimError {
  /** The path that was refused. */
  readonly path: string;

  /** @param path - the refused path's name; @param why - what did not match */
  constructor(path: string, why: string) {
    super('ERR_PATH_CLAIM', `path ${path} cannot be claimed: ${why}`);
    this.path = path;
  }
}

/**
 * A path lost the command in transport: its link is down (the connection dropped, a login refused),
 * or it did not answer within the path's command timeout. `sent` says whether the command may have
 * reached the target: false only when the path knows it never left the host.
 */
export class PathTransportError extends VaaiSimError {
  /** The path. */
  readonly path: string;
  /** False when the command certainly never reached the target; true when it may have executed. */
  readonly sent: boolean;
  /** 'down': the link failed; 'timeout': no answer within the command timeout. */
  readonly kind: 'down' | 'timeout';

  /** @param path - the path's name; @param kind - what happened; @param sent - whether the command may have executed */
  constructor(path: string, kind: 'down' | 'timeout', sent: boolean) {
    super('ERR_PATH_TRANSPORT', `path ${path}: ${kind === 'down' ? 'the link is down' : 'no answer within the command timeout'} (${sent ? 'the command may have executed' : 'the command was not sent'})`);
    this.path = path;
    this.kind = kind;
    this.sent = sent;
  }
}

/**
 * All paths down (APD): no path of a multipath device could carry the command, and none came back
 * within the device's APD timeout. The command was not executed on any path that answered.
 */
export class AllPathsDownError extends VaaiSimError {
  /** The device. */
  readonly device: string;
  /** How long the device had been without a path, in ms. */
  readonly waitedMs: number;

  /** @param device - the device's name; @param waitedMs - how long it had been without a path */
  constructor(device: string, waitedMs: number) {
    super('ERR_ALL_PATHS_DOWN', `${device}: all paths down for ${waitedMs} ms (the APD timeout); the command was not completed`);
    this.device = device;
    this.waitedMs = waitedMs;
  }
}

/**
 * Permanent device loss (PDL): every path of a multipath device answered LOGICAL UNIT NOT
 * SUPPORTED (05/25/00). The device takes no more commands.
 */
export class PermanentDeviceLossError extends VaaiSimError {
  /** The device. */
  readonly device: string;

  /** @param device - the device's name */
  constructor(device: string) {
    super('ERR_PERMANENT_DEVICE_LOSS', `${device}: permanent device loss (LOGICAL UNIT NOT SUPPORTED on every path)`);
    this.device = device;
  }
}

/**
 * A command that is not safe to re-issue (COMPARE AND WRITE, a reservation, an EXTENDED COPY onto its
 * own source, ...) was lost in transport after it may have reached the target: whether it executed
 * is unknown, and the multipath device does not replay it on another path, because a replay could
 * change its result (a COMPARE AND WRITE that succeeded would miscompare). The caller finds out what
 * happened (the lock manager re-reads the lock block) and decides.
 */
export class OutcomeUnknownError extends VaaiSimError {
  /** The device. */
  readonly device: string;
  /** The path the command was lost on. */
  readonly path: string;
  /** The command. */
  readonly cdb: Uint8Array;
  /** The transport failure. */
  override readonly cause: Error;

  /** @param device - the device; @param path - the path; @param cdb - the command; @param cause - the transport failure */
  constructor(device: string, path: string, cdb: Uint8Array, cause: Error) {
    super('ERR_OUTCOME_UNKNOWN', `${device}: opcode ${hex2(cdb[0] ?? 0)}h was lost on path ${path} after it may have executed (${cause.message}); it is not re-issued because a replay could change its result`);
    this.device = device;
    this.path = path;
    this.cdb = cdb.slice();
    this.cause = cause;
  }
}

/** A fencing step failed with an answer the node cannot act on (the step, its status and sense are kept). */
export class FencingError extends VaaiSimError {
  /** The node. */
  readonly node: string;
  /** The step: `register`, `reserve`, `preempt`, `read keys`, ... */
  readonly step: string;
  /** The status the target answered. */
  readonly status: number;
  /** The sense, decoded, when there was sense. */
  readonly sense: DecodedSense | undefined;

  /** @param node - the node's name; @param step - what it was doing; @param result - the answer */
  constructor(node: string, step: string, result: ScsiResult) {
    const sense = decodeSense(result.sense);
    super('ERR_FENCING', `${node}: ${step} answered status ${result.status.toString(16).padStart(2, '0')}h${sense === undefined ? '' : ` sense ${formatSense(sense)}`}`);
    this.node = node;
    this.step = step;
    this.status = result.status;
    this.sense = sense;
  }
}

/**
 * This node has been fenced: its key is no longer registered, so the target refused a
 * persistent-reservation command of it with RESERVATION CONFLICT (SPC-4 5.13.11: PREEMPT, RESERVE
 * and RELEASE need a registered I_T nexus). It must register again.
 */
export class NodeFencedError extends VaaiSimError {
  /** The node. */
  readonly node: string;
  /** The step that found out. */
  readonly step: string;

  /** @param node - the node's name; @param step - the step that was refused */
  constructor(node: string, step: string) {
    super('ERR_NODE_FENCED', `${node}: ${step} got RESERVATION CONFLICT: this node's key is not registered (it was fenced); register again before using the disk`);
    this.node = node;
    this.step = step;
  }
}
