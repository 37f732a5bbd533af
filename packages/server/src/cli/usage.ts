import { type ParseArgsConfig, parseArgs } from 'node:util'

/** A bad command line: printed as one line, exit status 2. */
export class UsageError extends Error {}

export const USAGE = `usage:
  tessera serve [--host 127.0.0.1] [--port 8080] [--demo]
  tessera migrate
  tessera users create --username NAME (--password P | --password-stdin) [--roles r1,r2] [--json]
  tessera users disable NAME [--json]
  tessera users roles NAME --roles r1,r2 [--json]
  tessera users password NAME (--password P | --password-stdin) [--json]   # revokes every session
  tessera clients create --id ID (--secret S | --public) --grant-types g1,g2 [--scopes "s1 s2"] [--redirect-uris u1,u2] [--json]
  tessera api-keys create --name N --scopes "s1 s2" [--expires-in SECONDS] [--json]
  tessera api-keys list [--json]
  tessera api-keys revoke ID [--json]
  tessera keys rotate [--activate-in SECONDS | --now] [--json]   # default: publish now, sign in 120 s
  tessera doctor [--url http://127.0.0.1:8080] [--quick] [--json]`

type Options = NonNullable<ParseArgsConfig['options']>

/** Parses a subcommand's arguments strictly; anything unexpected is a {@link UsageError}. */
export type Parsed<O extends Options> = {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string }
  positionals: string[]
}

export function parse<O extends Options>(args: string[], options: O, positionals = 0): Parsed<O> {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals > 0 })
    if (parsed.positionals.length > positionals)
      throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`)
    return parsed as unknown as Parsed<O>
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError((error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, ''))
  }
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`)
  return value
}

export const commaList = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
export const spaceList = (value: string | undefined) => (value ?? '').split(/\s+/).filter(Boolean)
