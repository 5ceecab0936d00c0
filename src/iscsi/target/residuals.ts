/**
 * Residual overflow of a block write over iSCSI (RFC 7143 11.4.5.1): when the Expected Data Transfer
 * Length is shorter than the Data-Out the CDB implies, the command is processed on the data the
 * initiator offers and data beyond it is neither requested nor written (FCP-4 9.4.2 a, which libiscsi's
 * Write*Residuals follow). For a write of whole blocks that is the same write with a TRANSFER LENGTH
 * of the whole blocks offered; this module builds that CDB. See docs/decisions/iscsi.md, "Residuals".
 * @module
 */

/**
 * Where the TRANSFER LENGTH of each block write lives (SBC-4 5.x): [byte offset, byte count]. Their
 * Data-Out is TRANSFER LENGTH blocks of the medium, so a shorter TRANSFER LENGTH is the same command
 * on fewer blocks. WRITE(6) is absent: its TRANSFER LENGTH 0 means 256 blocks, and a write of fewer
 * blocks than 256 offered is still expressible, but a write of none is not.
 */
const TRANSFER_LENGTH: ReadonlyMap<number, readonly [number, number]> = new Map([
  [0x2a, [7, 2]], // WRITE(10)
  [0x2e, [7, 2]], // WRITE AND VERIFY(10)
  [0xaa, [6, 4]], // WRITE(12)
  [0xae, [6, 4]], // WRITE AND VERIFY(12)
  [0x8a, [10, 4]], // WRITE(16)
  [0x8e, [10, 4]], // WRITE AND VERIFY(16)
  [0x0a, [4, 1]], // WRITE(6)
]);

/** True for the block writes whose TRANSFER LENGTH {@link shortenedWrite} can cut down. */
export function isBlockWrite(cdb: Uint8Array): boolean {
  return TRANSFER_LENGTH.has(cdb[0]!);
}

/**
 * The CDB of `cdb` cut down to `bytes` of Data-Out, or `undefined` when that cannot be expressed: the
 * command is not a block write, `bytes` is not a whole number of `blockSize` blocks, or it is a
 * WRITE(6) of no blocks. The caller has checked that `bytes` is less than the CDB implies.
 */
export function shortenedWrite(cdb: Uint8Array, bytes: number, blockSize: number): Uint8Array | undefined {
  const field = TRANSFER_LENGTH.get(cdb[0]!);
  if (field === undefined || bytes % blockSize !== 0) return undefined;
  const blocks = bytes / blockSize;
  const [at, size] = field;
  if (size === 1 && blocks === 0) return undefined;
  const out = cdb.slice();
  for (let i = size - 1, v = blocks; i >= 0; i--, v = Math.floor(v / 256)) out[at + i] = v & 0xff;
  return out;
}
