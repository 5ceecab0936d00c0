/** The locking suite alone: `node --expose-gc --import tsx bench/locking.bench.ts [--quick]`. */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['bench', '--suite', 'locking', '--out', 'bench-results/locking', ...process.argv.slice(2)]);
