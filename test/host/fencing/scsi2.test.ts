/**
 * SCSI-2 reservation fencing (Scsi2FencingNode), the challenge/defense protocol on simulated time:
 * a live defender keeps its disk through a challenger's reset; a dead one's reservation is broken
 * only by the reset, and the challenger owns the disk after its wait; every other node, the dead
 * one and the other survivors alike, is refused.
 */
import { describe, expect, it } from 'vitest';
import { StorageArray, cdb, type Lun } from '../../../src/index.js';
import { Scsi2FencingNode } from '../../../src/host/fencing.js';
import { NodeFencedError } from '../../../src/host/errors.js';
import { SimClock } from '../../../src/host/sim/clock.js';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { asInitiator, drainUnitAttentions, expectStatus, readBlock as readVia, writeBlock } from './helpers.js';

const readBlock = (lun: Lun, initiator: string, lba: number) => readVia(asInitiator(lun, initiator), lba);

function cluster(n: number) {
  const clock = new SimClock();
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun = array.createLun({ sizeBytes: 1 << 26 });
  const resets: number[] = [];
  const nodes = Array.from({ length: n }, (_, i) => new Scsi2FencingNode({ target: asInitiator(lun, `node-${i + 1}`), reset: () => void (resets.push(clock.now), lun.reset()), sleep: (ms) => clock.sleep(ms) }));
  return { clock, lun, nodes, resets };
}

describe('SCSI-2 fencing (challenge/defense)', () => {
  it('a live defender renews within the challenger\'s wait and keeps the disk; the challenger loses', async () => {
    const { clock, nodes, resets } = cluster(2);
    const [a, b] = nodes as [Scsi2FencingNode, Scsi2FencingNode];
    const events: string[] = [];
    a.on('renewed', () => events.push(`renewed@${clock.now}`));
    b.on('defended', () => events.push(`defended@${clock.now}`));
    await clock.run(async () => {
      expect(await a.reserve()).toBe(true);
      const defending = a.defend();
      await clock.sleep(1000);
      expect(await b.challenge()).toBe(false);
      a.stopDefending();
      await defending;
    });
    expect(resets).toEqual([1000]);
    expect(events).toEqual(['renewed@3000', 'defended@11000']);
  });

  it('a dead holder: only the reset breaks its reservation; after the wait the challenger owns the disk and every other node is refused', async () => {
    const { clock, lun, nodes } = cluster(4);
    const [a, b, c, d] = nodes as [Scsi2FencingNode, Scsi2FencingNode, Scsi2FencingNode, Scsi2FencingNode];
    await clock.run(async () => {
      expect(await a.reserve()).toBe(true);
      expectStatus(await writeBlock(a, 1, 0xa1), 0);
      // a dies holding the reservation: nobody else may write, and RESERVE cannot take it over.
      for (const n of [b, c, d]) expectStatus(await writeBlock(n, 1, 0xbb), 0x18);
      expect(await b.reserve()).toBe(false);
      expect(await b.challenge()).toBe(true);
      expect(clock.now).toBe(10_000);
    });
    await drainUnitAttentions(b);
    expectStatus(await writeBlock(b, 1, 0xb1), 0);
    for (const n of [a, c, d]) {
      await drainUnitAttentions(n);
      expectStatus(await writeBlock(n, 1, 0x11), 0x18);
    }
    // A SCSI-2 reservation is exclusive access: only the holder reads, too (an observer's READ conflicts).
    expectStatus(await readBlock(lun, 'observer', 1), 0x18);
    expect((await b.execute(cdb.read16({ lba: 1, blocks: 1 }))).data![0]).toBe(0xb1);
    // The old holder coming back finds the disk taken: its defence ends with NodeFencedError.
    await expect(clock.run(() => a.defend())).rejects.toThrow(NodeFencedError);
  });

  it('options: the wait must exceed the renewal period', () => {
    const { lun } = cluster(1);
    const base = { target: asInitiator(lun, 'x'), reset: () => undefined, sleep: () => Promise.resolve() };
    expect(() => new Scsi2FencingNode({ ...base, renewIntervalMs: 3000, challengeWaitMs: 3000 })).toThrow(/must exceed renewIntervalMs/);
    expect(() => new Scsi2FencingNode({ ...base, renewIntervalMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => new Scsi2FencingNode({ target: base.target, sleep: base.sleep } as never)).toThrow(/reset is required/);
  });
});
