"""Decoding (one pass per video), sampling time math, audio, and the expert zoo."""
