"""`audit verify`: walk the action log's chain from its first entry and say every place where
it is not what was appended: an edited entry (its hash no longer matches what it holds), a
deleted one (a gap in seq, or a prev_hash that is not the hash before it), a deleted tail (the
head the store recorded beside the chain is further on, or names another hash).

What it proves: the entries agree with each other and with the head. Someone who can write the
store and recomputes every hash after the one they changed, and the head, is not caught by
this alone: keep the head hash `audit verify` prints somewhere else (a ticket, an e-mail) and
compare it later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.domain.audit import GENESIS, hash_of
from core.store.base import AuditStore

PAGE = 5000  # entries read at a time: the log may hold millions


@dataclass
class Verdict:
    entries: int = 0  # entries read
    last_seq: int = 0
    last_hash: str = GENESIS
    head: tuple[int, str] | None = None  # what the store recorded as the chain's end
    problems: list[str] = field(default_factory=list)  # one line each

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {"intact": self.intact, "entries": self.entries, "last_seq": self.last_seq,
                "last_hash": self.last_hash, "problems": list(self.problems)}


async def verify(store: AuditStore) -> Verdict:
    verdict = Verdict(head=await store.audit_head())
    expected_seq, prev = 1, GENESIS
    while True:
        page = await store.audit_chain(verdict.last_seq, PAGE)
        for entry in page:
            if entry.seq != expected_seq:
                gap = (f"entry {expected_seq} is missing" if entry.seq == expected_seq + 1
                       else f"entries {expected_seq} to {entry.seq - 1} are missing")
                verdict.problems.append(f"seq {entry.seq}: {gap} (deleted: the chain has a gap before it)")
            elif entry.prev_hash != prev:
                verdict.problems.append(f"seq {entry.seq}: its prev_hash is not the hash of entry {entry.seq - 1} "
                                        "(an entry before it was replaced or deleted)")
            if hash_of(entry) != entry.hash:
                verdict.problems.append(f"seq {entry.seq}: its hash does not match what it holds (edited)")
            verdict.entries += 1
            verdict.last_seq, verdict.last_hash = entry.seq, entry.hash
            expected_seq, prev = entry.seq + 1, entry.hash
        if len(page) < PAGE:
            break
    _check_head(verdict)
    return verdict


def _check_head(verdict: Verdict) -> None:
    head = verdict.head
    if head is None:
        verdict.problems.append("head: the chain's recorded head (meta audit_head) is missing or unreadable")
        return
    seq, hash_ = head
    if seq > verdict.last_seq:
        verdict.problems.append(f"head: the store recorded {seq} entries but the chain ends at seq {verdict.last_seq} "
                                f"(entries {verdict.last_seq + 1} to {seq} were deleted)")
    elif seq < verdict.last_seq:
        verdict.problems.append(f"head: the chain goes on to seq {verdict.last_seq} past the recorded head {seq} "
                                "(entries were added outside compliance-tui)")
    elif hash_ != verdict.last_hash:
        verdict.problems.append(f"head: seq {seq} has another hash than the recorded head (the last entry was "
                                "replaced)")
