import type { Context, MiddlewareHandler } from 'hono'
import { assertSupported, authorizeRequest } from './authenticate.js'
import type { BasicAuth } from './basic-auth.js'
import { toErrorResponse } from './challenge.js'
import { type GuardError, isGuardError } from './errors.js'
import { type AccessRequirements, type AuthInfo, normalizeRequirements } from './roles.js'
import type { Verifier } from './verify.js'

/** Hono environment the guard's middleware sets: `c.get('auth')`. */
export interface GuardEnv {
  Variables: { auth: AuthInfo | undefined }
}

/** Options of {@link createHonoGuard}. */
export interface HonoGuardOptions {
  readonly verifier: Verifier
  /** Realm named in `WWW-Authenticate`; default `'api'`. */
  readonly realm?: string
  /** Receives every refusal with its precise `reason` (for logs); default: nothing. */
  readonly onFailure?: (error: GuardError, c: Context) => void
}

/** Middleware factories bound to one verifier. */
export interface HonoGuard {
  requireAuth(requirements?: AccessRequirements): MiddlewareHandler<GuardEnv>
  requireScope(...scopes: string[]): MiddlewareHandler<GuardEnv>
  requireRole(...roles: string[]): MiddlewareHandler<GuardEnv>
  requirePermission(...permissions: string[]): MiddlewareHandler<GuardEnv>
  requireBasic(basic: BasicAuth): MiddlewareHandler<GuardEnv>
}

/**
 * Creates Hono middleware that protects routes with Tessera access tokens, API keys or HTTP Basic.
 *
 * The caller is available as `c.get('auth')`; refusals answer per RFC 6750.
 *
 * @example
 * ```ts
 * const guard = createHonoGuard({ verifier: createVerifier({ issuer, audience }) })
 * const app = new Hono<GuardEnv>()
 * app.get('/orders', guard.requireAuth({ scopes: ['orders:read'] }), (c) => c.json(c.get('auth')))
 * ```
 */
export function createHonoGuard(options: HonoGuardOptions): HonoGuard {
  const { verifier } = options
  if (typeof verifier?.verify !== 'function')
    throw new TypeError('createHonoGuard needs a verifier from createVerifier')
  const onFailure = options.onFailure ?? (() => {})

  const refuse = (error: unknown, c: Context, realm: string): Response => {
    if (!isGuardError(error)) throw error
    onFailure(error, c)
    const { status, headers, body } = toErrorResponse(error, realm)
    return new Response(JSON.stringify(body), {
      status,
      headers: { ...headers, 'content-type': 'application/json; charset=UTF-8' },
    })
  }

  const requireAuth = (requirements?: AccessRequirements): MiddlewareHandler<GuardEnv> => {
    const normalized = normalizeRequirements(requirements)
    assertSupported(verifier, normalized)
    const realm = options.realm ?? 'api'
    return async function bearerGuard(c, next) {
      let auth: AuthInfo | undefined
      try {
        const credentials = {
          authorization: c.req.header('authorization'),
          apiKey: c.req.header('x-api-key'),
        }
        auth = await authorizeRequest(verifier, c.get('auth'), credentials, normalized)
      } catch (error) {
        return refuse(error, c, realm)
      }
      c.set('auth', auth)
      await next()
    }
  }

  return {
    requireAuth,
    requireScope: (...scopes) => requireAuth({ scopes }),
    requireRole: (...roles) => requireAuth({ roles }),
    requirePermission: (...permissions) => requireAuth({ permissions }),
    requireBasic(basic) {
      if (typeof basic?.verify !== 'function')
        throw new TypeError('requireBasic needs a checker from createBasicAuth')
      return async function basicGuard(c, next) {
        try {
          c.set('auth', await basic.verify(c.req.header('authorization')))
        } catch (error) {
          return refuse(error, c, basic.realm)
        }
        await next()
      }
    },
  }
}
