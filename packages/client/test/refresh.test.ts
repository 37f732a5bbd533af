import { describe, expect, it } from 'vitest'
import { SingleFlight, withSignal } from '../src/refresh.js'

const deferred = <T>() => {
  let resolve: (value: T) => void = () => {}
  let reject: (error: unknown) => void = () => {}
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('single flight', () => {
  it('concurrent callers share one run', async () => {
    const flight = new SingleFlight<number>()
    const gate = deferred<number>()
    let runs = 0
    const task = () => {
      runs++
      return gate.promise
    }
    const callers = Array.from({ length: 100 }, () => flight.run(task))
    expect(flight.busy).toBe(true)
    gate.resolve(7)
    expect(await Promise.all(callers)).toEqual(Array(100).fill(7))
    expect(runs).toBe(1)
    expect(flight.busy).toBe(false)
  })

  it('a settled run, even a failed one, lets the next caller start afresh', async () => {
    const flight = new SingleFlight<number>()
    await expect(flight.run(() => Promise.reject(new Error('down')))).rejects.toThrow('down')
    expect(await flight.run(async () => 2)).toBe(2)
  })

  it('every caller sees the failure of the shared run', async () => {
    const flight = new SingleFlight<number>()
    const gate = deferred<number>()
    const callers = [flight.run(() => gate.promise), flight.run(() => gate.promise)]
    gate.reject(new Error('invalid_grant'))
    for (const caller of callers) await expect(caller).rejects.toThrow('invalid_grant')
  })
})

describe('waiting with an AbortSignal', () => {
  it('an aborted caller gives up while the shared run goes on for the others', async () => {
    const gate = deferred<string>()
    const controller = new AbortController()
    const mine = withSignal(gate.promise, controller.signal)
    const theirs = withSignal(gate.promise, new AbortController().signal)
    controller.abort(new Error('navigated away'))
    await expect(mine).rejects.toThrow('navigated away')
    gate.resolve('tokens')
    expect(await theirs).toBe('tokens')
  })

  it('an already aborted signal rejects at once', async () => {
    await expect(withSignal(new Promise(() => {}), AbortSignal.abort(new Error('gone')))).rejects.toThrow(
      'gone',
    )
  })

  it('without a signal the shared promise itself is returned', () => {
    const shared = Promise.resolve(1)
    expect(withSignal(shared, undefined)).toBe(shared)
  })
})
