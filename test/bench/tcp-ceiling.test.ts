import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CEILING_DATA,
  CEILING_HEADER_LENGTH,
  CEILING_MAX_PAYLOAD,
  CEILING_READ,
  CEILING_STREAM,
  ceilingReads,
  decodeCeilingHeader,
  encodeCeilingHeader,
  startCeilingServer,
  type CeilingServer,
} from '../../src/bench/suites/tcp-ceiling.js';

const KiB = 1024;

/** A raw connection to the server: what it sends, and whether it closed. */
async function rawClient(port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void>; until: (bytes: number) => Promise<Buffer> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const chunks: Buffer[] = [];
  let total = 0;
  let waiter: { bytes: number; wake: () => void } | undefined;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    total += c.length;
    if (waiter !== undefined && total >= waiter.bytes) waiter.wake();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  const received = (): Buffer => Buffer.concat(chunks);
  const until = (bytes: number): Promise<Buffer> =>
    total >= bytes ? Promise.resolve(received()) : new Promise((resolve) => (waiter = { bytes, wake: () => resolve(received()) }));
  return { socket, received, closed, until };
}

describe('raw TCP ceiling: the header', () => {
  it.each([
    { h: { opcode: CEILING_READ, length: 65536, tag: 7 }, bytes: { 0: 0x01, 4: 0x00, 5: 0x01, 6: 0x00, 7: 0x00, 16: 0, 17: 0, 18: 0, 19: 7 } },
    { h: { opcode: CEILING_STREAM, length: 1048576, tag: 0 }, bytes: { 0: 0x02, 4: 0x00, 5: 0x10, 6: 0x00, 7: 0x00, 19: 0 } },
    { h: { opcode: CEILING_DATA, length: 0x01020304, tag: 0xfffffffe }, bytes: { 0: 0x81, 4: 0x01, 5: 0x02, 6: 0x03, 7: 0x04, 16: 0xff, 17: 0xff, 18: 0xff, 19: 0xfe } },
  ])('opcode $h.opcode, length $h.length, tag $h.tag: 48 bytes, fields big-endian at 0, 4 and 16, zeros elsewhere', ({ h, bytes }) => {
    const b = encodeCeilingHeader(h, new Uint8Array(CEILING_HEADER_LENGTH).fill(0xee));
    expect(b.length).toBe(48);
    const fields = new Set([0, 4, 5, 6, 7, 16, 17, 18, 19]);
    for (let i = 0; i < 48; i++) expect([i, b[i]]).toEqual([i, fields.has(i) ? ((bytes as Record<number, number>)[i] ?? 0) : 0]);
    expect(decodeCeilingHeader(b)).toEqual(h);
  });

  it('encodes and decodes at an offset of a larger buffer, leaving the rest alone', () => {
    const b = new Uint8Array(100).fill(0x11);
    encodeCeilingHeader({ opcode: CEILING_READ, length: 512, tag: 3 }, b, 10);
    expect([...b.subarray(0, 10)]).toEqual(Array(10).fill(0x11));
    expect([...b.subarray(58)]).toEqual(Array(42).fill(0x11));
    expect(decodeCeilingHeader(b, 10)).toEqual({ opcode: CEILING_READ, length: 512, tag: 3 });
  });
});

describe('raw TCP ceiling: the server', () => {
  let server: CeilingServer;
  beforeAll(async () => (server = await startCeilingServer(0)));
  afterAll(async () => server.close());

  it('answers a read split over several TCP writes with its header (opcode 81h, length, tag) and the payload', async () => {
    const c = await rawClient(server.port);
    const req = encodeCeilingHeader({ opcode: CEILING_READ, length: 4 * KiB, tag: 0x0a0b0c0d });
    c.socket.write(req.subarray(0, 5));
    await new Promise((r) => setImmediate(r));
    c.socket.write(req.subarray(5, 47));
    await new Promise((r) => setImmediate(r));
    c.socket.write(req.subarray(47));
    const got = await c.until(48 + 4 * KiB);
    expect(got.length).toBe(48 + 4 * KiB);
    expect(decodeCeilingHeader(got)).toEqual({ opcode: CEILING_DATA, length: 4 * KiB, tag: 0x0a0b0c0d });
    expect(got.subarray(48).every((x) => x === 0xa5)).toBe(true);
    c.socket.destroy();
  });

  it('answers several reads of different sizes sent in one write, in request order', async () => {
    const c = await rawClient(server.port);
    const sizes = [512, 64 * KiB, 1, 3];
    c.socket.write(Buffer.concat(sizes.map((length, tag) => encodeCeilingHeader({ opcode: CEILING_READ, length, tag: tag + 100 }))));
    const total = sizes.reduce((a, n) => a + 48 + n, 0);
    const got = await c.until(total);
    expect(got.length).toBe(total);
    let at = 0;
    for (const [i, length] of sizes.entries()) {
      expect(decodeCeilingHeader(got, at)).toEqual({ opcode: CEILING_DATA, length, tag: 100 + i });
      at += 48 + length;
    }
    c.socket.destroy();
  });

  it('streams the payload back to back after a stream request, with no headers', async () => {
    const c = await rawClient(server.port);
    c.socket.write(encodeCeilingHeader({ opcode: CEILING_STREAM, length: 64 * KiB, tag: 0 }));
    const got = await c.until(3 * 64 * KiB);
    expect(got.every((x) => x === 0xa5)).toBe(true);
    c.socket.destroy();
  });

  it.each([
    { what: 'an unknown opcode', h: { opcode: 0x03, length: 512, tag: 1 } },
    { what: 'the answer opcode', h: { opcode: CEILING_DATA, length: 512, tag: 1 } },
    { what: 'a zero length', h: { opcode: CEILING_READ, length: 0, tag: 1 } },
    { what: 'a length over 16 MiB', h: { opcode: CEILING_READ, length: CEILING_MAX_PAYLOAD + 1, tag: 1 } },
  ])('closes the connection without an answer on $what', async ({ h }) => {
    const c = await rawClient(server.port);
    c.socket.write(encodeCeilingHeader(h));
    await c.closed;
    expect(c.received().length).toBe(0);
  });

  it('answers a read of exactly 16 MiB', async () => {
    const c = await rawClient(server.port);
    c.socket.write(encodeCeilingHeader({ opcode: CEILING_READ, length: CEILING_MAX_PAYLOAD, tag: 9 }));
    const got = await c.until(48 + CEILING_MAX_PAYLOAD);
    expect(decodeCeilingHeader(got)).toEqual({ opcode: CEILING_DATA, length: CEILING_MAX_PAYLOAD, tag: 9 });
    c.socket.destroy();
  });
});

describe('raw TCP ceiling: the client', () => {
  let server: CeilingServer;
  beforeAll(async () => (server = await startCeilingServer(0)));
  afterAll(async () => server.close());

  it.each([
    { length: 64 * KiB, depth: 8, answers: 40 },
    { length: 1024 * KiB, depth: 8, answers: 12 },
    { length: 100, depth: 1, answers: 5 },
    { length: 4 * KiB, depth: 8, answers: 3 },
  ])('reads $answers answers of $length bytes at depth $depth: exactly those, every payload byte counted once', async ({ length, depth, answers }) => {
    const run = await ceilingReads(server.port, { length, depth, limit: { answers } });
    expect(run.answers).toBe(answers);
    expect(run.payloadBytes).toBe(answers * length);
    expect(run.wallMs).toBeGreaterThan(0);
    expect(run.cpuMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    { what: 'a tag out of order', answer: (tag: number) => ({ opcode: CEILING_DATA, length: 512, tag: tag + 1 }), error: /answer 0 has opcode 129, length 512, tag 1/ },
    { what: 'a wrong length', answer: (tag: number) => ({ opcode: CEILING_DATA, length: 511, tag }), error: /answer 0 has opcode 129, length 511, tag 0/ },
    { what: 'a wrong opcode', answer: (tag: number) => ({ opcode: CEILING_READ, length: 512, tag }), error: /answer 0 has opcode 1, length 512, tag 0/ },
  ])('rejects $what in an answer header', async ({ answer, error }) => {
    const fake = createServer((s) => {
      s.once('data', (req: Buffer) => {
        const h = decodeCeilingHeader(req);
        s.write(encodeCeilingHeader(answer(h.tag)));
        s.write(Buffer.alloc(512));
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', () => resolve()));
    const port = (fake.address() as { port: number }).port;
    await expect(ceilingReads(port, { length: 512, depth: 1, limit: { answers: 2 } })).rejects.toThrow(error);
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  it('rejects when the server closes with answers outstanding', async () => {
    const fake = createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', () => resolve()));
    const port = (fake.address() as { port: number }).port;
    await expect(ceilingReads(port, { length: 512, depth: 4, limit: { answers: 10 } })).rejects.toThrow(/closed with 4 answers outstanding/);
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });
});
