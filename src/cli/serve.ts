/**
 * `vaai-sim serve`: an array behind an iSCSI target portal, from command-line options or from a
 * JSON config file (schema/serve-config.schema.json). It prints the URL of each LUN on stdout and
 * serves until SIGINT or SIGTERM.
 *
 * The rule for options beside `--config`: the options that describe the array (`--target`,
 * `--luns`, `--lun-gib`, `--pool-gib`, `--block-size`, `--physical-block-size`, `--portals`) conflict with `--config` (an error, exit 2),
 * since the file describes the array; `--host` and `--port` override the file's `listen` and every
 * portal's address and port, so that one file serves on different addresses.
 *
 * With several portals (`--portals N`, or the file's `portals`) every target is served on each, the
 * first portal in target port group 1 (active/optimized) and the others in group 2
 * (active/non-optimized) unless the file says otherwise; one URL is printed per portal and LUN, the
 * first portal's first (so the first lines are what a one-portal serve prints).
 * @module
 */
import { Option, type Command } from 'commander';
import { VaaiSimError } from '../common/errors.js';
import { formatPortal } from '../iscsi/errors.js';
import { EXIT, EXIT_CODES_HELP, LISTEN_ERROR, errorCode } from './exit-codes.js';
import { gibAsBytes, integerIn, iscsiName, positiveInteger } from './parsers.js';
import { MAX_PORTALS, loadServeConfig, lunPlan, planFromConfig, resolvePortals, type ServePlan } from './config.js';
import type { RunState } from './main.js';

/** The options of `serve` as commander hands them over (sizes in bytes). */
interface ServeFlags {
  readonly host?: string;
  readonly port?: number;
  readonly config?: string;
  readonly target?: string;
  readonly luns?: number;
  readonly lunGib?: number;
  readonly poolGib?: number;
  readonly blockSize?: string;
  readonly physicalBlockSize?: number;
  readonly portals?: number;
}

/** The target name `serve` uses without `--target` or `--config`. */
export const DEFAULT_TARGET = 'iqn.2026-11.dev.vaai-sim:array0';

const ARRAY = 'Array (without --config; with it, set these in the file):';

/** Adds `serve` to `program`. */
export function serveCommand(program: Command, state: RunState): Command {
  const arrayOption = (flags: string, description: string): Option => new Option(flags, description).conflicts('config').helpGroup(ARRAY);
  return program
    .command('serve')
    .description('serve a simulated array over iSCSI; prints the URL of each LUN and runs until Ctrl-C (SIGINT) or SIGTERM')
    .option('--config <file>', 'JSON config of the array and its targets (schema: vaai-sim/serve-config.schema.json); see docs/cli.md')
    .option('--host <address>', "address to listen on (default 127.0.0.1); overrides the config's listen.host")
    .addOption(new Option('--port <port>', "TCP port from 0 to 65535; 0 picks a free one (default 3260); overrides the config's listen.port").argParser(integerIn(0, 65535)))
    .addOption(arrayOption('--target <iqn>', `target name (default ${DEFAULT_TARGET})`).argParser(iscsiName))
    .addOption(arrayOption('--luns <n>', 'number of thin LUNs, a positive integer (default 1)').argParser(positiveInteger(16384)))
    .addOption(arrayOption('--lun-gib <gib>', 'size of each LUN in GiB (default 64)').argParser(gibAsBytes))
    .addOption(arrayOption('--pool-gib <gib>', 'thin pool capacity in GiB (default 16)').argParser(gibAsBytes))
    .addOption(arrayOption('--block-size <bytes>', 'logical block size (default 512)').choices(['512', '1024', '2048', '4096']))
    .addOption(
      arrayOption('--physical-block-size <bytes>', 'physical block size: the block size times a power of two up to 2^15, at most 1 MiB; 4096 with 512-byte blocks is 512e (default the block size)').argParser(
        positiveInteger(),
      ),
    )
    .addOption(
      arrayOption('--portals <n>', `iSCSI portals, 1 to ${MAX_PORTALS}: every target on each, the first on --port and the next on the ports after it (free ones with --port 0); portal 1 in target port group 1 (active/optimized), the others in group 2 (active/non-optimized) (default 1)`).argParser(
        integerIn(1, MAX_PORTALS, `an integer from 1 to ${MAX_PORTALS}`),
      ),
    )
    .addHelpText('after', `\nWith --config, --host and --port override the file's listen address and every portal's;\nthe array options conflict with it.\n\n${EXIT_CODES_HELP}\n`)
    .action(async (flags: ServeFlags) => {
      const plan = flags.config === undefined ? planFromFlags(flags) : planFromConfig(loadServeConfig(flags.config), flags.config);
      // --host and --port replace the address and port of every portal, not only the listen defaults.
      const portals = plan.portals?.map(({ host, port, ...rest }) => ({ ...rest, ...(flags.host === undefined && host !== undefined ? { host } : {}), ...(flags.port === undefined && port !== undefined ? { port } : {}) }));
      state.code = await serve({ ...plan, ...(portals === undefined ? {} : { portals }), ...(flags.host === undefined ? {} : { host: flags.host }), ...(flags.port === undefined ? {} : { port: flags.port }) }, state.signal);
    });
}

/** The plan of the command-line options alone. */
function planFromFlags(f: ServeFlags): ServePlan {
  const blockSize = Number(f.blockSize ?? 512);
  const physical = f.physicalBlockSize === undefined ? undefined : { bytes: f.physicalBlockSize, source: '--physical-block-size' };
  const lun = lunPlan((f.lunGib ?? 64 * 2 ** 30) / 2 ** 30, blockSize, true, '--lun-gib', physical);
  const portals = f.portals === undefined ? undefined : Array.from({ length: f.portals }, () => ({ source: '--portals' }));
  return { poolBytes: f.poolGib ?? 16 * 2 ** 30, ...(portals === undefined ? {} : { portals }), targets: [{ name: f.target ?? DEFAULT_TARGET, luns: Array.from({ length: f.luns ?? 1 }, () => lun) }] };
}

/** Serves `plan` until SIGINT, SIGTERM or `signal`; throws before listening when the plan or the address is refused. */
export async function serve(plan: ServePlan, signal?: AbortSignal): Promise<number> {
  const { StorageArray } = await import('../scsi/storage-array.js');
  const { IscsiServer } = await import('../iscsi/target/server.js');
  const { portals, groups } = resolvePortals(plan);
  const array = new StorageArray({ capacityBytes: plan.poolBytes });
  // Hosts reach this array only through its portals: its in-process port is not a path any of them
  // has, so REPORT TARGET PORT GROUPS, READ FULL STATUS and ALL_TG_PT must not name it.
  array.removeTargetPort(array.defaultTargetPort);
  for (const g of groups) array.configureTargetPortGroup(g.id, g.settings);
  const targets = plan.targets.map((t) => ({
    name: t.name,
    ...(t.initiators === undefined ? {} : { initiators: t.initiators }),
    ...(t.chap === undefined ? {} : { chap: t.chap }),
    luns: t.luns.map((l) => {
      try {
        const lun = array.createLun({ sizeBytes: l.sizeBytes, blockSize: l.blockSize, ...(l.physicalBlockSize === undefined ? {} : { physicalBlockSize: l.physicalBlockSize }), thin: l.thin });
        if (l.sanitizeOverwriteRate !== undefined) lun.sanitizeOverwriteRate = l.sanitizeOverwriteRate;
        return lun;
      } catch (e) {
        // A thick LUN the pool cannot hold, more LUNs than LUN numbers: say which LUN asked for it.
        if (e instanceof VaaiSimError) throw new VaaiSimError(e.code, `${l.source}: ${e.message}`);
        throw e;
      }
    }),
  }));
  const server = new IscsiServer({ array, targets, portals });
  try {
    await server.listen();
  } catch (e) {
    // The portal that could not listen: the system error names its address and port.
    const at = e as { address?: unknown; port?: unknown };
    throw listenError(e, typeof at.address === 'string' ? at.address : portals[0]!.host, typeof at.port === 'number' ? at.port : portals[0]!.port);
  }
  portals.forEach((_, i) => {
    for (const t of targets) for (const l of t.luns) process.stdout.write(`${server.url(t.name, l.id, i)}\n`);
  });
  const where = server.portals.map((p) => `${formatPortal(p.host, p.port)} (target port group ${p.targetPortGroup}, ${array.targetPortGroup(p.targetPortGroup!)!.state})`);
  process.stderr.write(`vaai-sim: serving ${targets.length} target(s) on ${where.join(', ')}; Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (signal?.aborted === true) stop();
    else signal?.addEventListener('abort', stop);
  });
  await server.close();
  return EXIT.ok;
}

/** Why the server cannot listen, in words; code ERR_LISTEN (exit 4), or the lookup's code for an unknown host name. */
function listenError(e: unknown, host: string, port: number): Error {
  const code = errorCode(e);
  const why: Record<string, string> = {
    EADDRINUSE: `the port is already in use (another iSCSI target?); choose another --port, or --port 0 for a free one`,
    EACCES: `permission denied (ports below 1024 need privileges); choose --port 1024 or above`,
    EADDRNOTAVAIL: `the address is not one of this machine's; give --host one of its addresses, or 0.0.0.0`,
    ENOTFOUND: `the host name is not known`,
  };
  const reason = (code !== undefined ? why[code] : undefined) ?? (e instanceof Error ? e.message : String(e));
  return new VaaiSimError(LISTEN_ERROR, `cannot listen on ${host}:${port}: ${reason}${code === undefined ? '' : ` (${code})`}`);
}
