"""SQL both store backends speak alike: the host columns, the scan read, the result orders."""

HOST_FIELDS = (
    "name", "address", "port", "username", "identity_file", "known_hosts",
    "sudo_password_env", "transport", "os_id", "os_version", "os_name", "os_family", "status",
    "tailoring_file", "tags", "zone",
)
SCAN_SELECT = (
    "SELECT s.*, h.name AS host_name, c.file_name AS content_file, c.version AS content_version, "
    "c.derived_from AS content_derived_from "
    "FROM scans s JOIN hosts h ON h.id = s.host_id LEFT JOIN contents c ON c.id = s.content_id"
)
RESULT_ORDER = {
    "rule": "r.rule_id",
    "severity": "CASE COALESCE(i.severity, r.severity) WHEN 'high' THEN 0 WHEN 'medium' THEN 1 "
    "WHEN 'low' THEN 2 ELSE 3 END, r.rule_id",
    "result": "CASE r.result WHEN 'fail' THEN 0 WHEN 'error' THEN 1 WHEN 'unknown' THEN 2 "
    "WHEN 'pass' THEN 3 ELSE 4 END, r.rule_id",
    "time": "r.seconds DESC NULLS LAST, r.rule_id",  # the slowest first
}
