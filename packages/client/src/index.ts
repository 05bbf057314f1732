/**
 * The chat's client SDK: a visitor's conversation with a site, for custom chat UIs (browsers)
 * and site back ends (Node ≥ 20). Every message reaches the caller exactly once, in `seq`
 * order, whatever the network does.
 *
 * @packageDocumentation
 */
export { createChatClient } from './client.js'
export { ChatApiError } from './types.js'
export type { Attachment, Availability, ChatClient, ChatClientOptions, ChatEvents, ChatStorage, ConnectionState, Message, Rating, SendOptions, Session, StartDetails, UploadOptions } from './types.js'
export type * as Wire from './wire.js'
