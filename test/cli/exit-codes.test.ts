import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InsufficientSpaceError, VaaiSimError } from '../../src/common/errors.js';
import { IscsiConnectionError, IscsiLoginError } from '../../src/iscsi/errors.js';
import { EXIT, describeError, exitCodeFor } from '../../src/cli/exit-codes.js';

describe('exit codes of thrown errors', () => {
  it('maps by code: input 2, target 3, environment 4, anything else 70', () => {
    expect(exitCodeFor(new InvalidArgumentError('bad'))).toBe(EXIT.usage);
    expect(exitCodeFor(new InsufficientSpaceError('full'))).toBe(EXIT.usage);
    expect(exitCodeFor(new IscsiLoginError({ targetName: 'iqn.x', host: '127.0.0.1', port: 3260, status: 0x0203, origin: 'target' }))).toBe(EXIT.unreachable);
    expect(exitCodeFor(new IscsiConnectionError('127.0.0.1', 1, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })))).toBe(EXIT.unreachable);
    expect(exitCodeFor(new VaaiSimError('ERR_LUN_NOT_FOUND', 'no LUN 9'))).toBe(EXIT.unreachable);
    expect(exitCodeFor(new VaaiSimError('ERR_LISTEN', 'in use'))).toBe(EXIT.environment);
    expect(exitCodeFor(Object.assign(new Error('write'), { code: 'EACCES' }))).toBe(EXIT.environment);
    expect(exitCodeFor(new TypeError("Cannot read properties of undefined (reading 'map')"))).toBe(EXIT.internal);
    expect(exitCodeFor('a string')).toBe(EXIT.internal);
    expect(Object.values(EXIT)).toEqual([0, 1, 2, 3, 4, 70]);
  });

  it('prints vaai-sim: <message>, each line prefixed; an internal error says so; the stack only with VAAI_SIM_DEBUG=1', () => {
    expect(describeError(new InvalidArgumentError('a.json: /x: bad\na.json: /y: bad'), {})).toBe('vaai-sim: a.json: /x: bad\nvaai-sim: a.json: /y: bad\n');
    const bug = new TypeError('oops');
    expect(describeError(bug, {})).toBe('vaai-sim: internal error: oops\n  (a defect of vaai-sim: run again with VAAI_SIM_DEBUG=1 for the stack and report it)\n');
    const debug = describeError(bug, { VAAI_SIM_DEBUG: '1' });
    expect(debug.startsWith('vaai-sim: internal error: oops\nTypeError: oops\n    at ')).toBe(true);
  });
});
