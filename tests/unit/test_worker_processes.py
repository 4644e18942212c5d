"""The arithmetic of `worker --processes N` (core/jobs/processes.py); the processes themselves
are tested in tests/store/test_worker_processes.py."""

from __future__ import annotations

import os
import signal

import pytest

from core.domain.errors import InvalidInput
from core.jobs.processes import check_processes, describe, exit_status, share, usable_cores


def test_processes_default_to_the_usable_cores_and_refuse_nonsense():
    assert check_processes(None) == usable_cores() == len(os.sched_getaffinity(0))
    assert check_processes("3") == 3 and check_processes(" 1 ") == 1
    for bad in ("0", "-1", "two", "", "1.5", "100000"):
        with pytest.raises(InvalidInput, match="invalid --processes"):
            check_processes(bad)


def test_max_concurrent_is_divided_with_at_least_one_each():
    assert share(64, 4) == 16 and share(5, 2) == 2 and share(3, 8) == 1 and share(1, 1) == 1


def test_a_child_status_reads_as_a_shell_shows_it():
    assert exit_status(0) == 0 and exit_status(1) == 1 and exit_status(-signal.SIGKILL) == 137
    assert describe(-signal.SIGKILL) == "killed by SIGKILL" and describe(3) == "exit status 3"
