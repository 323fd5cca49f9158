"""Benchmark: sustained ingest of sales lines through POST /ingest/sales on loopback.

    .venv/bin/python benchmarks/ingest_speed.py [--pg postgresql+psycopg://USER@127.0.0.1/DB]
        [--skip-sqlite] [--batches 200] [--batch-lines 500] [--concurrency 1 4]
        [--orders 1000] [--order-lines 3] [--order-concurrency 8] [--replays 100]
        [--same-day] [--json]
    .venv/bin/python benchmarks/ingest_speed.py --profile 40 [--batch-lines 500] [--preload N]

Setup, not timed: a fresh database, a temporary SQLite file (and, with --pg, a database
`replenish_bench_<pid>` of its own created on that server and dropped at the end, so nobody
else's tables are touched), migrated as the app migrates (bot.migrate); through the CLI's
import (core/imports.import_bytes) one warehouse, --skus SKUs, one supplier with a term for
each and a stock snapshot per SKU; 56 days of SalesDay history before the first fed day,
written directly. The real ASGI app (bot.app.http_app, one feed token, no HMAC) is served by
uvicorn (adapters.http.server) in a subprocess on 127.0.0.1, on a free port, so that the
client never holds the server's GIL; the run waits for /healthz and sends 10 single-order
warm-up requests (not reported). Every request body is built before the server starts.

Timed, by the client (httpx.AsyncClient, one per concurrent worker, in this process): each
request from just before it is sent until its answer is read (latency), and each scenario from
its first send to its last answer (wall time). Every request carries the bearer token and a
unique Idempotency-Key; its body is a JSON array of lines (order_id, line, sku, qty,
timestamp, price), SKUs by Zipf-like popularity, orders of 1–4 lines.

- batches: --batches requests × --batch-lines lines, once at each --concurrency;
- replan: one run of the replan job (bot.jobs.replan, in this process, the server idle)
  draining the SKUs the batches queued;
- webhook orders: --orders requests × --order-lines lines (one order each), --order-concurrency;
- replay: the first --replays requests of the first batch run sent again at concurrency 4:
  they must be answered from the inbox (the first answer again) and write nothing.

Each batch run's lines are dated on a shop day of its own before today and the webhook orders
today, because a sales request rebuilds SalesDay of its days from all their stored lines: a
scenario's figures then do not depend on the scenarios before it. --same-day dates everything
today (the cost of a day's growing line count shows in the later scenarios).

Checked afterwards: sales lines and their quantity = what was sent once, SalesDay quantity of
the fed days = the lines' quantity, one inbox row per unique key, the replay changed no count,
its answers equal the first ones, no replan request left after the job. Any non-2xx answer or
failed check is printed (with the server's exceptions) and the run exits with status 1.

--profile N: instead, no HTTP: on a fresh SQLite database (with --preload lines already stored
for today), N batch requests go straight to the endpoint's ingest callable
(bot.feeds.feed_ingest) with timers around its steps, then N more under cProfile.
"""

import argparse
import asyncio
import cProfile
import importlib
import json
import os
import platform
import pstats
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import col

from adapters.ingest import token_hash
from bot.app import App
from bot.settings import FeedsSettings, Settings
from core.imports import import_bytes
from core.ingest import Kind
from core.models import InboxEvent, ReplanRequest, SalesDay, SalesLine
from core.store import Store, is_sqlite

TOKEN = "replenish-bench-feed-token"
SOURCE = "bench"
TZ_NAME = "Asia/Taipei"
HISTORY_DAYS = 56
WARM_UP = 10
REPLAY_CONCURRENCY = 4
TABLES = {"sales_line": SalesLine, "sales_day": SalesDay, "inbox": InboxEvent}


# --- the database -------------------------------------------------------------------------


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A database of our own on that server, dropped afterwards (others are never touched)."""
    admin = make_url(url).set(drivername="postgresql")
    name = f"replenish_bench_{os.getpid()}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings_for(url: str) -> Settings:
    feeds = FeedsSettings(tokens={SOURCE: token_hash(TOKEN)})
    return Settings(database_url=url, locale="en", timezone=TZ_NAME, feeds=feeds)


def prepare(url: str, skus: int, first_fed: date, daily_units: int, seed: int = 7) -> None:
    """Migrate as the app does, then the shop's reference data through the CLI's import;
    history and stock sized to `daily_units` sold a day (what a batch scenario feeds a day)."""
    from bot.migrate import ensure_schema, upgrade  # noqa: PLC0415 (alembic: setup only)

    store = Store.connect(url)
    if is_sqlite(store.engine):
        ensure_schema(store)  # a fresh file: created on first use
    else:
        upgrade(store)  # `replenish db upgrade`
    tz = ZoneInfo(TZ_NAME)
    rng = np.random.default_rng(seed)
    price = np.round(rng.uniform(20, 500, skus), 0)
    rate = popularity(skus) * daily_units  # units a day, per SKU
    on_hand = np.round(rate * rng.uniform(2, 20, skus)).astype(int)  # 2–20 days of cover
    files = {
        Kind.LOCATIONS: "location,name,kind\nWH,Main warehouse,warehouse\n",
        Kind.SKUS: "sku,name,price,unit_cost\n"
        + "".join(f"{code(i)},Item {i},{price[i]:.0f},{price[i] * 0.6:.0f}\n" for i in range(skus)),
        Kind.SUPPLIERS: "supplier,name\nSUP1,Supplier one\n",
        Kind.TERMS: "supplier,sku,unit_price,lead_time_days,moq\n"
        + "".join(f"SUP1,{code(i)},{price[i] * 0.6:.0f},3,6\n" for i in range(skus)),
        Kind.STOCK: "sku,on_hand\n" + "".join(f"{code(i)},{on_hand[i]}\n" for i in range(skus)),
    }
    for kind, text in files.items():
        import_bytes(store, kind, text.encode(), name="seed.csv", tz=tz)
    _write_history(store, rng, rate, first_fed)
    store.dispose()


def _write_history(store: Store, rng: np.random.Generator, rate: np.ndarray, before: date) -> None:
    """Daily demand for HISTORY_DAYS days up to the day before the fed days (what the planner
    reads; a day the feed touches is rebuilt from its lines, so history stays out of them)."""
    with store.unit_of_work() as session:
        ids = dict(session.execute(sa.text("SELECT code, id FROM sku")).all())
        rows = [
            {"sku_id": ids[code(i)], "location_id": 1, "channel": "", "day": day, "qty": int(q)}
            for back in range(1, HISTORY_DAYS + 1)
            for day in [before - timedelta(days=back)]
            for i, q in enumerate(rng.poisson(rate))
            if q > 0
        ]
        session.execute(sa.insert(SalesDay.__table__), rows)  # type: ignore[attr-defined]


def daily_units(args: argparse.Namespace) -> int:
    """What one batch scenario sells on its day (1–3 units a line, 2 on average)."""
    return 2 * args.batches * args.batch_lines


def code(i: int) -> str:
    return f"SKU{i:05d}"


def popularity(skus: int) -> np.ndarray:
    """Zipf-like shares over the SKUs (rank 1 sells most), summing to 1."""
    weights = 1.0 / np.arange(1, skus + 1) ** 0.8
    return weights / weights.sum()


# --- the requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    key: str
    body: bytes
    lines: int
    qty: int


def today() -> date:
    return datetime.now(ZoneInfo(TZ_NAME)).date()


@dataclass
class Orders:
    """Order lines: SKUs by popularity, timed within one shop day (today: up to now)."""

    skus: int
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(11))

    def rows(self, order_id: str, count: int, day: date) -> list[dict[str, Any]]:
        start = datetime.combine(day, datetime.min.time())
        now = datetime.now(ZoneInfo(TZ_NAME)).replace(tzinfo=None, microsecond=0)
        span = max(1, int((min(now, start + timedelta(days=1)) - start).total_seconds()))
        at = start + timedelta(seconds=int(self.rng.integers(0, span)))
        picks = self.rng.choice(self.skus, size=count, p=popularity(self.skus))
        return [
            {
                "order_id": order_id,
                "line": line,
                "sku": code(int(sku)),
                "qty": int(self.rng.integers(1, 4)),
                "timestamp": at.isoformat(sep=" "),
                "price": float(self.rng.integers(20, 500)),
            }
            for line, sku in enumerate(picks, start=1)
        ]

    def batch(self, prefix: str, lines: int, day: date) -> list[dict[str, Any]]:
        """Whole orders of 1–4 lines until `lines` lines."""
        rows: list[dict[str, Any]] = []
        while len(rows) < lines:
            size = min(int(self.rng.integers(1, 5)), lines - len(rows))
            rows += self.rows(f"{prefix}-{len(rows):04d}", size, day)
        return rows

    def requests(
        self, prefix: str, count: int, lines: int, day: date, *, whole: bool
    ) -> list[Request]:
        """`count` requests of `lines` lines: whole orders (a batch) or one order each."""
        made = []
        for n in range(count):
            name = f"{prefix}-{n:05d}"
            rows = self.batch(name, lines, day) if whole else self.rows(name, lines, day)
            body = json.dumps(rows).encode()
            made.append(Request(name, body, len(rows), sum(r["qty"] for r in rows)))
        return made


# --- the server (a subprocess, so that the client never holds the server's GIL) -----------


def serve(url: str) -> None:
    """The child: the real app on a free loopback port, announced on stdout."""
    from adapters.http import server  # noqa: PLC0415 (only the child serves)
    from bot.app import http_app  # noqa: PLC0415

    app = App(settings_for(url), Store.connect(url))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    server(http_app(app, None), port=sock.getsockname()[1]).run(sockets=[sock])


@dataclass(frozen=True)
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user + system; Linux, else NaN): unlike wall
        time, hardly changed by other work on the machine (the database's own is not in it)."""
        stat = Path(f"/proc/{self.pid}/stat")
        if not stat.exists():
            return float("nan")
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_server(url: str, log: Path) -> Iterator[Server]:
    command = [sys.executable, __file__, "--serve", url]
    with log.open("w") as errors:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert child.stdout is not None
        port = child.stdout.readline().strip()
        if not port.isdigit():
            raise SystemExit(f"the server did not start:\n{log.read_text()}")
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, child, log)
        yield Server(base, child.pid)
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_healthy(base: str, child: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"/healthz did not answer within 30 s:\n{log.read_text()}")


# --- the client ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    key: str
    status: int
    seconds: float
    answer: dict[str, Any]


async def _send_all(
    base: str, requests: list[Request], concurrency: int
) -> tuple[float, list[Sent]]:
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    done: list[Sent] = []
    auth = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            while not queue.empty():
                request = queue.get_nowait()
                headers = {**auth, "idempotency-key": request.key}
                started = time.perf_counter()
                response = await client.post("/ingest/sales", content=request.body, headers=headers)
                elapsed = time.perf_counter() - started
                answer = _json(response)
                done.append(Sent(request.key, response.status_code, elapsed, answer))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, done


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:  # a crash answers "Internal Server Error" as text
        return {"text": response.text[:200]}
    return answer if isinstance(answer, dict) else {"json": answer}


def scenario(
    name: str, server: Server, requests: list[Request], concurrency: int
) -> dict[str, Any]:
    cpu = server.cpu_seconds()
    wall, sent = asyncio.run(_send_all(server.base, requests, concurrency))
    cpu = server.cpu_seconds() - cpu
    lines = sum(r.lines for r in requests)
    status = {s.key: s.status for s in sent}
    taken = sum(r.lines for r in requests if 200 <= status[r.key] < 300)
    print(f"  {name}, concurrency {concurrency}: {lines:,} lines in {wall:.1f} s", file=sys.stderr)
    ms = np.array([s.seconds for s in sent]) * 1000
    tenth = max(1, len(ms) // 10)  # in the order they were sent
    order = {r.key: n for n, r in enumerate(requests)}
    by_order = ms[np.argsort([order[s.key] for s in sent])]
    return {
        "scenario": name,
        "concurrency": concurrency,
        "requests": len(requests),
        "lines": lines,
        "wall_s": wall,
        "lines_per_s": taken / wall,  # lines answered 2xx
        "requests_per_s": len(requests) / wall,
        **{f"p{q}_ms": float(np.percentile(ms, q)) for q in (50, 95, 99)},
        "max_ms": float(ms.max()),
        "p50_first_tenth_ms": float(np.median(by_order[:tenth])),
        "p50_last_tenth_ms": float(np.median(by_order[-tenth:])),
        "server_cpu_ms_per_request": cpu / len(requests) * 1000,
        "non_2xx": sum(1 for s in sent if not 200 <= s.status < 300),
        "answers": {s.key: s.answer for s in sent},
    }


# --- checks and the replan job ------------------------------------------------------------


def counts(url: str, first_fed: date) -> dict[str, int]:
    store = Store.connect(url)
    with store.read() as session:
        found = {
            name: int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)
            for name, model in {**TABLES, "replan_waiting": ReplanRequest}.items()
        }
        qty = sa.select(sa.func.coalesce(sa.func.sum(SalesDay.qty), 0))
        fed = sa.select(sa.func.coalesce(sa.func.sum(SalesLine.qty), 0))
        found["sales_line_qty"] = int(session.scalar(fed) or 0)
        fed_days = qty.where(col(SalesDay.day) >= first_fed)
        found["sales_day_qty_fed"] = int(session.scalar(fed_days) or 0)
    store.dispose()
    return found


def time_replan(url: str) -> dict[str, Any]:
    """One run of the replan job, as the scheduler runs it every 15 s."""
    from bot.engine import REPLAN_BATCH  # noqa: PLC0415 (imported before the clock starts)
    from bot.jobs import replan  # noqa: PLC0415

    app = App(settings_for(url), Store.connect(url))
    waiting = _waiting(app.store)
    started = time.perf_counter()
    result = replan(app, datetime.now(UTC))
    elapsed = time.perf_counter() - started
    left = _waiting(app.store)
    app.store.dispose()
    summary = result.as_dict() if result is not None else {}
    return {
        "skus_waiting": waiting,
        "seconds": elapsed,
        "left": left,
        "left_over_batch": left - max(0, waiting - REPLAN_BATCH),  # one run takes a batch
        "alerts_opened": len(summary.get("opened", [])),
        "pos_drafted": len(summary.get("drafted", [])),
    }


def _waiting(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(ReplanRequest)) or 0)


@dataclass(frozen=True)
class Plan:
    """Every request of one database's run, built before the server starts."""

    warm_up: list[Request]
    batches: list[tuple[int, list[Request]]]  # (concurrency, requests)
    orders: list[Request]
    replays: list[Request]
    first_day: date

    @classmethod
    def build(cls, args: argparse.Namespace) -> "Plan":
        """Each scenario on a shop day of its own, the webhook orders today (--same-day: all
        today): a sales request rebuilds its days' SalesDay from all their lines."""
        orders, last = Orders(args.skus), today()
        days = [
            last - timedelta(days=0 if args.same_day else len(args.concurrency) - n)
            for n in range(len(args.concurrency))
        ]
        batches = [
            (c, orders.requests(f"batch-c{c}", args.batches, args.batch_lines, day, whole=True))
            for c, day in zip(args.concurrency, days, strict=True)
        ]
        return cls(
            warm_up=orders.requests("warm", WARM_UP, 3, last, whole=False),
            batches=batches,
            orders=orders.requests("order", args.orders, args.order_lines, last, whole=False),
            replays=batches[0][1][: args.replays],
            first_day=min(days),
        )

    def unique(self) -> list[Request]:
        return self.warm_up + [r for _, run in self.batches for r in run] + self.orders


def run_database(url: str, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    print(f"{make_url(url).get_backend_name()}: setting up", file=sys.stderr)
    plan = Plan.build(args)
    prepare(url, args.skus, plan.first_day, daily_units(args))
    first_fed = plan.first_day
    with running_server(url, log) as server:
        rows = [scenario("warm-up", server, plan.warm_up, 1)]
        rows += [scenario("batches", server, run, c) for c, run in plan.batches]
        replan = time_replan(url)
        rows.append(scenario("webhook orders", server, plan.orders, args.order_concurrency))
        before = counts(url, first_fed)
        rows.append(scenario("replay", server, plan.replays, REPLAY_CONCURRENCY))
        after = counts(url, first_fed)
    problems = verify(plan, rows, before, after) + (
        [f"{replan['left']} replan requests left after the job"]
        if replan["left_over_batch"]
        else []
    )
    if any(row["non_2xx"] for row in rows):
        problems += server_errors(log)
    return {"scenarios": rows[1:], "replan": replan, "counts": after, "problems": problems}


def server_errors(log: Path) -> list[str]:
    """The distinct exceptions the server logged (the last line of each traceback)."""
    found = re.findall(r"^(?:\w+\.)*\w*(?:Error|Exception|Violation)\b.*$", log.read_text(), re.M)
    return [f"server: {line[:300]}" for line in dict.fromkeys(found)][:5]


def verify(
    plan: Plan, rows: list[dict[str, Any]], before: dict[str, int], after: dict[str, int]
) -> list[str]:
    """What must hold afterwards; each failure in words."""
    sent = plan.unique()
    expected = {
        "sales_line": sum(r.lines for r in sent),
        "sales_line_qty": sum(r.qty for r in sent),
        "sales_day_qty_fed": sum(r.qty for r in sent),
        "inbox": len(sent),
    }
    problems = [
        f"{name}: {after[name]:,} in the database, {value:,} expected"
        for name, value in expected.items()
        if after[name] != value
    ]
    problems += [f"replay changed {k}" for k in TABLES if before[k] != after[k]]
    problems += [f"{row['scenario']}: {row['non_2xx']} non-2xx" for row in rows if row["non_2xx"]]
    first = next(row for row in rows if row["scenario"] == "batches")["answers"]
    replayed = next(row for row in rows if row["scenario"] == "replay")["answers"]
    differ = sum(1 for key, answer in replayed.items() if answer != first[key])
    if differ:
        problems.append(f"replay: {differ} answers differ from the first")
    short = sum(1 for a in first.values() if a.get("imported") != len(a.get("accepted", [])))
    if short:
        problems.append(f"batches: {short} answers imported fewer lines than accepted")
    return problems


# --- where one request's time goes (no HTTP) ----------------------------------------------

# (module, function, part): timed where the caller looks the function up, in CPU time of the
# thread (other work on the machine hardly changes it; all of SQLite's work is in it). Timers,
# not cProfile, for the figures: cProfile inflates pandas' many small calls about 4× against
# SQL's few.
STEPS = (
    ("bot.feeds", "_readable_rows", "pre-check: parse the body, map the headers"),
    ("bot.feeds", "import_in_session", "the import, in all"),
    ("core.imports", "read_table", "  parse the body again"),
    ("core.imports", "validate", "  validate the columns (maps the headers again)"),
    ("core.imports", "_check_references", "  SKU and location look-ups"),
    ("core.sales", "_mark_and_insert_new", "  sales lines: de-duplicate and insert"),
    ("core.sales", "_rebuild_sales_days", "  SalesDay of the touched days, rebuilt"),
    ("bot.feeds", "map_headers", "map the headers (pre-check + validate)"),
    ("core.ingest", "map_headers", "map the headers (pre-check + validate)"),
    ("bot.feeds", "request_replan", "replan request rows"),
    ("bot.feeds", "answer", "the answer"),
)


def _time_steps(spent: dict[str, float]) -> None:
    """Wrap each step's function in a timer adding to `spent` (this process only)."""
    for module, name, part in STEPS:
        target = importlib.import_module(module)
        original = getattr(target, name)

        def timed(*args: Any, __f: Any = original, __part: str = part, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return __f(*args, **kwargs)
            finally:
                spent[__part] += time.thread_time() - started

        setattr(target, name, timed)


def profile(args: argparse.Namespace) -> None:
    from bot.feeds import feed_ingest  # noqa: PLC0415

    spent = dict.fromkeys([part for _, _, part in STEPS], 0.0)
    _time_steps(spent)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'profile.db'}"
        prepare(url, args.skus, today(), daily_units(args))
        orders = Orders(args.skus)
        preload(url, orders, args.preload)
        app = App(settings_for(url), Store.connect(url))
        ingest = feed_ingest(app)
        warm, timed, profiled = (
            orders.requests(name, count, args.batch_lines, today(), whole=True)
            for name, count in (("warm", 2), ("timed", args.profile), ("cprofile", args.profile))
        )

        def send(requests: list[Request]) -> None:
            for r in requests:
                ingest("sales", r.body, "application/json", SOURCE, idempotency_key=r.key)

        send(warm)  # first connection, lazy imports
        spent.update(dict.fromkeys(spent, 0.0))
        started, wall = time.thread_time(), time.perf_counter()
        send(timed)
        whole, wall = time.thread_time() - started, time.perf_counter() - wall
        timings = dict(spent)
        profiler = cProfile.Profile()
        profiler.runcall(send, profiled)
        app.store.dispose()
    print(
        f"{args.profile} requests × {args.batch_lines} lines straight to the ingest callable "
        f"(no HTTP, SQLite, {args.preload:,} lines stored for the day before): "
        f"{whole / args.profile * 1000:.1f} ms CPU a request ({wall / args.profile * 1000:.1f} "
        "ms wall)"
    )
    _print_profile(timings, whole, args.profile)
    print(f"cProfile of {args.profile} more requests (internal time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(10)


def preload(url: str, orders: Orders, lines: int) -> None:
    """Lines already stored for the fed days (written directly, not timed), SalesDay rebuilt."""
    from core.sales import rebuild_sales_days  # noqa: PLC0415

    if lines <= 0:
        return
    tz = ZoneInfo(TZ_NAME)
    store = Store.connect(url)
    with store.unit_of_work() as session:
        ids = dict(session.execute(sa.text("SELECT code, id FROM sku")).all())
        records = [
            {
                "order_id": row["order_id"],
                "line_no": row["line"],
                "sku_id": ids[row["sku"]],
                "location_id": 1,
                "channel": "",
                "ordered_at": at.astimezone(UTC),
                "sale_date": at.date(),
                "qty": row["qty"],
                "price": row["price"],
            }
            for row in orders.batch("preload", lines, today())
            for at in [datetime.fromisoformat(row["timestamp"]).replace(tzinfo=tz)]
        ]
        session.execute(sa.insert(SalesLine.__table__), records)  # type: ignore[attr-defined]
        rebuild_sales_days(session.connection(), {r["sale_date"] for r in records})
    store.dispose()


def _print_profile(spent: dict[str, float], whole: float, calls: int) -> None:
    print("| part | CPU ms a request | share |")
    print("|---|---|---|")
    for part, seconds in spent.items():
        print(f"| {part} | {seconds / calls * 1000:.1f} | {seconds / whole:.0%} |")
    rest = whole - sum(spent[p] for p in spent if not p.startswith(("  ", "map")))
    print(f"| inbox, session, commit (the rest) | {rest / calls * 1000:.1f} | {rest / whole:.0%} |")


# --- output -------------------------------------------------------------------------------


def markdown(label: str, result: dict[str, Any]) -> list[str]:
    out = [
        f"\n{label}",
        "| scenario | concurrency | requests | lines | wall | lines/s (2xx) | requests/s "
        "| p50 / p95 / p99 / max (ms) | p50 first → last 10 % (ms) "
        "| server CPU a request | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["scenarios"]:
        out.append(
            f"| {r['scenario']} | {r['concurrency']} | {r['requests']:,} | {r['lines']:,} "
            f"| {r['wall_s']:.1f} s | {r['lines_per_s']:,.0f} | {r['requests_per_s']:,.1f} "
            f"| {r['p50_ms']:.0f} / {r['p95_ms']:.0f} / {r['p99_ms']:.0f} / {r['max_ms']:.0f} "
            f"| {r['p50_first_tenth_ms']:.0f} → {r['p50_last_tenth_ms']:.0f} "
            f"| {r['server_cpu_ms_per_request']:.0f} ms | {r['non_2xx']} |"
        )
    replan = result["replan"]
    out.append(
        f"replan job after the batches: {replan['skus_waiting']:,} SKUs waiting, "
        f"{replan['seconds']:.2f} s, {replan['left']} left, {replan['alerts_opened']} alerts "
        f"opened, {replan['pos_drafted']} POs drafted"
    )
    c = result["counts"]
    out.append(
        f"database afterwards: {c['sales_line']:,} sales lines, {c['inbox']:,} inbox rows, "
        f"SalesDay quantity of the fed days {c['sales_day_qty_fed']:,} "
        f"(lines: {c['sales_line_qty']:,})"
    )
    out += [f"FAILED: {problem}" for problem in result["problems"]]
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--pg", metavar="URL", help="also on PostgreSQL (a database of its own on that server)")
    add("--skip-sqlite", action="store_true", help="PostgreSQL only")
    add("--skus", type=int, default=1_000)
    add("--same-day", action="store_true", help="every scenario's lines dated today")
    add("--batches", type=int, default=200)
    add("--batch-lines", type=int, default=500)
    add("--concurrency", type=int, nargs="+", default=[1, 4])
    add("--orders", type=int, default=1_000)
    add("--order-lines", type=int, default=3)
    add("--order-concurrency", type=int, default=8)
    add("--replays", type=int, default=100)
    add("--json", action="store_true", help="machine output")
    add("--profile", type=int, metavar="N", help="profile N batch requests, no HTTP")
    add("--preload", type=int, default=0, help="--profile: lines already stored for the days")
    add("--serve", metavar="URL", help=argparse.SUPPRESS)  # the server subprocess
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    if args.profile:
        profile(args)
        return 0
    results: dict[str, Any] = {}
    load = [os.getloadavg()[0]]  # other work on the machine shows here
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            url = f"sqlite:///{Path(tmp) / 'ingest.db'}"
            results["SQLite"] = run_database(url, args, Path(tmp) / "sqlite.log")
        if args.pg:
            with postgres_database(args.pg) as url:
                results["PostgreSQL"] = run_database(url, args, Path(tmp) / "pg.log")
    for result in results.values():
        for row in result["scenarios"]:
            row.pop("answers")
    load.append(os.getloadavg()[0])
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.platform()}; 1-minute load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end"
    )
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2))
    else:
        print(f"machine: {machine}")
        for label, result in results.items():
            print("\n".join(markdown(label, result)))
    return 1 if any(r["problems"] for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
