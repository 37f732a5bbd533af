#!/usr/bin/env node
import { runCli } from './cli/run.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const status = await runCli(process.argv.slice(2), process.env, {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin,
})
// serve keeps running until a signal; every other command, and a serve that failed, ends here.
if (process.argv[2] !== 'serve' || status !== 0) process.exit(status)
