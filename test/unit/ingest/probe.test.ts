import { describe, expect, it } from 'vitest';
import { parseRate } from '../../../src/ingest/probe.js';

describe('parseRate', () => {
  it('divides ffprobe fractions', () => {
    expect(parseRate('30000/1001')).toBeCloseTo(29.97003, 4);
    expect(parseRate('25/1')).toBe(25);
    expect(parseRate('1/2')).toBe(0.5);
  });

  it('reads a plain number', () => {
    expect(parseRate('24')).toBe(24);
    expect(parseRate('12.5')).toBe(12.5);
  });

  it.each([[undefined], [''], ['0/0'], ['25/0'], ['abc'], ['x/1'], ['-30/1'], ['0/1'], ['1000/1'], ['90000/1']])(
    'returns 0 for unknown or implausible rate %j',
    (rate) => {
      expect(parseRate(rate)).toBe(0);
    },
  );
});
