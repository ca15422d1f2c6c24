import type { AccessLogPage } from '../consent/accessLog.js';
import type { ReceiptClaims } from '../consent/receipts.js';
import type { ConsentStatus } from '../consent/subjectConsents.js';
import type { ConsentRequestRecord } from '../consent/consentRequests.js';
import type { ConsentRecord } from '../consent/subjectConsents.js';
import { html, type SafeHtml } from './html.js';
import { joinList, type Lang, type Messages } from './i18n.js';
import type { RegistryText } from './registryText.js';

export interface ConsentRow {
  consent: ConsentRecord;
  status: ConsentStatus;
  partnerName: string;
}

export interface PendingRequestRow {
  request: ConsentRequestRecord;
  partnerName: string;
}

export interface MyDataModel {
  lang: Lang;
  m: Messages;
  text: RegistryText;
  subjectId: string;
  pending: PendingRequestRow[];
  active: ConsentRow[];
  past: ConsentRow[];
  accessLog: AccessLogPage;
  /** Set when showing an older page of the access log. */
  olderPage: boolean;
  notice?: string;
}

const categoryList = (model: { lang: Lang; text: RegistryText }, categories: readonly string[]) =>
  joinList(model.lang, categories.map((c) => model.text.categoryTitle(c)));

export function myDataBody(model: MyDataModel): SafeHtml {
  const { m } = model;
  return html`
    <h1>${m.meTitle}</h1>
    <p class="muted">${m.signedInAs(model.subjectId)}</p>
    ${model.notice ? html`<p class="notice" role="status">${model.notice}</p>` : ''}
    ${model.pending.length ? pendingSection(model) : ''}
    <section aria-labelledby="active-consents">
      <h2 id="active-consents">${m.activeConsents}</h2>
      ${model.active.length ? consentTable(model, model.active, true) : html`<p>${m.noActiveConsents}</p>`}
    </section>
    <section aria-labelledby="access-log">
      <h2 id="access-log">${m.accessLogTitle}</h2>
      <p class="muted">${m.accessLogIntro}</p>
      ${accessLogTable(model)}
    </section>
    <section aria-labelledby="past-consents">
      <h2 id="past-consents">${m.pastConsents}</h2>
      ${model.past.length ? consentTable(model, model.past, false) : html`<p>${m.noPastConsents}</p>`}
    </section>
    <section aria-labelledby="my-record">
      <h2 id="my-record">${m.recordTitle}</h2>
      <p class="muted">${m.recordIntro}</p>
      <p class="actions">
        <a class="button" href="/me/record.json" download>${m.downloadJson}</a>
        <a class="button secondary" href="/me/record.csv" download>${m.downloadCsv}</a>
        <a class="button danger" href="/me/erase">${m.eraseLink}</a>
      </p>
    </section>`;
}

export function eraseConfirmBody(model: { m: Messages; csrfToken: string }): SafeHtml {
  const { m } = model;
  return html`
    <h1>${m.eraseTitle}</h1>
    <ul class="panel">${m.eraseWillDo.map((line) => html`<li>${line}</li>`)}</ul>
    <p><strong>${m.eraseConfirmHelp}</strong> <a href="/me/record.json" download>${m.downloadJson}</a></p>
    <form method="post" action="/me/erase">
      <input type="hidden" name="csrf" value="${model.csrfToken}">
      <div class="actions">
        <button type="submit" class="danger">${m.confirmErase}</button>
        <a class="button secondary" href="/me">${m.cancel}</a>
      </div>
    </form>`;
}

function pendingSection(model: MyDataModel): SafeHtml {
  const { m, text } = model;
  return html`<section aria-labelledby="pending-requests">
    <h2 id="pending-requests">${m.pendingRequests}</h2>
    <p class="muted">${m.pendingIntro}</p>
    <table>
      <thead><tr><th scope="col">${m.partner}</th><th scope="col">${m.purpose}</th><th scope="col">${m.categories}</th>
        <th scope="col">${m.lapses}</th><th scope="col"><span class="visually-hidden">${m.review}</span></th></tr></thead>
      <tbody>${model.pending.map(
        ({ request: r, partnerName }) => html`<tr>
          <td>${partnerName}</td>
          <td>${text.purposeTitle(r.purpose)}</td>
          <td>${categoryList(model, r.categories)}</td>
          <td>${m.formatDate(r.expiresAt)}</td>
          <td><a class="button" href="/consent/${r.id}" aria-label="${m.reviewRequest(partnerName)}">${m.review}</a></td>
        </tr>`,
      )}</tbody>
    </table>
  </section>`;
}

function consentTable(model: MyDataModel, rows: ConsentRow[], active: boolean): SafeHtml {
  const { m, text } = model;
  return html`<table>
    <thead><tr><th scope="col">${m.partner}</th><th scope="col">${m.purpose}</th><th scope="col">${m.categories}</th>
      <th scope="col">${m.granted}</th><th scope="col">${active ? m.expires : m.ended}</th>${active ? '' : html`<th scope="col">${m.status}</th>`}<th scope="col"><span class="visually-hidden">${m.receipt}</span></th></tr></thead>
    <tbody>${rows.map(
      ({ consent: c, status, partnerName }) => html`<tr>
        <td>${partnerName}</td>
        <td>${text.purposeTitle(c.purpose)}</td>
        <td>${categoryList(model, c.categories)}</td>
        <td>${m.formatDate(c.grantedAt)}</td>
        <td>${m.formatDate(active ? c.expiresAt : (c.revokedAt ?? c.expiresAt))}</td>
        ${active ? '' : html`<td>${m.consentStatus[status]}</td>`}
        <td><a href="/me/receipts/${c.id}">${m.viewReceipt}</a>
          ${active ? html` <a class="button secondary" href="/me/consents/${c.id}/revoke" aria-label="${m.revokeFor(partnerName, text.purposeTitle(c.purpose))}">${m.revoke}</a>` : ''}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

function accessLogTable(model: MyDataModel): SafeHtml {
  const { m, text, accessLog } = model;
  const list = (categories: string[]) => (categories.length ? categoryList(model, categories) : m.nothing);
  const rows = accessLog.edges.map(
    ({ node: e }) => html`<tr>
      <td>${m.formatDate(e.at)}</td><td>${e.partnerName ?? e.partnerId}</td><td>${text.purposeTitle(e.purpose)}</td>
      <td class="ok">${list(e.released)}</td><td>${list(e.denied)}</td></tr>`,
  );
  const pager = html`<p class="actions">
    ${model.olderPage ? html`<a href="/me#access-log">${m.newestEntries}</a>` : ''}
    ${accessLog.pageInfo.hasNextPage && accessLog.pageInfo.endCursor
      ? html`<a href="/me?after=${encodeURIComponent(accessLog.pageInfo.endCursor)}#access-log">${m.olderEntries}</a>`
      : ''}</p>`;
  if (!rows.length) return html`<p>${m.accessLogEmpty}</p>${pager}`;
  return html`<table>
    <thead><tr><th scope="col">${m.when}</th><th scope="col">${m.partner}</th><th scope="col">${m.purpose}</th><th scope="col">${m.released}</th><th scope="col">${m.denied}</th></tr></thead>
    <tbody>${rows}</tbody></table>${pager}`;
}

export function revokeConfirmBody(model: { lang: Lang; m: Messages; text: RegistryText; consent: ConsentRecord; partnerName: string; csrfToken: string }): SafeHtml {
  const { m, text, consent } = model;
  return html`
    <h1>${m.revokeTitle}</h1>
    <p class="panel"><strong>${m.revokeConsequence(model.partnerName, categoryList(model, consent.categories), text.purposeTitle(consent.purpose))}</strong></p>
    <p>${m.revokeKeeps}</p>
    <form method="post" action="/me/consents/${consent.id}/revoke">
      <input type="hidden" name="csrf" value="${model.csrfToken}">
      <div class="actions">
        <button type="submit" class="danger">${m.confirmRevoke}</button>
        <a class="button secondary" href="/me">${m.cancel}</a>
      </div>
    </form>`;
}

export function receiptBody(model: { lang: Lang; m: Messages; text: RegistryText; consent: ConsentRecord; claims: ReceiptClaims; kid: string }): SafeHtml {
  const { m, text, consent, claims } = model;
  return html`
    <h1>${m.receiptTitle}</h1>
    <p class="notice" role="status">${m.receiptValid} ${m.receiptSignedBy(model.kid)}</p>
    <dl class="facts">
      <dt>${m.consentId}</dt><dd>${claims.consentId}</dd>
      <dt>${m.partner}</dt><dd>${claims.partner.name}</dd>
      <dt>${m.purpose}</dt><dd>${text.purposeTitle(claims.purpose)}</dd>
      <dt>${m.categories}</dt><dd>${categoryList(model, claims.categories)}</dd>
      <dt>${m.granted}</dt><dd>${m.formatDate(new Date(claims.grantedAt))}</dd>
      <dt>${m.expires}</dt><dd>${m.formatDate(new Date(claims.expiresAt))}</dd>
    </dl>
    <p>${m.receiptIntro}</p>
    <p><a class="button" href="/me/receipts/${consent.id}/download" download="consent-${consent.id}.jws">${m.receiptDownload}</a></p>
    <pre class="receipt">${consent.receipt}</pre>`;
}
