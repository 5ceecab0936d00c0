// Checks what `npm pack` publishes and what a user who installs it gets (CI runs this after `npm run build`):
// the build starts from an empty dist/ (a stale file does not survive it); the tarball holds built JS,
// declarations, the config schema, README, LICENSE and CHANGELOG and no tests or sources; package.json has
// repository, homepage and bugs; every locked dependency's engines admit the oldest Node.js the package claims;
// and a consumer project that installs the tarball loads every `exports` entry with require() and import.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { consumerChecks, enginesProblems, manifestProblems, packedFileProblems } from './package-checks.mjs';

const root = resolve(import.meta.dirname, '..');
const problems = [];

const stale = join(root, 'dist/stale-file-from-an-earlier-build.js');
writeFileSync(stale, 'export {};\n');
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
if (existsSync(stale)) problems.push('npm run build kept a stale file in dist/');
else console.log('npm run build: starts from an empty dist/ (a stale file did not survive)');

problems.push(...manifestProblems(root), ...enginesProblems(root));
const packed = packedFileProblems(root);
problems.push(...packed.problems);
console.log(`npm pack: ${packed.files.length} files, ${packed.size} bytes packed; every exports target present`);

const tmp = mkdtempSync(join(tmpdir(), 'vaai-sim-pack-'));
try {
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: root, encoding: 'utf8' }));
  const consumer = consumerChecks(join(tmp, filename), join(tmp, 'consumer'), root);
  for (const line of consumer.lines) console.log(`consumer: ${line}`);
  problems.push(...consumer.problems);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('package checks: all passed');
