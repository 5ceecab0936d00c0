/**
 * The option-checking helpers every public constructor and function builds its checks from: the
 * messages they give are what users read.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StorageArray, VaaiSimError } from '../../src/index.js';
import { checkOneOf, checkOptions, checkPositiveInteger, describeValue, is } from '../../src/common/errors.js';

const TABLE = { count: is.positiveInteger, mode: is.oneOf(['a', 'b']), nested: is.options({ on: is.boolean }, ['on']) };

describe('option checks', () => {
  it('accept what the table allows, undefined values included', () => {
    expect(() => checkOptions({ count: 3, mode: 'b', nested: { on: false } }, TABLE, 'f')).not.toThrow();
    expect(() => checkOptions({ count: undefined }, TABLE, 'f')).not.toThrow();
  });

  it('name the key, the value and what is expected', () => {
    const cases: Array<[unknown, string]> = [
      [{ cnt: 3 }, "f: unknown option 'cnt' (known: count, mode, nested)"],
      [{ count: 0 }, 'f: count must be a positive integer, got 0'],
      [{ count: 2 ** 53 }, 'f: count must be a positive integer, got 9007199254740992'],
      [{ mode: 'c' }, "f: mode must be one of 'a', 'b', got 'c'"],
      [{ nested: {} }, 'f: nested: on is required'],
      [{ nested: { on: 'yes' } }, "f: nested: on must be true or false, got 'yes'"],
      [[1], 'f: options must be an object'],
    ];
    for (const [options, message] of cases) {
      expect(() => checkOptions(options, TABLE, 'f')).toThrow(new InvalidArgumentError(message));
    }
    expect(() => checkOptions({}, TABLE, 'f', ['mode'])).toThrow(new InvalidArgumentError('f: mode is required'));
  });

  it('throw InvalidArgumentError, a VaaiSimError with code ERR_INVALID_ARGUMENT', () => {
    let thrown: unknown;
    try {
      checkPositiveInteger(-1, 'n');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect(thrown).toBeInstanceOf(VaaiSimError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', name: 'InvalidArgumentError', message: 'n must be a positive integer, got -1' });
    expect(checkOneOf(2, [1, 2], 'x')).toBe(2);
    expect(() => checkOneOf(3, [1, 2], 'x')).toThrow(new InvalidArgumentError('x must be one of 1, 2, got 3'));
  });

  it('describe values briefly', () => {
    expect(describeValue('s')).toBe("'s'");
    expect(describeValue(1.5)).toBe('1.5');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
    expect(describeValue({ text: 'x'.repeat(100) })).toBe(`{"text":"${'x'.repeat(48)}...`);
    expect(describeValue(new Uint8Array(4))).toBe('a Uint8Array of 4 bytes');
    expect(describeValue(new StorageArray({ capacityBytes: 1 << 20 }))).toBe('a StorageArray');
    expect(describeValue(() => 1)).toBe('a function');
  });
});
