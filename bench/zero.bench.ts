/** The zero suite alone: `node --expose-gc --import tsx bench/zero.bench.ts [--quick]`. */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['bench', '--suite', 'zero', '--out', 'bench-results/zero', ...process.argv.slice(2)]);
