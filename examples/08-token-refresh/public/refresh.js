// Keeps tokens in memory only, refreshes at 80 % of the access token's lifetime (or on a 401),
// and never runs two refreshes at once: a second refresh with the same token would be a retry.
const CLIENT_ID = 'demo-app'
const REFRESH_AT = 0.8

const session = { accessToken: '', refreshToken: '', issuedAt: 0, expiresAt: 0, refreshes: 0 }
let refreshing
let timer

const element = (id) => document.getElementById(id)

function log(message) {
  const item = document.createElement('li')
  item.textContent = `${new Date().toLocaleTimeString()} ${message}`
  element('log').prepend(item)
}

function claimsOf(token) {
  const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
  return JSON.parse(atob(payload))
}

async function tokenRequest(form) {
  const response = await fetch('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...form }),
  })
  const body = await response.json()
  if (!response.ok) throw new Error(`${body.error}: ${body.error_description}`)
  return body
}

function keep(tokens) {
  const claims = claimsOf(tokens.access_token)
  session.accessToken = tokens.access_token
  session.refreshToken = tokens.refresh_token
  session.issuedAt = claims.iat
  session.expiresAt = claims.exp
  clearTimeout(timer)
  const lifetime = claims.exp - claims.iat
  const refreshIn = Math.max(0, (claims.iat + lifetime * REFRESH_AT) * 1000 - Date.now())
  timer = setTimeout(() => refresh('scheduled at 80 % of the lifetime'), refreshIn)
  element('session').hidden = false
  element('login').hidden = true
}

function forget(reason) {
  clearTimeout(timer)
  Object.assign(session, { accessToken: '', refreshToken: '', issuedAt: 0, expiresAt: 0 })
  element('session').hidden = true
  element('login').hidden = false
  log(`signed out: ${reason}`)
}

function refresh(why) {
  refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refreshToken })
    .then((tokens) => {
      session.refreshes += 1
      keep(tokens)
      log(
        `refreshed (${why}): new access token for ${session.expiresAt - session.issuedAt} s, refresh token rotated`,
      )
    })
    .catch((error) => forget(`refresh failed, ${error.message}`))
    .finally(() => {
      refreshing = undefined
    })
  return refreshing
}

async function callApi() {
  const send = () => fetch('/api/profile', { headers: { authorization: `Bearer ${session.accessToken}` } })
  let response = await send()
  if (response.status === 401 && session.refreshToken) {
    log('API answered 401: refreshing and retrying once')
    await refresh('the API refused the access token')
    response = await send()
  }
  log(`GET /api/profile → ${response.status} ${JSON.stringify(await response.json())}`)
}

function render() {
  if (!session.accessToken) return
  const remaining = Math.max(0, session.expiresAt - Date.now() / 1000)
  element('remaining').textContent = remaining.toFixed(0)
  element('generation').textContent = String(session.refreshes)
  element('lifetime').value = remaining / (session.expiresAt - session.issuedAt)
}

element('login').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = new FormData(event.target)
  tokenRequest({
    grant_type: 'password',
    username: form.get('username'),
    password: form.get('password'),
  }).then(
    (tokens) => {
      session.refreshes = 0
      keep(tokens)
      log(`signed in: access token for ${session.expiresAt - session.issuedAt} s`)
    },
    (error) => log(`sign-in failed: ${error.message}`),
  )
})
element('call').addEventListener('click', () => callApi().catch((error) => log(`API call failed: ${error}`)))
element('refresh').addEventListener('click', () => refresh('button'))
element('logout').addEventListener('click', async () => {
  await fetch('/auth/revoke', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, token: session.refreshToken }),
  })
  forget('the session was revoked at Tessera')
})
setInterval(render, 250)
