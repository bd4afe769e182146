"""Trained joint-embedding models for text-to-video retrieval: JEMC and MMT."""
