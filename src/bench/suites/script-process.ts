/**
 * The benchmark's processes: a script of this folder run as its own Node process (a target, the
 * raw TCP ceiling's server), so that it and the client each get a core, as on two machines. The two
 * talk in lines: the child prints JSON lines; the parent writes commands (`cpu`: the child answers
 * `{"cpuMs":N}`, its user + system CPU time so far) and ends the child by closing its input.
 * @module
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A bench script run as its own process, talking in JSON lines over its standard input and output. */
export interface ScriptProcess {
  /** The next line it prints, undefined once it has exited. */
  nextLine(): Promise<string | undefined>;
  /** Writes a line to its standard input. */
  say(line: string): void;
  /** Closes its standard input (it exits). */
  end(): void;
}

/** Runs `name` (a script of this folder, without extension) as its own Node process. */
export function spawnScript(name: string): ScriptProcess {
  const ts = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(`./${name}.${ts ? 'ts' : 'js'}`, import.meta.url));
  // Run from sources (npm run bench, vitest), the child needs the same TypeScript loader.
  const loader = ts && !process.execArgv.some((a) => a.includes('tsx')) ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...process.execArgv, ...loader, script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const received: string[] = [];
  let wake: (() => void) | undefined;
  let exited = false;
  lines.on('line', (l) => {
    received.push(l);
    wake?.();
  });
  child.once('exit', () => {
    exited = true;
    wake?.();
  });
  return {
    nextLine: async () => {
      while (received.length === 0 && !exited) await new Promise<void>((resolve) => (wake = resolve));
      return received.shift();
    },
    say: (line) => void child.stdin.write(`${line}\n`),
    end: () => void child.stdin.end(),
  };
}

/** The CPU time a script process has used so far, ms (it answers the line `cpu`). */
export async function cpuMsOf(p: ScriptProcess): Promise<number | undefined> {
  p.say('cpu');
  const line = await p.nextLine();
  return line === undefined ? undefined : (JSON.parse(line) as { cpuMs: number }).cpuMs;
}

/**
 * The child's side: answers each line `cpu` on standard input with its CPU time, and calls `onEnd`
 * once standard input closes (the parent is done with it).
 */
export function answerParent(onEnd: () => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() !== 'cpu') return;
    const u = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })}\n`);
  });
  lines.on('close', onEnd);
}
