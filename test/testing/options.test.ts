/**
 * checkTarget, kitSetup and kitCommands reject bad options with InvalidArgumentError naming the
 * option, the value and what is expected, before anything runs (numRuns 2.5 used to run forever:
 * fast-check counts runs down to exactly -1).
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StorageArray } from '../../src/index.js';
import { KIT_OPS, ReferenceArray, checkTarget, kitCommands, kitSetup, kitSyncCommands, runWorkload, workloadArbitrary, type CheckTargetOptions } from '../../src/testing/index.js';

const array = new StorageArray({ capacityBytes: 1 << 26 });
const lun = array.createLun({ sizeBytes: 1 << 20 }); // 2048 blocks

/** The InvalidArgumentError `run` rejects with (fails the test otherwise). */
async function invalid(run: () => Promise<unknown>): Promise<string> {
  const e = await run().then(
    () => expect.fail('expected a rejection'),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InvalidArgumentError);
  expect(e).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  return (e as Error).message;
}

const KNOWN_KEYS = 'others, initiators, windowBlocks, numRuns, maxCommands, seed, races, malformed, invariants, ops';

describe('checkTarget options', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['numRuns -1', { numRuns: -1 }, 'checkTarget: numRuns must be a positive integer, got -1'],
    ['numRuns 0', { numRuns: 0 }, 'checkTarget: numRuns must be a positive integer, got 0'],
    ['numRuns 2.5', { numRuns: 2.5 }, 'checkTarget: numRuns must be a positive integer, got 2.5'],
    ['numRuns NaN', { numRuns: Number.NaN }, 'checkTarget: numRuns must be a positive integer, got NaN'],
    ['numRuns as a string', { numRuns: '10' }, "checkTarget: numRuns must be a positive integer, got '10'"],
    ['an unknown key', { numruns: 5 }, `checkTarget: unknown option 'numruns' (known: ${KNOWN_KEYS})`],
    ['an unknown op', { ops: new Set(['READ(16)', 'BOGUS']) }, `checkTarget: ops: unknown command 'BOGUS' (known: ${KIT_OPS.join(', ')})`],
    ['ops as a string', { ops: 'READ(16)' }, "checkTarget: ops must be a Set or an array of command names, got 'READ(16)'"],
    ['empty ops', { ops: [] }, `checkTarget: ops is empty; name at least one of ${KIT_OPS.join(', ')}`],
    ['seed beyond 32 bits', { seed: 2 ** 32 }, 'checkTarget: seed must be an integer in [-2147483648, 4294967295], got 4294967296'],
    ['seed 1.5', { seed: 1.5 }, 'checkTarget: seed must be an integer in [-2147483648, 4294967295], got 1.5'],
    ['windowBlocks 0', { windowBlocks: 0 }, 'checkTarget: windowBlocks must be an integer in [1, 65536], got 0'],
    ['windowBlocks beyond the LUN', { windowBlocks: 4096 }, "checkTarget: windowBlocks must be at most the LUN's 2048 blocks, got 4096"],
    ['maxCommands 0', { maxCommands: 0 }, 'checkTarget: maxCommands must be an integer in [1, 10000], got 0'],
    ['initiators as a string', { initiators: 'host-a' }, "checkTarget: initiators must be an array, got 'host-a'"],
    ['no initiators', { initiators: [] }, 'checkTarget: initiators must have at least 1 item(s), got 0'],
    ['an empty initiator name', { initiators: ['a', ''] }, "checkTarget: initiators[1] must be a non-empty string, got ''"],
    ['others that are not targets', { others: [{}] }, 'checkTarget: others[0] must be a target with an execute(cdb, dataOut, options) function, got {}'],
    ['races not a boolean', { races: 1 }, 'checkTarget: races must be true or false, got 1'],
    ['an invariant that is not a function', { invariants: ['x'] }, "checkTarget: invariants[0] must be a function, got 'x'"],
    ['options that are not an object', null as unknown as Record<string, unknown>, 'checkTarget: options must be an object'],
  ];
  for (const [what, options, message] of cases) {
    it(`rejects ${what}`, async () => {
      expect(await invalid(() => checkTarget(lun, options as CheckTargetOptions))).toBe(message);
    });
  }

  it('rejects a target without execute', async () => {
    expect(await invalid(() => checkTarget({} as never))).toBe('checkTarget: target must be a target with an execute(cdb, dataOut, options) function, got {}');
  });

  it('accepts ops as an array, and runs exactly numRuns runs', async () => {
    const report = await checkTarget(lun, { ops: ['READ(16)', 'WRITE(16)'], numRuns: 3, seed: 7 });
    expect(report.passed).toBe(true);
    expect(report.runs).toBe(3);
    expect(report.capabilities.ops).toEqual(['READ(16)', 'WRITE(16)']);
  });
});

describe('kitSetup, kitCommands and kitSyncCommands options', () => {
  it('kitSetup takes only its own options', async () => {
    expect(await invalid(() => kitSetup(lun, { numRuns: 5 } as never))).toBe("kitSetup: unknown option 'numRuns' (known: others, initiators, windowBlocks, ops)");
  });

  it('kitCommands and kitSyncCommands check the nexus count and their options', async () => {
    const { space } = await kitSetup(lun);
    expect(() => kitCommands(space, 0)).toThrow(new InvalidArgumentError('kitCommands: nexusCount must be a positive integer, got 0'));
    expect(() => kitCommands(space, 1, { race: false } as never)).toThrow(new InvalidArgumentError("kitCommands: unknown option 'race' (known: malformed, races)"));
    expect(() => kitSyncCommands(space, 1, { races: false } as never)).toThrow(new InvalidArgumentError("kitSyncCommands: unknown option 'races' (known: malformed)"));
  });
});

describe('KIT_OPS', () => {
  it('names each command once and cannot be changed at run time', () => {
    expect(new Set(KIT_OPS).size).toBe(KIT_OPS.length);
    expect(KIT_OPS).toHaveLength(30);
    expect(Object.isFrozen(KIT_OPS)).toBe(true);
  });
});

describe('workloadArbitrary, ReferenceArray and runWorkload options', () => {
  const base = { luns: 2, blocksPerLun: 64, hosts: 2 };
  const cases: Array<[string, () => unknown, string]> = [
    ['workloadArbitrary: an unknown key', () => workloadArbitrary({ ...base, steps: 5 } as never), "workloadArbitrary: unknown option 'steps' (known: luns, blocksPerLun, hosts, maxSteps, maxBlocks, mix, lockLbas)"],
    ['workloadArbitrary: no hosts', () => workloadArbitrary({ luns: 1, blocksPerLun: 8 } as never), 'workloadArbitrary: hosts is required'],
    ['workloadArbitrary: luns 1.5', () => workloadArbitrary({ ...base, luns: 1.5 }), 'workloadArbitrary: luns must be an integer in [1, 1024], got 1.5'],
    ['workloadArbitrary: an unknown step kind in mix', () => workloadArbitrary({ ...base, mix: { copy: 1 } } as never), "workloadArbitrary: mix: unknown option 'copy' (known: clone, zero, lock, write, unmap)"],
    ['workloadArbitrary: every weight 0', () => workloadArbitrary({ ...base, mix: { clone: 0, zero: 0, lock: 0, write: 0, unmap: 0 } }), 'workloadArbitrary: mix gives every step kind weight 0; give one of clone, zero, lock, write, unmap a positive weight'],
    ['workloadArbitrary: a lock beyond the LUN', () => workloadArbitrary({ ...base, lockLbas: [64] }), 'workloadArbitrary: lockLbas must be below blocksPerLun (64), got 64'],
    ['workloadArbitrary: no lock LBAs', () => workloadArbitrary({ ...base, lockLbas: [] }), 'workloadArbitrary: lockLbas must have at least 1 item(s), got 0'],
    ['ReferenceArray: an unknown key', () => new ReferenceArray({ blockSize: 512, unitBlocks: 1, capacityUnits: 8, share: false, luns: [], zeroDetection: true } as never), "ReferenceArray: unknown option 'zeroDetection' (known: blockSize, unitBlocks, capacityUnits, share, zeroDetect, luns)"],
    ['ReferenceArray: a LUN without blocks', () => new ReferenceArray({ blockSize: 512, unitBlocks: 1, capacityUnits: 8, share: false, luns: [{ thin: true, blockCount: 0 }] }), 'ReferenceArray: luns[0]: blockCount must be a positive integer, got 0'],
    ['runWorkload: an unknown key', () => runWorkload([], () => lun, { luns: 1, blocks: 8 } as never), "runWorkload: unknown option 'blocks' (known: luns, blockSize)"],
    ['runWorkload: a target that is not a function', () => runWorkload([], lun as never, { luns: 1 }), 'runWorkload: target must be a function, got a Lun'],
  ];
  for (const [what, run, message] of cases) {
    it(`rejects ${what}`, async () => {
      expect(await invalid(async () => await run())).toBe(message);
    });
  }
});
