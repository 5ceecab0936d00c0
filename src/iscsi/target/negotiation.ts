/**
 * Operational parameter negotiation at login (RFC 7143 6.2, 13): each key's kind (list, boolean
 * with OR or AND, numerical with minimum or maximum, declarative) decides how the offer and the
 * target's own value combine.
 * @module
 */

/** Negotiated values of one connection and its session. */
export interface SessionParameters {
  headerDigest: boolean;
  dataDigest: boolean;
  initialR2T: boolean;
  immediateData: boolean;
  maxBurstLength: number;
  firstBurstLength: number;
  maxOutstandingR2T: number;
  /** MaxRecvDataSegmentLength declared by the initiator: the largest data segment the target may send. */
  initiatorMaxRecvDataSegmentLength: number;
  /** MaxRecvDataSegmentLength the target declared: the largest data segment it accepts. */
  targetMaxRecvDataSegmentLength: number;
  errorRecoveryLevel: number;
}

/**
 * MaxRecvDataSegmentLength this target declares (RFC 7143 13.12): the largest data segment it accepts;
 * its framer refuses a longer one.
 */
export const TARGET_MAX_RECV_DATA_SEGMENT_LENGTH = 262144;

/** RFC 7143 defaults (13.x), before negotiation. */
export function defaultParameters(targetMaxRecv: number): SessionParameters {
  return {
    headerDigest: false,
    dataDigest: false,
    initialR2T: true,
    immediateData: true,
    maxBurstLength: 262144,
    firstBurstLength: 65536,
    maxOutstandingR2T: 1,
    initiatorMaxRecvDataSegmentLength: 8192,
    targetMaxRecvDataSegmentLength: targetMaxRecv,
    errorRecoveryLevel: 0,
  };
}

/** What the target supports or prefers. */
const TARGET = {
  maxBurstLength: 16776192,
  firstBurstLength: 16776192,
  maxOutstandingR2T: 1,
  maxConnections: 1,
  defaultTime2Wait: 2,
  defaultTime2Retain: 0,
  errorRecoveryLevel: 0,
} as const;

function numeric(value: string, min: number, max: number): number | undefined {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

function yesNo(value: string): boolean | undefined {
  return value === 'Yes' ? true : value === 'No' ? false : undefined;
}

/**
 * Negotiates one operational key. Returns the answer to send (`undefined` for a key that needs none,
 * e.g. a declarative key the target does not echo), or 'Reject' for an invalid value.
 */
export function negotiateKey(key: string, value: string, p: SessionParameters, discovery: boolean): string | undefined {
  switch (key) {
    case 'HeaderDigest':
    case 'DataDigest': {
      const offered = value.split(',');
      const choice = offered.find((v) => v === 'CRC32C' || v === 'None');
      if (choice === undefined) return 'Reject';
      if (key === 'HeaderDigest') p.headerDigest = choice === 'CRC32C';
      else p.dataDigest = choice === 'CRC32C';
      return choice;
    }
    case 'InitialR2T': {
      const v = yesNo(value);
      if (v === undefined) return 'Reject';
      p.initialR2T = v || false; // OR: the target would accept unsolicited data
      return p.initialR2T ? 'Yes' : 'No';
    }
    case 'ImmediateData': {
      const v = yesNo(value);
      if (v === undefined) return 'Reject';
      p.immediateData = v && true; // AND: the target accepts immediate data
      return p.immediateData ? 'Yes' : 'No';
    }
    case 'DataPDUInOrder':
    case 'DataSequenceInOrder': {
      if (yesNo(value) === undefined) return 'Reject';
      return 'Yes'; // OR with the target's Yes
    }
    case 'MaxBurstLength':
    case 'FirstBurstLength': {
      const n = numeric(value, 512, 16777215);
      if (n === undefined) return 'Reject';
      const result = Math.min(n, TARGET[key === 'MaxBurstLength' ? 'maxBurstLength' : 'firstBurstLength']);
      if (key === 'MaxBurstLength') p.maxBurstLength = result;
      else p.firstBurstLength = result;
      return String(result);
    }
    case 'MaxOutstandingR2T': {
      const n = numeric(value, 1, 65535);
      if (n === undefined) return 'Reject';
      p.maxOutstandingR2T = Math.min(n, TARGET.maxOutstandingR2T);
      return String(p.maxOutstandingR2T);
    }
    case 'MaxConnections': {
      const n = numeric(value, 1, 65535);
      return n === undefined ? 'Reject' : String(Math.min(n, TARGET.maxConnections));
    }
    case 'DefaultTime2Wait': {
      const n = numeric(value, 0, 3600);
      return n === undefined ? 'Reject' : String(Math.max(n, TARGET.defaultTime2Wait));
    }
    case 'DefaultTime2Retain': {
      const n = numeric(value, 0, 3600);
      return n === undefined ? 'Reject' : String(Math.min(n, TARGET.defaultTime2Retain));
    }
    case 'ErrorRecoveryLevel': {
      const n = numeric(value, 0, 2);
      if (n === undefined) return 'Reject';
      p.errorRecoveryLevel = Math.min(n, TARGET.errorRecoveryLevel);
      return String(p.errorRecoveryLevel);
    }
    case 'MaxRecvDataSegmentLength': {
      // Declarative: the initiator's limit for what the target sends; the target states its own.
      const n = numeric(value, 512, 16777215);
      if (n === undefined) return 'Reject';
      p.initiatorMaxRecvDataSegmentLength = n;
      return undefined;
    }
    case 'IFMarker':
    case 'OFMarker':
      return 'No';
    case 'OFMarkInt':
    case 'IFMarkInt':
      return 'Reject';
    default:
      return discovery && (key === 'MaxBurstLength' || key === 'FirstBurstLength') ? 'Irrelevant' : 'NotUnderstood';
  }
}
