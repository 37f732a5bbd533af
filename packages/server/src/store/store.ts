/** Domain records as the rest of the server sees them: camelCase, parsed lists, ms timestamps. */
export interface User {
  id: string
  username: string
  passwordHash: string
  roles: string[]
  disabledAt: number | null
  createdAt: number
  passwordChangedAt: number
  /** Access tokens of this user issued before this moment and bound to no session are refused. */
  tokensValidAfter: number | null
}

export interface Client {
  id: string
  secretHash: string | null
  isPublic: boolean
  grantTypes: string[]
  scopes: string[]
  redirectUris: string[]
  requireConsent: boolean
  createdAt: number
}

/** A session is one refresh-token family; `generation` numbers its only live refresh token. */
export interface Session {
  id: string
  userId: string | null
  clientId: string
  scope: string
  generation: number
  createdAt: number
  lastUsedAt: number
  idleExpiresAt: number
  absoluteExpiresAt: number
  rotatedAt: number | null
  prevRotatedAt: number | null
  revokedAt: number | null
  revokedReason: string | null
  userAgent: string | null
  ip: string | null
}

export interface SigningKeyRow {
  kid: string
  alg: string
  publicJwk: string
  privateKey: string
  createdAt: number
  retiredAt: number | null
  publishUntil: number | null
  /** When the key starts signing; published in the JWKS from creation. Null: at creation. */
  activatesAt: number | null
}

export interface AuthorizationCode {
  codeHash: string
  clientId: string
  userId: string
  redirectUri: string
  scope: string
  codeChallenge: string | null
  createdAt: number
  expiresAt: number
  usedAt: number | null
  sessionId: string | null
}

/** `used` means the code was redeemed before: RFC 6749 §4.1.2 says revoke what it issued. */
export type RedeemResult =
  | { kind: 'redeemed'; code: AuthorizationCode }
  | { kind: 'used'; code: AuthorizationCode }
  | { kind: 'missing' }

export interface ApiKey {
  id: string
  name: string
  keyHash: string
  scopes: string[]
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
  revokedAt: number | null
}

export type AuditType =
  | 'login_succeeded'
  | 'login_failed'
  | 'login_rate_limited'
  | 'refresh_reuse_detected'
  | 'session_revoked'
  | 'key_rotated'
  | 'client_auth_failed'
  | 'user_created'
  | 'user_disabled'
  | 'password_changed'
  | 'client_created'
  | 'api_key_created'
  | 'access_token_revoked'
  | 'authorization_code_reused'

export interface AuditEvent {
  type: AuditType
  at: number
  userId?: string | null
  clientId?: string | null
  sessionId?: string | null
  ip?: string | null
  detail?: Record<string, unknown>
}

export interface RotateInput {
  sessionId: string
  generation: number
  clientId: string
  now: number
  idleTtlMs: number
}

/** What a rotation reads back: all a token response needs, and no more to convert per request. */
export type RotatedSession = Pick<Session, 'id' | 'userId' | 'clientId' | 'scope' | 'generation'>

/**
 * The outcome of one conditional rotation. `rotated` carries the session after the update;
 * `stale` carries the session as it stood when the update matched nothing (rotated already,
 * revoked, expired, or another client's), for the caller to judge grace or reuse.
 */
export type RotateResult =
  | { kind: 'rotated'; session: RotatedSession; userRoles: string[] }
  | { kind: 'stale'; session: Session }
  | { kind: 'missing' }

export interface StoreCapabilities {
  readonly dialect: 'sqlite' | 'postgres'
}

/** Domain operations over Tessera's state; one implementation serves every SQL dialect. */
export interface Store {
  readonly capabilities: StoreCapabilities
  migrate(): Promise<string[]>
  ping(): Promise<void>
  close(): Promise<void>

  createUser(user: User): Promise<void>
  findUserByUsername(username: string): Promise<User | undefined>
  findUserById(id: string): Promise<User | undefined>
  /** Disables the user and revokes every session of theirs in one transaction. */
  disableUser(userId: string, now: number): Promise<number>
  /** Sets a new password hash and revokes every session of the user in one transaction. */
  changePassword(userId: string, passwordHash: string, now: number): Promise<number>
  setUserRoles(userId: string, roles: string[]): Promise<void>

  createClient(client: Client): Promise<void>
  findClient(id: string): Promise<Client | undefined>
  /** Every redirect URI of every registered client. */
  listRedirectUris(): Promise<string[]>
  /** Every scope some registered client may ask for, sorted. */
  listClientScopes(): Promise<string[]>

  createSession(session: Session): Promise<void>
  findSession(id: string): Promise<Session | undefined>
  rotateRefreshToken(input: RotateInput): Promise<RotateResult>
  /** Revokes a session unless it is revoked already; true when this call revoked it. */
  revokeSession(id: string, reason: string, now: number): Promise<boolean>
  revokeUserSessions(userId: string, reason: string, now: number): Promise<number>
  listActiveSessions(userId: string, now: number): Promise<Session[]>

  revokeAccessToken(jti: string, expiresAt: number): Promise<void>
  isAccessTokenRevoked(jti: string, now: number): Promise<boolean>

  insertSigningKey(
    key: SigningKeyRow,
    retireOthersAt: number | null,
    publishUntil: number | null,
  ): Promise<void>
  listPublishedSigningKeys(now: number): Promise<SigningKeyRow[]>

  createApiKey(key: ApiKey): Promise<void>
  findApiKeyByHash(keyHash: string): Promise<ApiKey | undefined>
  touchApiKey(id: string, now: number): Promise<void>
  listApiKeys(): Promise<ApiKey[]>
  /** Revokes an API key unless it is revoked already; true when this call revoked it. */
  revokeApiKey(id: string, now: number): Promise<boolean>

  createAuthorizationCode(code: AuthorizationCode): Promise<void>
  /**
   * Marks a live code used, once, recording the session it is about to start: of concurrent
   * redeemers exactly one gets `redeemed`, and a replay learns which session to revoke.
   */
  redeemAuthorizationCode(codeHash: string, now: number, sessionId: string): Promise<RedeemResult>

  recordAudit(event: AuditEvent): Promise<void>
  listAudit(filter: { type?: AuditType; sessionId?: string; userId?: string }): Promise<AuditEvent[]>
  /** Deletes rows no longer needed: expired sessions and deny-list entries past their expiry. */
  purgeExpired(now: number): Promise<void>
}

/** A username, client id or key that exists already. */
export class AlreadyExists extends Error {}
