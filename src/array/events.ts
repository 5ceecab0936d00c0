/**
 * Events the array emits for tooling, and a minimal typed emitter (the core does not depend on
 * `node:events`). Emitting with no listener costs one branch: payloads are built only when someone listens.
 * @module
 */
import type { AluaState } from '../spec/alua.js';

/** Payload of `thresholdCrossed`: pool use rose to or past the soft threshold. */
export interface ThresholdCrossedEvent {
  /** Bytes in use (thin allocations plus thick reservations). */
  readonly usedBytes: number;
  /** Pool capacity in bytes. */
  readonly capacityBytes: number;
  /** The configured soft threshold, in percent of capacity. */
  readonly thresholdPercent: number;
}

/** Payload of `outOfSpace`: a command needed allocation units the pool did not have. */
export interface OutOfSpaceEvent {
  /** LUN number the failing command was addressed to. */
  readonly lunId: number;
  /** Initiator (I_T nexus) that issued it. */
  readonly initiator: string;
  /** Its operation code. */
  readonly opcode: number;
  /** Allocation units it needed. */
  readonly neededUnits: number;
  /** Allocation units that were free. */
  readonly freeUnits: number;
}

/** Payload of `spaceFreed`: pool use fell (UNMAP, WRITE SAME with UNMAP, overwrite of shared data, LUN deletion). */
export interface SpaceFreedEvent {
  /** Bytes returned to the pool since the previous report. */
  readonly freedBytes: number;
  /** Bytes in use now. */
  readonly usedBytes: number;
}

/** Payload of `copyProgress`: an EXTENDED COPY segment finished (or stopped). */
export interface CopyProgressEvent {
  /** LUN number the EXTENDED COPY was addressed to. */
  readonly lunId: number;
  /** Initiator that issued it. */
  readonly initiator: string;
  /** LIST IDENTIFIER of the parameter list. */
  readonly listId: number;
  /** Segments completed so far. */
  readonly segmentsProcessed: number;
  /** Segments in the list. */
  readonly segmentCount: number;
  /** Bytes moved so far, in total. */
  readonly bytesTransferred: number;
  /**
   * Of those, bytes moved as metadata with no data copied: whole extents shared, or whole units
   * deallocated where the source is unmapped.
   */
  readonly bytesShared: number;
}

/** Payload of `aluaStateChanged`: a target port group (or one target port) changed its asymmetric access state. */
export interface AluaStateChangedEvent {
  /** TARGET PORT GROUP of the group that changed (or of the port that changed). */
  readonly groupId: number;
  /** With SET TARGET PORT GROUPS' offline descriptor: the RELATIVE TARGET PORT IDENTIFIER of the one port that went offline. */
  readonly relativeId?: number;
  /** The state before. */
  readonly from: AluaState;
  /** The state now. */
  readonly to: AluaState;
  /** True when SET TARGET PORT GROUPS changed it (an explicit transition), false for an implicit one. */
  readonly explicit: boolean;
}

/**
 * The link of a target port as a transport honours it: `up`; `down` (connections through the port
 * dropped, logins refused); `black-hole` (connections accepted, nothing answered).
 */
export type PortLink = 'up' | 'down' | 'black-hole';

/** Payload of `portLinkChanged`: a target port's link fault or latency changed. */
export interface PortLinkChangedEvent {
  /** RELATIVE TARGET PORT IDENTIFIER of the port. */
  readonly relativeId: number;
  /** Its link now. */
  readonly link: PortLink;
  /** The delay every answer through it takes now, in ms. */
  readonly latencyMs: number;
}

/** Every event of a {@link StorageArray}, by name. */
export interface ArrayEvents {
  /** Pool use crossed the soft threshold upward (once until it falls back below). */
  thresholdCrossed: ThresholdCrossedEvent;
  /** A command failed with SPACE ALLOCATION FAILED WRITE PROTECT. */
  outOfSpace: OutOfSpaceEvent;
  /** Pool space was released. */
  spaceFreed: SpaceFreedEvent;
  /** EXTENDED COPY progress, per segment. */
  copyProgress: CopyProgressEvent;
  /** A target port group's (or a target port's) asymmetric access state changed. */
  aluaStateChanged: AluaStateChangedEvent;
  /** A target port's link fault or latency changed. */
  portLinkChanged: PortLinkChangedEvent;
}

/** A listener of event `K`. */
export type Listener<E, K extends keyof E> = (event: E[K]) => void;

/** Minimal synchronous typed event emitter. */
export class TypedEmitter<E> {
  readonly #listeners = new Map<keyof E, Array<Listener<E, keyof E>>>();

  /** Adds `listener` for `name`; returns a function that removes it. */
  on<K extends keyof E>(name: K, listener: Listener<E, K>): () => void {
    const list = this.#listeners.get(name) ?? [];
    list.push(listener as Listener<E, keyof E>);
    this.#listeners.set(name, list);
    return () => this.off(name, listener);
  }

  /** Removes `listener` from `name`. */
  off<K extends keyof E>(name: K, listener: Listener<E, K>): void {
    const list = this.#listeners.get(name);
    if (list === undefined) return;
    const i = list.indexOf(listener as Listener<E, keyof E>);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(name);
  }

  /** True when `name` has at least one listener. */
  hasListeners(name: keyof E): boolean {
    return this.#listeners.has(name);
  }

  /** Calls every listener of `name` with `event`. A throwing listener does not stop the others. */
  protected emit<K extends keyof E>(name: K, event: E[K]): void {
    const list = this.#listeners.get(name);
    if (list === undefined) return;
    for (const listener of [...list]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is the listener's: the array's state is already committed.
      }
    }
  }
}
