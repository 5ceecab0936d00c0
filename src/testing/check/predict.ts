/**
 * What a step should answer (a prediction of the model), what a malformed command must get, and
 * whether an actual answer agrees.
 * @module
 */
import { decodeSense } from '../../codec/sense-decoder.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import type { Defect } from '../commands.js';
import type { Expected } from '../reference-array.js';
import { RESERVATION_CONFLICT, describeResult, hex2 } from './report.js';

/** CONDITION MET status (SAM-5). */
const CONDITION_MET = 0x04;

/** What a step should answer. */
export type Prediction =
  /**
   * `expected` exactly; with `conditionMet`, CONDITION MET (04h) is as good as an expected GOOD
   * (PRE-FETCH, SBC-4 5.9); with `informationIfValid`, sense without a valid INFORMATION field is
   * as good as the expected INFORMATION (VERIFY: SBC-4 asks for the miscompare, not its offset).
   */
  | { readonly kind: 'exact'; readonly expected: Expected; readonly conditionMet?: boolean; readonly informationIfValid?: boolean }
  | { readonly kind: 'refused'; readonly keys: readonly number[]; readonly ascs?: readonly number[]; readonly text: string }
  | { readonly kind: 'conflict' }
  /** GOOD with Data-In of a shape `test` checks (what the model cannot give byte for byte). */
  | { readonly kind: 'shape'; readonly text: string; readonly test: (data: Uint8Array) => string | undefined }
  /** Any one of `options` (where SPC-4 and a peer differ and neither changes anything). */
  | { readonly kind: 'oneOf'; readonly options: readonly Prediction[] }
  /**
   * CHECK CONDITION UNIT ATTENTION 2Ah with one of `ascqs` (the persistent reservation unit
   * attentions the nexus has pending; SAM-5 leaves their order to the target): the command is not run.
   */
  | { readonly kind: 'unit-attention'; readonly ascqs: readonly number[] }
  | { readonly kind: 'skip' };

/** What a malformed command must get: CHECK CONDITION with these sense keys (and ASCs), and no change. */
export function refusal(defect: Defect): Prediction {
  switch (defect) {
    case 'lba-beyond-end':
      return { kind: 'refused', keys: [0x05], ascs: [0x21], text: 'CHECK CONDITION 05/21/xx (LOGICAL BLOCK ADDRESS OUT OF RANGE)' };
    case 'over-limit':
    case 'unsupported-ndob':
    case 'reserved-bytchk':
    case 'nonzero-parameter-list-length':
      return { kind: 'refused', keys: [0x05], ascs: [0x24], text: 'CHECK CONDITION 05/24/xx (INVALID FIELD IN CDB)' };
    case 'too-many-descriptors':
    case 'short-parameter-list':
      return { kind: 'refused', keys: [0x05], ascs: [0x1a, 0x24, 0x26], text: 'CHECK CONDITION ILLEGAL REQUEST (parameter list error)' };
    case 'bad-segment-type':
    case 'bad-cscd-type':
      return { kind: 'refused', keys: [0x05], ascs: [0x26], text: 'CHECK CONDITION 05/26/xx (unsupported descriptor type code)' };
    case 'cscd-index-beyond-list':
      return { kind: 'refused', keys: [0x05, 0x0a], text: 'CHECK CONDITION ILLEGAL REQUEST or COPY ABORTED' };
    // SPC-4 does not order the key check against the field checks of PERSISTENT RESERVE OUT (LIO
    // checks the key of RESERVE before its TYPE): RESERVATION CONFLICT is a refusal too.
    case 'pr-parameter-list-length':
      return prRefusal([0x1a, 0x24, 0x26], 'CHECK CONDITION 05/1A/00 (PARAMETER LIST LENGTH ERROR), 05/24 or 05/26');
    case 'pr-unknown-type':
      return prRefusal([0x24, 0x26], 'CHECK CONDITION 05/24/00 (INVALID FIELD IN CDB) or 05/26');
    case 'pr-unsupported-aptpl':
      return prRefusal([0x24, 0x26], 'CHECK CONDITION 05/26/00 (INVALID FIELD IN PARAMETER LIST) or 05/24');
  }
}

function prRefusal(ascs: readonly number[], text: string): Prediction {
  return { kind: 'oneOf', options: [{ kind: 'refused', keys: [0x05], ascs, text }, { kind: 'conflict' }] };
}

/** A prediction as one line, as the counterexample lists it. */
export function describePrediction(p: Prediction): string {
  switch (p.kind) {
    case 'exact': {
      const e = p.expected;
      if (e.status === 0) return e.data !== undefined && e.data.length > 0 ? `GOOD, ${e.data.length} bytes` : p.conditionMet === true ? 'GOOD (or CONDITION MET)' : 'GOOD';
      const s = e.sense!;
      return `CHECK CONDITION ${hex2(s.key)}/${hex2(s.asc)}/${hex2(s.ascq)}${s.information === undefined ? '' : ` INFORMATION ${s.information}${p.informationIfValid === true ? ' (if VALID)' : ''}`}`;
    }
    case 'refused':
      return `${p.text}, nothing changed`;
    case 'conflict':
      return 'RESERVATION CONFLICT';
    case 'shape':
      return p.text;
    case 'oneOf':
      return p.options.map(describePrediction).join(' or ');
    case 'unit-attention':
      return `CHECK CONDITION 06/2A/${p.ascqs.map(hex2).join(' or 06/2A/')} (UNIT ATTENTION)`;
    case 'skip':
      return 'not checked';
  }
}

/** The ASCQ of a UNIT ATTENTION 2Ah in `actual`, if it is one. */
export function unitAttention2A(actual: ScsiResult): number | undefined {
  const s = decodeSense(actual.sense);
  return actual.status === 0x02 && s !== undefined && s.key === 0x06 && s.asc === 0x2a ? s.ascq : undefined;
}

/** Why `actual` does not agree with `p`, or undefined when it does. `unknown` masks blocks of a read. */
export function disagreement(p: Prediction, actual: ScsiResult, blockSize: number, unknownBlock?: (i: number) => boolean): string | undefined {
  switch (p.kind) {
    case 'skip':
      return undefined;
    case 'oneOf':
      return p.options.some((o) => disagreement(o, actual, blockSize, unknownBlock) === undefined) ? undefined : `expected ${describePrediction(p)}, got ${describeResult(actual)}`;
    case 'unit-attention': {
      const ascq = unitAttention2A(actual);
      return ascq !== undefined && p.ascqs.includes(ascq) ? undefined : `expected ${describePrediction(p)}, got ${describeResult(actual)}`;
    }
    case 'conflict':
      return actual.status === RESERVATION_CONFLICT ? undefined : `expected RESERVATION CONFLICT, got ${describeResult(actual)}`;
    case 'shape': {
      if (actual.status !== 0) return `expected ${p.text}, got ${describeResult(actual)}`;
      const wrong = p.test(actual.data ?? new Uint8Array(0));
      return wrong === undefined ? undefined : `expected ${p.text}: ${wrong}`;
    }
    case 'refused': {
      const s = decodeSense(actual.sense);
      if (actual.status !== 0x02 || s === undefined || !p.keys.includes(s.key) || (p.ascs !== undefined && !p.ascs.includes(s.asc))) {
        return `expected ${p.text}, got ${describeResult(actual)}`;
      }
      return undefined;
    }
    case 'exact': {
      const e = p.expected;
      if (e.status === 0 && p.conditionMet === true && (actual.status as number) === CONDITION_MET) return undefined; // a remote target may answer any status byte
      if (actual.status !== e.status) return `expected ${describePrediction(p)}, got ${describeResult(actual)}`;
      if (e.status !== 0) {
        const s = decodeSense(actual.sense);
        const w = e.sense!;
        const information = w.information === undefined || s?.information === w.information || (p.informationIfValid === true && s?.information === undefined);
        if (s === undefined || s.key !== w.key || s.asc !== w.asc || s.ascq !== w.ascq || !information) {
          return `expected ${describePrediction(p)}, got ${describeResult(actual)}`;
        }
        return undefined;
      }
      if (e.data === undefined) return undefined;
      const got = actual.data ?? new Uint8Array(0);
      if (got.length !== e.data.length) return `expected ${e.data.length} bytes of Data-In, got ${got.length}`;
      for (let i = 0; i < got.length; i++) {
        if (got[i] !== e.data[i] && !(unknownBlock?.(Math.floor(i / blockSize)) ?? false)) {
          return `Data-In differs at byte ${i} (block ${Math.floor(i / blockSize)} of the read): expected ${hex2(e.data[i]!)}h, got ${hex2(got[i]!)}h`;
        }
      }
      return undefined;
    }
  }
}
