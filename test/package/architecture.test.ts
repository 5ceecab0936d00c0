import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { allCommands } from '../../src/scsi/command-table.js';
import { usageOf } from '../../src/scsi/command.js';
import { StorageArray } from '../../src/index.js';

const SRC = join(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Folders allowed to use Node's modules: the transports and tools that are subpath exports. */
const NODE_ALLOWED = ['iscsi/', 'cli/', 'host/', 'bench/'];

describe('architecture', () => {
  it('the core depends on neither node: modules nor Buffer', () => {
    const offenders: string[] = [];
    for (const file of sources(SRC)) {
      const rel = relative(SRC, file);
      if (NODE_ALLOWED.some((p) => rel.startsWith(p))) continue;
      const text = readFileSync(file, 'utf8');
      if (/from\s+['"]node:/.test(text) || /\bBuffer\./.test(text) || /require\(/.test(text)) offenders.push(rel);
    }
    expect(offenders).toEqual([]);
  });

  it('only the test kit (vaai-sim/testing) and the CLI import fast-check, an optional peer dependency', () => {
    const offenders = sources(SRC)
      .map((f) => relative(SRC, f))
      .filter((rel) => !rel.startsWith('testing/') && !rel.startsWith('cli/') && /from\s+['"]fast-check['"]/.test(readFileSync(join(SRC, rel), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('src/index.ts exports explicitly (no export * from)', () => {
    const index = readFileSync(join(SRC, 'index.ts'), 'utf8');
    expect(index).not.toMatch(/export \* from/);
    expect(Object.keys(api)).toContain('StorageArray');
  });

  it('the opcode table has one row per opcode/service action, each with usage data starting with its opcode', () => {
    const seen = new Set<string>();
    const array = new StorageArray({ capacityBytes: 1 << 20 });
    const luns = [array.createLun({ sizeBytes: 1 << 20 }), array.createLun({ sizeBytes: 1 << 20, thin: false })];
    for (const spec of allCommands()) {
      const key = `${spec.opcode}/${spec.serviceAction ?? '-'}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
      for (const lun of luns) {
        const usage = usageOf(spec, lun);
        expect(usage.length, spec.name).toBe(spec.cdbLength);
        expect(usage[0], spec.name).toBe(spec.opcode);
        if (spec.serviceAction !== undefined) expect(usage[1]! & 0x1f, spec.name).toBe(0x1f);
      }
    }
  });
});
