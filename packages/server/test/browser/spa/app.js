// A minimal single-page app using the authorization code flow with PKCE against Tessera.
const config = await (await fetch('/config.json')).json()
const out = document.getElementById('out')
const status = document.getElementById('status')
const show = (label, value) => {
  out.textContent = `${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`
}
const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
const form = (params) => new URLSearchParams(params)
const tokens = () => JSON.parse(sessionStorage.getItem('tokens') ?? 'null')

async function tokenRequest(params) {
  const response = await fetch(`${config.issuer}/oauth/token`, {
    method: 'POST',
    body: form({ client_id: config.clientId, ...params }),
  })
  const body = await response.json()
  if (!response.ok) throw new Error(body.error)
  sessionStorage.setItem('tokens', JSON.stringify(body))
  return body
}

async function whoAmI() {
  const response = await fetch(`${config.issuer}/me`, {
    headers: { authorization: `Bearer ${tokens().access_token}` },
  })
  return response.ok ? response.json() : { error: response.status }
}

document.getElementById('sign-in').addEventListener('click', async () => {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)))
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)))
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)))
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }))
  const url = new URL(`${config.issuer}/oauth/authorize`)
  url.search = form({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: 'read',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })
  location.assign(url)
})

document.getElementById('call').addEventListener('click', async () => show('api', await whoAmI()))

document.getElementById('refresh').addEventListener('click', async () => {
  try {
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens().refresh_token })
    show('refreshed', 'ok')
  } catch (error) {
    status.textContent = 'signed out'
    show('refresh failed', error.message)
  }
})

document.getElementById('sign-out').addEventListener('click', async () => {
  await fetch(`${config.issuer}/oauth/revoke`, {
    method: 'POST',
    body: form({ client_id: config.clientId, token: tokens().refresh_token }),
  })
  status.textContent = 'signed out'
  show('signed out', 'ok')
})

const params = new URLSearchParams(location.search)
if (params.has('code')) {
  const { verifier, state } = JSON.parse(sessionStorage.getItem('pkce'))
  history.replaceState(null, '', '/')
  if (params.get('state') !== state || params.get('iss') !== config.issuer) {
    show('error', 'state or issuer mismatch')
  } else {
    try {
      await tokenRequest({
        grant_type: 'authorization_code',
        code: params.get('code'),
        redirect_uri: config.redirectUri,
        code_verifier: verifier,
      })
      const me = await whoAmI()
      status.textContent = `signed in as ${me.username}`
    } catch (error) {
      show('sign-in failed', error.message)
    }
  }
} else if (params.has('error')) {
  show('error', params.get('error'))
}
