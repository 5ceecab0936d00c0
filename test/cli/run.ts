import { vi } from 'vitest';
import { main, type MainOptions } from '../../src/cli/main.js';

/** What one `main` call printed and returned. */
export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `main(argv)` with stdout and stderr captured (and `env` set for the call). */
export async function run(argv: readonly string[], env: Record<string, string | undefined> = {}, options: MainOptions = {}): Promise<Run> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  set(env);
  const io = capture();
  try {
    return { code: await main(argv, options), out: io.out(), err: io.err() };
  } finally {
    io.restore();
    set(saved);
  }
}

/** Captures stdout and stderr until `restore()`; `out()`/`err()` read what was written so far. */
export function capture(): { out: () => string; err: () => string; restore: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  return {
    out: () => out.join(''),
    err: () => err.join(''),
    restore: () => {
      stdout.mockRestore();
      stderr.mockRestore();
    },
  };
}
