/**
 * `npm run check:tgt`: `vaai-sim check` against Debian's tgt on loopback (a 256 MiB file-backed
 * LUN, set up as the benchmark sets it up). Needs `tgt` installed; exits 2 when it is not. Extra
 * arguments go to `vaai-sim check` (e.g. `-- --seed 1 --runs 300`).
 */
import { main } from '../src/cli/main.js';
import { startTgt } from '../src/bench/suites/iscsi.js';

const tgt = await startTgt(256 * 1024 * 1024);
if (tgt === undefined) {
  process.stderr.write('check:tgt: Debian tgt (tgtd, tgtadm) is not installed here\n');
  process.exitCode = 2;
} else {
  try {
    const extra = process.argv.slice(2);
    process.exitCode = await main(['check', tgt.url(1), ...(extra.length > 0 ? extra : ['--runs', '100', '--seed', '1'])]);
  } finally {
    tgt.stop();
  }
}
// tgtd's pipes would keep the event loop alive while it shuts down.
process.exit(process.exitCode ?? 0);
