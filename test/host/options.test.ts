/**
 * The host API's constructors and functions reject unknown option keys and wrong values with
 * InvalidArgumentError naming the option, the value and what is expected.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StorageArray } from '../../src/index.js';
import { Fabric, FilterChain, LockManager, ReplicationFilter, ThinHost, cloneRange, zeroRange } from '../../src/host/index.js';

const array = new StorageArray({ capacityBytes: 1 << 26 });
const lun = array.createLun({ sizeBytes: 1 << 20 });
const sleep = async (): Promise<void> => undefined;

/** The message of the InvalidArgumentError `run` throws or rejects with (fails the test otherwise). */
async function invalid(run: () => unknown): Promise<string> {
  let thrown: unknown;
  try {
    await run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(InvalidArgumentError);
  return (thrown as Error).message;
}

describe('host options', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['cloneRange: an unknown key', () => cloneRange({ source: lun, blocksCount: 8 } as never), "cloneRange: unknown option 'blocksCount' (known: source, destination, sourceLba, destinationLba, blocks, transferBytes, offload, parallel, initiator)"],
    ['cloneRange: no source', () => cloneRange({} as never), 'cloneRange: source is required'],
    ['cloneRange: a source that is not a target', () => cloneRange({ source: 'lun0' } as never), "cloneRange: source must be a target with an execute(cdb, dataOut, options) function, got 'lun0'"],
    ['cloneRange: offload not a boolean', () => cloneRange({ source: lun, offload: 'no' } as never), "cloneRange: offload must be true or false, got 'no'"],
    ['cloneRange: blocks 1.5', () => cloneRange({ source: lun, blocks: 1.5 }), 'cloneRange: blocks must be an integer in [0, 9007199254740991], got 1.5'],
    ['zeroRange: an unknown key', () => zeroRange({ target: lun, unmap: true } as never), "zeroRange: unknown option 'unmap' (known: target, lba, blocks, offload, transferBytes, parallel, initiator)"],
    ['zeroRange: parallel 0', () => zeroRange({ target: lun, parallel: 0 }), 'zeroRange: parallel must be an integer in [1, 1024], got 0'],
    ['LockManager: an unknown key', () => new LockManager({ target: lun, hostId: 1, method: 'ats', sleep, retries: 3 } as never), "LockManager: unknown option 'retries' (known: target, hostId, method, sleep, retryDelayMs, blockSize, initiator)"],
    ['LockManager: no sleep', () => new LockManager({ target: lun, hostId: 1, method: 'ats' } as never), 'LockManager: sleep is required'],
    ['LockManager: an unknown method', () => new LockManager({ target: lun, hostId: 1, method: 'scsi3', sleep } as never), "LockManager: method must be one of 'ats', 'reservation', got 'scsi3'"],
    ['LockManager: a negative retry delay', () => new LockManager({ target: lun, hostId: 1, method: 'ats', sleep, retryDelayMs: -1 }), 'LockManager: retryDelayMs must be a number in [0, 3600000], got -1'],
    ['ThinHost: an unknown key', () => new ThinHost({ target: lun, sleep, now: () => 0, retry: 5 } as never), "ThinHost: unknown option 'retry' (known: target, sleep, now, retryIntervalMs, initiator)"],
    ['ThinHost: no clock', () => new ThinHost({ target: lun, sleep } as never), 'ThinHost: now is required'],
    ['ReplicationFilter: no replica', () => new ReplicationFilter({ mode: 'sync' } as never), 'ReplicationFilter: replica is required'],
    ['FilterChain.create: an unknown key', () => FilterChain.create(lun, { filter: [] } as never), "FilterChain.create: unknown option 'filter' (known: filters, domain, initiator)"],
    ['FilterChain.create: a filter without a name', () => FilterChain.create(lun, { filters: [{}] } as never), 'FilterChain.create: filters[0].name must be a non-empty string, got undefined'],
    ['FilterChain.create: a domain that is not a FilterDomain', () => FilterChain.create(lun, { domain: {} } as never), 'FilterChain.create: domain must be a FilterDomain, got {}'],
    ['Fabric: an unknown model key', () => new Fabric(array, { queueDepht: 4 } as never), "Fabric: unknown option 'queueDepht' (known: linkBytesPerSecond, commandLatencyMs, arrayMediaBytesPerSecond, arrayCopyBytesPerSecond, arrayMetadataUnitsPerSecond, arrayZeroBytesPerSecond, hostCpuPerCommandUs, hostCpuPerByteNs, queueDepth, preset)"],
  ];
  for (const [what, run, message] of cases) {
    it(`rejects ${what}`, async () => {
      expect(await invalid(run)).toBe(message);
    });
  }
});
