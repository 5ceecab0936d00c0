import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { BenchResults } from '../../src/bench/index.js';
import { run } from './run.js';

const out = mkdtempSync(join(tmpdir(), 'vaai-sim-cli-'));
const ROOT = join(import.meta.dirname, '../..');

describe('vaai-sim CLI (smoke, tiny sizes)', () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('bench --quick --strict with tiny sizes writes results.json, report.md and charts, prints the report, exits 1 exactly when a target is missed', async () => {
    const table = vi.spyOn(console, 'table');
    const r = await run(['bench', '--quick', '--strict', '--out', out, '--suite', 'clone,zero', '--suite', 'ats', '--suite', 'backup', '--backup-mib', '8', '--clone-mib', '8', '--zero-gib', '0.0625', '--thin-gib', '0.0625', '--iterations', '1', '--fabric', '10gbe-iscsi']);
    table.mockRestore();
    expect(table).not.toHaveBeenCalled();
    expect(r.code === 0 || r.code === 1, r.err).toBe(true);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults;
    expect(r.code, r.err).toBe(results.targets.some((t) => !t.met) ? 1 : 0);
    expect(new Set(results.scenarios.map((s) => s.scenario))).toEqual(new Set(['clone-8MiB', 'clone-64MiB-thin-30pct', 'eager-zero-64MiB', 'zero-64GiB', 'zero-64MiB', 'ats-1block', 'backup-full', 'backup-incremental']));
    expect(results.fabric.preset).toBe('10gbe-iscsi');
    expect(results.quick).toBe(true);
    // offload moves almost nothing over the fabric; the host path moves the data twice
    const clone = results.scenarios.filter((s) => s.scenario === 'clone-8MiB');
    const hostBytes = clone.find((s) => s.path === 'host')!.fabricBytes;
    expect(hostBytes).toBeGreaterThanOrEqual(2 * 8 * 1024 * 1024);
    expect(hostBytes).toBeLessThan(2 * 8 * 1024 * 1024 + 4096);
    expect(clone.find((s) => s.variant === 'shared extents')!.fabricBytes).toBeLessThan(4096);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/## Targets/);
    for (const chart of ['wall-clock.svg', 'simulated.svg', 'fabric-bytes.svg']) expect(existsSync(join(out, chart)), chart).toBe(true);
    // the printed text is the console report: every scenario, every target, at most 120 columns
    for (const s of results.scenarios) expect(r.out).toContain(s.scenario);
    for (const t of results.targets) expect(r.out).toMatch(new RegExp(`${t.met ? 'met' : 'MISSED'} +${t.name.slice(0, 20).replace(/[()[\].*+?^$|\\]/g, '\\$&')}`));
    for (const line of r.out.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(r.err).toMatch(/wrote .*results\.json/); // progress on stderr
    expect(r.out).not.toMatch(/wrote .*results\.json/);
  }, 120_000);

  it("check URL runs checkTarget over iSCSI: 0 for this project's target, and the report on stdout", async () => {
    const { StorageArray } = await import('../../src/index.js');
    const { IscsiServer } = await import('../../src/iscsi/index.js');
    const array = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096 });
    const iqn = 'iqn.2026-11.dev.vaai-sim:cli-check';
    const server = new IscsiServer({ array, targets: [{ name: iqn, luns: [array.createLun({ sizeBytes: 16 << 20 })] }], port: 0 });
    await server.listen();
    try {
      const r = await run(['check', server.url(iqn, 0), '--runs', '30', '--seed', '5']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/checkTarget: PASSED after 30 runs/);
      expect(r.out).toMatch(/2 nexus\(es\)/);
      expect(r.out).toMatch(/COMPARE AND WRITE, EXTENDED COPY/);
      const only = await run(['check', server.url(iqn, 0), '--runs', '5', '--sessions', '1', '--ops', 'READ(16),WRITE(16)', '--well-formed-only']);
      expect(only.code, only.err).toBe(0);
      expect(only.out).toMatch(/1 nexus\(es\)/);
      expect(only.out).toMatch(/commands: READ\(16\), WRITE\(16\)\n?$/m);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('help for the program and every command exits 0 on stdout; --version prints package.json version', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const argv of [['--help'], ['-h'], ['help'], ['help', 'bench'], ['help', 'serve'], ['help', 'check'], ['bench', '--help'], ['serve', '--help'], ['check', '-h']]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out, argv.join(' ')).toMatch(/^Usage: vaai-sim/);
      expect(r.err).toBe('');
    }
    expect((await run(['check', '--help'])).out).toMatch(/^Usage: vaai-sim check \[options\] <url>/);
    for (const flag of ['--version', '-v']) {
      const r = await run([flag]);
      expect(r).toEqual({ code: 0, out: `${version}\n`, err: '' });
    }
  });

  it('no command, an unknown command or option: exit 2 with the problem named and where to find usage', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^vaai-sim: a command is needed\n\nUsage: vaai-sim/);
    const fly = await run(['fly']);
    expect(fly).toMatchObject({ code: 2, out: '' });
    expect(fly.err).toMatch(/^vaai-sim: unknown command 'fly'\n\(run 'vaai-sim help'/);
    const option = await run(['bench', '--no-such-option']);
    expect(option.code).toBe(2);
    expect(option.err).toMatch(/^vaai-sim: unknown option '--no-such-option'\n\(run 'vaai-sim bench --help' for usage\)/);
    const typo = await run(['bench', '--quik']);
    expect(typo.err).toMatch(/Did you mean --quick\?/);
  });

  it('the executable maps exit codes as main does and prints no stack (spawned like a user runs it)', () => {
    const bin = (args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
    const runs = bin(['check', 'iscsi://127.0.0.1:1/iqn.2026-11.dev.vaai-sim:x/0', '--runs', '2.5']);
    expect(runs.status).toBe(2);
    expect(runs.stderr).toMatch(/^vaai-sim: option '--runs <n>' argument '2\.5' is invalid\. Expected a positive integer/);
    // a closed port on 127.0.0.1: exit 3, the message and no stack
    const closed = bin(['check', 'iscsi://127.0.0.1:1/iqn.2026-11.dev.vaai-sim:x/0']);
    expect(closed.status).toBe(3);
    expect(closed.stderr).toBe('vaai-sim: iSCSI connection to 127.0.0.1:1 failed: connection refused (ECONNREFUSED)\n');
    const version = bin(['-v']);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  }, 60_000);
});
