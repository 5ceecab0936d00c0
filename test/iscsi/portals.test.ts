/**
 * Several portals (issue 13): each portal of an IscsiServer is one listening address and, for every
 * target, one SCSI target port `<target>,t,0x<TPGT>` in the portal's target port group. A session's
 * I_T nexus is its initiator port with the target port of the portal it logged in to; SendTargets
 * lists every portal with its tag (RFC 7143 13.8, appendix C); the login's TargetPortalGroupTag is
 * the portal's (RFC 7143 13.9).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense, type ScsiResult } from '../../src/index.js';
import { IscsiServer, IscsiSession, IscsiTimeoutError, parseIscsiUrl } from '../../src/iscsi/index.js';
import { RawClient } from './raw-client.js';

const MiB = 1024 * 1024;
const A = 'iqn.2026-11.dev.vaai-sim:portals-a';
const B = 'iqn.2026-11.dev.vaai-sim:portals-b';
const HOST = 'iqn.2026-11.dev.vaai-sim:portals-host';
const answer = (r: ScsiResult): unknown[] => [r.status, decodeSense(r.sense) ?? null];
/** The designators of a VPD 83h page (SPC-5 7.7.6): [association, type, bytes]. */
function designators(page: Uint8Array): Array<[number, number, number[]]> {
  const out: Array<[number, number, number[]]> = [];
  for (let at = 4; at + 4 <= page.length; ) {
    const length = page[at + 3]!;
    out.push([(page[at + 1]! >> 4) & 3, page[at + 1]! & 0x0f, Array.from(page.subarray(at + 4, at + 4 + length))]);
    at += 4 + length;
  }
  return out;
}

describe('an iSCSI server with three portals', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun0 = array.createLun({ sizeBytes: 16 * MiB, lunId: 0 });
  const lun1 = array.createLun({ sizeBytes: 16 * MiB, lunId: 1 });
  const server = new IscsiServer({
    array,
    targets: [{ name: A, luns: [lun0, lun1] }, { name: B, luns: [lun1] }],
    portals: [{ port: 0, targetPortGroup: 1 }, { port: 0, targetPortGroup: 2 }, { port: 0, portalGroupTag: 7, targetPortGroup: 2 }],
  });
  const sessions: IscsiSession[] = [];
  const raws: RawClient[] = [];
  const open = async (url: string, isid: Uint8Array): Promise<IscsiSession> => {
    const { host, port, targetName } = parseIscsiUrl(url);
    const s = await IscsiSession.connect({ host, port, targetName, initiatorName: HOST, isid });
    sessions.push(s);
    return s;
  };
  const raw = async (portal: number): Promise<RawClient> => {
    const c = await RawClient.connect(server.portals[portal]!.port);
    raws.push(c);
    return c;
  };

  beforeAll(async () => {
    await server.listen();
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    for (const c of raws) c.destroy();
    await server.close();
  });

  it('each portal listens on its own port, with tags 1, 2 (by position) and 7 (given) and the groups given', () => {
    const [p1, p2, p3] = server.portals;
    expect(server.portals.map((p) => [p.host, p.portalGroupTag, p.targetPortGroup])).toEqual([
      ['127.0.0.1', 1, 1],
      ['127.0.0.1', 2, 2],
      ['127.0.0.1', 7, 2],
    ]);
    expect(new Set([p1!.port, p2!.port, p3!.port]).size).toBe(3);
    expect(server.address).toEqual({ address: '127.0.0.1', port: p1!.port });
    expect(server.url(A, 1, 2)).toBe(`iscsi://127.0.0.1:${p3!.port}/${A}/1`);
    expect(server.url(A)).toBe(`iscsi://127.0.0.1:${p1!.port}/${A}/0`);
    expect(() => server.url(A, 0, 3)).toThrow('IscsiServer.url: portal must be an integer from 0 to 2, got 3');
    expect(() => server.targetPort(A, 1.5)).toThrow('IscsiServer.targetPort: portal must be an integer from 0 to 2, got 1.5');
  });

  it('every portal is a target port per target: <target>,t,0x<TPGT> in the portal group, each with its own relative identifier', () => {
    const ports = [A, B].flatMap((t) => [0, 1, 2].map((i) => server.targetPort(t, i)!));
    expect(ports.map((p) => [p.name, p.groupId])).toEqual([
      [`${A},t,0x0001`, 1],
      [`${A},t,0x0002`, 2],
      [`${A},t,0x0007`, 2],
      [`${B},t,0x0001`, 1],
      [`${B},t,0x0002`, 2],
      [`${B},t,0x0007`, 2],
    ]);
    expect(new Set(ports.map((p) => p.relativeId)).size).toBe(6);
    for (const p of ports) expect(array.hasTargetPort(p)).toBe(true);
    expect(server.targetPort('iqn.2026-11.dev.vaai-sim:nobody')).toBeUndefined();
  });

  it("the login's TargetPortalGroupTag is the tag of the portal logged in to (RFC 7143 13.9)", async () => {
    for (const [portal, tag] of [[0, '1'], [1, '2'], [2, '7']] as const) {
      const keys = await (await raw(portal)).login({ targetName: A });
      expect(keys.get('TargetPortalGroupTag')).toBe(tag);
    }
  });

  it('SendTargets=All in a discovery session names every target with one TargetAddress per portal, with its tag', async () => {
    const c = await raw(2);
    await c.login({ discovery: true });
    const [p1, p2, p3] = server.portals.map((p) => `127.0.0.1:${p.port}`);
    const listing = [
      ['TargetAddress', `${p1},1`],
      ['TargetAddress', `${p2},2`],
      ['TargetAddress', `${p3},7`],
    ];
    expect(await c.text([['SendTargets', 'All']])).toEqual([['TargetName', A], ...listing, ['TargetName', B], ...listing]);
    // In a normal session, an empty SendTargets names the session's own target.
    const n = await raw(1);
    await n.login({ targetName: B });
    expect(await n.text([['SendTargets', '']])).toEqual([['TargetName', B], ...listing]);
  });

  it('SendTargets: a request without the key, with an invalid value or a miscased key is refused with a Reject PDU (PROTOCOL ERROR); an unknown key beside it is NotUnderstood; a name of no target here answers nothing (libiscsi iSCSISendTargets.Invalid)', async () => {
    const c = await raw(1);
    await c.login({ targetName: A });
    const bad: Array<[Array<[string, string]>, boolean]> = [
      [[['SendTargetsPlease', 'All']], true],
      [[['SendTargets', 'Alle']], true],
      [[['SendTargets', 'A']], false],
      [[['sENDtARGETS', 'aLL']], true],
    ];
    for (const [pairs, immediate] of bad) {
      c.sendText(pairs, immediate);
      const r = await c.nextReject();
      expect(r.reason, JSON.stringify(pairs)).toBe(0x04);
      expect(r.header[0]! & 0x3f, 'the rejected header is the Text Request').toBe(0x04);
    }
    expect(await c.text([['SendTargets', 'iqn.2026-11.dev.vaai-sim:nobody']])).toEqual([]);
    expect(await c.text([['SendTargets', A], ['X-Vendor', 'y']])).toEqual([['TargetName', A], ...server.portals.map((p, i) => ['TargetAddress', `127.0.0.1:${p.port},${[1, 2, 7][i]}`]), ['X-Vendor', 'NotUnderstood']]);
    // The session goes on: the last request, a valid one, is answered as ever.
    expect((await c.text([['SendTargets', 'All']]))[0]).toEqual(['TargetName', A]);
  });

  it('one initiator port through two portals is two I_T nexuses: a reservation through one conflicts through the other', async () => {
    const isid = Uint8Array.of(0x80, 0x50, 0x4f, 0x52, 0x00, 0x01);
    const one = (await open(server.url(A, 1, 0), isid)).lun(1);
    const two = (await open(server.url(A, 1, 1), isid)).lun(1);
    expect(answer(await one.execute(cdb.reserve6()))).toEqual([0, null]);
    expect(lun1.reservation?.target).toBe(server.targetPort(A, 0));
    expect(lun1.reservation?.initiator.name).toBe(`${HOST},i,0x80504f520001`);
    expect((await two.execute(cdb.testUnitReady())).status).toBe(0x18);
    expect(answer(await one.execute(cdb.release6()))).toEqual([0, null]);
    expect(answer(await two.execute(cdb.testUnitReady()))).toEqual([0, null]);
  });

  it('VPD 83h through each portal: the same LU designator (hosts group paths by it), and the relative target port and target port group of that portal', async () => {
    const lus: number[][] = [];
    for (const portal of [0, 1, 2]) {
      const s = await open(server.url(A, 0, portal), Uint8Array.of(0x80, 0x50, 0x4f, 0x52, 0x01, portal));
      const r = await s.lun(0).execute(cdb.inquiry({ page: 0x83, allocationLength: 512 }));
      expect(r.status).toBe(0);
      const found = designators(r.data!);
      const lu = found.find(([association, type]) => association === 0 && type === 3);
      expect(lu).toBeDefined();
      lus.push(lu![2]);
      const port = server.targetPort(A, portal)!;
      const ofPort = (type: number): number[] | undefined => found.find(([association, t]) => association === 1 && t === type)?.[2];
      expect(ofPort(4)).toEqual([0, 0, port.relativeId >> 8, port.relativeId & 0xff]);
      expect(ofPort(5)).toEqual([0, 0, 0, [1, 2, 2][portal]]);
    }
    expect(lus[1]).toEqual(lus[0]);
    expect(lus[2]).toEqual(lus[0]);
  });

  it('a write through one portal is read back through another', async () => {
    const w = (await open(server.url(A, 0, 2), Uint8Array.of(0x80, 0x50, 0x4f, 0x52, 0x02, 0x01))).lun(0);
    const r = (await open(server.url(A, 0, 1), Uint8Array.of(0x80, 0x50, 0x4f, 0x52, 0x02, 0x02))).lun(0);
    expect((await w.execute(cdb.write16({ lba: 9, blocks: 1 }), new Uint8Array(512).fill(0x5a))).status).toBe(0);
    const read = await r.execute(cdb.read16({ lba: 9, blocks: 1 }));
    expect([read.status, Array.from(new Set(read.data!))]).toEqual([0, [0x5a]]);
  });
});

describe('listening on several portals', () => {
  it('a portal that cannot listen closes the others again and removes every target port: the system error names its address', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const taken = (busy.address() as { port: number }).port;
    const array = new StorageArray({ capacityBytes: 1 << 26 });
    const lun = array.createLun({ sizeBytes: MiB });
    const server = new IscsiServer({ array, targets: [{ name: A, luns: [lun] }], portals: [{ port: 0 }, { port: taken }] });
    try {
      await expect(server.listen()).rejects.toMatchObject({ code: 'EADDRINUSE', address: '127.0.0.1', port: taken });
      expect(array.targetPorts.map((p) => p.relativeId)).toEqual([1]); // the default port alone
      const first = server.portals[0]!.port;
      expect(first).toBeGreaterThan(0);
      await expect(IscsiSession.connect({ host: '127.0.0.1', port: first, targetName: A })).rejects.toMatchObject({ code: 'ERR_ISCSI_CONNECTION', cause: { code: 'ECONNREFUSED' } });
    } finally {
      await server.close();
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('the single-portal options stay valid: host, port and portalGroupTag describe the one portal', async () => {
    const array = new StorageArray({ capacityBytes: 1 << 26 });
    const server = new IscsiServer({ array, targets: [{ name: A, luns: [array.createLun({ sizeBytes: MiB })] }], port: 0, portalGroupTag: 9 });
    await server.listen();
    try {
      expect(server.portals).toEqual([{ host: '127.0.0.1', port: server.address!.port, portalGroupTag: 9, targetPortGroup: undefined }]);
      expect(server.targetPort(A)!.name).toBe(`${A},t,0x0009`);
      expect(server.targetPort(A)!.groupId).toBe(0);
    } finally {
      await server.close();
    }
    expect(server.targetPort(A)).toBeUndefined();
  });
});

describe('the initiator command timeout (commandTimeoutMs)', () => {
  const array = new StorageArray({ capacityBytes: 1 << 26 });
  const lun = array.createLun({ sizeBytes: MiB });
  const server = new IscsiServer({ array, targets: [{ name: A, luns: [lun] }], port: 0 });
  beforeAll(async () => {
    await server.listen();
  });
  afterAll(async () => {
    array.faults.clear();
    await server.close();
  });

  it('a command unanswered within the timeout rejects with IscsiTimeoutError, ends the session and takes every outstanding command with it', async () => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port: server.address!.port, targetName: A, commandTimeoutMs: 100 });
    // The array holds every SYNCHRONIZE CACHE(10) for two seconds: no answer comes within 100 ms.
    array.faults.add({ opcode: 0x35, delayMs: 2_000 });
    const held = s.lun(0).execute(cdb.synchronizeCache10());
    const other = s.lun(0).execute(cdb.synchronizeCache10());
    const expected = { code: 'ERR_ISCSI_TIMEOUT', timeoutMs: 100, port: server.address!.port, message: `iSCSI command to 127.0.0.1:${server.address!.port} had no answer within 100 ms (commandTimeoutMs); the session is closed` };
    await expect(held).rejects.toBeInstanceOf(IscsiTimeoutError);
    await expect(held).rejects.toMatchObject(expected);
    await expect(other).rejects.toMatchObject(expected);
    await expect(s.lun(0).execute(cdb.testUnitReady())).rejects.toMatchObject(expected);
    array.faults.clear();
  });

  it('answered commands are not affected, and the timeout is checked as an option', async () => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port: server.address!.port, targetName: A, commandTimeoutMs: 10_000 });
    expect(answer(await s.lun(0).execute(cdb.testUnitReady()))).toEqual([0, null]);
    await s.close();
    await expect(IscsiSession.connect({ host: '127.0.0.1', port: server.address!.port, targetName: A, commandTimeoutMs: 0 })).rejects.toThrow('IscsiSession.connect: commandTimeoutMs must be an integer in [1, 3600000], got 0');
  });
});
