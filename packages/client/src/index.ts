export type {
  AfterResponseState,
  BeforeRefreshState,
  BeforeRequestState,
  ClientEvents,
  ClientOptions,
  Hooks,
  LogoutReason,
  RefreshReason,
  TesseraClient,
} from './client.js'
export { createClient } from './client.js'
export { DiscoveryError, isDiscoveryError } from './errors/discovery-error.js'
export { isNetworkError, NetworkError } from './errors/network-error.js'
export { isNotSignedInError, NotSignedInError } from './errors/not-signed-in-error.js'
export { isOAuthError, OAuthError } from './errors/oauth-error.js'
export type { ClientErrorCode } from './errors/tessera-client-error.js'
export { isTesseraClientError, TesseraClientError } from './errors/tessera-client-error.js'
export type { RetryOptions } from './retry.js'
export type { SyncTokenStorage, TokenStorage, Tokens } from './storage.js'
export { memoryStorage, webStorage } from './storage.js'
export type { ChannelLike, LockManagerLike } from './tabs.js'
