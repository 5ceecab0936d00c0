/**
 * Discovery (RFC 7143 Appendix C, 13.3): the SendTargets text key, answered in a discovery session
 * or a normal one.
 * @module
 */
import { decodeText } from '../pdu/text.js';
import type { ExposedTarget } from './session.js';

/** Who asks: the initiator's name and, in a normal session, the target it is logged in to. */
export interface DiscoveryContext {
  /** Targets by name. */
  readonly targets: ReadonlyMap<string, ExposedTarget>;
  /** `TargetAddress` values of a target (`ip:port,tpgt`), one per portal it is served on. */
  addresses(target: ExposedTarget): readonly string[];
  /** InitiatorName of the session. */
  readonly initiatorName: string;
  /** The session's target (undefined in a discovery session). */
  readonly sessionTarget: ExposedTarget | undefined;
}

/** The three iSCSI name formats (RFC 7143 4.2.7.1). */
const ISCSI_NAME = /^(iqn\.\d{4}-\d{2}\.|eui\.[0-9A-Fa-f]{16}$|naa\.[0-9A-Fa-f]{16}([0-9A-Fa-f]{16})?$)/;

/**
 * The answer to a Text Request's data: for `SendTargets=All` every target the initiator may log in
 * to, for `SendTargets=<name>` that one, for an empty value the session's own target, each as
 * TargetName and one TargetAddress per portal (with its portal group tag, RFC 7143 13.8, appendix C);
 * a key other than SendTargets beside it is NotUnderstood (RFC 7143 6.2). `'reject'` when the data
 * has no SendTargets key, or its value is none of All, empty or an iSCSI name (RFC 7143 4.2.7.1),
 * or the text does not decode: the connection answers with a Reject PDU, as LIO does, so that the
 * initiator sees the request fail without taking the Text Response apart (docs/decisions/iscsi.md).
 */
export function answerText(data: Uint8Array, ctx: DiscoveryContext): Array<[string, string]> | 'reject' {
  const pairs = decodeText(data);
  if (typeof pairs === 'string') return 'reject';
  const asked = pairs.filter(([key]) => key === 'SendTargets');
  if (asked.length === 0 || asked.some(([, value]) => value !== 'All' && value !== '' && !ISCSI_NAME.test(value))) return 'reject';
  const answers: Array<[string, string]> = [];
  for (const [key, value] of pairs) {
    if (key !== 'SendTargets') {
      answers.push([key, 'NotUnderstood']);
      continue;
    }
    // A well-formed name of no target here answers nothing.
    for (const target of ctx.targets.values()) {
      if (value !== 'All' && value !== target.name && !(value === '' && target === ctx.sessionTarget)) continue;
      if (target.initiators !== undefined && !target.initiators.has(ctx.initiatorName)) continue;
      answers.push(['TargetName', target.name]);
      for (const address of ctx.addresses(target)) answers.push(['TargetAddress', address]);
    }
  }
  return answers;
}
