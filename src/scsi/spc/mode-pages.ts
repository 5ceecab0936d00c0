/**
 * The mode pages a logical unit has: the Caching page (08h, SBC-4 6.5.5) and the Control page (0Ah,
 * SPC-5 7.5.10), each as its default values and its changeable mask (a bit is one where MODE SELECT
 * may change it), and the per-LUN current values MODE SELECT sets and MODE SENSE reports. MODE SENSE's
 * changeable values and MODE SELECT's check are the same mask, so they cannot disagree.
 *
 * Changeable: Control SWP (software write protect: the medium-changing commands then answer DATA
 * PROTECT / WRITE PROTECTED), Control D_SENSE (every sense the logical unit returns is then in
 * descriptor format, 72h) and Caching WCE (reported; the array's writes are durable when they
 * complete whatever its value, which SBC-4 permits, and SYNCHRONIZE CACHE answers GOOD either way).
 * Nothing is saveable (PS = 0): there are no saved values.
 * @module
 */

/** @internal One mode page: its page code, default values and changeable mask (equal lengths). */
export interface ModePageDefinition {
  readonly pageCode: number;
  /** The default values, bytes 0 (PAGE CODE) and 1 (PAGE LENGTH) included. */
  readonly defaults: Uint8Array;
  /** The changeable values: bytes 0 and 1 as in `defaults`, then a one bit for each changeable bit. */
  readonly changeable: Uint8Array;
}

/** @internal Caching mode page, byte 2 bit 2: WCE (write cache enable). */
export const CACHING_WCE = { byte: 2, mask: 0x04 } as const;
/** @internal Control mode page, byte 2 bit 2: D_SENSE (descriptor-format sense, SPC-5 7.5.10). */
export const CONTROL_D_SENSE = { byte: 2, mask: 0x04 } as const;
/** @internal Control mode page, byte 4 bit 3: SWP (software write protect). */
export const CONTROL_SWP = { byte: 4, mask: 0x08 } as const;

/** @internal Caching mode page code. */
export const PAGE_CACHING = 0x08;
/** @internal Control mode page code. */
export const PAGE_CONTROL = 0x0a;

function page(pageCode: number, length: number, fields: Readonly<Record<number, number>>, changeable: Readonly<Record<number, number>>): ModePageDefinition {
  const defaults = new Uint8Array(length);
  const mask = new Uint8Array(length);
  for (const p of [defaults, mask]) {
    p[0] = pageCode;
    p[1] = length - 2; // PAGE LENGTH
  }
  for (const [at, value] of Object.entries(fields)) defaults[Number(at)] = value;
  for (const [at, value] of Object.entries(changeable)) mask[Number(at)] = value;
  return Object.freeze({ pageCode, defaults, changeable: mask });
}

/**
 * @internal The pages, by ascending page code (the order MODE SENSE returns them in for page 3Fh).
 * Caching (20 bytes): all zero by default (WCE = 0, RCD = 0, no pre-fetch). Control (12 bytes):
 * QUEUE ALGORITHM MODIFIER 1 (unrestricted reordering), TAS 1 (a command aborted by another I_T
 * nexus's action, PREEMPT AND ABORT, ends with TASK ABORTED status, SAM-5 5.6; LIO's default too),
 * BUSY TIMEOUT PERIOD FFFFh (unlimited).
 */
export const MODE_PAGES: readonly ModePageDefinition[] = Object.freeze([
  page(PAGE_CACHING, 20, {}, { [CACHING_WCE.byte]: CACHING_WCE.mask }),
  page(PAGE_CONTROL, 12, { 3: 0x10, 5: 0x40, 8: 0xff, 9: 0xff }, { [CONTROL_D_SENSE.byte]: CONTROL_D_SENSE.mask, [CONTROL_SWP.byte]: CONTROL_SWP.mask }),
]);

/** @internal The definition of page `pageCode`, if the array has that page. */
export function modePage(pageCode: number): ModePageDefinition | undefined {
  return MODE_PAGES.find((p) => p.pageCode === pageCode);
}

/** @internal The current values of one logical unit's mode pages. */
export class ModePages {
  readonly #current = new Map<number, Uint8Array>();

  constructor() {
    this.restoreDefaults();
  }

  /** The current values of page `pageCode` (a copy). */
  current(pageCode: number): Uint8Array {
    return this.#current.get(pageCode)!.slice();
  }

  /** Replaces the current values of `pageCode`; true when a byte changed. The caller checked them against the mask. */
  replace(pageCode: number, values: Uint8Array): boolean {
    const held = this.#current.get(pageCode)!;
    const changed = values.some((b, i) => b !== held[i]);
    held.set(values);
    return changed;
  }

  /** True while the Control page's SWP is one. */
  get softwareWriteProtect(): boolean {
    return (this.#current.get(PAGE_CONTROL)![CONTROL_SWP.byte]! & CONTROL_SWP.mask) !== 0;
  }

  /** True while the Control page's D_SENSE is one: sense data is returned in descriptor format. */
  get descriptorSense(): boolean {
    return (this.#current.get(PAGE_CONTROL)![CONTROL_D_SENSE.byte]! & CONTROL_D_SENSE.mask) !== 0;
  }

  /** Every page back to its default values (power on; a logical unit reset, SAM-5 6.3.3). */
  restoreDefaults(): void {
    for (const p of MODE_PAGES) this.#current.set(p.pageCode, p.defaults.slice());
  }
}
