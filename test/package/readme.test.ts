import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TMP = join(ROOT, 'test/.tmp-readme');

/** The README's code blocks of a language, in order. */
function blocks(lang: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

describe('README', () => {
  afterAll(() => rmSync(TMP, { recursive: true, force: true }));

  it('the quick start has exactly the two commands', () => {
    expect(blocks('sh')[0]!.trim().split('\n').map((l) => l.replace(/#.*/, '').trim())).toEqual(['npm ci && npm run bench', 'npm ci && npm test']);
  });

  it('the usage example runs as written and prints what its comments say', async () => {
    const example = blocks('ts')[0]!;
    mkdirSync(TMP, { recursive: true });
    const file = join(TMP, 'usage.ts');
    writeFileSync(file, example.replace("from 'vaai-sim'", `from '${join(ROOT, 'src/index.js')}'`));
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    try {
      await import(file);
    } finally {
      spy.mockRestore();
    }
    const expected = [...example.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!.replace(/ \(GOOD\)$/, ''));
    expect(printed).toEqual(expected);
  });

  it('the host-side example runs as written', async () => {
    const example = blocks('ts')[2]!;
    mkdirSync(TMP, { recursive: true });
    const file = join(TMP, 'host.ts');
    writeFileSync(file, example.replace("from 'vaai-sim'", `from '${join(ROOT, 'src/index.js')}'`).replace("from 'vaai-sim/host'", `from '${join(ROOT, 'src/host/index.js')}'`));
    const printed: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args));
    try {
      await import(file);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toHaveLength(1);
    expect(printed[0]![0]).toBe(1 << 28); // the whole LUN went by EXTENDED COPY
    expect(printed[0]![1]).toBeGreaterThan(0); // simulated milliseconds
  });

  it('the fault-injection example uses the real API', async () => {
    const { StorageArray } = await import('../../src/index.js');
    const array = new StorageArray({ capacityBytes: 1 << 30 });
    const run = new Function('array', blocks('ts')[1]!);
    expect(() => run(array)).not.toThrow();
    expect(array.faults.active).toBe(true);
  });
});
