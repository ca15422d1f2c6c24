/**
 * The canonical encoding the audit hash chain is computed over (documented in
 * docs/audit-chain.md so anyone can recompute it): JSON with object keys sorted
 * by UTF-16 code units at every depth, no insignificant white space, arrays in
 * their order, `undefined` members dropped. Equivalent to RFC 8785 (JCS) for
 * the values the log holds: strings, integers, booleans, null, arrays, objects.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new TypeError('the audit log stores only integers; encode other numbers as strings');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
