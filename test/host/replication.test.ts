/**
 * Replication as an I/O filter: sync and async mirroring, EXTENDED COPY shipped as EXTENDED COPY
 * between paired arrays, link failures with tracking and resync of only the changed blocks, an
 * initial sync while the guest writes, and a fast-check property over random interleavings (the
 * replica ends byte-identical; an async replica always equals an earlier state of the source),
 * shown able to fail.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StorageArray, cdb, type Lun } from '../../src/index.js';
import { FilterChain, FilterDomain } from '../../src/host/filters/chain.js';
import { ReplicationFilter, type ReplicationOptions } from '../../src/host/filters/replication.js';
import type { ScsiTarget } from '../../src/host/target.js';
import { expectBytes, pattern } from '../array/helpers.js';

const BLOCKS = 256;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function arrays(n = 1) {
  const source = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096, arrayId: 0x51 });
  const target = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096, arrayId: 0x52 });
  const src = Array.from({ length: n }, () => source.createLun({ sizeBytes: BLOCKS * 512 }));
  const dst = Array.from({ length: n }, () => target.createLun({ sizeBytes: BLOCKS * 512 }));
  return { src, dst };
}

async function image(lun: ScsiTarget): Promise<Uint8Array> {
  return (await lun.execute(cdb.read16({ lba: 0, blocks: BLOCKS }))).data!;
}

/** A link to the replica that can be cut: while down, every command throws (as a lost connection does). */
function link(replica: ScsiTarget): ScsiTarget & { down: boolean } {
  const l = {
    down: false,
    execute: (c: Uint8Array, d?: Uint8Array) => {
      if (l.down) throw new Error('link down');
      return replica.execute(c, d);
    },
  };
  return l;
}

async function replicated(src: Lun, replica: ScsiTarget, options: Omit<ReplicationOptions, 'replica'>, domain?: FilterDomain) {
  const filter = new ReplicationFilter({ replica, ...options });
  const chain = await FilterChain.create(src, { filters: [filter], ...(domain === undefined ? {} : { domain }) });
  return { filter, chain };
}

describe('replication filter', () => {
  it('sync: every kind of change is on the replica when the guest command completes', async () => {
    const { src, dst } = arrays();
    const { chain, filter } = await replicated(src[0]!, dst[0]!, { mode: 'sync' });
    await chain.execute(cdb.write16({ lba: 0, blocks: 64 }), pattern(64 * 512, 1));
    expectBytes(await image(dst[0]!), await image(src[0]!));
    await chain.execute(cdb.writeSame16({ lba: 8, blocks: 8 }), pattern(512, 2));
    const list = cdb.unmapParameterList([{ lba: 16, blocks: 8 }]);
    await chain.execute(cdb.unmap({ parameterListLength: list.length }), list);
    const current = (await src[0]!.execute(cdb.read16({ lba: 40, blocks: 1 }))).data!;
    const caw = new Uint8Array(1024);
    caw.set(current);
    caw.set(pattern(512, 3), 512);
    expect((await chain.execute(cdb.compareAndWrite({ lba: 40, blocks: 1 }), caw)).status).toBe(0);
    expectBytes(await image(dst[0]!), await image(src[0]!));
    expect(filter.state).toBe('mirroring');
    expect(filter.stats.commands).toBe(4);
  });

  it('an EXTENDED COPY between paired disks is shipped as an EXTENDED COPY on the replica array, not as bytes', async () => {
    for (const withPairs of [true, false]) {
      const { src, dst } = arrays(2);
      const pairs = new Map(src.map((l, i) => [hex(l.naaDesignator), dst[i]!.naaDesignator]));
      const domain = new FilterDomain();
      const a = await replicated(src[0]!, dst[0]!, { mode: 'sync', ...(withPairs ? { pairs } : {}) }, domain);
      const b = await replicated(src[1]!, dst[1]!, { mode: 'sync', ...(withPairs ? { pairs } : {}) }, domain);
      await a.chain.execute(cdb.write16({ lba: 0, blocks: 128 }), pattern(128 * 512, 4));
      const before = a.filter.stats.bytes + b.filter.stats.bytes;
      const xcopy = cdb.extendedCopyParameterList({
        cscds: src.map((l) => ({ designator: l.naaDesignator, blockSize: 512 })),
        segments: [{ source: 0, destination: 1, blocks: 128, sourceLba: 0, destinationLba: 64 }],
      });
      expect((await a.chain.execute(cdb.extendedCopy(xcopy.length), xcopy)).status).toBe(0);
      expectBytes(await image(dst[1]!), await image(src[1]!));
      const shipped = a.filter.stats.bytes + b.filter.stats.bytes - before;
      if (withPairs) {
        expect(b.filter.stats.offloadedCopies).toBe(1);
        expect(shipped).toBe(0);
      } else {
        expect(b.filter.stats.offloadedCopies).toBe(0);
        expect(shipped).toBe(128 * 512);
      }
    }
  });

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: when the link fails the guest keeps writing; resync ships only the blocks changed meanwhile`, async () => {
      const { src, dst } = arrays();
      const wire = link(dst[0]!);
      const { chain, filter } = await replicated(src[0]!, wire, { mode });
      await chain.execute(cdb.write16({ lba: 0, blocks: BLOCKS }), pattern(BLOCKS * 512, 5));
      await filter.drained();
      wire.down = true;
      expect((await chain.execute(cdb.write16({ lba: 10, blocks: 4 }), pattern(2048, 6))).status).toBe(0);
      expect((await chain.execute(cdb.writeSame16({ lba: 100, blocks: 6 }), new Uint8Array(512))).status).toBe(0);
      await filter.drained();
      expect(filter.state).toBe('tracking');
      expect(filter.dirtyBlocks).toBe(10);
      expect(await filter.resync()).toBe(false); // still down
      wire.down = false;
      expect(await filter.resync()).toBe(true);
      expect(filter.stats.resyncBlocks).toBe(10);
      expectBytes(await image(dst[0]!), await image(src[0]!));
      expect(filter.state).toBe('mirroring');
    });
  }

  it('initial sync copies the disk while the guest keeps writing, and then mirrors', async () => {
    const { src, dst } = arrays();
    await src[0]!.execute(cdb.write16({ lba: 0, blocks: BLOCKS }), pattern(BLOCKS * 512, 7));
    const { chain, filter } = await replicated(src[0]!, dst[0]!, { mode: 'sync', copyBlocks: 16 });
    const sync = filter.initialSync();
    // The guest writes while the copy runs, some of it into blocks already copied.
    for (let i = 0; i < 20; i++) {
      await chain.execute(cdb.write16({ lba: (i * 37) % (BLOCKS - 4), blocks: 4 }), pattern(2048, 100 + i));
      await new Promise((r) => setImmediate(r));
    }
    expect(await sync).toBe(true);
    expect(filter.state).toBe('mirroring');
    await chain.execute(cdb.write16({ lba: 200, blocks: 1 }), pattern(512, 8));
    expectBytes(await image(dst[0]!), await image(src[0]!));
  });

  it('async: the lag is bounded: at most maxLag acknowledged changes are missing on the replica', async () => {
    const { src, dst } = arrays();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow: ScsiTarget = { execute: async (c, d) => (await gate, await dst[0]!.execute(c, d)) };
    const { chain, filter } = await replicated(src[0]!, slow, { mode: 'async', maxLag: 4 });
    let done = 0;
    const writes = Array.from({ length: 10 }, (_, i) => chain.execute(cdb.write16({ lba: i, blocks: 1 }), pattern(512, i)).then(() => done++));
    await new Promise((r) => setTimeout(r, 10));
    // Nothing has reached the replica: only 4 of the 10 writes were answered.
    expect(filter.lag).toBe(10);
    expect(done).toBe(4);
    release();
    await Promise.all(writes);
    await filter.drained();
    expectBytes(await image(dst[0]!), await image(src[0]!));
  });

  it('rejects bad options', () => {
    const { dst } = arrays();
    expect(() => new ReplicationFilter({ replica: dst[0]!, mode: 'eventually' as 'sync' })).toThrow(new InvalidArgumentError("ReplicationFilter: mode must be one of 'sync', 'async', got 'eventually'"));
    expect(() => new ReplicationFilter({ replica: dst[0]!, mode: 'async', maxLag: 0 })).toThrow(new InvalidArgumentError('ReplicationFilter: maxLag must be a positive integer, got 0'));
    expect(() => new ReplicationFilter({ replica: dst[0]!, mode: 'async', lag: 5 } as never)).toThrow(
      new InvalidArgumentError("ReplicationFilter: unknown option 'lag' (known: replica, mode, maxLag, pairs, copyBlocks)"),
    );
  });
});

describe('replication under random workloads, link failures and resyncs (fast-check)', () => {
  type Op =
    | { kind: 'write'; lba: number; blocks: number; seed: number }
    | { kind: 'zero'; lba: number; blocks: number; unmap: boolean }
    | { kind: 'copy'; src: number; dst: number; blocks: number }
    | { kind: 'linkDown' }
    | { kind: 'linkUp' }
    | { kind: 'resync' };
  const extent = fc.tuple(fc.nat({ max: BLOCKS - 1 }), fc.integer({ min: 1, max: 32 })).map(([lba, n]) => ({ lba, blocks: Math.min(n, BLOCKS - lba) }));
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ e: extent, seed: fc.integer({ min: 1, max: 1000 }) }).map(({ e, seed }) => ({ kind: 'write' as const, ...e, seed })) },
    { weight: 1, arbitrary: fc.record({ e: extent, unmap: fc.boolean() }).map(({ e, unmap }) => ({ kind: 'zero' as const, ...e, unmap })) },
    { weight: 2, arbitrary: fc.record({ e: extent, dst: fc.nat({ max: BLOCKS - 1 }) }).map(({ e, dst }) => ({ kind: 'copy' as const, src: e.lba, dst, blocks: Math.min(e.blocks, BLOCKS - dst) })) },
    { weight: 1, arbitrary: fc.constantFrom<Op>({ kind: 'linkDown' }, { kind: 'linkUp' }, { kind: 'resync' }) },
  );

  async function run(mode: 'sync' | 'async', ops: readonly Op[], make = (o: ReplicationOptions) => new ReplicationFilter(o)): Promise<string | undefined> {
    const { src, dst } = arrays();
    await src[0]!.execute(cdb.write16({ lba: 0, blocks: BLOCKS }), pattern(BLOCKS * 512, 1));
    const wire = link(dst[0]!);
    const filter = make({ replica: wire, mode, maxLag: 3, copyBlocks: 32 });
    const chain = await FilterChain.create(src[0]!, { filters: [filter] });
    if (!(await filter.initialSync())) return 'initial sync failed with the link up';
    const digest = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');
    const history = new Set([digest(await image(src[0]!))]);
    for (const o of ops) {
      switch (o.kind) {
        case 'write':
          await chain.execute(cdb.write16({ lba: o.lba, blocks: o.blocks }), pattern(o.blocks * 512, o.seed));
          break;
        case 'zero':
          await chain.execute(cdb.writeSame16({ lba: o.lba, blocks: o.blocks, unmap: o.unmap }), new Uint8Array(512));
          break;
        case 'copy': {
          const list = cdb.extendedCopyParameterList({ cscds: [{ designator: src[0]!.naaDesignator, blockSize: 512 }], segments: [{ source: 0, destination: 0, blocks: o.blocks, sourceLba: o.src, destinationLba: o.dst }] });
          await chain.execute(cdb.extendedCopy(list.length), list);
          break;
        }
        case 'linkDown':
          wire.down = true;
          break;
        case 'linkUp':
          wire.down = false;
          break;
        case 'resync':
          await filter.resync();
          break;
      }
      history.add(digest(await image(src[0]!)));
      // An async replica is always some earlier state of the source (never a mix), while mirroring.
      if (mode === 'async' && filter.state === 'mirroring' && !history.has(digest(await image(dst[0]!)))) return `after ${JSON.stringify(o)}: the replica is no earlier state of the source`;
    }
    wire.down = false;
    await filter.drained();
    if (filter.state !== 'mirroring' && !(await filter.resync())) return 'the final resync failed with the link up';
    await filter.drained();
    const [a, b] = [await image(src[0]!), await image(dst[0]!)];
    const at = a.findIndex((x, i) => x !== b[i]);
    return at < 0 ? undefined : `after draining, the replica differs at LBA ${Math.floor(at / 512)}`;
  }

  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: after draining the replica is byte-identical to the source`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
          expect(await run(mode, ops)).toBeUndefined();
        }),
        { numRuns: 100 },
      );
    });
  }

  it('the property fails for replication that drops WRITE SAME', async () => {
    class Lossy extends ReplicationFilter {
      override async execute(request: Parameters<ReplicationFilter['execute']>[0], next: Parameters<ReplicationFilter['execute']>[1]) {
        return request.cdb[0] === 0x93 ? await next(request) : await super.execute(request, next);
      }
    }
    const details = await fc.check(fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => (await run('sync', ops, (o) => new Lossy(o))) === undefined), { numRuns: 200, seed: 9 });
    expect(details.failed).toBe(true);
    expect(details.counterexample![0].some((o) => o.kind === 'zero')).toBe(true);
  });
});

describe('replication to a remote replica over iSCSI', () => {
  it('mirrors through an IscsiSession (sync), survives the session dropping, and resyncs over a new one', async () => {
    const { IscsiServer, IscsiSession } = await import('../../src/iscsi/index.js');
    const { src } = arrays();
    const remote = new StorageArray({ capacityBytes: 64 << 20, allocationUnitBytes: 4096, arrayId: 0x53 });
    const replica = remote.createLun({ sizeBytes: BLOCKS * 512 });
    const iqn = 'iqn.2026-11.dev.vaai-sim:replica';
    const server = new IscsiServer({ array: remote, targets: [{ name: iqn, luns: [replica] }], port: 0 });
    const { port } = await server.listen();
    let session = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: iqn });
    // The filter talks to whatever session is current (a new one after a reconnect).
    const current: ScsiTarget = { execute: (c, d) => session.lun(0).execute(c, d) };
    try {
      const { chain, filter } = await replicated(src[0]!, current, { mode: 'sync' });
      expect(await filter.initialSync()).toBe(true);
      await chain.execute(cdb.write16({ lba: 0, blocks: 32 }), pattern(32 * 512, 21));
      expectBytes(await image(replica), await image(src[0]!));
      await session.close(); // the link drops
      expect((await chain.execute(cdb.write16({ lba: 64, blocks: 8 }), pattern(8 * 512, 22))).status).toBe(0);
      expect(filter.state).toBe('tracking');
      session = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: iqn });
      expect(await filter.resync()).toBe(true);
      expect(filter.stats.resyncBlocks).toBe(BLOCKS + 8); // the initial sync, then only the 8 blocks written meanwhile
      expectBytes(await image(replica), await image(src[0]!));
    } finally {
      await session.close();
      await server.close();
    }
  });
});
