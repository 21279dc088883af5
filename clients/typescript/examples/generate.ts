// The README example: one answer, then the same request streamed. Run: node dist/examples/generate.js [host:port]
import {
  create,
  createClient,
  createOrchestratorTransport,
  errorDetails,
  GenerateRequestSchema,
  GenerationService,
} from "../src/index.js";

const target = process.argv[2] ?? process.env.ORCHESTRATOR_TARGET ?? "localhost:50051";
const transport = createOrchestratorTransport({ target, apiKey: process.env.ORCHESTRATOR_API_KEY });
const generation = createClient(GenerationService, transport);

const request = create(GenerateRequestSchema, {
  taskType: "code_generation",
  templateId: "code_generation",
  variables: { requirement: "a function that reverses a string", language: "typescript" },
  params: { maxOutputTokens: 200 },
});

try {
  const answer = await generation.generate(request, { timeoutMs: 60_000 });
  console.log(`${answer.model}: ${answer.text}`);

  for await (const event of generation.streamGenerate(request, { timeoutMs: 60_000 })) {
    if (event.event.case === "delta") process.stdout.write(event.event.value.text);
    if (event.event.case === "final") console.log(`\n(${event.event.value.usage?.outputTokens} tokens)`);
  }
} catch (err) {
  const details = errorDetails(err); // e.g. INVALID_ARGUMENT MISSING_TEMPLATE_VARIABLES {"variables.requirement": ...}
  console.error(details.codeName, details.reason, details.fieldViolations, details.retryDelayMs ?? "");
  process.exitCode = 1;
}
