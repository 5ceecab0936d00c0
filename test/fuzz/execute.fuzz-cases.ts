/**
 * Fuzzing `Lun.execute`: case generators and the invariants every answer must satisfy, shared by
 * `execute.test.ts` (a few thousand cases in `npm test`) and `execute.fuzz.test.ts` (a million, in
 * `npm run fuzz`).
 *
 * Cases come from a seeded generator (case `i` of seed `s` is always the same case, so any failure
 * is reproduced by its seed and index) in six families: random bytes; every opcode 0..255 with
 * random fields; every implemented command with its fields drawn from boundary values, then
 * truncated, extended or bit-flipped, with a Data-Out that is exact, missing, short or long; UNMAP
 * and EXTENDED COPY parameter lists built with `src/codec/cdb-encoder.ts` and then mutated (every
 * length field wrong in turn); and junk (non-`Uint8Array` CDBs, Data-Out and initiators).
 *
 * Invariants of every answer: `execute` does not throw and (no fault installed) answers
 * synchronously; status is GOOD, CHECK CONDITION or RESERVATION CONFLICT; CHECK CONDITION carries
 * well-formed sense (18 bytes of fixed format, 70h/F0h with ADDITIONAL SENSE LENGTH 10, or descriptor
 * format, 72h, when D_SENSE is set) that is never
 * HARDWARE ERROR / INTERNAL TARGET FAILURE; GOOD carries no sense and a failed command no Data-In;
 * a failed command changes neither the medium (a hash of every LUN's mapped units) nor the pool,
 * except EXTENDED COPY failing with 07/27/07, which keeps what it copied; the pool's accounting
 * agrees with the extents the LUNs reference and never exceeds the capacity.
 */
import { StorageArray, cdb, decodeSense, type Lun, type ScsiResult } from '../../src/index.js';
import type { Extent } from '../../src/array/block-store.js';
import { Mulberry32 } from '../../src/common/prng.js';

// ---- the array under test --------------------------------------------------------------------------

export const UNIT_BYTES = 4096;
const CAPACITY_UNITS = 48;

/** LUNs of the fuzzed array: block sizes 512 and 4096, a 512e LUN, thin and thick, access lists, one large sparse LUN. */
const LUN_OPTIONS = [
  { sizeBytes: 128 * 512, blockSize: 512, physicalBlockSize: 4096, thin: true }, // 512e: eight logical blocks per physical block
  { sizeBytes: 16 * 4096, blockSize: 4096, thin: true },
  { sizeBytes: 64 * 512, blockSize: 512, thin: false, initiators: ['default', 'host-a'] },
  { sizeBytes: 2 ** 30, blockSize: 512, thin: true },
  { sizeBytes: 64 * 512 + 1024, blockSize: 512, thin: true, initiators: ['host-b'] },
] as const;

const INITIATORS = ['default', 'default', 'default', 'default', 'host-a', 'host-b', 'intruder'];

/** A fresh array (small pool, soft threshold at 80 %) and its LUNs. */
export function createTarget(): { array: StorageArray; luns: Lun[] } {
  const array = new StorageArray({ capacityBytes: CAPACITY_UNITS * UNIT_BYTES, allocationUnitBytes: UNIT_BYTES, softThresholdPercent: 80, arrayId: 0xf022 });
  const luns = LUN_OPTIONS.map((o, lunId) => array.createLun({ ...o, lunId, initiators: 'initiators' in o ? [...o.initiators] : undefined }));
  return { array, luns };
}

// ---- a seeded generator -----------------------------------------------------------------------------

/** The project's mulberry32, with the choices the fuzzer makes. */
export class Rng extends Mulberry32 {
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** The seed of case `index` of a run seeded with `seed`. */
export function caseSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

// ---- field values -----------------------------------------------------------------------------------

/** A 64-bit field value as two 32-bit halves (values above 2^53 cannot be JavaScript numbers). */
interface U64 {
  readonly hi: number;
  readonly lo: number;
}

const u64 = (n: number): U64 => ({ hi: Math.floor(n / 2 ** 32), lo: n >>> 0 });

function putU64(b: Uint8Array, at: number, v: U64): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setUint32(at, v.hi >>> 0);
  dv.setUint32(at + 4, v.lo >>> 0);
}

function putU32(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, v >>> 0);
}

function putU16(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint16(at, v & 0xffff);
}

/** LBAs around the start and end of `lun`, unit boundaries, 32-bit and 64-bit extremes. */
function lba64(rng: Rng, lun: Lun): U64 {
  const n = lun.blockCount;
  const unit = lun.unitBlocks;
  switch (rng.int(14)) {
    case 0:
      return u64(0);
    case 1:
      return u64(1);
    case 2:
      return u64(n - 1);
    case 3:
      return u64(n);
    case 4:
      return u64(n + 1);
    case 5:
      return u64(Math.max(0, n - unit));
    case 6:
      return u64(rng.int(Math.ceil(n / unit)) * unit);
    case 7:
      return u64(0xffffffff);
    case 8:
      return { hi: 0x1fffff, lo: 0xffffffff }; // 2^53 - 1
    case 9:
      return { hi: 0x200000, lo: 0 }; // 2^53
    case 10:
      return { hi: 0x80000000, lo: 0 }; // 2^63
    case 11:
      return { hi: 0xffffffff, lo: 0xffffffff }; // 2^64 - 1
    case 12:
      return { hi: rng.u32(), lo: rng.u32() };
    default:
      return u64(rng.int(n + 2));
  }
}

/** An LBA that fits 32 bits, around the same boundaries. */
function lba32(rng: Rng, lun: Lun): number {
  const v = lba64(rng, lun);
  return v.hi === 0 ? v.lo : rng.chance(0.5) ? 0xffffffff : rng.u32();
}

/** Block counts: small ones near unit boundaries mostly, and limits of 16- and 32-bit fields. */
function blockCount(rng: Rng, lun: Lun, max: number): number {
  const unit = lun.unitBlocks;
  const v = rng.pick([0, 1, 2, unit - 1, unit, unit + 1, 2 * unit, 16, 17, 255, 256, rng.int(64), rng.int(64), rng.int(64), rng.int(2 * unit + 1), 65535, 65536, 0xffffffff, rng.u32()]);
  return Math.min(v, max);
}

/** Allocation lengths: zero, tiny, typical, huge. */
function allocationLength(rng: Rng, max: number): number {
  return Math.min(max, rng.pick([0, 1, 3, 4, 7, 8, 15, 16, 17, 18, 24, 31, 32, 36, 44, 64, 96, 255, 256, 1024, 4096, 65535, rng.u32()]));
}

/** Data-Out: nine times in ten for a valid command the exact length; else missing, empty, off by one, by a block, or random. */
function dataOutFor(rng: Rng, expected: number, make: (n: number) => Uint8Array, blockSize: number): Uint8Array | undefined {
  // Never build huge buffers: a Data-Out of more than 2 MiB is only ever sent as a wrong, short one.
  const exactAllowed = expected <= 2 * 1024 * 1024;
  const capped = (n: number) => make(Math.max(0, Math.min(n, 4 * 1024 * 1024)));
  switch (exactAllowed ? rng.int(20) : 11 + rng.int(9)) {
    case 11:
      return undefined;
    case 12:
      return new Uint8Array(0);
    case 13:
      return capped(expected - 1);
    case 14:
      return capped(expected + 1);
    case 15:
      return capped(expected - blockSize);
    case 16:
      return capped(expected + blockSize);
    case 17:
    case 18:
      return capped(rng.int(Math.min(expected, 65536) * 2 + 17));
    case 19:
      return rng.bytes(rng.int(64));
    default:
      return make(expected);
  }
}

/** A fill pattern buffer: zeros, one repeated byte, or random bytes. */
function patternMaker(rng: Rng): (n: number) => Uint8Array {
  const kind = rng.int(4);
  const fill = rng.u32() & 0xff;
  return (n) => {
    if (kind === 0) return new Uint8Array(n);
    if (kind === 3 && n <= 8192) return rng.bytes(n);
    const b = new Uint8Array(n).fill(fill);
    if (n > 0) b[rng.int(n)] = rng.u32() & 0xff;
    return b;
  };
}

// ---- CDB mutations ----------------------------------------------------------------------------------

/** Sometimes truncates, extends, bit-flips or sets the CONTROL byte of a well-formed CDB. */
function mutateCdb(rng: Rng, c: Uint8Array): Uint8Array {
  const r = rng.int(100);
  if (r < 6) return c.subarray(0, rng.int(c.length)); // truncated (possibly empty)
  if (r < 10) {
    const longer = new Uint8Array(Math.min(32, c.length + 1 + rng.int(16)));
    longer.set(c);
    longer.set(rng.bytes(longer.length - c.length), c.length);
    return longer;
  }
  if (r < 16) {
    const flipped = c.slice();
    for (let i = 1 + rng.int(3); i > 0; i--) flipped[1 + rng.int(flipped.length - 1)]! ^= 1 << rng.int(8);
    return flipped;
  }
  if (r < 19) {
    const controlled = c.slice();
    controlled[controlled.length - 1] = rng.u32() & 0xff;
    return controlled;
  }
  return c;
}

// ---- cases ------------------------------------------------------------------------------------------

/** One call of `execute`. */
export interface FuzzCase {
  /** Generator family, for statistics. */
  readonly family: string;
  /** Index of the LUN the command is sent to. */
  readonly lun: number;
  readonly cdb: unknown;
  readonly dataOut: unknown;
  readonly initiator: unknown;
}

type Built = { cdb: Uint8Array; dataOut: Uint8Array | undefined };
type Builder = (rng: Rng, lun: Lun, luns: readonly Lun[]) => Built;

function rw(opcode: number, size: 10 | 12 | 16, write: boolean): Builder {
  return (rng, lun) => {
    const f = {
      lba: 0,
      blocks: blockCount(rng, lun, size === 10 ? 0xffff : 0xffffffff),
      protect: rng.chance(0.05) ? 1 + rng.int(7) : 0,
      dpo: rng.chance(0.2),
      fua: rng.chance(0.2),
    };
    const c = size === 16 ? cdb.read16(f) : size === 12 ? cdb.read12(f) : cdb.read10(f);
    c[0] = opcode;
    if (size === 16) putU64(c, 2, lba64(rng, lun));
    else putU32(c, 2, lba32(rng, lun));
    if (!write) return { cdb: c, dataOut: rng.chance(0.05) ? rng.bytes(rng.int(1024)) : undefined };
    return { cdb: c, dataOut: dataOutFor(rng, f.blocks * lun.blockSize, patternMaker(rng), lun.blockSize) };
  };
}

function writeSame(sixteen: boolean): Builder {
  return (rng, lun) => {
    const c = (sixteen ? cdb.writeSame16 : cdb.writeSame10)({
      lba: 0,
      blocks: blockCount(rng, lun, sixteen ? 0xffffffff : 0xffff),
      unmap: rng.chance(0.5),
      anchor: rng.chance(0.05),
      ndob: sixteen && rng.chance(0.3),
      wrprotect: rng.chance(0.05) ? 1 + rng.int(7) : 0,
    });
    if (rng.chance(0.05)) c[1]! |= 0x06 & rng.u32(); // PBDATA / LBDATA
    if (sixteen) putU64(c, 2, lba64(rng, lun));
    else putU32(c, 2, lba32(rng, lun));
    const ndob = sixteen && (c[1]! & 0x01) !== 0;
    return { cdb: c, dataOut: dataOutFor(rng, ndob ? 0 : lun.blockSize, patternMaker(rng), lun.blockSize) };
  };
}

const compareAndWrite: Builder = (rng, lun) => {
  const blocks = rng.chance(0.9) ? rng.int(4) : rng.u32() & 0xff;
  const c = cdb.compareAndWrite({ lba: 0, blocks, dpo: rng.chance(0.2), fua: rng.chance(0.2), wrprotect: rng.chance(0.05) ? 1 + rng.int(7) : 0 });
  putU64(c, 2, lba64(rng, lun));
  const half = blocks * lun.blockSize;
  // The verify half is often what the medium holds (zeros when unwritten), so that some compares pass.
  const verify = new Uint8Array(half);
  const lba = new DataView(c.buffer).getUint32(6);
  if (rng.chance(0.6) && lba + blocks <= lun.blockCount && new DataView(c.buffer).getUint32(2) === 0) lun.store.read(lba * lun.blockSize, half, verify, 0);
  else if (rng.chance(0.5) && half > 0) verify[rng.int(half)] = 1;
  const write = patternMaker(rng)(half);
  return { cdb: c, dataOut: dataOutFor(rng, 2 * half, (n) => {
    const d = new Uint8Array(n);
    d.set(verify.subarray(0, Math.min(half, n)));
    if (n > half) d.set(write.subarray(0, Math.min(half, n - half)), half);
    return d;
  }, lun.blockSize) };
};

/** UNMAP: a valid list from the encoder, then (often) one or more of its length fields made wrong. */
const unmap: Builder = (rng, lun) => {
  const count = rng.pick([0, 1, 1, 2, 3, 4, 16, 256, 257]);
  const ranges = Array.from({ length: count }, () => ({ lba: 0, blocks: blockCount(rng, lun, 0xffffffff) }));
  let list = cdb.unmapParameterList(ranges);
  for (let i = 0; i < count; i++) putU64(list, 8 + 16 * i, lba64(rng, lun));
  const r = rng.int(12);
  if (r === 0) putU16(list, 0, rng.pick([0, 1, list.length - 3, list.length - 1, list.length, 0xffff, rng.u32()])); // UNMAP DATA LENGTH
  if (r === 1) putU16(list, 2, rng.pick([0, 1, 8, 15, 16 * count - 1, 16 * count + 1, 16 * count + 16, 0xfff0, 0xffff, rng.u32()])); // BD DATA LENGTH
  if (r === 2) list = list.subarray(0, rng.int(list.length + 1)); // truncated list
  if (r === 3) {
    const longer = new Uint8Array(list.length + 1 + rng.int(40));
    longer.set(list);
    list = longer;
  }
  if (r === 4 && list.length > 8) list[8 + rng.int(list.length - 8)]! ^= 1 << rng.int(8);
  if (r === 5 && list.length >= 8) list[4 + rng.int(4)] = 0xff; // reserved bytes
  const c = cdb.unmap({ parameterListLength: list.length, anchor: rng.chance(0.05) });
  if (rng.chance(0.1)) putU16(c, 7, rng.pick([0, 1, 7, 8, list.length - 1, list.length + 1, 0xffff, rng.u32()])); // PARAMETER LIST LENGTH
  return { cdb: c, dataOut: rng.chance(0.9) ? list : dataOutFor(rng, list.length, () => list, 16) };
};

/** EXTENDED COPY: a parameter list from the encoder (CSCDs of any LUN, or wrong ones), then mutated. */
const extendedCopy: Builder = (rng, lun, luns) => {
  const cscdCount = rng.pick([0, 1, 1, 2, 2, 3, 4, 16, 17]);
  const cscds = Array.from({ length: cscdCount }, () => {
    const target = rng.pick(luns);
    const r = rng.int(20);
    return {
      designator: r === 0 ? rng.bytes(16) : r === 1 ? target.naaDesignator.subarray(0, rng.int(16)) : r === 2 ? rng.bytes(21) : target.naaDesignator,
      blockSize: r === 3 ? rng.pick([0, 512, 4096, rng.u32() & 0xffffff]) : target.blockSize,
      ...(r === 4 ? { codeSet: rng.u32() & 0x0f } : {}),
      ...(r === 5 ? { associationAndType: rng.u32() & 0x3f } : {}),
      ...(r === 6 ? { peripheralDeviceType: rng.u32() & 0x1f } : {}),
      ...(r === 7 ? { typeCode: rng.pick([0xe0, 0xe5, 0xff, rng.u32() & 0xff]) } : {}),
    };
  });
  const segmentCount = rng.pick([0, 1, 1, 1, 2, 3, 4, 64, 65]);
  const segments = Array.from({ length: segmentCount }, () => {
    const src = rng.int(cscdCount + 2);
    const dst = rng.int(cscdCount + 2);
    return {
      source: rng.chance(0.03) ? rng.u32() & 0xffff : src,
      destination: rng.chance(0.03) ? rng.u32() & 0xffff : dst,
      blocks: rng.chance(0.8) ? rng.int(40) : rng.pick([0xffff, 0x8000, rng.u32() & 0xffff]),
      sourceLba: 0,
      destinationLba: 0,
      destinationCount: rng.chance(0.2),
      ...(rng.chance(0.03) ? { typeCode: rng.pick([0x00, 0x01, 0x03, 0x0a, rng.u32() & 0xff]) } : {}),
    };
  });
  let list = cdb.extendedCopyParameterList({ listId: rng.chance(0.5) ? 0 : rng.u32() & 0xff, listIdUsage: rng.int(4), cscds, segments });
  const segAt = 16 + 32 * cscdCount;
  segments.forEach((s, i) => {
    const srcLun = luns[s.source] ?? lun;
    const dstLun = luns[s.destination] ?? lun;
    putU64(list, segAt + 28 * i + 12, lba64(rng, srcLun));
    putU64(list, segAt + 28 * i + 20, rng.chance(0.3) ? lba64(rng, dstLun) : u64(rng.int(dstLun.blockCount)));
  });
  const r = rng.int(16);
  if (r === 0) putU16(list, 2, rng.pick([0, 1, 31, 32 * cscdCount - 1, 32 * cscdCount + 1, 32 * cscdCount + 32, 0xffff, rng.u32()])); // CSCD DESCRIPTOR LIST LENGTH
  if (r === 1) putU32(list, 8, rng.pick([0, 1, 27, 28 * segmentCount - 1, 28 * segmentCount + 1, 28 * segmentCount + 28, 4096, 0xffffffff, rng.u32()])); // SEGMENT DESCRIPTOR LIST LENGTH
  if (r === 2) putU32(list, 12, rng.pick([1, 4, 0xffffffff, rng.u32()])); // INLINE DATA LENGTH
  if (r === 3) list = list.subarray(0, rng.int(list.length + 1));
  if (r === 4) {
    const longer = new Uint8Array(list.length + 1 + rng.int(64));
    longer.set(list);
    list = longer;
  }
  if (r === 5) for (let i = 1 + rng.int(4); i > 0; i--) list[rng.int(list.length)]! ^= 1 << rng.int(8);
  if (r === 6 && segmentCount > 0) putU16(list, segAt + 28 * rng.int(segmentCount) + 2, rng.pick([0, 0x14, 0x17, 0x19, 0x1c, rng.u32()])); // DESCRIPTOR LENGTH
  if (r === 7 && cscdCount > 0) list[16 + 32 * rng.int(cscdCount) + 7] = rng.u32() & 0xff; // DESIGNATOR LENGTH
  const c = cdb.extendedCopy(list.length);
  if (rng.chance(0.05)) c[1] = rng.u32() & 0x1f; // SERVICE ACTION
  if (rng.chance(0.08)) putU32(c, 10, rng.pick([0, 1, 15, 16, list.length - 1, list.length + 1, 0xffffffff, rng.u32()])); // PARAMETER LIST LENGTH
  return { cdb: c, dataOut: rng.chance(0.9) ? list : dataOutFor(rng, list.length, () => list, 32) };
};

/**
 * MODE SELECT(6)/(10): the Caching and Control pages as MODE SENSE reports them, SWP (rarely) and WCE
 * set or clear, with or without the LUN's block descriptor; often mangled (a bit flipped anywhere,
 * the list cut short), now and then PF = 0, SP = 1 or another PARAMETER LIST LENGTH.
 */
function modeSelect(ten: boolean): Builder {
  return (rng, lun) => {
    const control = [0x0a, 0x0a, 0, 0x10, rng.chance(0.1) ? 0x08 : 0, 0x40, 0, 0, 0xff, 0xff, 0, 0];
    const caching = [0x08, 0x12, rng.chance(0.5) ? 0x04 : 0, ...new Array<number>(17).fill(0)];
    const pages = rng.pick([[control], [caching], [caching, control], [control, caching], []]).flat();
    const bd = new Uint8Array(rng.chance(0.3) ? 8 : 0);
    if (bd.length > 0) {
      putU32(bd, 0, rng.chance(0.7) ? Math.min(lun.blockCount, 0xffffffff) : rng.u32());
      putU32(bd, 4, rng.chance(0.8) ? lun.blockSize : rng.u32() & 0xffffff);
    }
    const header = ten ? [0, 0, 0, 0, 0, 0, 0, bd.length] : [0, 0, 0, bd.length];
    let list = Uint8Array.from([...header, ...bd, ...pages]);
    if (rng.chance(0.3)) list[rng.int(list.length)]! ^= 1 << rng.int(8);
    if (rng.chance(0.1)) list = list.slice(0, rng.int(list.length + 1));
    const build = ten ? cdb.modeSelect10 : cdb.modeSelect6;
    const c = build({ pf: rng.chance(0.95), sp: rng.chance(0.05), parameterListLength: list.length });
    if (rng.chance(0.05)) {
      if (ten) putU16(c, 7, rng.u32() & 0xffff);
      else c[4] = rng.u32() & 0xff;
    }
    return { cdb: c, dataOut: list };
  };
}

const noData = (make: (rng: Rng, lun: Lun) => Uint8Array): Builder => (rng, lun) => ({
  cdb: make(rng, lun),
  dataOut: rng.chance(0.05) ? rng.bytes(rng.int(600)) : undefined,
});

/** READ(6)/WRITE(6): a 21-bit LBA (near the end of the small LUNs, or anywhere) and 0..255 blocks (0 = 256). */
function rw6(write: boolean): Builder {
  return (rng, lun) => {
    const blocks = rng.pick([0, 1, 2, 255, rng.int(256)]);
    const lba = rng.chance(0.5) ? Math.max(0, Math.min(0x1fffff, lun.blockCount - rng.int(300))) : rng.u32() & 0x1fffff;
    const c = (write ? cdb.write6 : cdb.read6)({ lba, blocks });
    if (rng.chance(0.05)) c[1]! |= 0xe0 & rng.u32();
    const n = blocks === 0 ? 256 : blocks;
    if (!write) return { cdb: c, dataOut: rng.chance(0.05) ? rng.bytes(rng.int(1024)) : undefined };
    return { cdb: c, dataOut: dataOutFor(rng, n * lun.blockSize, patternMaker(rng), lun.blockSize) };
  };
}

/**
 * VERIFY / WRITE AND VERIFY: every BYTCHK (10b, and 11b for WRITE AND VERIFY, are reserved), the
 * Data-Out often what the medium holds so that some compares pass.
 */
function verify(build: (f: Parameters<typeof cdb.verify10>[0]) => Uint8Array, size: 10 | 12 | 16, write: boolean): Builder {
  return (rng, lun) => {
    const bytchk = rng.pick([0, 1, 1, 3, rng.int(4)]);
    const blocks = rng.chance(0.8) ? rng.int(9) : blockCount(rng, lun, size === 10 ? 0xffff : 0xffffffff);
    const c = build({ lba: 0, blocks, bytchk, dpo: rng.chance(0.2), protect: rng.chance(0.05) ? 1 + rng.int(7) : 0, group: rng.chance(0.1) ? rng.u32() & 0x1f : 0 });
    if (size === 16) putU64(c, 2, lba64(rng, lun));
    else putU32(c, 2, lba32(rng, lun));
    const bs = lun.blockSize;
    const expected = write || bytchk === 1 ? blocks * bs : bytchk === 3 && blocks > 0 ? bs : 0;
    const view = new DataView(c.buffer);
    const lba = size === 16 ? (view.getUint32(2) === 0 ? view.getUint32(6) : Infinity) : view.getUint32(2);
    const fromMedium = (n: number): Uint8Array => {
      const d = new Uint8Array(n);
      if (lba + Math.ceil(n / bs) <= lun.blockCount) lun.store.read(lba * bs, n, d, 0);
      if (n > 0 && rng.chance(0.3)) d[rng.int(n)]! ^= 1 << rng.int(8);
      return d;
    };
    return { cdb: c, dataOut: dataOutFor(rng, expected, !write && rng.chance(0.6) ? fromMedium : patternMaker(rng), bs) };
  };
}

/** SANITIZE: any service action (mostly the implemented ones), IMMED, AUSE, sometimes a parameter list or a reserved bit. */
const sanitize: Builder = (rng) => {
  const serviceAction = rng.chance(0.7) ? rng.pick([0x01, 0x02, 0x03, 0x1f]) : rng.int(32);
  const parameterListLength = rng.chance(0.2) ? rng.int(600) : 0;
  const c = cdb.sanitize({ serviceAction, immed: rng.chance(0.5), ause: rng.chance(0.5), parameterListLength });
  if (rng.chance(0.1)) c[1 + rng.int(6)]! |= 1 << rng.int(8);
  return { cdb: c, dataOut: parameterListLength > 0 ? rng.bytes(parameterListLength) : undefined };
};

/**
 * SANITIZE OVERWRITE: a parameter list from the encoder (OVERWRITE COUNT, INVERT, a pattern up to the
 * block length), then mostly one field made wrong (byte 0's TEST or COUNT, reserved byte 1, the
 * pattern length) or another PARAMETER LIST LENGTH. Always IMMED = 1: with IMMED = 0 a valid list
 * answers only when the sanitize ends (a Promise, which this synchronous harness does not await); a
 * sanitize that starts runs on timers, after the cases of its target, and holds off that LUN's later
 * commands with NOT READY meanwhile.
 */
const sanitizeOverwrite: Builder = (rng, lun) => {
  const bs = lun.blockSize;
  const patternLength = 1 + rng.int(bs);
  const list = cdb.sanitizeOverwriteList({ count: 1 + rng.int(31), invert: rng.chance(0.5), pattern: rng.bytes(patternLength) });
  const wrong = rng.chance(0.9) ? rng.int(4) : -1;
  if (wrong === 0) list[0] = rng.int(256);
  if (wrong === 1) list[1] = 1 + rng.int(255);
  if (wrong === 2) {
    const length = rng.pick([0, bs + 1, patternLength - 1, patternLength + 1, rng.int(65536)]);
    list[2] = (length >>> 8) & 0xff;
    list[3] = length & 0xff;
  }
  const parameterListLength = wrong === 3 ? rng.pick([0, 1, 4, 5, bs + 4, bs + 5, rng.int(65536)]) : list.length;
  const c = cdb.sanitize({ serviceAction: 0x01, immed: true, ause: rng.chance(0.5), parameterListLength });
  const dataOut = parameterListLength === list.length ? list : rng.chance(0.5) ? list : rng.bytes(Math.min(parameterListLength, 8192));
  return { cdb: c, dataOut };
};

/** PRE-FETCH(10)/(16): any range, IMMED and GROUP NUMBER. */
function preFetch(sixteen: boolean): Builder {
  return noData((rng, lun) => {
    const f = { lba: 0, blocks: blockCount(rng, lun, sixteen ? 0xffffffff : 0xffff), immed: rng.chance(0.3), group: rng.chance(0.1) ? rng.u32() & 0x1f : 0 };
    const c = sixteen ? cdb.preFetch16(f) : cdb.preFetch10(f);
    if (sixteen) putU64(c, 2, lba64(rng, lun));
    else putU32(c, 2, lba32(rng, lun));
    return c;
  });
}

/** READ DEFECT DATA(10)/(12): every DEFECT LIST FORMAT (110b and 111b rejected), both list flags, any index and length. */
function readDefectData(twelve: boolean): Builder {
  return noData((rng) => {
    const f = { plist: rng.chance(0.5), glist: rng.chance(0.5), format: rng.int(8), allocationLength: allocationLength(rng, twelve ? 0xffffffff : 0xffff) };
    return twelve ? cdb.readDefectData12({ ...f, addressDescriptorIndex: rng.chance(0.3) ? rng.u32() : 0 }) : cdb.readDefectData10(f);
  });
}

/** WRITE ATOMIC(16): boundary values for the LBA, ATOMIC BOUNDARY and the 16-bit TRANSFER LENGTH. */
const writeAtomic: Builder = (rng, lun) => {
  const f = {
    lba: 0,
    blocks: blockCount(rng, lun, 0xffff),
    atomicBoundary: rng.chance(0.3) ? rng.pick([1, 8, rng.u32() & 0xffff]) : 0,
    protect: rng.chance(0.05) ? 1 + rng.int(7) : 0,
    dpo: rng.chance(0.2),
    fua: rng.chance(0.2),
    group: rng.chance(0.1) ? rng.u32() & 0x1f : 0,
  };
  const c = cdb.writeAtomic16(f);
  putU64(c, 2, lba64(rng, lun));
  return { cdb: c, dataOut: dataOutFor(rng, f.blocks * lun.blockSize, patternMaker(rng), lun.blockSize) };
};

/** REPORT TARGET PORT GROUPS: every PARAMETER DATA FORMAT (010b..111b rejected) and any ALLOCATION LENGTH. */
const reportTargetPortGroups = noData((rng) => cdb.reportTargetPortGroups({ format: rng.chance(0.8) ? rng.int(2) : rng.int(8), allocationLength: allocationLength(rng, 0xffffffff) }));

/**
 * SET TARGET PORT GROUPS: 0..3 descriptors with any state code, for group 0 (the fuzzed array's
 * only group), another group or any port, the list then cut or bit-flipped and its length field
 * sometimes wrong. The valid primary states drawn are the two active ones and the offline state
 * never names port 1: the array lives through the whole run, and a standby or offline default port
 * would leave every later case refused (02/04/0B, 02/04/12) and the run fuzzing nothing else.
 */
const setTargetPortGroups: Builder = (rng) => {
  const descriptors = Array.from({ length: rng.int(4) }, () => {
    // The state is byte 0 bits 3:0: reserved bits 7:4 may be set too.
    const drawn = rng.pick([0x0, 0x1, 0x0, 0x1, 0x4, 0xe, 0xf, rng.u32() & 0xff]);
    const state = (drawn & 0x0f) === 0x2 || (drawn & 0x0f) === 0x3 ? drawn ^ 0x03 : drawn;
    const port = rng.pick([0, 2, 2 + rng.int(0xfffe)]);
    return { state, groupOrPort: (state & 0x0f) === 0xe ? port : rng.pick([0, 0, 1, rng.u32() & 0xffff]) };
  });
  let list = cdb.setTargetPortGroupsParameterList(descriptors);
  if (rng.chance(0.2)) list = list.slice(0, rng.int(list.length + 1));
  const c = cdb.setTargetPortGroups(rng.chance(0.9) ? list.length : rng.pick([0, 1, 5, list.length + 4, rng.u32()]));
  return { cdb: c, dataOut: list };
};

/** Reservation keys the PR builders draw: mostly a few shared ones, so registrations meet again. */
const prKey = (rng: Rng): bigint => BigInt(rng.pick([0, 0, 1, 2, 3, rng.u32()]));

/** PERSISTENT RESERVE IN: the four service actions (and reserved ones), any ALLOCATION LENGTH. */
const persistentReserveIn = noData((rng) => cdb.persistentReserveIn({ serviceAction: rng.chance(0.85) ? rng.int(4) : rng.u32() & 0x1f, allocationLength: allocationLength(rng, 0xffff) }));

/**
 * PERSISTENT RESERVE OUT: every service action (and reserved ones) with keys from a small set, any
 * TYPE and sometimes a SCOPE; SPEC_I_PT with iSCSI TransportIDs of the fuzzed initiators (with and
 * without ISID), ALL_TG_PT and APTPL; REGISTER AND MOVE lists to port 1 or another; then mostly a
 * byte of the list flipped or PARAMETER LIST LENGTH wrong now and then.
 */
const persistentReserveOut: Builder = (rng) => {
  const serviceAction = rng.chance(0.9) ? rng.int(8) : rng.u32() & 0x1f;
  const ids = Array.from({ length: rng.int(3) }, () => cdb.iscsiTransportId(rng.chance(0.5) ? { name: rng.pick(INITIATORS) } : { name: rng.pick(INITIATORS), isid: '400001370000' }));
  let list =
    serviceAction === 0x07
      ? cdb.registerAndMoveParameterList({ key: prKey(rng), serviceActionKey: prKey(rng), unreg: rng.chance(0.5), aptpl: rng.chance(0.1), relativeTargetPort: rng.pick([1, 1, 2, rng.u32() & 0xffff]), transportId: ids[0] ?? cdb.iscsiTransportId({ name: 'host-a' }) })
      : cdb.prOutParameterList({ key: prKey(rng), serviceActionKey: prKey(rng), specIPt: rng.chance(0.15), allTgPt: rng.chance(0.2), aptpl: rng.chance(0.05), transportIds: ids });
  if (rng.chance(0.2)) {
    list = list.slice();
    list[rng.int(list.length)]! ^= 1 << rng.int(8);
  }
  const c = cdb.persistentReserveOut({ serviceAction, type: rng.chance(0.9) ? rng.pick([1, 3, 5, 6, 7, 8]) : rng.int(16), scope: rng.chance(0.95) ? 0 : rng.int(16), parameterListLength: rng.chance(0.9) ? list.length : rng.pick([0, 23, 25, 28, rng.u32()]) });
  return { cdb: c, dataOut: list };
};

/** Every implemented command, with its fields drawn from boundary values. */
const IMPLEMENTED: ReadonlyArray<readonly [string, Builder]> = [
  ['TEST UNIT READY', noData(() => cdb.testUnitReady())],
  ['REQUEST SENSE', noData((rng) => { const c = cdb.requestSense(allocationLength(rng, 255)); c[1] = rng.chance(0.1) ? 1 : 0; return c; })],
  ['INQUIRY', noData((rng) => {
    const c = rng.chance(0.3) ? cdb.inquiry({ allocationLength: allocationLength(rng, 0xffff) }) : cdb.inquiry({ page: rng.pick([0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2, 0x86, rng.u32() & 0xff]), allocationLength: allocationLength(rng, 0xffff) });
    if (rng.chance(0.1)) c[1] = rng.u32() & 0xff;
    if (rng.chance(0.1)) c[2] = rng.u32() & 0xff;
    return c;
  })],
  ['RESERVE(6)', noData((rng) => { const c = cdb.reserve6(); if (rng.chance(0.1)) c[1] = 1; return c; })],
  ['RELEASE(6)', noData(() => cdb.release6())],
  ['RELEASE(6)', noData(() => cdb.release6())],
  ['RESERVE(10)', noData((rng) => { const c = cdb.reserve10(); if (rng.chance(0.2)) c[1] = rng.u32() & 0xff; return c; })],
  ['RELEASE(10)', noData((rng) => { const c = cdb.release10(); if (rng.chance(0.2)) c[1] = rng.u32() & 0xff; return c; })],
  ['RELEASE(10)', noData(() => cdb.release10())],
  ['MODE SENSE(6)', noData((rng) => cdb.modeSense6({ pageCode: rng.pick([0x08, 0x0a, 0x3f, rng.u32() & 0x3f]), pageControl: rng.int(4), subpage: rng.pick([0, 0, 0xff, rng.u32() & 0xff]), dbd: rng.chance(0.5), allocationLength: allocationLength(rng, 255) }))],
  ['MODE SENSE(10)', noData((rng) => cdb.modeSense10({ pageCode: rng.pick([0x08, 0x0a, 0x3f, rng.u32() & 0x3f]), pageControl: rng.int(4), subpage: rng.pick([0, 0, 0xff, rng.u32() & 0xff]), dbd: rng.chance(0.5), llbaa: rng.chance(0.5), allocationLength: allocationLength(rng, 0xffff) }))],
  ['MODE SELECT(6)', modeSelect(false)],
  ['MODE SELECT(10)', modeSelect(true)],
  ['READ CAPACITY(10)', noData((rng) => { const c = cdb.readCapacity10(); if (rng.chance(0.2)) putU32(c, 2, rng.u32()); if (rng.chance(0.2)) c[8] = 1; return c; })],
  ['READ CAPACITY(16)', noData((rng) => cdb.readCapacity16(allocationLength(rng, 0xffffffff)))],
  ['GET LBA STATUS', noData((rng, lun) => { const c = cdb.getLbaStatus({ lba: 0, allocationLength: allocationLength(rng, 0xffffffff) }); putU64(c, 2, lba64(rng, lun)); return c; })],
  ['SYNCHRONIZE CACHE(10)', noData((rng, lun) => cdb.synchronizeCache10({ lba: lba32(rng, lun), blocks: blockCount(rng, lun, 0xffff) }))],
  ['SYNCHRONIZE CACHE(16)', noData((rng, lun) => { const c = cdb.synchronizeCache16({ blocks: blockCount(rng, lun, 0xffffffff) }); putU64(c, 2, lba64(rng, lun)); return c; })],
  ['REPORT LUNS', noData((rng) => cdb.reportLuns({ selectReport: rng.pick([0, 1, 2, 3, rng.u32() & 0xff]), allocationLength: allocationLength(rng, 0xffffffff) }))],
  ['REPORT SUPPORTED OPERATION CODES', noData((rng) => cdb.reportSupportedOperationCodes({
    reportingOptions: rng.int(8),
    rctd: rng.chance(0.5),
    opcode: rng.chance(0.5) ? rng.pick([0x83, 0x84, 0x9e, 0x89, 0x93, 0x42, 0x28]) : rng.u32() & 0xff,
    serviceAction: rng.chance(0.5) ? rng.pick([0, 3, 4, 0x10, 0x12]) : rng.u32() & 0xffff,
    allocationLength: allocationLength(rng, 0xffffffff),
  }))],
  ['RECEIVE COPY RESULTS', noData((rng) => cdb.receiveCopyResults({ serviceAction: rng.chance(0.8) ? rng.pick([0, 3, 4]) : rng.u32() & 0x1f, listId: rng.pick([0, 1, 2, rng.u32() & 0xff]), allocationLength: allocationLength(rng, 0xffffffff) }))],
  ['READ(10)', rw(0x28, 10, false)],
  ['READ(12)', rw(0xa8, 12, false)],
  ['READ(16)', rw(0x88, 16, false)],
  ['WRITE(10)', rw(0x2a, 10, true)],
  ['WRITE(12)', rw(0xaa, 12, true)],
  ['WRITE(16)', rw(0x8a, 16, true)],
  ['WRITE(16)', rw(0x8a, 16, true)],
  ['WRITE SAME(10)', writeSame(false)],
  ['WRITE SAME(16)', writeSame(true)],
  ['COMPARE AND WRITE', compareAndWrite],
  ['UNMAP', unmap],
  ['EXTENDED COPY', extendedCopy],
  ['READ(6)', rw6(false)],
  ['WRITE(6)', rw6(true)],
  ['VERIFY(10)', verify(cdb.verify10, 10, false)],
  ['VERIFY(12)', verify(cdb.verify12, 12, false)],
  ['VERIFY(16)', verify(cdb.verify16, 16, false)],
  ['WRITE AND VERIFY(10)', verify(cdb.writeAndVerify10, 10, true)],
  ['WRITE AND VERIFY(12)', verify(cdb.writeAndVerify12, 12, true)],
  ['WRITE AND VERIFY(16)', verify(cdb.writeAndVerify16, 16, true)],
  ['PRE-FETCH(10)', preFetch(false)],
  ['PRE-FETCH(16)', preFetch(true)],
  ['SANITIZE', sanitize],
  ['SANITIZE OVERWRITE', sanitizeOverwrite],
  ['ORWRITE(16)', rw(0x8b, 16, true)],
  ['READ DEFECT DATA(10)', readDefectData(false)],
  ['READ DEFECT DATA(12)', readDefectData(true)],
  ['WRITE ATOMIC(16)', writeAtomic],
  ['REPORT TARGET PORT GROUPS', reportTargetPortGroups],
  ['SET TARGET PORT GROUPS', setTargetPortGroups],
  ['PERSISTENT RESERVE IN', persistentReserveIn],
  ['PERSISTENT RESERVE OUT', persistentReserveOut],
];

/** Things that are not a `Uint8Array` CDB or Data-Out, or not a string initiator. */
function junk(rng: Rng, whole: Uint8Array): unknown {
  const valid = whole.subarray(0, 64);
  const values: unknown[] = [
    null,
    undefined,
    0,
    42,
    -1,
    NaN,
    Infinity,
    '',
    '\x28\x00\x00\x00\x00\x00\x00\x00\x01\x00',
    String.fromCharCode(...valid),
    Array.from(valid),
    [],
    {},
    { length: valid.length },
    { 0: valid[0], length: 1 },
    true,
    new Uint16Array(valid.length),
    new Int8Array(valid),
    new Uint8ClampedArray(valid),
    new ArrayBuffer(valid.length),
    new DataView(valid.buffer),
    Buffer.from(valid), // a Uint8Array subclass: valid
    valid.subarray(1), // a view at an offset
    new Uint8Array(new SharedArrayBuffer(valid.length)),
    () => valid,
    Symbol('cdb'),
    10n,
  ];
  return rng.pick(values);
}

const JUNK_INITIATORS: unknown[] = [null, 0, 7, {}, [], ['default'], true, Symbol('i'), '', ' ', 'x'.repeat(300), '\u0000', 'default\u0000'];

/** Initiators that may access `lun` (any, when it has no access list). */
function allowedInitiators(lun: Lun): readonly string[] {
  const allowed = INITIATORS.filter((i) => lun.accessibleBy(i));
  return allowed.length > 0 ? allowed : INITIATORS;
}

/** An in-range [lba, lba+blocks) of 1..maxBlocks blocks on `lun`, near unit boundaries half the time. */
function validRange(rng: Rng, lun: Lun, maxBlocks: number): { lba: number; blocks: number } {
  const n = lun.blockCount;
  // The large LUN: stay in its first 4096 units, so that it shares, collides and fills the pool.
  const span = Math.min(n, 4096 * lun.unitBlocks);
  const lba = rng.chance(0.5) ? rng.int(Math.ceil(span / lun.unitBlocks)) * lun.unitBlocks : rng.int(span);
  const room = n - lba;
  return { lba, blocks: 1 + rng.int(Math.min(room, maxBlocks)) };
}

/**
 * Well-formed commands that change the medium (writes, WRITE SAME, UNMAP, COMPARE AND WRITE,
 * EXTENDED COPY), so that the medium is never empty and the pool often full: the invariants about
 * failed commands then have something to protect.
 */
function wellFormed(rng: Rng, lun: Lun, luns: readonly Lun[]): { name: string; built: Built } {
  const bs = lun.blockSize;
  switch (rng.int(6)) {
    case 0:
    case 1: {
      const { lba, blocks } = validRange(rng, lun, 3 * lun.unitBlocks);
      return { name: 'well-formed WRITE(16)', built: { cdb: cdb.write16({ lba, blocks }), dataOut: patternMaker(rng)(blocks * bs) } };
    }
    case 2: {
      const { lba, blocks } = validRange(rng, lun, 4 * lun.unitBlocks);
      const kind = rng.int(3);
      const block = kind === 0 ? new Uint8Array(bs) : new Uint8Array(bs).fill(1 + rng.int(255));
      return {
        name: 'well-formed WRITE SAME(16)',
        built: { cdb: cdb.writeSame16({ lba, blocks, unmap: lun.thin && rng.chance(0.5), ndob: kind === 2 }), dataOut: kind === 2 ? undefined : block },
      };
    }
    case 3: {
      const ranges = Array.from({ length: 1 + rng.int(3) }, () => validRange(rng, lun, 3 * lun.unitBlocks));
      const list = cdb.unmapParameterList(ranges);
      return { name: 'well-formed UNMAP', built: { cdb: cdb.unmap({ parameterListLength: list.length }), dataOut: list } };
    }
    case 4: {
      const { lba, blocks } = validRange(rng, lun, 4);
      const verify = new Uint8Array(blocks * bs);
      lun.store.read(lba * bs, verify.length, verify, 0);
      if (rng.chance(0.2)) verify[rng.int(verify.length)]! ^= 0x80;
      const dataOut = new Uint8Array(2 * verify.length);
      dataOut.set(verify);
      dataOut.set(patternMaker(rng)(verify.length), verify.length);
      return { name: 'well-formed COMPARE AND WRITE', built: { cdb: cdb.compareAndWrite({ lba, blocks }), dataOut } };
    }
    default: {
      // Between the LUNs of one block size that the default initiator sees (0, 2, 3), or within LUN 1.
      const pool = lun.blockSize === 4096 ? [luns[1]!] : [luns[0]!, luns[2]!, luns[3]!];
      const segments = Array.from({ length: 1 + rng.int(3) }, () => {
        const src = rng.pick(pool);
        const dst = rng.chance(0.5) ? src : rng.pick(pool);
        const s = validRange(rng, src, 3 * src.unitBlocks);
        const d = validRange(rng, dst, s.blocks);
        const blocks = Math.min(s.blocks, dst.blockCount - d.lba);
        return { source: pool.indexOf(src), destination: pool.indexOf(dst), blocks, sourceLba: s.lba, destinationLba: rng.chance(0.3) ? Math.min(dst.blockCount - blocks, s.lba + rng.int(9)) : d.lba };
      });
      const list = cdb.extendedCopyParameterList({ cscds: pool.map((l) => ({ designator: l.naaDesignator, blockSize: l.blockSize })), segments });
      return { name: 'well-formed EXTENDED COPY', built: { cdb: cdb.extendedCopy(list.length), dataOut: list } };
    }
  }
}

/** Generates case number `index` of the run seeded with `seed`. */
export function generateCase(seed: number, index: number, luns: readonly Lun[]): FuzzCase {
  const rng = new Rng(caseSeed(seed, index));
  const lunIndex = rng.int(luns.length);
  const lun = luns[lunIndex]!;
  // Mostly an initiator the LUN admits (others get LOGICAL UNIT NOT SUPPORTED); a RELEASE mostly from the holder.
  let initiator = rng.chance(0.85) ? rng.pick(allowedInitiators(lun)) : rng.pick(INITIATORS);
  const r = rng.int(100);
  if (r < 8) {
    // Random bytes, any length 0..32, with or without random Data-Out.
    const c = rng.bytes(rng.int(33));
    return { family: 'random bytes', lun: lunIndex, cdb: c, dataOut: rng.chance(0.5) ? undefined : rng.bytes(rng.int(700)), initiator };
  }
  if (r < 20) {
    // Every opcode in turn, with random fields and a common CDB length (or any length).
    const c = rng.bytes(rng.chance(0.8) ? rng.pick([6, 10, 12, 16]) : rng.int(33));
    if (c.length > 0) c[0] = index & 0xff;
    return { family: 'opcode sweep', lun: lunIndex, cdb: c, dataOut: rng.chance(0.6) ? undefined : rng.bytes(rng.int(700)), initiator };
  }
  if (r < 40) {
    const { name, built } = wellFormed(rng, lun, luns);
    return { family: name, lun: lunIndex, cdb: built.cdb, dataOut: built.dataOut, initiator: rng.chance(0.9) ? (lun.accessibleBy('default') ? 'default' : 'host-b') : initiator };
  }
  if (r < 94) {
    const [name, build] = r < 82 ? rng.pick(IMPLEMENTED) : rng.chance(0.5) ? IMPLEMENTED.find(([n]) => n === 'UNMAP')! : IMPLEMENTED.find(([n]) => n === 'EXTENDED COPY')!;
    if (name.startsWith('RELEASE') && lun.reservedBy !== undefined && rng.chance(0.8)) initiator = lun.reservedBy;
    const built = build(rng, lun, luns);
    return { family: name, lun: lunIndex, cdb: mutateCdb(rng, built.cdb), dataOut: built.dataOut, initiator };
  }
  // Junk in one or more of CDB, Data-Out and initiator.
  const [, build] = rng.pick(IMPLEMENTED);
  const built = build(rng, lun, luns);
  const which = 1 + rng.int(7);
  return {
    family: 'junk',
    lun: lunIndex,
    cdb: which & 1 ? junk(rng, built.cdb) : built.cdb,
    dataOut: which & 2 ? junk(rng, built.dataOut ?? built.cdb) : built.dataOut,
    initiator: which & 4 ? rng.pick(JUNK_INITIATORS) : initiator,
  };
}

/** A readable, reproducible description of a case. */
export function describeCase(c: FuzzCase): string {
  const show = (v: unknown): string => {
    if (v instanceof Uint8Array) return `${v.constructor.name}[${v.length}] ${Buffer.from(v.buffer, v.byteOffset, Math.min(v.length, 48)).toString('hex')}${v.length > 48 ? '...' : ''}`;
    if (typeof v === 'symbol' || typeof v === 'bigint' || typeof v === 'function') return String(v);
    try {
      return `${Object.prototype.toString.call(v)} ${JSON.stringify(v)?.slice(0, 80)}`;
    } catch {
      return Object.prototype.toString.call(v);
    }
  };
  return `${c.family} on LUN ${c.lun} initiator=${show(c.initiator)} cdb=${show(c.cdb)} dataOut=${show(c.dataOut)}`;
}

// ---- invariants -------------------------------------------------------------------------------------

/** A cheap, order-independent hash of every LUN's mapped units and their bytes. */
function mediumHash(luns: readonly Lun[]): number {
  let total = 0;
  for (const lun of luns) {
    for (const [u, e] of lun.store.units) {
      const d = e.data;
      const words = new Int32Array(d.buffer, d.byteOffset, d.length >>> 2);
      let h = Math.imul(lun.id + 1, 0x9e3779b1) ^ Math.imul(u + 1, 0x85ebca6b);
      for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
      total = (total + (h ^ (h >>> 16))) | 0;
    }
  }
  return total;
}

interface PoolSnapshot {
  readonly allocatedUnits: number;
  readonly reservedUnits: number;
  readonly capacityUnits: number;
  readonly usedBytes: number;
}

function poolSnapshot(array: StorageArray): PoolSnapshot {
  const p = array.poolStatus;
  return { allocatedUnits: p.allocatedUnits, reservedUnits: p.reservedUnits, capacityUnits: p.capacityUnits, usedBytes: p.usedBytes };
}

/** Pool accounting agrees with the extents the LUNs reference; reference counts agree with the slots. */
function accountingProblem(array: StorageArray, luns: readonly Lun[]): string | undefined {
  const thin = new Set<Extent>();
  const refs = new Map<Extent, { refs: number; thinRefs: number }>();
  let reserved = 0;
  for (const lun of luns) {
    if (!lun.thin) reserved += Math.ceil(lun.sizeBytes / UNIT_BYTES);
    for (const e of lun.store.units.values()) {
      const r = refs.get(e) ?? { refs: 0, thinRefs: 0 };
      r.refs++;
      if (lun.thin) {
        r.thinRefs++;
        thin.add(e);
      }
      refs.set(e, r);
    }
  }
  const p = array.poolStatus;
  if (p.allocatedUnits !== thin.size) return `allocatedUnits ${p.allocatedUnits} but thin LUNs reference ${thin.size} extents`;
  if (p.reservedUnits !== reserved) return `reservedUnits ${p.reservedUnits} but thick LUNs need ${reserved}`;
  if (p.allocatedUnits + p.reservedUnits > p.capacityUnits) return `used ${p.allocatedUnits + p.reservedUnits} units exceed the capacity ${p.capacityUnits}`;
  for (const [e, r] of refs) {
    if (e.refs !== r.refs || e.thinRefs !== r.thinRefs) return `extent refs ${e.refs}/${e.thinRefs} but referenced by ${r.refs}/${r.thinRefs} slots`;
  }
  return undefined;
}

/** Problems with one answer (empty when it satisfies every invariant). */
function answerProblems(result: unknown): string[] {
  if (typeof result !== 'object' || result === null) return [`returned ${String(result)}, not a result object`];
  const r = result as ScsiResult;
  const problems: string[] = [];
  if (r.status !== 0x00 && r.status !== 0x02 && r.status !== 0x18) problems.push(`status ${String(r.status)}`);
  if (r.status === 0x02) {
    const s = r.sense;
    if (!(s instanceof Uint8Array)) problems.push('CHECK CONDITION without sense');
    else {
      problems.push(...senseProblems(s));
      const d = decodeSense(s);
      if (d !== undefined && d.key === 0x04 && d.asc === 0x44 && d.ascq === 0x00) problems.push('INTERNAL TARGET FAILURE (04/44/00)');
    }
  } else if (r.sense !== undefined) problems.push(`status ${r.status} with sense`);
  if (r.status !== 0x00 && r.data !== undefined) problems.push('Data-In with a failed command');
  if (r.data !== undefined && !(r.data instanceof Uint8Array)) problems.push('Data-In is not a Uint8Array');
  return problems;
}

/**
 * What is wrong with `s` as sense data: fixed format must be 18 bytes (70h/F0h, ADDITIONAL SENSE
 * LENGTH 10); descriptor format (72h, while a MODE SELECT in the corpus has set D_SENSE) must be the
 * 8-byte header plus ADDITIONAL SENSE LENGTH bytes of whole descriptors, each one the array writes
 * (00h and 01h: 12 bytes; 02h: 8 bytes).
 */
function senseProblems(s: Uint8Array): string[] {
  if (s[0] === 0x70 || s[0] === 0xf0) {
    const problems: string[] = [];
    if (s.length !== 18) problems.push(`sense of ${s.length} bytes`);
    if (s[7] !== 10) problems.push(`ADDITIONAL SENSE LENGTH ${s[7]}`);
    return problems;
  }
  if (s[0] !== 0x72) return [`sense response code ${s[0]}`];
  if (s.length < 8 || s.length !== 8 + s[7]!) return [`descriptor sense of ${s.length} bytes, ADDITIONAL SENSE LENGTH ${s[7]}`];
  for (let at = 8; at < s.length; at += 2 + s[at + 1]!) {
    const size = { 0x00: 12, 0x01: 12, 0x02: 8 }[s[at]!];
    if (size === undefined || s[at + 1] !== size - 2 || at + size > s.length) return [`sense descriptor type ${s[at]} at byte ${at}`];
  }
  return [];
}

/** Key/ASC/ASCQ of a CHECK CONDITION as `k/aa/qq`, or the status. */
export function outcomeKey(result: ScsiResult): string {
  if (result.status !== 0x02 || result.sense === undefined) return result.status === 0 ? 'GOOD' : `status ${result.status.toString(16)}`;
  // Fixed or descriptor format (a MODE SELECT in the corpus may set D_SENSE): read through the decoder.
  const s = decodeSense(result.sense);
  if (s === undefined) return 'undecodable sense';
  return `${s.key.toString(16)}/${s.asc.toString(16).padStart(2, '0')}/${s.ascq.toString(16).padStart(2, '0')}`;
}

/** One failed case. */
export interface FuzzFailure {
  readonly index: number;
  readonly problems: readonly string[];
  readonly description: string;
}

/** Totals of a fuzz run. */
export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly failures: number;
  /** The first failures, in full. */
  readonly examples: FuzzFailure[];
  /** Failures by their first problem. */
  readonly failureKinds: Map<string, number>;
  readonly families: Map<string, number>;
  readonly outcomes: Map<string, number>;
  readonly milliseconds: number;
}

/** Runs cases `[0, cases)` of `seed`, on a fresh array every `resetEvery` cases. */
export function runFuzz(options: { seed: number; cases: number; resetEvery?: number; onProgress?: (done: number, report: FuzzReport) => void; progressEvery?: number }): FuzzReport {
  const resetEvery = options.resetEvery ?? 2000;
  const report: FuzzReport = {
    seed: options.seed,
    cases: 0,
    failures: 0,
    examples: [],
    failureKinds: new Map(),
    families: new Map(),
    outcomes: new Map(),
    milliseconds: 0,
  };
  const mutable = report as { -readonly [K in keyof FuzzReport]: FuzzReport[K] };
  const started = performance.now();
  let target = createTarget();
  let hash = mediumHash(target.luns);
  let pool = poolSnapshot(target.array);
  for (let index = 0; index < options.cases; index++) {
    if (index > 0 && index % resetEvery === 0) {
      target = createTarget();
      hash = mediumHash(target.luns);
      pool = poolSnapshot(target.array);
    }
    const c = generateCase(options.seed, index, target.luns);
    report.families.set(c.family, (report.families.get(c.family) ?? 0) + 1);
    const problems: string[] = [];
    let result: unknown;
    try {
      result = target.luns[c.lun]!.execute(c.cdb as Uint8Array, c.dataOut as Uint8Array | undefined, { initiator: c.initiator as string });
    } catch (e) {
      problems.push(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    if (result instanceof Promise) problems.push('answered with a Promise though no fault rule is installed');
    else if (problems.length === 0) problems.push(...answerProblems(result));
    const answer = result as ScsiResult | undefined;
    if (answer !== undefined && !(answer instanceof Promise) && typeof answer === 'object' && answer !== null) {
      const key = outcomeKey(answer);
      report.outcomes.set(key, (report.outcomes.get(key) ?? 0) + 1);
    }
    const afterHash = mediumHash(target.luns);
    const afterPool = poolSnapshot(target.array);
    const failed = answer === undefined || typeof answer !== 'object' || answer === null || answer.status !== 0x00;
    const copyProgress = answer?.status === 0x02 && outcomeKey(answer) === '7/27/07' && c.cdb instanceof Uint8Array && c.cdb[0] === 0x83;
    if (failed && !copyProgress) {
      if (afterHash !== hash) problems.push('a failed command changed the medium');
      if (JSON.stringify(afterPool) !== JSON.stringify(pool)) problems.push(`a failed command changed the pool: ${JSON.stringify(pool)} -> ${JSON.stringify(afterPool)}`);
    }
    const accounting = accountingProblem(target.array, target.luns);
    if (accounting !== undefined) problems.push(accounting);
    hash = afterHash;
    pool = afterPool;
    mutable.cases = index + 1;
    if (problems.length > 0) {
      mutable.failures++;
      report.failureKinds.set(problems[0]!, (report.failureKinds.get(problems[0]!) ?? 0) + 1);
      if (report.examples.length < 10) report.examples.push({ index, problems, description: describeCase(c) });
      // A broken accounting would repeat on every later case: start over on a fresh array.
      if (accounting !== undefined) {
        target = createTarget();
        hash = mediumHash(target.luns);
        pool = poolSnapshot(target.array);
      }
    }
    if (options.onProgress !== undefined && (index + 1) % (options.progressEvery ?? 100_000) === 0) {
      mutable.milliseconds = performance.now() - started;
      options.onProgress(index + 1, report);
    }
  }
  mutable.milliseconds = performance.now() - started;
  return report;
}

/** A multi-line summary of a run. */
export function summarize(report: FuzzReport): string {
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const lines = [
    `[fuzz] seed ${report.seed}: ${report.cases} cases, ${report.failures} failures in ${(report.milliseconds / 1000).toFixed(1)} s (${((report.milliseconds * 1000) / Math.max(1, report.cases)).toFixed(1)} us/case)`,
    `  families: ${top(report.families, 40)}`,
    `  outcomes: ${top(report.outcomes, 40)}`,
  ];
  if (report.failures > 0) {
    lines.push(`  failure kinds: ${top(report.failureKinds, 20)}`);
    for (const f of report.examples) lines.push(`  case ${f.index}: ${f.problems.join('; ')}\n    ${f.description}`);
  }
  return lines.join('\n');
}
