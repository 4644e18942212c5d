from core.domain.models import MISMATCH_NOTICE, compute_score, notice_for


def test_score_counts_only_results_that_say_something():
    assert compute_score({"pass": 95, "fail": 68, "notapplicable": 24, "notchecked": 2}) == 58.3
    assert compute_score({"pass": 1, "fixed": 1, "fail": 1, "error": 1}) == 50.0
    assert compute_score({"pass": 2, "unknown": 1, "informational": 9, "notselected": 400}) == 66.7
    assert compute_score({"notapplicable": 10}) is None
    assert compute_score({}) is None


def test_all_notapplicable_is_flagged_as_content_mismatch():
    assert notice_for({"notapplicable": 189, "notselected": 400}) == MISMATCH_NOTICE
    assert notice_for({"notapplicable": 188, "pass": 1}) is None
    assert notice_for({}) is None
