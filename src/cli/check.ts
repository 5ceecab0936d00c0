/**
 * `vaai-sim check URL`: logs in to an iSCSI LUN with one or more sessions (each its own I_T nexus:
 * one initiator name, a distinct ISID per session), runs `checkTarget` against the reference model
 * and prints the report. CHAP secrets come from an environment variable or a file, never from argv
 * alone (argv is visible to every user of the machine).
 * @module
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from '../common/errors.js';
import type { IscsiSession, IscsiSessionOptions } from '../iscsi/initiator/session.js';
import type { ChapCredentials, ChapSecrets } from '../iscsi/auth/chap.js';
import { KIT_OPS, type KitCommand } from '../testing/commands.js';
import { iscsiUrl } from './bench.js';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { choiceList, integerIn, iscsiName, positiveInteger, positiveNumber } from './parsers.js';
import type { RunState } from './main.js';

/** Environment variable holding the CHAP secret of `--chap-user`. */
export const CHAP_SECRET_ENV = 'VAAI_SIM_CHAP_SECRET';
/** Environment variable holding the secret the target must answer mutual CHAP with. */
export const MUTUAL_CHAP_SECRET_ENV = 'VAAI_SIM_MUTUAL_CHAP_SECRET';
/** The initiator name `check` logs in with unless `--initiator` says otherwise. */
export const DEFAULT_CHECK_INITIATOR = 'iqn.2026-11.dev.vaai-sim:check';

/** The options of `check` as commander hands them over. */
interface CheckFlags {
  readonly sessions: number;
  readonly runs: number;
  readonly seed?: number;
  readonly window?: number;
  readonly wellFormedOnly?: boolean;
  readonly ops?: Array<KitCommand['op']>;
  readonly initiator: string;
  readonly chapUser?: string;
  readonly chapSecretFile?: string;
  readonly mutualChapUser?: string;
  readonly mutualChapSecretFile?: string;
  readonly digests?: boolean;
  readonly timeout: number;
}

const LOGIN = 'Login:';

/** Adds `check` to `program`. */
export function checkCommand(program: Command, state: RunState): Command {
  return program
    .command('check')
    .description("check an iSCSI LUN's VAAI behaviour against the reference model (it writes to the LUN's last blocks; needs fast-check)")
    .argument('<url>', 'the LUN: iscsi://host[:port]/target-iqn/lun', iscsiUrl)
    .addOption(new Option('--sessions <n>', 'iSCSI sessions (I_T nexuses) to use; 2 or more also races them').argParser(positiveInteger(256)).default(2))
    .addOption(new Option('--runs <n>', 'runs of the model-based suite, a positive integer').argParser(positiveInteger(2 ** 31 - 1)).default(100))
    .addOption(new Option('--seed <n>', 'fast-check seed, to replay a run (an integer, as the report prints it)').argParser(integerIn(-(2 ** 31), 2 ** 32 - 1)))
    .addOption(new Option('--window <blocks>', 'blocks at the end of the LUN the check may change, a positive integer (default 64)').argParser(positiveInteger(2 ** 31 - 1)))
    .option('--well-formed-only', 'send no malformed commands')
    .addOption(new Option('--ops <list>', `only these commands, comma-separated T10 names: ${KIT_OPS.join(', ')}`).argParser(choiceList(KIT_OPS)))
    .addOption(new Option('--initiator <iqn>', 'initiator name of every session (each session has its own ISID)').argParser(iscsiName).default(DEFAULT_CHECK_INITIATOR).helpGroup(LOGIN))
    .addOption(new Option('--chap-user <name>', `CHAP user name; the secret comes from $${CHAP_SECRET_ENV} or --chap-secret-file`).helpGroup(LOGIN))
    .addOption(new Option('--chap-secret-file <file>', `file holding the CHAP secret (one trailing newline is ignored); overrides $${CHAP_SECRET_ENV}`).helpGroup(LOGIN))
    .addOption(new Option('--mutual-chap-user <name>', `mutual CHAP: the name the target must answer with; its secret from $${MUTUAL_CHAP_SECRET_ENV} or --mutual-chap-secret-file`).helpGroup(LOGIN))
    .addOption(new Option('--mutual-chap-secret-file <file>', `file holding the target's mutual CHAP secret; overrides $${MUTUAL_CHAP_SECRET_ENV}`).helpGroup(LOGIN))
    .addOption(new Option('--digests', 'ask for CRC32C header and data digests').helpGroup(LOGIN))
    .addOption(new Option('--timeout <seconds>', 'give up a login that has no answer after this long').argParser(positiveNumber(3600)).default(10).helpGroup(LOGIN))
    .addHelpText(
      'after',
      `\nEnvironment:\n  ${CHAP_SECRET_ENV}          the CHAP secret of --chap-user\n  ${MUTUAL_CHAP_SECRET_ENV}   the target's mutual CHAP secret (--mutual-chap-user)\n\n${EXIT_CODES_HELP}\n`,
    )
    .action(async (url: string, flags: CheckFlags) => {
      state.code = await runCheck(url, flags);
    });
}

/** Reads a secret from `file` (without one trailing newline), or else from the environment variable `env`. */
function secret(file: string | undefined, env: string, fileOption: string, user: string): string {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`${fileOption}: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (value === '') throw new InvalidArgumentError(`${fileOption}: ${file} is empty`);
    return value;
  }
  const value = process.env[env];
  if (value === undefined || value === '') throw new InvalidArgumentError(`${user} needs a secret: set the environment variable ${env} or give ${fileOption} FILE`);
  return value;
}

/** The CHAP secrets the flags ask for (none without `--chap-user`). */
export function chapFromFlags(f: Pick<CheckFlags, 'chapUser' | 'chapSecretFile' | 'mutualChapUser' | 'mutualChapSecretFile'>): ChapSecrets | undefined {
  if (f.chapUser === undefined) {
    if (f.chapSecretFile !== undefined) throw new InvalidArgumentError('--chap-secret-file needs --chap-user NAME');
    if (f.mutualChapUser !== undefined || f.mutualChapSecretFile !== undefined) throw new InvalidArgumentError('mutual CHAP (--mutual-chap-user) needs one-way CHAP too: give --chap-user NAME');
    return undefined;
  }
  if (f.mutualChapUser === undefined && f.mutualChapSecretFile !== undefined) throw new InvalidArgumentError('--mutual-chap-secret-file needs --mutual-chap-user NAME');
  const mutual: ChapCredentials | undefined =
    f.mutualChapUser === undefined ? undefined : { user: f.mutualChapUser, secret: secret(f.mutualChapSecretFile, MUTUAL_CHAP_SECRET_ENV, '--mutual-chap-secret-file', '--mutual-chap-user') };
  return { user: f.chapUser, secret: secret(f.chapSecretFile, CHAP_SECRET_ENV, '--chap-secret-file', '--chap-user'), ...(mutual === undefined ? {} : { mutual }) };
}

async function runCheck(url: string, f: CheckFlags): Promise<number> {
  const { IscsiSession, parseIscsiUrl } = await import('../iscsi/initiator/session.js');
  const target = parseIscsiUrl(url);
  const chap = chapFromFlags(f);
  let kit: typeof import('../testing/check-target.js');
  try {
    kit = await import('../testing/check-target.js');
  } catch {
    throw new InvalidArgumentError('vaai-sim check needs fast-check installed beside vaai-sim: npm install fast-check');
  }
  const sessions: IscsiSession[] = [];
  try {
    for (let i = 0; i < f.sessions; i++) {
      const options: IscsiSessionOptions = {
        host: target.host,
        port: target.port,
        targetName: target.targetName,
        initiatorName: f.initiator,
        ...(f.digests === true ? { digests: true } : {}),
        ...(chap === undefined ? {} : { chap }),
        // a silent peer cannot hang the CLI: the session gives up with an IscsiConnectionError (exit 3)
        loginTimeoutMs: Math.round(f.timeout * 1000),
      };
      sessions.push(await IscsiSession.connect(options));
    }
    const [first, ...others] = sessions.map((s) => s.lun(target.lun));
    const report = await kit.checkTarget(first!, {
      others,
      numRuns: f.runs,
      ...(f.seed === undefined ? {} : { seed: f.seed }),
      ...(f.window === undefined ? {} : { windowBlocks: f.window }),
      malformed: f.wellFormedOnly !== true,
      ...(f.ops === undefined ? {} : { ops: new Set(f.ops) }),
    });
    process.stdout.write(`${kit.formatReport(report)}\n`);
    return report.passed ? EXIT.ok : EXIT.failed;
  } finally {
    for (const s of sessions) await s.close().catch(() => undefined);
  }
}
