"""Model catalog and routing: which model answers, in what order the alternatives are tried."""
