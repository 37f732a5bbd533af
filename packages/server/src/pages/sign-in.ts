import { html, page } from './html.js'

/** One message for every failed sign-in: it never says whether the user exists. */
export const WRONG_PASSWORD = 'The username or password is incorrect.'
export const TOO_MANY = 'Too many failed attempts. Wait a few minutes, then try again.'

export interface SignInPage {
  action: string
  request: string
  csrf: string
  clientName?: string
  username?: string
  error?: string
}

export function signInPage(p: SignInPage): string {
  return page(
    'Sign in',
    html`<h1>Sign in${p.clientName ? html` to continue to <span class="client">${p.clientName}</span>` : ''}</h1>
${p.error ? html`<p class="error" role="alert" id="sign-in-error">${p.error}</p>` : ''}
<form method="post" action="${p.action}">
<input type="hidden" name="request" value="${p.request}">
<input type="hidden" name="csrf" value="${p.csrf}">
<input type="hidden" name="step" value="sign-in">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus value="${p.username ?? ''}"${p.error ? html` aria-describedby="sign-in-error"` : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  )
}
