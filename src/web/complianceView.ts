import { actorOf } from '../audit/auditExport.js';
import type { AuditEvent } from '../audit/chain.js';
import type { StoredCheckpoint } from '../audit/checkpoints.js';
import type { DayDecisions } from '../audit/decisionStats.js';
import type { PartnerFlag } from '../audit/probing.js';
import type { ChainVerification } from '../audit/verifyChain.js';
import { CHART_STYLE, decisionsChart } from './complianceChart.js';
import { SafeHtml, html } from './html.js';

/** The filter form's fields, as typed (query parameter names). */
export const FILTER_FIELDS = ['partner', 'subject', 'kind', 'decision', 'code', 'purpose', 'category', 'from', 'to'] as const;
export type FilterForm = Partial<Record<(typeof FILTER_FIELDS)[number], string>>;

export interface ComplianceDashboard {
  days: string[];
  perDay: DayDecisions[];
  topDenialCodes: { key: string; count: number }[];
  flags: PartnerFlag[];
  chain: { head: { seq: string; hash: string }; latest?: StoredCheckpoint; verification?: ChainVerification };
  form: FilterForm;
  filterError?: string;
  events: AuditEvent[];
  /** Query string (without `after`) of the current filters. */
  filterQuery: string;
  after?: string;
  nextCursor?: string;
}

const PAGE_STYLE = html`<style>
${CHART_STYLE}
main { max-width: 80rem; }
.grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap:1rem; }
.grid .panel { margin:0; }
form.filters { display:grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap:.6rem 1rem; align-items:end; }
form.filters .field { display:flex; flex-direction:column; font-size:.9rem; gap:.2rem; }
.actions { display:flex; gap:.75rem; flex-wrap:wrap; margin:.75rem 0; }
table.events { font-size:.85rem; }
table.events td.hash { font-family: ui-monospace, monospace; font-size:.75rem; }
.pager { display:flex; gap:1rem; margin-top:.75rem; }
header nav form { display:inline; }
header nav .link-button { background:none; border:0; color:var(--accent); text-decoration:underline; padding:0; margin-left:1rem; font:inherit; cursor:pointer; }
code.hash { word-break: break-all; }
</style>`;

export function complianceBody(d: ComplianceDashboard): SafeHtml {
  return html`${PAGE_STYLE}
<h1>Compliance</h1>
<section aria-labelledby="decisions-heading" class="panel">
  <h2 id="decisions-heading">Decisions over time</h2>
  ${decisionsChart(d.perDay, d.days)}
</section>
<div class="grid">
  ${denialCodesPanel(d.topDenialCodes)}
  ${flagsPanel(d.flags)}
  ${chainPanel(d.chain)}
</div>
${eventsSection(d)}`;
}

function denialCodesPanel(codes: ComplianceDashboard['topDenialCodes']): SafeHtml {
  return html`<section class="panel" aria-labelledby="codes-heading"><h2 id="codes-heading">Top denial codes</h2>
${codes.length ? html`<table><thead><tr><th scope="col">Code</th><th scope="col">Denied categories</th></tr></thead><tbody>${codes.map((c) => html`<tr><td><a href="/compliance?code=${encodeURIComponent(c.key)}">${c.key}</a></td><td>${c.count}</td></tr>`)}</tbody></table>` : html`<p class="muted">No denials in this period.</p>`}
</section>`;
}

function flagsPanel(flags: PartnerFlag[]): SafeHtml {
  return html`<section class="panel" aria-labelledby="flags-heading"><h2 id="flags-heading">Flagged partners</h2>
${flags.length ? html`<table><thead><tr><th scope="col">Partner</th><th scope="col">Why</th><th scope="col">Flagged at</th></tr></thead><tbody>${flags.map((f) => html`<tr><td><a href="/compliance?partner=${encodeURIComponent(f.partnerId)}">${f.partnerId}</a></td><td>${f.reasons.map(reasonText).join('; ')}</td><td>${f.at}</td></tr>`)}</tbody></table>` : html`<p class="muted">No partner was flagged for probing in this period.</p>`}
</section>`;
}

function reasonText(reason: string): string {
  return reason === 'DENIAL_RATE' ? 'denial rate over the limit' : reason === 'NON_CONSENTING_SUBJECTS' ? 'too many non-consenting subjects' : reason;
}

function chainPanel(chain: ComplianceDashboard['chain']): SafeHtml {
  const v = chain.verification;
  const status = !v
    ? html`<p>Not verified on this view. <a class="button secondary" href="/compliance?verify=1">Verify the whole chain now</a></p>`
    : v.ok
      ? html`<p class="ok" role="status"><strong>Intact</strong>: ${v.eventsChecked} events and ${v.checkpointsChecked} checkpoints verified.</p>`
      : html`<p class="bad" role="alert"><strong>Broken at seq ${v.problem!.seq}</strong> (${v.problem!.code}): ${v.problem!.message}</p>`;
  const cp = chain.latest;
  return html`<section class="panel" aria-labelledby="chain-heading"><h2 id="chain-heading">Chain status</h2>
${status}
<dl><dt>Head</dt><dd>seq ${chain.head.seq}, <code class="hash">${chain.head.hash}</code></dd>
<dt>Latest signed checkpoint</dt><dd>${cp ? html`seq ${cp.seq} at ${cp.at} (key ${cp.kid})` : 'none yet'}</dd></dl>
</section>`;
}

const DECISIONS = ['', 'RELEASED', 'DENIED'];

function eventsSection(d: ComplianceDashboard): SafeHtml {
  const f = d.form;
  const text = (name: keyof FilterForm, label: string, type = 'text') =>
    html`<div class="field"><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" value="${f[name] ?? ''}"></div>`;
  const exportQuery = d.filterQuery ? `?${d.filterQuery}` : '';
  return html`<section aria-labelledby="events-heading">
<h2 id="events-heading">Audit events</h2>
<form class="filters" method="get" action="/compliance" role="search" aria-label="Filter audit events">
  ${text('partner', 'Partner')}${text('subject', 'Subject')}${text('kind', 'Kind')}
  <div class="field"><label for="f-decision">Decision</label><select id="f-decision" name="decision">${DECISIONS.map((v) => html`<option value="${v}"${v === (f.decision ?? '') ? new SafeHtml(' selected') : ''}>${v || 'any'}</option>`)}</select></div>
  ${text('code', 'Denial code')}${text('purpose', 'Purpose')}${text('category', 'Category')}
  ${text('from', 'From (UTC)', 'datetime-local')}${text('to', 'To (UTC)', 'datetime-local')}
  <div class="actions"><button type="submit">Filter</button><a class="button secondary" href="/compliance">Clear</a></div>
</form>
${d.filterError ? html`<p class="error" role="alert">${d.filterError}</p>` : ''}
<div class="actions">
  <a class="button secondary" id="export-csv" href="/compliance/export.csv${exportQuery}" download>Export CSV</a>
  <a class="button secondary" id="export-ndjson" href="/compliance/export.ndjson${exportQuery}" download>Export NDJSON (verifiable)</a>
</div>
<table class="events">
<caption class="muted">${d.events.length ? `Events ${d.events[0]!.seq} to ${d.events.at(-1)!.seq}, oldest first` : 'No events match these filters.'}</caption>
<thead><tr><th scope="col">Seq</th><th scope="col">At</th><th scope="col">Kind</th><th scope="col">Actor</th><th scope="col">Partner</th><th scope="col">Subject</th><th scope="col">Purpose</th><th scope="col">Released</th><th scope="col">Denied</th><th scope="col">Hash</th></tr></thead>
<tbody>${d.events.map(
    (e) =>
      html`<tr><td>${e.seq}</td><td>${e.at}</td><td>${e.kind}</td><td>${actorOf(e)}</td><td>${e.partnerId}</td><td>${e.subjectId}</td><td>${e.purpose}</td><td>${e.released.join(', ')}</td><td>${e.denied.map((x) => `${x.category} (${x.code})`).join(', ')}</td><td class="hash" title="${e.hash}">${e.hash.slice(0, 12)}…</td></tr>`,
  )}</tbody>
</table>
<nav class="pager" aria-label="Event pages">
  ${d.after ? html`<a href="/compliance${exportQuery}">First page</a>` : ''}
  ${d.nextCursor ? html`<a rel="next" href="/compliance?${d.filterQuery ? `${d.filterQuery}&` : ''}after=${encodeURIComponent(d.nextCursor)}">Next page</a>` : ''}
</nav>
</section>`;
}
