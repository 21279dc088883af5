// Load test of the orchestrator's gRPC API with k6 (k6/net/grpc): unary Generate, StreamGenerate, and a mix of
// both across task types. `make load` starts a server routed to the fake upstream and runs this script; point it
// at any server with
//
//   k6 run -e ORCHESTRATOR_TARGET=host:50051 -e SCENARIO=mixed -e RATE=20 -e DURATION=30s bench/k6/orchestrator.js
//
// SCENARIO: unary | streaming | mixed | all (default: all, one after the other). RATE: calls started per second
// in each scenario. DURATION: how long each scenario runs. MAX_TOKENS: each request's max_output_tokens.
// GAP_SECONDS: pause between scenarios. ORCHESTRATOR_API_KEY: sent as a bearer key.
// The contract is loaded from protos/, so new fields and services need no change here.

import grpc from "k6/net/grpc";
import { check } from "k6";
import { Counter, Trend } from "k6/metrics";

const TARGET = __ENV.ORCHESTRATOR_TARGET || "localhost:50051";
const RATE = parseInt(__ENV.RATE || "10", 10);
const DURATION = __ENV.DURATION || "20s";
const SELECTED = __ENV.SCENARIO || "all";
const MAX_TOKENS = parseInt(__ENV.MAX_TOKENS || "64", 10);
const GAP_SECONDS = parseInt(__ENV.GAP_SECONDS || "2", 10); // between scenarios, to drain the previous one
const METADATA = __ENV.ORCHESTRATOR_API_KEY ? { authorization: `Bearer ${__ENV.ORCHESTRATOR_API_KEY}` } : {};
const GENERATE = "orchestrator.v1.GenerationService/Generate";
const STREAM = "orchestrator.v1.GenerationService/StreamGenerate";

const client = new grpc.Client();
client.load(["../../protos"], "orchestrator/v1/generation.proto");

// The shipped templates' task types plus raw messages. requirement_breakdown is left out: it asks for JSON,
// which a load test against an echoing fake upstream cannot produce.
const TASKS = [
  {
    task_type: "code_generation",
    template_id: "code_generation",
    variables: { requirement: "a function that reverses a string", language: "python" },
  },
  {
    task_type: "bug_fixing",
    template_id: "bug_fixing",
    variables: { bug_description: "the last element is printed twice", code: "for i in range(len(xs) + 1): print(xs[i])" },
  },
  {
    task_type: "documentation_generation",
    template_id: "documentation_generation",
    variables: { code: "def add(a, b):\n    return a + b" },
  },
  { task_type: "chat", messages: [{ role: "ROLE_USER", content: "Name three HTTP methods." }] },
];

const timeToFirstDelta = new Trend("stream_time_to_first_delta", true);
const streamDuration = new Trend("stream_duration", true);
const deltas = new Counter("stream_deltas");
const streamErrors = new Counter("stream_errors");

const SCENARIOS = {
  unary: { exec: "unary" },
  streaming: { exec: "streaming" },
  mixed: { exec: "mixed" },
};

function scenarios() {
  const names = SELECTED === "all" ? Object.keys(SCENARIOS) : SELECTED.split(",");
  const seconds = parseDurationSeconds(DURATION);
  const selected = {};
  names.forEach((name, index) => {
    if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}; use unary, streaming, mixed or all`);
    selected[name] = {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: DURATION,
      preAllocatedVUs: Math.max(4, RATE),
      maxVUs: Math.max(20, RATE * 4),
      startTime: `${index * (seconds + GAP_SECONDS)}s`, // one after the other
      gracefulStop: "10s",
      exec: SCENARIOS[name].exec,
    };
  });
  return selected;
}

function parseDurationSeconds(text) {
  const match = /^(\d+)(s|m)$/.exec(text);
  if (!match) throw new Error(`DURATION ${text}: use seconds or minutes, e.g. 30s or 2m`);
  return parseInt(match[1], 10) * (match[2] === "m" ? 60 : 1);
}

const chosen = scenarios();
// Thresholds per scenario also make k6's summary show each scenario's latencies and check rate on its own line.
const thresholds = { checks: ["rate>0.99"] };
for (const name of Object.keys(chosen)) {
  thresholds[`grpc_req_duration{scenario:${name}}`] = ["p(95)<10000"];
  thresholds[`checks{scenario:${name}}`] = ["rate>0.99"];
}

export const options = {
  scenarios: chosen,
  thresholds,
  summaryTrendStats: ["avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"],
};

let connected = false;

function connect() {
  if (!connected) {
    client.connect(TARGET, { plaintext: true, timeout: "10s" });
    connected = true;
  }
}

function request(task) {
  return { ...task, params: { max_output_tokens: MAX_TOKENS }, metadata: { client: "k6" } };
}

function pick() {
  return TASKS[Math.floor(Math.random() * TASKS.length)];
}

export function unary() {
  connect();
  const task = pick();
  const response = client.invoke(GENERATE, request(task), {
    metadata: METADATA,
    timeout: "60s",
    tags: { task: task.task_type },
  });
  check(response, {
    "Generate is OK": (r) => r && r.status === grpc.StatusOK,
    "Generate has text": (r) => r && r.message && r.message.text.length > 0,
  });
}

export function streaming() {
  connect();
  const task = pick();
  const started = Date.now();
  let first = 0;
  let sawFinal = false;
  const stream = new grpc.Stream(client, STREAM, { metadata: METADATA, timeout: "60s", tags: { task: task.task_type } });
  stream.on("data", (event) => {
    if (event.delta) {
      deltas.add(1);
      if (!first) {
        first = Date.now();
        timeToFirstDelta.add(first - started, { task: task.task_type });
      }
    }
    if (event.final) sawFinal = true;
  });
  stream.on("error", () => streamErrors.add(1, { task: task.task_type }));
  stream.on("end", () => {
    streamDuration.add(Date.now() - started, { task: task.task_type });
    check(sawFinal, { "StreamGenerate ends with the final event": (final) => final });
  });
  stream.write(request(task));
  stream.end();
}

export function mixed() {
  if (Math.random() < 0.7) unary();
  else streaming();
}
