/**
 * `vaai-sim bench`: the offload-versus-host benchmark. Prints `formatConsoleReport` on stdout and
 * progress on stderr; with `--strict`, a missed target makes it exit 1.
 * @module
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { FABRIC_PRESETS, type FabricModel, type FabricPreset } from '../host/fabric.js';
import { parseIscsiUrl } from '../iscsi/initiator/session.js';
import { BENCH_DEFAULTS, SUITES, type BenchOptions, type SuiteName } from '../bench/run.js';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { choiceList, fraction, gibAsBytes, mibAsBytes, positiveInteger, positiveIntegerList, positiveNumber } from './parsers.js';
import type { RunState } from './main.js';

/** The options of `bench` as commander hands them over (sizes already in bytes). */
interface BenchFlags {
  readonly quick?: boolean;
  readonly strict?: boolean;
  readonly suite?: SuiteName[];
  readonly out?: string;
  readonly fabric?: FabricPreset;
  readonly cloneMib?: number;
  readonly thinGib?: number;
  readonly thinWritten?: number;
  readonly zeroGib?: number;
  readonly hosts?: number[];
  readonly lockingMs?: number;
  readonly iterations?: number;
  readonly backupMib?: number;
  readonly remote?: string;
  readonly linkMbps?: number;
  readonly latencyMs?: number;
  readonly queueDepth?: number;
  readonly arrayCopyMbps?: number;
  readonly arrayMediaMbps?: number;
  readonly arrayZeroMbps?: number;
  readonly hostCpuNsPerByte?: number;
  readonly hostCpuUsPerCommand?: number;
}

const MODEL = 'Fabric model (overrides of the --fabric preset):';

/** Checks an iSCSI URL with the library's parser, as a value parser (bad URL: exit 2 naming the part). */
export function iscsiUrl(text: string): string {
  try {
    parseIscsiUrl(text);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
  return text;
}

const { full, quick } = BENCH_DEFAULTS;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** `(default X; --quick Y)` from the benchmark's own defaults, so the help cannot drift from them. */
function defaults(pick: (d: typeof full) => number | readonly number[], unit: number): string {
  const show = (d: typeof full): string => {
    const v = pick(d);
    return typeof v === 'number' ? String(v / unit) : v.join(',');
  };
  return show(full) === show(quick) ? `(default ${show(full)})` : `(default ${show(full)}; --quick ${show(quick)})`;
}

/** Adds `bench` to `program`. */
export function benchCommand(program: Command, state: RunState): Command {
  const mb = (flags: string, what: string): Option => new Option(flags, `${what}, MB/s`).argParser(positiveNumber(1e12)).helpGroup(MODEL);
  return program
    .command('bench')
    .description('run the offload vs host-side benchmark; writes results.json, report.md and charts, prints the table')
    .option('--quick', 'small sizes (under 30 s on 2 cores)')
    .option('--strict', 'exit 1 when a target is missed')
    .addOption(new Option('--suite <name>', `run only this suite (repeatable or comma-separated): ${SUITES.join(', ')}`).argParser(choiceList(SUITES)))
    .option('--out <dir>', 'where results.json, report.md and the charts go', 'bench-results')
    .addOption(new Option('--fabric <name>', 'fabric preset').choices(Object.keys(FABRIC_PRESETS)).default('16gfc'))
    .addOption(new Option('--clone-mib <mib>', `size of the fully written disk that is cloned, whole MiB ${defaults((d) => d.cloneBytes, MiB)}`).argParser(mibAsBytes))
    .addOption(new Option('--thin-gib <gib>', `size of the thin disk that is cloned, GiB ${defaults((d) => d.thinDiskBytes, GiB)}`).argParser(gibAsBytes))
    .addOption(new Option('--thin-written <fraction>', `fraction of the thin disk written, in (0, 1] ${defaults((d) => d.thinWrittenFraction, 1)}`).argParser(fraction))
    .addOption(new Option('--zero-gib <gib>', `size of the disk eager-zeroed both ways, GiB ${defaults((d) => d.zeroBytes, GiB)}`).argParser(gibAsBytes))
    .addOption(new Option('--hosts <list>', `locking host counts, comma-separated positive integers ${defaults((d) => d.hosts, 1)}`).argParser(positiveIntegerList))
    .addOption(new Option('--locking-ms <ms>', `simulated duration of each locking run, ms ${defaults((d) => d.lockingMs, 1)}`).argParser(positiveNumber(1e9)))
    .addOption(new Option('--iterations <n>', `measured runs of each whole-disk task, a positive integer ${defaults((d) => d.iterations, 1)}`).argParser(positiveInteger(1_000_000)))
    .addOption(new Option('--backup-mib <mib>', `size of the disk of the backup scenario, whole MiB ${defaults((d) => d.backupDiskBytes, MiB)}`).argParser(mibAsBytes))
    .addOption(new Option('--remote <url>', 'also run the host paths against this iSCSI LUN (iscsi://host[:port]/iqn/lun); it is written to: give a scratch LUN of at least 512 MiB').argParser(iscsiUrl))
    .addOption(mb('--link-mbps <mbps>', 'link payload bandwidth per direction'))
    .addOption(new Option('--latency-ms <ms>', 'command round-trip latency, ms (> 0)').argParser(positiveNumber(1e9)).helpGroup(MODEL))
    .addOption(new Option('--queue-depth <n>', 'outstanding commands per host, a positive integer').argParser(positiveInteger(1_000_000)).helpGroup(MODEL))
    .addOption(mb('--array-copy-mbps <mbps>', 'array internal copy bandwidth'))
    .addOption(mb('--array-media-mbps <mbps>', 'array media bandwidth'))
    .addOption(mb('--array-zero-mbps <mbps>', 'array bandwidth writing zeros on thick LUNs'))
    .addOption(new Option('--host-cpu-ns-per-byte <ns>', 'host CPU per byte, ns (> 0)').argParser(positiveNumber(1e9)).helpGroup(MODEL))
    .addOption(new Option('--host-cpu-us-per-command <us>', 'host CPU per command, µs (> 0)').argParser(positiveNumber(1e9)).helpGroup(MODEL))
    .addHelpText('after', `\nProgress goes to stderr, the results table to stdout.\n\n${EXIT_CODES_HELP}\n`)
    .action(async (flags: BenchFlags) => {
      const { runBenchmark } = await import('../bench/run.js');
      const { formatConsoleReport } = await import('../bench/console.js');
      const results = await runBenchmark(benchOptions(flags));
      process.stdout.write(formatConsoleReport(results));
      state.code = flags.strict === true && results.targets.some((t) => !t.met) ? EXIT.failed : EXIT.ok;
    });
}

/** The {@link BenchOptions} the flags ask for. */
function benchOptions(f: BenchFlags): BenchOptions {
  const model: { -readonly [K in keyof FabricModel]?: number } = {};
  const set = (key: keyof FabricModel, v: number | undefined, by = 1): void => {
    if (v !== undefined) model[key] = v * by;
  };
  set('linkBytesPerSecond', f.linkMbps, 1e6);
  set('commandLatencyMs', f.latencyMs);
  set('queueDepth', f.queueDepth);
  set('arrayCopyBytesPerSecond', f.arrayCopyMbps, 1e6);
  set('arrayMediaBytesPerSecond', f.arrayMediaMbps, 1e6);
  set('arrayZeroBytesPerSecond', f.arrayZeroMbps, 1e6);
  set('hostCpuPerByteNs', f.hostCpuNsPerByte);
  set('hostCpuPerCommandUs', f.hostCpuUsPerCommand);
  const options: { -readonly [K in keyof BenchOptions]: BenchOptions[K] } = { quick: f.quick === true, outDir: f.out ?? 'bench-results' };
  if (f.suite !== undefined) options.suites = f.suite;
  if (f.fabric !== undefined) options.preset = f.fabric;
  if (Object.keys(model).length > 0) options.model = model;
  if (f.cloneMib !== undefined) options.cloneBytes = f.cloneMib;
  if (f.thinGib !== undefined) options.thinDiskBytes = f.thinGib;
  if (f.thinWritten !== undefined) options.thinWrittenFraction = f.thinWritten;
  if (f.zeroGib !== undefined) options.zeroBytes = f.zeroGib;
  if (f.hosts !== undefined) options.hosts = f.hosts;
  if (f.lockingMs !== undefined) options.lockingMs = f.lockingMs;
  if (f.backupMib !== undefined) options.backupDiskBytes = f.backupMib;
  if (f.iterations !== undefined) options.iterations = f.iterations;
  if (f.remote !== undefined) options.remote = f.remote;
  return options;
}
