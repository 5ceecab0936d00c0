import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense, InsufficientSpaceError } from '../../src/index.js';
import { GiB, MiB, TiB, expectBytes, expectGood, expectSense, pattern, read, run, write, xcopy } from './helpers.js';

const UNIT = MiB;
const BLOCKS_PER_UNIT = UNIT / 512;

describe('thin pool: sparse LUNs', () => {
  it('creates a 64 TiB thin LUN without allocating and reads zeros anywhere', async () => {
    const array = new StorageArray({ capacityBytes: GiB });
    const lun = array.createLun({ sizeBytes: 64 * TiB });
    expect(lun.blockCount).toBe((64 * TiB) / 512);
    expect(array.poolStatus.usedBytes).toBe(0);
    expect(lun.store.units.size).toBe(0);
    expectBytes(await read(lun, lun.blockCount - 8, 8), new Uint8Array(4096));
    expectBytes(await read(lun, 2 ** 35, 8), new Uint8Array(4096));
    expect(lun.store.units.size).toBe(0);
  });

  it('charges exactly one unit per allocation unit written, wherever it is', async () => {
    const array = new StorageArray({ capacityBytes: 16 * MiB });
    const lun = array.createLun({ sizeBytes: 64 * TiB });
    expectGood(await write(lun, 0, pattern(512, 1)));
    expectGood(await write(lun, 1, pattern(512, 2))); // same unit
    expectGood(await write(lun, BLOCKS_PER_UNIT - 1, pattern(1024, 3))); // straddles units 0 and 1
    expectGood(await write(lun, 2 ** 36, pattern(512, 4)));
    expect(array.poolStatus.allocatedUnits).toBe(3);
    expect(array.poolStatus.usedBytes).toBe(3 * UNIT);
    expect(lun.mappedBytes).toBe(3 * UNIT);
  });

  it('thick LUNs reserve their size at creation and never fail for space', async () => {
    const array = new StorageArray({ capacityBytes: 8 * MiB });
    const thick = array.createLun({ sizeBytes: 4 * MiB, thin: false });
    expect(array.poolStatus.reservedUnits).toBe(4);
    expect(array.poolStatus.usedBytes).toBe(4 * MiB);
    const thin = array.createLun({ sizeBytes: TiB });
    expectGood(await write(thin, 0, pattern(4 * MiB, 1))); // fills the pool
    expect(array.poolStatus.freeBytes).toBe(0);
    expectGood(await write(thick, 0, pattern(4 * MiB, 2)));
    expect(array.poolStatus.usedBytes).toBe(8 * MiB);
    expect(() => array.createLun({ sizeBytes: MiB, thin: false })).toThrow(InsufficientSpaceError);
  });

  it('allows overcommit and grows at run time', async () => {
    const array = new StorageArray({ capacityBytes: 2 * MiB });
    const a = array.createLun({ sizeBytes: TiB });
    const b = array.createLun({ sizeBytes: TiB });
    expect(a.sizeBytes + b.sizeBytes).toBeGreaterThan(array.poolStatus.capacityBytes);
    array.growPool(2 * MiB);
    expect(array.poolStatus.capacityBytes).toBe(4 * MiB);
  });

  it('deleting a LUN returns its units and its reservation', async () => {
    const array = new StorageArray({ capacityBytes: 8 * MiB });
    const thin = array.createLun({ sizeBytes: TiB });
    const thick = array.createLun({ sizeBytes: 2 * MiB, thin: false });
    expectGood(await write(thin, 0, pattern(2 * MiB, 1)));
    expect(array.poolStatus.usedBytes).toBe(4 * MiB);
    array.deleteLun(thin);
    array.deleteLun(thick.id);
    expect(array.poolStatus.usedBytes).toBe(0);
    expect(array.luns).toEqual([]);
  });
});

describe('thin pool: soft threshold', () => {
  it('gives every nexus 06/38/07 once, on its next command, and re-arms only below the threshold', async () => {
    const array = new StorageArray({ capacityBytes: 4 * MiB, softThresholdPercent: 50 });
    const lun = array.createLun({ sizeBytes: TiB });
    for (const who of ['a', 'b']) expectGood(await run(lun, cdb.testUnitReady(), undefined, who));
    expectGood(await write(lun, 0, pattern(512, 1), 'a')); // 1 of 4 units: 25 %
    expectGood(await write(lun, BLOCKS_PER_UNIT, pattern(512, 1), 'a')); // 50 %: crossed
    // a: next command (any opcode, here a READ) reports the UA instead of executing
    expectSense(await run(lun, cdb.read10({ lba: 0, blocks: 1 }), undefined, 'a'), 0x06, 0x38, 0x07);
    expectGood(await run(lun, cdb.read10({ lba: 0, blocks: 1 }), undefined, 'a'));
    // b: INQUIRY does not report it; the next TEST UNIT READY does, once
    expectGood(await run(lun, cdb.inquiry(), undefined, 'b'));
    expectSense(await run(lun, cdb.testUnitReady(), undefined, 'b'), 0x06, 0x38, 0x07);
    expectGood(await run(lun, cdb.testUnitReady(), undefined, 'b'));
    // a nexus seen for the first time while the threshold stands crossed is told too
    expectSense(await run(lun, cdb.testUnitReady(), undefined, 'c'), 0x06, 0x38, 0x07);
    // more allocation while above: no new UA
    expectGood(await write(lun, 2 * BLOCKS_PER_UNIT, pattern(512, 1), 'a'));
    expectGood(await run(lun, cdb.testUnitReady(), undefined, 'a'));
    // fall below (UNMAP two whole units), then cross again: reported again
    const list = cdb.unmapParameterList([{ lba: BLOCKS_PER_UNIT, blocks: 2 * BLOCKS_PER_UNIT }]);
    expectGood(await run(lun, cdb.unmap({ parameterListLength: list.length }), list, 'a'));
    expect(array.poolStatus.allocatedUnits).toBe(1);
    expectGood(await run(lun, cdb.testUnitReady(), undefined, 'b'));
    expectGood(await write(lun, 5 * BLOCKS_PER_UNIT, pattern(512, 1), 'a'));
    expectSense(await run(lun, cdb.testUnitReady(), undefined, 'b'), 0x06, 0x38, 0x07);
  });

  it('REQUEST SENSE returns the pending unit attention and clears it', async () => {
    const array = new StorageArray({ capacityBytes: 2 * MiB, softThresholdPercent: 50 });
    const lun = array.createLun({ sizeBytes: TiB });
    expectGood(await write(lun, 0, pattern(512, 1)));
    const r = await run(lun, cdb.requestSense(18));
    expectGood(r);
    const s = decodeSense(r.data);
    expect(s && [s.key, s.asc, s.ascq]).toEqual([0x06, 0x38, 0x07]);
    const again = decodeSense((await run(lun, cdb.requestSense(18))).data);
    expect(again && [again.key, again.asc, again.ascq]).toEqual([0, 0, 0]);
  });

  it('is off when no threshold is configured, and never raised on thick LUNs', async () => {
    const array = new StorageArray({ capacityBytes: 4 * MiB });
    const lun = array.createLun({ sizeBytes: TiB });
    expectGood(await write(lun, 0, pattern(4 * MiB, 1)));
    expectGood(await run(lun, cdb.testUnitReady()));
    const withThreshold = new StorageArray({ capacityBytes: 4 * MiB, softThresholdPercent: 10 });
    const thick = withThreshold.createLun({ sizeBytes: 2 * MiB, thin: false });
    expectGood(await run(thick, cdb.testUnitReady()));
  });
});

describe('thin pool: out of space', () => {
  async function fullPool() {
    const array = new StorageArray({ capacityBytes: 4 * MiB });
    const lun = array.createLun({ sizeBytes: TiB });
    const data = pattern(4 * MiB, 9);
    expectGood(await write(lun, 0, data));
    expect(array.poolStatus.freeBytes).toBe(0);
    return { array, lun, data };
  }

  it('fails allocating commands with 07/27/07 and changes nothing', async () => {
    const { array, lun, data } = await fullPool();
    const before = array.poolStatus;
    // a write straddling a mapped and an unmapped unit must not write its mapped half either
    const straddle = pattern(1024, 3);
    expectSense(await write(lun, 4 * BLOCKS_PER_UNIT - 1, straddle), 0x07, 0x27, 0x07);
    expectSense(await run(lun, cdb.writeSame16({ lba: 8 * BLOCKS_PER_UNIT, blocks: 8 }), pattern(512, 5)), 0x07, 0x27, 0x07);
    const caw = new Uint8Array(1024);
    caw.fill(7, 512);
    expectSense(await run(lun, cdb.compareAndWrite({ lba: 9 * BLOCKS_PER_UNIT, blocks: 1 }), caw), 0x07, 0x27, 0x07);
    expect(array.poolStatus).toEqual(before);
    expectBytes(await read(lun, 0, 8192), data);
    expectBytes(await read(lun, 8 * BLOCKS_PER_UNIT, 8), new Uint8Array(4096));
  });

  it('still serves reads, overwrites of mapped blocks, zeroing and UNMAP', async () => {
    const { array, lun, data } = await fullPool();
    const over = pattern(512, 77);
    expectGood(await write(lun, 5, over));
    data.set(over, 5 * 512);
    expectBytes(await read(lun, 0, 8192), data);
    // WRITE SAME of zeros to unmapped blocks allocates nothing
    expectGood(await run(lun, cdb.writeSame16({ lba: 20 * BLOCKS_PER_UNIT, blocks: 100 }), new Uint8Array(512)));
    const list = cdb.unmapParameterList([{ lba: 3 * BLOCKS_PER_UNIT, blocks: BLOCKS_PER_UNIT }]);
    expectGood(await run(lun, cdb.unmap({ parameterListLength: list.length }), list));
    expect(array.poolStatus.freeBytes).toBe(MiB);
  });

  it('lets writes succeed again after UNMAP, WRITE SAME UNMAP or pool growth', async () => {
    const { array, lun } = await fullPool();
    const target = 10 * BLOCKS_PER_UNIT;
    expectSense(await write(lun, target, pattern(512, 1)), 0x07, 0x27, 0x07);
    expectGood(await run(lun, cdb.writeSame16({ lba: 0, blocks: BLOCKS_PER_UNIT, unmap: true }), new Uint8Array(512)));
    expectGood(await write(lun, target, pattern(512, 1)));
    expectSense(await write(lun, target + BLOCKS_PER_UNIT, pattern(512, 1)), 0x07, 0x27, 0x07);
    array.growPool(MiB);
    expectGood(await write(lun, target + BLOCKS_PER_UNIT, pattern(512, 1)));
  });

  it('EXTENDED COPY in copy mode stops where space ran out, keeps what it copied and reports it in COPY STATUS', async () => {
    const array = new StorageArray({ capacityBytes: 6 * MiB, cloneMode: 'copy' });
    const src = array.createLun({ sizeBytes: 64 * MiB });
    const dst = array.createLun({ sizeBytes: 64 * MiB });
    const data = pattern(4 * MiB, 4);
    expectGood(await write(src, 0, data));
    const r = await xcopy(src, [{ from: src, to: dst, blocks: 4 * BLOCKS_PER_UNIT, sourceLba: 0, destinationLba: 0 }], 7, 0);
    expectSense(r, 0x07, 0x27, 0x07);
    // two units fitted; the first two units of the destination hold the data
    expectBytes(await read(dst, 0, 2 * BLOCKS_PER_UNIT), data.subarray(0, 2 * MiB));
    expectBytes(await read(dst, 2 * BLOCKS_PER_UNIT, 2 * BLOCKS_PER_UNIT), new Uint8Array(2 * MiB));
    const status = await run(src, cdb.receiveCopyResults({ serviceAction: 0, listId: 7 }));
    expectGood(status);
    const d = status.data!;
    expect(d[4]).toBe(2); // completed with errors
    expect((d[5]! << 8) | d[6]!).toBe(0); // no segment completed
    expect(d[7]).toBe(0); // TRANSFER COUNT UNITS: bytes
    expect(new DataView(d.buffer, d.byteOffset).getUint32(8)).toBe(2 * MiB);
    const details = await run(src, cdb.receiveCopyResults({ serviceAction: 4, listId: 7 }));
    expectGood(details);
    expect(details.data![56]).toBe(2); // COPY COMMAND STATUS: CHECK CONDITION
    const sense = decodeSense(details.data!.subarray(60));
    expect(sense && [sense.key, sense.asc, sense.ascq]).toEqual([0x07, 0x27, 0x07]);
  });

  it('EXTENDED COPY in share mode needs no space to clone thin data', async () => {
    const array = new StorageArray({ capacityBytes: 4 * MiB });
    const src = array.createLun({ sizeBytes: 64 * MiB });
    const dst = array.createLun({ sizeBytes: 64 * MiB });
    const data = pattern(4 * MiB, 4);
    expectGood(await write(src, 0, data));
    expectGood(await xcopy(src, [{ from: src, to: dst, blocks: 4 * BLOCKS_PER_UNIT, sourceLba: 0, destinationLba: 0 }]));
    expectBytes(await read(dst, 0, 4 * BLOCKS_PER_UNIT), data);
    expect(array.poolStatus.allocatedUnits).toBe(4);
    // writing to a shared unit needs a new one: out of space, and neither side changes
    expectSense(await write(dst, 0, pattern(512, 1)), 0x07, 0x27, 0x07);
    expectBytes(await read(src, 0, 1), data.subarray(0, 512));
    array.growPool(MiB);
    expectGood(await write(dst, 0, pattern(512, 1)));
    expectBytes(await read(src, 0, 1), data.subarray(0, 512));
    expectBytes(await read(dst, 0, 1), pattern(512, 1));
    expect(array.poolStatus.allocatedUnits).toBe(5);
  });
});

describe('zero detection', () => {
  it('treats all-zero WRITEs as zeroing when enabled, and stores zeros when not', async () => {
    for (const zeroDetect of [true, false]) {
      const array = new StorageArray({ capacityBytes: 8 * MiB, zeroDetect });
      const lun = array.createLun({ sizeBytes: TiB });
      expectGood(await write(lun, 0, pattern(2 * MiB, 1)));
      expectGood(await write(lun, 0, new Uint8Array(MiB))); // a whole unit of zeros over data
      expectGood(await write(lun, 8192, new Uint8Array(4 * MiB))); // zeros over unmapped units
      expectGood(await write(lun, 2048, new Uint8Array(512))); // a partial zero block over data
      expect(array.poolStatus.allocatedUnits).toBe(zeroDetect ? 1 : 6);
      const expected = pattern(2 * MiB, 1);
      expected.fill(0, 0, MiB + 512);
      expectBytes(await read(lun, 0, 4096), expected);
    }
  });
});

describe('held results of copies that fail after validation', () => {
  it('COPY STATUS and FAILED SEGMENT DETAILS report a copy stopped by a reservation or an unreachable CSCD', async () => {
    const array = new StorageArray({ capacityBytes: 8 * MiB });
    const a = array.createLun({ sizeBytes: 8 * MiB });
    const b = array.createLun({ sizeBytes: 8 * MiB });
    expectGood(await run(b, cdb.reserve6(), undefined, 'other'));
    const conflict = await xcopy(a, [{ from: a, to: b, blocks: 8, sourceLba: 0, destinationLba: 0 }], 5, 0, 'me');
    expect(conflict.status).toBe(0x18);
    let status = await run(a, cdb.receiveCopyResults({ serviceAction: 0, listId: 5 }), undefined, 'me');
    expectGood(status);
    expect(status.data![4]).toBe(2);
    let details = await run(a, cdb.receiveCopyResults({ serviceAction: 4, listId: 5 }), undefined, 'me');
    expect(details.data!.length).toBe(60);
    expect([details.data![56], details.data![58], details.data![59]]).toEqual([0x18, 0, 0]);
    // an unknown designator: COPY ABORTED 0A/0D/02, held with its sense
    const list = cdb.extendedCopyParameterList({
      listId: 6,
      listIdUsage: 0,
      cscds: [{ designator: new Uint8Array(16).fill(0x66), blockSize: 512 }],
      segments: [{ source: 0, destination: 0, blocks: 1, sourceLba: 0, destinationLba: 1 }],
    });
    expectSense(await run(a, cdb.extendedCopy(list.length), list, 'me'), 0x0a, 0x0d, 0x02);
    status = await run(a, cdb.receiveCopyResults({ serviceAction: 0, listId: 6 }), undefined, 'me');
    expect(status.data![4]).toBe(2);
    details = await run(a, cdb.receiveCopyResults({ serviceAction: 4, listId: 6 }), undefined, 'me');
    expect(details.data![56]).toBe(2);
    const sense = decodeSense(details.data!.subarray(60));
    expect(sense && [sense.key, sense.asc, sense.ascq]).toEqual([0x0a, 0x0d, 0x02]);
    // another nexus does not see them
    expectSense(await run(a, cdb.receiveCopyResults({ serviceAction: 0, listId: 6 }), undefined, 'someone-else'), 0x05, 0x24, 0x00);
  });
});

describe('zero detection per allocation unit', () => {
  it('a WRITE mixing data and whole zero units stores only the data units', async () => {
    const array = new StorageArray({ capacityBytes: 8 * MiB, zeroDetect: true });
    const lun = array.createLun({ sizeBytes: TiB });
    expectGood(await write(lun, 2048, pattern(MiB, 3))); // unit 1 mapped
    const mixed = new Uint8Array(4 * MiB);
    mixed.set(pattern(MiB, 5), 2 * MiB); // units 0, 1 and 3 zeros; unit 2 data
    expectGood(await write(lun, 0, mixed));
    expect([...lun.store.units.keys()].sort()).toEqual([2]); // unit 1 was deallocated by its zeros
    expectBytes(await read(lun, 0, 8192), mixed);
    // a partial zero piece over a mapped unit is written (the rest of the unit keeps its data)
    expectGood(await write(lun, 4096 + 8, new Uint8Array(512)));
    const expected = mixed.slice(2 * MiB, 3 * MiB);
    expected.fill(0, 8 * 512, 9 * 512);
    expectBytes(await read(lun, 4096, 2048), expected);
    // on a full pool, zeros still go where data could not
    const full = new StorageArray({ capacityBytes: MiB, zeroDetect: true });
    const l2 = full.createLun({ sizeBytes: TiB });
    expectGood(await write(l2, 0, pattern(MiB, 1)));
    expectGood(await write(l2, 2048, new Uint8Array(3 * MiB)));
    expectSense(await write(l2, 2048, pattern(512, 1)), 0x07, 0x27, 0x07);
  });
});
