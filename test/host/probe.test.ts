/**
 * probeLun's failures: a LUN the target does not have is LogicalUnitNotFoundError (fixed or
 * descriptor sense, through a real iSCSI target too); any other READ CAPACITY failure is
 * HostIoError with the sense decoded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, encodeFixedSense, type ScsiResult } from '../../src/index.js';
import { HostIoError, LogicalUnitNotFoundError, probeLun, type ScsiTarget } from '../../src/host/index.js';
import { IscsiServer, IscsiSession } from '../../src/iscsi/index.js';

/** A target that answers every command with `result`. */
const answering = (result: ScsiResult, description?: string): ScsiTarget => ({ ...(description === undefined ? {} : { description }), execute: () => result });

/** Descriptor-format sense (72h) with key/ASC/ASCQ and no descriptors. */
const descriptorSense = (key: number, asc: number, ascq: number): Uint8Array => Uint8Array.of(0x72, key, asc, ascq, 0, 0, 0, 0);

describe('probeLun failures', () => {
  it('LOGICAL UNIT NOT SUPPORTED in fixed format: LogicalUnitNotFoundError', async () => {
    const e = await probeLun(answering({ status: 2, sense: encodeFixedSense('LOGICAL_UNIT_NOT_SUPPORTED') }, 'LUN 9 of a test target')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LogicalUnitNotFoundError);
    expect(e).toMatchObject({
      code: 'ERR_LUN_NOT_FOUND',
      lun: 'LUN 9 of a test target',
      sense: { key: 5, asc: 0x25, ascq: 0 },
      message: 'LUN 9 of a test target not found: READ CAPACITY(16) answered CHECK CONDITION, sense 5/25/00 LOGICAL_UNIT_NOT_SUPPORTED',
    });
  });

  it('LOGICAL UNIT NOT SUPPORTED in descriptor format, from a target without a description', async () => {
    await expect(probeLun(answering({ status: 2, sense: descriptorSense(5, 0x25, 0) }))).rejects.toMatchObject({
      name: 'LogicalUnitNotFoundError',
      sense: { responseCode: 0x72, key: 5, asc: 0x25, ascq: 0, reason: 'LOGICAL_UNIT_NOT_SUPPORTED' },
    });
    await expect(probeLun(answering({ status: 2, sense: descriptorSense(5, 0x25, 0) }))).rejects.toThrow(
      'the logical unit not found: READ CAPACITY(16) answered CHECK CONDITION, sense 5/25/00 LOGICAL_UNIT_NOT_SUPPORTED',
    );
  });

  it('any other failure: HostIoError naming the decoded sense', async () => {
    const e = await probeLun(answering({ status: 2, sense: descriptorSense(4, 0x44, 0x00) }, 'LUN 1 of x')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostIoError);
    expect(e).toMatchObject({ code: 'ERR_HOST_IO', opcode: 0x9e, status: 2, message: 'probing LUN 1 of x with READ CAPACITY(16): opcode 9eh failed with status 02h sense 4/44/00 INTERNAL_TARGET_FAILURE' });
  });

  it('GOOD with too little parameter data: HostIoError saying so', async () => {
    await expect(probeLun(answering({ status: 0, data: new Uint8Array(8) }))).rejects.toThrow(
      'probing the logical unit with READ CAPACITY(16): opcode 9eh returned 8 bytes of parameter data, not 16',
    );
  });
});

describe('probeLun of a LUN an iSCSI target does not have', () => {
  const T = 'iqn.2026-11.dev.vaai-sim:probe';
  const array = new StorageArray({ capacityBytes: 1 << 28 });
  const lun = array.createLun({ sizeBytes: 16 << 20, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun] }], port: 0 });
  let session: IscsiSession;
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
    session = await IscsiSession.connect({ host: '127.0.0.1', port, targetName: T });
  });
  afterAll(async () => {
    await session.close();
    await server.close();
  });

  it('LUN 0 probes; LUN 5 is LogicalUnitNotFoundError naming the LUN, the target and the portal', async () => {
    expect((await probeLun(session.lun(0))).blockCount).toBe(32768);
    const e = await probeLun(session.lun(5)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LogicalUnitNotFoundError);
    expect((e as Error).message).toBe(`LUN 5 of ${T} at 127.0.0.1:${port} not found: READ CAPACITY(16) answered CHECK CONDITION, sense 5/25/00 LOGICAL_UNIT_NOT_SUPPORTED`);
  });
});
