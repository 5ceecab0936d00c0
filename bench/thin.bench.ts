/** The thin suite alone: `node --expose-gc --import tsx bench/thin.bench.ts [--quick]`. */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['bench', '--suite', 'thin', '--out', 'bench-results/thin', ...process.argv.slice(2)]);
