import type { ConsentRequestRecord } from '../consent/consentRequests.js';
import type { PartnerProfile } from '../partners/partnerDirectory.js';
import { html, type SafeHtml } from './html.js';
import type { Messages } from './i18n.js';
import type { RegistryText } from './registryText.js';

export interface ConsentPageModel {
  request: ConsentRequestRecord;
  partner: PartnerProfile;
  text: RegistryText;
  m: Messages;
  csrfToken: string;
  /** Categories to show ticked (all of them on first view; the subject's choice after an error). */
  ticked: readonly string[];
  error?: string;
}

/**
 * The approval page: who asks, why, what each category reveals, for how long,
 * when the request lapses and how to withdraw later (the disclosures PIPL
 * Art. 23 and the CDR consent rules ask for), then a choice per category.
 */
export function consentPageBody(model: ConsentPageModel): SafeHtml {
  const { request, partner, text, m } = model;
  return html`
    <h1>${m.consentTitle(partner.name)}</h1>
    <p>${m.consentIntro(partner.name)}</p>
    <section class="panel" aria-labelledby="about-partner">
      <h2 id="about-partner">${m.aboutPartner}</h2>
      <dl class="facts">
        <dt>${m.partnerName}</dt><dd>${partner.name}</dd>
        <dt>${m.industry}</dt><dd>${m.industryName(partner.industry)}</dd>
        <dt>${m.contact}</dt><dd>${partner.contact ?? m.contactNone}</dd>
        <dt>${m.purpose}</dt><dd>${text.purposeTitle(request.purpose)}</dd>
        <dt>${m.duration}</dt><dd>${m.durationValue(request.durationDays)}</dd>
      </dl>
    </section>
    ${model.error ? html`<p class="error" role="alert" id="form-error">${model.error}</p>` : ''}
    ${request.status === 'PENDING' ? decisionForm(model) : decidedSummary(model)}`;
}

function decisionForm(model: ConsentPageModel): SafeHtml {
  const { request, text, m } = model;
  return html`
    <form method="post" action="/consent/${request.id}">
      <input type="hidden" name="csrf" value="${model.csrfToken}">
      <fieldset aria-describedby="categories-help">
        <legend>${m.categoriesLegend}</legend>
        <p class="muted" id="categories-help">${m.categoriesHelp}</p>
        ${request.categories.map(
          (c, i) => html`<div class="choice">
            <input type="checkbox" id="category-${i}" name="categories" value="${c}" aria-describedby="category-${i}-reveals"${model.ticked.includes(c) ? html` checked` : ''}>
            <label for="category-${i}"><strong>${text.categoryTitle(c)}</strong>
              <span class="reveals" id="category-${i}-reveals">${text.categoryReveals(c)}</span></label>
          </div>`,
        )}
      </fieldset>
      <p>${m.requestExpires(m.formatDate(request.expiresAt))}</p>
      <p>${m.withdrawLater} <a href="/me">${m.withdrawLaterLink}</a>.</p>
      <div class="actions">
        <button type="submit" name="decision" value="approve">${m.approve}</button>
        <button type="submit" name="decision" value="decline" class="secondary">${m.decline}</button>
      </div>
    </form>`;
}

function decidedSummary(model: ConsentPageModel): SafeHtml {
  const { request, text, m } = model;
  const status = request.status as keyof Messages['requestStatus'];
  return html`
    <p class="notice" role="status">${m.requestStatus[status]}</p>
    <h2>${m.categoriesLegend}</h2>
    <ul>${request.categories.map((c) => html`<li><strong>${text.categoryTitle(c)}</strong> — ${text.categoryReveals(c)}</li>`)}</ul>
    <p>${m.withdrawLater} <a href="/me">${m.withdrawLaterLink}</a>.</p>`;
}

/** Shown after a decision when the partner registered no page to return to. */
export function decisionResultBody(m: Messages, partner: PartnerProfile, outcome: 'approved' | 'declined'): SafeHtml {
  return html`
    <h1>${m.resultTitle}</h1>
    <p class="notice" role="status">${outcome === 'approved' ? m.resultApproved(partner.name) : m.resultDeclined(partner.name)}</p>
    <p>${m.withdrawLater} <a href="/me">${m.withdrawLaterLink}</a>.</p>`;
}
