// A gRPC transport for Node with the orchestrator's calling conventions (deadline, keepalive, retry of
// UNAVAILABLE, bearer key), and the decoding of its google.rpc error details.

import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";

export const DEFAULT_TIMEOUT_MS = 120_000;
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface OrchestratorTransportOptions {
  /** "host:port" (plaintext unless `tls`), or a URL "http://host:port" / "https://host:port". */
  target: string;
  /** Sent as `authorization: Bearer <apiKey>` on every call. Use TLS outside a trusted network. */
  apiKey?: string;
  tls?: boolean;
  /** Deadline of every call that sets no `timeoutMs` of its own. */
  defaultTimeoutMs?: number;
  /** Tries of a unary call that fails with UNAVAILABLE (1 turns retries off). */
  maxAttempts?: number;
  /** Runs after the bearer and retry interceptors. */
  interceptors?: Interceptor[];
}

/** The transport for `createClient(GenerationService, transport)` and every other service of the contract. */
export function createOrchestratorTransport(options: OrchestratorTransportOptions): Transport {
  const interceptors: Interceptor[] = [];
  if (options.apiKey) interceptors.push(bearer(options.apiKey));
  interceptors.push(retryUnavailable(options.maxAttempts ?? 3), ...(options.interceptors ?? []));
  return createGrpcTransport({
    baseUrl: baseUrl(options.target, options.tls ?? false),
    interceptors,
    defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    readMaxBytes: MAX_MESSAGE_BYTES,
    writeMaxBytes: MAX_MESSAGE_BYTES,
    // Ping every 30 s while calls are open so a dead connection is noticed during long streams; the server
    // accepts pings no more often than every 10 s.
    pingIntervalMs: 30_000,
    pingTimeoutMs: 10_000,
    pingIdleConnection: false,
  });
}

function baseUrl(target: string, tls: boolean): string {
  if (/^https?:\/\//.test(target)) return target;
  return `${tls ? "https" : "http"}://${target}`;
}

/** Adds `authorization: Bearer <apiKey>` to every request. */
export function bearer(apiKey: string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${apiKey}`);
    return next(req);
  };
}

/**
 * Retries unary calls that end with UNAVAILABLE (the server was restarting, or every model route was down),
 * with exponential backoff and full jitter, within the call's deadline: what gRPC's retry policy does for the
 * other languages. Streams are not retried (their first events may already have been consumed).
 */
export function retryUnavailable(maxAttempts: number, initialBackoffMs = 250, maxBackoffMs = 2_000): Interceptor {
  return (next) => async (req) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (err) {
        const retryable = !req.stream && ConnectError.from(err).code === Code.Unavailable;
        if (!retryable || attempt >= maxAttempts || req.signal.aborted) throw err;
        const ceiling = Math.min(initialBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  };
}

/** What the orchestrator says about a failed call: the canonical code and its google.rpc details. */
export interface ErrorDetails {
  code: Code;
  /** The canonical gRPC name, e.g. "INVALID_ARGUMENT". */
  codeName: string;
  message: string;
  /** ErrorInfo.reason in UPPER_SNAKE_CASE, e.g. "MISSING_TEMPLATE_VARIABLES"; "" when absent. */
  reason: string;
  metadata: Record<string, string>;
  /** BadRequest field violations: field path -> description. */
  fieldViolations: Record<string, string>;
  /** RetryInfo: how long to wait before trying again. */
  retryDelayMs?: number;
}

/** Decodes the google.rpc.Status that the server sends in the `grpc-status-details-bin` trailer. */
export function errorDetails(error: unknown): ErrorDetails {
  const err = ConnectError.from(error);
  const info = err.findDetails(ErrorInfoSchema)[0];
  const fieldViolations: Record<string, string> = {};
  for (const bad of err.findDetails(BadRequestSchema)) {
    for (const violation of bad.fieldViolations) fieldViolations[violation.field] = violation.description;
  }
  const delay = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return {
    code: err.code,
    codeName: canonicalName(err.code),
    message: err.rawMessage,
    reason: info?.reason ?? "",
    metadata: { ...(info?.metadata ?? {}) },
    fieldViolations,
    retryDelayMs: delay === undefined ? undefined : Number(delay.seconds) * 1000 + delay.nanos / 1e6,
  };
}

/** Code.InvalidArgument -> "INVALID_ARGUMENT" (connect's enum names are CamelCase; the numbers are gRPC's). */
export function canonicalName(code: Code): string {
  if (code === Code.Canceled) return "CANCELLED"; // connect spells it the American way
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
