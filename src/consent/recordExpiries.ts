import type { Services } from '../services.js';

/**
 * Records `consent.expired` for consents found expired at decision time.
 * Marking and auditing happen in one transaction, and only consents not yet
 * marked are audited, so racing requests record each expiry once.
 */
export async function recordConsentExpiries(
  services: Pick<Services, 'db' | 'auditLog' | 'pseudonyms'>,
  consentIds: readonly string[],
  now: Date,
): Promise<void> {
  await services.auditLog.transaction(async (tx, record) => {
    // The subject's key comes back with the update: this runs on the partner request path, which gets no extra round trip.
    const expired = await tx.query<{
      id: string;
      subject_id: string;
      subject_key: string | null;
      partner_id: string;
      purpose: string;
      expires_at: Date;
      categories: string[];
    }>(
      `UPDATE consents SET expiry_recorded_at = $2
       WHERE id = ANY($1::uuid[]) AND expiry_recorded_at IS NULL AND revoked_at IS NULL AND expires_at <= $2
       RETURNING id, subject_id, partner_id, purpose, expires_at, categories,
         (SELECT encode(k.key, 'hex') FROM subject_keys k WHERE k.subject_id = consents.subject_id) AS subject_key`,
      [consentIds, now],
    );
    await record(
      expired.map((c) => ({
        kind: 'consent.expired',
        at: now,
        actorType: 'system' as const,
        actorId: null,
        partnerId: c.partner_id,
        subjectId: services.pseudonyms.of(c.subject_id, c.subject_key),
        purpose: c.purpose,
        consentIds: [c.id],
        details: { categories: c.categories, expiredAt: new Date(c.expires_at).toISOString() },
      })),
    );
  });
}
