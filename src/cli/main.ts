/**
 * The `vaai-sim` command line. `vaai-sim bench` runs the offload-versus-host benchmark with options.
 * @module
 */
import { parseArgs } from 'node:util';
import { FABRIC_PRESETS, type FabricModel, type FabricPreset } from '../host/fabric.js';
import { SUITES, resultTable, runBenchmark, type BenchOptions, type SuiteName } from '../bench/run.js';

const HELP = `vaai-sim: a simulated block array with the VAAI offloads

Usage:
  vaai-sim bench [options]    run the offload vs host-side benchmark
  vaai-sim serve [options]    serve an array over iSCSI
  vaai-sim check URL [opts]   check an iSCSI LUN's VAAI behaviour against the reference model
                              (iscsi://host:port/iqn/lun; it writes to the LUN's last blocks)
  vaai-sim help               show this help

serve options:
  --host ADDRESS              address to listen on (default 127.0.0.1)
  --port N                    TCP port (default 3260; 0 picks a free one)
  --target IQN                target name (default iqn.2026-11.dev.vaai-sim:array0)
  --luns N                    number of thin LUNs (default 1)
  --lun-gib N                 size of each LUN in GiB (default 64)
  --pool-gib N                thin pool capacity in GiB (default 16)
  --block-size N              512, 1024, 2048 or 4096 (default 512)
  --config FILE               JSON: { "poolGiB", "targets": [{ "name", "initiators"?, "luns": [{ "gib", "blockSize"?, "thin"? }] }] }

check options (needs fast-check installed beside vaai-sim):
  --sessions N                iSCSI sessions (nexuses) to use; 2 or more also races them (default 2)
  --runs N                    runs of the model-based suite (default 100)
  --seed N                    fast-check seed, to replay a run
  --window N                  blocks at the end of the LUN the check may change (default 64)
  --well-formed-only          send no malformed commands
  --ops LIST                  only these commands, comma-separated T10 names, e.g. 'READ(16),WRITE(16)'

bench options:
  --quick                     small sizes (well under a minute)
  --suite NAME                run only this suite (repeatable): ${SUITES.join(', ')}
  --out DIR                   where results.json, report.md and charts go (default bench-results)
  --fabric NAME               fabric preset: ${Object.keys(FABRIC_PRESETS).join(', ')} (default 16gfc)
  --clone-mib N               size of the fully written disk that is cloned (default 1024)
  --thin-gib N                size of the 30 %-written thin disk that is cloned (default 10)
  --thin-written F            fraction of the thin disk written, 0..1 (default 0.3)
  --zero-gib N                size of the disk eager-zeroed both ways (default 10)
  --hosts LIST                locking host counts, e.g. 1,8,32,64
  --locking-ms N              simulated duration of each locking run (default 500)
  --iterations N              measured runs of each whole-disk task (default 3)
  --backup-mib N              size of the disk of the backup scenario (default 256)
  --remote URL                also run the host paths against an iSCSI LUN (iscsi://host:port/iqn/lun);
                              it is written to: give a scratch LUN of at least 512 MiB
  --link-mbps N               model: link payload bandwidth, MB/s per direction
  --latency-ms N              model: command round-trip latency, ms
  --queue-depth N             model: outstanding commands per host
  --array-copy-mbps N         model: array internal copy bandwidth, MB/s
  --array-media-mbps N        model: array media bandwidth, MB/s
  --array-zero-mbps N         model: array bandwidth writing zeros on thick LUNs, MB/s
  --host-cpu-ns-per-byte N    model: host CPU per byte, ns
  --host-cpu-us-per-command N model: host CPU per command, µs
`;

function number(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}, got '${value}'`);
  return n;
}

/** Runs the command line with `argv` (without the node and script paths); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return command === undefined ? 1 : 0;
  }
  if (command === 'serve') return serve(rest);
  if (command === 'check') return check(rest);
  if (command !== 'bench') {
    process.stderr.write(`vaai-sim: unknown command '${command}'\n\n${HELP}`);
    return 2;
  }
  const { values } = parseArgs({
    args: [...rest],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      suite: { type: 'string', multiple: true },
      out: { type: 'string' },
      fabric: { type: 'string' },
      'clone-mib': { type: 'string' },
      'thin-gib': { type: 'string' },
      'thin-written': { type: 'string' },
      'zero-gib': { type: 'string' },
      hosts: { type: 'string' },
      'locking-ms': { type: 'string' },
      'backup-mib': { type: 'string' },
      iterations: { type: 'string' },
      remote: { type: 'string' },
      'link-mbps': { type: 'string' },
      'latency-ms': { type: 'string' },
      'queue-depth': { type: 'string' },
      'array-copy-mbps': { type: 'string' },
      'array-media-mbps': { type: 'string' },
      'array-zero-mbps': { type: 'string' },
      'host-cpu-ns-per-byte': { type: 'string' },
      'host-cpu-us-per-command': { type: 'string' },
    },
  });
  const MiB = 1024 * 1024;
  const model: Partial<Record<keyof FabricModel, number>> = {};
  const set = (key: keyof FabricModel, v: number | undefined): void => {
    if (v !== undefined) model[key] = v;
  };
  set('linkBytesPerSecond', mul(number(values['link-mbps'], 'link-mbps', 1), 1e6));
  set('commandLatencyMs', number(values['latency-ms'], 'latency-ms', 0.000001));
  set('queueDepth', number(values['queue-depth'], 'queue-depth', 1));
  set('arrayCopyBytesPerSecond', mul(number(values['array-copy-mbps'], 'array-copy-mbps', 1), 1e6));
  set('arrayMediaBytesPerSecond', mul(number(values['array-media-mbps'], 'array-media-mbps', 1), 1e6));
  set('arrayZeroBytesPerSecond', mul(number(values['array-zero-mbps'], 'array-zero-mbps', 1), 1e6));
  set('hostCpuPerByteNs', number(values['host-cpu-ns-per-byte'], 'host-cpu-ns-per-byte', 0.000001));
  set('hostCpuPerCommandUs', number(values['host-cpu-us-per-command'], 'host-cpu-us-per-command', 0.000001));
  const gib = (v: string | undefined, name: string): number | undefined => mul(number(v, name, 0.001), 1024 * MiB);
  const options: BenchOptions = {
    quick: values.quick ?? false,
    ...(values.suite ? { suites: values.suite as SuiteName[] } : {}),
    ...(values.out ? { outDir: values.out } : {}),
    ...(values.fabric ? { preset: values.fabric as FabricPreset } : {}),
    ...(Object.keys(model).length > 0 ? { model } : {}),
    ...opt('cloneBytes', mul(number(values['clone-mib'], 'clone-mib', 1), MiB)),
    ...opt('thinDiskBytes', gib(values['thin-gib'], 'thin-gib')),
    ...opt('thinWrittenFraction', number(values['thin-written'], 'thin-written', 0)),
    ...opt('zeroBytes', gib(values['zero-gib'], 'zero-gib')),
    ...(values.hosts ? { hosts: values.hosts.split(',').map((h) => number(h, 'hosts', 1)!) } : {}),
    ...opt('lockingMs', number(values['locking-ms'], 'locking-ms', 1)),
    ...opt('backupDiskBytes', mul(number(values['backup-mib'], 'backup-mib', 1), MiB)),
    ...opt('iterations', number(values.iterations, 'iterations', 1)),
    ...(values.remote ? { remote: values.remote } : {}),
  };
  const results = await runBenchmark(options);
  console.table(resultTable(results));
  for (const t of results.targets) process.stdout.write(`${t.met ? 'met    ' : 'MISSED '} ${t.name}: ${t.measured} (target: ${t.target})\n`);
  return 0;
}

function mul(v: number | undefined, by: number): number | undefined {
  return v === undefined ? undefined : Math.round(v * by);
}

function opt<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}

interface ServeConfig {
  readonly poolGiB?: number;
  readonly targets: ReadonlyArray<{ readonly name: string; readonly initiators?: readonly string[]; readonly luns: ReadonlyArray<{ readonly gib: number; readonly blockSize?: number; readonly thin?: boolean }> }>;
}

/** `vaai-sim check URL`: runs checkTarget against an iSCSI LUN and prints the report; 0 when it passes. */
async function check(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { sessions: { type: 'string' }, runs: { type: 'string' }, seed: { type: 'string' }, window: { type: 'string' }, 'well-formed-only': { type: 'boolean' }, ops: { type: 'string' } },
  });
  const url = positionals[0];
  if (url === undefined || positionals.length > 1) throw new Error('vaai-sim check takes one URL: iscsi://host:port/iqn/lun');
  const { IscsiSession, parseIscsiUrl } = await import('../iscsi/initiator/session.js');
  const target = parseIscsiUrl(url);
  let kit: typeof import('../testing/check-target.js');
  try {
    kit = await import('../testing/check-target.js');
  } catch {
    process.stderr.write('vaai-sim check needs fast-check: npm install fast-check\n');
    return 2;
  }
  const count = number(values.sessions, 'sessions', 1) ?? 2;
  const sessions = [];
  try {
    for (let i = 0; i < count; i++) sessions.push(await IscsiSession.connect({ host: target.host, port: target.port, targetName: target.targetName, initiatorName: `iqn.2026-11.dev.vaai-sim:check-${i}` }));
    const [first, ...others] = sessions.map((s) => s.lun(target.lun));
    const seed = number(values.seed, 'seed', 0);
    const windowBlocks = number(values.window, 'window', 1);
    const report = await kit.checkTarget(first!, {
      others,
      numRuns: number(values.runs, 'runs', 1) ?? 100,
      ...(seed === undefined ? {} : { seed }),
      ...(windowBlocks === undefined ? {} : { windowBlocks }),
      malformed: values['well-formed-only'] !== true,
      ...(values.ops === undefined ? {} : { ops: new Set(values.ops.split(',').map((o) => o.trim()) as Array<import('../testing/commands.js').KitCommand['op']>) }),
    });
    process.stdout.write(`${kit.formatReport(report)}\n`);
    return report.passed ? 0 : 1;
  } finally {
    for (const s of sessions) await s.close().catch(() => undefined);
  }
}

/** `vaai-sim serve`: an array behind an iSCSI target; prints the URL of each LUN and runs until stopped. */
async function serve(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      target: { type: 'string' },
      luns: { type: 'string' },
      'lun-gib': { type: 'string' },
      'pool-gib': { type: 'string' },
      'block-size': { type: 'string' },
      config: { type: 'string' },
    },
  });
  const { StorageArray } = await import('../array/storage-array.js');
  const { IscsiServer } = await import('../iscsi/target/server.js');
  const { readFileSync } = await import('node:fs');
  const GiB = 1024 ** 3;
  const config: ServeConfig =
    values.config !== undefined
      ? (JSON.parse(readFileSync(values.config, 'utf8')) as ServeConfig)
      : {
          poolGiB: number(values['pool-gib'], 'pool-gib', 0.001) ?? 16,
          targets: [
            {
              name: values.target ?? 'iqn.2026-11.dev.vaai-sim:array0',
              luns: Array.from({ length: number(values.luns, 'luns', 1) ?? 1 }, () => ({ gib: number(values['lun-gib'], 'lun-gib', 0.001) ?? 64, blockSize: number(values['block-size'], 'block-size', 512) ?? 512 })),
            },
          ],
        };
  const array = new StorageArray({ capacityBytes: Math.round((config.poolGiB ?? 16) * GiB) });
  const targets = config.targets.map((t) => ({
    name: t.name,
    ...(t.initiators === undefined ? {} : { initiators: t.initiators }),
    luns: t.luns.map((l) => array.createLun({ sizeBytes: Math.round(l.gib * GiB), blockSize: l.blockSize ?? 512, thin: l.thin ?? true })),
  }));
  const server = new IscsiServer({ array, targets, host: values.host ?? '127.0.0.1', port: number(values.port, 'port', 0) ?? 3260 });
  await server.listen();
  for (const t of targets) for (const l of t.luns) process.stdout.write(`${server.url(t.name, l.id)}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
