/**
 * The agent's wire protocol: message schemas (one definition, validated on both ends), the
 * codec, base64 for bytes, and the client the UI and the tests use.
 */
export * from "./schema";
export * from "./messages";
export * from "./codec";
export { toBase64, fromBase64 } from "./base64";
export { AgentClient, AgentRequestError, type ClientOptions, type WebSocketLike, type WebSocketConstructor, type Subscription, type CloseInfo } from "./client";
