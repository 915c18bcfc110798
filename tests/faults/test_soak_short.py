"""
The soak's short form, as CI runs it: `python -m bench soak --seconds 60` (bench/soak.py) on its own
throwaway PostgreSQL and Redis, with a worker SIGKILLed and Redis restarted mid-way. Nothing accepted
may be lost, nothing done twice; an e-mail the mail server took in the instant before the worker
died may be sent once more (at-least-once), which the soak reports apart. SOAK_SECONDS changes the
length (`make soak` runs 600 s).
"""

import json
import os
import subprocess
import sys

import pytest

from bench.soak import ROOT
from tests.faults.conftest import require_tools

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    """Run the soak once for the module; its JSON summary, with the exit code under `exit_code`."""
    require_tools()
    out = tmp_path_factory.mktemp("soak") / "summary.json"
    # The soak starts its own servers and sets up Django itself, in production settings.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    result = subprocess.run(  # noqa: S603 (our own arguments)
        [sys.executable, "-m", "bench", "soak", "--seconds", str(SECONDS), "--json-out", str(out)],
        cwd=ROOT,
        env=env,
        timeout=SECONDS + 600,
        capture_output=True,
        text=True,
    )
    assert out.exists(), f"the soak wrote no summary (exit {result.returncode}):\n{result.stderr[-5000:]}"
    summary = json.loads(out.read_text())
    summary["exit_code"] = result.returncode
    print(json.dumps(summary, ensure_ascii=False, indent=1))  # noqa: T201 - shown with -s and on failure
    return summary


def test_the_soak_sent_mixed_traffic_through_its_faults(soak):
    assert soak["requests"] >= SECONDS, "about one request a second at the very least"
    faults = " / ".join(fault["what"] for fault in soak["faults"])
    assert "worker SIGKILL" in faults
    assert "redis SIGKILL" in faults
    # The worker is started once, and again after the planned SIGKILL. It may also die when Redis
    # drops just as a task is acknowledged: kombu's Redis transport then raises AttributeError
    # ('NoneType' object has no attribute 'hostname') while closing the lost connection, an
    # "Unrecoverable error" of the worker (a known bug of kombu 5.7; production restarts it,
    # docker-compose.yml). That death, and no other, is allowed; the soak restarts the worker as a
    # supervisor would, and the next test proves that nothing was lost or doubled by it.
    unplanned = [fault for fault in soak["faults"] if fault["what"].startswith("worker found dead")]
    assert soak["worker_starts"] == 2 + len(unplanned)
    for fault in unplanned:
        assert "Unrecoverable error" in fault["cause"] and "hostname" in fault["cause"], fault
    # something of every kind was accepted, then looked for
    for what in ("tickets", "comments", "attachments"):
        assert soak["accepted"].get(what, 0) > 0, f"no {what} accepted: {soak['errors_by_kind']}"
    assert soak["lapsed_deadlines"], "no deadline was made to lapse"
    for what in ("tickets", "comments", "attachments", "notifications", "deliveries", "escalations"):
        assert soak["records_checked_by_kind"].get(what, 0) > 0, f"no {what} checked"


def test_the_soak_lost_nothing_and_doubled_nothing(soak):
    assert (soak["lost"], soak["doubled"]) == (0, 0), json.dumps(
        {key: soak[key] for key in ("lost_by_kind", "doubled_by_kind", "details", "drain")},
        ensure_ascii=False,
    )
    assert soak["drain"]["pending"] == 0
    assert soak["exit_code"] == 0
    # An e-mail the mail server took just before the worker died is sent again after the claim
    # lease (at-least-once): at most one per pool process (two) per kill, each one shown.
    kills = sum(
        "worker SIGKILL" in fault["what"] or fault["what"].startswith("worker found dead")
        for fault in soak["faults"]
    )
    assert soak["resent_after_kill"] <= 2 * kills, soak["details"]
