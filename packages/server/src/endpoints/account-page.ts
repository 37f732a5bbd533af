import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  checkCsrf,
  clearSignIn,
  csrfToken,
  sealRequest,
  sendPage,
  setSignIn,
  signedInUser,
} from '../browser/sign-in-session.js'
import type { ServerContext } from '../context.js'
import { TooManyRequests } from '../errors.js'
import type { FormParams } from '../http/form-body.js'
import { accountPage } from '../pages/account.js'
import { errorPage } from '../pages/error-page.js'
import { signInPage, TOO_MANY, WRONG_PASSWORD } from '../pages/sign-in.js'
import { endSession, endUserSessions } from '../revocation.js'
import { checkPassword } from '../security/password-sign-in.js'
import type { User } from '../store/store.js'

/**
 * /account: the signed-in user's sessions in a page — the same operations as the account API
 * (list, revoke one, sign out everywhere), with forms instead of script.
 */
export function accountPageEndpoints(app: FastifyInstance, ctx: ServerContext): void {
  const currentUser = (request: FastifyRequest) => signedInUser(ctx, request)

  const showSignIn = (
    request: FastifyRequest,
    reply: FastifyReply,
    status = 200,
    error?: string,
    username?: string,
  ) =>
    sendPage(
      reply,
      status,
      signInPage({
        action: '/account/sign-in',
        request: sealRequest(app, ctx, { purpose: 'account' }),
        csrf: csrfToken(ctx, request, reply),
        ...(error ? { error } : {}),
        ...(username ? { username } : {}),
      }),
    )

  const guardForm = (request: FastifyRequest<{ Body: FormParams }>, reply: FastifyReply): boolean => {
    if (checkCsrf(request, request.body?.csrf)) return true
    sendPage(reply, 403, errorPage('This form could not be verified', 'Reload the page and try again.'))
    return false
  }

  app.get(
    '/account',
    { schema: { tags: ['account'], summary: 'Account page: sessions, sign out one or everywhere' } },
    async (request, reply) => {
      const user = await currentUser(request)
      if (!user) return showSignIn(request, reply)
      const sessions = await ctx.store.listActiveSessions(user.id, ctx.now())
      return sendPage(
        reply,
        200,
        accountPage({ username: user.username, sessions, csrf: csrfToken(ctx, request, reply) }),
      )
    },
  )

  app.post(
    '/account/sign-in',
    { schema: { hide: true } },
    async (request: FastifyRequest<{ Body: FormParams }>, reply) => {
      if (!guardForm(request, reply)) return reply
      const username = (request.body.username ?? '').slice(0, 255)
      const password = (request.body.password ?? '').slice(0, 1024)
      let user: User | undefined
      try {
        user = await checkPassword(ctx, {
          username,
          password,
          ip: request.ip,
          clientId: null,
          via: 'account',
        })
      } catch (error) {
        if (!(error instanceof TooManyRequests)) throw error
        reply.header('retry-after', error.headers()['retry-after'])
        return showSignIn(request, reply, 429, TOO_MANY, username)
      }
      if (!user) return showSignIn(request, reply, 401, WRONG_PASSWORD, username)
      setSignIn(ctx, reply, user.id)
      return reply.code(303).redirect('/account', 303)
    },
  )

  app.post<{ Params: { id: string }; Body: FormParams }>(
    '/account/sessions/:id/revoke',
    { schema: { hide: true } },
    async (request, reply) => {
      if (!guardForm(request, reply)) return reply
      const user = await currentUser(request)
      if (!user) return reply.code(303).redirect('/account', 303)
      const session = await ctx.store.findSession(request.params.id)
      if (session && session.userId === user.id) await endSession(ctx, session, 'revoked_by_user', request.ip)
      return reply.code(303).redirect('/account', 303)
    },
  )

  app.post(
    '/account/logout-all',
    { schema: { hide: true } },
    async (request: FastifyRequest<{ Body: FormParams }>, reply) => {
      if (!guardForm(request, reply)) return reply
      const user = await currentUser(request)
      if (user) await endUserSessions(ctx, user.id, null, 'logout_all', request.ip)
      clearSignIn(ctx, reply)
      return reply.code(303).redirect('/account', 303)
    },
  )

  app.post(
    '/account/sign-out',
    { schema: { hide: true } },
    async (request: FastifyRequest<{ Body: FormParams }>, reply) => {
      if (!guardForm(request, reply)) return reply
      clearSignIn(ctx, reply)
      return reply.code(303).redirect('/account', 303)
    },
  )
}
