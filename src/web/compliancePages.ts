import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { exportAudit, type ExportFormat } from '../audit/auditExport.js';
import { decodeSeqCursor, encodeSeqCursor, type AuditEventFilter } from '../audit/auditFilter.js';
import { latestCheckpoint } from '../audit/checkpoints.js';
import { decisionsPerDay, denials, sumCounts } from '../audit/decisionStats.js';
import { flagsSince } from '../audit/probing.js';
import { readChainHead, readEventPage } from '../audit/storedEvents.js';
import { verifyStoredChain } from '../audit/verifyStoredChain.js';
import { hasRole } from '../auth/principal.js';
import { BadUserInputError, isConsentryError } from '../errors.js';
import type { Services } from '../services.js';
import { daysBetween } from './complianceChart.js';
import { complianceBody, FILTER_FIELDS, type ComplianceDashboard, type FilterForm } from './complianceView.js';
import { html, page, type SafeHtml } from './html.js';
import type { WebDeps } from './webDeps.js';
import type { WebSession } from './session.js';
import { withPageHeaders } from './pageReply.js';

const CHART_DAYS = 14;
const EVENTS_PER_PAGE = 50;

/**
 * The compliance officers' page: decisions over time, denials, flagged
 * partners, chain status, the filterable event list and its exports. Every
 * route requires a session with the compliance role; nothing here changes
 * state, so plain GETs need no CSRF token.
 */
export function registerCompliancePages(app: FastifyInstance, { services }: WebDeps): void {
  const officerSession = async (request: FastifyRequest, reply: FastifyReply): Promise<WebSession | undefined> => {
    const { session } = request.page;
    if (!session) {
      const next = encodeURIComponent(request.url).replace(/%2F/g, '/');
      await reply.redirect(`/signin?next=${next}`, 302);
      return undefined;
    }
    if (!hasRole(session.principal, 'compliance')) {
      await send(reply, 403, 'Not allowed', html`<h1>Not allowed</h1><p>This page is for compliance officers. You are signed in without that role.</p>`, session);
      return undefined;
    }
    return session;
  };

  app.get('/compliance', async (request, reply) => {
    const session = await officerSession(request, reply);
    if (!session) return reply;
    const query = request.query as Record<string, unknown>;
    const form = filterForm(query);
    const dashboard = await loadDashboard(services, form, str(query.after), query.verify === '1');
    return send(reply, 200, 'Compliance', complianceBody(dashboard), session);
  });

  for (const format of ['csv', 'ndjson'] as const) {
    app.get(`/compliance/export.${format}`, async (request, reply) => {
      const session = await officerSession(request, reply);
      if (!session) return reply;
      let filter: AuditEventFilter;
      try {
        filter = filterOf(filterForm(request.query as Record<string, unknown>));
      } catch (err) {
        if (!isConsentryError(err)) throw err;
        return reply.code(400).type('text/plain').send(err.message);
      }
      const stamp = services.clock().toISOString().replace(/[:.]/g, '-');
      const chunks = exportAudit(services.db, { format: format as ExportFormat, filter, issuer: services.config.issuer, now: services.clock() });
      // A stream: Fastify pipes it with backpressure, so a large export never sits in memory.
      return reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="consentry-audit-${stamp}.${format}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(chunks));
    });
  }
}

async function loadDashboard(services: Services, form: FilterForm, after: string | undefined, verify: boolean): Promise<ComplianceDashboard> {
  const { db } = services;
  const now = services.clock();
  const chartFrom = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (CHART_DAYS - 1) * 86_400_000);
  const period = { from: chartFrom.toISOString(), to: now.toISOString() };
  let filter: AuditEventFilter = {};
  let filterError: string | undefined;
  let afterSeq: string | undefined;
  try {
    filter = filterOf(form);
    afterSeq = decodeSeqCursor(after);
  } catch (err) {
    if (!isConsentryError(err)) throw err;
    filterError = err.message;
  }
  const [perDay, denied, flags, head, latest, page] = await Promise.all([
    decisionsPerDay(db, period),
    denials(db, period),
    flagsSince(db, chartFrom),
    readChainHead(db),
    latestCheckpoint(db),
    filterError ? Promise.resolve([]) : readEventPage(db, { filter, afterSeq, hideErased: true, limit: EVENTS_PER_PAGE + 1 }),
  ]);
  const events = page.slice(0, EVENTS_PER_PAGE);
  const filterQuery = new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => !!e[1])).toString();
  return {
    days: daysBetween(chartFrom, now),
    perDay,
    topDenialCodes: sumCounts(denied, (d) => d.code).slice(0, 5),
    flags,
    chain: { head, latest, verification: verify ? await verifyStoredChain(services) : undefined },
    form,
    filterError,
    events,
    filterQuery,
    after,
    nextCursor: page.length > EVENTS_PER_PAGE ? encodeSeqCursor(events.at(-1)!.seq) : undefined,
  };
}

function filterForm(query: Record<string, unknown>): FilterForm {
  const form: FilterForm = {};
  for (const name of FILTER_FIELDS) {
    const value = str(query[name])?.trim();
    if (value) form[name] = value;
  }
  return form;
}

/** Form values to the audit filter; a datetime-local value without a zone is read as UTC, as the labels say. */
function filterOf(form: FilterForm): AuditEventFilter {
  const utc = (v: string | undefined) => (v && !/(Z|[+-]\d\d:\d\d)$/.test(v) ? `${v}Z` : v);
  const decision = form.decision === 'RELEASED' || form.decision === 'DENIED' ? form.decision : undefined;
  const filter: AuditEventFilter = {
    partnerId: form.partner,
    subjectId: form.subject,
    kind: form.kind,
    decision,
    denialCode: form.code,
    purpose: form.purpose,
    category: form.category,
    from: utc(form.from),
    to: utc(form.to),
  };
  // Validates the times now, so a bad one is a message on the page rather than a failed query.
  for (const [name, value] of [['From', filter.from], ['To', filter.to]] as const) {
    if (value && Number.isNaN(new Date(value).getTime())) {
      throw new BadUserInputError(`${name} is not a date and time.`);
    }
  }
  return filter;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function send(reply: FastifyReply, status: number, title: string, body: SafeHtml, session: WebSession): FastifyReply {
  const nav = html`<a href="/compliance">Compliance</a><form method="post" action="/signout"><input type="hidden" name="csrf" value="${session.csrfToken}"><button class="link-button" type="submit">Sign out</button></form>`;
  return withPageHeaders(reply.code(status), { formsStayOnSite: true }).send(page({ title, lang: 'en', body, nav }));
}
