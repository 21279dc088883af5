"""Conversations the server keeps per calling service: turns, a lease per conversation, stores (memory, Redis,
PostgreSQL) chosen by configuration."""
