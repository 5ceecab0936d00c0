// Checks what `npm pack` would publish: built JS, declarations, README, LICENSE, CHANGELOG; no tests,
// no sources of tests, and every `exports` target present. Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [report] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }));
const files = report.files.map((f) => f.path);
const problems = [];
for (const required of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']) {
  if (!files.includes(required)) problems.push(`missing ${required}`);
}
for (const f of files) {
  if (/(^|\/)test\//.test(f) || /\.test\.|\.spec\./.test(f) || f.startsWith('src/') || f.startsWith('bench/')) problems.push(`should not ship ${f}`);
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const targets = (value) => (typeof value === 'string' ? [value] : Object.values(value).flatMap(targets));
for (const [entry, value] of Object.entries(pkg.exports)) {
  for (const target of targets(value)) if (!files.includes(target.replace(/^\.\//, ''))) problems.push(`exports ${entry} -> ${target} is not packed`);
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`npm pack: ${files.length} files, ${report.size} bytes packed; exports all present`);
