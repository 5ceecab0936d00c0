/**
 * The errors the iSCSI initiator throws, each with its exact class, code, fields and message: a
 * login the target refuses (RFC 7143 11.13.5 status named), a connection that cannot be made or
 * closes during login, a target that breaks the login protocol, and every defect of an iscsi:// URL.
 * Servers listen on 127.0.0.1 only.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, StorageArray, VaaiSimError } from '../../src/index.js';
import {
  IscsiConnectionError,
  IscsiLoginError,
  IscsiServer,
  IscsiSession,
  IscsiUrlError,
  LoginStatus,
  formatLoginStatus,
  loginStatusName,
  parseIscsiUrl,
  targetEncoder,
} from '../../src/iscsi/index.js';
import { encodeText } from '../../src/iscsi/pdu/text.js';

const MiB = 1024 * 1024;
const KNOWN = 'iqn.2026-11.dev.vaai-sim:known';

/** A raw TCP server on 127.0.0.1 that does `onConnection` with each socket. */
async function rawServer(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no TCP address');
  return { server, port: a.port };
}

const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('login status table (RFC 7143 11.13.5)', () => {
  it('names every status of the RFC, and unknown details by their class', () => {
    expect(Object.values(LoginStatus).map((e) => `${formatLoginStatus(e.status)} ${loginStatusName(e.status)}`)).toEqual([
      '0000h success',
      '0101h target moved temporarily',
      '0102h target moved permanently',
      '0200h initiator error',
      '0201h authentication failure',
      '0202h authorization failure',
      '0203h target not found',
      '0204h target removed',
      '0205h unsupported version',
      '0206h too many connections',
      '0207h missing parameter',
      "0208h can't include in session",
      '0209h session type not supported',
      '020Ah session does not exist',
      '020Bh invalid during login',
      '0300h target error',
      '0301h service unavailable',
      '0302h out of resources',
    ]);
    expect(loginStatusName(0x0242)).toBe('unknown initiator error status');
    expect(loginStatusName(0x0399)).toBe('unknown target error status');
    expect(loginStatusName(0x0700)).toBe('unknown status class');
  });
});

describe('IscsiLoginError from a real target', () => {
  const array = new StorageArray({ capacityBytes: 1 << 28 });
  const lun = array.createLun({ sizeBytes: 16 * MiB });
  const server = new IscsiServer({ array, targets: [{ name: KNOWN, luns: [lun] }], port: 0 });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close());

  it('an unknown target name: target not found (0203h)', async () => {
    const e = await rejection(IscsiSession.connect({ host: '127.0.0.1', port, targetName: 'iqn.2026-11.dev.vaai-sim:nope' }));
    expect(e).toBeInstanceOf(IscsiLoginError);
    expect(e).toBeInstanceOf(VaaiSimError);
    expect(e).toMatchObject({
      name: 'IscsiLoginError',
      code: 'ERR_ISCSI_LOGIN',
      statusClass: 2,
      statusDetail: 3,
      status: 0x0203,
      statusName: 'target not found',
      origin: 'target',
      targetName: 'iqn.2026-11.dev.vaai-sim:nope',
      host: '127.0.0.1',
      port,
      message: `iSCSI login to iqn.2026-11.dev.vaai-sim:nope at 127.0.0.1:${port} rejected: target not found (0203h)`,
    });
  });

  it('the target still serves after a refused login', async () => {
    const s = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN });
    expect((await s.lun(0).execute(Uint8Array.of(0, 0, 0, 0, 0, 0))).status).toBe(0);
    await s.close();
  });
});

describe('IscsiConnectionError', () => {
  it('a refused TCP connection names the portal and the system error', async () => {
    // A port that was just free: listen, note it, close.
    const { server, port } = await rawServer((s) => s.destroy());
    await closeServer(server);
    const e = await rejection(IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN }));
    expect(e).toBeInstanceOf(IscsiConnectionError);
    expect(e).toMatchObject({ code: 'ERR_ISCSI_CONNECTION', host: '127.0.0.1', port, message: `iSCSI connection to 127.0.0.1:${port} failed: connection refused (ECONNREFUSED)` });
    expect((e as IscsiConnectionError).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a connection the target closes during login', async () => {
    const { server, port } = await rawServer((s) => s.destroy());
    try {
      const e = await rejection(IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN }));
      expect(e).toBeInstanceOf(IscsiConnectionError);
      expect(e).toMatchObject({ code: 'ERR_ISCSI_CONNECTION', host: '127.0.0.1', port });
      expect((e as Error).message).toMatch(new RegExp(`^iSCSI connection to 127\\.0\\.0\\.1:${port} failed during login: (the target closed the connection|connection reset by the peer \\(ECONNRESET\\))$`));
    } finally {
      await closeServer(server);
    }
  });

  it('a portal that accepts and never answers the login: loginTimeoutMs ends the wait', async () => {
    const accepted: Socket[] = [];
    const { server, port } = await rawServer((s) => accepted.push(s));
    try {
      const e = await rejection(IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN, loginTimeoutMs: 50 }));
      expect(e).toBeInstanceOf(IscsiConnectionError);
      expect((e as Error).message).toBe(`iSCSI connection to 127.0.0.1:${port} failed during login: no answer to the login within 50 ms (loginTimeoutMs)`);
    } finally {
      for (const s of accepted) s.destroy();
      await closeServer(server);
    }
  });

  it('an IPv6 portal is written in brackets', () => {
    const e = new IscsiConnectionError('::1', 3260, Object.assign(new Error('connect EHOSTUNREACH ::1:3260'), { code: 'EHOSTUNREACH' }));
    expect(e.message).toBe('iSCSI connection to [::1]:3260 failed: host unreachable (EHOSTUNREACH)');
  });
});

describe('IscsiLoginError from a target that answers by hand', () => {
  /** A target that answers the first Login Request with `status` (and `keys`), then closes. */
  const answering = (status: number, keys: Array<[string, string]> = []) =>
    rawServer((socket) =>
      socket.once('data', (chunk: Buffer) => {
        const itt = chunk.readUInt32BE(16);
        const isid = new Uint8Array(chunk.subarray(8, 14));
        socket.end(
          targetEncoder.loginResponse(
            { transit: false, csg: 0, nsg: 0, isid, tsih: 0, itt, statusClass: status >>> 8, statusDetail: status & 0xff, statSN: 0, expCmdSN: 0, maxCmdSN: 0 },
            encodeText(keys),
            { header: false, data: false },
          ),
        );
      }),
    );

  it('a redirection names the status and the address the target moved to', async () => {
    const { server, port } = await answering(0x0101, [['TargetAddress', '192.0.2.7:3260,1']]);
    try {
      await expect(IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN })).rejects.toMatchObject({
        code: 'ERR_ISCSI_LOGIN',
        statusClass: 1,
        statusDetail: 1,
        statusName: 'target moved temporarily',
        message: `iSCSI login to ${KNOWN} at 127.0.0.1:${port} rejected: target moved temporarily (0101h), TargetAddress 192.0.2.7:3260,1`,
      });
    } finally {
      await closeServer(server);
    }
  });

  it('out of resources (0302h)', async () => {
    const { server, port } = await answering(0x0302);
    try {
      await expect(IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN })).rejects.toThrow(`iSCSI login to ${KNOWN} at 127.0.0.1:${port} rejected: out of resources (0302h)`);
    } finally {
      await closeServer(server);
    }
  });

  it('a target that asks for CHAP when the initiator has no secret', async () => {
    // Status 0, but it stays in the security stage (T = 0) and offers CHAP only.
    const { server, port } = await rawServer((socket) =>
      socket.once('data', (chunk: Buffer) => {
        const isid = new Uint8Array(chunk.subarray(8, 14));
        socket.write(
          targetEncoder.loginResponse(
            { transit: false, csg: 0, nsg: 0, isid, tsih: 0, itt: chunk.readUInt32BE(16), statusClass: 0, statusDetail: 0, statSN: 0, expCmdSN: 0, maxCmdSN: 0 },
            encodeText([['AuthMethod', 'CHAP']]),
            { header: false, data: false },
          ),
        );
      }),
    );
    try {
      await expect(IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN })).rejects.toMatchObject({
        code: 'ERR_ISCSI_LOGIN',
        status: 0x0201,
        origin: 'initiator',
        message: `iSCSI login to ${KNOWN} at 127.0.0.1:${port} failed: the target requires CHAP and no CHAP secret was given: authentication failure (0201h)`,
      });
    } finally {
      await closeServer(server);
    }
  });

  it('a target that answers the login with a PDU of an unknown opcode broke the protocol: target error (0300h)', async () => {
    const { server, port } = await rawServer((socket) =>
      socket.once('data', () => {
        const bhs = new Uint8Array(48);
        bhs[0] = 0x3e; // not a target opcode
        socket.write(bhs);
      }),
    );
    try {
      await expect(IscsiSession.connect({ host: '127.0.0.1', port, targetName: KNOWN })).rejects.toMatchObject({
        code: 'ERR_ISCSI_LOGIN',
        status: 0x0300,
        origin: 'initiator',
        message: `iSCSI login to ${KNOWN} at 127.0.0.1:${port} failed: iSCSI PDU with unknown opcode 0x3e from the target: target error (0300h)`,
      });
    } finally {
      await closeServer(server);
    }
  });
});

describe('IscsiSession.connect options', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown key', { host: '127.0.0.1', targetName: KNOWN, tagetName: 'x' }, "IscsiSession.connect: unknown option 'tagetName' (known: host, port, targetName, initiatorName, digests, chap, isid, loginTimeoutMs, commandTimeoutMs)"],
    ['a login timeout of 0', { host: '127.0.0.1', targetName: KNOWN, loginTimeoutMs: 0 }, 'IscsiSession.connect: loginTimeoutMs must be an integer in [1, 3600000], got 0'],
    ['a port out of range', { host: '127.0.0.1', targetName: KNOWN, port: 70000 }, 'IscsiSession.connect: port must be an integer in [1, 65535], got 70000'],
    ['a fractional port', { host: '127.0.0.1', targetName: KNOWN, port: 3260.5 }, 'IscsiSession.connect: port must be an integer in [1, 65535], got 3260.5'],
    ['no host', { targetName: KNOWN }, 'IscsiSession.connect: host is required'],
    ['an empty target name', { host: '127.0.0.1', targetName: '' }, "IscsiSession.connect: targetName must be a non-empty string, got ''"],
    ['digests not a boolean', { host: '127.0.0.1', targetName: KNOWN, digests: 'yes' }, "IscsiSession.connect: digests must be true or false, got 'yes'"],
    ['an unknown CHAP key', { host: '127.0.0.1', targetName: KNOWN, chap: { user: 'a', secret: 's', name: 'x' } }, "IscsiSession.connect: chap: unknown option 'name' (known: user, secret, mutual)"],
  ];
  for (const [what, options, message] of cases) {
    it(`rejects ${what}`, async () => {
      const e = await rejection(IscsiSession.connect(options as never));
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as Error).message).toBe(message);
    });
  }
});

describe('IscsiServer options', () => {
  const array = new StorageArray({ capacityBytes: 1 << 26 });
  const lun = array.createLun({ sizeBytes: 1 << 20 });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown key', { array, targets: [], prot: 3260 }, "IscsiServer: unknown option 'prot' (known: array, targets, host, port, portalGroupTag, portals)"],
    ['no array', { targets: [] }, 'IscsiServer: array is required'],
    ['an array that is not a StorageArray', { array: {}, targets: [] }, 'IscsiServer: array must be a StorageArray, got {}'],
    ['a port out of range', { array, targets: [], port: 99999 }, 'IscsiServer: port must be an integer in [0, 65535], got 99999'],
    ['portals beside port', { array, targets: [], port: 3260, portals: [{ port: 3260 }] }, 'IscsiServer: give either portals or port/portalGroupTag (the one portal), not both'],
    ['portals beside portalGroupTag', { array, targets: [], portalGroupTag: 2, portals: [{ port: 3260 }] }, 'IscsiServer: give either portals or port/portalGroupTag (the one portal), not both'],
    ['an empty portal list', { array, targets: [], portals: [] }, 'IscsiServer: portals must name at least one portal'],
    ['an unknown portal key', { array, targets: [], portals: [{ prot: 3260 }] }, "IscsiServer: portals[0]: unknown option 'prot' (known: host, port, portalGroupTag, targetPortGroup)"],
    ['a portal group tag out of range', { array, targets: [], portals: [{ portalGroupTag: 65536 }] }, 'IscsiServer: portals[0]: portalGroupTag must be an integer in [0, 65535], got 65536'],
    ['a target port group out of range', { array, targets: [], portals: [{ targetPortGroup: -1 }] }, 'IscsiServer: portals[0]: targetPortGroup must be an integer in [0, 65535], got -1'],
    ['two portals with one tag', { array, targets: [], portals: [{ port: 0, portalGroupTag: 5 }, { port: 0 }, { port: 0, portalGroupTag: 5 }] }, 'IscsiServer: portals 1 and 3 have the same portal group tag 5; each portal is its own portal group'],
    ['a default tag that repeats a given one', { array, targets: [], portals: [{ port: 0, portalGroupTag: 2 }, { port: 0 }] }, 'IscsiServer: portals 1 and 2 have the same portal group tag 2; each portal is its own portal group'],
    ['two portals on one address and port', { array, targets: [], portals: [{ port: 3260 }, { port: 3261 }, { port: 3260 }] }, 'IscsiServer: portals 1 and 3 both listen on 127.0.0.1:3260'],
    ['the default port twice', { array, targets: [], portals: [{}, {}] }, 'IscsiServer: portals 1 and 2 both listen on 127.0.0.1:3260'],
    ['a wildcard address and another on its port', { array, targets: [], portals: [{ host: '0.0.0.0', port: 3261 }, { host: '127.0.0.2', port: 3261 }] }, 'IscsiServer: portals 1 and 2 both listen on 127.0.0.2:3261'],
    ['an IPv6 wildcard and another on its port', { array, targets: [], portals: [{ host: '::1', port: 3262 }, { host: '::', port: 3262 }] }, 'IscsiServer: portals 1 and 2 both listen on [::]:3262'],
    ['an unknown target key', { array, targets: [{ name: KNOWN, luns: [lun], lun: 0 }] }, "IscsiServer: targets[0]: unknown option 'lun' (known: name, luns, initiators, chap)"],
    ['a target without LUNs', { array, targets: [{ name: KNOWN }] }, 'IscsiServer: targets[0]: luns is required'],
    ['a LUN that is not a Lun', { array, targets: [{ name: KNOWN, luns: [0] }] }, 'IscsiServer: targets[0]: luns[0] must be a Lun, got 0'],
    ['initiators as a string', { array, targets: [{ name: KNOWN, luns: [lun], initiators: 'iqn.a' }] }, "IscsiServer: targets[0]: initiators must be an array, got 'iqn.a'"],
    ['CHAP without a secret', { array, targets: [{ name: KNOWN, luns: [lun], chap: { user: 'a' } }] }, 'IscsiServer: targets[0]: chap: secret is required'],
    ['an unknown mutual CHAP key', { array, targets: [{ name: KNOWN, luns: [lun], chap: { user: 'a', secret: 'a-secret-of-16ch', mutual: { user: 'b', secret: 'x', password: 'y' } } }] }, "IscsiServer: targets[0]: chap: mutual: unknown option 'password' (known: user, secret)"],
  ];
  for (const [what, options, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => new IscsiServer(options as never)).toThrow(new InvalidArgumentError(message));
    });
  }
});

describe('parseIscsiUrl', () => {
  it('reads host, port, target and LUN, an IPv6 host in brackets, and the default port', () => {
    expect(parseIscsiUrl('iscsi://127.0.0.1:3261/iqn.2026-11.dev.vaai-sim:a/5')).toEqual({ host: '127.0.0.1', port: 3261, targetName: 'iqn.2026-11.dev.vaai-sim:a', lun: 5 });
    expect(parseIscsiUrl('iscsi://[::1]/iqn.x/0')).toEqual({ host: '::1', port: 3260, targetName: 'iqn.x', lun: 0 });
    expect(parseIscsiUrl('ISCSI://array.example:65535/naa.600a0b80/16383')).toEqual({ host: 'array.example', port: 65535, targetName: 'naa.600a0b80', lun: 16383 });
  });

  const EXPECTED = '(expected iscsi://host[:port]/target-iqn/lun)';
  const cases: Array<[string, IscsiUrlError['part'], string]> = [
    ['iscsi://127.0.0.1/iqn.x', 'lun', 'the LUN is missing'],
    ['iscsi://127.0.0.1/iqn.x/', 'lun', 'the LUN is missing'],
    ['iscsi://127.0.0.1/iqn.x/one', 'lun', "the LUN 'one' is not an integer in 0..16383"],
    ['iscsi://127.0.0.1/iqn.x/16384', 'lun', "the LUN '16384' is not an integer in 0..16383"],
    ['iscsi://127.0.0.1/iqn.x/-1', 'lun', "the LUN '-1' is not an integer in 0..16383"],
    ['iscsi://127.0.0.1/iqn.x/0/extra', 'lun', "the LUN '0/extra' is not an integer in 0..16383"],
    ['http://127.0.0.1/iqn.x/0', 'scheme', "the scheme is 'http', not 'iscsi'"],
    ['127.0.0.1/iqn.x/0', 'scheme', 'the scheme iscsi:// is missing'],
    ['iscsi:///iqn.x/0', 'host', 'the host is missing'],
    ['iscsi://:3260/iqn.x/0', 'host', 'the host is missing'],
    ['iscsi://[::1/iqn.x/0', 'host', "the host '[::1' is not a name, an IPv4 address or an IPv6 address in brackets"],
    ['iscsi://::1/iqn.x/0', 'host', "the IPv6 host '::1' must be in brackets, e.g. iscsi://[::1]:3260/..."],
    ['iscsi://127.0.0.1:0/iqn.x/0', 'port', "the port '0' is not an integer in 1..65535"],
    ['iscsi://127.0.0.1:65536/iqn.x/0', 'port', "the port '65536' is not an integer in 1..65535"],
    ['iscsi://127.0.0.1:32a/iqn.x/0', 'port', "the port '32a' is not an integer in 1..65535"],
    ['iscsi://127.0.0.1:/iqn.x/0', 'port', "the port '' is not an integer in 1..65535"],
    ['iscsi://127.0.0.1', 'target', 'the target name is missing'],
    ['iscsi://127.0.0.1/', 'target', 'the target name is missing'],
    ['iscsi://127.0.0.1//0', 'target', 'the target name is missing'],
    ['iscsi://127.0.0.1/array0/0', 'target', "the target name 'array0' is not an iqn., eui. or naa. name"],
  ];
  for (const [url, part, problem] of cases) {
    it(`${url}: ${part}`, () => {
      let thrown: unknown;
      try {
        parseIscsiUrl(url);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(IscsiUrlError);
      expect(thrown).toBeInstanceOf(InvalidArgumentError);
      expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', part, url, message: `invalid iSCSI URL '${url}': ${problem} ${EXPECTED}` });
    });
  }
});
