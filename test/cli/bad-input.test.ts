import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageArray } from '../../src/index.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import { KIT_OPS } from '../../src/testing/commands.js';
import { run } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'vaai-sim-bad-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
// Nothing listens here: the usage errors must be found before any connection is tried.
const URL = 'iscsi://127.0.0.1:1/iqn.2026-11.dev.vaai-sim:array0/0';

describe('every bad input exits 2 and names the problem', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[], RegExp]> = [
    ['--runs 2.5', ['check', URL, '--runs', '2.5'], /^vaai-sim: option '--runs <n>' argument '2\.5' is invalid\. Expected a positive integer/],
    ['--runs 0', ['check', URL, '--runs', '0'], /option '--runs <n>' argument '0' is invalid\. Expected a positive integer/],
    ['--runs -1', ['check', URL, '--runs', '-1'], /option '--runs <n>' argument '-1' is invalid/],
    ['--ops with an unknown name', ['check', URL, '--ops', 'READ(16),BOGUS'], new RegExp(`option '--ops <list>' argument 'READ\\(16\\),BOGUS' is invalid\\. Unknown name 'BOGUS'; allowed: ${KIT_OPS.map((o) => o.replace(/[()]/g, '\\$&')).join(', ')}`)],
    ['--thin-written 1.5', ['bench', '--thin-written', '1.5'], /option '--thin-written <fraction>' argument '1\.5' is invalid\. Expected a fraction greater than 0 and at most 1/],
    ['--thin-written 0', ['bench', '--thin-written', '0'], /option '--thin-written <fraction>' argument '0' is invalid/],
    ['--luns 1.5', ['serve', '--luns', '1.5'], /option '--luns <n>' argument '1\.5' is invalid\. Expected a positive integer/],
    ['--sessions 1.5', ['check', URL, '--sessions', '1.5'], /option '--sessions <n>' argument '1\.5' is invalid\. Expected a positive integer/],
    ['--seed 1.5', ['check', URL, '--seed', '1.5'], /option '--seed <n>' argument '1\.5' is invalid\. Expected an integer/],
    ['--window 0', ['check', URL, '--window', '0'], /option '--window <blocks>' argument '0' is invalid/],
    ['--port 99999', ['serve', '--port', '99999'], /option '--port <port>' argument '99999' is invalid\. Expected an integer from 0 to 65535/],
    ['--portals 0', ['serve', '--portals', '0'], /option '--portals <n>' argument '0' is invalid\. Expected an integer from 1 to 64/],
    ['--portals 65', ['serve', '--portals', '65'], /option '--portals <n>' argument '65' is invalid\. Expected an integer from 1 to 64/],
    ['--portals 1.5', ['serve', '--portals', '1.5'], /option '--portals <n>' argument '1\.5' is invalid\. Expected an integer from 1 to 64/],
    ['--portals beside --config', ['serve', '--config', 'serve.json', '--portals', '2'], /option '--portals <n>' cannot be used with option '--config <file>'/],
    ['--port 65535 --portals 2', ['serve', '--port', '65535', '--portals', '2'], /^vaai-sim: --portals: portal 2 would listen on port 65536 \(port 65535 \+ 1\); ports go up to 65535\n$/],
    ['--port 80x', ['serve', '--port', '80x'], /option '--port <port>' argument '80x' is invalid/],
    ['--block-size 999', ['serve', '--block-size', '999'], /option '--block-size <bytes>' argument '999' is invalid\. Allowed choices are 512, 1024, 2048, 4096/],
    ['--physical-block-size 1536', ['serve', '--physical-block-size', '1536'], /^vaai-sim: --physical-block-size: 1536 is not the logical block size \(512\) times a power of two from 1 to 2\^15\n$/],
    ['--physical-block-size below --block-size', ['serve', '--block-size', '4096', '--physical-block-size', '2048'], /--physical-block-size: 2048 is not the logical block size \(4096\) times a power of two/],
    ['--physical-block-size 2^16 blocks', ['serve', '--physical-block-size', String(512 * 2 ** 16)], /--physical-block-size: 33554432 is not the logical block size \(512\) times a power of two from 1 to 2\^15/],
    ['--physical-block-size over the allocation unit', ['serve', '--port', '0', '--physical-block-size', String(2 * 2 ** 20)], /createLun: physicalBlockSize must be blockSize \(512\) times a power of two from 1 to 2\^15, at most the allocation unit \(1048576\), got 2097152/],
    ['--physical-block-size 0', ['serve', '--physical-block-size', '0'], /option '--physical-block-size <bytes>' argument '0' is invalid\. Expected a positive integer/],
    ['--physical-block-size beside --config', ['serve', '--config', 'serve.json', '--physical-block-size', '4096'], /option '--physical-block-size <bytes>' cannot be used with option '--config <file>'/],
    ['--lun-gib 0', ['serve', '--lun-gib', '0'], /option '--lun-gib <gib>' argument '0' is invalid\. Expected a size in GiB/],
    ['--target not-an-iqn', ['serve', '--target', 'array0'], /option '--target <iqn>' argument 'array0' is invalid\. Expected an iSCSI name/],
    ['--hosts 1,x', ['bench', '--hosts', '1,x'], /option '--hosts <list>' argument '1,x' is invalid\. Expected a comma-separated list of positive integers/],
    ['--hosts 1,,2', ['bench', '--hosts', '1,,2'], /option '--hosts <list>' argument '1,,2' is invalid/],
    ['--iterations 1e3', ['bench', '--iterations', '1e3'], /option '--iterations <n>' argument '1e3' is invalid\. Expected a positive integer/],
    ['--queue-depth 2.5', ['bench', '--queue-depth', '2.5'], /option '--queue-depth <n>' argument '2\.5' is invalid/],
    ['--clone-mib lots', ['bench', '--clone-mib', 'lots'], /option '--clone-mib <mib>' argument 'lots' is invalid\. Expected a positive whole number of MiB/],
    ['--latency-ms -1', ['bench', '--latency-ms', '-1'], /option '--latency-ms <ms>' argument '-1' is invalid\. Expected a number > 0/],
    ['--link-mbps Infinity', ['bench', '--link-mbps', 'Infinity'], /option '--link-mbps <mbps>' argument 'Infinity' is invalid/],
    ['--suite teleport', ['bench', '--suite', 'teleport'], /option '--suite <name>' argument 'teleport' is invalid\. Unknown name 'teleport'; allowed: clone, zero, ats, locking, thin, backup, replication, iscsi/],
    ['--fabric 400g', ['bench', '--fabric', '400g'], /option '--fabric <name>' argument '400g' is invalid\. Allowed choices are 16gfc, 10gbe-iscsi, 25gbe-iscsi/],
    ['--remote with no LUN', ['bench', '--remote', 'iscsi://127.0.0.1/iqn.x'], /argument 'iscsi:\/\/127\.0\.0\.1\/iqn\.x' is invalid\. invalid iSCSI URL .*the LUN is missing/],
    ['check URL with no LUN', ['check', 'iscsi://127.0.0.1/iqn.x'], /command-argument value 'iscsi:\/\/127\.0\.0\.1\/iqn\.x' is invalid for argument 'url'\. .*the LUN is missing/],
    ['check without a URL', ['check'], /missing required argument 'url'/],
    ['check with two URLs', ['check', URL, URL], /too many arguments for 'check'\. Expected 1 argument but got 2/],
    ['--pool-gib beside --config', ['serve', '--config', 'serve.json', '--pool-gib', '4'], /option '--pool-gib <gib>' cannot be used with option '--config <file>'/],
    ['--luns beside --config', ['serve', '--luns', '2', '--config', 'serve.json'], /option '--luns <n>' cannot be used with option '--config <file>'/],
    ['--chap-user without a secret', ['check', URL, '--chap-user', 'bob'], /--chap-user needs a secret: set the environment variable VAAI_SIM_CHAP_SECRET or give --chap-secret-file FILE/],
    ['--chap-secret-file without --chap-user', ['check', URL, '--chap-secret-file', '/dev/null'], /--chap-secret-file needs --chap-user NAME/],
    ['--mutual-chap-user without --chap-user', ['check', URL, '--mutual-chap-user', 'array'], /mutual CHAP \(--mutual-chap-user\) needs one-way CHAP too/],
    ['--chap-secret-file that does not exist', ['check', URL, '--chap-user', 'bob', '--chap-secret-file', '/nonexistent/secret'], /--chap-secret-file: cannot read \/nonexistent\/secret: ENOENT/],
  ];
  for (const [what, argv, message] of cases) {
    it(what, async () => {
      const r = await run(argv, { VAAI_SIM_CHAP_SECRET: undefined });
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    });
  }

  const configs: Array<[string, string, RegExp]> = [
    ['config without targets', '{ "poolGiB": 4 }', /^vaai-sim: .*no-targets\.json: \/: missing required key 'targets' \(an array of at least 1 item\)\n$/],
    ['truncated JSON', '{\n  "targets": [\n    { "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }', /truncated\.json:3:55: invalid JSON: expected ',' or ']', found end of file \(is the file truncated\?\)/],
    ['invalid JSON', '{\n  "targets": [,]\n}', /invalid\.json:2:15: invalid JSON: expected a value/],
    ['unknown key', '{ "pool_gib": 4, "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /unknown-key\.json: \/: unknown key 'pool_gib' \(did you mean 'poolGiB'\?\); allowed keys: \$schema, poolGiB, listen, portals, targetPortGroups, targets/],
    ['empty targets', '{ "targets": [] }', /empty-targets\.json: \/targets: must be an array of at least 1 item/],
    ['an empty portal list', '{ "portals": [], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /^vaai-sim: .*no-portals\.json: \/portals: must be an array of 1 to 64 items\n$/],
    ['65 portals', `{ "portals": [${Array(65).fill('{}').join(', ')}], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }`, /^vaai-sim: .*many-portals\.json: \/portals: must be an array of 1 to 64 items\n$/],
    ['two portals with one tag', '{ "portals": [{ "portalGroupTag": 3 }, {}, { "portalGroupTag": 3 }], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /^vaai-sim: .*same-tag\.json: \/portals\/2: portal 3 has the portal group tag 3 of portal 1; each portal is its own portal group\n$/],
    ['a group state that does not exist', '{ "targetPortGroups": [{ "id": 1, "state": "active" }], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /^vaai-sim: .*bad-state\.json: \/targetPortGroups\/0\/state: must be one of "active\/optimized", "active\/non-optimized", "standby", "unavailable", "offline", "transitioning"\n$/],
    ['a group no portal is in', '{ "portals": [{}, {}], "targetPortGroups": [{ "id": 3, "state": "standby" }], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /^vaai-sim: .*lonely-group\.json: \/targetPortGroups\/0\/id: no portal is in target port group 3 \(the portals are in 1, 2\)\n$/],
    ['a group configured twice', '{ "targetPortGroups": [{ "id": 1 }, { "id": 1, "preferred": true }], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /^vaai-sim: .*twice-group\.json: \/targetPortGroups\/1\/id: target port group 1 is configured twice\n$/],
    ['an implicit transition time over 255 s', '{ "targetPortGroups": [{ "id": 1, "implicitTransitionSeconds": 256 }], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /^vaai-sim: .*transition-time\.json: \/targetPortGroups\/0\/implicitTransitionSeconds: must be an integer from 0 to 255\n$/],
    ['an unknown portal key', '{ "portals": [{ "tpgt": 1 }], "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /^vaai-sim: .*portal-key\.json: \/portals\/0: unknown key 'tpgt'; allowed keys: host, port, portalGroupTag, targetPortGroup\n$/],
    ['a LUN of 0 GiB', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 0 }] }] }', /lun-0\.json: \/targets\/0\/luns\/0\/gib: must be a number > 0 and at most 8388607/],
    ['a LUN larger than representable', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1e300 }] }] }', /lun-huge\.json: \/targets\/0\/luns\/0\/gib: must be a number > 0 and at most 8388607/],
    ['a block size outside the list', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1, "blockSize": 8192 }] }] }', /block-size\.json: \/targets\/0\/luns\/0\/blockSize: must be one of 512, 1024, 2048, 4096/],
    ['a physical block size outside the list', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1, "physicalBlockSize": 1536 }] }] }', /physical-list\.json: \/targets\/0\/luns\/0\/physicalBlockSize: must be one of 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576/],
    ['a physical block smaller than the logical block', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1, "blockSize": 4096, "physicalBlockSize": 1024 }] }] }', /physical-small\.json: \/targets\/0\/luns\/0\/physicalBlockSize: 1024 is not the logical block size \(4096\) times a power of two from 1 to 2\^15\n$/],
    ['duplicate target names', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }, { "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /duplicate\.json: \/targets\/1\/name: the target name 'iqn\.2026-11\.x:a' is already used by \/targets\/0\/name/],
    ['a target name that is no iSCSI name', '{ "targets": [{ "name": "array0", "luns": [{ "gib": 1 }] }] }', /bad-name\.json: \/targets\/0\/name: must be an iSCSI name starting with iqn\., eui\. or naa\./],
    ['a port out of range', '{ "listen": { "port": 99999 }, "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }] }] }', /port\.json: \/listen\/port: must be an integer from 0 to 65535/],
    ['a short inline CHAP secret', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }], "chap": { "user": "u", "secret": "short" } }] }', /short\.json: \/targets\/0\/chap\/secret: must be a string of at least 12 characters/],
    ['two secret sources', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }], "chap": { "user": "u", "secret": "123456789012", "secretEnv": "X" } }] }', /two-secrets\.json: \/targets\/0\/chap: must be exactly one of secret, secretEnv or secretFile\n$/],
    ['an unset secretEnv', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }], "chap": { "user": "u", "secretEnv": "VAAI_SIM_TEST_UNSET" } }] }', /unset\.json: \/targets\/0\/chap\/secretEnv: the environment variable VAAI_SIM_TEST_UNSET is not set/],
    ['an unknown key in mutual CHAP', '{ "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 1 }], "chap": { "user": "u", "secret": "123456789012", "mutual": { "user": "t", "secret": "123456789012", "sekret": "x" } } }] }', /mutual\.json: \/targets\/0\/chap\/mutual: unknown key 'sekret' \(did you mean 'secret'\?\)/],
    ['a thick LUN the pool cannot hold', '{ "poolGiB": 1, "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": 2, "thin": false }] }] }', /thick\.json: \/targets\/0\/luns\/0: createLun: a thick LUN of 2147483648 bytes needs/],
  ];
  for (const [what, text, message] of configs) {
    it(`serve --config: ${what}`, async () => {
      const name = message.source.match(/([a-z0-9-]+)\\\.json/)![1]!;
      const r = await run(['serve', '--port', '0', '--config', file(`${name}.json`, text)], { VAAI_SIM_TEST_UNSET: undefined });
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toContain(join(dir, `${name}.json`));
      expect(r.out).toBe('');
    });
  }

  it('serve --config with several problems lists each on its own line', async () => {
    const r = await run(['serve', '--config', file('many.json', '{ "pool_gib": 4, "targets": [{ "name": "iqn.2026-11.x:a", "luns": [{ "gib": -1, "thinn": true }] }, { "name": "iqn.2026-11.x:b", "luns": [] }] }')]);
    expect(r.code).toBe(2);
    const p = join(dir, 'many.json');
    expect(r.err.split('\n').filter((l) => l !== '')).toEqual([
      `vaai-sim: ${p}: /: unknown key 'pool_gib' (did you mean 'poolGiB'?); allowed keys: $schema, poolGiB, listen, portals, targetPortGroups, targets`,
      `vaai-sim: ${p}: /targets/0/luns/0: unknown key 'thinn' (did you mean 'thin'?); allowed keys: gib, blockSize, physicalBlockSize, thin, sanitizeMiBps`,
      `vaai-sim: ${p}: /targets/0/luns/0/gib: must be a number > 0 and at most 8388607`,
      `vaai-sim: ${p}: /targets/1/luns: must be an array of at least 1 item`,
    ]);
  });

  it('a config file that does not exist: exit 2 naming it', async () => {
    const r = await run(['serve', '--config', join(dir, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^vaai-sim: cannot read the config file .*nope\.json: ENOENT/);
  });
});

describe('the environment and the target', () => {
  it('serve on a port already in use exits 4 with a clean message', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const r = await run(['serve', '--port', String(port), '--lun-gib', '0.01']);
      expect(r.code).toBe(4);
      expect(r.err).toBe(`vaai-sim: cannot listen on 127.0.0.1:${port}: the port is already in use (another iSCSI target?); choose another --port, or --port 0 for a free one (EADDRINUSE)\n`);
      expect(r.out).toBe('');
    } finally {
      holder.close();
    }
  });

  it('an unreachable target (a closed port on 127.0.0.1) exits 3', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    const r = await run(['check', `iscsi://127.0.0.1:${port}/iqn.2026-11.dev.vaai-sim:array0/0`, '--runs', '1']);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`vaai-sim: iSCSI connection to 127.0.0.1:${port} failed: connection refused (ECONNREFUSED)\n`);
  });

  it('a silent peer that never answers the login: exit 3 after --timeout', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await run(['check', `iscsi://127.0.0.1:${port}/iqn.2026-11.dev.vaai-sim:array0/0`, '--timeout', '0.2']);
      expect(r.code).toBe(3);
      expect(r.err).toBe(`vaai-sim: iSCSI connection to 127.0.0.1:${port} failed during login: no answer to the login within 200 ms (loginTimeoutMs)\n`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a wrong target name exits 3 with the login status by name; a missing LUN exits 3', async () => {
    const array = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096 });
    const iqn = 'iqn.2026-11.dev.vaai-sim:cli-bad';
    const server = new IscsiServer({ array, targets: [{ name: iqn, luns: [array.createLun({ sizeBytes: 16 << 20 })] }], port: 0 });
    const { port } = await server.listen();
    try {
      const wrong = await run(['check', `iscsi://127.0.0.1:${port}/iqn.2026-11.dev.vaai-sim:no-such/0`, '--runs', '1']);
      expect(wrong.code).toBe(3);
      expect(wrong.err).toMatch(/^vaai-sim: iSCSI login to iqn\.2026-11\.dev\.vaai-sim:no-such at 127\.0\.0\.1:\d+ rejected: target not found \(0203h\)/);
      const lun = await run(['check', server.url(iqn, 7), '--runs', '1']);
      expect(lun.code, lun.err).toBe(3);
      expect(lun.err).toMatch(/^vaai-sim: .*LUN 7/);
    } finally {
      await server.close();
    }
  });
});
