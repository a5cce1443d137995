"""Customer lookup over HTTP: ``GET /api/v1/customers/{id}`` on the 1,000,000-customer demo.

1. The demo store (``_store.py``, reused from ``--work``, or copied from ``--from-store``)
   gets the demo's segments and one ``segmint run``; then a serving replica is published
   in a process of its own, and what publishing costs is measured (copy, lookup files,
   total, peak memory, sizes).
2. In-process, the same random ids are looked up two ways (named baseline first):
   ``service.customer`` on the store (what ``segmint customer ID`` does: several queries,
   none indexed), and the replica's lookup files as the server reads them.
3. ``segmint serve`` is started (uvicorn with httptools and uvloop, ``--workers``), and
   50 keep-alive clients request random existing ids for 60 s, twice: paced at
   ``--rate`` requests/s in all (latency counted from when each request was due), and
   unpaced (each client sends again as soon as it is answered: the saturation throughput;
   there latency is about clients / throughput by Little's law). Requests/s, p50/p99
   latency and errors are reported, with the load average before and after. The clients
   are raw asyncio streams speaking HTTP/1.1 (cheap: they share the 2 cores).

Usage::

    python benchmarks/api.py [--customers 1000000] [--work DIR] [--from-store DIR]
        [--clients 50] [--seconds 60] [--workers 2] [--rate 1200]
        [--skip-publish] [--skip-http]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _store import build_store

from segmint import service, serving
from segmint.api._auth import AuthStore
from segmint.segments import parse_segments


def prepare(folder: Path, customers: int, from_store: Path | None) -> None:
    """A served project of ``customers`` customers with one run of the demo's segments."""
    from segmint.demo._segments import B2C_SEGMENTS, DEMO_AS_OF

    if (folder / "segmint.yaml").exists() and serving.current_replica(folder):
        return
    if from_store is not None and not (folder / "store.duckdb").exists():
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        shutil.copyfile(from_store / "store.duckdb", folder / "store.duckdb")
        shutil.copyfile(from_store / "segmint.yaml", folder / "segmint.yaml")
        print(f"copied {from_store} in {time.perf_counter() - t0:.1f} s", flush=True)
    project = build_store(folder, customers)
    try:
        project.config.segments = parse_segments(B2C_SEGMENTS)
        project.config.runs.as_of = DEMO_AS_OF
        project.save()
        t0 = time.perf_counter()
        result = service.run(project)
        print(f"run {result.run_id}: {result.customers:,} customers in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)  # fmt: skip
    finally:
        project.close()


def publish_cost(folder: Path, src: Path | None = None) -> dict[str, float]:
    """Publish a replica (the store held, as at the end of a run) and time its parts, in a
    process of its own so its peak memory is its own; with ``src``, the segmint of that
    source folder publishes (an earlier version, for comparison)."""
    before = os.getloadavg()
    env = {**os.environ, "PYTHONPATH": str(src or Path(__file__).parents[1] / "src")}
    out = subprocess.run(
        [sys.executable, __file__, "--publish-only", "--work", str(folder)],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["loadavg_before"] = [round(x, 2) for x in before]  # type: ignore[assignment]
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[assignment]
    return result


def _publish_here(folder: Path) -> None:
    import resource

    with service.open_project(folder) as project:
        serving.serving_dir(folder).mkdir(parents=True, exist_ok=True)
        published = serving.publish(project)
    assert published is not None
    folder_of_lookup = published.path.with_name(published.path.stem + ".lookup")
    lookup = sum(f.stat().st_size for f in folder_of_lookup.glob("*"))  # none before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    print(json.dumps({
        "copy_s": published.seconds_copy,
        "lookup_s": published.seconds_lookup,  # the lookup files (before: table)
        "total_s": published.seconds_total,
        "store_gb": round((folder / "store.duckdb").stat().st_size / 1e9, 2),
        "replica_gb": round(published.path.stat().st_size / 1e9, 2),
        "lookup_files_gb": round(lookup / 1e9, 2),
        "peak_memory_gb": round(peak / 1e9, 2),
        "persons": published.customers,
    }))  # fmt: skip


def sample_ids(folder: Path, n: int, seed: int = 7) -> list[str]:
    import duckdb

    path = serving.current_replica(folder)
    con = duckdb.connect(str(path), read_only=True)
    ids = [r[0] for r in con.execute("SELECT customer_id FROM identities").fetchall()]
    con.close()
    return random.Random(seed).choices(ids, k=n)


def in_process(folder: Path, ids: list[str]) -> dict[str, dict[str, float]]:
    """Latency of one lookup, two ways, on the same ids (ms per lookup)."""
    out: dict[str, dict[str, float]] = {}

    def timed(name: str, fn: object, items: list[str]) -> None:
        lat = []
        for i in items:
            t = time.perf_counter()
            fn(i)  # type: ignore[operator]
            lat.append((time.perf_counter() - t) * 1000)
        out[name] = {
            "lookups": len(items),
            "p50_ms": round(statistics.median(lat), 3),
            "mean_ms": round(statistics.fmean(lat), 3),
        }

    with service.open_project(folder) as project:
        timed("baseline: service.customer on the store", lambda i: service.customer(project, i),
              ids[:20])  # fmt: skip
    store = serving.ServingStore(folder)
    store.customer_json(ids[0])  # opens the replica and its lookup files
    timed("the server's lookup (ServingStore.customer_json)", store.customer_json, ids[:5000])
    store.close()
    return out


# -- the load generator ---------------------------------------------------------------------
async def _client(
    host: str, port: int, token: str, ids: list[str], start: float, seconds: float,
    interval: float, lat: list[float], errors: list[str], rnd: random.Random,
) -> None:  # fmt: skip
    """One keep-alive connection. With ``interval`` > 0 its requests are paced (one every
    ``interval`` seconds, from a random offset) and each latency counts from the moment the
    request was due, so a slow answer also counts against the requests it held up (no
    coordinated omission); with 0 it sends the next request as soon as one is answered."""
    reader, writer = await asyncio.open_connection(host, port)
    head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    until = start + seconds
    due = start + rnd.random() * interval
    loop = asyncio.get_running_loop()
    try:
        while True:
            if interval:
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            now = loop.time()
            if now >= until:
                break
            sent = due if interval else now
            cid = ids[rnd.randrange(len(ids))]
            writer.write(f"GET /api/v1/customers/{cid} HTTP/1.1\r\n{head}".encode())
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            lat.append(loop.time() - sent)
            if not status.startswith(b"HTTP/1.1 200") or not body.startswith(b'{"customer_id"'):
                errors.append(status.decode(errors="replace").strip())
            due += interval
    except (ConnectionError, asyncio.IncompleteReadError) as e:
        errors.append(f"{type(e).__name__}: {e}")
    finally:
        writer.close()


async def _load(
    host: str, port: int, token: str, ids: list[str], clients: int, seconds: float, rate: float
) -> tuple[list[float], list[str], float]:
    lat: list[float] = []
    errors: list[str] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    interval = clients / rate if rate else 0.0
    await asyncio.gather(
        *(
            _client(host, port, token, ids, start, seconds, interval, lat, errors,
                    random.Random(i))
            for i in range(clients)
        )
    )  # fmt: skip
    return lat, errors, loop.time() - start


def _summary(lat: list[float], errors: list[str], took: float) -> dict[str, object]:
    lat.sort()
    return {
        "requests": len(lat),
        "seconds": round(took, 1),
        "requests_per_s": round(len(lat) / took, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
    }


def load_test(
    folder: Path, ids: list[str], *, clients: int, seconds: float, workers: int, rate: float
) -> dict[str, object]:
    """Start ``segmint serve``, wait for it, run the clients (paced at ``rate`` requests/s
    in all, then unpaced for the saturation throughput), stop it."""
    token = AuthStore(folder).create_token(f"bench-{int(time.time())}", "analyst")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", "segmint.cli", "serve", "-p", str(folder), "--port", str(port),
         "--workers", str(workers)],
        env=env, start_new_session=True,
    )  # fmt: skip
    out: dict[str, object] = {"clients": clients, "workers": workers}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        time.sleep(2)  # let every worker open the replica
        # a replica is in the OS page cache after publishing (its publisher just wrote
        # it); a benchmark run on a reused replica reads it once to start from the same
        # state rather than from disk
        path = serving.current_replica(folder)
        assert path is not None
        with path.open("rb") as f:
            while f.read(1 << 24):
                pass
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        asyncio.run(_load("127.0.0.1", port, token, ids, clients, 3, 0))  # warm up
        for name, r in (("paced", rate), ("saturated", 0.0)):
            before = os.getloadavg()
            lat, errors, took = asyncio.run(
                _load("127.0.0.1", port, token, ids, clients, seconds, r)
            )
            out[name] = {
                "target_requests_per_s": r or None,
                **_summary(lat, errors, took),
                "loadavg_before": [round(x, 2) for x in before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            }
            print(name, out[name], flush=True)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/segmint-bench"))
    ap.add_argument("--from-store", type=Path, default=None,
                    help="copy this benchmark store (folder with store.duckdb) first")  # fmt: skip
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=1200,
                    help="paced run: requests/s of all clients together")  # fmt: skip
    ap.add_argument("--skip-publish", action="store_true", help="reuse the current replica")
    ap.add_argument("--skip-http", action="store_true", help="publish and in-process only")
    ap.add_argument("--compare-with", type=Path, default=None,
                    help="also publish with the segmint of this src folder (an earlier "
                    "version), on a copy of the project")  # fmt: skip
    ap.add_argument("--publish-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.publish_only:  # the child process of publish_cost; --work is the project
        _publish_here(args.work)
        return
    folder = args.work / f"api-{args.customers}"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}", flush=True)
    prepare(folder, args.customers, args.from_store)
    results: dict[str, object] = {"customers": args.customers}
    if args.compare_with is not None:
        other = args.work / f"api-{args.customers}-compare"
        serving.serving_dir(other).mkdir(parents=True, exist_ok=True)
        for name in ("store.duckdb", "segmint.yaml"):
            shutil.copyfile(folder / name, other / name)
        try:
            results["publish_compared"] = publish_cost(other, args.compare_with)
            print("publish with", args.compare_with, results["publish_compared"], flush=True)
        finally:
            shutil.rmtree(other)
    if not args.skip_publish:
        results["publish"] = publish_cost(folder)
        print("publish:", results["publish"], flush=True)
    ids = sample_ids(folder, 100_000)
    results["in_process"] = found = in_process(folder, ids)
    for name, r in found.items():
        print(f"  {name}: p50 {r['p50_ms']} ms, mean {r['mean_ms']} ms", flush=True)
    base = found["baseline: service.customer on the store"]["mean_ms"]
    fast = found["the server's lookup (ServingStore.customer_json)"]["mean_ms"]
    results["ratio_baseline_to_lookup"] = round(base / fast, 1)
    if args.skip_http:
        print(json.dumps(results, indent=2))
        return
    results["http"] = http = load_test(
        folder, ids, clients=args.clients, seconds=args.seconds, workers=args.workers,
        rate=args.rate,
    )  # fmt: skip
    print(json.dumps(results, indent=2))
    paced: dict[str, float] = http["paced"]  # type: ignore[assignment]
    met = paced["errors"] == 0 and paced["p99_ms"] <= 20 and paced["requests_per_s"] >= 1000
    print(f"goal p99 <= 20 ms at >= 1,000 req/s, 0 errors: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
