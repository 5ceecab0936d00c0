/**
 * An iSCSI session is an I_T nexus (RFC 7143 4.4): the initiator port (initiator name and ISID) and
 * the target port of the target it logged in to (`<target>,t,0x<TPGT>`); the TSIH is not part of it.
 * Session reinstatement (RFC 7143 6.3.5) keeps the nexus and is its loss (SAM-5 6.3.4): the SCSI-2
 * reservation is released, pending unit attentions are discarded and 06/29/07 I_T NEXUS LOSS
 * OCCURRED is established for it; other nexuses see the reservation gone and get no unit attention.
 * Two target ports give one initiator port two nexuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense, iscsiInitiatorPort, itNexus, type ItNexus, type ScsiResult } from '../../src/index.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import { IscsiSession } from '../../src/iscsi/initiator/session.js';

const MiB = 1024 * 1024;
const A = 'iqn.2026-11.dev.vaai-sim:nexus-a';
const B = 'iqn.2026-11.dev.vaai-sim:nexus-b';
const HOST = 'iqn.2026-11.dev.vaai-sim:nexus-host';
const OTHER_HOST = 'iqn.2026-11.dev.vaai-sim:nexus-other';
/** CHECK CONDITION, UNIT ATTENTION, I_T NEXUS LOSS OCCURRED (SAM-5 6.3.4; SPC-4 annex D: 29h/07h). */
const NEXUS_LOSS = [0x02, { key: 0x06, asc: 0x29, ascq: 0x07 }];
const answer = (r: ScsiResult): unknown[] => [r.status, decodeSense(r.sense) ?? null];

describe('the iSCSI session as an I_T nexus', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun0 = array.createLun({ sizeBytes: 16 * MiB, lunId: 0 });
  const lun1 = array.createLun({ sizeBytes: 16 * MiB, lunId: 1 });
  // Two targets expose LUN 1: two target ports of one array.
  const server = new IscsiServer({ array, targets: [{ name: A, luns: [lun0, lun1] }, { name: B, luns: [lun1] }], port: 0, portalGroupTag: 1 });
  let port = 0;
  const sessions: IscsiSession[] = [];
  const open = async (targetName: string, isid: Uint8Array, initiatorName = HOST): Promise<IscsiSession> => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port, targetName, initiatorName, isid });
    sessions.push(s);
    return s;
  };
  const portOf = (target: string) => array.targetPorts.find((p) => p.name === `${target},t,0x0001`)!;

  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await server.close();
  });

  it('a session is the nexus of its initiator name + ISID and its target port, named as RFC 7143 13.4 names the ports', async () => {
    const s = await open(A, Uint8Array.of(0x80, 0xab, 0xcd, 0xef, 0x00, 0x01));
    expect((await s.lun(1).execute(cdb.reserve6())).status).toBe(0);
    const holder = lun1.reservation!;
    expect(holder.initiator).toEqual({ name: `${HOST},i,0x80abcdef0001`, deviceName: HOST });
    expect(holder.target).toBe(portOf(A));
    expect(holder.key).toBe(itNexus(iscsiInitiatorPort(HOST, '80ABCDEF0001'), portOf(A)).key);
    expect((await s.lun(1).execute(cdb.release6())).status).toBe(0);
    expect(lun1.reservation).toBeUndefined();
  });

  it('reinstatement (RFC 7143 6.3.5) keeps the nexus: the old reservation is released, a pending unit attention gives way to 06/29/07 once, and RESERVE succeeds again', async () => {
    const isid = Uint8Array.of(0x80, 0x11, 0x22, 0x33, 0x00, 0x02);
    const nexus: ItNexus = itNexus(iscsiInitiatorPort(HOST, '801122330002'), portOf(A));
    const old = await open(A, isid);
    const other = (await open(A, Uint8Array.of(0x80, 0x11, 0x22, 0x33, 0x00, 0x03), OTHER_HOST)).lun(1);
    expect((await other.execute(cdb.testUnitReady())).status).toBe(0);
    expect((await old.lun(1).execute(cdb.reserve6())).status).toBe(0);
    const oldKey = lun1.reservation!.key;
    expect(oldKey).toBe(nexus.key);
    // A unit attention pending for both nexuses (CAPACITY DATA HAS CHANGED, 06/2A/09): `other`
    // consumes its own, the old session leaves its own pending (INQUIRY does not consume it).
    lun1.raiseUnitAttention('CAPACITY_DATA_HAS_CHANGED');
    expect(answer(await other.execute(cdb.testUnitReady()))).toMatchObject([0x02, { key: 0x06, asc: 0x2a, ascq: 0x09 }]);
    expect((await other.execute(cdb.testUnitReady())).status).toBe(0x18);
    expect((await old.lun(1).execute(cdb.inquiry())).status).toBe(0);

    const again = await open(A, isid);
    await expect(old.lun(1).execute(cdb.testUnitReady())).rejects.toThrow(/closed/);
    // The reservation the nexus held is released: the other nexus reads, without a unit attention.
    expect(lun1.reservation).toBeUndefined();
    expect(answer(await other.execute(cdb.read10({ lba: 0, blocks: 1 })))).toEqual([0, null]);
    // The same nexus: the in-process path names it by value and sees its state (INQUIRY does not
    // consume the unit attention, SAM-5 5.14).
    expect((await lun1.execute(cdb.inquiry(), undefined, { nexus })).status).toBe(0);
    // The reinstated session's first command reports 06/29/07 (not the discarded 06/2A/09), once.
    expect(answer(await again.lun(1).execute(cdb.testUnitReady()))).toMatchObject(NEXUS_LOSS);
    expect(answer(await again.lun(1).execute(cdb.testUnitReady()))).toEqual([0, null]);
    // It may reserve again, under the same nexus key; the other nexus then conflicts.
    expect((await again.lun(1).execute(cdb.reserve6())).status).toBe(0);
    expect(lun1.reservation!.key).toBe(oldKey);
    expect((await other.execute(cdb.testUnitReady())).status).toBe(0x18);
    expect((await lun1.execute(cdb.testUnitReady(), undefined, { nexus })).status).toBe(0); // the holder, by value
    expect((await again.lun(1).execute(cdb.release6())).status).toBe(0);
    expect((await other.execute(cdb.testUnitReady())).status).toBe(0);
  });

  it('a reinstated session still learns the block size of LUN 0: its login-time READ CAPACITY meets the 06/29/07 first and asks again', async () => {
    const big = new StorageArray({ capacityBytes: 64 * MiB });
    const name = 'iqn.2026-11.dev.vaai-sim:nexus-4k';
    const lun = big.createLun({ sizeBytes: 16 * MiB, blockSize: 4096, lunId: 0 });
    const server4k = new IscsiServer({ array: big, targets: [{ name, luns: [lun] }], port: 0 });
    const { port: port4k } = await server4k.listen();
    const isid = Uint8Array.of(0x80, 0x11, 0x22, 0x33, 0x00, 0x44);
    const connect = () => IscsiSession.connect({ host: '127.0.0.1', port: port4k, targetName: name, initiatorName: HOST, isid });
    try {
      await connect();
      const again = await connect();
      const r = await again.lun(0).execute(cdb.read10({ lba: 0, blocks: 2 }));
      expect([r.status, r.data?.length]).toEqual([0, 8192]);
      await again.close();
    } finally {
      await server4k.close();
    }
  });

  it('a session that logs out loses its nexus without a unit attention: a later login with the same ISID starts clean', async () => {
    const isid = Uint8Array.of(0x80, 0x11, 0x22, 0x33, 0x00, 0x04);
    const first = await open(A, isid);
    expect((await first.lun(1).execute(cdb.reserve6())).status).toBe(0);
    await first.close();
    expect(lun1.reservation).toBeUndefined();
    const later = await open(A, isid);
    expect(answer(await later.lun(1).execute(cdb.testUnitReady()))).toEqual([0, null]);
  });

  it('two target ports give one initiator name + ISID two nexuses: a reservation through one conflicts through the other, and neither login reinstates the other', async () => {
    const isid = Uint8Array.of(0x80, 0x11, 0x22, 0x33, 0x00, 0x05);
    const viaA = await open(A, isid);
    const viaB = await open(B, isid);
    expect((await viaA.lun(1).execute(cdb.reserve6())).status).toBe(0);
    expect(lun1.reservation!.target).toBe(portOf(A));
    expect((await viaB.lun(1).execute(cdb.read10({ lba: 0, blocks: 1 }))).status).toBe(0x18);
    expect((await viaB.lun(1).execute(cdb.reserve6())).status).toBe(0x18);
    // Both sessions live: a login to B with A's ISID was a new session, not a reinstatement.
    expect(answer(await viaA.lun(1).execute(cdb.testUnitReady()))).toEqual([0, null]);
    expect((await viaA.lun(1).execute(cdb.release6())).status).toBe(0);
    expect((await viaB.lun(1).execute(cdb.reserve6())).status).toBe(0);
    expect(lun1.reservation!.target).toBe(portOf(B));
    expect(lun1.reservation!.initiator.name).toBe(`${HOST},i,0x801122330005`);
    expect((await viaA.lun(1).execute(cdb.testUnitReady())).status).toBe(0x18);
    expect((await viaB.lun(1).execute(cdb.release6())).status).toBe(0);
  });
});

describe('two target ports of one array, in-process', () => {
  it('give one iSCSI initiator port two I_T nexuses with their own state', () => {
    const array = new StorageArray({ capacityBytes: 1 << 28 });
    const lun = array.createLun({ sizeBytes: MiB });
    const x = array.addTargetPort({ name: 'iqn.2026-11.dev.vaai-sim:x,t,0x0001' });
    const y = array.addTargetPort({ name: 'iqn.2026-11.dev.vaai-sim:y,t,0x0001' });
    const initiator = iscsiInitiatorPort(HOST, '400001370000');
    const [viaX, viaY] = [itNexus(initiator, x), itNexus(initiator, y)];
    expect(viaX.key).not.toBe(viaY.key);
    expect(itNexus(iscsiInitiatorPort(HOST, '400001370000'), x).key).toBe(viaX.key);
    expect(lun.execute(cdb.reserve6(), undefined, { nexus: viaX })).toMatchObject({ status: 0 });
    expect(lun.execute(cdb.testUnitReady(), undefined, { nexus: viaY })).toMatchObject({ status: 0x18 });
    // A reinstatement of the nexus through X: released, and only X's nexus is told.
    array.nexusLost(viaX, { reinstated: true });
    expect(lun.reservedBy).toBeUndefined();
    expect(answer(lun.execute(cdb.testUnitReady(), undefined, { nexus: viaY }) as ScsiResult)).toEqual([0, null]);
    expect(answer(lun.execute(cdb.testUnitReady(), undefined, { nexus: viaX }) as ScsiResult)).toMatchObject(NEXUS_LOSS);
    expect(answer(lun.execute(cdb.testUnitReady(), undefined, { nexus: viaX }) as ScsiResult)).toEqual([0, null]);
    // A plain loss: released, state forgotten, nothing established.
    expect(lun.execute(cdb.reserve6(), undefined, { nexus: viaY })).toMatchObject({ status: 0 });
    array.nexusLost(viaY);
    expect(lun.reservedBy).toBeUndefined();
    expect(answer(lun.execute(cdb.testUnitReady(), undefined, { nexus: viaY }) as ScsiResult)).toEqual([0, null]);
    expect(() => array.nexusLost({ key: 'x' } as unknown as ItNexus)).toThrow('nexusLost: nexus must be an I_T nexus (itNexus)');
  });
});
