"""Models: zero-shot retrieval spaces, joint embeddings (JEMC, MMT), moment localizers, metrics."""
