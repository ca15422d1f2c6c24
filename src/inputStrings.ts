/**
 * What any string a client sends must look like before it may reach a shared
 * store statement or the append-only audit log. Ids are short opaque tokens;
 * other strings (purposes, cursors, redirect URIs, filters) stay well under a
 * kilobyte in any legitimate use.
 */
export const MAX_ID_LENGTH = 128;
export const MAX_STRING_LENGTH = 1024;

// C0 and C1 controls and DEL: no id, purpose or URI needs them, and PostgreSQL refuses NUL in text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// With the u flag a well-formed pair is one code point, so only lone surrogates match.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** Why `value` is not acceptable, or undefined when it is. */
export function stringProblem(value: string, maxLength: number): string | undefined {
  if (value.length > maxLength) return `must be at most ${maxLength} characters long`;
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode';
  return undefined;
}
