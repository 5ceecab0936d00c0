import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Opcode, StorageArray, cdb, type FaultRule } from '../../src/index.js';
import { MiB, expectBytes, expectGood, expectSense, pattern, read, run, write, xcopy } from './helpers.js';

function setup() {
  const array = new StorageArray({ capacityBytes: 64 * MiB });
  const a = array.createLun({ sizeBytes: 16 * MiB });
  const b = array.createLun({ sizeBytes: 16 * MiB });
  return { array, a, b };
}

describe('fault injection', () => {
  it('is off by default: execute answers synchronously', () => {
    const { a } = setup();
    const r = a.execute(cdb.testUnitReady());
    expect(r).not.toBeInstanceOf(Promise);
  });

  it('fails a chosen command with chosen sense, N times, then retires, changing nothing', async () => {
    const { array, a } = setup();
    const handle = array.faults.add({ opcode: Opcode.WRITE_16, sense: 'WRITE_ERROR', times: 2 });
    expectSense(await write(a, 0, pattern(512, 1)), 0x03, 0x0c, 0x00);
    expectSense(await write(a, 0, pattern(512, 1)), 0x03, 0x0c, 0x00);
    expectBytes(await read(a, 0, 1), new Uint8Array(512));
    expect(array.poolStatus.allocatedUnits).toBe(0);
    expectGood(await write(a, 0, pattern(512, 1)));
    expect(handle.hits).toBe(2);
    expect(array.faults.active).toBe(false);
  });

  it('matches service action, LUN, initiator and LBA range', async () => {
    const { array, a, b } = setup();
    array.faults.add({ opcode: Opcode.SERVICE_ACTION_IN_16, serviceAction: 0x10, lunId: b.id, sense: { key: 0x04, asc: 0x3e, ascq: 0x03 } });
    expectGood(await run(a, cdb.readCapacity16()));
    expectGood(await run(b, cdb.getLbaStatus({ lba: 0, allocationLength: 24 })));
    expectSense(await run(b, cdb.readCapacity16()), 0x04, 0x3e, 0x03);
    array.faults.clear();
    array.faults.add({ opcode: Opcode.READ_10, lba: { start: 100, count: 10 }, initiator: 'h1', status: 0x08 });
    expectGood(await run(a, cdb.read10({ lba: 90, blocks: 10 }), undefined, 'h1'));
    expect((await run(a, cdb.read10({ lba: 95, blocks: 10 }), undefined, 'h1')).status).toBe(0x08);
    expectGood(await run(a, cdb.read10({ lba: 95, blocks: 10 }), undefined, 'h2'));
    expectGood(await run(a, cdb.read10({ lba: 110, blocks: 1 }), undefined, 'h1'));
  });

  it('matches EXTENDED COPY by the LBA ranges of its segments, so a data mover can be made to fall back', async () => {
    const { array, a, b } = setup();
    expectGood(await write(a, 0, pattern(2 * MiB, 3)));
    array.faults.add({ opcode: Opcode.EXTENDED_COPY, lba: { start: 2048, count: 2048 }, sense: 'COPY_TARGET_DEVICE_NOT_REACHABLE' });
    expectGood(await xcopy(a, [{ from: a, to: b, blocks: 2048, sourceLba: 0, destinationLba: 8192 }]));
    expectSense(await xcopy(a, [{ from: a, to: b, blocks: 2048, sourceLba: 2048, destinationLba: 10240 }]), 0x0a, 0x0d, 0x02);
    expectBytes(await read(b, 10240, 2048), new Uint8Array(MiB));
  });

  it('is repeatable with a seeded probability', async () => {
    const outcomes = async (seed: number) => {
      const { array, a } = setup();
      array.faults.add({ opcode: Opcode.TEST_UNIT_READY, probability: 0.5, seed, status: 0x28 });
      const seen: number[] = [];
      for (let i = 0; i < 64; i++) seen.push((await run(a, cdb.testUnitReady())).status);
      return seen;
    };
    const first = await outcomes(42);
    expect(await outcomes(42)).toEqual(first);
    const hits = first.filter((s) => s === 0x28).length;
    expect(hits).toBeGreaterThan(10);
    expect(hits).toBeLessThan(54);
    expect(await outcomes(43)).not.toEqual(first);
  });

  it('delays a command, which then executes against the state at that time', async () => {
    const { array, a } = setup();
    array.faults.add({ opcode: Opcode.READ_16, delayMs: 5, times: 1 });
    const pending = a.execute(cdb.read16({ lba: 0, blocks: 1 }));
    expect(pending).toBeInstanceOf(Promise);
    expectGood(await write(a, 0, pattern(512, 8))); // lands before the delayed read runs
    const r = await pending;
    expectGood(r);
    expectBytes(r.data, pattern(512, 8));
  });

  it('delays then fails when both are asked', async () => {
    const { array, a } = setup();
    array.faults.add({ opcode: Opcode.TEST_UNIT_READY, delayMs: 1, sense: 'LOGICAL_UNIT_COMMUNICATION_FAILURE' });
    const pending = a.execute(cdb.testUnitReady());
    expect(pending).toBeInstanceOf(Promise);
    expectSense(await pending, 0x0b, 0x08, 0x00);
  });

  it('removes a rule through its handle', async () => {
    const { array, a } = setup();
    const h = array.faults.add({ opcode: Opcode.TEST_UNIT_READY, status: 0x08 });
    expect((await run(a, cdb.testUnitReady())).status).toBe(0x08);
    h.remove();
    expectGood(await run(a, cdb.testUnitReady()));
  });

  it('rejects malformed rules with typed errors', () => {
    const { array } = setup();
    const bad: unknown[] = [
      { opcode: 0x28 },
      { opcode: 300, status: 0x08 },
      { opcode: 0x28, status: 0x02 },
      { opcode: 0x28, sense: 'NOT_A_REASON' },
      { opcode: 0x28, sense: 'WRITE_ERROR', status: 0x08 },
      { opcode: 0x28, status: 0x08, probability: 0 },
      { opcode: 0x28, status: 0x08, times: 0 },
      { opcode: 0x28, status: 0x08, lba: { start: -1, count: 1 } },
      { opcode: 0x28, status: 0x08, colour: 'red' },
    ];
    for (const rule of bad) expect(() => array.faults.add(rule as FaultRule)).toThrow(InvalidArgumentError);
  });
});
