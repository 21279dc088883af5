// Driven by tests/test_clients.py against a real server: `node dist/conformance/check.js SCENARIO TARGET`
// prints one JSON line, {"ok": {...}} or {"error": {...}} (the same shape for every language's client).
import {
  create,
  createClient,
  createOrchestratorTransport,
  errorDetails,
  FinishReason,
  GenerateRequestSchema,
  GenerationService,
  type GenerateRequest,
} from "../src/index.js";

const [scenario, target] = process.argv.slice(2);
const generation = createClient(
  GenerationService,
  createOrchestratorTransport({ target, apiKey: process.env.ORCHESTRATOR_API_KEY, defaultTimeoutMs: 30_000 }),
);

function request(variables: Record<string, string> = { requirement: "reverse a string", language: "typescript" }) {
  return create(GenerateRequestSchema, {
    templateId: "code_generation",
    variables,
    selection: { preferredModel: "primary" },
    params: { maxOutputTokens: 64 },
    metadata: { client: "typescript" },
  });
}

async function generate(req: GenerateRequest, timeoutMs?: number) {
  const answer = await generation.generate(req, { timeoutMs });
  return {
    text: answer.text,
    model: answer.model,
    output_tokens: answer.usage?.outputTokens ?? 0,
    finish_reason: `FINISH_REASON_${FinishReason[answer.finishReason]}`,
  };
}

async function stream(req: GenerateRequest) {
  const events: string[] = [];
  let text = "";
  let model = "";
  let outputTokens = 0;
  for await (const { event } of generation.streamGenerate(req)) {
    events.push(event.case ?? "none");
    if (event.case === "delta") text += event.value.text;
    if (event.case === "final") [model, outputTokens] = [event.value.model, event.value.usage?.outputTokens ?? 0];
  }
  return { events, text, model, output_tokens: outputTokens };
}

const scenarios: Record<string, () => Promise<object>> = {
  generate: () => generate(request()),
  stream: () => stream(request()),
  invalid: () => generate(request({})),
  rate_limited: () => generate(request()),
  unavailable: () => generate(request()),
  deadline: () => generate(request(), 500),
  bearer: () => generate(request()),
};

if (!(scenario in scenarios) || !target) {
  console.error(`usage: check.js SCENARIO TARGET (SCENARIO: ${Object.keys(scenarios).join(", ")})`);
  process.exit(2);
}

try {
  console.log(JSON.stringify({ ok: await scenarios[scenario]() }));
} catch (err) {
  const details = errorDetails(err);
  const retryDelaySeconds = details.retryDelayMs === undefined ? null : details.retryDelayMs / 1000;
  console.log(
    JSON.stringify({
      error: {
        code: details.codeName,
        reason: details.reason,
        field_violations: details.fieldViolations,
        retry_delay_seconds: retryDelaySeconds,
      },
    }),
  );
}
