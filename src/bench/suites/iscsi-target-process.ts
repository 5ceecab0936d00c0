/**
 * The benchmark's vaai-sim target, run as its own process (as tgtd is), so the target and the
 * client each get a core, as they would on two machines. Not imported: the iSCSI suite spawns this
 * file. It builds the array the suite measures (two 1 GiB thin LUNs, the first fully written),
 * serves it on a free loopback port, prints one JSON line `{"port":N,"iqn":"..."}`, answers each line
 * `cpu` on its standard input with `{"cpuMs":N}` (its user + system CPU time so far), and when its
 * standard input closes prints `{"maxRssBytes":N}` (its peak resident memory) and exits.
 * @module
 */
import { StorageArray } from '../../scsi/storage-array.js';
import { IscsiServer } from '../../iscsi/target/server.js';
import { writeDisk } from '../workloads.js';
import { answerParent } from './script-process.js';

const MiB = 1024 * 1024;
const iqn = 'iqn.2026-11.dev.vaai-sim:bench';
// A buffer cache as large as one clone, so repeated clones reuse freed allocation units.
const array = new StorageArray({ capacityBytes: 4 * 1024 * MiB, bufferCacheBytes: 256 * MiB });
const a = array.createLun({ sizeBytes: 1024 * MiB, lunId: 0 });
const b = array.createLun({ sizeBytes: 1024 * MiB, lunId: 1 });
writeDisk(a, 1, 5);
const server = new IscsiServer({ array, targets: [{ name: iqn, luns: [a, b] }], port: 0 });
await server.listen();
process.stdout.write(`${JSON.stringify({ port: server.address!.port, iqn })}\n`);
answerParent(() => {
  void server.close().then(() => {
    // maxRSS is in KiB (getrusage).
    process.stdout.write(`${JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`, () => process.exit(0));
  });
});
