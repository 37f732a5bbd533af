import type { Compilable, CompiledQuery } from 'kysely'

/**
 * Builds and compiles a Kysely query once, then reuses its SQL with new parameters. Building a
 * query tree and compiling it costs more than SQLite takes to run a keyed update, so on the
 * rotation hot path it is done at start-up. The query is built with a unique sentinel for each
 * input (an array input is recognised by identity); bound parameters that are not sentinels are
 * constants of the query and stay as they are.
 */
export function prepareQuery<I extends Record<string, string | number | readonly unknown[]>, R>(
  build: (input: I) => Compilable<R>,
  sentinels: I,
): (input: I) => CompiledQuery<R> {
  const compiled = build(sentinels).compile()
  const byValue = new Map<unknown, keyof I>(
    Object.entries(sentinels).map(([key, value]) => [value, key as keyof I]),
  )
  if (byValue.size !== Object.keys(sentinels).length) throw new TypeError('sentinel values must be distinct')
  const slots = compiled.parameters.map((value) => ({ key: byValue.get(value), value }))
  // Kysely inlines some values as SQL literals; a sentinel baked into the text would be reused forever.
  const inlined = Object.values(sentinels).filter((value) =>
    compiled.sql.includes(typeof value === 'string' ? `'${value}'` : String(value)),
  )
  if (inlined.length > 0)
    throw new TypeError(`the prepared query inlines an input as a literal: ${inlined.join(', ')}`)
  const missing = Object.keys(sentinels).filter((key) => !slots.some((slot) => slot.key === key))
  if (missing.length > 0) throw new TypeError(`the prepared query does not use: ${missing.join(', ')}`)
  return (input) => ({
    ...compiled,
    parameters: slots.map((slot) => (slot.key === undefined ? slot.value : input[slot.key])),
  })
}
