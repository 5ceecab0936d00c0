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

/**
 * The answer to a Text Request's data: for `SendTargets=All` every target the initiator may log in
 * to, for `SendTargets=<name>` that one, for an empty value the session's own target, each as
 * TargetName and one TargetAddress per portal (with its portal group tag, RFC 7143 13.8, appendix C);
 * any other key is NotUnderstood (RFC 7143 6.2). Text that does not
 * decode gets an empty answer.
 */
export function answerText(data: Uint8Array, ctx: DiscoveryContext): Array<[string, string]> {
  const pairs = decodeText(data);
  const answers: Array<[string, string]> = [];
  if (typeof pairs === 'string') return answers;
  for (const [key, value] of pairs) {
    if (key !== 'SendTargets') {
      answers.push([key, 'NotUnderstood']);
      continue;
    }
    for (const target of ctx.targets.values()) {
      if (value !== 'All' && value !== target.name && !(value === '' && target === ctx.sessionTarget)) continue;
      if (target.initiators !== undefined && !target.initiators.has(ctx.initiatorName)) continue;
      answers.push(['TargetName', target.name]);
      for (const address of ctx.addresses(target)) answers.push(['TargetAddress', address]);
    }
  }
  return answers;
}
