/**
 * The `vaai-sim` command line: `bench`, `serve`, `check URL` and `help`.
 *
 * It is built on commander (a well-kept CLI library): each option is declared once, with its value
 * parser, and commander both parses it and generates `--help` from that declaration, so the help
 * cannot drift from what the parser accepts. `main` never calls `process.exit`: commander's exits
 * are turned into return values (`exitOverride`), and errors into the documented exit codes
 * ({@link EXIT}).
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench.js';
import { checkCommand } from './check.js';
import { EXIT, EXIT_CODES_HELP, describeError, exitCodeFor } from './exit-codes.js';
import { serveCommand } from './serve.js';

export { EXIT } from './exit-codes.js';

/** What a command's action reports back to {@link main}, and what it may be stopped by. */
export interface RunState {
  /** The exit code the command ends with. */
  code: number;
  /** Stops a long-running command (`serve`) as SIGINT does. */
  readonly signal?: AbortSignal;
}

/** Options of {@link main} for callers that embed the CLI (tests). */
export interface MainOptions {
  /** Stops `serve` as SIGINT or SIGTERM do. */
  readonly signal?: AbortSignal;
}

/** The version in vaai-sim's package.json, read at run time (the same path from src/cli and dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version');
  return pkg.version;
}

/** Environment variables every command reads. */
const ENVIRONMENT_HELP = `Environment:
  VAAI_SIM_DEBUG=1   print the stack of an error, not only its message`;

/**
 * The whole commander program, each command with its options; `state.code` receives the exit code
 * of the command that runs. Exported so that tests and docs checks read the same definitions.
 */
export function createProgram(state: RunState): Command {
  const program = new Command('vaai-sim')
    .description('A simulated block-storage array with the VAAI SCSI offloads: benchmark it, serve it over iSCSI, check an iSCSI LUN.')
    .version(packageVersion(), '-v, --version', 'print the version of vaai-sim')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`vaai-sim: ${s.replace(/^error: /, '')}`),
    })
    .showHelpAfterError("(run 'vaai-sim help' or 'vaai-sim <command> --help' for usage)")
    .showSuggestionAfterError(true)
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}\n`);
  benchCommand(program, state);
  serveCommand(program, state);
  checkCommand(program, state);
  for (const command of program.commands) command.showHelpAfterError(`(run 'vaai-sim ${command.name()} --help' for usage)`);
  return program;
}

/** Runs the command line with `argv` (without the node and script paths); returns the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const state: RunState = { code: EXIT.ok, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  let program: Command;
  try {
    program = createProgram(state);
  } catch (error) {
    process.stderr.write(describeError(error));
    return exitCodeFor(error);
  }
  if (argv.length === 0) {
    process.stderr.write(`vaai-sim: a command is needed\n\n${program.helpInformation()}`);
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and --version end with code 0; everything else commander stops on is a usage error.
      return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(describeError(error));
    return exitCodeFor(error);
  }
}
