/**
 * The raw TCP ceiling of the read benchmark: what a Node process can send over loopback TCP when it
 * does nothing but answer requests with a header and a payload it already holds, measured the way
 * iscsi-perf measures an iSCSI target (a fixed number of requests outstanding on one connection).
 *
 * The protocol, in the shape of iSCSI's (a 48-byte header each way, like a Basic Header Segment):
 * - a request is 48 bytes: byte 0 {@link CEILING_READ} or {@link CEILING_STREAM}, bytes 4–7 the
 *   payload length (big-endian), bytes 16–19 a tag; the other bytes are zero;
 * - a read is answered by a 48-byte header (byte 0 {@link CEILING_DATA}, bytes 4–7 the payload
 *   length, bytes 16–19 the request's tag) followed by the payload, from one buffer allocated once
 *   per size; answers come in request order;
 * - a stream request is answered by the payload, again and again, for as long as the client stays
 *   connected (with the socket's backpressure): it measures how fast the client can receive when the
 *   sender never waits for it;
 * - anything else closes the connection.
 *
 * The client receives into one buffer it reuses (`onread`: no allocation per chunk), looks at the
 * 48 header bytes of each answer (its tag and length) and only counts the payload's bytes, so its
 * work per byte is the kernel's copy out of the socket, as in a C client.
 * @module
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** The variant name of the ceiling's results in the read scenarios (`iscsi-read-64KiB-qd8`, ...). */
export const CEILING_VARIANT = 'raw TCP ceiling (Node loopback)';

/** Length of a request and of an answer's header. */
export const CEILING_HEADER_LENGTH = 48;
/** Request opcode: answer one header and payload. */
export const CEILING_READ = 0x01;
/** Request opcode: send the payload back to back until the connection ends. */
export const CEILING_STREAM = 0x02;
/** Opcode of an answer's header. */
export const CEILING_DATA = 0x81;
/** The largest payload the server answers with (a larger request closes the connection). */
export const CEILING_MAX_PAYLOAD = 16 * 1024 * 1024;

/** The client's one receive buffer: a read takes at most this many bytes. */
const RECEIVE_BUFFER = 1024 * 1024;

/** A decoded request or answer header. */
export interface CeilingHeader {
  /** Byte 0. */
  readonly opcode: number;
  /** Payload length, bytes 4–7. */
  readonly length: number;
  /** Tag, bytes 16–19. */
  readonly tag: number;
}

/** Encodes a request or answer header into `into` (48 bytes from `at`), zeroing the other bytes. */
export function encodeCeilingHeader(h: CeilingHeader, into: Uint8Array = new Uint8Array(CEILING_HEADER_LENGTH), at = 0): Uint8Array {
  into.fill(0, at, at + CEILING_HEADER_LENGTH);
  const v = new DataView(into.buffer, into.byteOffset + at, CEILING_HEADER_LENGTH);
  v.setUint8(0, h.opcode);
  v.setUint32(4, h.length);
  v.setUint32(16, h.tag >>> 0);
  return into;
}

/** Decodes the 48-byte header at `at` of `bytes`. */
export function decodeCeilingHeader(bytes: Uint8Array, at = 0): CeilingHeader {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, CEILING_HEADER_LENGTH);
  return { opcode: v.getUint8(0), length: v.getUint32(4), tag: v.getUint32(16) };
}

/** The server's side of one connection: requests in, answers out. */
function serveConnection(socket: Socket, payloadFor: (length: number) => Buffer): void {
  socket.setNoDelay(true);
  const pending = Buffer.alloc(CEILING_HEADER_LENGTH);
  let have = 0;
  let streaming = false;
  const stream = (payload: Buffer): void => {
    // Back to back until the socket holds enough, then again once it has drained.
    while (!socket.destroyed && socket.write(payload));
  };
  socket.on('data', (chunk: Buffer) => {
    if (streaming) return socket.destroy(); // a stream request is the last thing a client says
    socket.cork();
    for (let p = 0; p < chunk.length; ) {
      const n = Math.min(CEILING_HEADER_LENGTH - have, chunk.length - p);
      chunk.copy(pending, have, p, p + n);
      have += n;
      p += n;
      if (have < CEILING_HEADER_LENGTH) break;
      have = 0;
      const h = decodeCeilingHeader(pending);
      if ((h.opcode !== CEILING_READ && h.opcode !== CEILING_STREAM) || h.length === 0 || h.length > CEILING_MAX_PAYLOAD) {
        socket.destroy();
        return;
      }
      const payload = payloadFor(h.length);
      if (h.opcode === CEILING_STREAM) {
        streaming = true;
        socket.uncork();
        socket.on('drain', () => stream(payload));
        stream(payload);
        return;
      }
      socket.write(encodeCeilingHeader({ opcode: CEILING_DATA, length: h.length, tag: h.tag }, Buffer.allocUnsafe(CEILING_HEADER_LENGTH)));
      socket.write(payload);
    }
    socket.uncork();
  });
  socket.on('error', () => socket.destroy());
}

/** A listening ceiling server. */
export interface CeilingServer {
  /** The loopback port it listens on. */
  readonly port: number;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** Starts the ceiling server on 127.0.0.1 (`port` 0: a free one). */
export function startCeilingServer(port = 0): Promise<CeilingServer> {
  // One payload per size, allocated on first use and sent as is from then on.
  const payloads = new Map<number, Buffer>();
  const payloadFor = (length: number): Buffer => {
    let p = payloads.get(length);
    if (p === undefined) payloads.set(length, (p = Buffer.alloc(length, 0xa5)));
    return p;
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, payloadFor);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const a = server.address();
      if (a === null || typeof a === 'string') return reject(new Error('ceiling server: no TCP address'));
      resolve({
        port: a.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** What one client run measured. */
export interface CeilingRun {
  /** Answers received whole. */
  readonly answers: number;
  /** Payload bytes received (headers not counted). */
  readonly payloadBytes: number;
  /** From the first request to the last answer, ms. */
  readonly wallMs: number;
  /** CPU time of the client's process over `wallMs` (user + system), ms. */
  readonly cpuMs: number;
}

/** How long a client run lasts: a number of answers, or a duration after which no request is sent. */
export type CeilingLimit = { readonly answers: number } | { readonly seconds: number };

function connected(port: number, buffer: Buffer, onBytes: (n: number) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true, onread: { buffer, callback: (n) => (onBytes(n), true) } });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

/**
 * Reads `length`-byte payloads with `depth` requests outstanding on one connection, until `limit`;
 * rejects when an answer's header is not the one expected (wrong opcode, length or tag order).
 */
export async function ceilingReads(port: number, { length, depth, limit }: { readonly length: number; readonly depth: number; readonly limit: CeilingLimit }): Promise<CeilingRun> {
  const answerLength = CEILING_HEADER_LENGTH + length;
  const header = Buffer.alloc(CEILING_HEADER_LENGTH);
  const receive = Buffer.allocUnsafe(RECEIVE_BUFFER);
  let socket: Socket | undefined;
  let into = 0; // bytes of the current answer received
  let answers = 0;
  let sent = 0;
  let lastAnswerAt = 0;
  let failure: Error | undefined;
  let finish: () => void = () => undefined;
  const stopAt = 'seconds' in limit ? performance.now() + limit.seconds * 1000 : Infinity;
  const maxAnswers = 'answers' in limit ? limit.answers : Infinity;
  const request = (): void => {
    socket!.write(encodeCeilingHeader({ opcode: CEILING_READ, length, tag: sent++ }, Buffer.allocUnsafe(CEILING_HEADER_LENGTH)));
  };
  const onBytes = (n: number): void => {
    for (let p = 0; p < n; ) {
      // Only the 48 header bytes of an answer are looked at; the payload is counted.
      if (into < CEILING_HEADER_LENGTH) {
        const k = Math.min(CEILING_HEADER_LENGTH - into, n - p);
        receive.copy(header, into, p, p + k);
        into += k;
        p += k;
        if (into === CEILING_HEADER_LENGTH) {
          const h = decodeCeilingHeader(header);
          if (h.opcode !== CEILING_DATA || h.length !== length || h.tag !== answers >>> 0) {
            failure = new Error(`ceiling client: answer ${answers} has opcode ${h.opcode}, length ${h.length}, tag ${h.tag}`);
            socket!.destroy();
            return finish();
          }
        }
        continue;
      }
      const k = Math.min(answerLength - into, n - p);
      into += k;
      p += k;
      if (into < answerLength) continue;
      into = 0;
      answers++;
      lastAnswerAt = performance.now();
      if (sent < maxAnswers && lastAnswerAt < stopAt) request();
      else if (answers === sent) return finish();
    }
  };
  socket = await connected(port, receive, onBytes);
  const done = new Promise<void>((resolve) => {
    finish = resolve;
    socket!.once('close', () => {
      if (answers < sent && failure === undefined) failure = new Error(`ceiling client: the server closed with ${sent - answers} answers outstanding`);
      resolve();
    });
  });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  socket.cork();
  for (let i = 0; i < Math.min(depth, maxAnswers); i++) request();
  socket.uncork();
  await done;
  const wallMs = lastAnswerAt - t0;
  const cpuMs = cpuMsSince(cpu);
  socket.destroy();
  if (failure !== undefined) throw failure;
  return { answers, payloadBytes: answers * length, wallMs, cpuMs };
}

/**
 * How fast this process receives when the server sends `length`-byte payloads back to back and never
 * waits for a request: the client's receiving capacity, to compare with the request-answer rate.
 */
export async function ceilingStream(port: number, { length, seconds }: { readonly length: number; readonly seconds: number }): Promise<CeilingRun> {
  const receive = Buffer.allocUnsafe(RECEIVE_BUFFER);
  let bytes = 0;
  const socket = await connected(port, receive, (n) => (bytes += n));
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  socket.write(encodeCeilingHeader({ opcode: CEILING_STREAM, length, tag: 0 }));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const wallMs = performance.now() - t0;
  const received = bytes;
  const cpuMs = cpuMsSince(cpu);
  socket.destroy();
  return { answers: Math.floor(received / length), payloadBytes: received, wallMs, cpuMs };
}
