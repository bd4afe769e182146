"""What a query must hold before it is searched: words, in a script the text encoder reads.

- No letter or digit at all ("?!...", "   -- "): nothing to embed, every space would rank by
  noise. `check_query` raises errors.QueryError (the CLI: one line, exit 2).
- Words in a script the encoder was not trained on (Cyrillic, CJK, Arabic, ... for the English
  MiniLM and every other encoder registered today): the embedding is of unknown-word pieces, so
  the results are close to arbitrary. `script_warning` names the encoder and the words; search
  goes on (a collection's OCR / ASR lines could still match the same characters).
"""

from __future__ import annotations

import unicodedata
import warnings

from vidseek.errors import QueryError

MULTILINGUAL: frozenset[str] = frozenset()
"""Text encoders that read other scripts than Latin (none of the registered ones does)."""


class QueryWarning(UserWarning):
    """The query is searched, but the text encoder cannot read part of it."""


def _non_latin(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return any(not unicodedata.name(c, "").startswith("LATIN") for c in letters)


def script_warning(query: str, encoder: str) -> str | None:
    """A one-line warning when words of the query are in a script `encoder` cannot read."""
    if encoder in MULTILINGUAL:
        return None
    words = [w for w in query.split() if _non_latin(w)]
    if not words:
        return None
    shown = " ".join(words)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return (f"the text encoder {encoder} reads English (Latin script) only; "
            f"{'the query' if len(words) == len(query.split()) else 'the words'} {shown!r} "
            f"will match little")


def check_query(query: str, encoder: str) -> None:
    """Raise QueryError for a query without a letter or digit; warn (QueryWarning) for words in
    a script the encoder cannot read."""
    if not query.strip():
        raise QueryError("the query is empty")
    if not any(c.isalnum() for c in query):
        raise QueryError(f"the query {query.strip()[:40]!r} has no searchable words "
                         "(no letter or digit)")
    msg = script_warning(query, encoder)
    if msg:
        warnings.warn(msg, QueryWarning, stacklevel=3)
