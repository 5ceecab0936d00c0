/**
 * Failover on exactly ESXi's triggers (transport loss, 02/04/03, 02/04/0A, 02/04/0B, 06/2A/06 with
 * ALUA) and not on any other answer, which reaches the caller unchanged.
 */
import { describe, expect, it } from 'vitest';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { checkCondition, expectAnswer, readFirst, record, rig, ScriptedPath, sim, write } from './helpers.js';

async function scriptedRig(satp?: 'alua' | 'default') {
  const r = rig([1, 2]);
  const scripted = r.paths.map((p) => new ScriptedPath(p));
  const d = await MultipathDevice.create({ paths: scripted, clock: r.clock, checkerIntervalMs: 0, policy: { policy: 'fixed', preferred: 'p1' }, ...(satp === undefined ? {} : { satp }) });
  return { r, scripted, d };
}

const TRIGGERS: ReadonlyArray<readonly [string, readonly [number, number, number]]> = [
  ['02/04/03 MANUAL INTERVENTION REQUIRED', [0x02, 0x04, 0x03]],
  ['02/04/0A ASYMMETRIC ACCESS STATE TRANSITION', [0x02, 0x04, 0x0a]],
  ['02/04/0B TARGET PORT IN STANDBY STATE', [0x02, 0x04, 0x0b]],
  ['06/2A/06 ASYMMETRIC ACCESS STATE CHANGED', [0x06, 0x2a, 0x06]],
];

const NOT_TRIGGERS: ReadonlyArray<readonly [string, readonly [number, number, number]]> = [
  ['05/24/00 INVALID FIELD IN CDB', [0x05, 0x24, 0x00]],
  ['05/21/00 LBA OUT OF RANGE', [0x05, 0x21, 0x00]],
  ['06/29/00 POWER ON OR RESET', [0x06, 0x29, 0x00]],
  ['06/2A/01 MODE PARAMETERS CHANGED', [0x06, 0x2a, 0x01]],
  ['06/38/07 THIN PROVISIONING SOFT THRESHOLD', [0x06, 0x38, 0x07]],
  ['02/04/01 BECOMING READY', [0x02, 0x04, 0x01]],
  ['03/11/00 UNRECOVERED READ ERROR', [0x03, 0x11, 0x00]],
  ['04/44/00 INTERNAL TARGET FAILURE', [0x04, 0x44, 0x00]],
  ['07/27/00 WRITE PROTECTED', [0x07, 0x27, 0x00]],
  ['07/27/07 SPACE ALLOCATION FAILED', [0x07, 0x27, 0x07]],
  ['0B/47/05 PROTOCOL SERVICE CRC ERROR', [0x0b, 0x47, 0x05]],
  ['0E/1D/00 MISCOMPARE', [0x0e, 0x1d, 0x00]],
];

describe('multipath failover: the triggers', () => {
  for (const [name, [key, asc, ascq]] of TRIGGERS) {
    it(`ALUA: ${name} fails the command over to the other path, which completes it`, async () => {
      const { r, scripted, d } = await scriptedRig();
      const log = record(d);
      await sim(r, async () => {
        // The real array changes group 1 for 06/2A/06 (a unit attention is a real state change); the others are scripted.
        if (asc === 0x2a) await r.array.setTargetPortGroupState(1, 'active/non-optimized');
        else scripted[0]!.answer(checkCondition(key, asc, ascq));
        // 02/04/03 makes p1 dead, 02/04/0A puts group 1 in transition, 02/04/0B in standby: p2 completes at once.
        expectAnswer(await write(d, 3, 0x5a), 0);
        expect(r.clock.now).toBe(0);
      });
      expect(await readFirst(r.lun, 3)).toBe(0x5a);
      const failovers = log.filter((e) => e.startsWith('failover:')).map((e) => JSON.parse(e.slice('failover:'.length)) as Record<string, unknown>);
      expect(failovers).toHaveLength(1);
      expect(failovers[0]).toMatchObject({ from: 'p1', to: 'p2', opcode: 0x8a });
      expect(String(failovers[0]!.reason).startsWith(`${key.toString(16)}/${asc.toString(16).padStart(2, '0')}/${ascq.toString(16).padStart(2, '0')}`)).toBe(true);
      expect(d.stats.failovers).toBe(1);
      // After an implicit change every nexus holds the unit attention: p2's first WRITE meets it too and is retried there.
      expect(scripted[1]!.sent.filter((o) => o === 0x8a)).toHaveLength(asc === 0x2a ? 2 : 1);
      await d.close();
    });
  }

  it('06/2A/06 when nothing changed for this path: the groups are read again and the command is retried on the same path', async () => {
    const { r, scripted, d } = await scriptedRig();
    await sim(r, async () => {
      await r.array.setTargetPortGroupState(2, 'standby');
      expectAnswer(await write(d, 3, 0x5a), 0);
    });
    expect(d.stats).toMatchObject({ failovers: 0, retries: 1, groupReads: 3 }); // one down each path at claim, one after the unit attention
    expect(scripted[0]!.sent).toEqual([0x12, 0x12, 0xa3, 0x8a, 0xa3, 0x8a]);
    expect(d.paths.map((p) => p.state)).toEqual(['active', 'standby']);
  });

  it('transport loss (link down before the command left) fails over, and the command runs once', async () => {
    const { r, scripted, d } = await scriptedRig();
    await sim(r, async () => {
      r.ports[0]!.setLink('down');
      expectAnswer(await write(d, 4, 0x11), 0);
    });
    expect(scripted[0]!.sent.filter((o) => o === 0x8a)).toHaveLength(1); // sent to the path, refused by the link
    expect(scripted[1]!.sent.filter((o) => o === 0x8a)).toHaveLength(1);
    expect(d.paths.map((p) => p.state)).toEqual(['dead', 'active']);
    expect(d.stats.failovers).toBe(1);
  });

  it('a black-holed path: the command times out after commandTimeoutMs and is re-issued on the other path (a WRITE is idempotent)', async () => {
    const r = rig([1, 1]);
    const d = await MultipathDevice.create({ paths: r.paths, clock: r.clock, checkerIntervalMs: 0, commandTimeoutMs: 4000, policy: { policy: 'fixed', preferred: 'p1' } });
    await sim(r, async () => {
      r.ports[0]!.setLink('black-hole');
      expectAnswer(await write(d, 4, 0x22), 0);
      expect(r.clock.now).toBe(4000);
    });
    expect(d.paths.map((p) => [p.state, p.stats.transportErrors])).toEqual([['dead', 1], ['active', 0]]);
  });

  it('default SATP: 02/04/0B and 06/2A/06 are not triggers (VMW_SATP_DEFAULT_AA): passed up unchanged', async () => {
    for (const sense of [[0x02, 0x04, 0x0b], [0x06, 0x2a, 0x06]] as Array<[number, number, number]>) {
      const { r, scripted, d } = await scriptedRig('default');
      await sim(r, async () => {
        scripted[0]!.answer(checkCondition(...sense));
        expectAnswer(await write(d, 3, 0x5a), 2, sense);
      });
      expect(d.stats.failovers).toBe(0);
    }
  });

  it('default SATP: transport loss, 02/04/03 and 02/04/0A still fail over', async () => {
    for (const sense of [[0x02, 0x04, 0x03], [0x02, 0x04, 0x0a]] as Array<[number, number, number]>) {
      const { r, scripted, d } = await scriptedRig('default');
      await sim(r, async () => {
        scripted[0]!.answer(checkCondition(...sense));
        expectAnswer(await write(d, 3, 0x5a), 0);
      });
      expect(d.stats.failovers).toBe(1);
    }
  });
});

describe('multipath failover: ALUA refusals that contradict the known state', () => {
  for (const [sense, state] of [[[0x02, 0x04, 0x0c], 'unavailable'], [[0x02, 0x04, 0x12], 'offline']] as Array<[[number, number, number], string]>) {
    it(`ALUA: ${sense.map((b) => b.toString(16).padStart(2, '0')).join('/')} (${state}) where the groups said active: another command took the 06/2A/06; read again, retried elsewhere`, async () => {
      const r = rig([1, 2]);
      const scripted = r.paths.map((p) => new ScriptedPath(p));
      const d = await MultipathDevice.create({ paths: scripted, clock: r.clock, checkerIntervalMs: 0, policy: { policy: 'fixed', preferred: 'p1' } });
      await sim(r, async () => {
        // The real array: group 1 goes unavailable, and the unit attention of p1's nexus is taken by another command.
        await r.array.setTargetPortGroupState(1, 'unavailable');
        expectAnswer(await r.paths[0]!.execute(new Uint8Array(6)), 2, [0x06, 0x2a, 0x06]);
        if (state === 'offline') scripted[0]!.answer(checkCondition(...sense));
        expectAnswer(await write(d, 3, 0x5a), 0);
      });
      expect(await readFirst(r.lun, 3)).toBe(0x5a);
      expect(d.stats.failovers).toBe(1);
      expect(d.paths.map((p) => [p.state, p.aluaState])).toEqual([['dead', 'unavailable'], ['active', 'active/optimized']]);
    });

    it(`default SATP: ${sense.map((b) => b.toString(16).padStart(2, '0')).join('/')} is passed up unchanged`, async () => {
      const { r, scripted, d } = await scriptedRig('default');
      await sim(r, async () => {
        scripted[0]!.answer(checkCondition(...sense));
        expectAnswer(await write(d, 3, 0x5a), 2, sense);
      });
      expect(d.stats.failovers).toBe(0);
    });
  }
});

describe('multipath failover: every other answer is passed up unchanged, on the same path', () => {
  for (const [name, [key, asc, ascq]] of NOT_TRIGGERS) {
    it(name, async () => {
      const { r, scripted, d } = await scriptedRig();
      const log = record(d);
      await sim(r, async () => {
        const answer = checkCondition(key, asc, ascq);
        scripted[0]!.answer(answer);
        const got = await write(d, 3, 0x5a);
        expect(got).toBe(answer);
        expectAnswer(got, 2, [key, asc, ascq]);
        expect(await readFirst(d, 3)).toBe(0);
      });
      expect(log).toEqual([]);
      expect(d.stats).toMatchObject({ failovers: 0, retries: 0 });
      expect(d.paths.map((p) => p.state)).toEqual(['active', 'active']);
      expect(scripted[1]!.sent.filter((o) => o !== 0x12 && o !== 0xa3)).toEqual([]);
    });
  }

  for (const status of [0x08, 0x18, 0x28]) {
    it(`status ${status.toString(16).padStart(2, '0')}h`, async () => {
      const { r, scripted, d } = await scriptedRig();
      await sim(r, async () => {
        scripted[0]!.answer({ status: status as 0x08 });
        expect((await write(d, 3, 0x5a)).status).toBe(status);
      });
      expect(d.stats.failovers).toBe(0);
    });
  }
});
