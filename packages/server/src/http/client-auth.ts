import type { FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { InvalidClient, InvalidRequest } from '../errors.js'
import type { Client } from '../store/store.js'
import type { FormParams } from './form-body.js'

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none'

interface PresentedCredentials {
  method: ClientAuthMethod
  clientId: string
  secret?: string
}

// RFC 6749 §2.3.1: the id and secret are form-urlencoded before they are joined and base64'd.
function formDecode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '))
  } catch {
    throw new InvalidClient('the Basic credentials are not valid form-urlencoded text')
  }
}

function presentedCredentials(request: FastifyRequest, params: FormParams): PresentedCredentials {
  const header = request.headers.authorization
  if (header !== undefined) {
    const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/i.exec(header.trim())
    if (!match) throw new InvalidClient('the Authorization header must be HTTP Basic client credentials')
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 1) throw new InvalidClient('the Basic credentials must be client_id:client_secret')
    if (params.client_secret !== undefined) {
      throw new InvalidRequest('use one client authentication method, not Basic and client_secret together')
    }
    const clientId = formDecode(decoded.slice(0, colon))
    if (params.client_id !== undefined && params.client_id !== clientId) {
      throw new InvalidRequest('client_id in the body differs from the Basic credentials')
    }
    return { method: 'client_secret_basic', clientId, secret: formDecode(decoded.slice(colon + 1)) }
  }
  const clientId = params.client_id
  if (clientId === undefined) throw new InvalidClient('client authentication is required')
  if (clientId.length > 255) throw new InvalidClient('client authentication failed')
  if (params.client_secret !== undefined) {
    return { method: 'client_secret_post', clientId, secret: params.client_secret }
  }
  return { method: 'none', clientId }
}

/**
 * Authenticates the client of an OAuth request: `client_secret_basic`, `client_secret_post`,
 * or a public client naming itself with `client_id`. Every failure is one `invalid_client`
 * message, so a caller cannot tell an unknown client from a wrong secret; the reason is audited.
 */
export async function authenticateClient(
  ctx: ServerContext,
  request: FastifyRequest,
  params: FormParams,
): Promise<Client> {
  const presented = presentedCredentials(request, params)
  const client = await ctx.clients.find(presented.clientId)
  const reason = !client
    ? 'unknown_client'
    : client.isPublic
      ? presented.secret !== undefined
        ? 'public_client_sent_secret'
        : undefined
      : presented.secret === undefined
        ? 'missing_secret'
        : !client.secretHash ||
            presented.secret.length > 512 ||
            !ctx.clientSecrets.matches(presented.secret, client.secretHash)
          ? 'wrong_secret'
          : undefined
  if (reason !== undefined || !client) {
    await ctx.audit.record({
      type: 'client_auth_failed',
      at: ctx.now(),
      clientId: presented.clientId.slice(0, 255),
      ip: request.ip,
      detail: { reason, method: presented.method },
    })
    throw new InvalidClient('client authentication failed')
  }
  return client
}
