"""`vidseek describe VIDEO`: what each expert sees in one video, window by window.

The video is decoded once for all experts (`extract_video`). Classifier experts print their top
labels per window (ImageNet for appearance, Kinetics for i3d), speech and OCR experts their
lines, embedding-only experts just their windows. `--json` prints only
{expert: [{start, end, labels: [[name, p], ...]} | {start, end, text} | {start, end}]}.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidseek.errors import ConfigError, Outcome
from vidseek.types import Features

DEFAULT_EXPERTS = ("effnet_lite0", "i3d", "asr", "ocr")


@dataclass
class DescribeConfig:
    video: str
    experts: list[str] | None = None
    json: bool = False
    top: int = 3
    device: str = "cpu"
    random_weights: bool = False
    tiny: bool = False  # tiny random-init twins: tests only


def rows_of(feats: Features, labels: list[str] | None, top: int) -> list[dict[str, Any]]:
    """JSON-able rows of one expert's Features: labels (top-k with p), text, or bare times."""
    out: list[dict[str, Any]] = []
    for i, (start, end) in enumerate(feats.times):
        row: dict[str, Any] = {"start": round(float(start), 3), "end": round(float(end), 3)}
        if feats.probs is not None and feats.probs.shape[1]:
            p = feats.probs[i]
            best = np.argsort(-p, kind="stable")[: max(1, top)]
            names = labels if labels and len(labels) == len(p) else None
            row["labels"] = [[names[k] if names else f"class_{k}", round(float(p[k]), 4)]
                             for k in best]
        elif feats.texts is not None:
            row["text"] = feats.texts[i]
        out.append(row)
    return out


def _format(expert: str, modality: str, rows: list[dict[str, Any]]) -> list[str]:
    lines = [f"== {expert} ({modality}) — {len(rows)} rows"]
    for r in rows:
        when = f"{r['start']:8.2f}-{r['end']:<8.2f}"
        if "labels" in r:
            lines.append(f"  {when} " + " · ".join(f"{n} {p:.2f}" for n, p in r["labels"]))
        elif "text" in r:
            lines.append(f"  {when} {r['text']}")
        else:
            lines.append(f"  {when} (embedding)")
    return lines


def describe(cfg: DescribeConfig) -> Outcome:
    """Run the experts on cfg.video once and print what they see (errors raise)."""
    from vidseek.extract.experts import ExpertOptions, create_expert
    from vidseek.extract.probe import probe
    from vidseek.extract.run import extract_video

    names = list(cfg.experts or DEFAULT_EXPERTS)
    if cfg.top < 1:
        raise ConfigError(f"--top must be at least 1, got {cfg.top}")
    opts = ExpertOptions(device=cfg.device, random_weights=cfg.random_weights, tiny=cfg.tiny)
    experts = [create_expert(n, opts) for n in names]
    info = probe(cfg.video)
    feats = extract_video(cfg.video, experts, info=info)
    result = {e.spec.name: rows_of(feats[e.spec.name], e.labels, cfg.top)
              for e in experts if e.spec.name in feats}
    if cfg.json:
        print(jsonlib.dumps(result, ensure_ascii=False))
        return Outcome.OK
    audio = "audio" if info.has_audio else "no audio"
    out = [f"{cfg.video}: {info.duration:.2f} s, {info.width}x{info.height}, {info.fps:.2f} fps, {audio}"]
    for e in experts:
        if e.spec.name in result:
            if e.weights.random:
                out.append(f"   ({e.spec.name} runs with RANDOM weights: its labels mean nothing)")
            out += _format(e.spec.name, e.spec.modality, result[e.spec.name])
    print("\n".join(out))
    return Outcome.OK
