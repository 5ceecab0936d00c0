// The package as an npm user meets it: built from a copy of this tree (so the repository's own dist/ is left
// alone), packed, installed into a new project, and every `exports` entry loaded with require() and import.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consumerChecks, enginesProblems, manifestProblems, packedFileProblems, satisfiesRange } from '../../scripts/package-checks.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'vaai-sim-consumer-'));

describe('the package from a consumer project', () => {
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('engines ranges are read as npm reads them, so a Node 22-only dependency is caught', () => {
    expect(satisfiesRange('20.19.0', '>=18')).toBe(true);
    expect(satisfiesRange('20.19.0', '^20.19.0 || >=22.12.0')).toBe(true);
    expect(satisfiesRange('20.19.0', '18 || 20 || >=22')).toBe(true);
    expect(satisfiesRange('20.19.0', '>= 14.6')).toBe(true);
    expect(satisfiesRange('20.19.0', '6.* || 8.* || >= 10.*')).toBe(true);
    // vega-lite 6.5.0 declared this, which made `npm ci` warn EBADENGINE on Node 20
    expect(satisfiesRange('20.19.0', '>=22')).toBe(false);
    expect(satisfiesRange('20.19.0', '^20.20.0')).toBe(false);
    expect(satisfiesRange('20.19.0', '^18.0.0 || ^22.0.0')).toBe(false);
  });

  it('every locked dependency runs on the oldest Node.js the package claims; the manifest has its links', () => {
    expect(enginesProblems(ROOT)).toEqual([]);
    expect(manifestProblems(ROOT)).toEqual([]);
  });

  it('builds from an empty dist, packs only what users need, and loads with require() and import', () => {
    const pkg = join(tmp, 'pkg');
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'src', 'schema']) cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    cpSync(join(ROOT, 'test/package/consumer.test.ts'), join(pkg, 'dist/stale-file-from-an-earlier-build.js'));
    execFileSync('npm', ['run', 'build'], { cwd: pkg, stdio: 'pipe' });
    expect(existsSync(join(pkg, 'dist/stale-file-from-an-earlier-build.js'))).toBe(false);
    expect(existsSync(join(pkg, 'dist/index.js'))).toBe(true);

    const packed = packedFileProblems(pkg);
    expect(packed.problems).toEqual([]);
    expect(packed.files).toContain('schema/serve-config.schema.json');
    expect(packed.files.filter((f) => f.startsWith('test/') || f.startsWith('src/'))).toEqual([]);

    const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: pkg, encoding: 'utf8' })) as [{ filename: string }];
    const consumer = consumerChecks(join(tmp, filename), join(tmp, 'consumer'), ROOT);
    expect(consumer.problems).toEqual([]);
    // every JavaScript entry, both ways, and the schema and the binary
    for (const spec of ['vaai-sim', 'vaai-sim/host', 'vaai-sim/bench', 'vaai-sim/iscsi', 'vaai-sim/testing']) {
      expect(consumer.lines.some((l) => l.startsWith(`require('${spec}').`) && l.endsWith('(CommonJS)'))).toBe(true);
      expect(consumer.lines.some((l) => l.startsWith(`import('${spec}').`) && l.endsWith('(ESM)'))).toBe(true);
    }
    expect(consumer.lines).toContain("require('vaai-sim/serve-config.schema.json'): a JSON object");
    writeFileSync(join(tmp, 'consumer', 'done'), '');
  }, 240_000);
});
