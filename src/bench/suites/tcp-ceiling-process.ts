/**
 * The raw TCP ceiling's server (tcp-ceiling.ts) as its own process, as the vaai-sim target and tgtd
 * run in theirs. Not imported: the iSCSI suite spawns this file. It prints one JSON line
 * `{"port":N}`, answers `cpu` lines (script-process.ts), and exits when its standard input closes.
 * @module
 */
import { answerParent } from './script-process.js';
import { startCeilingServer } from './tcp-ceiling.js';

const server = await startCeilingServer(0);
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
answerParent(() => void server.close().then(() => process.exit(0)));
