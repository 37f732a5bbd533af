import type { ServerContext } from '../context.js'
import type { FormParams } from '../http/form-body.js'
import type { Client } from '../store/store.js'

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token?: string
  scope: string
}

export interface GrantRequest {
  ctx: ServerContext
  client: Client
  params: FormParams
  ip: string
  userAgent: string | undefined
}

/** The shape every grant module exports; the token endpoint dispatches through a map of them. */
export interface Grant {
  readonly grantType: string
  /** The form parameters this grant reads besides grant_type and client authentication. */
  readonly parameters: readonly string[]
  handler(request: GrantRequest): Promise<TokenResponse>
}
