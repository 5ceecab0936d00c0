// The README cannot rot: every code block in it is run or checked here.
// - ts: written to a file with the package's import paths pointed at src/, imported, and every console.log
//   compared with the `// what it prints` comment on its line (`// e.g. ...` when the value varies).
// - sh: the contributor quick start must be exactly the two commands; install lines may name only this package
//   and its optional peers; every `npx vaai-sim ...` block is run with bash, `npx vaai-sim` being this
//   checkout's CLI, and each command's exit code compared with its `# exit N` comment (0 when it has none); a
//   command ending in `&` is a server, waited for until it prints its URLs.
// - json: validated against the published config schema, and written to serve.json for the command-line
//   examples that serve it.
// - text: output transcripts, not code.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TMP = join(ROOT, 'test/.tmp-readme');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown>; peerDependencies: Record<string, string> };

interface Block {
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The nearest heading above the block. */
  readonly heading: string;
}

function readmeBlocks(): Block[] {
  const out: Block[] = [];
  const lines = README.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#+ (.*)$/.exec(lines[i]!);
    if (h !== null) heading = h[1]!;
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    out.push({ lang: open[1]!, code: `${body.join('\n')}\n`, line: start + 1, heading });
  }
  return out;
}

const blocks = readmeBlocks();
const byLang = (lang: string): Block[] => blocks.filter((b) => b.lang === lang);

/** The package's import specifiers mapped to this checkout's sources. */
function pointAtSources(code: string): string {
  return code.replace(/from '(vaai-sim(?:\/[a-z-]+)?)'/g, (_, spec: string) => {
    const sub = spec === 'vaai-sim' ? '' : spec.slice('vaai-sim/'.length);
    if (!(`./${sub}` in pkg.exports) && sub !== '') throw new Error(`README imports ${spec}, which package.json does not export`);
    return `from '${join(ROOT, 'src', sub, 'index.js')}'`;
  });
}

/** What each console.log line of a block says it prints, in order. */
function expectedPrints(code: string): Array<{ text: string; varies: boolean }> {
  return code
    .split('\n')
    .filter((l) => /\bconsole\.log\(/.test(l))
    .map((l) => {
      const m = /\/\/ (.*)$/.exec(l);
      if (m === null) throw new Error(`README: a console.log without a '// what it prints' comment: ${l.trim()}`);
      const varies = m[1]!.startsWith('e.g. ');
      return { text: m[1]!.replace(/^e\.g\. /, '').replace(/ \([^)]*\)$/, ''), varies };
    });
}

describe('README', () => {
  afterAll(() => rmSync(TMP, { recursive: true, force: true }));

  it('has only code blocks this test knows how to run or check', () => {
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks) expect(['ts', 'sh', 'json', 'text'], `line ${b.line}: a block with language '${b.lang}'`).toContain(b.lang);
  });

  it('the contributor quick start has exactly the two commands', () => {
    const quick = byLang('sh').filter((b) => b.heading.startsWith('Contributing'));
    expect(quick).toHaveLength(1);
    expect(quick[0]!.code.trim().split('\n').map((l) => l.replace(/#.*/, '').trim())).toEqual(['npm ci && npm run bench', 'npm ci && npm test']);
  });

  it('install lines name only this package and its optional peer dependencies', () => {
    const installs = byLang('sh').flatMap((b) => b.code.split('\n')).filter((l) => /^npm install /.test(l));
    expect(installs.length).toBeGreaterThan(0);
    const known = new Set([pkg.name, ...Object.keys(pkg.peerDependencies)]);
    for (const l of installs) for (const name of l.replace(/#.*/, '').trim().split(/\s+/).slice(2)) expect(known, l).toContain(name);
  });

  for (const block of byLang('ts')) {
    it(`the TypeScript example at line ${block.line} (${block.heading}) runs as printed`, async () => {
      const expected = expectedPrints(block.code);
      mkdirSync(TMP, { recursive: true });
      const file = join(TMP, `block-${block.line}.ts`);
      writeFileSync(file, pointAtSources(block.code));
      const printed: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
      const error = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(`console.error: ${args.map(String).join(' ')}`));
      try {
        await import(file);
      } finally {
        log.mockRestore();
        error.mockRestore();
      }
      expect(printed).toHaveLength(expected.length);
      expected.forEach((e, i) => {
        if (e.varies) expect(printed[i]!.split(' ').length, `line ${i}: ${printed[i]}`).toBe(e.text.split(' ').length);
        else expect(printed[i]).toBe(e.text);
      });
    }, 120_000);
  }

  for (const block of byLang('json')) {
    it(`the config at line ${block.line} is valid against the published schema`, async () => {
      const { validateServeConfig } = await import('../../src/cli/config.js');
      expect(() => validateServeConfig(JSON.parse(block.code) as unknown, `README.md:${block.line}`)).not.toThrow();
    });
  }

  for (const block of byLang('sh').filter((b) => /^(\w+=\S+ )*npx vaai-sim /m.test(b.code))) {
    it(`the command-line example at line ${block.line} (${block.heading}) exits as its comments say`, () => {
      mkdirSync(TMP, { recursive: true });
      for (const json of byLang('json')) writeFileSync(join(TMP, 'serve.json'), json.code);
      const lines = block.code.split('\n').filter((l) => l.trim() !== '');
      const script = [
        `npx() { if [ "$1" != vaai-sim ]; then echo "README: npx $1 is not this package" >&2; return 99; fi; shift; node --import tsx ${JSON.stringify(join(ROOT, 'src/cli/bin.ts'))} "$@"; }`,
        // A background `npx vaai-sim serve` is a subshell running node: stop node as well as the subshell.
        'trap \'for p in $(jobs -p); do pkill -P "$p"; kill "$p"; done 2>/dev/null\' EXIT',
        'cd "$README_TMP"',
        ...lines.map((l, i) => {
          const exit = /# exit (\d+)/.exec(l);
          // a server in the background: wait until it prints (its URLs, once it listens), as a person would
          if (/&\s*(#.*)?$/.test(l)) return `${l.replace(/&\s*(#.*)?$/, '')} > bg-${i}.out 2>&1 & for n in $(seq 300); do [ -s bg-${i}.out ] && break; sleep 0.1; done`;
          if (exit === null) return `${l} >/dev/null; echo "README-EXIT ${i} $?"`;
          return `${l.replace(/#.*$/, '')} >/dev/null 2>&1; echo "README-EXIT ${i} $? ${exit[1]}"`;
        }),
      ].join('\n');
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, README_TMP: TMP }, timeout: 100_000 });
      const exits = [...r.stdout.matchAll(/README-EXIT (\d+) (\d+)(?: (\d+))?/g)];
      expect(exits.length, r.stderr).toBe(lines.filter((l) => !/&\s*(#.*)?$/.test(l)).length);
      for (const [, i, got, want] of exits) expect(`${lines[Number(i)]} -> exit ${got}`).toBe(`${lines[Number(i)]} -> exit ${want ?? '0'}`);
    }, 120_000);
  }
});
