import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import { fastifyPlugin } from 'fastify-plugin'
import { assertSupported, authorizeRequest } from './authenticate.js'
import type { BasicAuth } from './basic-auth.js'
import { toErrorResponse } from './challenge.js'
import { type GuardError, isGuardError } from './errors.js'
import { type AccessRequirements, type AuthInfo, normalizeRequirements } from './roles.js'
import type { Verifier } from './verify.js'

/** A route's `config.auth`: `true` for any valid token, requirements, `{ basic: true }`, or `false` for public. */
export type RouteAuth = boolean | (AccessRequirements & { readonly basic?: boolean })

/** Options of the {@link tesseraGuard} plugin. */
export interface FastifyGuardOptions {
  readonly verifier: Verifier
  /** Realm named in `WWW-Authenticate`; default `'api'`. */
  readonly realm?: string
  /** Checker for routes with `config: { auth: { basic: true } }`. */
  readonly basic?: BasicAuth
  /** Applied to routes without `config.auth`; default `false` (public). */
  readonly defaultAuth?: RouteAuth
  /** Receives every refusal with its precise `reason`; default logs it at info level on `request.log`. */
  readonly onFailure?: (error: GuardError, request: FastifyRequest) => void
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; `null` on public routes and optional routes without credentials. */
    auth: AuthInfo | null
  }
  interface FastifyContextConfig {
    auth?: RouteAuth
  }
  interface FastifyInstance {
    requireAuth(requirements?: AccessRequirements): onRequestHookHandler
    requireScope(...scopes: string[]): onRequestHookHandler
    requireRole(...roles: string[]): onRequestHookHandler
    requirePermission(...permissions: string[]): onRequestHookHandler
    requireBasic(): onRequestHookHandler
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return typeof value === 'string' ? value : undefined
}

const plugin: FastifyPluginAsync<FastifyGuardOptions> = async (app, options) => {
  const { verifier, basic } = options
  if (typeof verifier?.verify !== 'function')
    throw new TypeError('tesseraGuard needs a verifier from createVerifier')
  const realm = options.realm ?? 'api'
  const defaultAuth = options.defaultAuth ?? false
  const onFailure =
    options.onFailure ??
    ((error: GuardError, request: FastifyRequest) =>
      request.log.info({ code: error.code, reason: error.reason }, 'request refused by guard'))

  const validate = (auth: RouteAuth): RouteAuth => {
    if (typeof auth === 'boolean') return auth
    if (auth.basic && !basic) throw new TypeError('config.auth.basic needs the basic option of tesseraGuard')
    assertSupported(verifier, auth)
    return { ...normalizeRequirements(auth), basic: auth.basic === true }
  }

  const refuse = (error: unknown, request: FastifyRequest, reply: FastifyReply, challengeRealm: string) => {
    if (!isGuardError(error)) throw error
    onFailure(error, request)
    const response = toErrorResponse(error, challengeRealm)
    return reply.code(response.status).headers(response.headers).send(response.body)
  }

  const hookFor = (auth: RouteAuth): onRequestHookHandler | undefined => {
    if (auth === false) return undefined
    if (auth !== true && auth.basic) {
      const checker = basic as BasicAuth
      return async function basicGuard(request, reply) {
        try {
          request.auth = await checker.verify(header(request, 'authorization'))
        } catch (error) {
          return refuse(error, request, reply, checker.realm)
        }
      }
    }
    const requirements = auth === true ? {} : auth
    return async function bearerGuard(request, reply) {
      try {
        const credentials = {
          authorization: header(request, 'authorization'),
          apiKey: header(request, 'x-api-key'),
        }
        request.auth = (await authorizeRequest(verifier, request.auth, credentials, requirements)) ?? null
      } catch (error) {
        return refuse(error, request, reply, realm)
      }
    }
  }

  const requireAuth = (requirements?: AccessRequirements) =>
    hookFor(validate(requirements ?? true)) as onRequestHookHandler
  app.decorateRequest('auth', null)
  app.decorate('requireAuth', requireAuth)
  app.decorate('requireScope', (...scopes: string[]) => requireAuth({ scopes }))
  app.decorate('requireRole', (...roles: string[]) => requireAuth({ roles }))
  app.decorate('requirePermission', (...permissions: string[]) => requireAuth({ permissions }))
  app.decorate('requireBasic', () => hookFor(validate({ basic: true })) as onRequestHookHandler)

  // Route options are checked when the route is declared, so a typo fails at start-up, not per request.
  const validatedDefault = validate(defaultAuth)
  app.addHook('onRoute', (route) => {
    const auth = route.config?.auth
    const hook = hookFor(auth === undefined ? validatedDefault : validate(auth))
    if (!hook) return
    const existing = route.onRequest
    route.onRequest =
      existing === undefined ? [hook] : [hook, ...(Array.isArray(existing) ? existing : [existing])]
  })
}

/**
 * Fastify plugin protecting routes with Tessera access tokens, API keys or HTTP Basic.
 *
 * Declare needs per route with `config.auth`, or use the `requireAuth`, `requireScope`,
 * `requireRole`, `requirePermission` and `requireBasic` hook factories it decorates. The caller
 * lands on `request.auth`.
 *
 * @example
 * ```ts
 * await app.register(tesseraGuard, { verifier: createVerifier({ issuer, audience }) })
 * app.get('/orders', { config: { auth: { scopes: ['orders:read'] } } }, (request) => request.auth?.sub)
 * app.delete('/users/:id', { onRequest: app.requireRole('admin') }, handler)
 * ```
 */
export const tesseraGuard = fastifyPlugin(plugin, { fastify: '5.x', name: '@tessera/guard' })

export default tesseraGuard
