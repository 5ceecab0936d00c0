/**
 * An I/O filter chain in front of a disk, as a hypervisor's I/O stack has one: an ordered list of
 * filters that each see every command on the way down and its result on the way up, and can pass,
 * alter, fail or delay it, or issue commands of their own to the layers below. The chain keeps the
 * `execute` contract, so every host-side path (data mover, zeroing, lock manager) works through it
 * unchanged.
 *
 * After each command the chain works out which blocks it changed ({@link changesOf}), offloads
 * included, and tells every filter. The destination of an EXTENDED COPY may be another disk: the
 * chains of one host share a {@link FilterDomain}, which hands such changes to the chain of the
 * disk the copy named.
 * @module
 */
import { checkOptions, is, type ValueCheck } from '../../common/errors.js';
import { toHex as hex } from '../../codec/bytes.js';
import type { ExecuteOptions } from '../../scsi/context.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import { probeLun } from '../probe.js';
import type { ScsiTarget } from '../target.js';
import { changesOf, type LbaRange } from './changes.js';

/** A command on its way down a chain. */
export interface FilterRequest {
  /** The CDB. */
  readonly cdb: Uint8Array;
  /** The Data-Out buffer. */
  readonly dataOut: Uint8Array | undefined;
  /** Execute options (initiator, Data-In buffer). */
  readonly options: ExecuteOptions | undefined;
}

/** Passes a (possibly altered) command to the next layer down. */
export type NextLayer = (request: FilterRequest) => Promise<ScsiResult>;

/** Why blocks changed. */
export interface ChangeCause {
  /** The operation code of the command that changed them. */
  readonly opcode: number;
  /** Whether the command completed with GOOD (otherwise the change is possible, not certain). */
  readonly good: boolean;
  /** The command (for an EXTENDED COPY, its parameter list is the Data-Out). */
  readonly cdb: Uint8Array;
  /** Its Data-Out. */
  readonly dataOut: Uint8Array | undefined;
}

/** One filter of a chain. Every hook is optional. */
export interface IoFilter {
  /** A name, for reports. */
  readonly name: string;
  /**
   * Sees a command on the way down and its result on the way up. Call `next` to pass it on (the
   * same request, or an altered one); return a result without calling it to fail or answer it here;
   * await anything before or after to delay it.
   */
  execute?(request: FilterRequest, next: NextLayer): Promise<ScsiResult>;
  /** Blocks of this chain's disk that a command changed (or may have), offloads included. */
  changed?(ranges: readonly LbaRange[], cause: ChangeCause): void | Promise<void>;
  /** The chain the filter was added to: a filter may issue commands of its own with {@link FilterChain.issueBelow}. */
  attached?(chain: FilterChain): void;
}

/** The chains of one host, by the designator of their disk, so that EXTENDED COPY destinations reach the right chain. */
export class FilterDomain {
  readonly #chains = new Map<string, FilterChain>();

  /** Registers `chain` under its disk's designator. */
  register(chain: FilterChain, designator: Uint8Array): void {
    this.#chains.set(hex(designator), chain);
  }

  /** The chain of the disk with `designator`, if one is registered. */
  chainOf(designator: Uint8Array): FilterChain | undefined {
    return this.#chains.get(hex(designator));
  }
}

/** Options of {@link FilterChain.create}. */
export interface FilterChainOptions {
  /** The filters, top (first to see a command) to bottom. */
  readonly filters?: readonly IoFilter[];
  /** The domain that connects this chain with the host's other chains. */
  readonly domain?: FilterDomain;
  /** Initiator name used for the chain's own probing commands. */
  readonly initiator?: string;
}

/** A filter: an object with a `name` (its hooks are optional). */
const isFilter: ValueCheck = (v, what) => {
  is.object(v, what);
  is.string((v as { name?: unknown }).name, `${what}.name`);
};

/** What {@link FilterChain.create} accepts. */
const FILTER_CHAIN_OPTIONS = {
  filters: is.array(isFilter),
  domain: is.instanceOf(FilterDomain, 'FilterDomain'),
  initiator: is.string,
} as const satisfies Record<keyof FilterChainOptions, ValueCheck>;

/** A disk seen through an ordered chain of filters; itself a {@link ScsiTarget}. */
export class FilterChain implements ScsiTarget {
  readonly #filters: IoFilter[];
  readonly #domain: FilterDomain | undefined;
  /** The disk's number of blocks and designator, read at creation. */
  readonly blockCount: number;
  /** Logical block size. */
  readonly blockSize: number;
  /** The disk's designator (VPD 83h, NAA), when it has one. */
  readonly designator: Uint8Array | undefined;

  private constructor(
    /** The disk below the chain. */
    readonly target: ScsiTarget,
    filters: readonly IoFilter[],
    domain: FilterDomain | undefined,
    geometry: { blockCount: number; blockSize: number; designator: Uint8Array | undefined },
  ) {
    this.#filters = [...filters];
    this.#domain = domain;
    this.blockCount = geometry.blockCount;
    this.blockSize = geometry.blockSize;
    this.designator = geometry.designator;
  }

  /** Builds a chain in front of `target`: reads its capacity and designator, registers it with the domain. */
  static async create(target: ScsiTarget, options: FilterChainOptions = {}): Promise<FilterChain> {
    is.target(target, 'FilterChain.create: target');
    checkOptions(options, FILTER_CHAIN_OPTIONS, 'FilterChain.create');
    const info = await probeLun(target, options.initiator);
    const designator = info.designator?.bytes;
    const chain = new FilterChain(target, options.filters ?? [], options.domain, { blockCount: info.blockCount, blockSize: info.blockSize, designator });
    if (designator !== undefined) options.domain?.register(chain, designator);
    for (const f of chain.#filters) f.attached?.(chain);
    return chain;
  }

  /** The filters, top to bottom. */
  get filters(): readonly IoFilter[] {
    return this.#filters;
  }

  /** Adds a filter at the bottom of the chain (closest to the disk). */
  add(filter: IoFilter): void {
    this.#filters.push(filter);
    filter.attached?.(this);
  }

  /** Removes a filter. */
  remove(filter: IoFilter): void {
    const i = this.#filters.indexOf(filter);
    if (i >= 0) this.#filters.splice(i, 1);
  }

  /** Executes a command through every filter, top to bottom. */
  async execute(c: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    return await this.#run(0, { cdb: c, dataOut, options });
  }

  /** Executes a command for `filter`, through the filters below it only (a filter's own I/O is not seen by itself or those above). */
  async issueBelow(filter: IoFilter, c: Uint8Array, dataOut?: Uint8Array, options?: ExecuteOptions): Promise<ScsiResult> {
    const i = this.#filters.indexOf(filter);
    return await this.#run(i < 0 ? this.#filters.length : i + 1, { cdb: c, dataOut, options });
  }

  async #run(from: number, request: FilterRequest): Promise<ScsiResult> {
    const layer = async (i: number, r: FilterRequest): Promise<ScsiResult> => {
      const f = this.#filters[i];
      if (f === undefined) return await this.#bottom(r);
      if (f.execute === undefined) return await layer(i + 1, r);
      return await f.execute(r, (next) => layer(i + 1, next));
    };
    return await layer(from, request);
  }

  /** The disk's own answer, then the change notifications. */
  async #bottom(r: FilterRequest): Promise<ScsiResult> {
    const result = await this.target.execute(r.cdb, r.dataOut, r.options);
    const changes = changesOf(r.cdb, r.dataOut, result, this.blockCount);
    const cause: ChangeCause = { opcode: r.cdb[0]!, good: result.status === 0, cdb: r.cdb, dataOut: r.dataOut };
    if (changes.own.length > 0) await this.notify(changes.own, cause);
    for (const f of changes.byDesignator) {
      const chain = this.designator !== undefined && hex(f.designator) === hex(this.designator) ? this : this.#domain?.chainOf(f.designator);
      await chain?.notify(f.ranges, cause);
    }
    return result;
  }

  /** Tells every filter of this chain that `ranges` changed. */
  async notify(ranges: readonly LbaRange[], cause: ChangeCause): Promise<void> {
    for (const f of this.#filters) await f.changed?.(ranges, cause);
  }
}
