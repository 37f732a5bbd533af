/** Timestamps are milliseconds since the epoch (bigint columns); booleans are 0/1 on every dialect. */
export interface Database {
  users: UsersTable
  clients: ClientsTable
  sessions: SessionsTable
  signing_keys: SigningKeysTable
  revoked_access_tokens: RevokedAccessTokensTable
  api_keys: ApiKeysTable
  audit_events: AuditEventsTable
  authorization_codes: AuthorizationCodesTable
}

export interface UsersTable {
  id: string
  username: string
  password_hash: string
  roles: string
  disabled_at: number | null
  created_at: number
  password_changed_at: number
  tokens_valid_after: number | null
}

export interface ClientsTable {
  id: string
  secret_hash: string | null
  is_public: number
  grant_types: string
  scopes: string
  redirect_uris: string
  require_consent: number
  created_at: number
}

export interface SessionsTable {
  id: string
  user_id: string | null
  client_id: string
  scope: string
  generation: number
  created_at: number
  last_used_at: number
  idle_expires_at: number
  absolute_expires_at: number
  rotated_at: number | null
  prev_rotated_at: number | null
  revoked_at: number | null
  revoked_reason: string | null
  user_agent: string | null
  ip: string | null
}

export interface SigningKeysTable {
  kid: string
  alg: string
  public_jwk: string
  private_key: string
  created_at: number
  retired_at: number | null
  publish_until: number | null
  activates_at: number | null
}

export interface RevokedAccessTokensTable {
  jti: string
  expires_at: number
}

export interface ApiKeysTable {
  id: string
  name: string
  key_hash: string
  scopes: string
  created_at: number
  expires_at: number | null
  last_used_at: number | null
  revoked_at: number | null
}

export interface AuditEventsTable {
  id: string
  at: number
  type: string
  user_id: string | null
  client_id: string | null
  session_id: string | null
  ip: string | null
  detail: string | null
}

export interface AuthorizationCodesTable {
  code_hash: string
  client_id: string
  user_id: string
  redirect_uri: string
  scope: string
  code_challenge: string | null
  created_at: number
  expires_at: number
  used_at: number | null
  session_id: string | null
}
