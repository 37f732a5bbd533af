import { type FetchLike, fetchJson } from './fetch-json.js'

export interface AuthorizationServerMetadata {
  readonly issuer: string
  readonly jwks_uri?: string
  readonly introspection_endpoint?: string
  readonly [field: string]: unknown
}

/** RFC 8414 §3.1: the well-known suffix goes between the host and any issuer path. */
export function metadataUrl(issuer: string): string {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  return `${url.origin}/.well-known/oauth-authorization-server${path}`
}

export interface MetadataSource {
  get(): Promise<AuthorizationServerMetadata>
}

export function createMetadataSource(issuer: string, fetch: FetchLike, timeout: number): MetadataSource {
  let loaded: AuthorizationServerMetadata | undefined
  let inflight: Promise<AuthorizationServerMetadata> | undefined

  async function load(): Promise<AuthorizationServerMetadata> {
    const document = await fetchJson(metadataUrl(issuer), { fetch, timeout })
    // RFC 8414 §3.3: a document naming another issuer is ignored (mix-up attacks).
    if (document.issuer !== issuer) throw new Error(`metadata names issuer ${String(document.issuer)}`)
    for (const field of ['jwks_uri', 'introspection_endpoint'] as const) {
      if (document[field] !== undefined && typeof document[field] !== 'string') {
        throw new Error(`metadata field ${field} is not a string`)
      }
    }
    return document as AuthorizationServerMetadata
  }

  return {
    get() {
      if (loaded) return Promise.resolve(loaded)
      inflight ??= load().then(
        (document) => {
          loaded = document
          inflight = undefined
          return document
        },
        (error: unknown) => {
          inflight = undefined
          throw error
        },
      )
      return inflight
    },
  }
}
