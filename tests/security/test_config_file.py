"""A config file with wrong types (issue 22, item 6): each is one line naming the file and the
key, for every command, the worker and the TUI alike; never a crash and never a silent
misreading (`scan_timeout = true` was one second, `jobs = 5` a traceback)."""

from __future__ import annotations

import pytest

CASES = {
    'jobs = 5\n': ("[jobs] must be a table", "not a whole number"),
    'ai = "llama"\n': ("[ai] must be a table", "not text"),
    'evidence = [1, 2]\n': ("[evidence] must be a table", "not a list"),
    'keys = 3\n': ("[keys] must be a table",),
    '[jobs]\nmax_concurrent = "many"\n': ("jobs.max_concurrent must be a whole number", "not text"),
    '[jobs]\nscan_timeout = true\n': ("jobs.scan_timeout must be a whole number", "not true (true/false)"),
    '[jobs]\nmax_concurrent = 2.5\n': ("jobs.max_concurrent must be a whole number", "not a number"),
    '[jobs]\nlease_seconds = [1, 2]\n': ("jobs.lease_seconds must be a number", "not a list"),
    '[jobs]\nstall_timeout = "soon"\n': ("jobs.stall_timeout must be a whole number", "not text"),
    '[jobs]\nworker_grace = 2025-01-01\n': ("jobs.worker_grace must be a number", "not a date or time"),
    '[ai]\nmodel = 5\n': ("ai.model must be text", "not a whole number"),
    '[ai]\nmodel = { name = "x" }\n': ("ai.model must be text", "not a table"),
    '[ai]\nbase_url = ["http://127.0.0.1:1/v1"]\n': ("ai.base_url must be text", "not a list"),
    '[ai]\ntimeout = "soon"\n': ("ai.timeout must be a number of seconds",),
    '[ai]\ntimeout = false\n': ("ai.timeout must be a number of seconds", "not false"),
    '[evidence]\nkeep_days = "ten"\n': ("evidence.keep_days must be a whole number",),
    '[evidence]\nsigning_key = 5\n': ('evidence.signing_key is "keyring" or the path of a key file',),
    '[keys]\n"hosts.add" = 5\n': ('keys."hosts.add" must be text',),
    '[store]\nurl = 5432\n': ("store.url must be text", "not a whole number"),
    '[jobs]\nscan_timeout = 60\nscan_timeout = 90\n': ("not valid TOML",),
}


@pytest.mark.parametrize("text", sorted(CASES))
def test_22_6_a_config_file_with_wrong_types_is_one_line_naming_the_key_and_the_file(cli, tmp_path, text):
    config = tmp_path / "config.toml"
    config.write_text(text)
    done = cli("hosts", "list", env={"COMPLIANCE_TUI_CONFIG": str(config)})
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert done.stderr.startswith(f"error: {config}: ") and done.stderr.count("\n") == 1, done.stderr
    for fragment in CASES[text]:
        assert fragment in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_22_6_the_worker_and_the_tui_say_the_same_line(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[jobs]\nscan_timeout = true\n")
    env = {"COMPLIANCE_TUI_CONFIG": str(config)}
    worker = cli("worker", "--once", env=env, timeout=60)
    tui = cli(env=env, timeout=60)  # no command: the TUI, which reads the same settings first
    for done in (worker, tui):
        assert done.returncode == 1, done.stderr
        assert done.stderr == (f"error: {config}: jobs.scan_timeout must be a whole number, "
                               "not true (true/false)\n"), done.stderr
