import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { assertSupported, authorizeRequest } from './authenticate.js'
import type { BasicAuth } from './basic-auth.js'
import { toErrorResponse } from './challenge.js'
import { type GuardError, isGuardError } from './errors.js'
import { type AccessRequirements, type AuthInfo, normalizeRequirements } from './roles.js'
import type { Verifier } from './verify.js'

declare module 'express-serve-static-core' {
  interface Request {
    /** Who is calling, set by the guard's middleware. */
    auth?: AuthInfo
  }
}

/** Options of {@link createExpressGuard}. */
export interface ExpressGuardOptions {
  readonly verifier: Verifier
  /** Realm named in `WWW-Authenticate`; default `'api'`. */
  readonly realm?: string
  /** Receives every refusal with its precise `reason` (for logs); default: nothing. */
  readonly onFailure?: (error: GuardError, req: Request) => void
}

/** Middleware factories bound to one verifier. */
export interface ExpressGuard {
  requireAuth(requirements?: AccessRequirements): RequestHandler
  requireScope(...scopes: string[]): RequestHandler
  requireRole(...roles: string[]): RequestHandler
  requirePermission(...permissions: string[]): RequestHandler
  requireBasic(basic: BasicAuth): RequestHandler
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * Creates Express middleware that protects routes with Tessera access tokens, API keys or HTTP Basic.
 *
 * The caller lands on `req.auth`; refusals answer per RFC 6750 and never reach your handlers.
 *
 * @example
 * ```ts
 * const guard = createExpressGuard({ verifier: createVerifier({ issuer, audience }) })
 * app.get('/orders', guard.requireAuth({ scopes: ['orders:read'] }), (req, res) => res.json(req.auth))
 * app.delete('/users/:id', guard.requireAuth(), guard.requireRole('admin'), handler)
 * ```
 */
export function createExpressGuard(options: ExpressGuardOptions): ExpressGuard {
  const { verifier } = options
  if (typeof verifier?.verify !== 'function')
    throw new TypeError('createExpressGuard needs a verifier from createVerifier')
  const onFailure = options.onFailure ?? (() => {})

  const refuse = (error: unknown, req: Request, res: Response, next: NextFunction, realm: string) => {
    if (!isGuardError(error)) return next(error)
    onFailure(error, req)
    const response = toErrorResponse(error, realm)
    res.status(response.status).set(response.headers).json(response.body)
  }

  const requireAuth = (requirements?: AccessRequirements): RequestHandler => {
    const normalized = normalizeRequirements(requirements)
    assertSupported(verifier, normalized)
    const realm = options.realm ?? 'api'
    return function bearerGuard(req, res, next) {
      const credentials = { authorization: header(req, 'authorization'), apiKey: header(req, 'x-api-key') }
      authorizeRequest(verifier, req.auth, credentials, normalized).then(
        (auth) => {
          if (auth) req.auth = auth
          next()
        },
        (error: unknown) => refuse(error, req, res, next, realm),
      )
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
      return function basicGuard(req, res, next) {
        basic.verify(header(req, 'authorization')).then(
          (auth) => {
            req.auth = auth
            next()
          },
          (error: unknown) => refuse(error, req, res, next, basic.realm),
        )
      }
    },
  }
}
