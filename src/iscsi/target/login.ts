/**
 * The login phase on the target (RFC 7143 6.3, 11.12, 11.13), in the manner of LIO's
 * `iscsi_target_login.c` and `iscsi_target_nego.c`: text that spans PDUs, the first PDU's checks
 * (InitiatorName, target, ACL, a TSIH that would add a connection), the security stage with
 * AuthMethod None or CHAP ({@link TargetChap}), operational negotiation ({@link negotiateKey}) and
 * the answer each Login Request gets. The connection turns each {@link LoginStep} into a Login
 * Response; the session then becomes an I_T nexus through {@link openSession}.
 * @module
 */
import { toHex } from '../../codec/bytes.js';
import type { LoginRequestPdu } from '../pdu/initiator-decoder.js';
import { LoginStatus, type LoginStatusEntry } from '../pdu/login-status.js';
import { decodeText } from '../pdu/text.js';
import { TargetChap, isChapKey } from './auth.js';
import { TARGET_MAX_RECV_DATA_SEGMENT_LENGTH, negotiateKey, type SessionParameters } from './negotiation.js';
import type { ConnectionHost, ExposedTarget, SessionIdentity } from './session.js';

/** Login stages (CSG, NSG; RFC 7143 11.12). */
const Stage = { SECURITY: 0, OPERATIONAL: 1, FULL_FEATURE: 3 } as const;

/** Keys of the first Login Request that name the session rather than negotiate. */
const NAMING_KEYS = new Set(['InitiatorName', 'TargetName', 'SessionType', 'InitiatorAlias']);

/** What one Login Request gets. */
export type LoginStep =
  /** The text continues in the next PDU (C bit): an empty Login Response, StatSN not advanced. */
  | { readonly kind: 'partial' }
  /** The login fails with this status (RFC 7143 11.13.5); the connection then ends. */
  | { readonly kind: 'refused'; readonly status: LoginStatusEntry }
  /**
   * A Login Response with these keys, T bit and NSG; `complete` when it moves to the full feature
   * phase, and then `tsih` is the new session's TSIH (0 otherwise).
   */
  | { readonly kind: 'answer'; readonly transit: boolean; readonly nsg: number; readonly tsih: number; readonly answers: ReadonlyArray<[string, string]>; readonly complete: boolean };

/** The state of one connection's login, from the first Login Request to the full feature phase. */
export class TargetLogin {
  readonly #host: ConnectionHost;
  readonly #params: SessionParameters;
  readonly #keys = new Map<string, string>();
  #text: Uint8Array[] = [];
  #initiatorName = '';
  #chap: TargetChap | undefined;
  #target: ExposedTarget | undefined;
  #discovery = false;
  #isid = new Uint8Array(6);
  #tsih = 0;

  /** @param host - the server; @param params - the connection's parameters, which negotiation sets */
  constructor(host: ConnectionHost, params: SessionParameters) {
    this.#host = host;
    this.#params = params;
  }

  /** ISID of the session, as the last Login Request gave it. */
  get isid(): Uint8Array {
    return this.#isid;
  }

  /** InitiatorName ('' until the first Login Request's text is complete). */
  get initiatorName(): string {
    return this.#initiatorName;
  }

  /** True for a discovery session (SessionType=Discovery). */
  get discovery(): boolean {
    return this.#discovery;
  }

  /** The target of a normal session (undefined for discovery, or before it is known). */
  get target(): ExposedTarget | undefined {
    return this.#target;
  }

  /** The session's identity: initiator name, ISID and (once the login completes) TSIH. */
  get identity(): SessionIdentity {
    return { initiatorName: this.#initiatorName, isid: toHex(this.#isid), tsih: this.#tsih };
  }

  /** Takes one Login Request and says how to answer it. */
  step(pdu: LoginRequestPdu): LoginStep {
    const { transit, csg, nsg } = pdu;
    this.#isid = pdu.isid.slice();
    this.#text.push(pdu.data.slice());
    // The initiator continues its text in the next PDU: acknowledge with an empty response.
    if (pdu.continue) return { kind: 'partial' };
    const pairs = decodeText(Buffer.concat(this.#text)); // the text of a login that spans PDUs
    this.#text = [];
    if (typeof pairs === 'string') return refused(LoginStatus.INITIATOR_ERROR);
    for (const [k, v] of pairs) this.#keys.set(k, v);
    if (this.#initiatorName === '') {
      const first = this.#firstRequest(pdu);
      if (first !== undefined) return refused(first);
    }
    const chapSecrets = this.#target?.chap;
    if (chapSecrets !== undefined) this.#chap ??= new TargetChap(chapSecrets);
    const chap = this.#chap;
    // A target that requires CHAP does not let the initiator skip the security stage.
    if (chap !== undefined && csg !== Stage.SECURITY && !chap.done) return refused(LoginStatus.AUTHENTICATION_FAILURE);
    const answers: Array<[string, string]> = [];
    for (const [key, value] of pairs) {
      if (NAMING_KEYS.has(key)) continue;
      if (key === 'AuthMethod') {
        const wanted = chap === undefined ? 'None' : 'CHAP';
        if (!value.split(',').includes(wanted)) return refused(LoginStatus.AUTHENTICATION_FAILURE);
        answers.push([key, wanted]);
        continue;
      }
      if (isChapKey(key)) continue; // handled below, as a set
      const answer = negotiateKey(key, value, this.#params, this.#discovery);
      if (answer !== undefined) answers.push([key, answer]);
    }
    if (csg === Stage.SECURITY && chap !== undefined) {
      if (chap.step(this.#keys, answers) === 'fail') return refused(LoginStatus.AUTHENTICATION_FAILURE);
      // Leave the security stage only once authentication is complete.
      if (!chap.done) return { kind: 'answer', transit: false, nsg: 0, tsih: 0, answers, complete: false };
    }
    if (csg === Stage.OPERATIONAL || (transit && nsg !== Stage.OPERATIONAL)) {
      answers.push(['MaxRecvDataSegmentLength', String(TARGET_MAX_RECV_DATA_SEGMENT_LENGTH)]);
    }
    const complete = transit && nsg === Stage.FULL_FEATURE;
    if (complete) {
      if (!this.#discovery) answers.push(['TargetPortalGroupTag', String(this.#host.portalGroupTag)]);
      this.#tsih = this.#host.newTsih();
    }
    return { kind: 'answer', transit, nsg: transit ? nsg : 0, tsih: complete ? this.#tsih : 0, answers, complete };
  }

  /**
   * The first Login Request's checks (its text complete): InitiatorName is required, a normal
   * session names a target the initiator may reach, and a non-zero TSIH is refused. Returns the
   * status to fail with, or undefined.
   */
  #firstRequest(pdu: LoginRequestPdu): LoginStatusEntry | undefined {
    const name = this.#keys.get('InitiatorName');
    if (name === undefined) return LoginStatus.MISSING_PARAMETER;
    this.#initiatorName = name;
    this.#discovery = this.#keys.get('SessionType') === 'Discovery';
    if (!this.#discovery) {
      const target = this.#host.targets.get(this.#keys.get('TargetName') ?? '');
      if (target === undefined) return LoginStatus.NOT_FOUND;
      if (target.initiators !== undefined && !target.initiators.has(name)) return LoginStatus.AUTHORIZATION_FAILURE;
      // The target's port on this portal may be down (the other portals' may not): refused there.
      const refusal = this.#host.loginTarget(target);
      if (refusal !== undefined) return refusal;
      this.#target = target;
    }
    // A non-zero TSIH asks to add a connection to an existing session. This target negotiates
    // MaxConnections=1 (as the initiators it serves do: libiscsi, open-iscsi and ESXi use one
    // connection per session), so an existing session has no room: too many connections
    // (RFC 7143 11.13.5, 0206h); an unknown TSIH names no session (020Ah).
    if (pdu.tsih !== 0) return this.#host.hasSession({ initiatorName: name, isid: toHex(this.#isid), tsih: pdu.tsih }) ? LoginStatus.TOO_MANY_CONNECTIONS : LoginStatus.SESSION_DOES_NOT_EXIST;
    return undefined;
  }
}

function refused(status: LoginStatusEntry): LoginStep {
  return { kind: 'refused', status };
}
