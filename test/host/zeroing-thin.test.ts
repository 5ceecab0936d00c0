import { describe, expect, it } from 'vitest';
import { Opcode, StorageArray, cdb } from '../../src/index.js';
import { Fabric } from '../../src/host/fabric.js';
import { ThinHost } from '../../src/host/thin-host.js';
import { zeroRange } from '../../src/host/zeroing.js';
import { expectBytes, pattern } from '../array/helpers.js';

const MiB = 1024 * 1024;

describe('eager zeroing', () => {
  it('zeroes a thin LUN with WRITE SAME + UNMAP, deallocating what was written', async () => {
    const array = new StorageArray({ capacityBytes: 64 * MiB });
    const lun = array.createLun({ sizeBytes: 32 * MiB });
    await lun.execute(cdb.write16({ lba: 0, blocks: 8192 }), pattern(4 * MiB, 1));
    const report = await zeroRange({ target: lun });
    expect(report).toMatchObject({ bytes: 32 * MiB, offloadedBytes: 32 * MiB, hostBytes: 0, writeSameCommands: 1, writeCommands: 0, unmap: true });
    expect(array.poolStatus.allocatedUnits).toBe(0);
    expectBytes((await lun.execute(cdb.read16({ lba: 0, blocks: 8192 }))).data, new Uint8Array(4 * MiB));
  });

  it('zeroes a thick LUN with WRITE SAME without the UNMAP bit', async () => {
    const array = new StorageArray({ capacityBytes: 64 * MiB });
    const lun = array.createLun({ sizeBytes: 8 * MiB, thin: false });
    const report = await zeroRange({ target: lun });
    expect(report.unmap).toBe(false);
    expect(report.offloadedBytes).toBe(8 * MiB);
  });

  it('writes zero buffers from the host when asked, or when WRITE SAME is refused', async () => {
    const array = new StorageArray({ capacityBytes: 64 * MiB });
    const lun = array.createLun({ sizeBytes: 8 * MiB });
    expect(await zeroRange({ target: lun, offload: false })).toMatchObject({ hostBytes: 8 * MiB, writeCommands: 8, writeSameCommands: 0 });
    expect(array.poolStatus.allocatedUnits).toBe(8); // host zeros are data to the array: they allocate
    array.faults.add({ opcode: Opcode.WRITE_SAME_16, sense: 'INVALID_COMMAND_OPERATION_CODE' });
    expect(await zeroRange({ target: lun, parallel: 1 })).toMatchObject({ writeSameCommands: 1, hostBytes: 8 * MiB, offloadedBytes: 0 });
  });
});

describe('thin provisioning as a host sees it', () => {
  it('warns on the soft threshold, stuns only the VM that needs new blocks, resumes when the pool grows', async () => {
    const array = new StorageArray({ capacityBytes: 4 * MiB, softThresholdPercent: 50 });
    const lun = array.createLun({ sizeBytes: 64 * MiB });
    const fabric = new Fabric(array, '16gfc');
    const clock = fabric.clock;
    const host = new ThinHost({ target: fabric.host('esx-1').port(lun), sleep: (ms) => clock.sleep(ms), now: () => clock.now, retryIntervalMs: 50 });
    const events: string[] = [];
    host.on('thresholdWarning', (e) => events.push(`warning ${e.vm}@${Math.round(clock.now)}`));
    host.on('stunned', (e) => events.push(`stunned ${e.vm}@${Math.round(clock.now)}`));
    host.on('resumed', (e) => events.push(`resumed ${e.vm} after ${Math.round(e.pausedMs)}`));
    const grower = host.vm('grower'); // writes new blocks, 1 MiB at a time, every 10 ms
    const steady = host.vm('steady'); // rewrites its one mapped block every 10 ms
    let steadyWrites = 0;
    let stunnedWhileSteadyWrote = 0;
    await clock.run(async () => {
      await steady.execute(cdb.write16({ lba: 0, blocks: 1 }), pattern(512, 1));
      const growing = (async () => {
        for (let i = 1; i <= 5; i++) {
          const r = await grower.execute(cdb.write16({ lba: i * 2048, blocks: 2048 }), pattern(MiB, i));
          expect(r.status).toBe(0);
          await clock.sleep(10);
        }
      })();
      const steadying = (async () => {
        while (clock.now < 300) {
          expect((await steady.execute(cdb.write16({ lba: 0, blocks: 1 }), pattern(512, 2))).status).toBe(0);
          steadyWrites++;
          if (host.stunnedVms.includes('grower')) stunnedWhileSteadyWrote++;
          await clock.sleep(10);
        }
      })();
      await clock.sleep(200);
      array.growPool(4 * MiB);
      await Promise.all([growing, steadying]);
    });
    expect(events[0]).toMatch(/^warning (grower|steady)@/);
    expect(events.filter((e) => e.startsWith('stunned'))).toEqual([expect.stringMatching(/^stunned grower@/)]);
    expect(events.at(-1)).toMatch(/^resumed grower after \d+/);
    expect(stunnedWhileSteadyWrote).toBeGreaterThan(5); // the other VM kept running meanwhile
    expect(steadyWrites).toBeGreaterThan(20);
    expect(host.stunnedVms).toEqual([]);
  });
});
