/**
 * Fixtures of the multipath tests: an array whose LUN is reached through N target ports (port i in
 * target port group `groups[i]`), one in-process path per port, and a multipath device over them,
 * everything on a SimClock so that no test waits on real time.
 */
import { expect } from 'vitest';
import { StorageArray, cdb, decodeSense, type Lun, type ScsiResult, type TargetPort } from '../../../src/index.js';
import { InProcessPath } from '../../../src/host/multipath/in-process-path.js';
import { MultipathDevice, type MultipathDeviceOptions, type MultipathEvents } from '../../../src/host/multipath/device.js';
import { SimClock } from '../../../src/host/sim/clock.js';
import type { ScsiTarget } from '../../../src/host/target.js';

export const BLOCK = 512;

export interface Rig {
  readonly array: StorageArray;
  readonly lun: Lun;
  readonly ports: TargetPort[];
  readonly paths: InProcessPath[];
  readonly clock: SimClock;
}

/** An array with one 16 MiB LUN behind `groups.length` target ports (port i in group groups[i], relative id i + 2). */
export function rig(groups: readonly number[] = [1, 2], options: { clock?: SimClock; initiator?: string } = {}): Rig {
  const array = new StorageArray({ capacityBytes: 64 << 20 });
  const lun = array.createLun({ sizeBytes: 16 << 20, blockSize: BLOCK });
  const clock = options.clock ?? new SimClock();
  const ports = groups.map((g, i) => array.addTargetPort({ name: `iqn.2026-11.test:array,t,0x${(i + 2).toString(16).padStart(4, '0')}`, relativeId: i + 2, groupId: g }));
  const paths = ports.map((p, i) => new InProcessPath(lun, p, { clock, initiator: options.initiator ?? 'iqn.2026-11.test:host', name: `p${i + 1}` }));
  return { array, lun, ports, paths, clock };
}

/** A device over every path of `r` on its clock (no checker unless asked). */
export async function device(r: Rig, options: Partial<MultipathDeviceOptions> = {}): Promise<MultipathDevice> {
  return await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, ...options });
}

/** Runs `main` on `r`'s clock. */
export async function sim<T>(r: Rig, main: () => Promise<T>): Promise<T> {
  return await r.clock.run(main);
}

/** Every event of `d` in order, as `name:detail` strings. */
export function record(d: MultipathDevice): string[] {
  const log: string[] = [];
  const names: Array<keyof MultipathEvents> = ['pathStateChanged', 'failover', 'groupStateChanged', 'allPathsDown', 'pathsRestored', 'deviceLost'];
  for (const name of names) d.on(name, (e) => log.push(`${name}:${JSON.stringify(e)}`));
  return log;
}

/** A one-block pattern. */
export function block(fill: number): Uint8Array {
  return new Uint8Array(BLOCK).fill(fill);
}

/** WRITE(16) one block at `lba`. */
export async function write(t: ScsiTarget, lba: number, fill: number): Promise<ScsiResult> {
  return await t.execute(cdb.write16({ lba, blocks: 1 }), block(fill));
}

/** READ(16) one block at `lba`: its first byte. */
export async function readFirst(t: ScsiTarget, lba: number): Promise<number> {
  const r = await t.execute(cdb.read16({ lba, blocks: 1 }));
  expect(r.status).toBe(0);
  return r.data![0]!;
}

/** Asserts status and, for CHECK CONDITION, key/asc/ascq. */
export function expectAnswer(r: ScsiResult, status: number, sense?: readonly [number, number, number]): void {
  expect(r.status).toBe(status);
  if (sense !== undefined) {
    const s = decodeSense(r.sense);
    expect([s?.key, s?.asc, s?.ascq]).toEqual([...sense]);
  }
}

/** CHECK CONDITION with fixed-format sense key/asc/ascq. */
export function checkCondition(key: number, asc: number, ascq: number): ScsiResult {
  const sense = new Uint8Array(18);
  sense[0] = 0x70;
  sense[2] = key;
  sense[7] = 10;
  sense[12] = asc;
  sense[13] = ascq;
  return { status: 2, sense };
}

/**
 * A path that answers the next commands with a scripted result instead of executing them (the
 * target refused them: nothing changes), then passes commands on. INQUIRY and REPORT TARGET PORT
 * GROUPS always pass, unless `all` is set, so that claiming and the SATP see the real array.
 */
export class ScriptedPath {
  readonly description: string;
  readonly inner: ScsiTarget;
  readonly #script: ScsiResult[] = [];
  #all = false;
  /** Opcodes the path was sent, in order (scripted ones included). */
  readonly sent: number[] = [];

  constructor(inner: InProcessPath) {
    this.inner = inner;
    this.description = inner.description;
  }

  /** Answers the next `count` commands with `result`. */
  answer(result: ScsiResult, count = 1, all = false): void {
    for (let i = 0; i < count; i++) this.#script.push(result);
    this.#all = all;
  }

  async execute(c: Uint8Array, d?: Uint8Array, o?: Parameters<MultipathDevice['execute']>[2]): Promise<ScsiResult> {
    this.sent.push(c[0]!);
    const passes = !this.#all && (c[0] === 0x12 || c[0] === 0xa3);
    if (!passes && this.#script.length > 0) return this.#script.shift()!;
    return await this.inner.execute(c, d, o);
  }
}
