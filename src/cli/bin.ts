#!/usr/bin/env node
/**
 * The `vaai-sim` executable: runs {@link main} with the process's arguments and exits with its
 * code. An error that escapes `main` is mapped to an exit code the same way (`vaai-sim: <message>`,
 * no stack unless `VAAI_SIM_DEBUG=1`).
 * @module
 */
import { describeError, exitCodeFor } from './exit-codes.js';
import { main } from './main.js';

function exit(code: number): void {
  process.exitCode = code;
  // The command is over: a connection still pending (a login given up after --timeout) must not keep
  // the process alive. An unref'd timer lets a clean exit happen first.
  setTimeout(() => process.exit(code), 200).unref();
}

main(process.argv.slice(2)).then(exit, (error: unknown) => {
  process.stderr.write(describeError(error));
  exit(exitCodeFor(error));
});
