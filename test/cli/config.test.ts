import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVE_CONFIG_KEYS, jsonSyntaxError, parseServeConfig, planFromConfig, serveConfigSchema, suggestKey, validateServeConfig } from '../../src/cli/config.js';
import { main } from '../../src/cli/main.js';
import { capture, run } from './run.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'vaai-sim-config-'));
type Schema = { [key: string]: unknown };
const schema = JSON.parse(readFileSync(join(ROOT, 'schema/serve-config.schema.json'), 'utf8')) as Schema;
const defs = schema.$defs as Record<string, Schema>;

/** The properties of an object schema, with those of the schemas it `$ref`s. */
function properties(node: Schema): Record<string, Schema> {
  const ref = typeof node.$ref === 'string' ? defs[node.$ref.replace('#/$defs/', '')]! : undefined;
  return { ...(ref === undefined ? {} : properties(ref)), ...((node.properties as Record<string, Schema> | undefined) ?? {}) };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the serve config schema', () => {
  it('is draft 2020-12 with an $id, closed objects, and its keys are exactly those of the TypeScript config types', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(/^https:\/\/.*serve-config\.schema\.json$/);
    const objects: Record<keyof typeof SERVE_CONFIG_KEYS, Schema> = {
      root: schema,
      listen: properties(schema).listen!,
      portal: defs.portal!,
      targetPortGroup: defs.targetPortGroup!,
      target: defs.target!,
      lun: defs.lun!,
      credentialFields: defs.credentialFields!,
      chap: defs.chap!,
    };
    for (const [name, node] of Object.entries(objects)) {
      expect(Object.keys(properties(node)).sort(), name).toEqual(Object.keys(SERVE_CONFIG_KEYS[name as keyof typeof SERVE_CONFIG_KEYS]).sort());
    }
    for (const name of ['root', 'listen', 'portal', 'targetPortGroup', 'target', 'lun'] as const) expect(objects[name].additionalProperties, name).toBe(false);
    for (const name of ['chap', 'credentials'] as const) expect(defs[name]!.unevaluatedProperties, name).toBe(false);
    expect(Object.keys(properties(defs.credentials!)).sort()).toEqual(Object.keys(SERVE_CONFIG_KEYS.credentialFields).sort());
  });

  it('has a title and a description on every property (so editors explain each key)', () => {
    const seen: string[] = [];
    const visit = (node: Schema, path: string): void => {
      for (const [key, p] of Object.entries(properties(node))) {
        const ref = typeof p.$ref === 'string' ? defs[p.$ref.replace('#/$defs/', '')]! : {};
        const shown = { ...ref, ...p };
        expect(typeof shown.title, `${path}/${key} title`).toBe('string');
        expect(typeof shown.description, `${path}/${key} description`).toBe('string');
        seen.push(`${path}/${key}`);
        const items = (shown.items as Schema | undefined)?.$ref;
        const child = typeof items === 'string' ? defs[items.replace('#/$defs/', '')]! : shown;
        if (seen.length < 100 && (child.properties !== undefined || child.$ref !== undefined) && child !== node) visit(child, `${path}/${key}`);
      }
    };
    visit(schema, '');
    expect(seen).toEqual(expect.arrayContaining(['/poolGiB', '/listen/port', '/targets/name', '/targets/luns/gib', '/targets/luns/blockSize', '/targets/luns/physicalBlockSize', '/targets/initiators', '/targets/chap/secretEnv', '/targets/chap/mutual/user', '/targets/chap/mutual/secretFile', '/portals/port', '/portals/targetPortGroup', '/targetPortGroups/state', '/targetPortGroups/nonOptimizedDelayMs']));
  });

  it('a config using every key is valid, and every key reaches the plan serve starts', () => {
    writeFileSync(join(dir, 'mutual.secret'), 'target-secret-456\n');
    const config = parseServeConfig(
      JSON.stringify({
        $schema: './node_modules/vaai-sim/schema/serve-config.schema.json',
        poolGiB: 2,
        listen: { host: '127.0.0.1', port: 0 },
        targets: [
          { name: 'iqn.2026-11.x:a', initiators: ['iqn.2026-11.x:host'], chap: { user: 'host', secretEnv: 'CHAP_A', mutual: { user: 'array', secretFile: 'mutual.secret' } }, luns: [{ gib: 1, blockSize: 4096, thin: false }, { gib: 0.5, physicalBlockSize: 4096, sanitizeMiBps: 250 }] },
          { name: 'iqn.2026-11.x:b', chap: { user: 'u', secret: 'inline-secret-1' }, luns: [{ gib: 0.25 }] },
        ],
      }),
      join(dir, 'all.json'),
    );
    expect(planFromConfig(config, join(dir, 'all.json'), { CHAP_A: 'initiator-secret-123' })).toEqual({
      poolBytes: 2 * 2 ** 30,
      host: '127.0.0.1',
      port: 0,
      targets: [
        {
          name: 'iqn.2026-11.x:a',
          initiators: ['iqn.2026-11.x:host'],
          chap: { user: 'host', secret: 'initiator-secret-123', mutual: { user: 'array', secret: 'target-secret-456' } },
          luns: [
            { sizeBytes: 2 ** 30, blockSize: 4096, thin: false, source: `${join(dir, 'all.json')}: /targets/0/luns/0` },
            { sizeBytes: 2 ** 29, blockSize: 512, physicalBlockSize: 4096, thin: true, sanitizeOverwriteRate: 250 * 2 ** 20, source: `${join(dir, 'all.json')}: /targets/0/luns/1` },
          ],
        },
        { name: 'iqn.2026-11.x:b', chap: { user: 'u', secret: 'inline-secret-1' }, luns: [{ sizeBytes: 2 ** 28, blockSize: 512, thin: true, source: `${join(dir, 'all.json')}: /targets/1/luns/0` }] },
      ],
    });
    expect(() => planFromConfig(config, join(dir, 'all.json'), { CHAP_A: 'short' })).toThrow(/\/targets\/0\/chap\/secretEnv: the secret from secretEnv \(CHAP_A\) has 5 characters; CHAP secrets need at least 12/);
  });

  it('the example config in docs/cli.md is valid', () => {
    const docs = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
    const blocks = [...docs.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBe(1);
    expect(() => validateServeConfig(JSON.parse(blocks[0]!) as unknown, 'docs/cli.md')).not.toThrow();
  });

  it('the schema compiles in ajv strict mode, and a JSON syntax error is placed exactly', () => {
    expect(typeof serveConfigSchema().validate).toBe('function');
    expect(jsonSyntaxError('{"a": [1, 2}')).toEqual({ offset: 11, expected: "',' or ']'", found: '"}"' });
    expect(jsonSyntaxError('{"a": tru}')).toEqual({ offset: 9, expected: "'true'", found: '"}"' });
    expect(jsonSyntaxError('{"a": 1} x')).toEqual({ offset: 9, expected: 'the end of the file (one JSON value only)', found: '"x"' });
    expect(jsonSyntaxError('{"a": "x\ny"}')).toMatchObject({ offset: 8, expected: 'no control character in a string (write \\n, \\t)' });
    expect(jsonSyntaxError('{"a": [1, {"b": null}], "c": -1.5e3}')).toBeUndefined();
    expect(suggestKey('pool_gib', ['poolGiB', 'targets'])).toBe('poolGiB');
    expect(suggestKey('taregts', ['poolGiB', 'targets'])).toBe('targets');
    expect(suggestKey('zzz', ['poolGiB', 'targets'])).toBeUndefined();
  });
});

describe('serve --config and check with CHAP, an ACL and digests', () => {
  it('serves a CHAP-protected target with an ACL; check logs in with the secret from the environment or a file, mutual CHAP and digests; a wrong secret or initiator exits 3', async () => {
    const configFile = join(dir, 'chap.json');
    writeFileSync(join(dir, 'array.secret'), 'array-secret-7890\n');
    writeFileSync(join(dir, 'host.secret'), 'host-secret-12345\n');
    writeFileSync(
      configFile,
      JSON.stringify({
        poolGiB: 1,
        listen: { port: 3260 },
        targets: [
          { name: 'iqn.2026-11.dev.vaai-sim:chap', initiators: ['iqn.2026-11.dev.vaai-sim:allowed'], chap: { user: 'host', secretEnv: 'VAAI_SIM_TEST_TARGET_CHAP' }, luns: [{ gib: 0.015625 }] },
          { name: 'iqn.2026-11.dev.vaai-sim:mutual', chap: { user: 'host', secretFile: 'host.secret', mutual: { user: 'array', secretFile: 'array.secret' } }, luns: [{ gib: 0.015625 }] },
        ],
      }),
    );
    const stop = new AbortController();
    const io = capture();
    process.env.VAAI_SIM_TEST_TARGET_CHAP = 'host-secret-12345';
    // --port overrides the file's listen.port (3260)
    const serving = main(['serve', '--config', configFile, '--port', '0'], { signal: stop.signal });
    try {
      for (let i = 0; i < 200 && io.out().split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      io.restore();
      delete process.env.VAAI_SIM_TEST_TARGET_CHAP;
    }
    const [url, mutualUrl] = io.out().trim().split('\n') as [string, string];
    expect(url).toMatch(/^iscsi:\/\/127\.0\.0\.1:\d+\/iqn\.2026-11\.dev\.vaai-sim:chap\/0$/);
    expect(mutualUrl).toMatch(/^iscsi:\/\/127\.0\.0\.1:\d+\/iqn\.2026-11\.dev\.vaai-sim:mutual\/1$/);
    expect(url).not.toContain(':3260/');
    try {
      const login = ['--initiator', 'iqn.2026-11.dev.vaai-sim:allowed', '--chap-user', 'host'];
      const quick = ['--runs', '3', '--seed', '1', '--ops', 'READ(16),WRITE(16),COMPARE AND WRITE'];
      const env = await run(['check', url, ...quick, ...login, '--digests'], { VAAI_SIM_CHAP_SECRET: 'host-secret-12345' });
      expect(env.code, env.err).toBe(0);
      expect(env.out).toMatch(/checkTarget: PASSED after 3 runs/);
      expect(env.out).toMatch(/2 nexus\(es\)/); // two sessions of one initiator name, each its own ISID
      // the file wins over the environment variable
      const file = await run(['check', mutualUrl, ...quick, ...login, '--chap-secret-file', join(dir, 'host.secret'), '--mutual-chap-user', 'array'], { VAAI_SIM_CHAP_SECRET: 'wrong-secret-000', VAAI_SIM_MUTUAL_CHAP_SECRET: 'array-secret-7890' });
      expect(file.code, file.err).toBe(0);
      expect(file.out).toMatch(/checkTarget: PASSED after 3 runs/);
      // a target configured for mutual CHAP refuses an initiator that does not ask for it
      const oneWay = await run(['check', mutualUrl, ...quick, ...login], { VAAI_SIM_CHAP_SECRET: 'host-secret-12345' });
      expect(oneWay.code).toBe(3);
      expect(oneWay.err).toMatch(/rejected: authentication failure \(0201h\)/);
      const wrongSecret = await run(['check', url, ...quick, ...login], { VAAI_SIM_CHAP_SECRET: 'wrong-secret-000' });
      expect(wrongSecret.code).toBe(3);
      expect(wrongSecret.err).toMatch(/^vaai-sim: iSCSI login to iqn\.2026-11\.dev\.vaai-sim:chap at 127\.0\.0\.1:\d+ rejected: authentication failure \(0201h\)/);
      const wrongMutual = await run(['check', mutualUrl, ...quick, ...login, '--mutual-chap-user', 'array'], { VAAI_SIM_CHAP_SECRET: 'host-secret-12345', VAAI_SIM_MUTUAL_CHAP_SECRET: 'not-the-array-secret' });
      expect(wrongMutual.code).toBe(3);
      expect(wrongMutual.err).toMatch(/mutual CHAP/);
      const noChap = await run(['check', url, ...quick, '--initiator', 'iqn.2026-11.dev.vaai-sim:allowed']);
      expect(noChap.code).toBe(3);
      expect(noChap.err).toMatch(/rejected: authentication failure \(0201h\)/);
      const stranger = await run(['check', url, ...quick, '--initiator', 'iqn.2026-11.dev.vaai-sim:stranger', '--chap-user', 'host'], { VAAI_SIM_CHAP_SECRET: 'host-secret-12345' });
      expect(stranger.code).toBe(3);
      expect(stranger.err).toMatch(/rejected: authorization failure \(0202h\)/);
    } finally {
      stop.abort();
    }
    expect(await serving).toBe(0);
  }, 60_000);
});
