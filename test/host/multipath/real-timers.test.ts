/**
 * Without a clock the device runs on real timers: here vitest's fake timers stand in for them, so the
 * command timeout, the checker and the APD timeout are driven without waiting on real time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AllPathsDownError } from '../../../src/host/errors.js';
import { MultipathDevice } from '../../../src/host/multipath/device.js';
import { InProcessPath } from '../../../src/host/multipath/in-process-path.js';
import { readFirst, rig, write } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('real timers (faked)', () => {
  it('a black-holed path is given up after the 30 s default command timeout; the checker revives it 5 s after it is restored; APD fails at 140 s', async () => {
    vi.useFakeTimers();
    const r = rig([1, 1]);
    const paths = r.ports.map((port, i) => new InProcessPath(r.lun, port, { name: `p${i + 1}` }));
    const d = await MultipathDevice.create({ paths, policy: { policy: 'fixed', preferred: 'p1' } });
    const started = Date.now();
    r.ports[0]!.setLink('black-hole');
    const pending = write(d, 7, 0x17);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(d.paths[0]!.state).toBe('active');
    await vi.advanceTimersByTimeAsync(1);
    expect((await pending).status).toBe(0);
    expect(Date.now() - started).toBe(30_000);
    expect(d.paths.map((p) => p.state)).toEqual(['dead', 'active']);
    r.ports[0]!.restore();
    await vi.advanceTimersByTimeAsync(5000); // the checker's round at 35 s
    expect(d.paths.map((p) => p.state)).toEqual(['active', 'active']);
    for (const p of r.ports) p.setLink('down');
    const apd = write(d, 8, 1).then(() => 'completed', (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(140_000);
    expect(await apd).toBeInstanceOf(AllPathsDownError);
    await d.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(await readFirst(r.lun, 7)).toBe(0x17);
  });
});
