/**
 * `serve --physical-block-size` and the config's `physicalBlockSize` reach the LUN: over iSCSI,
 * READ CAPACITY(16) reports the exponent and the Block Limits VPD the granularity
 * (docs/decisions/unmap-and-provisioning.md, "Physical blocks").
 */
import { describe, expect, it } from 'vitest';
import { cdb } from '../../src/index.js';
import { IscsiSession } from '../../src/iscsi/index.js';
import { lunPlan } from '../../src/cli/config.js';
import { main } from '../../src/cli/main.js';
import { capture } from './run.js';

describe('serve --physical-block-size', () => {
  it('a 512e LUN over iSCSI: READ CAPACITY(16) exponent 3, OPTIMAL TRANSFER LENGTH GRANULARITY 8', async () => {
    const stop = new AbortController();
    const io = capture();
    const serving = main(['serve', '--port', '0', '--lun-gib', '0.015625', '--pool-gib', '1', '--physical-block-size', '4096'], { signal: stop.signal });
    try {
      for (let i = 0; i < 200 && !io.out().includes('\n'); i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      io.restore();
    }
    const url = new URL(io.out().trim());
    const session = await IscsiSession.connect({ host: url.hostname, port: Number(url.port), targetName: url.pathname.split('/')[1]! });
    try {
      const rc = await session.lun(0).execute(cdb.readCapacity16(32));
      expect(rc.status).toBe(0);
      expect([...rc.data!.subarray(8, 16)]).toEqual([0, 0, 0x02, 0x00, 0, 0x03, 0xc0, 0x00]); // 512-byte blocks; exponent 3; LBPME, LBPRZ, LOWEST ALIGNED LBA 0
      const bl = await session.lun(0).execute(cdb.inquiry({ page: 0xb0, allocationLength: 64 }));
      expect(bl.status).toBe(0);
      expect([bl.data![6], bl.data![7]]).toEqual([0x00, 0x08]);
    } finally {
      await session.close();
      stop.abort();
      expect(await serving).toBe(0);
    }
  });

  it.each([
    { gib: 1, physical: 4096, sizeBytes: 2 ** 30 },
    // rounded to whole physical blocks: 1000 bytes -> 0 blocks of 4096 is refused below; 6000 bytes -> one 4096-byte block
    { gib: 6000 / 2 ** 30, physical: 4096, sizeBytes: 4096 },
    { gib: 10_000 / 2 ** 30, physical: 4096, sizeBytes: 8192 },
    { gib: 10_000 / 2 ** 30, physical: undefined, sizeBytes: 10_240 },
  ])('lunPlan rounds $gib GiB to whole physical blocks of $physical: $sizeBytes bytes', ({ gib, physical, sizeBytes }) => {
    const plan = lunPlan(gib, 512, true, 'x', physical === undefined ? undefined : { bytes: physical, source: 'y' });
    expect(plan.sizeBytes).toBe(sizeBytes);
    expect(plan.physicalBlockSize).toBe(physical);
  });

  it('lunPlan refuses a size below one physical block, naming it', () => {
    expect(() => lunPlan(1000 / 2 ** 30, 512, true, '--lun-gib', { bytes: 4096, source: '--physical-block-size' })).toThrow(/^--lun-gib: .* GiB is less than one block of 4096 bytes$/);
  });
});
