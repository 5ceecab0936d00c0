#!/usr/bin/env node
/**
 * The `vaai-sim` executable: runs {@link main} with the process's arguments.
 * @module
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vaai-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
