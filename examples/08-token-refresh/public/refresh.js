// The page keeps its user signed in with @tessera/client: tokens in memory only, a refresh
// shortly before expiry (single flight), and a sign-out when Tessera says the session is over.
import { createClient } from '/vendor/tessera-client/index.js'

const client = createClient({
  issuer: location.origin,
  clientId: 'demo-app',
  // Same-origin pass-through to Tessera's endpoints (see app.ts), so no CORS is involved.
  tokenEndpoint: new URL('/auth/token', location.href).href,
  revocationEndpoint: new URL('/auth/revoke', location.href).href,
})

const session = { issuedAt: 0, expiresAt: 0, refreshes: 0, signedIn: false }
const element = (id) => document.getElementById(id)

function log(message) {
  const item = document.createElement('li')
  item.textContent = `${new Date().toLocaleTimeString()} ${message}`
  element('log').prepend(item)
}

function show(signedIn) {
  session.signedIn = signedIn
  element('session').hidden = !signedIn
  element('login').hidden = signedIn
}

function keep(tokens) {
  session.issuedAt = Date.now()
  session.expiresAt = tokens.expiresAt
}

client.on('refreshed', (tokens) => {
  keep(tokens)
  if (!session.signedIn) return
  session.refreshes += 1
  log(
    `refreshed: new access token for ${Math.round((tokens.expiresAt - Date.now()) / 1000)} s, refresh token rotated`,
  )
})
client.on('logout', ({ reason }) => {
  show(false)
  log(`signed out (${reason})`)
})

async function callApi() {
  const response = await client.fetch('/api/profile')
  log(`GET /api/profile → ${response.status} ${JSON.stringify(await response.json())}`)
}

// Asking for a token each second is what keeps one ready: the client refreshes when it is due.
function tick() {
  if (!session.signedIn) return
  const remaining = Math.max(0, session.expiresAt - Date.now())
  element('remaining').textContent = (remaining / 1000).toFixed(0)
  element('generation').textContent = String(session.refreshes)
  element('lifetime').value = remaining / Math.max(1, session.expiresAt - session.issuedAt)
  client.accessToken().catch((error) => log(`refresh failed: ${error.message}`))
}

element('login').addEventListener('submit', (event) => {
  event.preventDefault()
  const form = new FormData(event.target)
  client.login(String(form.get('username')), String(form.get('password'))).then(
    (tokens) => {
      keep(tokens)
      session.refreshes = 0
      show(true)
      log(`signed in: access token for ${Math.round((tokens.expiresAt - Date.now()) / 1000)} s`)
    },
    (error) => log(`sign-in failed: ${error.message}`),
  )
})
element('call').addEventListener('click', () => callApi().catch((error) => log(`API call failed: ${error}`)))
element('refresh').addEventListener('click', () => client.refresh().catch((error) => log(`${error}`)))
element('logout').addEventListener('click', () => client.logout())
setInterval(tick, 1000)
