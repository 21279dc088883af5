"""gRPC transport: servicers convert between protobuf and domain types; status.py maps errors."""
