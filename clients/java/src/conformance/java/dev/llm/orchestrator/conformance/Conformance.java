package dev.llm.orchestrator.conformance;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llm.orchestrator.client.ErrorDetails;
import dev.llm.orchestrator.client.Orchestrator;
import dev.llm.orchestrator.v1.GenerateRequest;
import dev.llm.orchestrator.v1.GenerateResponse;
import dev.llm.orchestrator.v1.GenerationParams;
import dev.llm.orchestrator.v1.GenerationServiceGrpc;
import dev.llm.orchestrator.v1.GenerationServiceGrpc.GenerationServiceBlockingStub;
import dev.llm.orchestrator.v1.ModelSelection;
import dev.llm.orchestrator.v1.StreamGenerateResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Driven by tests/test_clients.py against a real server: {@code Conformance SCENARIO TARGET} prints one JSON line,
 * {"ok": {...}} or {"error": {...}} (the same shape for every language's client).
 */
public final class Conformance {
  private static GenerateRequest request(Map<String, String> variables) {
    Struct.Builder vars = Struct.newBuilder();
    variables.forEach((k, v) -> vars.putFields(k, Value.newBuilder().setStringValue(v).build()));
    return GenerateRequest.newBuilder()
        .setTemplateId("code_generation")
        .setVariables(vars)
        .setSelection(ModelSelection.newBuilder().setPreferredModel("primary"))
        .setParams(GenerationParams.newBuilder().setMaxOutputTokens(64))
        .putMetadata("client", "java")
        .build();
  }

  private static Map<String, Object> generate(GenerationServiceBlockingStub stub, GenerateRequest req, long timeoutMs) {
    GenerateResponse answer = stub.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS).generate(req);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("text", answer.getText());
    out.put("model", answer.getModel());
    out.put("output_tokens", answer.getUsage().getOutputTokens());
    out.put("finish_reason", answer.getFinishReason().name());
    return out;
  }

  private static Map<String, Object> stream(GenerationServiceBlockingStub stub, GenerateRequest req) {
    List<String> events = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    Map<String, Object> out = new LinkedHashMap<>();
    Iterator<StreamGenerateResponse> call = stub.withDeadlineAfter(30, TimeUnit.SECONDS).streamGenerate(req);
    while (call.hasNext()) {
      StreamGenerateResponse event = call.next();
      events.add(event.getEventCase().name().toLowerCase());
      switch (event.getEventCase()) {
        case DELTA -> text.append(event.getDelta().getText());
        case FINAL -> {
          out.put("model", event.getFinal().getModel());
          out.put("output_tokens", event.getFinal().getUsage().getOutputTokens());
        }
        default -> {}
      }
    }
    out.put("events", events);
    out.put("text", text.toString());
    return out;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: Conformance SCENARIO TARGET");
      System.exit(2);
    }
    ManagedChannel channel = Orchestrator.plaintext(args[1], System.getenv("ORCHESTRATOR_API_KEY"));
    GenerationServiceBlockingStub stub = GenerationServiceGrpc.newBlockingStub(channel);
    Map<String, String> valid = Map.of("requirement", "reverse a string", "language", "java");
    Map<String, Callable<Map<String, Object>>> scenarios =
        Map.of(
            "generate", () -> generate(stub, request(valid), 30_000),
            "stream", () -> stream(stub, request(valid)),
            "invalid", () -> generate(stub, request(Map.of()), 30_000),
            "rate_limited", () -> generate(stub, request(valid), 30_000),
            "unavailable", () -> generate(stub, request(valid), 30_000),
            "deadline", () -> generate(stub, request(valid), 500),
            "bearer", () -> generate(stub, request(valid), 30_000));
    if (!scenarios.containsKey(args[0])) {
      System.err.println("unknown scenario " + args[0]);
      System.exit(2);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    try {
      out.put("ok", scenarios.get(args[0]).call());
    } catch (StatusRuntimeException e) {
      ErrorDetails details = ErrorDetails.from(e);
      Map<String, Object> error = new LinkedHashMap<>();
      error.put("code", details.code().name());
      error.put("reason", details.reason());
      error.put("field_violations", details.fieldViolations());
      error.put("retry_delay_seconds", details.retryDelay().map(d -> d.toNanos() / 1e9).orElse(null));
      out.put("error", error);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.out.println(json(out));
  }

  /** Just enough JSON for this output: maps, lists, strings, numbers and null. */
  private static String json(Object value) {
    if (value == null) return "null";
    if (value instanceof Number) return value.toString();
    if (value instanceof Map<?, ?> map) {
      return map.entrySet().stream()
          .map(e -> json(e.getKey().toString()) + ":" + json(e.getValue()))
          .collect(Collectors.joining(",", "{", "}"));
    }
    if (value instanceof List<?> list) {
      return list.stream().map(Conformance::json).collect(Collectors.joining(",", "[", "]"));
    }
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toString().toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }
}
