import { ConfigError, loadConfig } from '../config.js'
import {
  apiKeysCommand,
  clientsCommand,
  type Io,
  keysCommand,
  migrateCommand,
  usersCommand,
} from './admin-commands.js'
import { doctorCommand } from './doctor.js'
import { serveCommand } from './serve.js'
import { USAGE, UsageError } from './usage.js'

/**
 * Runs the `tessera` command line and returns its exit status: 0 done, 1 failed, 2 bad
 * arguments or configuration (one line on stderr).
 *
 * @example
 * process.exitCode = await runCli(['users', 'create', '--username', 'a', '--password', 'pw-123456'], process.env, io)
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const [command, ...args] = argv
  try {
    switch (command) {
      case 'serve':
        await serveCommand(env, args, io)
        return 0
      case 'migrate':
        await migrateCommand(loadConfig(env), args, io)
        return 0
      case 'users':
        await usersCommand(loadConfig(env), args, io)
        return 0
      case 'clients':
        await clientsCommand(loadConfig(env), args, io)
        return 0
      case 'api-keys':
        await apiKeysCommand(loadConfig(env), args, io)
        return 0
      case 'doctor':
        return (await doctorCommand(loadConfig(env), args, io)) ? 0 : 1
      case 'keys':
        await keysCommand(loadConfig(env), args, io)
        return 0
      case undefined:
        throw new UsageError('a command is required; run "tessera help"')
      case '--help':
      case 'help':
        io.stdout(USAGE)
        return 0
      default:
        throw new UsageError(`unknown command "${command}"; run "tessera help"`)
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr(`tessera: ${error.message}`)
      return 2
    }
    const cause = (error as { cause?: { message?: string } }).cause?.message
    io.stderr(`tessera: ${(error as Error).message}${cause ? ` (${cause})` : ''}`)
    return 1
  }
}
