package dev.llm.orchestrator.example;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llm.orchestrator.client.ErrorDetails;
import dev.llm.orchestrator.client.Orchestrator;
import dev.llm.orchestrator.v1.GenerateRequest;
import dev.llm.orchestrator.v1.GenerateResponse;
import dev.llm.orchestrator.v1.GenerationParams;
import dev.llm.orchestrator.v1.GenerationServiceGrpc;
import dev.llm.orchestrator.v1.StreamGenerateResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/** The README example: one answer, then the same request streamed. Argument: host:port. */
public final class GenerateExample {
  public static void main(String[] args) throws InterruptedException {
    String target = args.length > 0 ? args[0] : System.getenv().getOrDefault("ORCHESTRATOR_TARGET", "localhost:50051");
    ManagedChannel channel = Orchestrator.plaintext(target, System.getenv("ORCHESTRATOR_API_KEY"));
    var generation = GenerationServiceGrpc.newBlockingStub(channel);

    GenerateRequest request =
        GenerateRequest.newBuilder()
            .setTaskType("code_generation")
            .setTemplateId("code_generation")
            .setVariables(
                Struct.newBuilder()
                    .putFields("requirement", Value.newBuilder().setStringValue("a function that reverses a string").build())
                    .putFields("language", Value.newBuilder().setStringValue("java").build()))
            .setParams(GenerationParams.newBuilder().setMaxOutputTokens(200))
            .build();
    try {
      GenerateResponse answer = generation.withDeadlineAfter(60, TimeUnit.SECONDS).generate(request);
      System.out.println(answer.getModel() + ": " + answer.getText());

      Iterator<StreamGenerateResponse> events =
          generation.withDeadlineAfter(60, TimeUnit.SECONDS).streamGenerate(request);
      while (events.hasNext()) { // a failure mid-stream throws, never looks like a short success
        StreamGenerateResponse event = events.next();
        switch (event.getEventCase()) {
          case DELTA -> System.out.print(event.getDelta().getText());
          case FINAL -> System.out.println("\n(" + event.getFinal().getUsage().getOutputTokens() + " tokens)");
          default -> {}
        }
      }
    } catch (StatusRuntimeException e) {
      ErrorDetails details = ErrorDetails.from(e); // e.g. INVALID_ARGUMENT MISSING_TEMPLATE_VARIABLES {...}
      System.err.println(details.code() + " " + details.reason() + " " + details.fieldViolations());
      System.exit(1);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
