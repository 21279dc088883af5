// Driven by tests/test_clients.py against a real server: `conformance SCENARIO TARGET` prints one JSON line,
// {"ok": {...}} or {"error": {...}} (the same shape for every language's client).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	orchestratorv1 "github.com/llm-orchestrator/orchestrator/clients/go/gen/orchestrator/v1"
	"github.com/llm-orchestrator/orchestrator/clients/go/orchestrator"
)

type result = map[string]interface{}

func request(variables map[string]interface{}) *orchestratorv1.GenerateRequest {
	vars, err := structpb.NewStruct(variables)
	if err != nil {
		panic(err)
	}
	maxTokens := uint32(64)
	return &orchestratorv1.GenerateRequest{
		TemplateId: "code_generation",
		Variables:  vars,
		Selection:  &orchestratorv1.ModelSelection{PreferredModel: "primary"},
		Params:     &orchestratorv1.GenerationParams{MaxOutputTokens: &maxTokens},
		Metadata:   map[string]string{"client": "go"},
	}
}

var valid = map[string]interface{}{"requirement": "reverse a string", "language": "go"}

func generate(client orchestratorv1.GenerationServiceClient, req *orchestratorv1.GenerateRequest, timeout time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	answer, err := client.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	return result{
		"text":          answer.GetText(),
		"model":         answer.GetModel(),
		"output_tokens": answer.GetUsage().GetOutputTokens(),
		"finish_reason": answer.GetFinishReason().String(),
	}, nil
}

func stream(client orchestratorv1.GenerationServiceClient, req *orchestratorv1.GenerateRequest) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := client.StreamGenerate(ctx, req)
	if err != nil {
		return nil, err
	}
	events, text, model, outputTokens := []string{}, "", "", uint32(0)
	for {
		event, err := call.Recv()
		if errors.Is(err, io.EOF) {
			return result{"events": events, "text": text, "model": model, "output_tokens": outputTokens}, nil
		}
		if err != nil {
			return nil, err
		}
		switch e := event.GetEvent().(type) {
		case *orchestratorv1.StreamGenerateResponse_Start:
			events = append(events, "start")
		case *orchestratorv1.StreamGenerateResponse_Delta:
			events, text = append(events, "delta"), text+e.Delta.GetText()
		case *orchestratorv1.StreamGenerateResponse_Final:
			events, model, outputTokens = append(events, "final"), e.Final.GetModel(), e.Final.GetUsage().GetOutputTokens()
		}
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: conformance SCENARIO TARGET")
		os.Exit(2)
	}
	scenario, target := os.Args[1], os.Args[2]
	conn, err := orchestrator.Dial(target, orchestrator.WithAPIKey(os.Getenv("ORCHESTRATOR_API_KEY")))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := orchestratorv1.NewGenerationServiceClient(conn)
	scenarios := map[string]func() (result, error){
		"generate":     func() (result, error) { return generate(client, request(valid), 30*time.Second) },
		"stream":       func() (result, error) { return stream(client, request(valid)) },
		"invalid":      func() (result, error) { return generate(client, request(map[string]interface{}{}), 30*time.Second) },
		"rate_limited": func() (result, error) { return generate(client, request(valid), 30*time.Second) },
		"unavailable":  func() (result, error) { return generate(client, request(valid), 30*time.Second) },
		"deadline":     func() (result, error) { return generate(client, request(valid), 500*time.Millisecond) },
		"bearer":       func() (result, error) { return generate(client, request(valid), 30*time.Second) },
	}
	run, known := scenarios[scenario]
	if !known {
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", scenario)
		os.Exit(2)
	}
	answer, err := run()
	out := result{"ok": answer}
	if err != nil {
		d := orchestrator.Details(err)
		var delay interface{}
		if d.HasRetryDelay {
			delay = d.RetryDelay.Seconds()
		}
		out = result{"error": result{
			"code":                orchestrator.CanonicalName(d.Code),
			"reason":              d.Reason,
			"field_violations":    d.FieldViolations,
			"retry_delay_seconds": delay,
		}}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
