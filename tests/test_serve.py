"""``sealdesk serve`` for real: a Prefect server, the scheduled deployments, the runner and
the web app start; a requested hot-folder run takes a scan in; Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import children_of, kill_all, survivors

PACKETS = Path(__file__).resolve().parents[1] / "fixtures" / "packets"
FOREIGN = "CQC-2026-606093"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(what: str, probe: Any, timeout: float, process: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"sealdesk serve exited ({process.returncode}) before {what}"
        try:
            found = probe()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(1)
    pytest.fail(f"no {what} in {timeout:.0f} s")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_serve_runs_the_site_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["SEALDESK_HOME"] = str(home)
    sealdesk = [sys.executable, "-m", "sealdesk"]
    subprocess.run(
        [*sealdesk, "intake", str(PACKETS / FOREIGN / "application.json")],
        env=env,
        check=True,
        capture_output=True,
    )
    web, prefect = _free_port(), _free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*sealdesk, "serve", "--port", str(web), "--prefect-port", str(prefect)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # as a shell starts a command in the background (nohup, CI): SIGINT ignored
        preexec_fn=_ignore_sigint,
    )
    api = f"http://127.0.0.1:{prefect}/api"
    try:

        def deployments() -> dict[str, Any] | None:
            rows = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
            return {d["name"]: d for d in rows} if len(rows) == 4 else None

        served = _until("deployments", deployments, 240, process)
        assert sorted(served) == ["hot-folder", "intake", "mailroom", "nightly-issuance"]
        nightly = served["nightly-issuance"]["schedules"][0]["schedule"]
        assert (nightly["cron"], nightly["timezone"]) == ("0 2 * * *", "Asia/Shanghai")
        interval = served["hot-folder"]["schedules"][0]["schedule"]["interval"]
        assert interval == 300.0
        page = _until(
            "web app", lambda: httpx.get(f"http://127.0.0.1:{web}/verify", timeout=5), 60, process
        )
        assert page.status_code == 200
        scan = home / "inbox" / "scan-0001.pdf"
        scan.write_bytes((PACKETS / FOREIGN / "scan-envelope.pdf").read_bytes())
        past = time.time() - 300
        os.utime(scan, (past, past))

        def requested() -> dict[str, Any] | None:
            # the server answers 503 now and then while its SQLite database is busy: retry
            answer = httpx.post(
                f"{api}/deployments/{served['hot-folder']['id']}/create_flow_run",
                json={},
                timeout=10,
            )
            return answer.json() if answer.status_code < 300 else None

        run = _until("flow run created", requested, 60, process)

        def finished() -> str | None:
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]
            return state["type"] if state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

        assert _until("finished hot-folder run", finished, 300, process) == "COMPLETED"
        assert not scan.exists()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(90)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGUSR1)  # where it hangs, into the log
            time.sleep(5)
            tree = subprocess.run(
                ["ps", "-eo", "pid,ppid,pgid,stat,etimes,args", "--forest"],
                capture_output=True,
                text=True,
            ).stdout
            log.write(f"\n--- processes when the stop did not come ---\n{tree}".encode())
            code = None
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    output = (tmp_path / "serve.log").read_text(errors="replace")
    assert code == 0, output[-20000:]
    assert "sealdesk serve: stopped" in output
    for port in (web, prefect):  # the server and the web app are gone with it
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    listed = subprocess.run(
        [*sealdesk, "list"], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert FOREIGN in listed and "checked" in listed


_SERVE_KILLED = """
import os, sys, time
from flows.serve import _process

with _process([sys.executable, "-c", "import time; time.sleep(120)"], dict(os.environ), "child"):
    time.sleep(120)
"""


def test_what_serve_started_ends_when_serve_is_killed_outright() -> None:
    """kill -9 (or the OOM killer) gives serve no chance to stop its server and web app;
    they must end anyway, or they hold their ports and the next serve cannot start."""
    serve = subprocess.Popen([sys.executable, "-c", _SERVE_KILLED], cwd=PACKETS.parents[1])
    children: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while not children and time.monotonic() < deadline:
            time.sleep(0.2)
            children = children_of(serve.pid)
        assert children, "serve's child did not start"
        serve.kill()
        serve.wait(10)
        assert not survivors(children, 15), "serve's child outlived it"
    finally:
        if serve.poll() is None:
            serve.kill()
        kill_all(children)
