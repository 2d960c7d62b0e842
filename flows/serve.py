"""``sealdesk serve``: everything a site runs on one machine, until Ctrl-C.

    a Prefect server    ``prefect server start``, its SQLite database in WORKSPACE/prefect/
                        (the UI on http://127.0.0.1:4200/ by default)
    the deployments     hot-folder every few minutes; nightly-issuance at 02:00 Asia/Shanghai;
                        intake and mailroom without a schedule (run them from the UI)
    a runner            this process: it starts each scheduled or requested run in a
                        subprocess of its own (``prefect.serve``), one nightly issuance at a time
    the web app         ``sealdesk web``, for reviewers and public verification

Ctrl-C (or SIGTERM) stops the runner first (runs under way are cancelled and their state
recorded), then the web app and the server; every process started here is waited for.
``kill -USR1`` prints where this process is (its threads and pending asyncio tasks) to its
standard error, for a stop that does not come.
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from pipeline.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    web_port: int = 8000
    prefect_port: int = 4200
    hot_folder_minutes: float = 5.0
    issuance_cron: str = "0 2 * * *"
    timezone: str = "Asia/Shanghai"
    startup_timeout: float = 180.0


def prefect_environment(settings: Settings) -> dict[str, str]:
    """Prefect's settings for this workspace: its own home (server database, logs) and the
    ones ../shared/TRAPS.md names."""
    home = settings.home / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }


def _with_parent() -> list[str]:
    """A command prefix that has the child sent SIGTERM when this process dies, even
    outright (kill -9, the OOM killer): a Prefect server or web app left behind would hold
    its port, and the next ``sealdesk serve`` could not start. util-linux's ``setpriv``
    (Essential on Debian); nothing where it is missing."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM"] if setpriv else []


@contextmanager
def _process(args: list[str], env: dict[str, str], name: str) -> Iterator[subprocess.Popen[bytes]]:
    # setpriv execs the command: the pid (and process group) stay the one started here
    process = subprocess.Popen([*_with_parent(), *args], env=env, start_new_session=True)
    log.info("%s started (pid %d)", name, process.pid)
    try:
        yield process
    finally:
        _stop(process, name)


def _stop(process: subprocess.Popen[bytes], name: str, grace: float = 20.0) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(grace)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):  # slow, or Ctrl-C again
            log.warning("%s did not stop in time; killed", name)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log.info("%s stopped (exit %s)", name, process.returncode)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited ({process.returncode}) on start-up")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"the Prefect server did not answer {url}/health in {timeout:.0f} s")


def deployments(settings: Settings, options: ServeOptions) -> list[Any]:
    """The site's deployments, each bound to this workspace."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron, Interval
    from prefect.types.entrypoint import EntrypointType

    from flows.hot_folder import hot_folder
    from flows.intake import intake
    from flows.issuance import nightly_issuance
    from flows.mailroom import mailroom

    home = {"home": str(settings.home)}
    module = EntrypointType.MODULE_PATH
    one_at_a_time = ConcurrencyLimitConfig(
        limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
    )
    return [
        hot_folder.to_deployment(
            "hot-folder",
            schedules=[Interval(timedelta(minutes=options.hot_folder_minutes))],
            parameters=home,
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
            ),
            entrypoint_type=module,
            description="Take in what the scanner left in the workspace's inbox/.",
        ),
        nightly_issuance.to_deployment(
            "nightly-issuance",
            schedules=[Cron(options.issuance_cron, timezone=options.timezone)],
            parameters=home,
            concurrency_limit=one_at_a_time,
            entrypoint_type=module,
            description="Issue every application approved in both review stages.",
        ),
        intake.to_deployment(
            "intake", parameters=home, entrypoint_type=module, description=intake.description
        ),
        mailroom.to_deployment(
            "mailroom", parameters=home, entrypoint_type=module, description=mailroom.description
        ),
    ]


def serve(settings: Settings, options: ServeOptions) -> None:
    """Run the site until interrupted (see the module's description)."""
    # Ctrl-C is how the site is stopped. A shell that starts a command in the background
    # (``nohup … &``, a CI script) starts it with SIGINT ignored, and Python then never
    # raises KeyboardInterrupt: serve would not stop. Set before the children start, so
    # they begin with SIGINT's default too (an ignored signal stays ignored across exec).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    env = {**os.environ, **prefect_environment(settings)}
    api = f"http://127.0.0.1:{options.prefect_port}/api"
    server_args = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(options.prefect_port),
    ]
    web_args = [
        sys.executable,
        "-m",
        "sealdesk",
        "--home",
        str(settings.home),
        "web",
        "--host",
        options.host,
        "--port",
        str(options.web_port),
    ]
    # the UI asks its API at PREFECT_UI_API_URL, which defaults to port 4200 whatever --port says
    server_env = {**env, "PREFECT_UI_API_URL": api}
    with _process(server_args, server_env, "Prefect server") as server:
        _wait_healthy(api, server, options.startup_timeout)
        env["PREFECT_API_URL"] = api
        os.environ.update({k: env[k] for k in ("PREFECT_API_URL", "PREFECT_HOME")})
        with _process(web_args, env, "web app"):
            from prefect import serve as prefect_serve
            from prefect.settings import PREFECT_API_URL, temporary_settings

            print(
                f"sealdesk serve: Prefect UI http://127.0.0.1:{options.prefect_port}/  "
                f"web app http://{options.host}:{options.web_port}/  "
                f"inbox {settings.home / 'inbox'}  (Ctrl-C stops everything)",
                flush=True,
            )
            previous = signal.signal(signal.SIGTERM, _interrupt)
            signal.signal(signal.SIGUSR1, _pending_tasks)
            # the threads' stacks at once, from C, even while the main thread is stuck
            faulthandler.register(signal.SIGUSR1, all_threads=True, chain=True)
            try:
                with temporary_settings({PREFECT_API_URL: api}):
                    prefect_serve(*deployments(settings, options), print_starting_message=True)
            except KeyboardInterrupt:
                pass
            finally:
                signal.signal(signal.SIGTERM, previous)
    print("sealdesk serve: stopped", flush=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _pending_tasks(signum: int, frame: Any) -> None:
    """Every pending asyncio task, with the chain of awaits it is stuck in, to standard
    error."""
    print("sealdesk serve: pending tasks", file=sys.stderr, flush=True)
    for task in [o for o in gc.get_objects() if isinstance(o, asyncio.Task)]:
        if task.done():
            continue
        print(f"task {task.get_name()}:", file=sys.stderr)
        awaiting: Any = task.get_coro()
        while awaiting is not None:
            code = getattr(awaiting, "cr_code", None) or getattr(awaiting, "ag_code", None)
            where = getattr(awaiting, "cr_frame", None) or getattr(awaiting, "ag_frame", None)
            if code is None or where is None:
                print(f"    awaiting {awaiting!r:.200}", file=sys.stderr)
                break
            print(f"    {code.co_filename}:{where.f_lineno} {code.co_name}", file=sys.stderr)
            awaiting = getattr(awaiting, "cr_await", None) or getattr(awaiting, "ag_await", None)
    sys.stderr.flush()
