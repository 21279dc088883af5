// Package orchestrator dials the LLM Orchestrator with its calling conventions (keepalive, retry of
// UNAVAILABLE, message limits, bearer key) and decodes the google.rpc details of its errors. The generated
// stubs live in the sibling package gen/orchestrator/v1 (orchestratorv1); create any service's client on the
// connection Dial returns:
//
//	conn, err := orchestrator.Dial("localhost:50051", orchestrator.WithAPIKey(key))
//	generation := orchestratorv1.NewGenerationServiceClient(conn)
package orchestrator

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// DefaultServiceConfig retries a call of any method that failed with UNAVAILABLE (the server was restarting,
// or every model route was down) before any response arrived; throttling stops a retry storm when the server
// is down. grpc-go older than 1.40 (Debian 12 ships 1.33) applies it only with GRPC_GO_RETRY=on.
const DefaultServiceConfig = `{
  "methodConfig": [{
    "name": [{}],
    "retryPolicy": {
      "maxAttempts": 3,
      "initialBackoff": "0.25s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }],
  "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}
}`

// MaxMessageBytes is the largest message either side sends (the server's default limit).
const MaxMessageBytes = 16 * 1024 * 1024

type options struct {
	apiKey string
	creds  credentials.TransportCredentials
	extra  []grpc.DialOption
}

// Option configures Dial.
type Option func(*options)

// WithAPIKey sends `authorization: Bearer <key>` with every call. Without WithTLS the key travels in
// plaintext: only do that inside a trusted network (a service mesh with mTLS, a loopback connection).
func WithAPIKey(key string) Option { return func(o *options) { o.apiKey = key } }

// WithTLS dials with these transport credentials instead of plaintext.
func WithTLS(creds credentials.TransportCredentials) Option {
	return func(o *options) { o.creds = creds }
}

// WithDialOptions appends grpc.DialOptions (they win over the defaults).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.extra = append(o.extra, opts...) }
}

// Dial opens a connection (lazily: the first call connects). Every call should carry a deadline
// (context.WithTimeout): the orchestrator's answers can take long, and a call without one waits forever.
func Dial(target string, opts ...Option) (*grpc.ClientConn, error) {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	dial := []grpc.DialOption{
		// Ping every 30 s while calls are open so a dead connection is noticed during long streams; the
		// server accepts pings no more often than every 10 s.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.WithDefaultServiceConfig(DefaultServiceConfig),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
	}
	if o.creds != nil {
		dial = append(dial, grpc.WithTransportCredentials(o.creds))
	} else {
		dial = append(dial, grpc.WithInsecure())
	}
	if o.apiKey != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{key: o.apiKey, requireTLS: o.creds != nil}))
	}
	return grpc.Dial(target, append(dial, o.extra...)...)
}

// bearer is the per-call credential behind WithAPIKey.
type bearer struct {
	key        string
	requireTLS bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.key}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.requireTLS }
