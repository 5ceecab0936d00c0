/**
 * `npm run bench`: the offload vs host-side benchmark, every suite, default sizes (or `-- --quick`,
 * and any other `vaai-sim bench` option). Writes bench-results/.
 */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['bench', ...process.argv.slice(2)]);
