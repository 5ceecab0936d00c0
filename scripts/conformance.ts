/**
 * `npm run conformance`: serves a thin LUN over iSCSI on a free loopback port and runs libiscsi's
 * `iscsi-test-cu --dataloss` on the VAAI suites and their neighbours, printing one line per suite and
 * a total. Needs Debian's libiscsi-bin (it installs nothing itself). Exit status 1 on any failure.
 */
import { spawnSync } from 'node:child_process';
import { StorageArray } from '../src/index.js';
import { IscsiServer } from '../src/iscsi/index.js';

const SUITES = [
  'CompareAndWrite', 'ExtendedCopy', 'ReceiveCopyResults', 'WriteSame10', 'WriteSame16', 'Unmap', 'GetLBAStatus',
  'Inquiry', 'ReadCapacity10', 'ReadCapacity16', 'ReportSupportedOpcodes', 'TestUnitReady', 'Read10', 'Read16',
  'Write10', 'Write16', 'Reserve6', 'MultipathIO',
];

const which = spawnSync('iscsi-test-cu', ['--help'], { encoding: 'utf8' });
if (which.error !== undefined) {
  console.error('conformance: iscsi-test-cu not found; install Debian\'s libiscsi-bin (apt-get install -y libiscsi-bin)');
  process.exit(1);
}

const target = 'iqn.2026-11.dev.vaai-sim:conformance';
const array = new StorageArray({ capacityBytes: 4 * 2 ** 30 });
const lun = array.createLun({ sizeBytes: 2 ** 30, blockSize: 512 });
const server = new IscsiServer({ array, targets: [{ name: target, luns: [lun] }], port: 0 });
await server.listen();
const url = server.url(target, 0);
console.log(`conformance: ${url}`);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const suite of SUITES) {
  // MultipathIO needs two paths: two sessions to the same LUN.
  const urls = suite === 'MultipathIO' ? [url, url] : [url];
  const run = await new Promise<{ out: string; code: number | null }>((resolve) => {
    import('node:child_process').then(({ spawn }) => {
      const child = spawn('iscsi-test-cu', ['--dataloss', `--test=ALL.${suite}`, ...urls]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ out, code }));
    });
  });
  const m = /tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(run.out);
  const skips = (run.out.match(/\[SKIPPED\]/g) ?? []).length - (run.out.match(/\[SKIPPED\] PERSISTENT RESERVE IN is not implemented/g) ?? []).length;
  if (m === null) {
    failed++;
    console.log(`${suite.padEnd(24)} no result (exit ${run.code})\n${run.out.slice(-2000)}`);
    continue;
  }
  const [ran, ok, bad] = [Number(m[2]), Number(m[3]), Number(m[4])];
  passed += ok;
  failed += bad;
  skipped += skips;
  const notes = [...run.out.matchAll(/\[SKIPPED\] (?!PERSISTENT RESERVE IN)([^\n]*)/g)].map((x) => x[1]!.trim());
  console.log(`${suite.padEnd(24)} ${ok}/${ran} passed${bad > 0 ? `, ${bad} FAILED` : ''}${notes.length > 0 ? `; skips: ${[...new Set(notes)].join('; ')}` : ''}`);
  if (bad > 0) for (const line of run.out.split('\n').filter((l) => l.includes('FAILED') || l.includes('Test:'))) console.log(`    ${line.trim()}`);
}
await server.close();
console.log(`(${skipped} sub-checks were skipped by the suites themselves, for the reasons listed above)`);
console.log(`conformance: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
