"""How much the app reads from a target or a file: hostile input gets a clear error, not our memory.

Every figure is far above what real scans produce (an SSG CIS L2 ARF is ~20 MB for ~300 rules;
the largest SSG benchmark has ~2,500 rules) and small enough that a bomb cannot take the jump
host down. COMPLIANCE_TUI_LIMITS="name=value,..." overrides them (the tests prove each limit
with small ones; a fleet with unusual output can raise one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from core.domain.errors import InvalidInput

ENV_LIMITS = "COMPLIANCE_TUI_LIMITS"
KIB, MIB = 1 << 10, 1 << 20


@dataclass(frozen=True)
class Limits:
    stderr_tail: int = 64 * KIB  # stderr kept from a command: oscap's reason is at its end
    line_bytes: int = 8 * KIB  # a progress line is ~100 bytes; longer ones are dropped
    command_output: int = 64 * MIB  # stdout of a short command (probe, checks)
    arf_base: int = 64 * MIB  # an ARF may hold the datastream, this, and arf_per_rule per rule
    arf_per_rule: int = 1 * MIB  # OVAL system characteristics of a busy host run to MBs per rule
    xml_bytes: int = 1024 * MIB  # a results or content file, decompressed
    test_results: int = 100  # TestResults in one results file
    rule_results: int = 20_000  # rule results in one TestResult
    file_rule_results: int = 100_000  # rule results in one results file
    rules: int = 20_000  # rules described by one benchmark
    rule_text_bytes: int = 64 * MIB  # rule texts read from one file
    children: int = 10_000  # elements inside one element read whole (a rule-result, a Rule)
    element_bytes: int = 16 * MIB  # text inside one element read whole
    grace_min: int = 60  # seconds: the shortest dead man's switch (a test fleet on loopback lowers it)
    llm_answer_chars: int = 64 * KIB  # an explanation (kept, cached, shown); a real one is 2-8 KiB
    llm_answer_tokens: int = 4096  # max_tokens asked of the model
    llm_response_bytes: int = 16 * MIB  # bytes of one HTTP response from the LLM server, framing included
    inventory_hosts: int = 10_000  # hosts one inventory file may name (ranges counted before expanding)

    def arf_bytes(self, rule_count: int | None, datastream_bytes: int) -> int:
        """The largest ARF a scan of rule_count rules may bring back (unknown: the rule cap)."""
        rules = rule_count if rule_count else 2_500
        return datastream_bytes + self.arf_base + rules * self.arf_per_rule


def current() -> Limits:
    """The defaults with COMPLIANCE_TUI_LIMITS applied (read on each call: no import-time state)."""
    given = os.environ.get(ENV_LIMITS, "").strip()
    if not given:
        return Limits()
    known = {f.name for f in fields(Limits)}
    changes = {}
    for item in given.split(","):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in known:
            raise InvalidInput(f"{ENV_LIMITS}: unknown limit {name!r}; known: {', '.join(sorted(known))}")
        try:
            changes[name] = int(value)
        except ValueError:
            raise InvalidInput(f"{ENV_LIMITS}: {name} must be a whole number, not {value!r}") from None
        if changes[name] <= 0:
            raise InvalidInput(f"{ENV_LIMITS}: {name} must be above 0")
    return replace(Limits(), **changes)


def size(n: int) -> str:
    """Bytes for a message: '2.0 GiB', '512 KiB'."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", KIB)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} bytes"
