/**
 * The iSCSI target's concerns tested on their own terms: a LUN number the target does not have
 * (INQUIRY as the SCSI layer answers an inaccessible LUN, LOGICAL UNIT NOT SUPPORTED otherwise),
 * and task management as a function of its inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageArray, cdb } from '../../src/index.js';
import { IscsiServer } from '../../src/iscsi/index.js';
import { missingLun } from '../../src/iscsi/target/data-transfer.js';
import { manageTasks, type AbortableTasks } from '../../src/iscsi/target/tmr.js';
import { RawClient } from './raw-client.js';

const T = 'iqn.2026-11.dev.vaai-sim:concerns';
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
/** Fixed-format sense, ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED (25h/00h), as SPC-4 4.5.3 lays it out. */
const LUN_NOT_SUPPORTED = [0x70, 0, 0x05, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x25, 0x00, 0, 0, 0, 0];

describe('a LUN number the target does not have, over iSCSI', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun0 = array.createLun({ sizeBytes: 1 << 20, lunId: 0 });
  const server = new IscsiServer({ array, targets: [{ name: T, luns: [lun0] }], port: 0 });
  let c: RawClient;
  beforeAll(async () => {
    const { port } = await server.listen();
    c = await RawClient.connect(port);
    await c.login({ targetName: T });
  });
  afterAll(async () => {
    c.destroy();
    await server.close();
  });

  it('INQUIRY: the standard data of the SCSI layer with PERIPHERAL QUALIFIER 011b, PERIPHERAL DEVICE TYPE 1Fh (SPC-4 6.6.2), truncated to the allocation length', async () => {
    const r = await c.scsi(cdb.inquiry({ allocationLength: 255 }), { lun: 5, readLength: 255 });
    expect(r.status).toBe(0);
    const d = r.data;
    expect(d.length).toBe(96);
    expect(Array.from(d.subarray(0, 8))).toEqual([0x7f, 0x00, 0x06, 0x12, 91, 0x08, 0x00, 0x02]);
    expect(Array.from(d.subarray(8, 36))).toEqual(ascii('VAAISIM VIRTUAL ARRAY   0001'));
    expect(Array.from(d.subarray(58, 64))).toEqual([0x00, 0xa0, 0x04, 0x60, 0x04, 0xc0]); // SAM-5, SPC-4, SBC-3
    // the same bytes LUN 0 answers, but for byte 0 (qualifier 000b, type 00h there) and TPGS in
    // byte 5 (11b there: the SCSI layer reports ALUA only for a logical unit the nexus can reach)
    const real = await c.scsi(cdb.inquiry({ allocationLength: 255 }), { lun: 0, readLength: 255 });
    expect(real.data[0]).toBe(0x00);
    expect([d[5], real.data[5]]).toEqual([0x08, 0x38]);
    expect(Array.from(d.subarray(6))).toEqual(Array.from(real.data.subarray(6)));
    expect(Array.from(d.subarray(1, 5))).toEqual(Array.from(real.data.subarray(1, 5)));
    const short = await c.scsi(cdb.inquiry({ allocationLength: 36 }), { lun: 5, readLength: 36 });
    expect(Array.from(short.data)).toEqual(Array.from(d.subarray(0, 36)));
  });

  it('REQUEST SENSE returns LOGICAL UNIT NOT SUPPORTED as data; other commands CHECK CONDITION with it', async () => {
    const sense = await c.scsi(cdb.requestSense(18), { lun: 5, readLength: 18 });
    expect(sense.status).toBe(0);
    expect(Array.from(sense.data)).toEqual(LUN_NOT_SUPPORTED);
    const tur = await c.scsi(cdb.testUnitReady(), { lun: 5 });
    expect(tur.status).toBe(0x02);
    expect(Array.from(tur.sense!)).toEqual(LUN_NOT_SUPPORTED);
    // INQUIRY with EVPD = 1 asks for a page of a logical unit that is not there
    const vpd = missingLun(cdb.inquiry({ page: 0x80, allocationLength: 255 }));
    expect([vpd.status, Array.from(vpd.sense!)]).toEqual([0x02, LUN_NOT_SUPPORTED]);
  });
});

describe('task management (RFC 7143 11.5.1, 11.6.1)', () => {
  const array = new StorageArray({ capacityBytes: 1 << 30 });
  const lun0 = array.createLun({ sizeBytes: 1 << 20, lunId: 0 });
  const target = { name: T, luns: new Map([[0, lun0]]), initiators: undefined };
  /** Records what a function ended; task 7 is a write waiting for data. */
  const tasks = (): AbortableTasks & { log: string[] } => {
    const log: string[] = [];
    return {
      log,
      abort: (itt) => (log.push(`abort ${itt}`), itt === 7),
      abortAll: () => void log.push('all'),
    };
  };

  it('ABORT TASK ends a waiting write (function complete) or answers task does not exist', () => {
    const t = tasks();
    expect(manageTasks(1, 7, lun0, target, t)).toEqual({ response: 0, endSession: false });
    expect(manageTasks(1, 8, lun0, target, t)).toEqual({ response: 1, endSession: false });
    expect(t.log).toEqual(['abort 7', 'abort 8']);
  });

  it('ABORT TASK SET, CLEAR ACA, CLEAR TASK SET, LUN RESET and TARGET WARM RESET end every waiting write; COLD RESET also ends the session', () => {
    for (const fn of [2, 3, 4, 5, 6]) {
      const t = tasks();
      expect(manageTasks(fn, 0, lun0, target, t), `function ${fn}`).toEqual({ response: 0, endSession: false });
      expect(t.log).toEqual(['all']);
    }
    expect(manageTasks(7, 0, lun0, target, tasks())).toEqual({ response: 0, endSession: true });
  });

  it('LOGICAL UNIT RESET of a LUN the target does not have answers 2, LUN does not exist (RFC 7143 11.6.1), and ends nothing; an unknown function 5 (not supported) and ends nothing', () => {
    const missing = tasks();
    expect(manageTasks(5, 0, undefined, target, missing)).toEqual({ response: 2, endSession: false });
    expect(missing.log).toEqual([]);
    for (const fn of [0, 8, 14, 127]) {
      const t = tasks();
      expect(manageTasks(fn, 0, lun0, target, t)).toEqual({ response: 5, endSession: false });
      expect(t.log).toEqual([]);
    }
  });
});
