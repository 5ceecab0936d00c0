/**
 * `vaai-sim/iscsi`: the iSCSI transport (RFC 7143) in front of an array, on `node:net`.
 *
 * @example
 * ```ts
 * import { StorageArray } from 'vaai-sim';
 * import { IscsiServer } from 'vaai-sim/iscsi';
 * const array = new StorageArray({ capacityBytes: 1 << 30 });
 * const lun = array.createLun({ sizeBytes: 1 << 30 });
 * const server = new IscsiServer({ array, targets: [{ name: 'iqn.2026-11.dev.vaai-sim:array0', luns: [lun] }], port: 0 });
 * await server.listen();
 * console.log(server.url('iqn.2026-11.dev.vaai-sim:array0')); // iscsi://127.0.0.1:PORT/iqn.../0
 * ```
 * @module vaai-sim/iscsi
 */

export { IscsiServer } from './target/server.js';
export { IscsiSession, parseIscsiUrl, MAX_ISCSI_LUN } from './initiator/session.js';
export { IscsiLoginError, IscsiConnectionError, IscsiTimeoutError, IscsiUrlError } from './errors.js';
export type { IscsiUrlPart } from './errors.js';
export { LoginStatus, loginStatusName, formatLoginStatus } from './pdu/login-status.js';
export type { LoginStatusEntry } from './pdu/login-status.js';
export type { IscsiSessionOptions, IscsiUrl } from './initiator/session.js';
export type { IscsiServerOptions, IscsiTargetConfig, IscsiPortalConfig, IscsiPortalInfo, BoundAddress } from './target/server.js';
export type { ChapSecrets, ChapCredentials } from './auth/chap.js';
export { PduFramer, BHS_LENGTH } from './pdu/framer.js';
export type { FramedPdu, FrameResult, FramedPdus, FramingError, FramerLimits } from './pdu/framer.js';
export { crc32c } from './pdu/crc32c.js';
export { decodeText, encodeText } from './pdu/text.js';
export type { TextPairs } from './pdu/text.js';
export { InitiatorOpcode, TargetOpcode, RejectReason, RESERVED_TAG } from './pdu/opcodes.js';
export { decodeInitiatorPdu } from './pdu/initiator-decoder.js';
export type {
  InitiatorPdu,
  LoginRequestPdu,
  TextRequestPdu,
  ScsiCommandPdu,
  DataOutPdu,
  NopOutPdu,
  TaskManagementRequestPdu,
  LogoutRequestPdu,
  UnsupportedInitiatorPdu,
  InvalidInitiatorPdu,
  CorruptInitiatorPdu,
} from './pdu/initiator-decoder.js';
export { decodeTargetPdu } from './pdu/target-decoder.js';
export type {
  TargetPdu,
  TargetSequence,
  Residual,
  LoginResponsePdu,
  TextResponsePdu,
  ScsiResponsePdu,
  DataInPdu,
  ReadyToTransferPdu,
  NopInPdu,
  TaskManagementResponsePdu,
  LogoutResponsePdu,
  RejectPdu,
  AsyncMessagePdu,
  UnsupportedTargetPdu,
  InvalidTargetPdu,
  CorruptTargetPdu,
} from './pdu/target-decoder.js';
export type { PduDecodeFailure } from './pdu/header.js';
/** Encoders of the PDUs an initiator sends (RFC 7143 11). */
export * as initiatorEncoder from './pdu/initiator-encoder.js';
/** Encoders of the PDUs a target sends (RFC 7143 11). */
export * as targetEncoder from './pdu/target-encoder.js';
