"""A hostile (or just quick) oscap for played hosts: what it prints and writes comes from a JSON
file the test writes, so one played host can be any misbehaving target.

    fake_oscap.py BEHAVIOUR.json [oscap arguments...]

Run by the played host's /usr/bin/oscap wrapper (through sudo for `xccdf eval`, as the scanning
user for `--version`). It uses only the standard library: it runs with the machine's python3.
Behaviour keys (all optional): version, stderr, stderr_bytes, progress (lines), progress_count,
long_line_bytes, sleep, crash (a signal name), once (a marker file: sleep and crash once), exit, arf (a kind, see write_arf), rules,
rule_payload, target, padding_bytes, pid_file, started_file and stall (arf "fifo_stall").
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

XCCDF = "http://checklists.nist.gov/xccdf/1.2"
RULE = "xccdf_org.ssgproject.content_rule_"


def main() -> int:
    behaviour = json.load(open(sys.argv[1]))
    args = sys.argv[2:]
    if args[:1] == ["--version"]:
        print(behaviour.get("version", "OpenSCAP command line tool (oscap) 1.3.7"))
        print("Copyright 2009--2021 Red Hat Inc., Durham, North Carolina.")
        return 0
    if args[:2] != ["xccdf", "eval"]:
        print(f"fake oscap: unsupported {args[:2]}", file=sys.stderr)
        return 1
    arf = args[args.index("--results-arf") + 1]
    profile = args[args.index("--profile") + 1]
    if behaviour.get("pid_file"):
        with open(behaviour["pid_file"], "w") as out:
            out.write(str(os.getpid()))
    rules = [f"{RULE}fake_{i}{behaviour.get('rule_payload', '')}" for i in range(behaviour.get("rules", 20))]
    out = sys.stdout.buffer
    for line in behaviour.get("progress", []):
        out.write(line.encode() + b"\n")
    for i in range(behaviour.get("progress_count", len(rules) if "progress" not in behaviour else 0)):
        out.write(f"{RULE}fake_{i % max(len(rules), 1)}:pass\n".encode())
    if behaviour.get("long_line_bytes"):
        block = b"x" * (1 << 20)
        for _ in range(behaviour["long_line_bytes"] >> 20):
            out.write(block)
    out.flush()
    if behaviour.get("stderr"):
        sys.stderr.write(behaviour["stderr"] + "\n")
    if behaviour.get("stderr_bytes"):
        block = b"W: noise from a hostile target\n" * 32768  # 1 MiB
        for _ in range(behaviour["stderr_bytes"] >> 20):
            sys.stderr.buffer.write(block)
        sys.stderr.buffer.write(b"OpenSCAP Error: the last line is the reason\n")
    sys.stderr.flush()
    once = behaviour.get("once")  # a marker file: the sleep and the crash happen on the first run only
    first = not (once and os.path.exists(once))
    if once and first:
        open(once, "w").close()
    if first and behaviour.get("sleep"):
        time.sleep(behaviour["sleep"])
    if first and behaviour.get("crash"):
        os.kill(os.getpid(), getattr(signal, behaviour["crash"]))
    exit_code = behaviour.get("exit", 2)
    if exit_code in (0, 2):
        write_arf(arf, behaviour, profile, rules)
    return exit_code


def write_arf(path: str, behaviour: dict, profile: str, rules: list[str]) -> None:
    kind = behaviour.get("arf", "normal")
    if kind.startswith("fifo"):
        os.mkfifo(path)
        if os.fork() == 0:  # a writer that outlives oscap, as a hostile host could arrange
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # let the session end: the writer keeps only the pipe
                os.dup2(devnull, fd)
            with open(path, "wb") as out:
                try:
                    if kind == "fifo_stall":  # the transfer begins, then nothing more comes
                        with open(behaviour["started_file"], "w") as started:
                            started.write(repr(time.time()))
                        out.write(b'<?xml version="1.0"?><Benchmark xmlns="%s"><!-- ' % XCCDF.encode())
                        out.write(os.urandom(256 << 10))
                        out.flush()
                        time.sleep(behaviour.get("stall", 300))
                    elif kind == "fifo_random":
                        for _ in range(behaviour.get("fifo_mb", 200)):
                            out.write(os.urandom(1 << 20))
                    else:  # plain XML that compresses a thousandfold
                        out.write(b'<?xml version="1.0"?><Benchmark xmlns="%s"><!-- ' % XCCDF.encode())
                        for _ in range(behaviour.get("fifo_mb", 200)):
                            out.write(b" " * (1 << 20))
                        out.write(b"--></Benchmark>")
                except BrokenPipeError:
                    pass
            os._exit(0)
        return
    with open(path, "w", encoding="utf-8") as out:
        out.write(document(kind, behaviour, profile, rules))
        if behaviour.get("padding_bytes"):
            out.write("<!--" + " " * behaviour["padding_bytes"] + "-->\n")


def document(kind: str, behaviour: dict, profile: str, rules: list[str]) -> str:
    target = escape(behaviour.get("target", "quick"))
    doctype, result_text, extra = "", "pass", ""
    if kind == "billion_laughs":
        entities = ['<!ENTITY lol0 "lol">'] + [
            f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
        doctype, result_text = f"<!DOCTYPE Benchmark [{''.join(entities)}]>", "&lol9;"
    elif kind == "xxe":
        doctype = f'<!DOCTYPE Benchmark [<!ENTITY xxe SYSTEM "file://{behaviour["canary"]}">]>'
        target = "&xxe;"
    elif kind == "external_dtd":
        doctype = f'<!DOCTYPE Benchmark SYSTEM "{behaviour["dtd_url"]}">'
    elif kind == "xinclude":
        extra = (f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{behaviour["canary"]}" '
                 'parse="text"/>')
    results = "".join(
        f'<rule-result idref="{escape(rule)}" severity="medium"><result>{result_text}</result>'
        + ("<check-content>" + "<x/>" * behaviour.get("children", 0) + "</check-content>" if i == 0 else "")
        + "</rule-result>"
        for i, rule in enumerate(rules))
    namespace = "urn:not-xccdf" if kind == "wrong_ns" else XCCDF
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
        f'<Benchmark xmlns="{namespace}" id="xccdf_org.ssgproject.content_benchmark_FAKE">'
        f'<version>0.1.65</version>'
        f'<TestResult id="xccdf_org.open-scap_testresult_{escape(profile)}" '
        f'start-time="2025-03-01T10:00:00+00:00" end-time="2025-03-01T10:00:05+00:00">'
        f'<benchmark id="xccdf_org.ssgproject.content_benchmark_FAKE"/>'
        f'<target>{target}</target><target-address>127.0.0.1</target-address>{extra}'
        f'<profile idref="{escape(profile)}"/>{results}</TestResult></Benchmark>\n'
    )
    return text[: len(text) // 2] if kind == "truncated" else text


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


if __name__ == "__main__":
    sys.exit(main())
