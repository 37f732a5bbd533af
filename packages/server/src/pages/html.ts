const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Markup that is already safe; everything else interpolated into {@link html} is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

const escapeHtml = (value: unknown): string =>
  value instanceof SafeHtml
    ? value.value
    : Array.isArray(value)
      ? value.map(escapeHtml).join('')
      : value === undefined || value === null || value === false
        ? ''
        : String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!)

/**
 * Tagged template for the hosted pages: every interpolated value is HTML-escaped unless it is
 * itself `html` output, so a username or client id can never inject markup.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += escapeHtml(values[i]) + strings[i + 1]!
  return new SafeHtml(out)
}

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Tessera</title>
<link rel="stylesheet" href="/assets/tessera.css">
</head>
<body>
<main class="card">
<p class="brand" aria-hidden="true">Tessera</p>
${body}
</main>
</body>
</html>
`.value
}
