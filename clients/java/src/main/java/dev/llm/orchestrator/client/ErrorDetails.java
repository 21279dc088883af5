package dev.llm.orchestrator.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.llm.orchestrator.rpc.BadRequest;
import dev.llm.orchestrator.rpc.ErrorInfo;
import dev.llm.orchestrator.rpc.RetryInfo;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the orchestrator says about a failed call: the canonical code and the google.rpc details that it sends in
 * the {@code grpc-status-details-bin} trailer (ErrorInfo reason, BadRequest field violations, RetryInfo).
 *
 * @param reason ErrorInfo.reason in UPPER_SNAKE_CASE (e.g. MISSING_TEMPLATE_VARIABLES); "" when absent
 * @param fieldViolations each bad field's path (e.g. variables.requirement) -> what is wrong with it
 * @param retryDelay RetryInfo's advice: wait this long before trying again
 */
public record ErrorDetails(
    Status.Code code,
    String message,
    String reason,
    Map<String, String> metadata,
    Map<String, String> fieldViolations,
    Optional<Duration> retryDelay) {

  static final Metadata.Key<byte[]> STATUS_DETAILS =
      Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);

  /** Decodes the error a stub threw (a StatusRuntimeException, or anything wrapping one). */
  public static ErrorDetails from(Throwable error) {
    Status status = Status.fromThrowable(error);
    Metadata trailers = Status.trailersFromThrowable(error);
    byte[] raw = trailers == null ? null : trailers.get(STATUS_DETAILS);
    String reason = "";
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, String> fields = new LinkedHashMap<>();
    Duration delay = null;
    if (raw != null) {
      try {
        for (Any detail : dev.llm.orchestrator.rpc.Status.parseFrom(raw).getDetailsList()) {
          if (detail.is(ErrorInfo.class)) {
            ErrorInfo info = detail.unpack(ErrorInfo.class);
            reason = info.getReason();
            metadata.putAll(info.getMetadataMap());
          } else if (detail.is(BadRequest.class)) {
            for (BadRequest.FieldViolation v : detail.unpack(BadRequest.class).getFieldViolationsList()) {
              fields.put(v.getField(), v.getDescription());
            }
          } else if (detail.is(RetryInfo.class)) {
            com.google.protobuf.Duration d = detail.unpack(RetryInfo.class).getRetryDelay();
            delay = Duration.ofSeconds(d.getSeconds(), d.getNanos());
          }
        }
      } catch (InvalidProtocolBufferException e) {
        // Undecodable details: the code and message still say what happened.
      }
    }
    String message = status.getDescription() == null ? "" : status.getDescription();
    return new ErrorDetails(status.getCode(), message, reason, metadata, fields, Optional.ofNullable(delay));
  }
}
