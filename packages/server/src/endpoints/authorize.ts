import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  checkCsrf,
  csrfToken,
  openRequest,
  sealRequest,
  sendPage,
  setSignIn,
  signedInUser,
} from '../browser/sign-in-session.js'
import type { ServerContext } from '../context.js'
import { OAuthError, TooManyRequests } from '../errors.js'
import { hashCode } from '../grants/authorization-code.js'
import type { FormParams } from '../http/form-body.js'
import { consentPage } from '../pages/consent.js'
import { errorPage } from '../pages/error-page.js'
import { signInPage, TOO_MANY, WRONG_PASSWORD } from '../pages/sign-in.js'
import { grantScope } from '../scope.js'
import { checkPassword } from '../security/password-sign-in.js'
import type { Client, User } from '../store/store.js'

const CODE_TTL_MS = 60_000

/** An authorization request that passed every check of RFC 6749 §4.1.1 and RFC 7636 §4.3. */
interface AuthorizationRequest {
  client: Client
  redirectUri: string
  /** The redirect_uri exactly as sent, or '' when the client's only registered URI was used. */
  redirectUriGiven: string
  scope: string
  state: string | undefined
  codeChallenge: string | undefined
}

type Validation =
  | { kind: 'ok'; request: AuthorizationRequest }
  | { kind: 'page'; title: string; message: string }
  | { kind: 'redirect'; redirectUri: string; error: string; description: string; state: string | undefined }

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined

async function validate(ctx: ServerContext, query: Record<string, unknown>): Promise<Validation> {
  const repeated = Object.entries(query).find(([, v]) => Array.isArray(v))
  const clientId = text(query.client_id)
  const client = clientId && clientId.length <= 255 ? await ctx.clients.find(clientId) : undefined
  // RFC 6749 §4.1.2.1: without a known client and a registered redirect URI, never redirect.
  if (!client)
    return {
      kind: 'page',
      title: 'Unknown application',
      message: 'This sign-in link names an application Tessera does not know.',
    }
  const given = text(query.redirect_uri)
  const redirectUri = given ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined)
  if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
    return {
      kind: 'page',
      title: 'Invalid redirect address',
      message: 'The application asked to return to an address it has not registered.',
    }
  }
  const state = text(query.state)
  const fail = (error: string, description: string): Validation => ({
    kind: 'redirect',
    redirectUri,
    error,
    description,
    state,
  })
  if (repeated) return fail('invalid_request', `the parameter "${repeated[0]}" is repeated`)
  if (state !== undefined && state.length > 2048) return fail('invalid_request', 'state is too long')
  if (text(query.response_type) !== 'code')
    return fail('unsupported_response_type', 'only response_type=code is supported')
  if (!client.grantTypes.includes('authorization_code'))
    return fail('unauthorized_client', 'this client may not use the authorization code flow')
  const method = text(query.code_challenge_method)
  const challenge = text(query.code_challenge)
  if (method !== undefined && method !== 'S256')
    return fail('invalid_request', 'code_challenge_method must be S256; plain is not allowed')
  if (challenge === undefined && client.isPublic)
    return fail('invalid_request', 'PKCE is required: send code_challenge with S256')
  if (challenge !== undefined && !/^[A-Za-z0-9_-]{43,128}$/.test(challenge))
    return fail('invalid_request', 'code_challenge is malformed')
  let scope: string
  try {
    scope = grantScope(text(query.scope), client.scopes)
  } catch (error) {
    if (error instanceof OAuthError) return fail(error.error, error.message)
    throw error
  }
  return {
    kind: 'ok',
    request: { client, redirectUri, redirectUriGiven: given ?? '', scope, state, codeChallenge: challenge },
  }
}

function redirectTo(
  reply: FastifyReply,
  ctx: ServerContext,
  target: string,
  params: Record<string, string | undefined>,
  status: 302 | 303,
) {
  const url = new URL(target)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  // RFC 9207: name the issuer, so a client talking to several servers cannot be mixed up.
  url.searchParams.set('iss', ctx.config.issuer)
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .redirect(url.toString(), status)
}

const origin = (uri: string) => new URL(uri).origin

async function issueCode(
  ctx: ServerContext,
  reply: FastifyReply,
  request: AuthorizationRequest,
  user: User,
  status: 302 | 303,
) {
  const code = randomBytes(32).toString('base64url')
  const now = ctx.now()
  await ctx.store.createAuthorizationCode({
    codeHash: hashCode(code),
    clientId: request.client.id,
    userId: user.id,
    redirectUri: request.redirectUriGiven,
    scope: request.scope,
    codeChallenge: request.codeChallenge ?? null,
    createdAt: now,
    expiresAt: now + CODE_TTL_MS,
    usedAt: null,
    sessionId: null,
  })
  return redirectTo(reply, ctx, request.redirectUri, { code, state: request.state }, status)
}

function toParams(request: AuthorizationRequest): Record<string, string> {
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: request.client.id,
    scope: request.scope,
  }
  if (request.redirectUriGiven) params.redirect_uri = request.redirectUriGiven
  if (request.state !== undefined) params.state = request.state
  if (request.codeChallenge !== undefined) {
    params.code_challenge = request.codeChallenge
    params.code_challenge_method = 'S256'
  }
  return params
}

/**
 * GET and POST /oauth/authorize (RFC 6749 §4.1, RFC 7636): the hosted sign-in and consent pages.
 * The validated request travels in a signed form field, so any instance can finish the flow.
 */
export function authorizeEndpoint(app: FastifyInstance, ctx: ServerContext): void {
  const showSignIn = (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: AuthorizationRequest,
    status = 200,
    error?: string,
    username?: string,
  ) =>
    sendPage(
      reply,
      status,
      signInPage({
        action: '/oauth/authorize',
        request: sealRequest(app, ctx, toParams(auth)),
        csrf: csrfToken(ctx, request, reply),
        clientName: auth.client.id,
        ...(error ? { error } : {}),
        ...(username ? { username } : {}),
      }),
      [origin(auth.redirectUri)],
    )

  const proceed = async (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: AuthorizationRequest,
    user: User,
    consented: boolean,
    status: 302 | 303,
  ) => {
    if (auth.client.requireConsent && !consented) {
      return sendPage(
        reply,
        200,
        consentPage({
          action: '/oauth/authorize',
          request: sealRequest(app, ctx, toParams(auth)),
          csrf: csrfToken(ctx, request, reply),
          clientName: auth.client.id,
          username: user.username,
          scopes: auth.scope === '' ? [] : auth.scope.split(' '),
        }),
        [origin(auth.redirectUri)],
      )
    }
    return issueCode(ctx, reply, auth, user, status)
  }

  const handle = async (
    reply: FastifyReply,
    query: Record<string, unknown>,
    onOk: (auth: AuthorizationRequest) => Promise<unknown>,
  ) => {
    const result = await validate(ctx, query)
    if (result.kind === 'page') return sendPage(reply, 400, errorPage(result.title, result.message))
    if (result.kind === 'redirect') {
      return redirectTo(
        reply,
        ctx,
        result.redirectUri,
        { error: result.error, error_description: result.description, state: result.state },
        302,
      )
    }
    return onOk(result.request)
  }

  app.get(
    '/oauth/authorize',
    {
      schema: {
        tags: ['oauth'],
        summary: 'Authorization endpoint (RFC 6749 §4.1, PKCE S256): hosted sign-in and consent',
      },
    },
    async (request, reply) =>
      handle(reply, request.query as Record<string, unknown>, async (auth) => {
        const user = await signedInUser(ctx, request)
        return user ? proceed(request, reply, auth, user, false, 302) : showSignIn(request, reply, auth)
      }),
  )

  app.post(
    '/oauth/authorize',
    { schema: { hide: true } },
    async (request: FastifyRequest<{ Body: FormParams }>, reply) => {
      const form = request.body ?? {}
      const sealed = openRequest(app, ctx, form.request)
      if (!sealed) {
        return sendPage(
          reply,
          400,
          errorPage('This form has expired', 'Go back to the application and start signing in again.'),
        )
      }
      if (!checkCsrf(request, form.csrf)) {
        return sendPage(
          reply,
          403,
          errorPage('This form could not be verified', 'Reload the sign-in page and try again.'),
        )
      }
      return handle(reply, sealed, async (auth) => {
        if (form.step === 'consent') {
          const user = await signedInUser(ctx, request)
          if (!user) return showSignIn(request, reply, auth)
          if (form.decision !== 'allow') {
            return redirectTo(
              reply,
              ctx,
              auth.redirectUri,
              { error: 'access_denied', error_description: 'the user denied access', state: auth.state },
              303,
            )
          }
          return proceed(request, reply, auth, user, true, 303)
        }
        const username = (form.username ?? '').slice(0, 255)
        const password = (form.password ?? '').slice(0, 1024)
        let user: User | undefined
        try {
          user = await checkPassword(ctx, {
            username,
            password,
            ip: request.ip,
            clientId: auth.client.id,
            via: 'authorize',
          })
        } catch (error) {
          if (!(error instanceof TooManyRequests)) throw error
          reply.header('retry-after', error.headers()['retry-after'])
          return showSignIn(request, reply, auth, 429, TOO_MANY, username)
        }
        if (!user) return showSignIn(request, reply, auth, 401, WRONG_PASSWORD, username)
        setSignIn(ctx, reply, user.id)
        return proceed(request, reply, auth, user, false, 303)
      })
    },
  )
}
