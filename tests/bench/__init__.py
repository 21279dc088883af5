"""`make bench`: what the orchestrator adds on top of the model (latency, throughput, streams, memory, profile).

Every server runs in its own process: the fake upstream (`tests.fakes.upstream`), the orchestrator
(`python -m orchestrator serve`), a bare grpc.aio servicer with a fixed answer (`floor_server`, the floor)
and the load generator (`loadgen`). `python -m tests.bench` drives them and writes bench/results/latest.json
(`BENCH_QUICK=1`: a short smoke run written to bench/results/quick.json).
"""
