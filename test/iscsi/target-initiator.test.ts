import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense } from '../../src/index.js';
import { cloneRange } from '../../src/host/data-mover.js';
import { LockManager } from '../../src/host/lock-manager.js';
import { IscsiLoginError, IscsiServer } from '../../src/iscsi/index.js';
import { IscsiSession } from '../../src/iscsi/initiator/session.js';
import { expectBytes, pattern } from '../array/helpers.js';

const MiB = 1024 * 1024;
const A = 'iqn.2026-11.dev.vaai-sim:a';
const B = 'iqn.2026-11.dev.vaai-sim:b';

describe('iSCSI target and initiator on loopback', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const a0 = array.createLun({ sizeBytes: 64 * MiB, lunId: 0 });
  const a1 = array.createLun({ sizeBytes: 64 * MiB, lunId: 1 });
  const b2 = array.createLun({ sizeBytes: 64 * MiB, lunId: 2 });
  const server = new IscsiServer({ array, targets: [{ name: A, luns: [a0, a1] }, { name: B, luns: [b2], initiators: ['iqn.2026-11.dev.vaai-sim:b-only'] }], port: 0 });
  let port = 0;
  const sessions: IscsiSession[] = [];
  const open = async (options: { targetName?: string; digests?: boolean; initiatorName?: string; isid?: Uint8Array } = {}) => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: A, ...options });
    sessions.push(s);
    return s;
  };

  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await server.close();
  });

  for (const digests of [false, true]) {
    it(`reads and writes through R2T, immediate and unsolicited data (digests ${digests})`, async () => {
      const s = await open({ digests });
      const lun = s.lun(0);
      const data = pattern(3 * MiB + 512, digests ? 2 : 1); // larger than FirstBurstLength: R2T too
      expect((await lun.execute(cdb.write16({ lba: 100, blocks: data.length / 512 }), data)).status).toBe(0);
      const r = await lun.execute(cdb.read16({ lba: 100, blocks: data.length / 512 }));
      expect(r.status).toBe(0);
      expectBytes(r.data, data);
      const inq = await lun.execute(cdb.inquiry({ page: 0x83, allocationLength: 255 }));
      expect(inq.data![1]).toBe(0x83);
    });
  }

  it('carries sense back: COMPARE AND WRITE miscompare with its offset', async () => {
    const lun = (await open()).lun(0);
    const payload = new Uint8Array(1024);
    payload[17] = 1;
    const r = await lun.execute(cdb.compareAndWrite({ lba: 60000, blocks: 1 }), payload);
    expect(decodeSense(r.sense)).toMatchObject({ key: 0x0e, asc: 0x1d, ascq: 0, information: 17 });
  });

  it('keeps many commands in flight (queue depth > 1)', async () => {
    const lun = (await open()).lun(1);
    const writes = Array.from({ length: 48 }, (_, i) => lun.execute(cdb.write10({ lba: i * 16, blocks: 16 }), pattern(8192, i + 1)));
    expect((await Promise.all(writes)).every((r) => r.status === 0)).toBe(true);
    const reads = await Promise.all(Array.from({ length: 48 }, (_, i) => lun.execute(cdb.read10({ lba: i * 16, blocks: 16 }))));
    reads.forEach((r, i) => expectBytes(r.data, pattern(8192, i + 1)));
  });

  it('reads in flight at once each carry their own bytes, rounds after rounds: reused Data-In buffers never leak stale data', async () => {
    const lun = (await open()).lun(1);
    const blocks = [2048, 2040, 4096, 16, 2048];
    const lbas = [8192, 12288, 16384, 24576, 32768];
    const written = blocks.map((n, i) => pattern(n * 512, 100 + i));
    // Every other range is written; the rest stay unmapped and must read as zeros after the written ones.
    for (let i = 0; i < blocks.length; i += 2) expect((await lun.execute(cdb.write16({ lba: lbas[i]!, blocks: blocks[i]! }), written[i])).status).toBe(0);
    const expected = blocks.map((n, i) => (i % 2 === 0 ? written[i]! : new Uint8Array(n * 512)));
    for (let round = 0; round < 4; round++) {
      const order = blocks.map((_, i) => (i + round) % blocks.length);
      const reads = order.map((i) => lun.execute(cdb.read16({ lba: lbas[i]!, blocks: blocks[i]! })));
      const refused = lun.execute(cdb.read16({ lba: 64 * 2048 - 1, blocks: 2 })); // past the end: no Data-In
      const inquiry = lun.execute(cdb.inquiry({ allocationLength: 36 }));
      const results = await Promise.all(reads);
      results.forEach((r, k) => {
        expect(r.status).toBe(0);
        expectBytes(r.data, expected[order[k]!]!);
      });
      expect(decodeSense((await refused).sense)).toMatchObject({ key: 0x05, asc: 0x21, ascq: 0 });
      expect((await inquiry).data!.length).toBe(36);
    }
  });

  it('the host data mover clones over iSCSI with EXTENDED COPY, unchanged', async () => {
    const s = await open();
    await s.lun(0).execute(cdb.write16({ lba: 0, blocks: 8192 }), pattern(4 * MiB, 9));
    const report = await cloneRange({ source: s.lun(0), destination: s.lun(1), blocks: 8192 });
    expect(report).toMatchObject({ offloadedBytes: 4 * MiB, hostBytes: 0 });
    expectBytes((await s.lun(1).execute(cdb.read16({ lba: 0, blocks: 8192 }))).data, pattern(4 * MiB, 9));
  });

  it('the lock manager takes ATS locks over iSCSI', async () => {
    const locks = new LockManager({ target: (await open()).lun(0), hostId: 3, method: 'ats', sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
    await locks.acquire(100_000);
    await locks.release(100_000);
    expect(locks.stats.acquisitions).toBe(1);
  });

  it('every session is its own nexus: a reservation conflicts with another session', async () => {
    const one = (await open()).lun(1);
    const two = (await open()).lun(1);
    expect((await one.execute(cdb.reserve6())).status).toBe(0);
    expect((await two.execute(cdb.read10({ lba: 0, blocks: 1 }))).status).toBe(0x18);
    expect((await one.execute(cdb.release6())).status).toBe(0);
    expect((await two.execute(cdb.read10({ lba: 0, blocks: 1 }))).status).toBe(0);
  });

  it('a LUN of another target cannot be reached, not even as an EXTENDED COPY destination', async () => {
    const lun = (await open()).lun(0);
    const list = cdb.extendedCopyParameterList({
      cscds: [{ designator: a0.naaDesignator, blockSize: 512 }, { designator: b2.naaDesignator, blockSize: 512 }],
      segments: [{ source: 0, destination: 1, blocks: 8, sourceLba: 0, destinationLba: 0 }],
    });
    const r = await lun.execute(cdb.extendedCopy(list.length), list);
    expect(decodeSense(r.sense)).toMatchObject({ key: 0x0a, asc: 0x0d, ascq: 0x02 });
    // and LUN 2 does not exist behind target A
    expect(decodeSense((await (await open()).lun(2).execute(cdb.testUnitReady())).sense)).toMatchObject({ key: 0x05, asc: 0x25 });
  });

  it('session reinstatement: a login with the ISID of a live session ends that session and its reservation (RFC 7143 6.3.5)', async () => {
    const isid = Uint8Array.of(0x80, 0x12, 0x34, 0x56, 0x00, 0x01);
    const old = await open({ isid });
    const other = (await open()).lun(1);
    expect((await old.lun(1).execute(cdb.reserve6())).status).toBe(0);
    expect((await other.execute(cdb.testUnitReady())).status).toBe(0x18);
    const again = await open({ isid });
    // The old session is gone: its commands fail, and its reservation was released.
    await expect(old.lun(1).execute(cdb.testUnitReady())).rejects.toThrow(/closed/);
    expect((await other.execute(cdb.testUnitReady())).status).toBe(0);
    // The new session is the same I_T nexus, told of its loss once (UNIT ATTENTION 06/29/07, SAM-5 6.3.4).
    const first = await again.lun(1).execute(cdb.testUnitReady());
    expect([first.status, decodeSense(first.sense)]).toMatchObject([0x02, { key: 0x06, asc: 0x29, ascq: 0x07 }]);
    expect((await again.lun(1).execute(cdb.testUnitReady())).status).toBe(0);
    // A different initiator name with the same ISID is another session, left alone.
    const third = await open({ isid, initiatorName: 'iqn.2026-11.dev.vaai-sim:someone-else' });
    expect((await again.lun(1).execute(cdb.testUnitReady())).status).toBe(0);
    expect((await third.lun(1).execute(cdb.testUnitReady())).status).toBe(0);
  });

  it('an ISID that is not 6 bytes is a programmer error', async () => {
    await expect(IscsiSession.connect({ host: '127.0.0.1', port, targetName: A, isid: new Uint8Array(4) })).rejects.toThrow('IscsiSession.connect: isid: an ISID is 6 bytes, not 4');
  });

  it('the target ACL refuses initiators it does not list', async () => {
    const refused = IscsiSession.connect({ host: '127.0.0.1', port, targetName: B });
    await expect(refused).rejects.toBeInstanceOf(IscsiLoginError);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_ISCSI_LOGIN', statusClass: 2, statusDetail: 2, status: 0x0202, statusName: 'authorization failure', origin: 'target' });
    await expect(refused).rejects.toThrow(`iSCSI login to ${B} at 127.0.0.1:${port} rejected: authorization failure (0202h)`);
    const ok = await open({ targetName: B, initiatorName: 'iqn.2026-11.dev.vaai-sim:b-only' });
    expect((await ok.lun(2).execute(cdb.testUnitReady())).status).toBe(0);
  });
});

describe('CHAP', () => {
  const array = new StorageArray({ capacityBytes: 1 << 28 });
  const lun = array.createLun({ sizeBytes: 16 * MiB });
  const ONE = 'iqn.2026-11.dev.vaai-sim:chap-one-way';
  const MUTUAL = 'iqn.2026-11.dev.vaai-sim:chap-mutual';
  const server = new IscsiServer({
    array,
    targets: [
      { name: ONE, luns: [lun], chap: { user: 'host-a', secret: 'a-secret-of-16ch' } },
      { name: MUTUAL, luns: [lun], chap: { user: 'host-a', secret: 'a-secret-of-16ch', mutual: { user: 'array', secret: 'target-secret-16' } } },
    ],
    port: 0,
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close());

  it('one-way: the right secret logs in, a wrong one or none is refused', async () => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: ONE, chap: { user: 'host-a', secret: 'a-secret-of-16ch' } });
    expect((await s.lun(0).execute(cdb.testUnitReady())).status).toBe(0);
    await s.close();
    await expect(IscsiSession.connect({ host: '127.0.0.1', port, targetName: ONE, chap: { user: 'host-a', secret: 'not-the-secret!!' } })).rejects.toThrow(
      `iSCSI login to ${ONE} at 127.0.0.1:${port} rejected: authentication failure (0201h)`,
    );
    const none = IscsiSession.connect({ host: '127.0.0.1', port, targetName: ONE });
    await expect(none).rejects.toMatchObject({ code: 'ERR_ISCSI_LOGIN', statusClass: 2, statusDetail: 1, statusName: 'authentication failure', origin: 'target' });
    await expect(none).rejects.toThrow(`iSCSI login to ${ONE} at 127.0.0.1:${port} rejected: authentication failure (0201h)`);
  });

  it('mutual: both sides prove their secrets; a target answering wrongly is refused by the initiator', async () => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: MUTUAL, chap: { user: 'host-a', secret: 'a-secret-of-16ch', mutual: { user: 'array', secret: 'target-secret-16' } } });
    expect((await s.lun(0).execute(cdb.testUnitReady())).status).toBe(0);
    await s.close();
    await expect(
      IscsiSession.connect({ host: '127.0.0.1', port, targetName: MUTUAL, chap: { user: 'host-a', secret: 'a-secret-of-16ch', mutual: { user: 'array', secret: 'wrong-secret-xx!' } } }),
    ).rejects.toMatchObject({
      code: 'ERR_ISCSI_LOGIN',
      status: 0x0201,
      origin: 'initiator',
      message: `iSCSI login to ${MUTUAL} at 127.0.0.1:${port} failed: the target failed mutual CHAP: authentication failure (0201h)`,
    });
    // a target configured for mutual CHAP refuses one-way
    await expect(IscsiSession.connect({ host: '127.0.0.1', port, targetName: MUTUAL, chap: { user: 'host-a', secret: 'a-secret-of-16ch' } })).rejects.toThrow(
      `iSCSI login to ${MUTUAL} at 127.0.0.1:${port} rejected: authentication failure (0201h)`,
    );
  });
});
