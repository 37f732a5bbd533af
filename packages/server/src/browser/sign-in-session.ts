import { randomBytes, timingSafeEqual } from 'node:crypto'
import type {} from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import type { User } from '../store/store.js'

const SIGN_IN_COOKIE = 'tessera_signin'
const CSRF_COOKIE = 'tessera_csrf'
/** The sign-in between the login form and the redirect back to the app, and on /account. */
export const SIGN_IN_TTL_SECONDS = 600
const REQUEST_TTL_MS = 10 * 60_000

const secureCookies = (ctx: ServerContext) => ctx.config.issuer.startsWith('https:')

function cookieOptions(ctx: ServerContext, maxAge: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secureCookies(ctx), maxAge }
}

export interface SignIn {
  userId: string
  authTime: number
}

/** The browser's sign-in, from its signed, short-lived, HttpOnly cookie. */
export function readSignIn(ctx: ServerContext, request: FastifyRequest): SignIn | undefined {
  const raw = request.cookies[SIGN_IN_COOKIE]
  if (!raw) return undefined
  const unsigned = request.unsignCookie(raw)
  if (!unsigned.valid || unsigned.value === null) return undefined
  try {
    const value = JSON.parse(unsigned.value) as { u: string; t: number; e: number }
    if (typeof value.u !== 'string' || value.e <= ctx.now()) return undefined
    return { userId: value.u, authTime: value.t }
  } catch {
    return undefined
  }
}

/** The user signed in on this browser, if still active and unchanged since (no password change). */
export async function signedInUser(ctx: ServerContext, request: FastifyRequest): Promise<User | undefined> {
  const signIn = readSignIn(ctx, request)
  if (!signIn) return undefined
  const user = await ctx.store.findUserById(signIn.userId)
  return user && user.disabledAt === null && user.passwordChangedAt <= signIn.authTime ? user : undefined
}

export function setSignIn(ctx: ServerContext, reply: FastifyReply, userId: string): void {
  const now = ctx.now()
  const value = JSON.stringify({ u: userId, t: now, e: now + SIGN_IN_TTL_SECONDS * 1000 })
  reply.setCookie(SIGN_IN_COOKIE, value, { ...cookieOptions(ctx, SIGN_IN_TTL_SECONDS), signed: true })
}

export function clearSignIn(ctx: ServerContext, reply: FastifyReply): void {
  reply.clearCookie(SIGN_IN_COOKIE, cookieOptions(ctx, 0))
}

/**
 * A CSRF token for the page's forms: a random nonce kept in a cookie, and the same nonce signed
 * in the form. A cross-site form post cannot read the cookie, so it cannot forge the field.
 */
export function csrfToken(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply): string {
  let nonce = request.cookies[CSRF_COOKIE]
  if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
    nonce = randomBytes(16).toString('base64url')
    reply.setCookie(CSRF_COOKIE, nonce, cookieOptions(ctx, 24 * 3600))
    request.cookies[CSRF_COOKIE] = nonce
  }
  return reply.signCookie(nonce)
}

export function checkCsrf(request: FastifyRequest, token: string | undefined): boolean {
  const nonce = request.cookies[CSRF_COOKIE]
  if (!nonce || !token) return false
  const unsigned = request.unsignCookie(token)
  if (!unsigned.valid || unsigned.value === null) return false
  const a = Buffer.from(unsigned.value)
  const b = Buffer.from(nonce)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Seals a validated authorization request into a signed form field, so no server state is needed. */
export function sealRequest(
  app: FastifyInstance,
  ctx: ServerContext,
  params: Record<string, string>,
): string {
  return app.signCookie(
    Buffer.from(JSON.stringify({ ...params, iat: String(ctx.now()) })).toString('base64url'),
  )
}

export function openRequest(
  app: FastifyInstance,
  ctx: ServerContext,
  sealed: string | undefined,
): Record<string, string> | undefined {
  if (!sealed) return undefined
  const unsigned = app.unsignCookie(sealed)
  if (!unsigned.valid || unsigned.value === null) return undefined
  try {
    const params = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as Record<
      string,
      string
    >
    if (ctx.now() - Number(params.iat) > REQUEST_TTL_MS) return undefined
    return params
  } catch {
    return undefined
  }
}

/**
 * Sends a hosted page with its security headers: a strict CSP without inline script, no
 * framing (clickjacking), no referrer (codes and state never leak), and no caching.
 */
export function sendPage(
  reply: FastifyReply,
  status: number,
  body: string,
  formTargets: string[] = [],
): FastifyReply {
  // Chrome applies form-action to the redirect after a form post, so the app's origin is listed.
  const formAction = ["'self'", ...formTargets].join(' ')
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    })
    .send(body)
}
