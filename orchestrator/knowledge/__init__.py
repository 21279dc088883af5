"""A knowledge base: documents split into chunks, searchable by full text (SQLite FTS5 or PostgreSQL)."""
