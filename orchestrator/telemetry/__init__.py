"""Metrics (Prometheus), traces (OpenTelemetry GenAI conventions) and request logs, wired at the seams."""
