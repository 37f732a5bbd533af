import { createHash, timingSafeEqual } from 'node:crypto'
import { InvalidGrant } from '../errors.js'
import { param, requiredParam } from '../http/form-body.js'
import { endSession } from '../revocation.js'
import { RefreshTokenCodec } from '../tokens/refresh-token.js'
import type { Grant } from './grant.js'
import { startSession } from './session-tokens.js'

const INVALID = 'the authorization code is invalid, expired or already used'

export const hashCode = (code: string) => createHash('sha256').update(code).digest('hex')

/** RFC 7636 §4.6: BASE64URL(SHA256(verifier)) must equal the challenge, compared in constant time. */
function verifierMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

/**
 * Authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636). A code is redeemed once;
 * presenting it again revokes the session it started (RFC 6749 §4.1.2), since a replayed code
 * means someone else holds it.
 */
export const authorizationCodeGrant: Grant = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier'],
  async handler({ ctx, client, params, ip, userAgent }) {
    const code = requiredParam(params, 'code', 256)
    const redirectUri = param(params, 'redirect_uri', 2048)
    const verifier = param(params, 'code_verifier', 256)
    const now = ctx.now()
    const sessionId = RefreshTokenCodec.newSessionId()
    const result = await ctx.store.redeemAuthorizationCode(hashCode(code), now, sessionId)
    if (result.kind === 'missing') throw new InvalidGrant(INVALID)
    const redeemed = result.code
    if (result.kind === 'used') {
      if (redeemed.clientId === client.id && redeemed.sessionId) {
        await ctx.audit.record({
          type: 'authorization_code_reused',
          at: now,
          userId: redeemed.userId,
          clientId: client.id,
          sessionId: redeemed.sessionId,
          ip,
        })
        const session = await ctx.store.findSession(redeemed.sessionId)
        if (session) await endSession(ctx, session, 'authorization_code_reuse', ip)
      }
      throw new InvalidGrant(INVALID)
    }
    if (redeemed.clientId !== client.id) throw new InvalidGrant(INVALID)
    // RFC 6749 §4.1.3: the redirect_uri must be identical to the one the code was issued for.
    if (
      redeemed.redirectUri !== ''
        ? redirectUri !== redeemed.redirectUri
        : redirectUri !== undefined && !client.redirectUris.includes(redirectUri)
    ) {
      throw new InvalidGrant('redirect_uri differs from the authorization request')
    }
    if (redeemed.codeChallenge !== null) {
      if (verifier === undefined) throw new InvalidGrant('code_verifier is missing')
      if (!verifierMatches(verifier, redeemed.codeChallenge))
        throw new InvalidGrant('code_verifier does not match the code challenge')
    } else if (verifier !== undefined) {
      // RFC 9700 §2.1.1: a verifier without a challenge is a PKCE downgrade attempt.
      throw new InvalidGrant('code_verifier sent for a code issued without a code challenge')
    }
    const user = await ctx.store.findUserById(redeemed.userId)
    if (!user || user.disabledAt !== null) throw new InvalidGrant(INVALID)
    return startSession(ctx, 'authorization_code', {
      client,
      user,
      scope: redeemed.scope,
      ip,
      userAgent,
      sessionId,
    })
  },
}
