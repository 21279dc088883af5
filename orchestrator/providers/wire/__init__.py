"""The native transport: the providers' wire protocols spoken directly over one pooled aiohttp session each.

The gateways that lead on throughput speak the providers' wire protocols themselves; the vendor SDKs' client stack
cost about two thirds of our CPU per call (issue 15). `transport: sdk` keeps the SDKs (orchestrator/providers/sdk.py).
"""
