"""Shared state: the one Redis pool every replica shares (response cache, model holds, and what comes next:
quotas, conversations). An unreachable Redis is handled here, once: logged, metered, and the request goes on
with the fallback its caller chose.
"""
