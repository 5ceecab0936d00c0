/** A target wrapper for host tests: what a D_SENSE = 1 target (SPC-4 7.5.8, control mode page) returns. */
import { decodeSense } from '../../src/codec/sense-decoder.js';
import { encodeDescriptorSense } from '../../src/codec/sense-encoder.js';
import type { ScsiTarget } from '../../src/host/target.js';

/** `target` as a D_SENSE = 1 target: every fixed-format sense re-encoded in descriptor format, details kept. */
export function descriptorFormat(target: ScsiTarget): ScsiTarget & { senses: Uint8Array[] } {
  const senses: Uint8Array[] = [];
  return {
    senses,
    async execute(c, dataOut, options) {
      const r = await target.execute(c, dataOut, options);
      const s = decodeSense(r.sense);
      if (s === undefined) return r;
      const sense = encodeDescriptorSense(s, {
        ...(s.information !== undefined ? { information: s.information } : {}),
        ...(s.fieldPointer !== undefined ? { fieldPointer: s.fieldPointer } : {}),
      });
      senses.push(sense);
      return { ...r, sense };
    },
  };
}

