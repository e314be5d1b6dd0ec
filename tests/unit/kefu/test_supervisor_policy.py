"""The supervisor's restart policy: backoff doubling to its cap, the crash-loop window, hangs."""

from __future__ import annotations

from kefu.supervisor_policy import RestartPolicy, ServiceStatus
from kefu.supervisor_settings import SupervisorSettings


def _policy() -> RestartPolicy:
    settings = SupervisorSettings(backoff_seconds=1.0, max_backoff_seconds=3.0, crash_limit=4)
    return RestartPolicy(settings.model_copy(update={"crash_window_seconds": 100, "hang_seconds": 10}))


def test_backoff_doubles_per_crash_up_to_the_cap_then_the_service_is_given_up() -> None:
    policy, status = _policy(), ServiceStatus(state="running")
    delays = [policy.crashed(status, 1, now) for now in (0.0, 1.0, 2.0)]
    assert delays == [1.0, 2.0, 3.0]
    assert (status.state, status.restarts, status.next_start_at) == ("restarting", 3, 5.0)
    assert status.detail == "exited with code 1"
    assert policy.crashed(status, 9, 3.0) is None
    assert (status.state, status.restarts, status.last_exit_code) == ("failed", 3, 9)
    assert status.detail == "gave up after 4 crashes in 100s"


def test_crashes_older_than_the_window_no_longer_count() -> None:
    policy, status = _policy(), ServiceStatus(state="running")
    for now in (0.0, 1.0, 2.0):
        policy.crashed(status, 1, now)
    assert policy.crashed(status, 1, 150.0) == 1.0  # the first three are out of the window
    assert list(status.crashes) == [150.0]


def test_a_service_is_hung_only_after_failing_health_checks_for_hang_seconds() -> None:
    policy, status = _policy(), ServiceStatus(state="running")
    assert not policy.hung(status, False, "HTTP 500", 0.0)
    assert not policy.hung(status, False, "HTTP 500", 10.0)
    assert not policy.hung(status, True, "HTTP 200", 10.5)  # a good answer resets the clock
    assert not policy.hung(status, False, "not answering", 11.0)
    assert policy.hung(status, False, "not answering", 21.5)
    assert status.detail == "not answering"
