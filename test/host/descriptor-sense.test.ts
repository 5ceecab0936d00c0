/**
 * A target with D_SENSE = 1 (SPC-4 control mode page) answers in descriptor format (72h), as LIO
 * can. The host paths read sense through `decodeSense`, so they act on it exactly as on the array's
 * fixed format: the data mover falls back (and stops offloading after INVALID COMMAND OPERATION
 * CODE), zeroing falls back to host writes, the thin host warns and stuns. Read by hand (byte 12 is
 * past the end of an 8-byte descriptor sense, byte 2 is the ASC), each of these went wrong.
 */
import { describe, expect, it } from 'vitest';
import { Opcode, StorageArray, cdb } from '../../src/index.js';
import { encodeDescriptorSense } from '../../src/codec/sense-encoder.js';
import { cloneRange } from '../../src/host/data-mover.js';
import { Fabric } from '../../src/host/fabric.js';
import { mayHaveChanged } from '../../src/host/filters/changes.js';
import { ThinHost } from '../../src/host/thin-host.js';
import { zeroRange } from '../../src/host/zeroing.js';
import { expectBytes, pattern } from '../array/helpers.js';
import { descriptorFormat } from './sense-format.js';

const MiB = 1024 * 1024;

function setup() {
  const array = new StorageArray({ capacityBytes: 256 * MiB });
  const a = array.createLun({ sizeBytes: 64 * MiB });
  const b = array.createLun({ sizeBytes: 64 * MiB });
  return { array, a, b };
}

describe('descriptor-format sense from a target', () => {
  it('the data mover copies a segment refused with COPY ABORTED 0D/02 from the host, and keeps offloading', async () => {
    const { array, a, b } = setup();
    const data = pattern(8 * MiB, 9);
    await a.execute(cdb.write16({ lba: 0, blocks: data.length / 512 }), data);
    array.faults.add({ opcode: Opcode.EXTENDED_COPY, lba: { start: 8192, count: 1 }, sense: 'COPY_TARGET_DEVICE_NOT_REACHABLE', times: 1 });
    const dst = descriptorFormat(b);
    const report = await cloneRange({ source: a, destination: dst, blocks: data.length / 512, transferBytes: 4 * MiB, parallel: 1 });
    expect(dst.senses.map((s) => s[0])).toEqual([0x72]);
    expect(report).toMatchObject({ offloadedBytes: 4 * MiB, hostBytes: 4 * MiB, fallbackSegments: 1, xcopyCommands: 2 });
    expectBytes((await b.execute(cdb.read16({ lba: 0, blocks: data.length / 512 }))).data, data);
  });

  it('the data mover falls back on 05/24/00 (INVALID FIELD IN CDB) and keeps offloading the next segments', async () => {
    const { array, a, b } = setup();
    array.faults.add({ opcode: Opcode.EXTENDED_COPY, sense: 'INVALID_FIELD_IN_CDB', times: 1 });
    const dst = descriptorFormat(b);
    const report = await cloneRange({ source: a, destination: dst, blocks: 8192, transferBytes: MiB, parallel: 1 });
    expect(report).toMatchObject({ xcopyCommands: 4, fallbackSegments: 1, hostBytes: MiB, offloadedBytes: 3 * MiB });
  });

  it('the data mover stops offloading after 05/20/00 (INVALID COMMAND OPERATION CODE) in descriptor format', async () => {
    const { array, a, b } = setup();
    array.faults.add({ opcode: Opcode.EXTENDED_COPY, sense: 'INVALID_COMMAND_OPERATION_CODE' });
    const dst = descriptorFormat(b);
    const report = await cloneRange({ source: a, destination: dst, blocks: 8192, transferBytes: MiB, parallel: 1 });
    expect(report).toMatchObject({ xcopyCommands: 1, fallbackSegments: 1, hostBytes: 4 * MiB, offloadedBytes: 0 });
  });

  it('zeroing writes from the host when WRITE SAME is refused in descriptor format', async () => {
    const array = new StorageArray({ capacityBytes: 64 * MiB });
    const lun = array.createLun({ sizeBytes: 8 * MiB });
    array.faults.add({ opcode: Opcode.WRITE_SAME_16, sense: 'INVALID_COMMAND_OPERATION_CODE' });
    const target = descriptorFormat(lun);
    expect(await zeroRange({ target, parallel: 1 })).toMatchObject({ writeSameCommands: 1, hostBytes: 8 * MiB, offloadedBytes: 0 });
    expect(target.senses).toHaveLength(1);
  });

  it('the thin host warns on 06/38/07 and stuns on 07/27/07 in descriptor format', async () => {
    const array = new StorageArray({ capacityBytes: 2 * MiB, softThresholdPercent: 50 });
    const lun = array.createLun({ sizeBytes: 16 * MiB });
    const fabric = new Fabric(array, '16gfc');
    const clock = fabric.clock;
    const port = descriptorFormat(fabric.host('esx-1').port(lun));
    const host = new ThinHost({ target: port, sleep: (ms) => clock.sleep(ms), now: () => clock.now, retryIntervalMs: 50 });
    const events: string[] = [];
    host.on('thresholdWarning', (e) => events.push(`warning ${e.vm}`));
    host.on('stunned', (e) => events.push(`stunned ${e.vm}`));
    host.on('resumed', (e) => events.push(`resumed ${e.vm}`));
    const vm = host.vm('grower');
    await clock.run(async () => {
      for (let i = 0; i < 2; i++) expect((await vm.execute(cdb.write16({ lba: i * 2048, blocks: 2048 }), pattern(MiB, i + 1))).status).toBe(0);
      const third = vm.execute(cdb.write16({ lba: 2 * 2048, blocks: 2048 }), pattern(MiB, 3));
      await clock.sleep(200);
      expect(host.stunnedVms).toEqual(['grower']);
      array.growPool(4 * MiB);
      expect((await third).status).toBe(0);
    });
    expect(events).toEqual(['warning grower', 'stunned grower', 'resumed grower']);
    expect(port.senses.every((s) => s[0] === 0x72)).toBe(true);
  });

  it('change tracking reads the key of descriptor sense: ILLEGAL REQUEST changed nothing, a MEDIUM ERROR may have', () => {
    expect(mayHaveChanged(0x8a, { status: 2, sense: encodeDescriptorSense('LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE') })).toBe(false);
    expect(mayHaveChanged(0x8a, { status: 2, sense: encodeDescriptorSense('WRITE_ERROR') })).toBe(true);
  });
});
