#!/usr/bin/env python3
"""gRPC health check (grpc.health.v1) for the image's HEALTHCHECK and the chart's `helm test` pod.

    grpc-health-check HOST:PORT [--service NAME] [--timeout SECONDS]

Exits 0 when the server answers SERVING, 1 otherwise, printing what it saw. It uses the grpcio and
grpcio-health-checking packages the server already depends on, so the image needs nothing else.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grpc-health-check", description=__doc__.splitlines()[0])
    parser.add_argument("target", help="HOST:PORT of the gRPC server")
    parser.add_argument("--service", default="", help="the health service name ('' is the whole server)")
    parser.add_argument("--timeout", type=float, default=5.0, help="deadline of the call in seconds")
    args = parser.parse_args(argv)
    with grpc.insecure_channel(args.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout)
        except grpc.RpcError as exc:
            print(f"{args.target}: health check failed: {exc.code().name} {exc.details()}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{args.target} service={args.service!r}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
