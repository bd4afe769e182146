"""Search: spaces (zero-shot ConSE, text lines, trained runs), fusion over time, moments, the engine."""
