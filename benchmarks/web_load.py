"""Benchmark: the web application under load, against a bare hello-world endpoint on the same
server in the same run.

Set-up: a scratch PostgreSQL database (on ``LUPUSCELL_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; dropped afterwards) with a 10,000-patient
synthetic registry; the app under uvicorn with 2 worker processes on a free port of 127.0.0.1.
Load: a *second process* (this script with ``--client``) runs 50 concurrent keep-alive clients
(asyncio + aiohttp) for a fixed time against one target at a time:

* ``hello``: ``GET /api/v1/health`` (no authentication, no database): the server's ceiling;
* ``timeline``: ``GET /api/v1/patients/{code}/timeline`` for random patients, Bearer token;
* ``patient list``: ``GET /patients?page=N`` (HTML, 25 rows) for random pages, session cookie;
  the app caches pages and rows on the registry's data version (:mod:`lupuscell.web.patient_list`),
  so repeated pages are served from the cache, as when people page back and forth; a second
  server with ``LUPUSCELL_PATIENT_LIST_CACHE=0`` measures the page computed anew every time.

The freshly loaded database is ``ANALYZE``d before the load, as autovacuum does within about a
minute of a bulk load: without planner statistics PostgreSQL scans whole tables where an index
serves (measured: the follow-up read of a page 2-3x slower).

Each target runs back to back (every client sends its next request when the last is answered:
the throughput), and the timeline once more *paced* (the clients together offer ``--rate``
req/s, default 200, on a fixed schedule, latency counted from the scheduled send time, so
queueing is not hidden). Printed: requests, req/s, p50 and p99 latency, errors, and each
target's throughput as a ratio of hello-world's, and the CPU time the uvicorn processes and the
PostgreSQL processes of the scratch database spent per request (from /proc, so Linux only):
unlike requests per second, CPU per request does not move with other work on a shared
machine. Goal (issue 11): timeline p99 < 150 ms at
>= 200 req/s, and >= 25 % of the hello-world throughput, on 2 cores (the load generator shares
those cores; its cost is in the numbers, for every target alike; the machine's load average is
printed, since other work on the same cores changes every number). Bounded: ``--seconds`` per
target (default 10), loopback only.

Usage::

    .venv/bin/python benchmarks/web_load.py [--patients 10000] [--seconds 10] [--clients 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

PG = os.environ.get("LUPUSCELL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "benchmark-password"


# --------------------------------------------------------------------------- load client


async def _client_loop(
    base: str,
    paths: list[str],
    headers: dict[str, str],
    cookies: dict[str, str],
    deadline: float,
    latencies: list[float],
    errors: list[int],
    interval: float | None = None,
) -> None:
    """One keep-alive client: back to back (``interval`` None), or paced at one request per
    ``interval`` seconds with latency counted from the *scheduled* time, so a slow server is not
    hidden by clients that wait for it (no coordinated omission)."""
    import aiohttp

    scheduled = time.perf_counter() + (random.uniform(0, interval) if interval else 0.0)
    cookie_header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    all_headers = {**headers, **({"Cookie": cookie_header} if cookie_header else {})}
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base, headers=all_headers, connector=connector, timeout=timeout
    ) as client:
        while time.perf_counter() < deadline and scheduled < deadline:
            if interval:
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            path = random.choice(paths)
            start = scheduled if interval else time.perf_counter()
            if interval:
                scheduled += interval
            try:
                async with client.get(path) as response:
                    await response.read()
                    ok = response.status == 200
            except Exception:
                ok = False
            latencies.append(time.perf_counter() - start)
            if not ok:
                errors.append(1)


async def _run_clients(spec: dict[str, Any]) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + spec["seconds"]
    start = time.perf_counter()
    interval = spec["clients"] / spec["rate"] if spec.get("rate") else None
    await asyncio.gather(
        *[
            _client_loop(
                spec["base"],
                spec["paths"],
                spec["headers"],
                spec["cookies"],
                deadline,
                latencies,
                errors,
                interval,
            )
            for _ in range(spec["clients"])
        ]
    )
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": len(errors),
        "rps": n / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if n else None,
        "p99_ms": 1000 * latencies[min(n - 1, int(0.99 * n))] if n else None,
    }


def client_main() -> None:
    """``--client``: read a JSON spec on stdin, run the load, print the result as JSON."""
    spec = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(_run_clients(spec))))


# --------------------------------------------------------------------------- CPU accounting


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's supervisor and its worker processes)."""
    out = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii").split():
        out += _children(int(child))
    return out


def _backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the scratch database (the pools' connections)."""
    import sqlalchemy as sa

    from lupuscell.registry.session import normalise_url

    engine = sa.create_engine(normalise_url(url), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            return [int(p) for p in conn.exec_driver_sql(query).scalars()]
    finally:
        engine.dispose()


class CpuMeter:
    """CPU seconds used by the server's processes and by PostgreSQL for the scratch database
    during one target: unlike requests per second, this does not move with other work on a
    shared machine."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.server_pid, self.url = server_pid, url

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {
            "server": {p: _cpu(p) for p in _children(self.server_pid)},
            "database": {p: _cpu(p) for p in _backends(self.url)},
        }

    def since(self, before: dict[str, dict[int, float]]) -> dict[str, float]:
        after = self.snapshot()
        return {k: sum(v - before[k].get(p, 0.0) for p, v in after[k].items()) for k in after}


# --------------------------------------------------------------------------- set-up


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scratch_database() -> tuple[str, Any]:
    import sqlalchemy as sa

    from lupuscell.registry.session import normalise_url

    admin_url = sa.make_url(normalise_url(PG))
    name = f"lupuscell_bench_web_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return admin_url.set(database=name).render_as_string(hide_password=False), (admin, name)


def _drop_database(handle: Any) -> None:
    admin, name = handle
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _seed(url: str, patients: int) -> tuple[str, list[str]]:
    """Load the cohort, add a benchmark admin of every site; return an API token and the codes."""
    import sqlalchemy as sa

    from lupuscell.registry import accounts, migrate
    from lupuscell.registry.bulk import load_tables
    from lupuscell.registry.models import Patient
    from lupuscell.registry.session import make_engine
    from lupuscell.synth.cohort import iter_cohort_tables
    from lupuscell.web import security

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        load_tables(
            engine,
            iter_cohort_tables(patients, 2026, chunk_size=2000),
            actor="benchmark",
            source="benchmarks/web_load.py",
            reason="web load benchmark",
        )
        print(f"loaded {patients} patients in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        account = accounts.create_user(
            engine,
            username="bench",
            role="admin",
            sites=accounts.site_codes(engine),
            password_hash=security.hash_password(PASSWORD),
            actor="benchmark",
        )
        token, digest, prefix = security.new_api_token()
        accounts.create_token(engine, account.id, "benchmark", digest, prefix)
        with engine.connect() as conn:
            codes = list(conn.execute(sa.select(Patient.code)).scalars())
    finally:
        engine.dispose()
    return token, codes


def _login_cookies(base: str) -> dict[str, str]:
    import httpx

    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match is not None
        client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": match.group(1)})
        return dict(client.cookies)


def _start_server(url: str, workers: int, **extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "LUPUSCELL_DATABASE_URL": url,
        "LUPUSCELL_SECRET_KEY": secrets.token_urlsafe(32),
        **extra,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "lupuscell.web.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2):
                return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.5)


def _load(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator in a second process."""
    out = subprocess.run(
        [sys.executable, __file__, "--client"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=True,
        timeout=spec["seconds"] + 120,
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0, help="offered rate of the paced timeline run")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main()
        return
    url, handle = _scratch_database()
    try:
        token, codes = _seed(url, args.patients)
        results = _measure(url, token, codes, args)
    finally:
        _drop_database(handle)
    _report(results, args)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def _metered(meter: CpuMeter, spec: dict[str, Any]) -> dict[str, Any]:
    """One target's load, with the CPU the server and the database spent on it per request."""
    before = meter.snapshot()
    result = _load(spec)
    used = meter.since(before)
    n = max(1, result["requests"])
    return result | {"server_ms": 1000 * used["server"] / n, "database_ms": 1000 * used["database"] / n}


def _measure(url: str, token: str, codes: list[str], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every target against the app, then the list page against a server without its cache."""
    proc, base = _start_server(url, args.workers)
    meter = CpuMeter(proc.pid, url)
    try:
        cookies = _login_cookies(base)
        pages = [f"/patients?page={p}" for p in range(1, max(1, len(codes) // 25) + 1)]
        sample = random.Random(1).sample(codes, min(2000, len(codes)))
        targets = {
            "hello world": {"paths": ["/api/v1/health"], "headers": {}, "cookies": {}},
            "timeline API": {
                "paths": [f"/api/v1/patients/{c}/timeline" for c in sample],
                "headers": {"Authorization": f"Bearer {token}"},
                "cookies": {},
            },
            "patient list page": {"paths": pages, "headers": {}, "cookies": cookies},
        }
        common = {"base": base, "clients": args.clients}
        _load({**common, **targets["timeline API"], "seconds": 2.0})  # warm-up (imports, caches, pools)
        results = {
            name: _metered(meter, {**common, **spec, "seconds": args.seconds})
            for name, spec in targets.items()
        }
        results[f"timeline API at {args.rate:g} req/s"] = _metered(
            meter, {**common, **targets["timeline API"], "seconds": args.seconds, "rate": args.rate}
        )
    finally:
        _stop(proc)
    proc, base = _start_server(url, args.workers, LUPUSCELL_PATIENT_LIST_CACHE="0")
    try:
        spec = {"paths": pages, "headers": {}, "cookies": _login_cookies(base), "base": base}
        results["patient list page, cache off"] = _metered(
            CpuMeter(proc.pid, url), {**spec, "clients": args.clients, "seconds": args.seconds}
        )
    finally:
        _stop(proc)
    return results


def _report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    hello = results["hello world"]["rps"]
    print(
        f"\nweb load: {args.patients} patients (PostgreSQL), {args.workers} uvicorn workers, {args.clients} "
        f"concurrent clients in a second process, {args.seconds:g} s per target, 127.0.0.1; machine load "
        f"average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min) on {os.cpu_count()} cores\n"
    )
    print(
        "| target | requests | errors | req/s | p50 ms | p99 ms | throughput vs hello world "
        "| server CPU ms/request | PostgreSQL CPU ms/request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['requests']} | {r['errors']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['rps'] / hello:.2f} | {r['server_ms']:.2f} | {r['database_ms']:.2f} |"
        )
    top, paced = results["timeline API"], results[f"timeline API at {args.rate:g} req/s"]
    ok = paced["p99_ms"] < 150 and paced["rps"] >= 0.98 * args.rate >= 200 and top["rps"] / hello >= 0.25
    print(
        "\nBack-to-back rows: each client sends its next request as soon as the last one is answered "
        "(throughput; latency is then queueing, about clients / throughput). Paced row: the 50 clients "
        f"together offer {args.rate:g} req/s on a fixed schedule; latency counted from the scheduled time. "
        "CPU columns: CPU time of the uvicorn processes and of the database's server processes during the "
        "target, per request (/proc), which other work on the machine does not change."
    )
    print(
        f"goal (timeline p99 < 150 ms at >= 200 req/s; back-to-back timeline >= 25 % of hello world): "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
