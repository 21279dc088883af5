package dev.llm.orchestrator.client;

import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Channels to the LLM Orchestrator with its calling conventions: keepalive, retry of UNAVAILABLE, message limits
 * and an optional bearer key. Create any service's stub on the channel, e.g.
 * {@code GenerationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)}: every call
 * should carry a deadline, as the orchestrator's answers can take long.
 */
public final class Orchestrator {
  public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private Orchestrator() {}

  /** A plaintext channel (loopback, or inside a network that encrypts for you). apiKey may be null. */
  public static ManagedChannel plaintext(String target, String apiKey) {
    return configure(ManagedChannelBuilder.forTarget(target).usePlaintext(), apiKey).build();
  }

  /** A TLS channel with the JVM's trust store. apiKey may be null. */
  public static ManagedChannel tls(String target, String apiKey) {
    return configure(ManagedChannelBuilder.forTarget(target).useTransportSecurity(), apiKey).build();
  }

  /** Applies the orchestrator's settings to a builder of your own (custom TLS, executors, ...). */
  public static ManagedChannelBuilder<?> configure(ManagedChannelBuilder<?> builder, String apiKey) {
    // Ping every 30 s while calls are open so a dead connection is noticed during long streams; the server
    // accepts pings no more often than every 10 s.
    builder
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .keepAliveWithoutCalls(false)
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .defaultServiceConfig(serviceConfig())
        .enableRetry();
    if (apiKey != null && !apiKey.isEmpty()) {
      builder.intercept(withCredentials(bearer(apiKey)));
    }
    return builder;
  }

  /**
   * Retries a call of any method that failed with UNAVAILABLE (the server was restarting, or every model route
   * was down) before any response arrived; throttling stops a retry storm when the server is down. grpc-java
   * wants JSON numbers as Double.
   */
  public static Map<String, ?> serviceConfig() {
    Map<String, ?> retryPolicy =
        Map.of(
            "maxAttempts", 3.0,
            "initialBackoff", "0.25s",
            "maxBackoff", "2s",
            "backoffMultiplier", 2.0,
            "retryableStatusCodes", List.of("UNAVAILABLE"));
    return Map.of(
        "methodConfig", List.of(Map.of("name", List.of(Map.of()), "retryPolicy", retryPolicy)),
        "retryThrottling", Map.of("maxTokens", 10.0, "tokenRatio", 0.1));
  }

  /** Sends {@code authorization: Bearer <apiKey>}. Use TLS outside a trusted network. */
  public static CallCredentials bearer(String apiKey) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + apiKey);
        applier.apply(headers);
      }

      @Override
      public void thisUsesUnstableApi() {}
    };
  }

  /** Attaches these credentials to every call made through the channel. */
  public static ClientInterceptor withCredentials(CallCredentials credentials) {
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
        return next.newCall(method, options.withCallCredentials(credentials));
      }
    };
  }
}
