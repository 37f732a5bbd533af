import type { Session } from '../store/store.js'
import { html, page } from './html.js'

/** A short description of the device from its User-Agent: browser and system, nothing more. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device'
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : /^curl\//.test(userAgent)
            ? 'curl'
            : /node|undici/i.test(userAgent)
              ? 'Node.js'
              : 'App'
  const system = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Mac OS X/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : ''
  return system ? `${browser} on ${system}` : browser
}

const when = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`

export function accountPage(p: {
  username: string
  sessions: Session[]
  csrf: string
  notice?: string
}): string {
  return page(
    'Your account',
    html`<h1>Signed in as ${p.username}</h1>
${p.notice ? html`<p class="muted" role="status">${p.notice}</p>` : ''}
<h2>Sessions</h2>
${
  p.sessions.length === 0
    ? html`<p class="muted">No app is signed in to your account.</p>`
    : html`<table>
<thead><tr><th>App</th><th>Device</th><th>IP</th><th>Signed in</th><th>Last used</th><th></th></tr></thead>
<tbody>
${p.sessions.map(
  (s) => html`<tr data-session="${s.id}">
<td>${s.clientId}</td><td>${describeDevice(s.userAgent)}</td><td>${s.ip ?? ''}</td><td>${when(s.createdAt)}</td><td>${when(s.lastUsedAt)}</td>
<td><form method="post" action="/account/sessions/${s.id}/revoke"><input type="hidden" name="csrf" value="${p.csrf}"><button type="submit" class="secondary" aria-label="Sign out ${s.clientId} on ${describeDevice(s.userAgent)}">Sign out</button></form></td>
</tr>`,
)}
</tbody>
</table>`
}
<div class="row">
<form method="post" action="/account/logout-all"><input type="hidden" name="csrf" value="${p.csrf}"><button type="submit" class="danger">Sign out everywhere</button></form>
<form method="post" action="/account/sign-out"><input type="hidden" name="csrf" value="${p.csrf}"><button type="submit" class="secondary">Sign out of this page</button></form>
</div>`,
  ).replace('<main class="card">', '<main class="card wide">')
}
