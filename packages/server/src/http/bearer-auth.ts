import type { FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { InvalidToken, MissingToken } from '../errors.js'
import type { AccessTokenClaims } from '../tokens/access-token.js'

/** Verifies the request's `Authorization: Bearer` access token (RFC 6750 §2.1). */
export async function authenticateBearer(
  ctx: ServerContext,
  request: FastifyRequest,
): Promise<AccessTokenClaims> {
  const header = request.headers.authorization
  if (header === undefined) throw new MissingToken('this endpoint needs a bearer access token')
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim())
  if (!match) throw new InvalidToken('the Authorization header must be "Bearer <access token>"')
  return ctx.accessTokenVerifier.verify(match[1]!)
}
