export type { AdminContext } from './admin.js'
export {
  changePassword,
  createClient,
  createUser,
  disableUser,
  openAdmin,
  rotateSigningKey,
  setRoles,
} from './admin.js'
export { createApiKey, revokeApiKey } from './api-keys.js'
export type { BuildOptions } from './app.js'
export { buildApp } from './app.js'
export { runCli } from './cli/run.js'
export type { Config, SigningAlg } from './config.js'
export { ConfigError, loadConfig } from './config.js'
export {
  AccessDenied,
  InsufficientScope,
  InvalidClient,
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  InvalidToken,
  MissingToken,
  NotFound,
  OAuthError,
  PayloadTooLarge,
  StoreUnavailable,
  TemporarilyUnavailable,
  TooManyRequests,
  UnauthorizedClient,
  UnsupportedGrantType,
  UnsupportedTokenType,
} from './errors.js'
export { createStore, KyselyStore } from './store/kysely-store.js'
export type { AuditEvent, Client, Session, Store, User } from './store/store.js'
