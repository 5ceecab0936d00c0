/**
 * Persistent reservations over iSCSI with two portals (issue 14: ALL_TG_PT across two portals). Each
 * portal is its own target port, so one initiator port (name + ISID) logged in through both holds two
 * I_T nexuses; ALL_TG_PT registers it through both at once, READ FULL STATUS reports the relative
 * target port of each portal and the initiator port as an iSCSI TransportID with its ISID, a session
 * logging out (an I_T nexus loss) leaves the registration, and a unit attention reaches exactly the
 * nexus that was preempted. Servers listen on 127.0.0.1 only. Codes as numbers, not from src.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodePrReadFullStatus, decodePrReadKeys, decodeSense, iscsiInitiatorPort, itNexus, type ScsiResult } from '../../src/index.js';
import { IscsiServer, IscsiSession } from '../../src/iscsi/index.js';

const T = 'iqn.2026-11.dev.vaai-sim:pr';
const HOST_A = 'iqn.2026-11.dev.vaai-sim:pr-a';
const HOST_B = 'iqn.2026-11.dev.vaai-sim:pr-b';
const answer = (r: ScsiResult): unknown[] => [r.status, decodeSense(r.sense) === undefined ? null : [decodeSense(r.sense)!.key, decodeSense(r.sense)!.asc, decodeSense(r.sense)!.ascq]];

describe('persistent reservations through two iSCSI portals', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun = array.createLun({ sizeBytes: 16 << 20, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun] }], portals: [{ port: 0 }, { port: 0, portalGroupTag: 2 }], host: '127.0.0.1' });
  const sessions: IscsiSession[] = [];
  const connect = async (portal: number, initiatorName: string): Promise<IscsiSession> => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port: server.portals[portal]!.port, targetName: T, initiatorName, isid: Uint8Array.of(0x40, 0, 0, 0x12, 0x34, 0x56) });
    sessions.push(s);
    return s;
  };
  const out = (sa: number, f: { key?: bigint; sark?: bigint; allTgPt?: boolean }, type = 0) => {
    const list = cdb.prOutParameterList({ key: f.key, serviceActionKey: f.sark, allTgPt: f.allTgPt });
    return [cdb.persistentReserveOut({ serviceAction: sa, type, parameterListLength: list.length }), list] as const;
  };
  // The initiator sizes PR IN's Data-In from its ALLOCATION LENGTH, as for the other commands it knows.
  const prIn = (sa: number) => [cdb.persistentReserveIn({ serviceAction: sa, allocationLength: 1024 })] as const;

  beforeAll(async () => {
    await server.listen();
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    await server.close();
  });

  it('ALL_TG_PT registers the initiator port through both portals; READ FULL STATUS names both relative target ports and the TransportID with its ISID; a logout keeps it; PREEMPT tells exactly the preempted nexuses', async () => {
    const a1 = (await connect(0, HOST_A)).lun(0);
    const a2 = (await connect(1, HOST_A)).lun(0);
    const b1 = (await connect(0, HOST_B)).lun(0);
    // The array's in-process default port (relative 1) exposes the LUN too: ALL_TG_PT covers it as well.
    const rel = [array.defaultTargetPort.relativeId, server.targetPort(T, 0)!.relativeId, server.targetPort(T, 1)!.relativeId];
    expect(new Set(rel).size).toBe(3);

    expect(answer(await a1.execute(...out(0, { sark: 0xan, allTgPt: true })))).toEqual([0, null]);
    // Registered through portal 2 as well: it reserves there with the key.
    expect(answer(await a2.execute(...out(1, { key: 0xan }, 3)))).toEqual([0, null]);
    expect(answer(await b1.execute(cdb.read10({ lba: 0, blocks: 1 })))).toEqual([0x18, null]);

    const full = decodePrReadFullStatus((await b1.execute(...prIn(3))).data!);
    const id = { format: 1, name: HOST_A, isid: '400000123456', length: 52 };
    expect(full.ok && full.value.descriptors.map((d) => [d.key, d.allTgPt, d.reservationHolder, d.type, d.relativeTargetPort, d.transportId])).toEqual([
      [0xan, true, false, 0, rel[0], id],
      [0xan, true, false, 0, rel[1], id],
      [0xan, true, true, 3, rel[2], id],
    ]);

    // The portal-1 session logs out: an I_T nexus loss; the registrations and the reservation stay.
    await sessions[0]!.close();
    const keys = decodePrReadKeys((await b1.execute(...prIn(0))).data!);
    expect(keys.ok && [keys.value.generation, keys.value.keys]).toEqual([1, [0xan, 0xan, 0xan]]);
    expect(answer(await b1.execute(cdb.write10({ lba: 0, blocks: 1 }), new Uint8Array(512)))).toEqual([0x18, null]);

    // host-b registers and preempts host-a's key: both of host-a's nexuses lose their registration.
    expect(answer(await b1.execute(...out(0, { sark: 0xbn })))).toEqual([0, null]);
    expect(answer(await b1.execute(...out(4, { key: 0xbn, sark: 0xan }, 1)))).toEqual([0, null]);
    expect(answer(await a2.execute(cdb.testUnitReady()))).toEqual([2, [0x06, 0x2a, 0x05]]);
    expect(answer(await a2.execute(cdb.write10({ lba: 0, blocks: 1 }), new Uint8Array(512)))).toEqual([0x18, null]);
    expect(answer(await b1.execute(cdb.testUnitReady()))).toEqual([0, null]);
    // The nexus of the logged-out session (host-a, ISID 400000123456, portal 1) was told too; a new
    // login through portal 1 is that nexus again and is no longer registered.
    const a1nexus = itNexus(iscsiInitiatorPort(HOST_A, '400000123456'), server.targetPort(T, 0)!);
    expect(answer(await lun.execute(cdb.testUnitReady(), undefined, { nexus: a1nexus }))).toEqual([2, [0x06, 0x2a, 0x05]]);
    const a1again = (await connect(0, HOST_A)).lun(0);
    expect(answer(await a1again.execute(cdb.testUnitReady()))).toEqual([0, null]);
    expect(answer(await a1again.execute(cdb.write10({ lba: 0, blocks: 1 }), new Uint8Array(512)))).toEqual([0x18, null]);
    expect(answer(await b1.execute(cdb.write10({ lba: 0, blocks: 1 }), new Uint8Array(512)))).toEqual([0, null]);
  });
});
