// What an npm user gets from `npm pack`, checked the way they would meet it: the files in the tarball, the
// package.json fields registries and tools read, the engines of every locked dependency, and a consumer project
// that installs the tarball and loads every `exports` entry with require() and with import.
// Used by scripts/check-pack.mjs (CI) and test/package/consumer.test.ts (npm test).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The oldest Node.js the package claims (package.json `engines.node` is `>=` this). */
export const MIN_NODE = '20.19.0';

/** A named export each JavaScript entry must have, so a load that yields an empty namespace fails. */
export const ENTRY_PROBES = {
  '.': 'StorageArray',
  './host': 'cloneRange',
  './bench': 'runBenchmark',
  './iscsi': 'IscsiServer',
  './testing': 'checkTarget',
};

function parseVersion(v) {
  const parts = v.replace(/^v/, '').split('.').map((p) => (p === '*' || p === 'x' ? undefined : Number(p)));
  return [parts[0] ?? 0, parts[1], parts[2]];
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** One comparator of a range (`>=18`, `^20.19.0`, `20`, `6.*`, `>= 14.6`) against a version triple. */
function satisfiesComparator(version, comparator) {
  const m = /^(>=|<=|>|<|\^|~|=)?\s*v?([0-9x*]+(?:\.[0-9x*]+){0,2})$/.exec(comparator);
  if (m === null) throw new Error(`unsupported engines comparator '${comparator}'`);
  const [, op = '', raw] = m;
  const want = parseVersion(raw);
  const c = compare(version, want);
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    case '<':
      return c < 0;
    case '^':
      return c >= 0 && (want[0] !== 0 ? version[0] === want[0] : version[1] === want[1]);
    case '~':
      return c >= 0 && version[0] === want[0] && (want[1] === undefined || version[1] === want[1]);
    default:
      // a bare or partial version: every part it names must match
      return want.every((p, i) => p === undefined || p === version[i]);
  }
}

/** Whether `version` satisfies an npm `engines` range (`||` alternatives of space-separated comparators). */
export function satisfiesRange(version, range) {
  const v = parseVersion(version);
  return range
    .split('||')
    .map((alt) => alt.trim().replace(/(>=|<=|>|<|\^|~|=)\s+/g, '$1'))
    .some((alt) => alt === '' || alt === '*' || alt.split(/\s+/).every((c) => satisfiesComparator(v, c)));
}

/** Locked packages whose `engines.node` does not admit {@link MIN_NODE} (npm ci warns EBADENGINE for each). */
export function enginesProblems(root) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const problems = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = typeof entry.engines === 'object' && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
    if (path === '' || range === undefined) continue;
    if (!satisfiesRange(MIN_NODE, range)) problems.push(`${path.replace(/^node_modules\//, '')}@${entry.version} wants node ${range}, the package claims >=${MIN_NODE}`);
  }
  const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node;
  if (own !== `>=${MIN_NODE.replace(/\.0$/, '')}`) problems.push(`package.json engines.node is '${own}', expected '>=${MIN_NODE.replace(/\.0$/, '')}'`);
  return problems;
}

/** package.json fields a registry page and a bug reporter need. */
export function manifestProblems(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const problems = [];
  if (typeof pkg.repository?.url !== 'string') problems.push('package.json has no repository.url');
  if (typeof pkg.homepage !== 'string') problems.push('package.json has no homepage');
  if (typeof pkg.bugs?.url !== 'string') problems.push('package.json has no bugs.url');
  if (pkg.license !== 'MIT') problems.push(`package.json license is ${pkg.license}, expected MIT`);
  for (const [entry, value] of Object.entries(pkg.exports)) {
    if (typeof value === 'object' && value.default === undefined) problems.push(`exports '${entry}' has no 'default' condition, so require() cannot resolve it`);
  }
  return problems;
}

/** The files `npm pack` would publish from `dir`, and what is wrong with that list. */
export function packedFileProblems(dir) {
  const [report] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' }));
  const files = report.files.map((f) => f.path);
  const problems = [];
  for (const required of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/bin.js']) {
    if (!files.includes(required)) problems.push(`missing ${required}`);
  }
  for (const f of files) {
    if (/(^|\/)test\//.test(f) || /\.test\.|\.spec\./.test(f) || f.startsWith('src/') || f.startsWith('bench/') || f.startsWith('scripts/')) problems.push(`should not ship ${f}`);
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const targets = (value) => (typeof value === 'string' ? [value] : Object.values(value).flatMap(targets));
  for (const [entry, value] of Object.entries(pkg.exports)) {
    for (const target of targets(value)) if (!files.includes(target.replace(/^\.\//, ''))) problems.push(`exports ${entry} -> ${target} is not packed`);
  }
  return { files, size: report.size, problems };
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * Installs `tarball` (with fast-check, the testing kit's optional peer) into a new project in `dir`, as a user
 * would, and loads every `exports` entry there: require() from CommonJS and import() from ESM, the JSON Schema,
 * and the `vaai-sim` binary. Dependencies come from npm's cache where they are there (the registry otherwise).
 * Returns one line per check and the problems found.
 */
export function consumerChecks(tarball, dir, root) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'vaai-sim-consumer', version: '1.0.0', private: true }, null, 2)}\n`);
  const fastCheck = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies['fast-check'];
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `fast-check@${fastCheck}`], dir);
  const lines = [];
  const problems = [];
  if (install.status !== 0) return { lines, problems: [`npm install of the tarball failed:\n${install.stderr}`] };
  if (/EBADENGINE/.test(install.stderr)) problems.push(`npm install warned EBADENGINE:\n${install.stderr}`);
  lines.push(`npm install ${tarball.split('/').pop()}: ok, no EBADENGINE`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const entry of Object.keys(pkg.exports)) {
    const spec = entry === '.' ? 'vaai-sim' : `vaai-sim/${entry.slice(2)}`;
    const probe = ENTRY_PROBES[entry];
    if (entry.endsWith('.json')) {
      const cjs = run('node', ['-e', `const j = require(${JSON.stringify(spec)}); console.log(typeof j === 'object' && j !== null ? 'object' : typeof j)`], dir);
      if (cjs.stdout.trim() !== 'object') problems.push(`require('${spec}') failed: ${cjs.stderr.trim()}`);
      else lines.push(`require('${spec}'): a JSON object`);
      continue;
    }
    if (probe === undefined) {
      problems.push(`no probe export named for exports entry '${entry}' (add it to ENTRY_PROBES)`);
      continue;
    }
    const cjs = run('node', ['-e', `const m = require(${JSON.stringify(spec)}); console.log(typeof m[${JSON.stringify(probe)}])`], dir);
    if (cjs.status !== 0 || cjs.stdout.trim() !== 'function' || cjs.stderr.trim() !== '') problems.push(`require('${spec}').${probe}: status ${cjs.status}, got '${cjs.stdout.trim()}', stderr '${cjs.stderr.trim()}'`);
    else lines.push(`require('${spec}').${probe}: a function (CommonJS)`);
    const esm = run('node', ['--input-type=module', '-e', `const m = await import(${JSON.stringify(spec)}); console.log(typeof m[${JSON.stringify(probe)}])`], dir);
    if (esm.status !== 0 || esm.stdout.trim() !== 'function') problems.push(`import('${spec}').${probe}: status ${esm.status}, got '${esm.stdout.trim()}', stderr '${esm.stderr.trim()}'`);
    else lines.push(`import('${spec}').${probe}: a function (ESM)`);
  }
  const bin = run(join(dir, 'node_modules/.bin/vaai-sim'), ['--version'], dir);
  if (bin.status !== 0 || bin.stdout.trim() !== pkg.version) problems.push(`vaai-sim --version: status ${bin.status}, printed '${bin.stdout.trim()}' (expected ${pkg.version}), stderr '${bin.stderr.trim()}'`);
  else lines.push(`node_modules/.bin/vaai-sim --version: ${bin.stdout.trim()}`);
  return { lines, problems };
}
