/**
 * Runs a workload from {@link workloadArbitrary} through the host-side paths (the data mover for
 * clones, WRITE SAME for zeroing, COMPARE AND WRITE for locks, WRITE and UNMAP for guests), and
 * keeps a shadow of what every LUN must hold, so that a property can ask afterwards whether any
 * acknowledged data was lost.
 * @module
 */
import { InvalidArgumentError, checkOptions, describeValue, is } from '../common/errors.js';
import * as cdb from '../codec/cdb-encoder.js';
import { decodeSense } from '../codec/sense-decoder.js';
import { SenseKey } from '../spec/sense.js';
import { cloneRange } from '../host/data-mover.js';
import type { ScsiTarget } from '../host/target.js';
import type { WorkloadStep } from './arbitraries.js';
import { seededBytes } from './commands.js';
import { AcknowledgedWrites } from './invariants.js';

/** What {@link runWorkload} did. */
export interface WorkloadOutcome {
  /** Steps the target carried out. */
  readonly completed: number;
  /** Steps it refused (any status but GOOD, or a clone that failed). */
  readonly refused: number;
  /** Lock attempts that found the lock held (COMPARE AND WRITE miscompare). */
  readonly lockContention: number;
  /** Per LUN: the blocks whose content is known, to check with `verify`. */
  readonly acknowledged: readonly AcknowledgedWrites[];
}

/**
 * Runs `steps` one after the other. `target(host, lun)` is LUN `lun` as host `host` sees it (for
 * an in-process array, the LUN with `{ initiator }` bound; for iSCSI, a session per host).
 */
export async function runWorkload(steps: readonly WorkloadStep[], target: (host: number, lun: number) => ScsiTarget, options: { readonly luns: number; readonly blockSize?: number }): Promise<WorkloadOutcome> {
  if (!Array.isArray(steps)) throw new InvalidArgumentError(`runWorkload: steps must be an array, got ${describeValue(steps)}`);
  is.function(target, 'runWorkload: target');
  checkOptions(options, { luns: is.integer(1, 1024), blockSize: is.integer(1, 65536) }, 'runWorkload', ['luns']);
  const bs = options.blockSize ?? 512;
  const shadow = Array.from({ length: options.luns }, () => new AcknowledgedWrites(bs));
  let completed = 0;
  let refused = 0;
  let lockContention = 0;
  for (const step of steps) {
    switch (step.kind) {
      case 'write': {
        const data = seededBytes(step.seed, step.blocks * bs);
        const r = await target(step.host, step.lun).execute(cdb.write16({ lba: step.lba, blocks: step.blocks }), data);
        if (r.status === 0) {
          shadow[step.lun]!.record(step.lba, data);
          completed++;
        } else refused++;
        break;
      }
      case 'zero': {
        const r = await target(step.host, step.lun).execute(cdb.writeSame16({ lba: step.lba, blocks: step.blocks }), new Uint8Array(bs));
        if (r.status === 0) {
          shadow[step.lun]!.record(step.lba, new Uint8Array(step.blocks * bs));
          completed++;
        } else refused++;
        break;
      }
      case 'unmap': {
        const list = cdb.unmapParameterList([{ lba: step.lba, blocks: step.blocks }]);
        const r = await target(step.host, step.lun).execute(cdb.unmap({ parameterListLength: list.length }), list);
        // What unmapped blocks read depends on LBPRZ: they are no longer checked.
        shadow[step.lun]!.forget(step);
        if (r.status === 0) completed++;
        else refused++;
        break;
      }
      case 'clone': {
        const from = shadow[step.fromLun]!;
        const known = Array.from({ length: step.blocks }, (_, i) => from.blockAt(step.lba + i));
        try {
          await cloneRange({ source: target(step.host, step.fromLun), destination: target(step.host, step.toLun), sourceLba: step.lba, destinationLba: step.lba, blocks: step.blocks });
          const to = shadow[step.toLun]!;
          known.forEach((b, i) => (b === undefined ? to.forget({ lba: step.lba + i, blocks: 1 }) : to.record(step.lba + i, b)));
          completed++;
        } catch {
          // A clone that failed part way leaves its destination partly copied: not checked.
          shadow[step.toLun]!.forget(step);
          refused++;
        }
        break;
      }
      case 'lock': {
        const lun = target(step.host, step.lun);
        const free = new Uint8Array(bs);
        const held = new Uint8Array(bs);
        held[0] = 1;
        held[1] = step.host;
        const take = await lun.execute(cdb.compareAndWrite({ lba: step.lockLba, blocks: 1 }), concat(free, held));
        if (take.status === 0) {
          const give = await lun.execute(cdb.compareAndWrite({ lba: step.lockLba, blocks: 1 }), concat(held, free));
          if (give.status !== 0) shadow[step.lun]!.forget({ lba: step.lockLba, blocks: 1 });
          else shadow[step.lun]!.record(step.lockLba, free);
          completed++;
        } else if (take.status === 0x02 && decodeSense(take.sense)?.key === SenseKey.MISCOMPARE) lockContention++;
        else refused++;
        break;
      }
    }
  }
  return { completed, refused, lockContention, acknowledged: shadow };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
