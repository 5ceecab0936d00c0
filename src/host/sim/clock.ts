/**
 * A deterministic discrete-event clock. Simulated processes are ordinary async functions that
 * `await clock.sleep(ms)` or wait on a {@link Resource}; {@link SimClock.run} advances simulated
 * time from event to event, letting every process react to one event before taking the next, so
 * concurrency (many hosts, queue depth) is simulated rather than approximated by a formula.
 * Same inputs, same event order: ties are broken by scheduling order.
 * @module
 */

interface Pending {
  readonly time: number;
  readonly seq: number;
  readonly wake: () => void;
}

/** Lets every queued promise reaction run: a macrotask runs only after the microtask queue is empty. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A simulated clock with its event queue (a binary heap on time, then scheduling order). */
export class SimClock {
  #now = 0;
  #seq = 0;
  readonly #heap: Pending[] = [];
  #events = 0;

  /** Simulated time in milliseconds since the clock started. */
  get now(): number {
    return this.#now;
  }

  /** Events processed so far. */
  get events(): number {
    return this.#events;
  }

  /** Resolves when simulated time reaches `now + ms` (at once, in event order, for 0). */
  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.#push({ time: this.#now + Math.max(0, ms), seq: this.#seq++, wake }));
  }

  /**
   * Runs `main` (and every process it starts) to completion on simulated time. Resolves with its
   * result once no process can make progress any more; rejects if `main` rejects.
   */
  async run<T>(main: () => Promise<T>): Promise<T> {
    let done = false;
    let failed = false;
    let value: T | undefined;
    let error: unknown;
    main().then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        failed = true;
        error = e;
      },
    );
    for (;;) {
      await settle();
      if (failed) throw error;
      const next = this.#pop();
      if (next === undefined) break;
      this.#now = next.time;
      this.#events++;
      next.wake();
    }
    await settle();
    if (failed) throw error;
    if (!done) throw new Error('SimClock.run: the simulation stalled: processes are waiting with no event left to wake them');
    return value as T;
  }

  #push(p: Pending): void {
    const h = this.#heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): Pending | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Pending, b: Pending): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/**
 * A server with `capacity` parallel slots and a FIFO queue: a link, a host CPU, an array's copy
 * engine. {@link Resource.use} waits for a slot, holds it for the service time, then frees it.
 */
export class Resource {
  readonly #clock: SimClock;
  /** Parallel slots. */
  readonly capacity: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];
  /** Total simulated time slots were held, for utilisation. */
  busyTime = 0;

  /** @param clock - the clock it runs on; @param capacity - parallel slots */
  constructor(clock: SimClock, capacity = 1) {
    this.#clock = clock;
    this.capacity = capacity;
  }

  /** Waits for a free slot. */
  async acquire(): Promise<void> {
    if (this.#busy < this.capacity) {
      this.#busy++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Frees a slot (handing it to the longest waiter, if any). */
  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#busy--;
  }

  /** Holds one slot for `serviceMs` of simulated time. */
  async use(serviceMs: number): Promise<void> {
    if (serviceMs <= 0) return;
    await this.acquire();
    try {
      await this.#clock.sleep(serviceMs);
      this.busyTime += serviceMs;
    } finally {
      this.release();
    }
  }
}
