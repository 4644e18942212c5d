"""The local transport runs real shell commands; every remote argument is quoted."""

from __future__ import annotations

import shlex

import pytest

from core.domain.errors import CommandTimeout, SudoNeedsPassword
from core.targets.remote import PROGRESS_LINE, eval_command
from core.targets.transport import LocalTransport, Sudo, shell_join, sudo_error

HOSTILE = ["a b", "$(touch /tmp/pwned)", "`id`", "x;rm -rf /", "it's", "\"q\"", "-n", "\n", "*"]


async def test_hostile_arguments_arrive_verbatim():
    async with LocalTransport("local") as transport:
        result = await transport.run("printf '%s\\0' " + shell_join(*HOSTILE))
    assert result.exit_status == 0
    assert result.stdout.decode().split("\0")[:-1] == HOSTILE


async def test_stdin_streaming_lines_and_stderr():
    seen = []
    async with LocalTransport("local") as transport:
        result = await transport.stream("cat; echo oops >&2; exit 3", seen.append, input=b"one\ntwo\n")
    assert seen == ["one", "two"] and result.exit_status == 3 and result.stderr == "oops\n"


async def test_a_command_past_its_timeout_is_killed():
    async with LocalTransport("local") as transport:
        with pytest.raises(CommandTimeout, match="within 1 s"):
            await transport.run("sleep 30", timeout=1)


def test_sudo_modes_keep_the_password_off_the_command_line():
    assert Sudo(needed=False).wrap("oscap --version") == ("oscap --version", None)
    assert Sudo().wrap("oscap --version") == ("sudo -n oscap --version", None)
    command, stdin = Sudo(password="s3cret").wrap("oscap --version")
    assert "s3cret" not in command and stdin == b"s3cret\n"
    assert command.startswith("sudo -S")


def test_sudo_refusals_become_one_line_errors():
    error = sudo_error("web1", "sudo: a password is required\n")
    assert isinstance(error, SudoNeedsPassword) and "\n" not in str(error)
    assert sudo_error("web1", "E: oscap: probe failed") is None


def test_eval_command_quotes_profile_and_paths():
    command, _ = eval_command(Sudo(), "xccdf_p;reboot", "/c/ds b.xml.bz2", "/t/arf.xml", 60)
    words = shlex.split(command.split("; ", 1)[1])
    assert words[:5] == ["exec", "timeout", "-k", "10", "60"]
    assert "xccdf_p;reboot" in words and "/c/ds b.xml.bz2" in words


def test_progress_lines():
    assert PROGRESS_LINE.match("xccdf_org.ssgproject.content_rule_a:pass").groups() == (
        "xccdf_org.ssgproject.content_rule_a", "pass")
    assert PROGRESS_LINE.match("W: oscap: something") is None
