"""SIGKILL the nightly issuance at random moments, rerun it, and count what happened.

Each trial approves two new applications and starts the batch in a child process
(``run_batch``, the plain function the nightly flow runs), which is killed with SIGKILL:
on even trials by this process after a random delay within the batch's measured length,
on odd ones by the child itself at a random step boundary (between making the key and
recording it among them). Then the orphan tokens are looked for (``find_orphans``, as the
next night's batch does), the batch is run again to the end, and the invariants are
checked:

- every approval is issued exactly once (one issuance, one credential): ``lost`` counts
  approvals without a credential, ``duplicated`` those with more than one;
- no certificate exists without its record: every certificate on a customer token has
  its credential row (``unrecorded``);
- a key left on a token without a certificate is found before the rerun, and none is left
  after it (``orphans_left``).

Used by ``tests/test_hardening_slow.py`` and ``scripts/hardening``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from stdnum.cn import uscc

REPO = Path(__file__).resolve().parents[2]
STEPS = ("planned", "pin_letter", "key_made", "key_recorded", "certified", "documents")

CHILD = """
import json, os, signal, sys
from pathlib import Path
from cryptography import x509
from pkcs11 import Attribute, ObjectClass
from pipeline.config import load_settings
from pipeline.issue.ca import load_ca
from pipeline.issue.batch import find_orphans, run_batch
from pipeline.workspace import open_workspace

target = os.environ.get("SEALDESK_KILL_AT")
seen = {}

def crash(point):
    seen[point] = seen.get(point, 0) + 1
    if point == target and seen[point] == int(os.environ.get("SEALDESK_KILL_NTH", "1")):
        os.kill(os.getpid(), signal.SIGKILL)

settings = load_settings(Path(sys.argv[1]))
workspace = open_workspace(settings)
ca = load_ca(settings)
if sys.argv[2] == "batch":
    run_batch(workspace, ca, actor="nightly", crash=crash)
else:  # the next night: orphans found, the batch rerun, what the tokens hold
    before = find_orphans(workspace, ca)
    summary = run_batch(workspace, ca, actor="rerun")
    certificates = []
    for token in ca.hsm.tokens(settings.hsm.customer_prefix + "-"):
        with token.open() as session:
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                cert = x509.load_der_x509_certificate(obj[Attribute.VALUE])
                certificates.append(format(cert.serial_number, "x"))
    print(json.dumps({
        "orphans_before": len(before),
        "failed": summary.failed,
        "certificates": certificates,
        "orphans_after": len(find_orphans(workspace, ca)),
    }))
"""


@dataclass
class Trial:
    number: int
    how: str
    """``after 1.23 s`` or ``at key_made``."""
    killed: bool
    orphans_found: int
    lost: int = 0
    duplicated: int = 0
    issued_once: int = 0
    unrecorded: int = 0
    orphans_left: int = 0
    failed: int = 0
    """Applications the rerun could not issue (each is also counted as lost)."""

    @property
    def passed(self) -> bool:
        return not (self.lost or self.duplicated or self.unrecorded or self.orphans_left)


@dataclass
class KillResult:
    trials: list[Trial] = field(default_factory=list)
    batch_seconds: float = 0.0

    def total(self, name: str) -> int:
        return sum(int(getattr(t, name)) for t in self.trials)


def company_code(number: int) -> str:
    body = f"9111010{number:010d}"[:17]
    return body + uscc.calc_check_digit(body)


def run_trials(env: Any, record_data: dict[str, Any], count: int = 20, seed: int = 9) -> KillResult:
    """``env``: a workspace with its CA (tests/test_issue.Env)."""
    rng = random.Random(seed)
    result = KillResult()
    result.batch_seconds = _measure(env, record_data)
    for number in range(1, count + 1):
        apps = [_approve(env, record_data, number * 10 + k) for k in (1, 2)]
        if number % 2 == 0:  # anywhere in the batch after the process has started
            delay = rng.uniform(0.3, 1.0) * result.batch_seconds
            how, killed = f"after {delay:.2f} s", _kill_after(env, delay)
        else:  # at each step boundary in turn, in the first application or the second
            step = STEPS[(number // 2) % len(STEPS)]
            nth = 1 + (number // 2 // len(STEPS) + number // 2) % 2
            how, killed = f"at {step} #{nth}", _kill_at(env, step, nth)
        # the next night is a new process: a process that loaded the token library
        # before the killed one made a token does not see that token
        rerun = _child(env, "rerun")
        out, err = rerun.communicate(timeout=300)
        if rerun.returncode != 0:
            raise RuntimeError(f"the rerun failed: {err.decode()[-2000:]}")
        night = json.loads(out.decode().strip().splitlines()[-1])
        trial = Trial(number, how, killed, night["orphans_before"])
        trial.orphans_left = night["orphans_after"]
        trial.failed = len(night["failed"])
        _check(env, apps, set(night["certificates"]), trial)
        result.trials.append(trial)
    return result


def _approve(env: Any, record_data: dict[str, Any], number: int) -> str:
    app_id = f"CQC-2026-{700000 + number}"
    data = {**record_data, "application_id": app_id}
    data["company"] = {**record_data["company"], "uscc": company_code(number)}
    approved: str = env.approve(data)
    return approved


def _child(env: Any, mode: str, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(env.settings.home), mode],
        env={**os.environ, **(extra or {})},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _measure(env: Any, record_data: dict[str, Any]) -> float:
    """How long an uninterrupted batch of two takes, start of the process included."""
    _approve(env, record_data, 1)
    _approve(env, record_data, 2)
    started = time.perf_counter()
    child = _child(env, "batch")
    _, err = child.communicate(timeout=300)
    if child.returncode != 0:
        raise RuntimeError(f"the batch failed: {err.decode()[-2000:]}")
    return time.perf_counter() - started


def _kill_after(env: Any, delay: float) -> bool:
    child = _child(env, "batch")
    try:
        child.communicate(timeout=delay)
        return False  # it finished first
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.communicate()
        return True


def _kill_at(env: Any, step: str, nth: int) -> bool:
    child = _child(env, "batch", {"SEALDESK_KILL_AT": step, "SEALDESK_KILL_NTH": str(nth)})
    child.communicate(timeout=300)
    return child.returncode == -signal.SIGKILL


def _check(env: Any, apps: list[str], on_tokens: set[str], trial: Trial) -> None:
    from pipeline.records.models import Credential, Issuance

    with env.workspace.session() as db:
        for app_id in apps:
            credentials = db.scalar(
                select(func.count())
                .select_from(Credential)
                .where(Credential.application_id == app_id)
            )
            done = db.scalar(
                select(func.count())
                .select_from(Issuance)
                .where(Issuance.application_id == app_id, Issuance.state == "done")
            )
            if credentials == 0 or done == 0:
                trial.lost += 1
            elif credentials > 1 or done > 1:
                trial.duplicated += 1
            else:
                trial.issued_once += 1
        recorded = set(db.scalars(select(Credential.serial)).all())
    trial.unrecorded = len(on_tokens - recorded)
