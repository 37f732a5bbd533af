/** The origins a browser app may call from: the issuer's and those of the given redirect URIs. */
export function appOrigins(issuer: string, redirectUris: readonly string[]): Set<string> {
  const origins = new Set([new URL(issuer).origin])
  for (const uri of redirectUris) {
    try {
      origins.add(new URL(uri).origin)
    } catch {}
  }
  return origins
}
