/**
 * The host side of ALUA, as Linux's scsi_dh_alua and ESXi's VMW_SATP_ALUA talk to an array: REPORT
 * TARGET PORT GROUPS with the extended header first (falling back to the length-only header on
 * ILLEGAL REQUEST), asked again with the length RETURN DATA LENGTH announces, past unit attentions;
 * and SET TARGET PORT GROUPS of one group to active/optimized.
 * @module
 */
import * as cdb from '../../codec/cdb-encoder.js';
import { decodeReportTargetPortGroups } from '../../codec/rtpg-decoder.js';
import { decodeSense } from '../../codec/sense-decoder.js';
import type { AluaState } from '../../spec/alua.js';
import { SenseKey } from '../../spec/sense.js';
import type { ScsiResult } from '../../scsi/outcome.js';

/** @internal Sends one command down a path. */
export type Send = (cdb: Uint8Array, dataOut?: Uint8Array) => Promise<ScsiResult>;

/** @internal The groups as one REPORT TARGET PORT GROUPS read them. */
export interface GroupReport {
  readonly implicitTransitionSeconds: number | undefined;
  readonly groups: ReadonlyArray<{ readonly id: number; readonly state: AluaState | undefined; readonly preferred: boolean }>;
}

/** The first ALLOCATION LENGTH asked for (Linux asks with 128 bytes). */
const FIRST_ALLOCATION = 128;
/** Unit attentions, a header fallback and a longer read fit in this many tries. */
const ATTEMPTS = 12;

/**
 * @internal Reads the port groups through `send`. `report` is undefined when the path answers with
 * an error other than a unit attention (then in `refusal`) or data that does not decode; transport
 * failures reject.
 */
export async function readTargetPortGroups(send: Send, extended: boolean): Promise<{ report: GroupReport | undefined; extendedHeader: boolean; refusal?: ScsiResult }> {
  let allocation = FIRST_ALLOCATION;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const r = await send(cdb.reportTargetPortGroups({ extended, allocationLength: allocation }));
    if (r.status === 2) {
      const sense = decodeSense(r.sense);
      if (sense?.key === SenseKey.UNIT_ATTENTION) continue;
      if (sense?.key === SenseKey.ILLEGAL_REQUEST && extended) {
        extended = false;
        continue;
      }
      return { report: undefined, extendedHeader: extended, refusal: r };
    }
    if (r.status !== 0 || r.data === undefined) return { report: undefined, extendedHeader: extended };
    const decoded = decodeReportTargetPortGroups(r.data, extended ? 'extended' : 'length-only');
    if (!decoded.ok) {
      if (decoded.problem === 'truncated' && decoded.requiredLength !== undefined && decoded.requiredLength > allocation) {
        allocation = decoded.requiredLength;
        continue;
      }
      return { report: undefined, extendedHeader: extended };
    }
    return {
      extendedHeader: extended,
      report: {
        implicitTransitionSeconds: decoded.value.implicitTransitionSeconds,
        groups: decoded.value.groups.map((g) => ({ id: g.targetPortGroup, state: g.state, preferred: g.preferred })),
      },
    };
  }
  return { report: undefined, extendedHeader: extended };
}

/**
 * @internal SET TARGET PORT GROUPS of group `id` to active/optimized through `send`, as Linux's
 * scsi_dh_alua sends it (one descriptor, the rest left to the array); true on GOOD. A unit attention
 * is answered by asking again.
 */
export async function setTargetPortGroupActive(send: Send, id: number): Promise<boolean> {
  const list = cdb.setTargetPortGroupsParameterList([{ state: 'active/optimized', groupOrPort: id }]);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const r = await send(cdb.setTargetPortGroups(list.length), list);
    if (r.status === 2 && decodeSense(r.sense)?.key === SenseKey.UNIT_ATTENTION) continue;
    return r.status === 0;
  }
  return false;
}
