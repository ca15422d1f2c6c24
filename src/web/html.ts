/** Minimal server-side HTML: escaping and the shared page frame. No client-side framework. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Tagged template that escapes every interpolation unless it is already `SafeHtml`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

function render(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(v);
}

export interface PageFrame {
  title: string;
  lang: 'en' | 'zh-CN';
  body: SafeHtml;
  /** Links shown at the top right (language switch, sign-out). */
  nav?: SafeHtml;
}

const STYLE = `
:root { color-scheme: light; --fg:#1b1f24; --muted:#4a5360; --accent:#0b5cad; --ok:#136f3a; --bad:#a1261b; --bg:#fff; --panel:#f4f6f9; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.5 system-ui, "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; justify-content:space-between; align-items:center; padding:.75rem 1.5rem; border-bottom:1px solid #d0d7de; }
header .brand { font-weight:700; color:var(--fg); text-decoration:none; }
header nav a, header nav button { margin-left:1rem; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size:1.6rem; margin-top:0; }
a { color: var(--accent); }
.panel { background:var(--panel); border-radius:8px; padding:1rem 1.25rem; margin:1rem 0; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width:100%; }
th, td { text-align:left; padding:.4rem .5rem; border-bottom:1px solid #d0d7de; vertical-align: top; }
button, .button { font: inherit; padding:.5rem 1rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary, .button.secondary { background:#fff; color:var(--accent); }
button.danger, .button.danger { background:var(--bad); border-color:var(--bad); color:#fff; }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible { outline:3px solid #f5a623; outline-offset:2px; }
input[type=text], input[type=search], input[type=datetime-local], select, textarea { font:inherit; padding:.4rem; border:1px solid #8c959f; border-radius:4px; }
label { cursor:pointer; }
.ok { color: var(--ok); } .bad { color: var(--bad); }
.error { border-left: 4px solid var(--bad); padding-left: .75rem; }
`;

export function page(frame: PageFrame): string {
  return `<!doctype html>
<html lang="${frame.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(frame.title)} · Consentry</title>
<style>${STYLE}</style>
</head>
<body>
<header><a class="brand" href="/me">Consentry</a><nav>${frame.nav?.value ?? ''}</nav></header>
<main>
${frame.body.value}
</main>
</body>
</html>`;
}
