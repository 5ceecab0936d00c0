/** The ats suite alone: `node --expose-gc --import tsx bench/ats.bench.ts [--quick]`. */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['bench', '--suite', 'ats', '--out', 'bench-results/ats', ...process.argv.slice(2)]);
