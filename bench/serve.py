"""`vidseek serve` under load: /api/search latency with concurrent clients, and memory over time.

    .venv/bin/python bench/serve.py                                  # a synthetic tiny collection
    .venv/bin/python bench/serve.py --windows 100000 --encoder glove50   # 1e5 transcript windows
    .venv/bin/python bench/serve.py --collection out/eval-real/collection   # e.g. the 13 real clips

The server runs as its own process (`vidseek serve`, uvicorn, loopback), pinned to --cpus cores
when given; `--clients` threads each keep one HTTP connection and send queries back to back.
Bounded: at most --queries queries and --max-seconds seconds. Reported: p50 / p95 / max of the
measured queries (after --warmup), throughput, and the server's RSS after 10 and after all
queries (a leak shows as growth between the two).

The synthetic collection: --videos videos of transcript lines (the `asr` text-line space),
--windows lines in all, sentences drawn from a fixed vocabulary; queries from the same words.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

WORDS = ("dog cat skateboard rabbit meadow bird tree branch telescope mirror clean room pancake "
         "guitar car street beach wave runner jump rope kitchen knife boat river mountain snow "
         "child ball park bicycle horse field camera rocket launch crowd stage music").split()


def sentence(rng: random.Random, n: int = 6) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def build_synthetic(root: Path, videos: int, windows: int, encoder: str) -> Path:
    """A collection of transcript lines only: no video files (media / thumbnails 404), which is
    what a search-latency bench needs."""
    from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
    from vidseek.pipelines.index import IndexConfig, build_index
    from vidseek.store import FeatureStore
    from vidseek.types import Features, VideoInfo

    rng = random.Random(0)
    spec = ExpertSpec("asr", "speech", 0, sample_rate=16000)
    weights = WeightsInfo("bench-asr", "bench", random=True)
    per = max(1, windows // videos)
    with FeatureStore(root) as store:
        for v in range(videos):
            vid = f"v{v:05d}"
            store.catalog.upsert_video(VideoInfo(vid, f"/bench/{vid}.mp4", 1, 0.0, "h", 2.0 * per,
                                                 25.0, 64, 48, True), status="done")
            t = np.stack([np.arange(per) * 2.0, np.arange(per) * 2.0 + 2.0], 1)
            store.put(vid, Features("asr", t, np.zeros((per, 0)),
                                    texts=[sentence(rng) for _ in range(per)]), spec, weights)
    t0 = time.perf_counter()
    build_index(IndexConfig(str(root), encoder=encoder, progress=False))
    print(f"built {videos} videos x {per} windows, indexed with {encoder} in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set size from /proc (Linux), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def start_server(collection: Path, port: int, cpus: str | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "vidseek.cli", "serve", "--collection", str(collection),
           "--port", str(port)]
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]) + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)


def wait_ready(base: str, timeout: float = 300) -> dict:
    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            s = httpx.get(base + "/api/status", timeout=5).json()
            if s["state"] == "ready":
                return s
            if s["state"] == "failed":
                raise SystemExit(f"server failed to load: {s['error']}")
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def run_load(base: str, queries: list[str], clients: int, max_seconds: float,
             failed: list[str] | None = None) -> list[float]:
    """Send `queries` from `clients` threads; latencies (s) of the ones answered 200. Others
    (an HTTP error status, a timeout) are appended to `failed` as one line each."""
    import httpx

    it = iter(enumerate(queries))
    lock = threading.Lock()
    lat: list[float] = []
    bad = failed if failed is not None else []
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=120) as c:
            while time.monotonic() < deadline:
                with lock:
                    nxt = next(it, None)
                if nxt is None:
                    return
                t0 = time.perf_counter()
                try:
                    r = c.get("/api/search", params={"q": nxt[1], "top": 10})
                except httpx.HTTPError as err:
                    with lock:
                        bad.append(f"{type(err).__name__}: {err}")
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200:
                        lat.append(dt)
                    else:
                        bad.append(f"HTTP {r.status_code}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collection", help="an indexed collection (default: build a synthetic one)")
    ap.add_argument("--videos", type=int, default=20)
    ap.add_argument("--windows", type=int, default=1000, help="synthetic: transcript lines in all")
    ap.add_argument("--encoder", default="minilm", help="synthetic: the query/line encoder")
    ap.add_argument("--keep", metavar="DIR", help="synthetic: build into DIR and keep it (reused when there)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--cpus", default="0,1", help="taskset the server to these cores ('' = all)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.collection:
            col = Path(args.collection)
            label = f"{col}"
        else:
            col = Path(args.keep) if args.keep else Path(tmp) / "col"
            if not (col / "catalog.sqlite").exists():
                build_synthetic(col, args.videos, args.windows, args.encoder)
            label = f"synthetic {args.videos} videos, {args.windows} windows, {args.encoder}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cpus = args.cpus if args.cpus and os.cpu_count() and os.cpu_count() > 1 else None
        t0 = time.monotonic()
        proc = start_server(col, port, cpus)
        try:
            status = wait_ready(base)
            startup = time.monotonic() - t0
            rng = random.Random(1)
            qs = [sentence(rng, rng.randint(2, 5)) for _ in range(args.queries + args.warmup)]
            run_load(base, qs[: args.warmup], 1, args.max_seconds)
            rss10 = rss_mb(proc.pid)
            t1 = time.monotonic()
            failed: list[str] = []
            lat = np.array(run_load(base, qs[args.warmup:], args.clients, args.max_seconds, failed))
            wall = time.monotonic() - t1
            rss_end = rss_mb(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    out = {
        "collection": label, "spaces": status["spaces"], "videos": status["videos"],
        "server_cpus": cpus or "all", "clients": args.clients, "queries": int(len(lat)),
        "failed": len(failed), "load_avg_1min": round(os.getloadavg()[0], 1),
        "startup_s": round(startup, 2), "load_s": status["load_seconds"],
        "p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 1) if len(lat) else None,
        "p95_ms": round(float(np.percentile(lat, 95)) * 1e3, 1) if len(lat) else None,
        "max_ms": round(float(lat.max()) * 1e3, 1) if len(lat) else None,
        "qps": round(len(lat) / wall, 1) if wall > 0 else None,
        "rss_after_10_mb": round(rss10, 1), f"rss_after_{args.warmup + len(lat)}_mb": round(rss_end, 1),
        "rss_growth_pct": round(100 * (rss_end - rss10) / rss10, 2),
    }
    if args.json:
        print(json.dumps(out))
        return
    for k, v in out.items():
        print(f"{k:>22}: {v}")


if __name__ == "__main__":
    main()
