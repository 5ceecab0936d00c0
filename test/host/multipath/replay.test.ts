/**
 * The replay rule: a command that may have executed on a path that died is re-issued on another
 * path only when a second execution cannot change its result (docs/decisions/multipath.md).
 * COMPARE AND WRITE is not such a command: when its answer is lost it fails with
 * OutcomeUnknownError, and the lock manager finds out from the lock block what happened.
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../../src/index.js';
import { OutcomeUnknownError } from '../../../src/host/errors.js';
import { LockManager } from '../../../src/host/lock-manager.js';
import { isIdempotent } from '../../../src/host/multipath/classify.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { BLOCK, block, expectAnswer, readFirst, rig, sim, write } from './helpers.js';

function caw(expected: number, next: number): Uint8Array {
  const d = new Uint8Array(2 * BLOCK);
  d.fill(expected, 0, BLOCK);
  d.fill(next, BLOCK);
  return d;
}

/** A two-path device whose first path has `latencyMs` of latency and fails (`link`) `failAtMs` after the start. */
async function dying(link: 'down' | 'black-hole', failAtMs: number, latencyMs = 10) {
  const r = rig([1, 2]);
  const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, commandTimeoutMs: 1000, policy: { policy: 'fixed', preferred: 'p1' } });
  r.ports[0]!.setLatency(latencyMs);
  if (failAtMs === 0) r.ports[0]!.setLink(link);
  else void r.clock.sleep(failAtMs).then(() => r.ports[0]!.setLink(link));
  return { r, d };
}

describe('the replay rule', () => {
  it('COMPARE AND WRITE executed by the array, answer lost (link down in flight): OutcomeUnknownError, not replayed', async () => {
    const { r, d } = await dying('down', 5);
    const error = await sim(r, async () => {
      const e = await d.execute(cdb.compareAndWrite({ lba: 9, blocks: 1 }), caw(0, 0x77)).then(() => undefined, (x: unknown) => x);
      expect(r.clock.now).toBe(10);
      return e;
    });
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as OutcomeUnknownError).path).toBe('p1');
    expect((error as OutcomeUnknownError).cdb[0]).toBe(0x89);
    expect((error as OutcomeUnknownError).cause.message).toMatch(/may have executed/);
    // It executed once (the block holds the new image) and was not sent again: p2 carried no command.
    expect(await readFirst(r.lun, 9)).toBe(0x77);
    expect(d.paths[1]!.stats.commands).toBe(1); // its REPORT TARGET PORT GROUPS at claim, no COMPARE AND WRITE
    expect(d.stats).toMatchObject({ outcomeUnknown: 1, failovers: 0 });
  });

  it('a blind replay of that COMPARE AND WRITE would have miscompared: the rule is what keeps the result true', async () => {
    const { r, d } = await dying('down', 5);
    await sim(r, async () => {
      await d.execute(cdb.compareAndWrite({ lba: 9, blocks: 1 }), caw(0, 0x77)).catch(() => undefined);
      expectAnswer(await d.execute(cdb.compareAndWrite({ lba: 9, blocks: 1 }), caw(0, 0x77)), 2, [0x0e, 0x1d, 0x00]);
    });
  });

  it('COMPARE AND WRITE swallowed by a black hole (never executed): OutcomeUnknownError after the command timeout; the block is unchanged', async () => {
    const { r, d } = await dying('black-hole', 0);
    const error = await sim(r, async () => await d.execute(cdb.compareAndWrite({ lba: 9, blocks: 1 }), caw(0, 0x77)).then(() => undefined, (x: unknown) => x));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(await readFirst(r.lun, 9)).toBe(0);
  });

  it('COMPARE AND WRITE refused by a link that was already down (never sent): re-issued on the other path, GOOD', async () => {
    const { r, d } = await dying('down', 0);
    await sim(r, async () => {
      await r.clock.sleep(1);
      expectAnswer(await d.execute(cdb.compareAndWrite({ lba: 9, blocks: 1 }), caw(0, 0x77)), 0);
    });
    expect(await readFirst(r.lun, 9)).toBe(0x77);
    expect(d.stats).toMatchObject({ outcomeUnknown: 0, failovers: 1 });
  });

  it('a WRITE whose answer was lost is re-issued on the other path (idempotent): GOOD, and the data is right', async () => {
    const { r, d } = await dying('down', 5);
    await sim(r, async () => expectAnswer(await write(d, 12, 0x3c), 0));
    expect(await readFirst(r.lun, 12)).toBe(0x3c);
    expect(d.stats).toMatchObject({ outcomeUnknown: 0, failovers: 1 });
  });

  it('lock manager: its COMPARE AND WRITE executes and the answer is lost; it re-reads the lock block and holds the lock (no lost lock)', async () => {
    // READ of the lock block t = 0..10 on p1, COMPARE AND WRITE sent at 10 (executed), its answer lost at 15.
    const { r, d } = await dying('down', 15);
    await sim(r, async () => {
      const locks = new LockManager({ target: d, hostId: 7, method: 'ats', sleep: (ms) => r.clock.sleep(ms) });
      await locks.acquire(20);
      expect(locks.holds(20)).toBe(true);
      expect(locks.stats).toMatchObject({ acquisitions: 1, miscompares: 0 });
      // Another host cannot take it.
      const other = new LockManager({ target: r.lun, hostId: 8, method: 'ats', sleep: (ms) => r.clock.sleep(ms), initiator: 'other' });
      let taken = false;
      void other.acquire(20).then(() => (taken = true));
      await r.clock.sleep(50);
      expect(taken).toBe(false);
      await locks.release(20);
      await r.clock.sleep(50);
      expect(taken).toBe(true);
    });
    expect(d.stats.outcomeUnknown).toBe(1);
  });

  it('lock manager: its COMPARE AND WRITE is swallowed (never executed); it re-reads, finds the block unchanged and takes the lock on the other path', async () => {
    const r = rig([1, 2]);
    const p1 = r.paths[0]!;
    // A path that loses COMPARE AND WRITE commands before they reach the array.
    const swallowing = { description: 'p1', execute: (c: Uint8Array, data?: Uint8Array) => (c[0] === 0x89 ? new Promise<never>(() => undefined) : p1.execute(c, data)) };
    const d = await MultipathDevice.create({ paths: [swallowing, r.paths[1]!], clock: r.clock, checkerIntervalMs: 0, commandTimeoutMs: 1000, policy: { policy: 'fixed', preferred: 'p1' } });
    await sim(r, async () => {
      const locks = new LockManager({ target: d, hostId: 7, method: 'ats', sleep: (ms) => r.clock.sleep(ms) });
      await locks.acquire(20);
      expect(locks.holds(20)).toBe(true);
      expect(r.clock.now).toBe(1000);
    });
    expect(d.stats).toMatchObject({ outcomeUnknown: 1 });
    expect(d.paths.map((p) => p.state)).toEqual(['dead', 'active']);
    expect(await readFirst(r.lun, 20)).not.toBe(0);
  });

  it('which commands are re-issued: the classification', () => {
    const list = (segments: Array<[number, number, number]>, sameLun = true) =>
      cdb.extendedCopyParameterList({
        cscds: sameLun ? [{ designator: new Uint8Array(16).fill(1), blockSize: 512 }] : [{ designator: new Uint8Array(16).fill(1), blockSize: 512 }, { designator: new Uint8Array(16).fill(2), blockSize: 512 }],
        segments: segments.map(([from, to, blocks]) => ({ source: 0, destination: sameLun ? 0 : 1, blocks, sourceLba: from, destinationLba: to })),
      });
    const rows: Array<[string, Uint8Array, Uint8Array | undefined, boolean]> = [
      ['READ(16)', cdb.read16({ lba: 0, blocks: 1 }), undefined, true],
      ['WRITE(16)', cdb.write16({ lba: 0, blocks: 1 }), block(1), true],
      ['WRITE SAME(16)', cdb.writeSame16({ lba: 0, blocks: 8 }), block(0), true],
      ['UNMAP', cdb.unmap({ parameterListLength: 24 }), undefined, true],
      ['TEST UNIT READY', cdb.testUnitReady(), undefined, true],
      ['COMPARE AND WRITE', cdb.compareAndWrite({ lba: 0, blocks: 1 }), caw(0, 1), false],
      ['RESERVE(6)', cdb.reserve6(), undefined, false],
      ['RELEASE(6)', cdb.release6(), undefined, false],
      ['EXTENDED COPY, disjoint ranges on one LUN', cdb.extendedCopy(0), list([[0, 100, 50]]), true],
      ['EXTENDED COPY onto its own source range', cdb.extendedCopy(0), list([[0, 40, 50]]), false],
      ['EXTENDED COPY between LUNs, same LBAs', cdb.extendedCopy(0), list([[0, 0, 50]], false), true],
      ['unknown opcode', new Uint8Array([0xc0, 0, 0, 0, 0, 0]), undefined, false],
    ];
    expect(rows.map(([name, c, data]) => [name, isIdempotent(c, data)])).toEqual(rows.map(([name, , , want]) => [name, want]));
  });
});
