import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/cli/duration.js';

const THIRTY_DAYS = 30 * 86_400;

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['2h', 7200],
    ['7d', 604_800],
    ['30d', THIRTY_DAYS],
    [' 1h ', 3600],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text, THIRTY_DAYS)).toBe(seconds);
  });

  it.each([
    ['2x', '--ttl must be a number followed by s, m, h or d (e.g. 30s, 15m, 2h, 7d), got "2x"'],
    ['15', '--ttl must be a number followed by s, m, h or d (e.g. 30s, 15m, 2h, 7d), got "15"'],
    ['-5m', '--ttl must be a number followed by s, m, h or d (e.g. 30s, 15m, 2h, 7d), got "-5m"'],
    ['1.5h', '--ttl must be a number followed by s, m, h or d (e.g. 30s, 15m, 2h, 7d), got "1.5h"'],
    ['0s', '--ttl must be at least 1s, got "0s"'],
    ['31d', '--ttl must be at most 30d, got "31d"'],
    ['721h', '--ttl must be at most 30d, got "721h"'],
  ])('refuses %s', (text, message) => {
    expect(() => parseDuration(text, THIRTY_DAYS)).toThrow(message);
  });

  it.each([
    [THIRTY_DAYS, '30d'],
    [7200, '2h'],
    [90, '90s'],
    [120, '2m'],
  ])('formats %i seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
