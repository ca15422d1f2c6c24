import { UsageError } from './output.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Parses "30s", "15m", "2h", "7d" into seconds, refusing anything above `maxSeconds`. */
export function parseDuration(text: string, maxSeconds: number, flag = '--ttl'): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} must be a number followed by s, m, h or d (e.g. 30s, 15m, 2h, 7d), got "${text}"`);
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (seconds < 1) throw new UsageError(`${flag} must be at least 1s, got "${text}"`);
  if (seconds > maxSeconds) throw new UsageError(`${flag} must be at most ${formatDuration(maxSeconds)}, got "${text}"`);
  return seconds;
}

/** The largest whole unit that divides the seconds: 2592000 → "30d". */
export function formatDuration(seconds: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  }
  return `${seconds}s`;
}
