/**
 * The link faults of a target port (TargetPort.setLink / setLatency / restore), as the iSCSI portal of
 * that port honours them (docs/decisions/iscsi.md, "Portals"): 'down' drops the connections through
 * the port (an I_T nexus loss each) and refuses TCP while every port of the portal is down (a login
 * to a target whose port alone is down is refused with 0301h); 'black-hole' accepts TCP and answers
 * nothing, neither login nor command, and what it held flows again on restore (as TCP would deliver
 * it); a latency holds every PDU the target sends through the port. The other portal is untouched.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb, decodeSense, type Lun, type ScsiResult } from '../../src/index.js';
import { IscsiConnectionError, IscsiServer, IscsiSession, IscsiTimeoutError } from '../../src/iscsi/index.js';
import { RawClient } from './raw-client.js';

const MiB = 1024 * 1024;
const T = 'iqn.2026-11.dev.vaai-sim:links';
const U = 'iqn.2026-11.dev.vaai-sim:links-other';
const HOST = 'iqn.2026-11.dev.vaai-sim:links-host';
const answer = (r: ScsiResult): unknown[] => [r.status, decodeSense(r.sense) ?? null];
const block = (byte: number): Uint8Array => new Uint8Array(512).fill(byte);

/** The byte LBA `lba` of `lun` holds now, read in-process (through the array's default port). */
async function byteAt(lun: Lun, lba: number): Promise<number> {
  const r = await lun.execute(cdb.read16({ lba, blocks: 1 }), undefined, { initiator: 'iqn.2026-11.dev.vaai-sim:observer' });
  return r.data![0]!;
}

/** Waits, one event-loop turn at a time (at most 2000 turns), until `done()`; false if it never is. */
async function until(done: () => Promise<boolean> | boolean): Promise<boolean> {
  for (let i = 0; i < 2000; i++) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}

/** `promise`'s state, without waiting for it. */
function track<V>(promise: Promise<V>): { readonly settled: boolean; readonly promise: Promise<V> } {
  const t = { settled: false, promise };
  promise.then(
    () => (t.settled = true),
    () => (t.settled = true),
  );
  return t;
}

describe('link faults of a target port, through its iSCSI portal', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun = array.createLun({ sizeBytes: 16 * MiB, lunId: 0 });
  const other = array.createLun({ sizeBytes: 16 * MiB, lunId: 1 });
  const server = new IscsiServer({
    array,
    targets: [{ name: T, luns: [lun] }, { name: U, luns: [other] }],
    portals: [{ port: 0, targetPortGroup: 1 }, { port: 0, targetPortGroup: 2 }],
  });
  const sessions: IscsiSession[] = [];
  const raws: RawClient[] = [];
  let isid = 0;
  const connect = async (portal: number, options: { targetName?: string; commandTimeoutMs?: number; loginTimeoutMs?: number } = {}): Promise<IscsiSession> => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port: server.portals[portal]!.port, targetName: T, initiatorName: HOST, isid: Uint8Array.of(0x80, 0x4c, 0x49, 0x4e, 0, ++isid), ...options });
    sessions.push(s);
    return s;
  };
  const port = (portal: number, target = T) => server.targetPort(target, portal)!;

  beforeAll(async () => {
    await server.listen();
  });
  afterEach(() => {
    for (const t of [T, U]) for (const p of [0, 1]) port(p, t).restore();
  });
  afterAll(async () => {
    for (const s of sessions) await s.close().catch(() => undefined);
    for (const c of raws) c.destroy();
    await server.close();
  });

  it("'down' drops the sessions through the port (their nexus is lost: the reservation goes) and refuses TCP; the other portal serves on; restore listens again on the same port", async () => {
    const through2 = (await connect(1)).lun(0);
    const through1 = (await connect(0)).lun(0);
    expect(answer(await through2.execute(cdb.reserve6()))).toEqual([0, null]);
    expect((await through1.execute(cdb.testUnitReady())).status).toBe(0x18); // RESERVATION CONFLICT
    const bound = server.portals[1]!.port;

    port(1).setLink('down');
    port(1, U).setLink('down');
    await expect(through2.execute(cdb.testUnitReady())).rejects.toMatchObject({ code: 'ERR_ISCSI_CONNECTION', during: 'session' });
    expect(lun.reservation).toBeUndefined(); // the nexus loss released it
    expect(answer(await through1.execute(cdb.testUnitReady()))).toEqual([0, null]);
    const refused = IscsiSession.connect({ host: '127.0.0.1', port: bound, targetName: T });
    await expect(refused).rejects.toBeInstanceOf(IscsiConnectionError);
    await expect(refused).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });

    port(1).restore();
    port(1, U).restore();
    expect(server.portals[1]!.port).toBe(bound);
    const again = (await connect(1)).lun(0);
    expect(answer(await again.execute(cdb.testUnitReady()))).toEqual([0, null]);
  });

  it("one target's port down on a portal that serves two: its sessions dropped, its logins refused with service unavailable (0301h); the other target logs in there", async () => {
    const mine = (await connect(1)).lun(0);
    const theirs = (await connect(1, { targetName: U })).lun(1);
    port(1).setLink('down');
    await expect(mine.execute(cdb.testUnitReady())).rejects.toMatchObject({ code: 'ERR_ISCSI_CONNECTION' });
    expect(answer(await theirs.execute(cdb.testUnitReady()))).toEqual([0, null]);
    await expect(connect(1)).rejects.toMatchObject({ code: 'ERR_ISCSI_LOGIN', status: 0x0301, statusName: 'service unavailable', origin: 'target' });
    expect((await connect(1, { targetName: U })).lun(1)).toBeDefined();
    // SendTargets no longer names the portal for the target whose port there is down.
    const c = await RawClient.connect(server.portals[0]!.port);
    raws.push(c);
    await c.login({ discovery: true });
    const [p1, p2] = server.portals.map((p) => `127.0.0.1:${p.port}`);
    expect(await c.text([['SendTargets', 'All']])).toEqual([
      ['TargetName', T],
      ['TargetAddress', `${p1},1`],
      ['TargetName', U],
      ['TargetAddress', `${p1},1`],
      ['TargetAddress', `${p2},2`],
    ]);
  });

  it("'black-hole': a command is taken by TCP and not answered; restore lets it through (the write lands, GOOD comes back)", async () => {
    const s2 = await connect(1);
    expect(answer(await s2.lun(0).execute(cdb.write16({ lba: 7, blocks: 1 }), block(0x11)))).toEqual([0, null]);
    port(1).setLink('black-hole');
    const write = track(Promise.resolve(s2.lun(0).execute(cdb.write16({ lba: 7, blocks: 1 }), block(0x22))));
    // Portal 1 answers meanwhile: the held write has not reached the LUN.
    const s1 = (await connect(0)).lun(0);
    for (let i = 0; i < 20; i++) expect(answer(await s1.execute(cdb.testUnitReady()))).toEqual([0, null]);
    expect(await byteAt(lun, 7)).toBe(0x11);
    expect(write.settled).toBe(false);
    port(1).restore();
    expect(answer(await write.promise)).toEqual([0, null]);
    expect(await byteAt(lun, 7)).toBe(0x22);
  });

  it("'black-hole' with the initiator's timeouts: a command fails with IscsiTimeoutError, a new login with IscsiConnectionError (TCP was accepted)", async () => {
    const s2 = await connect(1, { commandTimeoutMs: 150 });
    port(1).setLink('black-hole');
    await expect(s2.lun(0).execute(cdb.testUnitReady())).rejects.toBeInstanceOf(IscsiTimeoutError);
    const login = IscsiSession.connect({ host: '127.0.0.1', port: server.portals[1]!.port, targetName: T, loginTimeoutMs: 150 });
    // 'during login': the TCP connection was made, the Login Request went unanswered.
    await expect(login).rejects.toMatchObject({ code: 'ERR_ISCSI_CONNECTION', message: `iSCSI connection to 127.0.0.1:${server.portals[1]!.port} failed during login: no answer to the login within 150 ms (loginTimeoutMs)` });
  });

  it("a black hole also holds answers the target had already produced: the write landed, its status waits for restore", async () => {
    const s2 = await connect(1);
    port(1).setLatency(60_000); // the target's answers wait; its reading does not
    const write = track(Promise.resolve(s2.lun(0).execute(cdb.write16({ lba: 8, blocks: 1 }), block(0x33))));
    expect(await until(async () => (await byteAt(lun, 8)) === 0x33)).toBe(true);
    port(1).setLink('black-hole');
    port(1).setLatency(0);
    expect(write.settled).toBe(false);
    port(1).restore();
    expect(answer(await write.promise)).toEqual([0, null]);
  });

  it("from black hole to down: the held command's connection is dropped; from down to black hole: TCP is accepted again and the login goes unanswered", async () => {
    const s2 = await connect(1);
    port(1).setLink('black-hole');
    port(1, U).setLink('black-hole');
    const held = s2.lun(0).execute(cdb.testUnitReady());
    port(1).setLink('down');
    port(1, U).setLink('down');
    await expect(held).rejects.toMatchObject({ code: 'ERR_ISCSI_CONNECTION', during: 'session' });
    await expect(connect(1)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    port(1).setLink('black-hole');
    port(1, U).setLink('black-hole');
    await expect(connect(1, { loginTimeoutMs: 100 })).rejects.toMatchObject({ message: expect.stringContaining('failed during login: no answer to the login within 100 ms') });
  });

  it('a latency holds every answer through the port and no other: the write has landed and its status waits until the latency is lifted', async () => {
    const s2 = await connect(1);
    const s1 = (await connect(0)).lun(0);
    port(1).setLatency(60_000);
    const write = track(Promise.resolve(s2.lun(0).execute(cdb.write16({ lba: 9, blocks: 1 }), block(0x44))));
    expect(await until(async () => (await byteAt(lun, 9)) === 0x44)).toBe(true);
    expect(answer(await s1.execute(cdb.testUnitReady()))).toEqual([0, null]);
    expect(write.settled).toBe(false);
    port(1).setLatency(0);
    expect(answer(await write.promise)).toEqual([0, null]);
  });

  it('a small latency still answers every command, in order', async () => {
    const s2 = (await connect(1)).lun(0);
    port(1).setLatency(5);
    const results = await Promise.all([0x51, 0x52, 0x53].map((b, i) => s2.execute(cdb.write16({ lba: 20 + i, blocks: 1 }), block(b))));
    expect(results.map(answer)).toEqual([[0, null], [0, null], [0, null]]);
    const read = await s2.execute(cdb.read16({ lba: 20, blocks: 3 }));
    expect([read.status, read.data![0], read.data![512], read.data![1024]]).toEqual([0, 0x51, 0x52, 0x53]);
  });
});
