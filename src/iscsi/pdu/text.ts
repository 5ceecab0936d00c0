/**
 * The text format of Login and Text PDUs (RFC 7143 6.1): `key=value` pairs, each ended by a NUL.
 * @module
 */

/** Key/value pairs in the order received. */
export type TextPairs = ReadonlyArray<readonly [key: string, value: string]>;

const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/** Decodes a data segment; returns a string on a pair with no `=` or an empty key. */
export function decodeText(data: Uint8Array): TextPairs | string {
  const pairs: Array<readonly [string, string]> = [];
  let start = 0;
  for (let i = 0; i <= data.length; i++) {
    if (i < data.length && data[i] !== 0) continue;
    if (i > start) {
      const item = decoder.decode(data.subarray(start, i));
      const eq = item.indexOf('=');
      if (eq <= 0) return `malformed text item '${item.slice(0, 64)}'`;
      pairs.push([item.slice(0, eq), item.slice(eq + 1)]);
    }
    start = i + 1;
  }
  return pairs;
}

/** Encodes pairs as a data segment. */
export function encodeText(pairs: TextPairs): Uint8Array {
  return encoder.encode(pairs.map(([k, v]) => `${k}=${v}\0`).join(''));
}
