import { errors as joseErrors, jwtVerify } from 'jose'
import { InvalidToken } from '../errors.js'
import type { Store } from '../store/store.js'
import type { AccessTokenClaims } from './access-token.js'
import type { Keystore } from './keys.js'
import type { RevocationCache } from './revocation-cache.js'

const MAX_TOKEN_LENGTH = 8192

/**
 * Verifies Tessera's own access tokens for the server's endpoints (account API, introspection,
 * revocation): signature by a published key with the key's own algorithm, `typ: at+jwt`,
 * issuer, audience and expiry, then the deny-list and the session, so a revoked token or a
 * token of a revoked session is refused at once (SPEC §6).
 */
export class AccessTokenVerifier {
  constructor(
    private readonly keys: Keystore,
    private readonly store: Store,
    private readonly revocations: RevocationCache,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly now: () => number,
  ) {}

  /** Signature and claims only; throws {@link InvalidToken}. */
  async verifySignature(token: string): Promise<AccessTokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3)
      throw new InvalidToken('the access token is malformed')
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const entry = header.kid === undefined ? undefined : this.keys.publicKey(header.kid)
          // The key decides the algorithm, never the token's header (RFC 8725 §3.1).
          if (!entry || entry.alg !== header.alg)
            throw new InvalidToken('the access token is signed by an unknown key')
          return entry.key
        },
        {
          algorithms: ['EdDSA', 'ES256', 'RS256', 'HS256'],
          issuer: this.issuer,
          audience: this.audience,
          typ: 'at+jwt',
          clockTolerance: 5,
          currentDate: new Date(this.now()),
          requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
        },
      )
      return payload as unknown as AccessTokenClaims
    } catch (error) {
      if (error instanceof InvalidToken) throw error
      if (error instanceof joseErrors.JWTExpired) throw new InvalidToken('the access token has expired')
      if (error instanceof joseErrors.JOSEError) throw new InvalidToken('the access token is invalid')
      throw error
    }
  }

  /** Signature, claims, deny-list and session: the token is usable right now. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const claims = await this.verifySignature(token)
    const now = this.now()
    // The fast "no": revocations this process made or heard on the change feed cost no query.
    if (
      this.revocations.isTokenRevoked(claims.jti) ||
      (claims.sid !== undefined && this.revocations.isSessionRevoked(claims.sid))
    ) {
      throw new InvalidToken('the access token has been revoked')
    }
    if (await this.store.isAccessTokenRevoked(claims.jti, now))
      throw new InvalidToken('the access token has been revoked')
    if (claims.sid === undefined && claims.sub !== claims.client_id) {
      // No session to revoke (a client without the refresh grant): the user's own state decides.
      const user = await this.store.findUserById(claims.sub)
      if (
        !user ||
        user.disabledAt !== null ||
        (user.tokensValidAfter !== null && claims.iat * 1000 < user.tokensValidAfter)
      ) {
        throw new InvalidToken('the access token has been revoked')
      }
    }
    if (claims.sid !== undefined) {
      const session = await this.store.findSession(claims.sid)
      if (!session || session.revokedAt !== null)
        throw new InvalidToken('the session of this access token has ended')
    }
    return claims
  }
}
