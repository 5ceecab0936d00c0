/** The clone suite alone: `node --expose-gc --import tsx bench/clone.bench.ts [--quick]`. */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['bench', '--suite', 'clone', '--out', 'bench-results/clone', ...process.argv.slice(2)]);
