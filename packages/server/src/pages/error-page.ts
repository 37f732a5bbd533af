import { html, page } from './html.js'

/** Shown where RFC 6749 §4.1.2.1 forbids redirecting: unknown client or bad redirect URI. */
export function errorPage(title: string, message: string): string {
  return page(
    title,
    html`<h1>${title}</h1><p class="error" role="alert">${message}</p>
<p class="muted">Go back to the application and try again. If this keeps happening, tell its developers.</p>`,
  )
}
