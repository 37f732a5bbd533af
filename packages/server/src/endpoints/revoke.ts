import type { FastifyInstance, FastifyRequest } from 'fastify'
import { clearRefreshCookie, refreshTokenFromCookie } from '../browser/refresh-cookie.js'
import type { ServerContext } from '../context.js'
import { InvalidRequest, InvalidToken } from '../errors.js'
import { authenticateClient } from '../http/client-auth.js'
import { type FormParams, requiredParam, requireFormBody } from '../http/form-body.js'
import { denyAccessToken, endSession } from '../revocation.js'
import type { Client } from '../store/store.js'
import { REFRESH_TOKEN_PREFIX } from '../tokens/refresh-token.js'
import { errorResponses, formBody } from './schemas.js'

/**
 * Revokes what a token stands for. A refresh token ends its whole session (every descendant);
 * an access token goes on the deny-list until it expires. Per RFC 7009 §2.2 the answer is 200
 * whether or not the token was valid, and a token of another client is left alone.
 */
export async function revokeToken(
  ctx: ServerContext,
  client: Client,
  token: string,
  ip: string,
): Promise<void> {
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) {
    const claims = ctx.refreshTokens.decode(token)
    if (!claims) return
    const session = await ctx.store.findSession(claims.sessionId)
    if (session && session.clientId === client.id) await endSession(ctx, session, 'revoked_by_client', ip)
    return
  }
  let claims: Awaited<ReturnType<typeof ctx.accessTokenVerifier.verifySignature>>
  try {
    claims = await ctx.accessTokenVerifier.verifySignature(token)
  } catch (error) {
    if (error instanceof InvalidToken) return
    throw error
  }
  if (claims.client_id !== client.id) return
  await denyAccessToken(ctx, claims, ip)
}

/** POST /oauth/revoke (RFC 7009). */
export function revokeEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/oauth/revoke',
    {
      preValidation: requireFormBody,
      schema: {
        tags: ['oauth'],
        summary: 'Revoke a refresh token (its whole session) or an access token (RFC 7009)',
        consumes: ['application/x-www-form-urlencoded'],
        body: formBody(
          {
            token: {
              type: 'string',
              maxLength: 8192,
              description:
                'required, except from a cookie-mode browser app, whose refresh token is in its cookie',
            },
            token_type_hint: { type: 'string', maxLength: 64 },
            client_id: { type: 'string', maxLength: 255 },
            client_secret: { type: 'string', maxLength: 512 },
          },
          [],
        ),
        response: {
          200: { type: 'object', description: 'revoked, or nothing to revoke' },
          ...errorResponses(400, 401, 503),
        },
      },
    },
    async (request: FastifyRequest<{ Body: FormParams }>, reply) => {
      const params = request.body
      const client = await authenticateClient(ctx, request, params)
      // Cookie mode: a browser app revokes the refresh token it cannot read by sending none.
      const token =
        params.token !== undefined
          ? requiredParam(params, 'token', 8192)
          : client.isPublic
            ? refreshTokenFromCookie(ctx, request, client)
            : undefined
      if (token === undefined) throw new InvalidRequest('the parameter "token" is missing')
      await revokeToken(ctx, client, token, request.ip)
      if (client.isPublic) clearRefreshCookie(ctx, reply)
      reply.header('cache-control', 'no-store')
      return {}
    },
  )
}
