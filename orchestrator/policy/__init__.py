"""Caller policy, in one home: who calls (identity), what they may do (authorization), how much (quotas)."""
