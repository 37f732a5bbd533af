// The page a browser test drives: @tessera/client as a browser app would use it.
import { createClient, webStorage } from '/client/index.js'

const config = await (await fetch('/config.json')).json()
const cookieMode = new URLSearchParams(location.search).get('mode') === 'cookie'
const client = createClient({
  issuer: config.issuer,
  clientId: config.clientId,
  storage: webStorage(localStorage),
  ...(cookieMode ? { refreshTokenStorage: 'cookie' } : {}),
})
const events = []
client.on('refreshed', () => events.push('refreshed'))
client.on('logout', (event) => events.push(`logout:${event.reason}`))

window.app = {
  login: async () => {
    await client.login(config.username, config.password)
  },
  refresh: async () => (await client.refresh()).accessToken,
  me: async () => (await client.fetch(`${config.issuer}/me`)).status,
  events: () => events,
  stored: () => localStorage.getItem('tessera.tokens'),
}
document.getElementById('ready').textContent = 'ready'
