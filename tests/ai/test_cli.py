"""The CLI: `explain` streams to stdout, `ai test|usage|set-key`, errors as one line on stderr.

The real command in a subprocess, against the loopback LLM server in this process's thread.
"""

from __future__ import annotations

import pytest

from core.domain.settings import config_path
from tests.ai.helpers import KEY, ROOT_LOGIN, SCAN_ID, files_containing, seed_scan, write_config


@pytest.fixture
async def seeded(data_dir):
    await seed_scan(data_dir)
    return data_dir


def llm_env(llm, **extra) -> dict:
    return {"OPENAI_BASE_URL": llm.url, "COMPLIANCE_TUI_LLM_MODEL": "test-model", "OPENAI_API_KEY": KEY} | extra


def test_explain_streams_then_uses_the_cache(cli, seeded, llm):
    env = llm_env(llm)
    first = cli.ok("explain", SCAN_ID[:8], "sshd_disable_root_login", env=env)
    assert first.stdout == llm.answer
    assert "(model test-model, " in first.stderr and "as the server reported" in first.stderr
    again = cli.ok("explain", SCAN_ID, ROOT_LOGIN, env=env)
    assert again.stdout == llm.answer and "(cached " in again.stderr and len(llm.chats) == 1
    llm.answer = "## New\n\nfresh"
    regenerated = cli.ok("explain", SCAN_ID[:8], "sshd_disable_root_login", "--regenerate", "--json", env=env)
    found = regenerated.json()
    assert found["text"] == "## New\n\nfresh" and found["cached"] is False and found["result"] == "fail"
    assert found["rule_id"] == ROOT_LOGIN and found["model"] == "test-model" and found["output_tokens"] > 0
    assert len(llm.chats) == 2 and llm.chats[1].headers["authorization"] == f"Bearer {KEY}"
    usage = cli.ok("ai", "usage", "--json", env=env).json()
    assert [(u["model"], u["requests"]) for u in usage] == [("test-model", 2)]
    assert "test-model" in cli.ok("ai", "usage", env=env).stdout


def test_a_stream_cut_mid_answer_is_one_line_and_nothing_is_kept(cli, seeded, llm):
    llm.mode = "close"
    cut = cli("explain", SCAN_ID[:8], "sshd_disable_root_login", env=llm_env(llm))
    assert cut.returncode == 1 and cut.stdout and llm.answer.startswith(cut.stdout.rstrip("\n"))
    assert cut.stderr == ("error: the LLM server closed the connection before the answer was complete; "
                          "nothing was kept: try again\n")
    llm.mode = "ok"
    assert cli.ok("explain", SCAN_ID[:8], "sshd_disable_root_login", "--json", env=llm_env(llm)).json()["cached"] is False


@pytest.mark.parametrize("mode, env_changes, message", [
    ("401", {}, "error: the LLM server refused the API key (401 Unauthorized; the key comes from $OPENAI_API_KEY)"),
    ("ok", {"COMPLIANCE_TUI_LLM_MODEL": "nope"}, "error: model 'nope' not found at http://127.0.0.1:"),
    ("ok", {"COMPLIANCE_TUI_LLM_MODEL": ""}, "error: no LLM is configured: name a model in Settings"),
    ("ok", {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "error: cannot reach the LLM at http://127.0.0.1:9/v1: "),
])
def test_errors_on_stderr(cli, seeded, llm, mode, env_changes, message):
    llm.mode = mode
    done = cli("explain", SCAN_ID[:8], "sshd_disable_root_login", env=llm_env(llm, **env_changes))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1 and KEY not in done.stderr


def test_unknown_rule_or_scan(cli, seeded, llm):
    done = cli("explain", SCAN_ID[:8], "no_such_rule", env=llm_env(llm))
    assert done.returncode == 1 and "has no result for rule 'no_such_rule'" in done.stderr and not llm.chats


def test_the_models_text_never_drives_the_terminal(cli, seeded, llm):
    llm.answer = "## Hi\n\x1b]52;c;ZXZpbA==\x07\x1b[2J done\n"
    done = cli.ok("explain", SCAN_ID[:8], "sshd_disable_root_login", env=llm_env(llm))
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J done" in done.stdout
    raw = cli.ok("explain", SCAN_ID[:8], "sshd_disable_root_login", "--json", env=llm_env(llm))
    assert "\x1b" not in raw.stdout and raw.json()["text"] == llm.answer  # JSON: exact, escaped


def test_ai_test(cli, seeded, llm):
    done = cli.ok("ai", "test", env=llm_env(llm))
    lines = done.stdout.splitlines()
    assert lines[0] == f"endpoint    {llm.url}" and lines[1] == "model       test-model"
    assert lines[2] == f"API key     ••••{KEY[-4:]} (from OPENAI_API_KEY)" and KEY not in done.stdout
    assert lines[3] == "reply       OK" and lines[4].startswith("round trip  ")
    assert lines[5] == "models      other-model, test-model"
    report = cli.ok("ai", "test", "--json", env=llm_env(llm, OPENAI_API_KEY="")).json()
    assert report["key_source"] == "none" and report["models"] == ["other-model", "test-model"]
    write_config(config_path(), llm.url, timeout=1)  # the timeout comes from the config file
    llm.mode = "hang"
    slow = cli("ai", "test", env={"OPENAI_API_KEY": KEY})
    assert slow.returncode == 1
    assert slow.stderr == f"error: the LLM at {llm.url} did not answer within 1 s (the timeout in Settings); nothing was kept\n"


def test_set_key_reads_stdin_and_says_when_there_is_no_keyring(cli, seeded, llm, tmp_path):
    done = cli("ai", "set-key", input=KEY + "\n", env=llm_env(llm, OPENAI_API_KEY=""))
    assert done.returncode == 1 and "no OS keyring is usable here" in done.stderr and KEY not in done.stderr
    assert cli("ai", "delete-key").returncode == 1


def test_the_key_reaches_no_file(cli, seeded, llm, home):
    env = llm_env(llm)
    cli.ok("explain", SCAN_ID[:8], "sshd_disable_root_login", env=env)
    cli.ok("ai", "test", env=env)
    llm.mode = "401"
    cli("explain", SCAN_ID[:8], "sshd_disable_root_login", "--regenerate", env=env)
    assert files_containing(seeded, KEY) == [] and files_containing(home, KEY) == []


def test_a_rate_limit_is_waited_for_once(cli, seeded, llm):
    llm.mode, llm.retry_after = "429", "1"
    done = cli.ok("explain", SCAN_ID[:8], "sshd_disable_root_login", env=llm_env(llm))
    assert done.stdout == llm.answer and len(llm.chats) == 2
    assert done.stderr.startswith("(rate limited (429): asking again in 1 s, as the server asks)\n")
