/**
 * The model-based property must be able to fail (style.md item 9): each case below breaks the array
 * in one small, plausible way (by patching a prototype for the duration of the check, then restoring
 * it) and asserts that the very property `array.model.test.ts` runs finds a counterexample.
 *
 * Every check uses a fixed seed, and the same seed is first run against the intact array (the
 * control) and must pass there, so a failure can only come from the injected bug.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockStore, type CopyOutcome, type CopyTally } from '../../src/array/block-store.js';
import { ThinPool } from '../../src/array/thin-pool.js';
import { BLOCK_SIZE, arrayMatchesModel, configName, type ModelConfig } from './model-commands.js';

const NUM_RUNS = 300;
const MAX_COMMANDS = 60;
const SEED = 20240611;

/** Replaces `key` of `target` (a method or a getter) while `fn` runs. */
function withPatch<T extends object>(target: T, key: string, descriptor: PropertyDescriptor, fn: () => void): void {
  const original = Object.getOwnPropertyDescriptor(target, key);
  if (original === undefined) throw new Error(`no ${key} to patch`);
  Object.defineProperty(target, key, { ...original, ...descriptor });
  try {
    fn();
  } finally {
    Object.defineProperty(target, key, original);
  }
}

type Method<K extends keyof BlockStore> = BlockStore[K] extends (...args: infer A) => infer R ? (this: BlockStore, ...args: A) => R : never;
const original = {
  copyFrom: BlockStore.prototype.copyFrom as Method<'copyFrom'>,
  compare: BlockStore.prototype.compare as Method<'compare'>,
  write: BlockStore.prototype.write as Method<'write'>,
  zero: BlockStore.prototype.zero as Method<'zero'>,
};

const SHARE: ModelConfig = { mode: 'share' };
const COPY: ModelConfig = { mode: 'copy' };
const SHARE_ZERO_DETECT: ModelConfig = { mode: 'share', zeroDetect: true };

interface Breakage {
  /** What is broken. */
  readonly name: string;
  /** The configuration whose property must catch it. */
  readonly config: ModelConfig;
  /** Installs the breakage while `run` runs. */
  readonly apply: (run: () => void) => void;
}

const BREAKAGES: readonly Breakage[] = [
  {
    name: 'EXTENDED COPY ignores the overlap direction (always copies forward, block by block)',
    config: COPY,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'copyFrom', {
        value: function (this: BlockStore, src: BlockStore, srcOffset: number, dstOffset: number, length: number, share: boolean, tally: CopyTally): CopyOutcome {
          const overlapsAbove = src === this && dstOffset > srcOffset && dstOffset < srcOffset + length;
          if (!overlapsAbove) return original.copyFrom.call(this, src, srcOffset, dstOffset, length, share, tally);
          let done = 0;
          while (done < length) {
            const step = original.copyFrom.call(this, src, srcOffset + done, dstOffset + done, Math.min(BLOCK_SIZE, length - done), share, tally);
            done += step.done;
            if (step.outOfSpace) return { done, outOfSpace: true, neededUnits: step.neededUnits };
          }
          return { done, outOfSpace: false, neededUnits: 0 };
        },
      }, run),
  },
  {
    name: 'COMPARE AND WRITE compares all but the last byte',
    config: COPY,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'compare', {
        value: function (this: BlockStore, offset: number, expected: Uint8Array, expectedOffset: number, length: number): number {
          return original.compare.call(this, offset, expected, expectedOffset, length - 1);
        },
      }, run),
  },
  {
    name: 'WRITE forgets to charge the pool',
    config: COPY,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'write', {
        value: function (this: BlockStore, offset: number, src: Uint8Array, zeroDetect = false): void {
          const before = this.pool.allocatedUnits;
          original.write.call(this, offset, src, zeroDetect);
          this.pool.allocatedUnits = Math.min(before, this.pool.allocatedUnits);
        },
      }, run),
  },
  {
    name: 'copy-on-write forgets to copy (a write to a shared unit changes it in place)',
    config: SHARE,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'write', {
        value: function (this: BlockStore, offset: number, src: Uint8Array, zeroDetect = false): void {
          for (let done = 0; done < src.length; ) {
            const pos = offset + done;
            const u = Math.floor(pos / this.unitBytes);
            const inUnit = pos - u * this.unitBytes;
            const n = Math.min(this.unitLength(u) - inUnit, src.length - done);
            const e = this.units.get(u);
            if (e !== undefined && e.refs > 1) e.data.set(src.subarray(done, done + n), inUnit);
            else original.write.call(this, pos, src.subarray(done, done + n), zeroDetect);
            done += n;
          }
        },
      }, run),
  },
  {
    name: 'zeroing leaves the last whole unit mapped (zero-filled instead of deallocated)',
    config: COPY,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'zero', {
        value: function (this: BlockStore, offset: number, length: number): void {
          const end = offset + length;
          const lastStart = Math.max(offset, Math.floor((end - 1) / this.unitBytes) * this.unitBytes);
          const u = Math.floor(lastStart / this.unitBytes);
          if (end - lastStart !== this.unitLength(u) || !this.units.has(u)) return original.zero.call(this, offset, length);
          if (lastStart > offset) original.zero.call(this, offset, lastStart - offset);
          this.units.get(u)!.data.fill(0);
        },
      }, run),
  },
  {
    name: 'UNMAP does not zero partial pieces (only whole units are deallocated)',
    config: COPY,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'unmap', {
        value: function (this: BlockStore, offset: number, length: number): number {
          for (let pos = offset; pos < offset + length; ) {
            const u = Math.floor(pos / this.unitBytes);
            const n = Math.min(this.unitLength(u) - (pos - u * this.unitBytes), offset + length - pos);
            if (n === this.unitLength(u)) this.deallocate(u);
            pos += n;
          }
          return 0;
        },
      }, run),
  },
  {
    name: 'zero detection also deallocates a mapped unit that an all-zero piece covers only in part',
    config: SHARE_ZERO_DETECT,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'write', {
        value: function (this: BlockStore, offset: number, src: Uint8Array, zeroDetect = false): void {
          for (let done = 0; done < src.length; ) {
            const pos = offset + done;
            const u = Math.floor(pos / this.unitBytes);
            const n = Math.min(this.unitLength(u) - (pos - u * this.unitBytes), src.length - done);
            const piece = src.subarray(done, done + n);
            if (zeroDetect && this.isMapped(u) && piece.every((b) => b === 0)) this.deallocate(u);
            else original.write.call(this, pos, piece, zeroDetect);
            done += n;
          }
        },
      }, run),
  },
  {
    name: 'the pool lets usage exceed its capacity by one unit',
    config: COPY,
    apply: (run) => {
      const free = Object.getOwnPropertyDescriptor(ThinPool.prototype, 'freeUnits')!.get!;
      withPatch(ThinPool.prototype, 'freeUnits', {
        get(this: ThinPool): number {
          return (free.call(this) as number) + 1;
        },
      }, run);
    },
  },
  {
    name: "EXTENDED COPY shares extents although the array is in 'copy' mode",
    config: COPY,
    apply: (run) =>
      withPatch(BlockStore.prototype, 'copyFrom', {
        value: function (this: BlockStore, src: BlockStore, srcOffset: number, dstOffset: number, length: number, _share: boolean, tally: CopyTally): CopyOutcome {
          return original.copyFrom.call(this, src, srcOffset, dstOffset, length, true, tally);
        },
      }, run),
  },
  {
    name: 'recycled unit buffers are handed out without zero-filling them',
    config: COPY,
    apply: (run) => {
      const take = ThinPool.prototype.takeBuffer;
      withPatch(ThinPool.prototype, 'takeBuffer', {
        value: function (this: ThinPool, length: number): Uint8Array {
          return take.call(this, length, false);
        },
      }, run);
    },
  },
];

const caught: string[] = [];

describe('broken arrays are caught by the model-based property', () => {
  const checkOptions = { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true } as const;

  for (const config of [SHARE, COPY, SHARE_ZERO_DETECT]) {
    it(`control: the intact ${configName(config)} array passes with seed ${SEED}`, () => {
      const details = fc.check(arrayMatchesModel(config, MAX_COMMANDS), checkOptions);
      expect(details.failed, String(details.errorInstance)).toBe(false);
    }, 120_000);
  }

  for (const b of BREAKAGES) {
    it(`catches: ${b.name}`, () => {
      let outcome: { failed: boolean; numRuns: number; error: string } | undefined;
      b.apply(() => {
        const details = fc.check(arrayMatchesModel(b.config, MAX_COMMANDS), checkOptions);
        outcome = { failed: details.failed, numRuns: details.numRuns, error: String(details.errorInstance).split('\n')[0]! };
      });
      expect(outcome!.failed).toBe(true);
      caught.push(`${b.name}: caught after ${outcome!.numRuns} run(s): ${outcome!.error}`);
    }, 120_000);
  }

  afterAll(() => {
    console.log(`[broken arrays] ${caught.length}/${BREAKAGES.length} caught\n${caught.map((c) => `  ${c}`).join('\n')}`);
  });
});
