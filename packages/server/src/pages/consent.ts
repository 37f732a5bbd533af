import { html, page } from './html.js'

const SCOPE_WORDS: Record<string, string> = {
  read: 'Read your data',
  write: 'Create and change your data',
  admin: 'Administer your account and its settings',
  openid: 'Know who you are',
  profile: 'See your profile (name and username)',
  email: 'See your email address',
  offline_access: 'Stay signed in when you are not using it',
}

/** A scope in words a person understands; unknown scopes are named as they are. */
export function describeScope(scope: string): string {
  return SCOPE_WORDS[scope] ?? `Use the permission “${scope}”`
}

export function consentPage(p: {
  action: string
  request: string
  csrf: string
  clientName: string
  username: string
  scopes: string[]
}): string {
  return page(
    'Allow access',
    html`<h1><span class="client">${p.clientName}</span> wants to access your account</h1>
<p class="muted">Signed in as <strong>${p.username}</strong>.</p>
${p.scopes.length ? html`<p>It will be able to:</p><ul class="scopes">${p.scopes.map((s) => html`<li>${describeScope(s)}</li>`)}</ul>` : html`<p>It asks for no permissions beyond knowing you signed in.</p>`}
<form method="post" action="${p.action}">
<input type="hidden" name="request" value="${p.request}">
<input type="hidden" name="csrf" value="${p.csrf}">
<input type="hidden" name="step" value="consent">
<div class="row">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  )
}
