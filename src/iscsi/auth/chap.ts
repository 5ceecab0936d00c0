/**
 * CHAP as iSCSI uses it (RFC 7143 12.1.3, RFC 1994 with MD5), the pieces the target and the
 * initiator share: the secrets' types and option check, the response function, a fresh challenge and
 * the `0x…` hex form binary values travel in.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { is, type ValueCheck } from '../../common/errors.js';

/** A CHAP name and secret. */
export interface ChapCredentials {
  /** The name given as CHAP_N. */
  readonly user: string;
  /** The secret (at least 12 bytes, as RFC 7143 12.1.3 asks). */
  readonly secret: string;
}

/** CHAP secrets (RFC 7143 12.1.3, RFC 1994 with MD5): the initiator's, and for mutual CHAP the target's. */
export interface ChapSecrets extends ChapCredentials {
  /** For mutual CHAP: the name and secret the target answers the initiator's challenge with. */
  readonly mutual?: ChapCredentials;
}

/** CHAP name and secret as options accept them. */
const CHAP_CREDENTIALS = { user: is.string, secret: is.string } as const satisfies Record<keyof ChapCredentials, ValueCheck>;

/** Checks {@link ChapSecrets} given as an option (user and secret required, mutual optional). */
export const isChapSecrets: ValueCheck = is.options({ ...CHAP_CREDENTIALS, mutual: is.options(CHAP_CREDENTIALS, ['user', 'secret']) } satisfies Record<keyof ChapSecrets, ValueCheck>, ['user', 'secret']);

/** CHAP_A value of MD5 (RFC 1994, RFC 7143 12.1.3): the only algorithm either side offers or accepts. */
export const CHAP_MD5 = '5';

/** The CHAP response: MD5 over the identifier byte, the secret and the challenge (RFC 1994), in hex. */
export function chapResponse(id: number, secret: string, challenge: Uint8Array): string {
  return createHash('md5').update(Uint8Array.of(id & 0xff)).update(secret).update(challenge).digest('hex');
}

/** A CHAP identifier and challenge to send (CHAP_I, CHAP_C): a random byte and 16 random bytes. */
export interface ChapChallenge {
  /** CHAP_I. */
  readonly id: number;
  /** CHAP_C. */
  readonly challenge: Uint8Array;
}

/** A fresh random {@link ChapChallenge}. */
export function newChapChallenge(): ChapChallenge {
  return { id: randomBytes(1)[0]!, challenge: new Uint8Array(randomBytes(16)) };
}

/** Bytes as an iSCSI hex-constant (RFC 7143 6.1): `0x` and lowercase hex digits. */
export function hexConstant(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`;
}
