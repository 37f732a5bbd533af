import { InvalidRequest, InvalidScope } from './errors.js'

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Splits a scope string into its tokens; rejects characters RFC 6749 §3.3 does not allow. */
export function parseScope(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return []
  const tokens = raw.split(' ').filter(Boolean)
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token))
      throw new InvalidRequest('scope contains a character RFC 6749 §3.3 does not allow')
  }
  return [...new Set(tokens)]
}

/**
 * The scope to grant: what was asked for when it is within `allowed`, or all of `allowed` when
 * nothing was asked for. Anything broader is `invalid_scope`.
 */
export function grantScope(requested: string | undefined, allowed: readonly string[]): string {
  const asked = parseScope(requested)
  if (asked.length === 0) return allowed.join(' ')
  const outside = asked.filter((s) => !allowed.includes(s))
  if (outside.length > 0) throw new InvalidScope(`scope not allowed here: ${outside.join(' ')}`)
  return asked.join(' ')
}
