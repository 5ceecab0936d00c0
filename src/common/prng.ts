/**
 * The one seeded pseudo-random generator of the project: mulberry32 (Tommy Ettinger's 32-bit
 * generator), small, fast, well distributed, and reproducible from one 32-bit seed. Fault rules with
 * a probability, the test kit's data patterns, the benchmark's guest writes and the fuzz corpus all
 * draw from it, so a seed means the same sequence everywhere.
 * @module
 */

/** A mulberry32 generator; every call advances its 32-bit state once (`bytes` once per 4 bytes). */
export class Mulberry32 {
  #state: number;

  /** @param seed - any 32-bit value (it is taken `>>> 0`) */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next value, a uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** The next value, uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** The next value, uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** `length` bytes, four from each value, least significant byte first. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const t = this.u32();
      for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (t >>> (8 * k)) & 0xff;
    }
    return out;
  }
}
