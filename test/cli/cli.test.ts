import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { BenchResults } from '../../src/bench/index.js';

const out = mkdtempSync(join(tmpdir(), 'vaai-sim-cli-'));

describe('vaai-sim CLI (smoke, tiny sizes)', () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('bench --quick with tiny sizes writes results.json, report.md and charts', async () => {
    const printed: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
    const table = vi.spyOn(console, 'table').mockImplementation(() => undefined);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['bench', '--quick', '--out', out, '--suite', 'clone', '--suite', 'zero', '--suite', 'ats', '--suite', 'locking', '--suite', 'thin', '--suite', 'backup', '--backup-mib', '8', '--suite', 'replication', '--clone-mib', '8', '--thin-gib', '0.0625', '--zero-gib', '0.0625', '--hosts', '1,2', '--locking-ms', '10', '--iterations', '1', '--fabric', '10gbe-iscsi']);
    } finally {
      stdout.mockRestore();
      table.mockRestore();
      stderr.mockRestore();
    }
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
    expect(Array.isArray(results.scenarios)).toBe(true);
    for (const s of results.scenarios) {
      expect(['offload', 'host']).toContain(s.path);
      for (const key of ['scenario', 'bytes', 'wallMs', 'simulatedMs', 'fabricBytes', 'commands'] as const) expect(s, key).toHaveProperty(key);
      expect(s.simulatedMs).toBeGreaterThan(0);
    }
    expect(new Set(results.scenarios.map((s) => s.scenario))).toEqual(
      new Set(['clone-8MiB', 'clone-64MiB-thin-30pct', 'eager-zero-64MiB', 'zero-64GiB', 'zero-64MiB', 'ats-1block', 'locking-1-hosts', 'locking-2-hosts', 'thin-pool-out-of-space', 'backup-full', 'backup-incremental', 'replication-clone-and-zero']),
    );
    expect(results.fabric.preset).toBe('10gbe-iscsi');
    // offload moves almost nothing over the fabric; the host path moves the data twice
    const clone = results.scenarios.filter((s) => s.scenario === 'clone-8MiB');
    const hostBytes = clone.find((s) => s.path === 'host')!.fabricBytes;
    expect(hostBytes).toBeGreaterThanOrEqual(2 * 8 * 1024 * 1024); // plus the probe's few hundred bytes
    expect(hostBytes).toBeLessThan(2 * 8 * 1024 * 1024 + 4096);
    expect(clone.find((s) => s.variant === 'shared extents')!.fabricBytes).toBeLessThan(4096);
    expect(results.targets.length).toBeGreaterThan(0);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/## Targets/);
    for (const chart of ['wall-clock.svg', 'simulated.svg', 'fabric-bytes.svg', 'locking-lock-ops.svg', 'locking-vm-io.svg']) {
      expect(existsSync(join(out, chart)), chart).toBe(true);
      expect(readFileSync(join(out, chart), 'utf8')).toMatch(/^<svg/);
      expect(report).toContain(`](${chart})`);
    }
    expect(printed.join('')).toMatch(/(met|MISSED) +peak RSS/);
    expect(printed.join('')).toMatch(/met +Backup with changed block tracking: .*4 of 4 restores verified/);
    expect(printed.join('')).toMatch(/met +Replication of a clone and a zeroing/);
  }, 120_000);

  it('check URL runs checkTarget over iSCSI: 0 for this project\'s target, and the report on stdout', async () => {
    const { StorageArray } = await import('../../src/index.js');
    const { IscsiServer } = await import('../../src/iscsi/index.js');
    const array = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096 });
    const iqn = 'iqn.2026-11.dev.vaai-sim:cli-check';
    const server = new IscsiServer({ array, targets: [{ name: iqn, luns: [array.createLun({ sizeBytes: 16 << 20 })] }], port: 0 });
    await server.listen();
    const printed: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
    try {
      expect(await main(['check', server.url(iqn, 0), '--runs', '30', '--seed', '5'])).toBe(0);
    } finally {
      stdout.mockRestore();
      await server.close();
    }
    const text = printed.join('');
    expect(text).toMatch(/checkTarget: PASSED after 30 runs/);
    expect(text).toMatch(/2 nexus\(es\)/);
    expect(text).toMatch(/COMPARE AND WRITE, EXTENDED COPY/);
    await expect(main(['check'])).rejects.toThrow(/one URL/);
  }, 60_000);

  it('help, unknown commands and bad options', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['help'])).toBe(0);
      expect(await main(['fly'])).toBe(2);
      await expect(main(['bench', '--no-such-option'])).rejects.toThrow(/Unknown option/);
      await expect(main(['bench', '--clone-mib', 'lots'])).rejects.toThrow(/--clone-mib must be a number/);
      await expect(main(['bench', '--suite', 'teleport', '--out', out])).rejects.toThrow(/unknown suite/);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});
