/**
 * The targets the whole-suite runner tests, each started fresh for one family: `vaai-sim serve`
 * as a child process, as a user starts it, and Debian's tgt set up as the benchmark sets it up.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTgt } from '../../src/bench/suites/iscsi.js';

/** A running target: the URL of the LUN under test, and how to stop it. */
export interface RunningTarget {
  readonly url: string;
  /** Every URL of the LUN, one per portal (the first is `url`); a target with one portal has one. */
  readonly urls: readonly string[];
  /** Set once the target's process has exited on its own (a crash), with what it said last. */
  readonly died: () => string | undefined;
  readonly stop: () => Promise<void>;
}

/** Size of the LUN under test: SANITIZE OVERWRITE and the like touch every block. */
export const LUN_GIB = 1;

/** The newest modification time of any file under `dir`, in milliseconds. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * How to run the CLI from `root`: the built `dist/cli/bin.js` when it is there and newer than
 * every source file (CI builds before it runs conformance), else the sources through tsx, so
 * that a stale build never stands in for the tree under test.
 */
export function cliCommand(root: string): { argv: string[]; from: 'dist' | 'sources' } {
  const built = join(root, 'dist', 'cli', 'bin.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(root, 'src'))) return { argv: [built], from: 'dist' };
  return { argv: ['--import', 'tsx', join(root, 'src', 'cli', 'bin.ts')], from: 'sources' };
}

/**
 * Starts `vaai-sim serve --port 0` with one thin LUN of {@link LUN_GIB} GiB (512-byte blocks; `extra`
 * adds the options of a LUN profile) and waits (at most `waitMs`) for the URL it prints on stdout.
 */
export async function startVaaiSim(root: string, cli: readonly string[], extra: readonly string[] = [], waitMs = 60_000): Promise<RunningTarget> {
  const child = spawn(process.execPath, [...cli, 'serve', '--port', '0', '--luns', '1', '--lun-gib', String(LUN_GIB), '--pool-gib', String(2 * LUN_GIB), ...extra], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = `exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      resolve();
    }),
  );
  // `serve --portals N` prints one URL per portal (portal 1's first): read as many as there are portals.
  const at = extra.indexOf('--portals');
  const portals = at < 0 ? 1 : Number(extra[at + 1]);
  const lines = createInterface({ input: child.stdout });
  const urls = await new Promise<string[] | undefined>((resolve) => {
    const got: string[] = [];
    const timer = setTimeout(() => resolve(undefined), waitMs);
    lines.on('line', (l) => {
      got.push(l.trim());
      if (got.length === portals) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  const url = urls?.[0];
  const stop = async (): Promise<void> => {
    if (exit !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  if (url === undefined || urls === undefined || !urls.every((u) => u.startsWith('iscsi://'))) {
    await stop();
    throw new Error(`vaai-sim serve did not print ${portals === 1 ? 'a URL' : `${portals} URLs`}: ${exit ?? stderr.trim()}`);
  }
  let stopping = false;
  return {
    url,
    urls,
    died: () => (stopping ? undefined : exit),
    stop: async () => {
      stopping = true;
      await stop();
    },
  };
}

/** Whether Debian's tgt (tgtd and tgtadm) is installed. */
export function haveTgt(): boolean {
  return spawnSync('tgtd', ['-V']).error === undefined && spawnSync('tgtadm', ['--help']).error === undefined;
}

/** Starts a fresh tgtd with a {@link LUN_GIB} GiB file-backed LUN 1, as the benchmark does; undefined when it cannot. */
export async function startTgtTarget(): Promise<RunningTarget | undefined> {
  const tgt = await startTgt(LUN_GIB * 2 ** 30, 0);
  if (tgt === undefined) return undefined;
  return {
    url: tgt.url(1),
    urls: [tgt.url(1)],
    died: () => undefined,
    stop: async () => {
      tgt.stop();
      // SIGKILL is sent; give the kernel a moment to release the daemon's sockets.
      await new Promise((r) => setTimeout(r, 200));
    },
  };
}

/** The output of one bounded run of a command. */
export interface BoundedRun {
  readonly output: string;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly ms: number;
}

/** Runs `command args`, stdout and stderr together, killed (SIGKILL) after `limitMs`. */
export async function runBounded(command: string, args: readonly string[], limitMs: number): Promise<BoundedRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', (e) => (output += `\n${e.message}\n`));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ output, code, timedOut, ms: performance.now() - started });
    });
  });
}
