/**
 * SANITIZE (SBC-4 5.30, sanitize operations 4.11): OVERWRITE (01h), BLOCK ERASE (02h),
 * CRYPTOGRAPHIC ERASE (03h) and EXIT FAILURE MODE (1Fh), on thin LUNs.
 *
 * BLOCK ERASE and CRYPTOGRAPHIC ERASE are metadata work: every allocation unit of the LUN goes back
 * to the pool, after which each block reads as zeros (LBPRZ = 1) and GOOD (WABEREQ = WACEREQ = 01b);
 * they end before status is returned. OVERWRITE writes its initialization pattern over every block,
 * OVERWRITE COUNT times, through the block store as a host write does (pool accounting, zero
 * detection), at the LUN's media overwrite rate ({@link Lun.sanitizeOverwriteRate}): the sanitize
 * is in progress for as long as that takes, and meanwhile every command but INQUIRY, REPORT LUNS and
 * REQUEST SENSE answers NOT READY / SANITIZE IN PROGRESS with the progress indication. The
 * operation lives on the LUN ({@link SanitizeState}), not on the command: resets, aborts and nexus
 * loss do not stop it. An overwrite that runs out of pool space leaves the LUN in sanitize failure
 * mode (MEDIUM ERROR / SANITIZE COMMAND FAILED to media access) until a sanitize succeeds or, after
 * a failed sanitize with AUSE = 1, EXIT FAILURE MODE. docs/decisions/sanitize.md.
 * @module
 */
import { readU16 } from '../../codec/bytes.js';
import { Opcode } from '../../spec/opcodes.js';
import { defineCommand, type CommandSpec, type Decoded } from '../command.js';
import type { CommandContext } from '../context.js';
import type { Lun } from '../logical-unit.js';
import { GOOD, fail, goodWith, invalidCdbField, invalidParameterField, type Failure, type Outcome } from '../outcome.js';

/** @internal SANITIZE service actions (SBC-4 table 83). */
export const SanitizeAction = Object.freeze({
  OVERWRITE: 0x01,
  BLOCK_ERASE: 0x02,
  CRYPTOGRAPHIC_ERASE: 0x03,
  EXIT_FAILURE_MODE: 0x1f,
} as const);

/** Default media overwrite rate of SANITIZE OVERWRITE: 100 MiB/s (a 1 GiB LUN takes about ten seconds a pass). */
export const DEFAULT_SANITIZE_OVERWRITE_RATE = 100 * 2 ** 20;

/** How often a running overwrite writes the bytes its rate allows (ms). */
const TICK_MS = 100;

/** Largest pattern buffer written at once (bytes). */
const CHUNK_BYTES = 4 * 2 ** 20;

/**
 * Commands a device server processes while a sanitize operation is in progress (SBC-4 4.11.1; the
 * array implements no LOG SENSE): every other command is NOT READY / SANITIZE IN PROGRESS.
 */
const ALLOWED_DURING_SANITIZE: ReadonlySet<number> = new Set([Opcode.INQUIRY, Opcode.REPORT_LUNS, Opcode.REQUEST_SENSE]);

/**
 * Commands that do not access the medium, which sanitize failure mode leaves alone (SBC-4 4.11.3):
 * the ones allowed during a sanitize, SANITIZE itself, and the commands that report or change only
 * the logical unit's state.
 */
const ALLOWED_IN_FAILURE_MODE: ReadonlySet<number> = new Set([
  ...ALLOWED_DURING_SANITIZE,
  Opcode.TEST_UNIT_READY,
  Opcode.SANITIZE,
  Opcode.MODE_SELECT_6,
  Opcode.MODE_SELECT_10,
  Opcode.MODE_SENSE_6,
  Opcode.MODE_SENSE_10,
  Opcode.RESERVE_6,
  Opcode.RELEASE_6,
  Opcode.RESERVE_10,
  Opcode.RELEASE_10,
  Opcode.READ_CAPACITY_10,
  Opcode.SERVICE_ACTION_IN_16,
  Opcode.MAINTENANCE_IN,
  Opcode.READ_DEFECT_DATA_10,
  Opcode.READ_DEFECT_DATA_12,
  Opcode.RECEIVE_COPY_RESULTS,
]);

/** One OVERWRITE as it runs. */
interface Overwrite {
  /** One CHUNK_BYTES (or LUN-sized) run of blocks holding the pattern, and its inversion. */
  readonly plain: Uint8Array;
  readonly inverted: Uint8Array | undefined;
  readonly passes: number;
  readonly ause: boolean;
  readonly totalBytes: number;
  doneBytes: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The IMMED = 0 commands waiting for the end (at most one: a second SANITIZE is not admitted). */
  readonly waiters: ((outcome: Outcome) => void)[];
}

/**
 * @internal The sanitize state of one LUN (SBC-4 4.11): an OVERWRITE in progress, or sanitize failure
 * mode after one failed. It is the LUN's, not a command's: LOGICAL UNIT RESET, task aborts and I_T
 * nexus loss leave it as it is.
 */
export class SanitizeState {
  readonly #lun: Lun;
  #running: Overwrite | undefined;
  /** Sanitize failure mode: the AUSE bit of the SANITIZE that failed, or undefined when not in it. */
  #failedAuse: boolean | undefined;

  constructor(lun: Lun) {
    this.#lun = lun;
  }

  /** True while an OVERWRITE is in progress. */
  get inProgress(): boolean {
    return this.#running !== undefined;
  }

  /** True in sanitize failure mode. */
  get failed(): boolean {
    return this.#failedAuse !== undefined;
  }

  /** PROGRESS INDICATION (SPC-5 4.4.2.4.4): the fraction done, numerator over 65536. */
  get progress(): number {
    const r = this.#running;
    if (r === undefined) return 0;
    return Math.min(0xffff, Math.floor((r.doneBytes / r.totalBytes) * 65536));
  }

  /**
   * What admission answers instead of running a command with `opcode`: NOT READY / SANITIZE IN
   * PROGRESS with the progress while a sanitize runs, MEDIUM ERROR / SANITIZE COMMAND FAILED to a
   * media access in sanitize failure mode; undefined when the command may run.
   */
  refusal(opcode: number): Failure | undefined {
    if (this.#running !== undefined) return ALLOWED_DURING_SANITIZE.has(opcode) ? undefined : this.inProgressSense();
    if (this.#failedAuse !== undefined && !ALLOWED_IN_FAILURE_MODE.has(opcode)) return fail('SANITIZE_COMMAND_FAILED');
    return undefined;
  }

  /** The sense of a sanitize in progress (02/04/1B, SKSV with the PROGRESS INDICATION), for admission and REQUEST SENSE. */
  inProgressSense(): Failure {
    return fail('SANITIZE_IN_PROGRESS', { progress: this.progress });
  }

  /** A sanitize completed: sanitize failure mode ends (SBC-4 4.11.3). */
  succeeded(): void {
    this.#failedAuse = undefined;
  }

  /**
   * EXIT FAILURE MODE: leaves sanitize failure mode when the SANITIZE that failed had AUSE = 1;
   * false when it had AUSE = 0 (the command is then INVALID FIELD IN CDB).
   */
  exitFailureMode(): boolean {
    if (this.#failedAuse === false) return false;
    this.#failedAuse = undefined;
    return true;
  }

  /**
   * Starts an OVERWRITE of `passes` passes of `pattern` (repeated across each block; inverted on
   * every second pass when `invert`). Returns the outcome of the whole operation, when it ends.
   */
  startOverwrite(pattern: Uint8Array, passes: number, invert: boolean, ause: boolean): Promise<Outcome> {
    const lun = this.#lun;
    const bs = lun.blockSize;
    const chunk = Math.min(lun.sizeBytes, Math.max(bs, Math.floor(CHUNK_BYTES / bs) * bs));
    const plain = new Uint8Array(chunk);
    // A pattern shorter than the block repeats from each block's first byte (SBC-4 5.30.2.3).
    for (let b = 0; b < chunk; b += bs) for (let i = 0; i < bs; i++) plain[b + i] = pattern[i % pattern.length]!;
    const inverted = invert && passes > 1 ? plain.map((x) => x ^ 0xff) : undefined;
    const op: Overwrite = { plain, inverted, passes, ause, totalBytes: passes * lun.sizeBytes, doneBytes: 0, timer: undefined, waiters: [] };
    this.#running = op;
    const done = new Promise<Outcome>((resolve) => op.waiters.push(resolve));
    this.#schedule(op);
    return done;
  }

  #schedule(op: Overwrite): void {
    op.timer = setTimeout(() => this.#tick(op), TICK_MS);
    // A sanitize in progress does not keep a process alive by itself (a server does).
    (op.timer as { unref?: () => void }).unref?.();
  }

  /** Writes what the rate allows for one tick, then schedules the next, or ends the operation. */
  #tick(op: Overwrite): void {
    const lun = this.#lun;
    if (this.#running !== op) return;
    if (lun.array.getLun(lun.id) !== lun) {
      this.#running = undefined; // the LUN was deleted: nothing left to sanitize
      return;
    }
    const bs = lun.blockSize;
    const budget = Math.max(bs, Math.floor((lun.sanitizeOverwriteRate * TICK_MS) / 1000 / bs) * bs);
    const end = Math.min(op.totalBytes, op.doneBytes + budget);
    const store = lun.store;
    const pool = lun.array.pool;
    const zeroDetect = lun.array.zeroDetect;
    while (op.doneBytes < end) {
      const pass = Math.floor(op.doneBytes / lun.sizeBytes);
      const offset = op.doneBytes - pass * lun.sizeBytes;
      const length = Math.min(end - op.doneBytes, lun.sizeBytes - offset, op.plain.length);
      const source = (pass % 2 === 1 ? op.inverted : undefined) ?? op.plain;
      const piece = source.subarray(0, length);
      if (store.writeNeed(offset, length, zeroDetect ? piece : undefined) > pool.freeUnits) {
        this.#end(op, fail('SANITIZE_COMMAND_FAILED'));
        return;
      }
      store.write(offset, piece, zeroDetect);
      op.doneBytes += length;
    }
    if (pool.dirty) lun.array.settle();
    if (op.doneBytes >= op.totalBytes) this.#end(op, goodWith({ mediaWriteBytes: op.totalBytes }));
    else this.#schedule(op);
  }

  #end(op: Overwrite, outcome: Outcome): void {
    this.#running = undefined;
    if (op.timer !== undefined) clearTimeout(op.timer);
    if (this.#lun.array.pool.dirty) this.#lun.array.settle();
    this.#failedAuse = 'fail' in outcome ? op.ause : undefined;
    for (const resolve of op.waiters.splice(0)) resolve(outcome);
  }
}

/** A decoded SANITIZE: its IMMED and AUSE bits, and the OVERWRITE parameters once the list is decoded. */
interface SanitizeCommand extends Decoded {
  readonly immed: boolean;
  readonly ause: boolean;
  readonly pattern?: Uint8Array;
  readonly passes?: number;
  readonly invert?: boolean;
}

/** Byte 1: IMMED (bit 7), reserved (bit 6), AUSE (bit 5), SERVICE ACTION (4:0); bytes 2-6 reserved (SBC-4 5.30.1). */
function decodeCommon(cdb: Uint8Array, parameterListLength: number): SanitizeCommand | Failure {
  if ((cdb[1]! & 0x40) !== 0) return invalidCdbField(1, 6);
  for (let i = 2; i <= 6; i++) if (cdb[i] !== 0) return invalidCdbField(i);
  return { dataOutLength: parameterListLength, immed: (cdb[1]! & 0x80) !== 0, ause: (cdb[1]! & 0x20) !== 0 };
}

/** BLOCK ERASE, CRYPTOGRAPHIC ERASE, EXIT FAILURE MODE: PARAMETER LIST LENGTH must be zero (SBC-4 5.30.1). */
function decodeNoList(cdb: Uint8Array): SanitizeCommand | Failure {
  if (readU16(cdb, 7) !== 0) return invalidCdbField(7);
  return decodeCommon(cdb, 0);
}

/** OVERWRITE: PARAMETER LIST LENGTH 5 .. logical block length + 4, else INVALID FIELD IN CDB (SBC-4 5.30.2.2). */
function decodeOverwrite(cdb: Uint8Array, ctx: CommandContext): SanitizeCommand | Failure {
  const length = readU16(cdb, 7);
  if (length < 5 || length > ctx.lun.blockSize + 4) return invalidCdbField(7);
  return decodeCommon(cdb, length);
}

/**
 * The OVERWRITE parameter list (SBC-4 5.30.2.3): byte 0 INVERT (bit 7), TEST (6:5), OVERWRITE COUNT
 * (4:0); byte 1 reserved; bytes 2-3 INITIALIZATION PATTERN LENGTH; the pattern. TEST other than 00b
 * (no test modes), OVERWRITE COUNT 0, byte 1 non-zero, a pattern length of 0, above the logical
 * block length, or other than the list's length minus 4 are INVALID FIELD IN PARAMETER LIST at that field.
 */
function decodeOverwriteList(cmd: SanitizeCommand, list: Uint8Array, ctx: CommandContext): SanitizeCommand | Failure {
  const b0 = list[0]!;
  if ((b0 & 0x60) !== 0) return invalidParameterField(0, 6);
  const passes = b0 & 0x1f;
  if (passes === 0) return invalidParameterField(0, 4);
  if (list[1] !== 0) return invalidParameterField(1);
  const patternLength = readU16(list, 2);
  if (patternLength === 0 || patternLength > ctx.lun.blockSize || patternLength !== list.length - 4) return invalidParameterField(2);
  return { ...cmd, pattern: list.slice(4), passes, invert: (b0 & 0x80) !== 0 };
}

/** Starts the overwrite: GOOD at once with IMMED = 1, else the operation's outcome when it ends. */
function overwrite(cmd: SanitizeCommand, _dataOut: Uint8Array, ctx: CommandContext): Outcome | Promise<Outcome> {
  const done = ctx.lun.sanitizeState.startOverwrite(cmd.pattern!, cmd.passes!, cmd.invert!, cmd.ause);
  return cmd.immed ? GOOD : done;
}

/** Returns every allocation unit of the LUN to the pool: reads then return zeros (LBPRZ = 1). */
function erase(_cmd: SanitizeCommand, _dataOut: Uint8Array, ctx: CommandContext): Outcome {
  const lun = ctx.lun;
  const bytes = lun.blockCount * lun.blockSize;
  const deallocated = bytes - lun.store.unmap(0, bytes);
  lun.sanitizeState.succeeded();
  return goodWith({ deallocatedBytes: deallocated });
}

/**
 * Leaves sanitize failure mode (GOOD; also GOOD when not in it). After a failed SANITIZE with AUSE = 0
 * only a new successful sanitize may leave it: INVALID FIELD IN CDB at the SERVICE ACTION (SBC-4 5.30.3).
 */
function exitFailureMode(_cmd: SanitizeCommand, _dataOut: Uint8Array, ctx: CommandContext): Outcome {
  return ctx.lun.sanitizeState.exitFailureMode() ? GOOD : invalidCdbField(1, 4);
}

/** CDB USAGE DATA: IMMED, AUSE and the SERVICE ACTION bits in byte 1, PARAMETER LIST LENGTH (7-8). */
function usage(): readonly number[] {
  return [Opcode.SANITIZE, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00];
}

function row(serviceAction: number, name: string, spec: Pick<CommandSpec<SanitizeCommand>, 'decode' | 'decodeData' | 'execute'>): CommandSpec {
  return defineCommand<SanitizeCommand>({
    opcode: Opcode.SANITIZE,
    serviceAction,
    name,
    cdbLength: 10,
    usage: usage(),
    supported: (lun) => lun.thin,
    writesMedium: true,
    ...spec,
  });
}

/** @internal */
export const SANITIZE_COMMANDS: readonly CommandSpec[] = [
  row(SanitizeAction.OVERWRITE, 'SANITIZE OVERWRITE', { decode: decodeOverwrite, decodeData: decodeOverwriteList, execute: overwrite }),
  row(SanitizeAction.BLOCK_ERASE, 'SANITIZE BLOCK ERASE', { decode: decodeNoList, execute: erase }),
  row(SanitizeAction.CRYPTOGRAPHIC_ERASE, 'SANITIZE CRYPTOGRAPHIC ERASE', { decode: decodeNoList, execute: erase }),
  row(SanitizeAction.EXIT_FAILURE_MODE, 'SANITIZE EXIT FAILURE MODE', { decode: decodeNoList, execute: exitFailureMode }),
];
