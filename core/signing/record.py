"""A completed scan's signed record: what an auditor needs to trust, as one canonical text.

The record holds the host, profile, content digest, a sha256 over the sorted per-rule
results, the counts and score, the evidence's sha256, the times, who stored it and the key's
fingerprint. It is JSON with sorted keys and no whitespace, signed with Ed25519 and kept byte
for byte with the scan (scans.signed_record): verifying checks the signature over those bytes,
then rebuilds the record from the store and names every field that differs
(core/results/verification.py).

Host ids are not in it (an import signs before a new host has one, and `store migrate`
renumbers hosts): the name, unique in a store, is. A scan's evidence sha256 is of the ARF
oscap wrote; an import's of the file as it was imported.
"""

from __future__ import annotations

import asyncio
import base64
import getpass
import hashlib
import json
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from core.domain.errors import InvalidInput
from core.domain.models import RESULT_VALUES, RuleResult, Scan, Seal
from core.signing.keys import SigningKey, key_for_signing

if TYPE_CHECKING:
    from core.workspace import Workspace

RECORD_VERSION = 1


def results_digest(results: Iterable[tuple[str, str]]) -> str:
    """sha256 over "rule_id<TAB>result<LF>" of each stored result (notselected ones are not
    stored), sorted by rule id."""
    lines = sorted(f"{rule}\t{result}\n" for rule, result in results if result != "notselected")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def pairs(results: Iterable[RuleResult]) -> list[tuple[str, str]]:
    return [(r.rule_id, r.result) for r in results if r.result != "notselected"]


def who_stores() -> str:
    """user@host of this process: who ran (or imported) the scan being stored."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no $USER (a container)
        import os
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def record_of(scan: Scan, results: list[tuple[str, str]], evidence: str | None, by: str, key: str) -> dict[str, Any]:
    """The record of a completed scan as stored (scan: its stored fields; results: its
    stored (rule id, result) pairs)."""
    return {
        "v": RECORD_VERSION, "scan": scan.id, "host": scan.host_name, "origin": scan.origin,
        "profile": scan.profile, "profile_id": scan.profile_id, "content": scan.content_id,
        "tailoring": scan.tailoring_sha256, "source": scan.source_file, "result_key": scan.result_key,
        "rules": len([r for r in results if r[1] != "notselected"]), "results": results_digest(results),
        "counts": {r: scan.counts.get(r, 0) for r in RESULT_VALUES}, "score": scan.score,
        "evidence": evidence, "created": scan.created_at, "started": scan.started_at,
        "finished": scan.finished_at, "by": by, "key": key,
    }


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def parse_record(text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError:
        raise InvalidInput("the signed record is not JSON") from None
    if not isinstance(record, dict) or record.get("v") != RECORD_VERSION:
        raise InvalidInput(f"the signed record is not of version {RECORD_VERSION}")
    return record


def seal(key: SigningKey, record: dict[str, Any]) -> Seal:
    text = canonical(record)
    return Seal(text, base64.b64encode(key.sign(text.encode())).decode(), key.fingerprint)


@dataclass
class Sealer:
    """Signs completed scans as they are stored; without a usable key (why says so) they are
    stored unsigned: scanning never stops for want of a key."""

    key: SigningKey | None
    why: str | None
    by: str
    warned: bool = False

    @classmethod
    async def open(cls, workspace: Workspace) -> "Sealer":
        try:
            key = await asyncio.to_thread(key_for_signing, workspace.data_dir,
                                          workspace.settings.evidence.signing_key)
        except InvalidInput as exc:
            return cls(None, str(exc), who_stores())
        return cls(key, None, who_stores())

    def seal(self, scan: Scan, results: Iterable[RuleResult], evidence: str | None,
             warn: Callable[[str], None]) -> Seal | None:
        """The seal of scan (its fields as they will be stored), or None after warning why
        (once: an import of a year of scans warns once)."""
        if self.key is None:
            if not self.warned:
                warn(f"scans are stored unsigned: {self.why}")
                self.warned = True
            return None
        return seal(self.key, record_of(scan, pairs(results), evidence, self.by, self.key.fingerprint))
