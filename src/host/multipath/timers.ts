/**
 * Time for a multipath device: real timers (which vitest's fake timers replace) or a simulated
 * clock such as the fabric model's {@link SimClock}, behind one small interface.
 * @module
 */

/** A clock a multipath device can run on: `SimClock` is one. */
export interface MultipathClock {
  /** The current time in ms. */
  readonly now: number;
  /** Resolves `ms` later. */
  sleep(ms: number): Promise<void>;
}

/** @internal A timer that can be cancelled (a cancelled timer's promise never resolves). */
export interface Timer {
  readonly fired: Promise<void>;
  cancel(): void;
}

/** @internal What the device uses: the time, and cancellable timers. */
export interface Timers {
  now(): number;
  /** A timer of `ms`; a `background` one (the path checker's) does not keep a process alive on its own. */
  after(ms: number, background?: boolean): Timer;
}

/** @internal Real time: `Date.now` and `setTimeout`, cleared on cancel so that nothing holds the process. */
export const realTimers: Timers = {
  now: () => Date.now(),
  after(ms, background = false) {
    let handle: ReturnType<typeof setTimeout> | undefined;
    const fired = new Promise<void>((resolve) => (handle = setTimeout(resolve, Math.max(0, ms))));
    if (background) handle?.unref?.();
    return { fired, cancel: () => clearTimeout(handle) };
  },
};

/** @internal Timers on `clock`: a cancelled timer's sleep still ends on the clock, and then does nothing. */
export function clockTimers(clock: MultipathClock): Timers {
  return {
    now: () => clock.now,
    after(ms) {
      let cancelled = false;
      const fired = new Promise<void>((resolve) => {
        void clock.sleep(ms).then(() => {
          if (!cancelled) resolve();
        });
      });
      return { fired, cancel: () => (cancelled = true) };
    },
  };
}
