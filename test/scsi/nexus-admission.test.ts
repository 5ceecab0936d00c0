/**
 * Target ports, I_T nexuses and the one admission path (issue 11). Grid style: every case states the
 * exact status and sense it expects.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense, itNexus, iscsiInitiatorPort, type Lun, type ScsiResult } from '../../src/index.js';

const HOST_A = 'iqn.2024-01.test:host-a';
const HOST_B = 'iqn.2024-01.test:host-b';
const MiB = 1 << 20;

function setup(): { array: StorageArray; src: Lun; dst: Lun } {
  const array = new StorageArray({ capacityBytes: 64 * MiB, arrayId: 0x1234 });
  return { array, src: array.createLun({ sizeBytes: 8 * MiB }), dst: array.createLun({ sizeBytes: 8 * MiB }) };
}

function sense(r: ScsiResult): string {
  expect(r.status, 'CHECK CONDITION').toBe(0x02);
  const s = decodeSense(r.sense!)!;
  return `${s.key.toString(16)}/${s.asc.toString(16).padStart(2, '0')}/${s.ascq.toString(16).padStart(2, '0')}`;
}

/** A one-segment EXTENDED COPY of 8 blocks from `src` LBA 0 to `dst` LBA 0. */
function xcopy(src: Lun, dst: Lun, sourceLba = 0): { c: Uint8Array; list: Uint8Array } {
  const list = cdb.extendedCopyParameterList({
    cscds: [
      { designator: src.naaDesignator, blockSize: src.blockSize },
      { designator: dst.naaDesignator, blockSize: dst.blockSize },
    ],
    segments: [{ source: 0, destination: 1, blocks: 8, sourceLba, destinationLba: 0 }],
  });
  return { c: cdb.extendedCopy(list.length), list };
}

async function run(lun: Lun, c: Uint8Array, data?: Uint8Array, initiator = HOST_A): Promise<ScsiResult> {
  return await lun.execute(c, data, { initiator });
}

describe('target ports and I_T nexuses', () => {
  it('the array has a default target port (relative target port 1) that the { initiator } shorthand goes through', () => {
    const { array } = setup();
    expect(array.targetPorts.map((p) => [p.relativeId, p.groupId, p.name])).toEqual([[1, 0, 'vaai-sim.00001234,t,0x0001']]);
    expect(array.nexusOf(HOST_A)).toBe(array.nexusOf(HOST_A));
    expect(array.nexusOf(HOST_A).target).toBe(array.defaultTargetPort);
    expect(iscsiInitiatorPort('iqn.x', '00023D000001')).toEqual({ name: 'iqn.x,i,0x00023d000001', deviceName: 'iqn.x' });
  });

  it('two target ports give one initiator two nexuses: a unit attention is delivered once on each', async () => {
    const { array, src } = setup();
    const port2 = array.addTargetPort({ name: 'iqn.2026-11.dev.vaai-sim:t,t,0x0002', groupId: 1 });
    expect(port2.relativeId).toBe(2);
    const p1 = itNexus(HOST_A, array.defaultTargetPort);
    const p2 = itNexus(HOST_A, port2);
    expect(p1.key).not.toBe(p2.key);
    for (const nexus of [p1, p2]) expect((await src.execute(cdb.testUnitReady(), undefined, { nexus })).status).toBe(0x00);
    src.reset();
    for (const nexus of [p1, p2]) {
      expect(sense(await src.execute(cdb.testUnitReady(), undefined, { nexus }))).toBe('6/29/03');
      expect((await src.execute(cdb.testUnitReady(), undefined, { nexus })).status).toBe(0x00);
    }
  });

  it('a RESERVE(6) through port 1 conflicts with the same initiator through port 2 (another I_T nexus, SPC-2 7.21)', async () => {
    const { array, src } = setup();
    const port2 = array.addTargetPort({ name: 'port-2' });
    const p1 = itNexus(HOST_A, array.defaultTargetPort);
    const p2 = itNexus(HOST_A, port2);
    expect((await src.execute(cdb.reserve6(), undefined, { nexus: p1 })).status).toBe(0x00);
    expect(src.reservedBy).toBe(HOST_A);
    expect((await src.execute(cdb.read16({ lba: 0, blocks: 1 }), undefined, { nexus: p2 })).status).toBe(0x18);
    expect((await src.execute(cdb.read16({ lba: 0, blocks: 1 }), undefined, { nexus: p1 })).status).toBe(0x00);
    // RELEASE through port 2 is not the holder's: GOOD, and the reservation stays (SPC-2 7.21.2).
    expect((await src.execute(cdb.release6(), undefined, { nexus: p2 })).status).toBe(0x00);
    expect(src.reservedBy).toBe(HOST_A);
    // Removing port 1's peer port loses its nexuses; removing the holder's port releases the reservation.
    const port3 = array.addTargetPort({ name: 'port-3' });
    const p3 = itNexus(HOST_B, port3);
    expect((await src.execute(cdb.release6(), undefined, { nexus: p1 })).status).toBe(0x00);
    expect((await src.execute(cdb.reserve6(), undefined, { nexus: p3 })).status).toBe(0x00);
    array.removeTargetPort(port3);
    expect(src.reservedBy).toBeUndefined();
    expect(sense(await src.execute(cdb.testUnitReady(), undefined, { nexus: p3 }))).toBe('5/25/00');
  });

  it('a target port exposes its LUN map to its ACL only (access belongs to the target)', async () => {
    const { array, src, dst } = setup();
    const port = array.addTargetPort({ name: 'port-acl', luns: [src], initiators: [HOST_A] });
    const a = itNexus(HOST_A, port);
    const b = itNexus(HOST_B, port);
    expect((await src.execute(cdb.testUnitReady(), undefined, { nexus: a })).status).toBe(0x00);
    expect(sense(await dst.execute(cdb.testUnitReady(), undefined, { nexus: a }))).toBe('5/25/00');
    expect(sense(await src.execute(cdb.testUnitReady(), undefined, { nexus: b }))).toBe('5/25/00');
    const luns = await src.execute(cdb.reportLuns({ allocationLength: 64 }), undefined, { nexus: a });
    expect(Array.from(luns.data!.subarray(0, 8))).toEqual([0, 0, 0, 8, 0, 0, 0, 0]);
    expect(array.visibleLunIds(a)).toEqual([0]);
    expect(array.visibleLunIds(HOST_B)).toEqual([0, 1]); // the default port still exposes everything
    expect(() => array.addTargetPort({ name: 'port-acl' })).toThrow(/exists/);
    expect(() => array.addTargetPort({ name: 'x', relativeId: 1 })).toThrow(/relative target port 1 exists/);
    // A malformed nexus is an invalid field, never an exception.
    expect(sense(await src.execute(cdb.testUnitReady(), undefined, { nexus: { key: 'k' } as never }))).toBe('5/24/00');
    // The default port may go too (an array reached only through a transport, as `vaai-sim serve`):
    // in-process `{ initiator }` then reaches no LUN, the other ports are untouched.
    array.removeTargetPort(array.defaultTargetPort);
    expect(array.targetPorts.map((p) => p.relativeId)).not.toContain(1);
    expect(sense(await src.execute(cdb.testUnitReady(), undefined, { initiator: HOST_B }))).toBe('5/25/00');
    expect(array.visibleLunIds(HOST_B)).toEqual([]);
    expect((await src.execute(cdb.testUnitReady(), undefined, { nexus: a })).status).toBe(0x00);
    expect(() => array.removeTargetPort(array.defaultTargetPort)).toThrow(/no port/);
  });
});

describe('one admission path for EXTENDED COPY sources and destinations', () => {
  for (const side of ['source', 'destination'] as const) {
    it(`an EXTENDED COPY whose ${side} is reserved by another nexus is RESERVATION CONFLICT, as a READ or WRITE there is`, async () => {
      const { src, dst } = setup();
      const other = side === 'source' ? src : dst;
      // The copy is sent to a third LUN, so that only the admission of the touched LUN can refuse it.
      const manager = src.array.createLun({ sizeBytes: MiB });
      expect((await run(other, cdb.reserve6(), undefined, HOST_B)).status).toBe(0x00);
      const { c, list } = xcopy(src, dst);
      expect((await run(manager, c, list)).status).toBe(0x18);
      expect((await run(other, side === 'source' ? cdb.read16({ lba: 0, blocks: 8 }) : cdb.write16({ lba: 0, blocks: 1 }), side === 'source' ? undefined : new Uint8Array(512))).status).toBe(0x18);
      // The holder itself may copy.
      expect((await run(manager, c, list, HOST_B)).status).toBe(0x00);
    });

    it(`an EXTENDED COPY whose ${side} the initiator may not access is COPY TARGET DEVICE NOT REACHABLE (the LUN answers LOGICAL UNIT NOT SUPPORTED)`, async () => {
      const array = new StorageArray({ capacityBytes: 64 * MiB });
      const open = array.createLun({ sizeBytes: 8 * MiB });
      const closed = array.createLun({ sizeBytes: 8 * MiB, initiators: [HOST_B] });
      const { c, list } = side === 'source' ? xcopy(closed, open) : xcopy(open, closed);
      const r = await run(open, c, list);
      expect(sense(r)).toBe('a/0d/02');
      expect(sense(await run(closed, cdb.read16({ lba: 0, blocks: 8 })))).toBe('5/25/00');
    });
  }

  it('a segment out of range is COPY ABORTED pointing at the segment (one range check, the reason chosen by the command)', async () => {
    const { src, dst } = setup();
    const { c, list } = xcopy(src, dst, src.blockCount - 4);
    const r = await run(dst, c, list);
    expect(sense(r)).toBe('a/00/00');
    expect(sense(await run(src, cdb.read16({ lba: src.blockCount - 4, blocks: 8 })))).toBe('5/21/00');
  });

  it('a unit attention pending on a LUN the copy touches (not the one it was sent to) is left pending: the copy runs, the next command to that LUN reports it', async () => {
    const { src, dst } = setup();
    expect((await run(src, cdb.testUnitReady())).status).toBe(0x00);
    expect((await run(dst, cdb.testUnitReady())).status).toBe(0x00);
    src.reset();
    const { c, list } = xcopy(src, dst);
    expect((await run(dst, c, list)).status).toBe(0x00);
    expect(sense(await run(src, cdb.testUnitReady()))).toBe('6/29/03');
    expect((await run(src, cdb.testUnitReady())).status).toBe(0x00);
  });

  it('a unit attention pending on the LUN the copy was sent to is reported instead of the copy', async () => {
    const { src, dst } = setup();
    expect((await run(dst, cdb.testUnitReady())).status).toBe(0x00);
    dst.reset();
    const { c, list } = xcopy(src, dst);
    expect(sense(await run(dst, c, list))).toBe('6/29/03');
    expect((await run(dst, c, list)).status).toBe(0x00);
  });

  it('fault rules of a touched LUN apply to a copy sent to another LUN (sense and status; not delays)', async () => {
    const { array, src, dst } = setup();
    const handle = array.faults.add({ opcode: 0x83, lunId: src.id, sense: 'COPY_ABORTED', times: 1 });
    const { c, list } = xcopy(src, dst);
    expect(sense(await run(dst, c, list))).toBe('a/00/00');
    expect(handle.hits).toBe(1);
    expect((await run(dst, c, list)).status).toBe(0x00);
    array.faults.add({ opcode: 0x83, lunId: src.id, status: 0x08, times: 1 });
    expect((await run(dst, c, list)).status).toBe(0x08);
    const delay = array.faults.add({ opcode: 0x83, lunId: src.id, delayMs: 10_000 });
    expect((await run(dst, c, list)).status).toBe(0x00);
    expect(delay.hits).toBe(0);
  });
});
