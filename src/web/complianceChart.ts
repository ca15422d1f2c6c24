import type { DayDecisions } from '../audit/decisionStats.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 640;
const PANEL_HEIGHT = 96;
const LEFT = 44;
const MAX_PARTNERS = 6;

/**
 * Decisions over time, one small panel per partner (the busiest first):
 * released and denied access events per UTC day as paired bars. Server-side
 * SVG: no script, readable by screen readers through its title, description
 * and the data table that follows it.
 */
export function decisionsChart(rows: readonly DayDecisions[], days: readonly string[]): SafeHtml {
  const byPartner = new Map<string, Map<string, DayDecisions>>();
  for (const r of rows) {
    if (!byPartner.has(r.partnerId)) byPartner.set(r.partnerId, new Map());
    byPartner.get(r.partnerId)!.set(r.day, r);
  }
  const total = (m: Map<string, DayDecisions>) => [...m.values()].reduce((n, d) => n + d.accessEvents, 0);
  const partners = [...byPartner].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_PARTNERS);
  if (!partners.length) return html`<p class="muted">No access decisions in this period.</p>`;

  const max = Math.max(1, ...rows.map((r) => Math.max(r.releasedEvents, r.deniedEvents)));
  const step = (WIDTH - LEFT - 8) / days.length;
  const bar = Math.max(1, Math.min(12, step / 2 - 1));
  const height = partners.length * PANEL_HEIGHT + 24;
  const y = (n: number) => Math.round((n / max) * (PANEL_HEIGHT - 34));

  const panels = partners.map(([partnerId, perDay], p) => {
    const top = p * PANEL_HEIGHT;
    const base = top + PANEL_HEIGHT - 12;
    const bars = days.map((day, i) => {
      const d = perDay.get(day);
      if (!d) return html``;
      const x = LEFT + i * step + step / 2;
      return html`<g><title>${partnerId}, ${day}: ${d.releasedEvents} released, ${d.deniedEvents} denied</title><rect class="released" x="${(x - bar).toFixed(1)}" y="${base - y(d.releasedEvents)}" width="${bar.toFixed(1)}" height="${y(d.releasedEvents)}"></rect><rect class="denied" x="${x.toFixed(1)}" y="${base - y(d.deniedEvents)}" width="${bar.toFixed(1)}" height="${y(d.deniedEvents)}"></rect></g>`;
    });
    return html`<g class="panel" data-partner="${partnerId}"><text x="${LEFT}" y="${top + 14}" class="label">${partnerId} · ${total(perDay)} decisions</text><line x1="${LEFT}" x2="${WIDTH - 8}" y1="${base}" y2="${base}" class="axis"></line><text x="${LEFT - 6}" y="${base - (PANEL_HEIGHT - 34) + 4}" class="tick" text-anchor="end">${max}</text><text x="${LEFT - 6}" y="${base + 4}" class="tick" text-anchor="end">0</text>${bars}</g>`;
  });
  const summary = partners.map(([id, m]) => `${id}: ${total(m)}`).join('; ');
  return html`<figure class="chart">
<svg id="decisions-chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">Access decisions per day, by partner, ${days[0]} to ${days.at(-1)}</title>
<desc id="chart-desc">Green bars: decisions that released something; red bars: decisions that denied something. Totals: ${summary}.</desc>
${panels}
<text x="${LEFT}" y="${height - 4}" class="tick">${days[0]}</text><text x="${WIDTH - 8}" y="${height - 4}" class="tick" text-anchor="end">${days.at(-1)}</text>
</svg>
<figcaption><span class="swatch released"></span> released <span class="swatch denied"></span> denied (per UTC day; the ${MAX_PARTNERS} busiest partners)</figcaption>
</figure>`;
}

/** The UTC days from `from` up to `to`, as YYYY-MM-DD. */
export function daysBetween(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let t = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()); t < to.getTime(); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

export const CHART_STYLE = `
figure.chart { margin:0; max-width:48rem; }
#decisions-chart .released, .swatch.released { fill:#2da44e; background:#2da44e; }
#decisions-chart .denied, .swatch.denied { fill:#cf222e; background:#cf222e; }
#decisions-chart .axis { stroke:#8c959f; }
#decisions-chart .label { font-size:13px; font-weight:600; fill:#1b1f24; }
#decisions-chart .tick { font-size:11px; fill:#4a5360; }
.swatch { display:inline-block; width:.8rem; height:.8rem; vertical-align:middle; border-radius:2px; }
`;
