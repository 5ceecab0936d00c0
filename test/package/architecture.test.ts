import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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

/**
 * The layers, lowest first, and what each folder of src/ may import besides itself (the layering of
 * issue 11): common <- spec <- codec <- array (volumes, no SCSI state) <- scsi (ports, nexuses,
 * logical units, the command set) <- iscsi / host / testing / bench <- cli. Sideways edges in the
 * transport tier are listed one by one: the iSCSI initiator implements the host's ScsiTarget, the
 * test kit drives host paths, the benchmark measures host paths, iSCSI and the kit.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  common: [],
  spec: ['common'],
  codec: ['common', 'spec'],
  array: ['common', 'spec', 'codec'],
  scsi: ['common', 'spec', 'codec', 'array'],
  host: ['common', 'spec', 'codec', 'array', 'scsi'],
  iscsi: ['common', 'spec', 'codec', 'array', 'scsi', 'host'],
  testing: ['common', 'spec', 'codec', 'array', 'scsi', 'host'],
  bench: ['common', 'spec', 'codec', 'array', 'scsi', 'host', 'iscsi', 'testing'],
  cli: ['common', 'spec', 'codec', 'array', 'scsi', 'host', 'iscsi', 'testing', 'bench'],
  'index.ts': ['common', 'spec', 'codec', 'array', 'scsi'],
};

/** An import from one folder of src/ (or a file at its top) to another. */
interface ImportEdge {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/** The edges that break {@link ALLOWED} (an unknown folder breaks it too, so a new one must be placed). */
function violations(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((e) => e.from !== e.to && !(ALLOWED[e.from]?.includes(e.to) ?? false))
    .map((e) => `${e.file}: ${e.from} -> ${e.to}`);
}

/** Every relative import (static, `export from` and dynamic `import()`) between folders of src/. */
function importEdges(): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    const from = rel.split(sep)[0]!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(SRC, resolve(dirname(file), m[1]!));
      edges.push({ file: rel, from, to: target.split(sep)[0]! });
    }
  }
  return edges;
}

/** Folders allowed to use Node's modules: the transports and tools that are subpath exports. */
const NODE_ALLOWED = ['iscsi/', 'cli/', 'host/', 'bench/'];

describe('architecture', () => {
  it('imports go only in the allowed directions between the folders of src/ (src/array imports nothing from src/scsi)', () => {
    const edges = importEdges();
    expect(edges.length).toBeGreaterThan(100);
    expect(edges.some((e) => e.from === 'scsi' && e.to === 'array')).toBe(true);
    expect(violations(edges)).toEqual([]);
  });

  it('the import-direction check fails for a violating edge (array -> scsi, codec -> spec reversed, an unplaced folder)', () => {
    expect(
      violations([
        { file: 'array/volume.ts', from: 'array', to: 'scsi' },
        { file: 'spec/sense.ts', from: 'spec', to: 'codec' },
        { file: 'common/errors.ts', from: 'common', to: 'spec' },
        { file: 'scsi/dispatch.ts', from: 'scsi', to: 'iscsi' },
        { file: 'host/fabric.ts', from: 'host', to: 'iscsi' },
        { file: 'newlayer/x.ts', from: 'newlayer', to: 'common' },
        { file: 'scsi/dispatch.ts', from: 'scsi', to: 'array' },
        { file: 'scsi/dispatch.ts', from: 'scsi', to: 'scsi' },
      ]),
    ).toEqual([
      'array/volume.ts: array -> scsi',
      'spec/sense.ts: spec -> codec',
      'common/errors.ts: common -> spec',
      'scsi/dispatch.ts: scsi -> iscsi',
      'host/fabric.ts: host -> iscsi',
      'newlayer/x.ts: newlayer -> common',
    ]);
  });

  it('the opcode table and INQUIRY / REPORT SUPPORTED OPERATION CODES form no import cycle (the table reaches them through the command context)', () => {
    for (const name of ['spc/inquiry.ts', 'spc/report-supported-operation-codes.ts']) {
      expect(readFileSync(join(SRC, 'scsi', name), 'utf8'), name).not.toMatch(/command-table\.js/);
    }
  });

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
