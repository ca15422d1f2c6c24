import { CompactSign, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeCheckpoint } from '../../../src/audit/checkpoints.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { runCli, sampleEvents, startAuditGateway, tamper, type AuditGateway } from './auditGateway.js';

// Each case starts a gateway and runs the CLI as a child process (on a PGlite directory): seconds, not milliseconds.
vi.setConfig({ testTimeout: 180_000 });

const INTEGRITY = `{ auditIntegrity { ok eventsChecked firstBadSeq head headSeq checkpointsChecked problemCode problem } }`;

describe.each(STORE_KINDS)('tamper evidence on %s', (kind) => {
  let gw: AuditGateway;
  afterEach(() => gw?.cleanup());

  /** 20 events, signed checkpoints at 10 and 20. */
  async function chainWithCheckpoints(): Promise<AuditGateway> {
    gw = await startAuditGateway(kind);
    const { services } = gw;
    const deps = { db: services.db, keys: services.keys, clock: services.clock, issuer: services.config.issuer };
    await services.auditLog.append(sampleEvents(10));
    await writeCheckpoint(deps);
    await services.auditLog.append(sampleEvents(10, new Date('2026-03-02T09:00:00.000Z')));
    await writeCheckpoint(deps);
    return gw;
  }

  async function integrity(): Promise<Record<string, unknown>> {
    const token = await gw.services.tokens.issueRoleToken('officer-1', ['compliance'], 900);
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: INTEGRITY }),
    });
    const body = (await res.json()) as { data: { auditIntegrity: Record<string, unknown> } };
    return body.data.auditIntegrity;
  }

  /** Both the auditIntegrity query and `consentry audit verify` must point at the same seq. */
  async function expectBrokenAt(seq: string, code: string, output: 'json' | 'human' = 'json'): Promise<void> {
    expect(await integrity()).toMatchObject({ ok: false, firstBadSeq: seq, problemCode: code });
    await gw.stop();
    if (output === 'json') {
      const cli = await runCli(['audit', 'verify', '--json'], gw.cliEnv);
      expect(cli.code).toBe(1);
      expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, problem: { seq, code } });
    } else {
      const cli = await runCli(['audit', 'verify'], gw.cliEnv);
      expect(cli).toMatchObject({ code: 1, stdout: '' });
      expect(cli.stderr).toMatch(new RegExp(`^Audit chain broken at seq ${seq} \\(${code}\\): `));
    }
  }

  it('reports an intact chain with its head and checkpoints', async () => {
    await chainWithCheckpoints();
    const [head] = await gw.services.db.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = 20');
    expect(await integrity()).toEqual({
      ok: true,
      eventsChecked: 20,
      firstBadSeq: null,
      head: head!.hash,
      headSeq: '20',
      checkpointsChecked: 2,
      problemCode: null,
      problem: null,
    });
    await gw.stop();
    const cli = await runCli(['audit', 'verify'], gw.cliEnv);
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    expect(cli.stdout).toBe(`Audit chain intact: 20 events checked, head ${head!.hash} at seq 20, 2 checkpoints checked.\n`);
  });

  it('detects one changed field', async () => {
    await chainWithCheckpoints();
    await tamper(gw.services.db, [`UPDATE audit_events SET released = '["score.value"]' WHERE seq = 7`]);
    await expectBrokenAt('7', 'HASH_MISMATCH', 'human');
  });

  it('detects a deleted event', async () => {
    await chainWithCheckpoints();
    await tamper(gw.services.db, ['DELETE FROM audit_events WHERE seq = 7']);
    await expectBrokenAt('7', 'SEQ_GAP');
  });

  it('detects two swapped events', async () => {
    await chainWithCheckpoints();
    await tamper(
      gw.services.db,
      ['UPDATE audit_events SET seq = -7 WHERE seq = 7'],
      ['UPDATE audit_events SET seq = 7 WHERE seq = 8'],
      ['UPDATE audit_events SET seq = 8 WHERE seq = -7'],
    );
    await expectBrokenAt('7', 'HASH_MISMATCH');
  });

  it('detects a tail cut off after a checkpoint, even with the head row rolled back', async () => {
    await chainWithCheckpoints();
    await tamper(
      gw.services.db,
      ['DELETE FROM audit_events WHERE seq > 15'],
      ['UPDATE audit_head SET seq = 15, hash = (SELECT hash FROM audit_events WHERE seq = 15)'],
    );
    await expectBrokenAt('16', 'TRUNCATED');
  });

  it('detects a checkpoint forged with another key', async () => {
    await chainWithCheckpoints();
    const { privateKey } = await generateKeyPair('ES256');
    const [event] = await gw.services.db.query<{ hash: string }>('SELECT hash FROM audit_events WHERE seq = 12');
    const kid = (await gw.services.keys.signingKey()).kid;
    const payload = { seq: '12', headHash: event!.hash, at: new Date().toISOString(), issuer: gw.services.config.issuer };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'audit-checkpoint+jws' })
      .sign(privateKey);
    // Inserting needs no bypass: the table is append-only, not closed.
    await gw.services.db.query('INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws) VALUES (12, $1, now(), $2, $3)', [
      event!.hash,
      kid,
      jws,
    ]);
    await expectBrokenAt('12', 'CHECKPOINT_SIGNATURE');
  });

  it('detects a chain rewritten consistently after one change, through the signed checkpoint', async () => {
    await chainWithCheckpoints();
    // Recompute every hash from seq 5 on, as an attacker who knows the algorithm would; only the checkpoint at 10 catches it.
    const { linkEvents } = await import('../../../src/audit/chain.js');
    const { readEventPage } = await import('../../../src/audit/storedEvents.js');
    const original = await readEventPage(gw.services.db, { afterSeq: '4', limit: 100 });
    const before = (await readEventPage(gw.services.db, { afterSeq: '3', limit: 1 }))[0]!;
    const inputs = original.map((e, i) => ({
      ...e,
      at: new Date(e.at),
      purpose: i === 0 ? 'fraud_prevention' : e.purpose,
    }));
    const rewritten = linkEvents(inputs, { seq: 4n, hash: before.hash });
    await tamper(
      gw.services.db,
      ['DELETE FROM audit_events WHERE seq > 4'],
      ...rewritten.map(
        (e) =>
          [
            `INSERT INTO audit_events (seq, at, kind, actor_type, actor_id, partner_id, subject_id, purpose, request_id, released, denied, consent_ids, details, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
            [e.seq, e.at, e.kind, e.actorType, e.actorId, e.partnerId, e.subjectId, e.purpose, e.requestId, JSON.stringify(e.released), JSON.stringify(e.denied), JSON.stringify(e.consentIds), JSON.stringify(e.details), e.prevHash, e.hash],
          ] as [string, unknown[]],
      ),
      ['UPDATE audit_head SET hash = $1', [rewritten.at(-1)!.hash]],
    );
    await expectBrokenAt('10', 'CHECKPOINT_MISMATCH');
  });
});

describe.each(STORE_KINDS)('the append-only trigger on %s', (kind) => {
  let gw: AuditGateway;
  afterEach(() => gw?.cleanup());

  it('refuses UPDATE, DELETE and TRUNCATE from the application', async () => {
    gw = await startAuditGateway(kind);
    const { db, auditLog } = gw.services;
    await auditLog.append(sampleEvents(3));
    await writeCheckpoint({ db, keys: gw.services.keys, clock: gw.services.clock, issuer: gw.services.config.issuer });
    await expect(db.query(`UPDATE audit_events SET purpose = 'fraud_prevention' WHERE seq = 2`)).rejects.toThrow(/append-only: UPDATE on audit_events/);
    await expect(db.query('DELETE FROM audit_events WHERE seq = 2')).rejects.toThrow(/append-only: DELETE on audit_events/);
    await expect(db.query('TRUNCATE audit_events')).rejects.toThrow(/append-only: TRUNCATE on audit_events/);
    await expect(db.query('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only: DELETE on audit_checkpoints/);
    await expect(db.query(`UPDATE audit_checkpoints SET head_hash = 'x'`)).rejects.toThrow(/append-only: UPDATE on audit_checkpoints/);
    const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')) as [{ n: number }];
    expect(n).toBe(3);
  });
});
