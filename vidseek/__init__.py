"""vidseek: find moments in a video collection by natural language."""

__version__ = "0.1.0"
