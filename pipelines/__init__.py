"""The `jobpulse` command and the code that assembles and runs the pipelines."""
