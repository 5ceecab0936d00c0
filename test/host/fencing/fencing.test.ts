/**
 * Persistent-reservation fencing (PrFencingNode) in-process: a 2- and a 4-node cluster on one LUN,
 * each node one initiator. Every node registers and one holds WRITE EXCLUSIVE – REGISTRANTS ONLY; a
 * survivor fences a failed node with PREEMPT AND ABORT (or PREEMPT); the failed node's first write
 * reports the preemption (06/2A/05), every later one gets RESERVATION CONFLICT and changes nothing;
 * the survivors' writes, lock manager and clone go on; a node that comes back writes again only once
 * it has registered again.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type Lun, type ScsiResult } from '../../../src/index.js';
import type { ScsiTarget } from '../../../src/host/target.js';
import { FencingError, HostIoError, NodeFencedError } from '../../../src/host/errors.js';
import { PrFencingNode, type FenceReport } from '../../../src/host/fencing.js';
import { LockManager } from '../../../src/host/lock-manager.js';
import { cloneRange } from '../../../src/host/data-mover.js';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { asInitiator, blockByte, expectStatus, readBlock, writeBlock } from './helpers.js';

const MiB = 1024 * 1024;
const sleep = (_ms: number): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function cluster(nodes: number, options: { abort?: boolean } = {}): { lun: Lun; nodes: PrFencingNode[] } {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun = array.createLun({ sizeBytes: 64 * MiB });
  return { lun, nodes: Array.from({ length: nodes }, (_, i) => new PrFencingNode({ target: asInitiator(lun, `iqn.2026-11.test:node-${i + 1}`), key: 0x1000 + i + 1, ...options })) };
}

/** The fenced node's first write: CHECK CONDITION, UNIT ATTENTION, REGISTRATIONS PREEMPTED (06/2A/05), fixed sense. */
function expectPreemptedAttention(r: { status: number; sense?: Uint8Array }): void {
  expect({ status: r.status, key: r.sense![2]! & 0x0f, asc: r.sense![12], ascq: r.sense![13] }).toEqual({ status: 2, key: 6, asc: 0x2a, ascq: 0x05 });
}

describe('PR fencing, 2 nodes in-process', () => {
  for (const abort of [true, false]) {
    it(`${abort ? 'PREEMPT AND ABORT' : 'PREEMPT'} of the holder: the survivor holds the reservation, the failed node's writes are refused and change nothing`, async () => {
      const { lun, nodes } = cluster(2, { abort });
      const [a, b] = nodes as [PrFencingNode, PrFencingNode];
      expect(await a.join()).toBe(0x1001n);
      expect(await b.join()).toBe(0x1001n); // a reserved first; b's join leaves that reservation
      expect(await a.readKeys()).toEqual({ generation: 2, keys: [0x1001n, 0x1002n] });
      expect(await b.readReservation()).toEqual({ key: 0x1001n, type: 5 });
      expectStatus(await writeBlock(a, 10, 0xaa), 0);
      expectStatus(await writeBlock(b, 11, 0xbb), 0);

      const fenced: FenceReport[] = [];
      b.on('fenced', (e) => fenced.push(e));
      const report = await b.fence(0x1001n);
      expect(report).toEqual({ victim: 0x1001n, tookReservation: true, aborted: abort, generation: 3 });
      expect(fenced).toEqual([report]);
      expect(await b.readReservation()).toEqual({ key: 0x1002n, type: 5 });
      expect((await b.readKeys()).keys).toEqual([0x1002n]);

      const conflicts: number[] = [];
      a.on('reservationConflict', (e) => conflicts.push(e.opcode));
      expectPreemptedAttention(await writeBlock(a, 10, 0x11));
      expectStatus(await writeBlock(a, 10, 0x11), 0x18);
      expectStatus(await writeBlock(a, 12, 0x11), 0x18);
      expect(conflicts).toEqual([0x8a, 0x8a]);
      expect(await blockByte(lun, 10)).toBe(0xaa);
      expect(await blockByte(lun, 12)).toBe(0);
      expectStatus(await readBlock(a, 10), 0); // WRITE EXCLUSIVE: reads are everyone's
      expectStatus(await writeBlock(b, 10, 0xb0), 0);
      expect(await blockByte(lun, 10)).toBe(0xb0);
    });
  }

  it('the fenced node cannot fence back, reserve or leave: NodeFencedError; the survivor is untouched', async () => {
    const { nodes } = cluster(2);
    const [a, b] = nodes as [PrFencingNode, PrFencingNode];
    await a.join();
    await b.join();
    await b.fence(0x1001n);
    await writeBlock(a, 0, 1); // takes the 2A/05
    await expect(a.fence(0x1002n)).rejects.toThrow(NodeFencedError);
    await expect(a.fence(0x1002n)).rejects.toMatchObject({ code: 'ERR_NODE_FENCED', step: 'preempt and abort', node: 'iqn.2026-11.test:node-1' });
    expect(await a.isRegistered()).toBe(false);
    expect(await b.readKeys()).toEqual({ generation: 3, keys: [0x1002n] });
    expect(await b.readReservation()).toEqual({ key: 0x1002n, type: 5 });
  });

  it('a node that comes back writes only after registering again, and the survivor keeps the reservation', async () => {
    const { lun, nodes } = cluster(2);
    const [a, b] = nodes as [PrFencingNode, PrFencingNode];
    await a.join();
    await b.join();
    await b.fence(0x1001n);
    expectPreemptedAttention(await writeBlock(a, 5, 0x55));
    expectStatus(await writeBlock(a, 5, 0x55), 0x18);
    const registered: Array<{ key: bigint; commands: number }> = [];
    a.on('registered', (e) => registered.push(e));
    expect(await a.join()).toBe(0x1002n);
    expect(registered).toEqual([{ key: 0x1001n, commands: 1 }]);
    expectStatus(await writeBlock(a, 5, 0x55), 0);
    expect(await blockByte(lun, 5)).toBe(0x55);
    expect(await b.readKeys()).toEqual({ generation: 4, keys: [0x1002n, 0x1001n] });
    expect(await b.readReservation()).toEqual({ key: 0x1002n, type: 5 });
  });

  it('leave removes the registrations; the holder leaving releases WRITE EXCLUSIVE – REGISTRANTS ONLY and the other node reserves', async () => {
    const { nodes } = cluster(2);
    const [a, b] = nodes as [PrFencingNode, PrFencingNode];
    await a.join();
    await b.join();
    await a.leave();
    expect((await b.readKeys()).keys).toEqual([0x1002n]);
    expect(await b.readReservation()).toBeUndefined();
    expect(await b.reserve()).toBe(0x1002n);
    expectStatus(await writeBlock(b, 1, 2), 0);
  });

  it('a SCSI-2 reservation of another node stands in the way: join fails with FencingError naming the step, and changes nothing', async () => {
    const { lun, nodes } = cluster(1);
    expectStatus(await lun.execute(cdb.reserve6(), undefined, { initiator: 'iqn.2026-11.test:scsi2-holder' }), 0);
    await expect(nodes[0]!.join()).rejects.toMatchObject({ code: 'ERR_FENCING', step: 'register', status: 0x18 });
    expectStatus(await lun.execute(cdb.release6(), undefined, { initiator: 'iqn.2026-11.test:scsi2-holder' }), 0);
    expect(await nodes[0]!.readKeys()).toEqual({ generation: 0, keys: [] });
  });

  it('a RESERVE refused with no persistent reservation held is given up after three rounds (FencingError), not retried for ever', async () => {
    const sent: string[] = [];
    const keys = Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x0d);
    const none = Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0);
    const stub: ScsiTarget = {
      execute: (c: Uint8Array): ScsiResult => {
        const what = c[0] === 0x5e ? (c[1] === 0 ? 'READ KEYS' : 'READ RESERVATION') : c[1] === 1 ? 'RESERVE' : 'REGISTER';
        sent.push(what);
        if (what === 'RESERVE') return { status: 0x18 };
        const data = what === 'READ KEYS' ? keys : what === 'READ RESERVATION' ? none : undefined;
        return data === undefined ? { status: 0 } : { status: 0, data };
      },
    };
    const node = new PrFencingNode({ target: stub, key: 0x0d, name: 'stubbed' });
    await expect(node.join()).rejects.toMatchObject({ code: 'ERR_FENCING', step: 'reserve (conflict with no persistent reservation held)', status: 0x18 });
    expect(sent).toEqual(['REGISTER', ...Array<string[]>(3).fill(['READ RESERVATION', 'RESERVE', 'READ KEYS']).flat()]);
  });

  it('option and argument errors are typed', async () => {
    const { lun, nodes } = cluster(1);
    expect(() => new PrFencingNode({ target: asInitiator(lun, 'x'), key: 0 })).toThrow(InvalidArgumentError);
    expect(() => new PrFencingNode({ target: asInitiator(lun, 'x'), key: 2n ** 64n })).toThrow(/2\^64-1/);
    expect(() => new PrFencingNode({ target: asInitiator(lun, 'x'), key: 1, registration: 'each' as never })).toThrow(InvalidArgumentError);
    expect(() => new PrFencingNode({ target: asInitiator(lun, 'x'), key: 1, paths: [] })).toThrow(/at least 1/);
    await expect(nodes[0]!.fence(0x1001n)).rejects.toThrow(/cannot fence its own key/);
    // A target without persistent reservations: the step and its sense are in the error.
    const none = new PrFencingNode({ target: { execute: () => ({ status: 2, sense: Uint8Array.of(0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0) }) }, key: 7, name: 'old-target' });
    await expect(none.register()).rejects.toThrow(FencingError);
    await expect(none.register()).rejects.toThrow('old-target: register answered status 02h sense 5/20/00');
  });
});

describe('PR fencing, 4 nodes in-process', () => {
  it('a non-holder fails: the holder fences it, the reservation stays, the three survivors write, lock and clone; the failed node is refused everything that writes', async () => {
    const { lun, nodes } = cluster(4);
    for (const n of nodes) await n.join();
    const [n1, n2, n3, n4] = nodes as [PrFencingNode, PrFencingNode, PrFencingNode, PrFencingNode];
    const seed = new Uint8Array(MiB).fill(0x5e);
    expectStatus(await n3.execute(cdb.write16({ lba: 0, blocks: MiB / 512 }), seed), 0);

    const report = await n1.fence(0x1002n);
    expect(report).toEqual({ victim: 0x1002n, tookReservation: false, aborted: true, generation: 5 });
    expect((await n4.readKeys()).keys).toEqual([0x1001n, 0x1003n, 0x1004n]);
    expect(await n4.readReservation()).toEqual({ key: 0x1001n, type: 5 });

    expectPreemptedAttention(await writeBlock(n2, 4096, 0x22));
    const locks = [n1, n3, n4].map((n, i) => new LockManager({ target: n, hostId: i + 1, method: 'ats', sleep }));
    for (const [i, l] of locks.entries()) {
      await l.acquire(3000 + i);
      expect(l.holds(3000 + i)).toBe(true);
      await l.heartbeat(3100 + i);
      await l.release(3000 + i);
    }
    const fencedLocks = new LockManager({ target: n2, hostId: 9, method: 'ats', sleep });
    await expect(fencedLocks.acquire(3009)).rejects.toMatchObject({ name: 'HostIoError', status: 0x18 });

    const clone = await cloneRange({ source: n3, destination: n3, sourceLba: 0, destinationLba: 8192, blocks: MiB / 512 });
    expect(clone.offloadedBytes).toBe(MiB);
    expect(await blockByte(lun, 8192 + 100)).toBe(0x5e);
    // The failed node's EXTENDED COPY is refused, and so is the data mover's host fallback.
    await expect(cloneRange({ source: n2, destination: n2, sourceLba: 0, destinationLba: 16384, blocks: 2048 })).rejects.toThrow(HostIoError);
    await expect(cloneRange({ source: n2, destination: n2, sourceLba: 0, destinationLba: 16384, blocks: 2048 })).rejects.toThrow('clone: EXTENDED COPY: opcode 83h failed with status 18h');
    expect(await blockByte(lun, 16384)).toBe(0);
    for (const n of [n1, n3, n4]) expectStatus(await writeBlock(n, 4096, 0x33), 0);
    expectStatus(await writeBlock(n2, 4096, 0x22), 0x18);
    expect(await blockByte(lun, 4096)).toBe(0x33);
  });

  it('the holder fails: a survivor fences it and holds the reservation; the other survivors keep writing', async () => {
    const { nodes } = cluster(4);
    for (const n of nodes) await n.join();
    const [n1, n2, n3, n4] = nodes as [PrFencingNode, PrFencingNode, PrFencingNode, PrFencingNode];
    expect(await n4.fence(0x1001n)).toEqual({ victim: 0x1001n, tookReservation: true, aborted: true, generation: 5 });
    expect(await n2.readReservation()).toEqual({ key: 0x1004n, type: 5 });
    // The survivors learn of the new holder (2A/03 RESERVATIONS RELEASED is not sent for a type kept; their writes are GOOD).
    for (const n of [n2, n3, n4]) {
      let r = await writeBlock(n, 50, 0x44);
      if (r.status === 2) r = await writeBlock(n, 50, 0x44);
      expectStatus(r, 0);
    }
    expectPreemptedAttention(await writeBlock(n1, 50, 0x11));
    expectStatus(await writeBlock(n1, 50, 0x11), 0x18);
  });
});
