/**
 * The target's side of the security stage (RFC 7143 6.3.1, 12.1.3), in the manner of LIO's
 * `iscsi_target_auth.c`: CHAP with MD5, one-way and mutual.
 * @module
 */
import { CHAP_MD5, chapResponse, hexConstant, newChapChallenge, type ChapSecrets } from '../auth/chap.js';

/** The CHAP keys that form one step of the exchange; the login's own key loop leaves them to {@link TargetChap}. */
export function isChapKey(key: string): boolean {
  return key.startsWith('CHAP_');
}

/**
 * CHAP progress of one login against a target that requires it: `chap` (method agreed, no challenge
 * yet), `challenged` (CHAP_A answered with CHAP_I and CHAP_C), `done` (the initiator's response
 * checked and, for mutual CHAP, the target's own response sent).
 */
export class TargetChap {
  readonly #secrets: ChapSecrets;
  #state: 'chap' | 'challenged' | 'done' = 'chap';
  #id = 0;
  #challenge: Uint8Array = new Uint8Array(0);

  /** @param secrets - the target's CHAP configuration */
  constructor(secrets: ChapSecrets) {
    this.#secrets = secrets;
  }

  /** True once the initiator has authenticated (and the target too, for mutual CHAP). */
  get done(): boolean {
    return this.#state === 'done';
  }

  /**
   * One CHAP exchange step (RFC 7143 12.1.3): CHAP_A gets the challenge (CHAP_A, CHAP_I, CHAP_C);
   * CHAP_N and CHAP_R are checked against MD5(id, secret, challenge); a CHAP_I and CHAP_C from the
   * initiator ask for mutual authentication, answered with the target's CHAP_N and CHAP_R. Keys it
   * consumes are deleted from `keys` (the login's keys so far); answers are appended to `answers`.
   */
  step(keys: Map<string, string>, answers: Array<[string, string]>): 'fail' | 'ok' {
    const chap = this.#secrets;
    if (this.#state === 'chap' && keys.has('CHAP_A')) {
      if (!keys.get('CHAP_A')!.split(',').includes(CHAP_MD5)) return 'fail'; // MD5 only
      const { id, challenge } = newChapChallenge();
      this.#id = id;
      this.#challenge = challenge;
      answers.push(['CHAP_A', CHAP_MD5], ['CHAP_I', String(id)], ['CHAP_C', hexConstant(challenge)]);
      keys.delete('CHAP_A');
      this.#state = 'challenged';
      return 'ok';
    }
    if (this.#state === 'challenged' && keys.has('CHAP_R')) {
      const expected = chapResponse(this.#id, chap.secret, this.#challenge);
      if (keys.get('CHAP_N') !== chap.user || keys.get('CHAP_R')!.toLowerCase() !== `0x${expected}`) return 'fail';
      const id = keys.get('CHAP_I');
      const challenge = keys.get('CHAP_C');
      if (id !== undefined || challenge !== undefined) {
        if (chap.mutual === undefined || id === undefined || challenge === undefined || !/^0x[0-9a-fA-F]{2,}$/.test(challenge)) return 'fail';
        const theirs = Buffer.from(challenge.slice(2), 'hex');
        // A reflected challenge would let an attacker use the target as an oracle (RFC 7143 12.1.3).
        if (Buffer.compare(theirs, Buffer.from(this.#challenge)) === 0) return 'fail';
        answers.push(['CHAP_N', chap.mutual.user], ['CHAP_R', `0x${chapResponse(Number(id) & 0xff, chap.mutual.secret, theirs)}`]);
      } else if (chap.mutual !== undefined) {
        return 'fail'; // the target was configured for mutual CHAP
      }
      for (const k of ['CHAP_N', 'CHAP_R', 'CHAP_I', 'CHAP_C']) keys.delete(k);
      this.#state = 'done';
    }
    return 'ok';
  }
}
