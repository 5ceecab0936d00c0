import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES_HELP } from '../../src/cli/exit-codes.js';
import { createProgram } from '../../src/cli/main.js';
import { SUITES } from '../../src/bench/run.js';
import { run } from './run.js';

const docs = readFileSync(join(import.meta.dirname, '../../docs/cli.md'), 'utf8');
const program = createProgram({ code: 0 });
const EXIT_LINES = EXIT_CODES_HELP.split('\n').slice(1);

describe('docs/cli.md and --help follow the commander definitions', () => {
  it('the program and its commands are the documented ones', () => {
    expect(program.commands.map((c) => c.name())).toEqual(['bench', 'serve', 'check']);
    for (const c of ['bench', 'serve', 'check URL', 'help [command]']) expect(docs).toContain(`\`vaai-sim ${c}\``);
  });

  for (const command of program.commands) {
    it(`docs/cli.md documents every option of ${command.name()} (with its value name) and its exit codes`, () => {
      const section = docs.slice(docs.indexOf(`## \`vaai-sim ${command.name()}`));
      expect(section.length).toBeLessThan(docs.length);
      for (const option of command.options) {
        const value = option.flags.replace(/^-\w, /, '').replace(/^--[\w-]+/, '').trim();
        expect(section, option.flags).toContain(`\`${option.long!}${value === '' ? '' : ` ${value}`}\``);
      }
    });

    it(`docs/cli.md gives the defaults that ${command.name()} --help gives`, () => {
      const section = docs.slice(docs.indexOf(`## \`vaai-sim ${command.name()}`));
      for (const option of command.options) {
        const stated = /\(default ([^;)]+)(?:; --quick ([^)]+))?\)/.exec(option.description);
        if (stated === null) continue;
        const row = section.split('\n').find((l) => l.startsWith(`| \`${option.long!}`));
        expect(row, option.flags).toBeDefined();
        const [, full, quick] = stated;
        const cells = row!.split('|').map((c) => c.trim());
        const defaults = cells[cells.length - 2]!.replaceAll('`', '');
        expect(defaults, option.flags).toBe(quick === undefined ? full! : `${full!} (--quick: ${quick})`);
      }
    });

    it(`${command.name()} --help lists every option and the exit codes`, async () => {
      const r = await run([command.name(), '--help']);
      expect(r.code).toBe(0);
      for (const option of command.options) expect(r.out, option.flags).toContain(option.flags);
      for (const line of EXIT_LINES) expect(r.out).toContain(line);
    });
  }

  it('docs/cli.md names every benchmark suite --suite takes, in order', () => {
    const row = docs.split('\n').find((l) => l.startsWith('| `--suite <name>`'));
    expect(row).toBeDefined();
    expect([...row!.matchAll(/`([a-z]+)`/g)].map((m) => m[1])).toEqual([...SUITES]);
  });

  it('the program --help lists the commands and the exit codes; docs/cli.md has a row per exit code', async () => {
    const r = await run(['--help']);
    for (const c of ['bench', 'serve', 'check [options] <url>', 'help [command]']) expect(r.out).toContain(c);
    for (const line of EXIT_LINES) expect(r.out).toContain(line);
    for (const code of EXIT_LINES.map((l) => l.trim().split(/\s+/)[0]!)) expect(docs).toMatch(new RegExp(`^\\| ${code} \\| `, 'm'));
    for (const name of ['VAAI_SIM_CHAP_SECRET', 'VAAI_SIM_MUTUAL_CHAP_SECRET', 'VAAI_SIM_DEBUG']) expect(docs).toContain(`\`${name}\``);
  });
});
