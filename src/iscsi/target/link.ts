/**
 * The link of a target port, as the iSCSI portal applies it to one TCP connection: a
 * {@link GatedSocket} delays every byte the target sends by the port's latency, and while the port is
 * a black hole it neither reads what the initiator sends nor sends anything (the bytes wait, as TCP
 * would keep them, until the link is restored or the connection is dropped). A link that is `'down'`
 * is the portal's business: it drops the connection ({@link GatedSocket.drop}) and refuses new ones.
 * See docs/decisions/iscsi.md, "Portals".
 * @module
 */
import type { Socket } from 'node:net';
import type { PortLink } from '../../array/events.js';
import type { ConnectionIo } from './connection.js';

/** A link and its latency: what a connection through a port is subject to. */
export interface LinkCondition {
  /** `'up'`, `'down'` (connections dropped, none accepted) or `'black-hole'` (accepted, nothing answered). */
  readonly link: PortLink;
  /** Milliseconds by which every PDU the target sends is delayed (0: none). */
  readonly latencyMs: number;
}

/** A link that is up and adds no latency. */
export const LINK_UP: LinkCondition = Object.freeze({ link: 'up', latencyMs: 0 });

/** One burst of PDUs waiting to be written, or the end of the connection. */
interface Outgoing {
  readonly parts: readonly Uint8Array[] | undefined;
  readonly sent: (() => void) | undefined;
  /** `performance.now()` when the target sent it: it leaves at this time plus the latency. */
  readonly at: number;
}

/**
 * A TCP connection of a portal with its link applied: writes go out after the link's latency (in the
 * order they were made) and not at all while the link is a black hole; reads stop while it is a black
 * hole. `condition` is read at every step, so a change takes effect once {@link GatedSocket.update}
 * is called.
 */
export class GatedSocket implements ConnectionIo {
  readonly #socket: Socket;
  readonly #condition: () => LinkCondition;
  readonly #receive: (chunk: Uint8Array) => void;
  readonly #queue: Outgoing[] = [];
  /** Bytes read before the black hole stopped the reading, handed on when it ends. */
  readonly #held: Uint8Array[] = [];
  #timer: NodeJS.Timeout | undefined;
  #dropped = false;

  /**
   * @param socket - the accepted TCP connection
   * @param condition - the link the connection is subject to now
   * @param receive - where bytes from the initiator go
   */
  constructor(socket: Socket, condition: () => LinkCondition, receive: (chunk: Uint8Array) => void) {
    this.#socket = socket;
    this.#condition = condition;
    this.#receive = receive;
    socket.on('data', (chunk: Buffer) => this.#arrived(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    // The peer went away: nothing waiting will be written.
    socket.once('close', () => this.#release());
    this.update();
  }

  /** Sends bytes (after the latency; held while the link is a black hole). */
  write(bytes: Uint8Array): void {
    if (this.#queue.length === 0 && !this.#dropped && this.#passes()) this.#socket.write(bytes);
    else this.#push([bytes], undefined);
  }

  /** Sends several pieces as one burst; `sent` runs once the socket has written them or the connection dropped them. */
  writev(parts: readonly Uint8Array[], sent?: () => void): void {
    if (this.#queue.length === 0 && !this.#dropped && this.#passes()) this.#writeParts(parts, sent);
    else this.#push(parts, sent);
  }

  /** Ends the connection once everything sent before has left (the target's own close: a logout, an error). */
  close(): void {
    if (this.#dropped) return;
    this.#queue.push({ parts: undefined, sent: undefined, at: performance.now() });
    this.#drain();
  }

  /** Drops the connection at once (the link went down): nothing waiting is sent; TCP is reset. */
  drop(): void {
    if (this.#dropped) return;
    this.#release();
    this.#socket.destroy();
  }

  /** Gives up everything waiting: the buffers of queued bursts go back to their owners. */
  #release(): void {
    this.#dropped = true;
    clearTimeout(this.#timer);
    this.#held.length = 0;
    for (const item of this.#queue.splice(0)) item.sent?.();
  }

  /** Applies the link's current condition: stops or resumes reading, and sends what is due. */
  update(): void {
    if (this.#dropped) return;
    if (this.#condition().link === 'black-hole') {
      this.#socket.pause();
      return;
    }
    while (this.#held.length > 0 && !this.#dropped && this.#condition().link !== 'black-hole') this.#receive(this.#held.shift()!);
    if (this.#condition().link !== 'black-hole') this.#socket.resume();
    this.#drain();
  }

  /** True when a write may go straight to the socket: the link is up with no latency. */
  #passes(): boolean {
    const c = this.#condition();
    return c.link === 'up' && c.latencyMs <= 0;
  }

  #arrived(chunk: Uint8Array): void {
    if (this.#dropped) return;
    if (this.#condition().link === 'black-hole' || this.#held.length > 0) {
      // The black hole began after this chunk was read (or earlier ones still wait): keep it.
      this.#held.push(chunk);
      this.#socket.pause();
      return;
    }
    this.#receive(chunk);
  }

  #push(parts: readonly Uint8Array[], sent: (() => void) | undefined): void {
    if (this.#dropped) {
      sent?.();
      return;
    }
    this.#queue.push({ parts, sent, at: performance.now() });
    this.#drain();
  }

  /** Writes, in order, every queued burst whose time has come; stops at the first that must wait. */
  #drain(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.length > 0 && !this.#dropped) {
      const { link, latencyMs } = this.#condition();
      if (link === 'black-hole') return; // update() resumes
      const item = this.#queue[0]!;
      const wait = item.at + latencyMs - performance.now();
      if (wait > 0) {
        this.#timer = setTimeout(() => this.#drain(), Math.ceil(wait));
        return;
      }
      this.#queue.shift();
      if (item.parts === undefined) {
        this.#socket.end();
        continue;
      }
      this.#writeParts(item.parts, item.sent);
    }
  }

  #writeParts(parts: readonly Uint8Array[], sent: (() => void) | undefined): void {
    const socket = this.#socket;
    if (parts.length === 1 && sent === undefined) {
      socket.write(parts[0]!);
      return;
    }
    socket.cork();
    // The last part's callback runs once every part before it has been written too (or dropped).
    parts.forEach((p, i) => socket.write(p, i === parts.length - 1 && sent !== undefined ? () => sent() : undefined));
    process.nextTick(() => socket.uncork());
  }
}
