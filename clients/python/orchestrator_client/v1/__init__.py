"""Generated protobuf and gRPC stubs for orchestrator.v1 (do not edit; run `make proto`)."""
