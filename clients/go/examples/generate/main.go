// The README example: one answer, then the same request streamed.
// Run: go run ./examples/generate [host:port]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	orchestratorv1 "github.com/llm-orchestrator/orchestrator/clients/go/gen/orchestrator/v1"
	"github.com/llm-orchestrator/orchestrator/clients/go/orchestrator"
)

func main() {
	target := os.Getenv("ORCHESTRATOR_TARGET")
	if len(os.Args) > 1 {
		target = os.Args[1]
	}
	if target == "" {
		target = "localhost:50051"
	}
	conn, err := orchestrator.Dial(target, orchestrator.WithAPIKey(os.Getenv("ORCHESTRATOR_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	generation := orchestratorv1.NewGenerationServiceClient(conn)

	variables, _ := structpb.NewStruct(map[string]interface{}{
		"requirement": "a function that reverses a string",
		"language":    "go",
	})
	maxTokens := uint32(200)
	request := &orchestratorv1.GenerateRequest{
		TaskType:   "code_generation",
		TemplateId: "code_generation",
		Variables:  variables,
		Params:     &orchestratorv1.GenerationParams{MaxOutputTokens: &maxTokens},
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	answer, err := generation.Generate(ctx, request)
	if err != nil {
		d := orchestrator.Details(err) // e.g. INVALID_ARGUMENT MISSING_TEMPLATE_VARIABLES map[variables.requirement:...]
		log.Fatalf("%s %s %v %v", orchestrator.CanonicalName(d.Code), d.Reason, d.FieldViolations, d.RetryDelay)
	}
	fmt.Printf("%s: %s\n", answer.GetModel(), answer.GetText())

	stream, err := generation.StreamGenerate(ctx, request)
	if err != nil {
		log.Fatal(err)
	}
	for {
		event, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil { // a failure mid-stream is an error, never a short success
			d := orchestrator.Details(err)
			log.Fatalf("%s %s", orchestrator.CanonicalName(d.Code), d.Reason)
		}
		switch e := event.GetEvent().(type) {
		case *orchestratorv1.StreamGenerateResponse_Delta:
			fmt.Print(e.Delta.GetText())
		case *orchestratorv1.StreamGenerateResponse_Final:
			fmt.Printf("\n(%d tokens)\n", e.Final.GetUsage().GetOutputTokens())
		}
	}
}
