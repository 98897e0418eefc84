"""End-to-end tests: whole runs (the demo, a conference's lifecycle through the CLI, scheduler
processes killed, restarted and racing each other, the benchmark's synthetic packs)."""
