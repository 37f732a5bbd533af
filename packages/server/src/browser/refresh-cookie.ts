import type {} from '@fastify/cookie'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { InvalidRequest } from '../errors.js'
import type { Client } from '../store/store.js'
import { appOrigins } from './origins.js'

/** The header a cookie-mode client sends: a simple cross-site form or link cannot set it. */
export const CSRF_HEADER = 'x-tessera-csrf'

/**
 * Cookie mode: browser apps that never hold a refresh token in JavaScript. The refresh token
 * lives in an HttpOnly, SameSite=Strict cookie — `__Host-` prefixed (Secure, Path=/) behind
 * https; on a plain-http loopback issuer, where Secure cookies are not kept, `tessera_rt`
 * scoped to /oauth instead.
 */
export function refreshCookie(ctx: ServerContext) {
  const secure = ctx.config.issuer.startsWith('https:')
  return {
    name: secure ? '__Host-tessera_rt' : 'tessera_rt',
    options: { httpOnly: true, sameSite: 'strict' as const, secure, path: secure ? '/' : '/oauth' },
  }
}

/** True when the client asked for cookie mode on this request. */
export const wantsCookieMode = (request: FastifyRequest) => request.headers[CSRF_HEADER] !== undefined

/** Moves a response's refresh token into the cookie; JavaScript never sees it. */
export function keepRefreshTokenInCookie(ctx: ServerContext, reply: FastifyReply, token: string): void {
  const { name, options } = refreshCookie(ctx)
  reply.setCookie(name, token, { ...options, maxAge: ctx.config.refreshAbsoluteTtl })
}

export function clearRefreshCookie(ctx: ServerContext, reply: FastifyReply): void {
  const { name, options } = refreshCookie(ctx)
  reply.clearCookie(name, options)
}

/**
 * The refresh token of a cookie-mode refresh. CSRF defence in two layers: the custom header
 * (forces a CORS preflight cross-origin) and an Origin that belongs to the issuer or to one of
 * the client's registered redirect URIs.
 */
export function refreshTokenFromCookie(
  ctx: ServerContext,
  request: FastifyRequest,
  client: Client,
): string | undefined {
  const { name } = refreshCookie(ctx)
  const token = request.cookies[name]
  if (token === undefined) return undefined
  if (!wantsCookieMode(request)) throw new InvalidRequest(`a cookie refresh needs the ${CSRF_HEADER} header`)
  const origin = request.headers.origin
  if (!origin || !appOrigins(ctx.config.issuer, client.redirectUris).has(origin))
    throw new InvalidRequest('a cookie refresh must come from an allowed Origin')
  return token
}
