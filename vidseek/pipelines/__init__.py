"""One function per CLI verb, each taking one config dataclass and returning an exit code."""
