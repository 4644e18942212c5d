"""The store's schema: one numbered list of steps for both backends; a store records how many
have run (SQLite: PRAGMA user_version; PostgreSQL: the table schema_migrations). Append new
steps; never edit one that has shipped.

A new step is written once, with the dialect's words for column types (both(): {text},
{key}, {double}, {boolean}, {without_rowid}; braces of the SQL itself doubled). The steps
that shipped before the two histories became one carry each backend's own SQL: step k is
SQLite's old migration k, and PostgreSQL's old migrations 1 and 2 are steps 1 and 2 (its 1 made
what SQLite's 1 to 9 make, its 2 the zone and change notices of SQLite's 11 and 12), so every
existing store of either kind is at the right number already. PostgreSQL keeps rule results
as a plain table (SQLite's step 10 compacts them) and needs nothing in steps 3 to 12.

PostgreSQL's times stay the domain's ISO-8601 text (core/domain/timeutil.py) and its ids text,
both with the "C" collation: they then sort and compare byte by byte whatever the server's
locale is, exactly as on SQLite, and a store copied from SQLite (`store migrate`) keeps every
value as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.audit import GENESIS, HEAD_KEY
from core.store.db import POSTGRES, SQLITE, Dialect


@dataclass(frozen=True)
class Step:
    sqlite: list[str] | tuple[str, ...] = ()
    postgres: list[str] | tuple[str, ...] = ()


def both(*statements: str) -> Step:
    """A step written once: each statement with its dialect's words filled in."""
    return Step([s.format(**SQLITE.words()) for s in statements], [s.format(**POSTGRES.words()) for s in statements])


def scripts(dialect: Dialect) -> list[list[str]]:
    """Each step's statements for this backend, step 1 first (empty where it needs none)."""
    return [list(getattr(step, dialect.name)) for step in STEPS]


_COUNTS = ", ".join(
    f"n_{r} INTEGER" for r in (
        "pass", "fail", "error", "unknown", "notapplicable",
        "notchecked", "notselected", "informational", "fixed",
    )
)
T = POSTGRES.text  # PostgreSQL's ids, names and times: byte order, as SQLite compares them
_RESULTS = ("'pass', 'fail', 'error', 'unknown', 'notapplicable', 'notchecked', 'notselected', "
            "'informational', 'fixed'")
CHANNEL = "compliance_tui_jobs"  # LISTEN/NOTIFY: a job was created, changed state or went away
JOBS_CHANGED = "jobs_changed"  # the meta key of SQLite's count of job changes (step 12)

# Result and severity codes of SQLite's compact rule results (step 10); never renumber them.
RESULT_CODES = ("pass", "fail", "error", "unknown", "notapplicable", "notchecked", "notselected",
                "informational", "fixed")
SEVERITY_CODES = ("high", "medium", "low", "info", "unknown")


def _encode(names: tuple[str, ...]) -> str:
    return "CASE {} " + " ".join(f"WHEN '{n}' THEN {i}" for i, n in enumerate(names)) + " END"


def _decode(names: tuple[str, ...]) -> str:
    return "CASE {} " + " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(names)) + " END"


RESULT_CODE, RESULT_NAME = _encode(RESULT_CODES), _decode(RESULT_CODES)
SEVERITY_CODE, SEVERITY_NAME = _encode(SEVERITY_CODES), _decode(SEVERITY_CODES)

AUDIT_REFUSAL = "the audit log is append-only"


def _audit_table(dialect: Dialect) -> list[str]:
    """The action log's table, its indexes and the head of its chain, written once."""
    return [s.format(**dialect.words()) for s in (
        """CREATE TABLE audit_log (
            seq BIGINT NOT NULL PRIMARY KEY,  -- 1, 2, 3, ...: a gap is a deleted entry
            at {text} NOT NULL,
            actor TEXT NOT NULL,            -- OS user@hostname of the process that did it
            action {text} NOT NULL,         -- dotted: host.added, exception.added, ...
            subject {text} NOT NULL,        -- what it was done to: a host name, a job or schedule id
            details TEXT NOT NULL,          -- canonical JSON, small, never a secret
            prev_hash TEXT NOT NULL,        -- the hash of the entry before (0 x 64 for the first)
            hash TEXT NOT NULL              -- sha256(prev_hash + canonical JSON of the rest)
        )""",
        "CREATE INDEX audit_log_at ON audit_log (at)",
        "CREATE INDEX audit_log_subject ON audit_log (subject, seq)",
        f"INSERT INTO meta (key, value) VALUES ('{HEAD_KEY}', '0 {GENESIS}') ON CONFLICT (key) DO NOTHING",
    )]


STEPS: list[Step] = [
    # 1. SQLite: hosts, content versions with their rule texts, scans and rule results.
    # PostgreSQL: everything SQLite's 1 to 9 make: hosts with tags, content and rule texts,
    # scans and results, the job queue, AI explanations and usage, schedules, exceptions.
    Step(sqlite=[
        """CREATE TABLE hosts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            address TEXT NOT NULL,
            port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
            username TEXT,
            identity_file TEXT,
            known_hosts TEXT,
            sudo_password_env TEXT,
            transport TEXT NOT NULL DEFAULT 'ssh' CHECK (transport IN ('ssh', 'local')),
            os_id TEXT, os_version TEXT, os_name TEXT, os_family TEXT,
            status TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('online', 'offline', 'unknown')),
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE contents (
            id TEXT PRIMARY KEY,            -- sha256 of the datastream
            file_name TEXT NOT NULL,
            benchmark_id TEXT,
            version TEXT,
            added_at TEXT NOT NULL
        )""",
        """CREATE TABLE rules (
            content_id TEXT NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
            rule_id TEXT NOT NULL,
            title TEXT, severity TEXT, description TEXT, rationale TEXT,
            fixtext TEXT, fix_script TEXT,
            PRIMARY KEY (content_id, rule_id)
        ) WITHOUT ROWID""",
        f"""CREATE TABLE scans (
            id TEXT PRIMARY KEY,            -- UUID
            host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
            profile TEXT NOT NULL,          -- as asked: short name or xccdf id
            profile_id TEXT,                -- xccdf profile id, once resolved
            content_id TEXT REFERENCES contents(id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
            progress_done INTEGER NOT NULL DEFAULT 0,
            progress_total INTEGER,
            {_COUNTS},
            score REAL,
            error_message TEXT,
            notice TEXT,
            arf_path TEXT,
            runner TEXT,                    -- hostname:pid of the process running it
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            updated_at TEXT
        )""",
        "CREATE INDEX scans_host_created ON scans (host_id, created_at)",
        "CREATE INDEX scans_created ON scans (created_at)",
        "CREATE INDEX scans_unfinished ON scans (status) WHERE status IN ('pending', 'running')",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
        """CREATE TABLE rule_results (
            scan_id TEXT NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            rule_id TEXT NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'error', 'unknown',
                'notapplicable', 'notchecked', 'notselected', 'informational', 'fixed')),
            severity TEXT,
            PRIMARY KEY (scan_id, rule_id)
        ) WITHOUT ROWID""",
    ], postgres=[
        f"""CREATE TABLE meta (key {T} PRIMARY KEY, value TEXT)""",
        f"""CREATE TABLE hosts (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name {T} NOT NULL UNIQUE,
            address TEXT NOT NULL,
            port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
            username TEXT, identity_file TEXT, known_hosts TEXT, sudo_password_env TEXT,
            transport TEXT NOT NULL DEFAULT 'ssh' CHECK (transport IN ('ssh', 'local')),
            os_id TEXT, os_version TEXT, os_name TEXT, os_family TEXT,
            status TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('online', 'offline', 'unknown')),
            created_at {T} NOT NULL,
            tailoring_file TEXT,
            tags TEXT NOT NULL DEFAULT '[]'
        )""",
        f"""CREATE TABLE contents (
            id {T} PRIMARY KEY, file_name TEXT NOT NULL, benchmark_id TEXT, version TEXT,
            added_at {T} NOT NULL, derived_from TEXT
        )""",
        f"""CREATE TABLE rules (
            content_id {T} NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
            rule_id {T} NOT NULL,
            title TEXT, severity TEXT, description TEXT, rationale TEXT, fixtext TEXT, fix_script TEXT,
            PRIMARY KEY (content_id, rule_id)
        )""",
        "CREATE INDEX rules_rule ON rules (rule_id)",
        f"""CREATE TABLE scans (
            id {T} PRIMARY KEY,
            host_id BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
            profile TEXT NOT NULL, profile_id TEXT,
            content_id {T} REFERENCES contents(id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
            progress_done INTEGER NOT NULL DEFAULT 0, progress_total INTEGER,
            {_COUNTS},
            score DOUBLE PRECISION, error_message TEXT, notice TEXT, arf_path TEXT, runner TEXT,
            created_at {T} NOT NULL, started_at {T}, finished_at {T}, updated_at {T},
            origin TEXT NOT NULL DEFAULT 'scan' CHECK (origin IN ('scan', 'import')),
            source_file TEXT, source_sha256 TEXT, result_key TEXT, target TEXT,
            tailoring_file TEXT, tailoring_sha256 TEXT, base_profile_id TEXT
        )""",
        "CREATE INDEX scans_host_created ON scans (host_id, created_at)",
        "CREATE INDEX scans_created ON scans (created_at)",
        "CREATE INDEX scans_unfinished ON scans (status) WHERE status IN ('pending', 'running')",
        "CREATE UNIQUE INDEX scans_imported_once ON scans (host_id, result_key) WHERE result_key IS NOT NULL",
        "CREATE INDEX scans_host_completed ON scans (host_id, created_at) WHERE status = 'completed'",
        "CREATE INDEX scans_trend ON scans (created_at) INCLUDE (host_id, score, n_pass, n_fixed, n_fail, "
        "n_error, n_unknown, id) WHERE status = 'completed'",
        "CREATE INDEX scans_arf ON scans (arf_path) WHERE arf_path IS NOT NULL",
        f"""CREATE TABLE rule_results (
            scan_id {T} NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
            rule_id {T} NOT NULL,
            result TEXT NOT NULL CHECK (result IN ({_RESULTS})),
            severity TEXT,
            seconds DOUBLE PRECISION,
            PRIMARY KEY (scan_id, rule_id)
        )""",
        f"""CREATE TABLE jobs (
            id {T} PRIMARY KEY,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,  -- creation order among equal times (SQLite's rowid)
            kind TEXT NOT NULL CHECK (kind IN ('scan', 'harden')),
            host_id BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
            params TEXT NOT NULL DEFAULT '{{}}',
            priority INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
            status TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'completed',
                'failed', 'cancelled')),
            created_at {T} NOT NULL, started_at {T}, finished_at {T},
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            output TEXT NOT NULL DEFAULT '',
            scan_id {T} REFERENCES scans(id) ON DELETE SET NULL,
            lease_owner TEXT, lease_until {T},
            cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
            progress_done INTEGER NOT NULL DEFAULT 0, progress_total INTEGER,
            current TEXT, current_since {T}, updated_at {T},
            result TEXT
        )""",
        "CREATE INDEX jobs_waiting ON jobs (priority DESC, created_at, seq) WHERE status IN ('pending', 'queued')",
        "CREATE INDEX jobs_running ON jobs (host_id, kind) WHERE status = 'running'",
        "CREATE INDEX jobs_leased ON jobs (lease_owner) WHERE status IN ('queued', 'running')",
        "CREATE INDEX jobs_lease_ends ON jobs (lease_until) WHERE status IN ('queued', 'running')",
        "CREATE INDEX jobs_created ON jobs (created_at, seq)",
        "CREATE INDEX jobs_scan ON jobs (scan_id)",
        "CREATE INDEX jobs_host ON jobs (host_id)",
        f"""CREATE TABLE ai_explanations (
            content_id {T} NOT NULL, rule_id {T} NOT NULL, result {T} NOT NULL, model {T} NOT NULL,
            text TEXT NOT NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
            created_at {T} NOT NULL,
            PRIMARY KEY (content_id, rule_id, result, model)
        )""",
        f"""CREATE TABLE ai_usage (
            day {T} NOT NULL, model {T} NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            input_tokens BIGINT NOT NULL DEFAULT 0, output_tokens BIGINT NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, model)
        )""",
        f"""CREATE TABLE schedules (
            id {T} PRIMARY KEY,
            target_kind TEXT NOT NULL CHECK (target_kind IN ('hosts', 'all', 'tag')),
            targets TEXT NOT NULL DEFAULT '[]',
            profile TEXT NOT NULL, tailoring TEXT, cadence TEXT NOT NULL, tz TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
            paused BOOLEAN NOT NULL DEFAULT FALSE,
            created_at {T} NOT NULL, updated_at {T} NOT NULL, not_before {T} NOT NULL,
            last_slot {T}, last_run_at {T},
            last_jobs INTEGER NOT NULL DEFAULT 0
        )""",
        f"""CREATE TABLE schedule_runs (
            schedule_id {T} NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
            slot {T} NOT NULL, enqueued_at {T} NOT NULL, enqueued_by TEXT NOT NULL, jobs INTEGER NOT NULL,
            PRIMARY KEY (schedule_id, slot)
        )""",
        f"""CREATE TABLE rule_exceptions (
            id {T} PRIMARY KEY,
            scope TEXT NOT NULL CHECK (scope IN ('host', 'tag', 'all')),
            host_id BIGINT REFERENCES hosts(id) ON DELETE CASCADE,
            tag TEXT, rule_id {T} NOT NULL, reason TEXT NOT NULL, accepted_by TEXT NOT NULL,
            expires {T} NOT NULL, created_at {T} NOT NULL,
            CHECK ((scope = 'host') = (host_id IS NOT NULL) AND (scope = 'tag') = (tag IS NOT NULL))
        )""",
    ]),
    # 2. SQLite: scans imported from results files produced elsewhere.
    # PostgreSQL (issue 17): what SQLite's 11 and 12 are for: a host's network zone (workers of
    # that zone run its jobs), and a NOTIFY on the jobs channel whenever a job is created,
    # removed or changes state, for listeners to wake early (progress and lease renewals do
    # not name these columns: no notification).
    Step(sqlite=[
        "ALTER TABLE scans ADD COLUMN origin TEXT NOT NULL DEFAULT 'scan' CHECK (origin IN ('scan', 'import'))",
        "ALTER TABLE scans ADD COLUMN source_file TEXT",  # the imported file's name
        "ALTER TABLE scans ADD COLUMN source_sha256 TEXT",
        "ALTER TABLE scans ADD COLUMN result_key TEXT",  # one TestResult: id, start and end
        "ALTER TABLE scans ADD COLUMN target TEXT",  # the target name the results record
        "CREATE UNIQUE INDEX scans_imported_once ON scans (host_id, result_key) WHERE result_key IS NOT NULL",
    ], postgres=[
        f"ALTER TABLE hosts ADD COLUMN zone {T}",
        "CREATE INDEX hosts_zone ON hosts (zone)",
        f"""CREATE FUNCTION compliance_tui_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{CHANNEL}', TG_OP); RETURN NULL; END $$""",
        """CREATE TRIGGER jobs_changed AFTER INSERT OR DELETE OR UPDATE OF status, priority, cancel_requested
            ON jobs FOR EACH STATEMENT EXECUTE FUNCTION compliance_tui_notify_jobs()""",
    ]),
    # 3. XCCDF tailoring per host, and what each scan ran with
    Step(sqlite=[
        "ALTER TABLE hosts ADD COLUMN tailoring_file TEXT",  # our copy under the data dir
        "ALTER TABLE scans ADD COLUMN tailoring_file TEXT",  # the tailoring's original file name
        "ALTER TABLE scans ADD COLUMN tailoring_sha256 TEXT",
        "ALTER TABLE scans ADD COLUMN base_profile_id TEXT",  # the profile the tailoring extends
    ]),
    # 4. content derived for a RHEL rebuild says so
    Step(sqlite=[
        "ALTER TABLE contents ADD COLUMN derived_from TEXT",  # e.g. "RHEL 9"
    ]),
    # 5. the job queue; every scan is the result of a scan job
    Step(sqlite=[
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,            -- UUID
            kind TEXT NOT NULL CHECK (kind IN ('scan', 'harden')),
            host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
            params TEXT NOT NULL DEFAULT '{}',  -- JSON: profile, tailoring, timeout, ...
            priority INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
            status TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'completed',
                'failed', 'cancelled')),
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            output TEXT NOT NULL DEFAULT '',
            scan_id TEXT REFERENCES scans(id) ON DELETE SET NULL,
            lease_owner TEXT,               -- the claiming process: host:pid:random
            lease_until TEXT,               -- it renews this while it works
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            progress_done INTEGER NOT NULL DEFAULT 0,
            progress_total INTEGER,
            current TEXT,                   -- the rule being evaluated now
            current_since TEXT,
            updated_at TEXT
        )""",
        "CREATE INDEX jobs_waiting ON jobs (priority DESC, created_at) WHERE status IN ('pending', 'queued')",
        "CREATE INDEX jobs_running ON jobs (host_id, kind) WHERE status = 'running'",
        "CREATE INDEX jobs_leased ON jobs (lease_owner) WHERE status IN ('queued', 'running')",
        "CREATE INDEX jobs_lease_ends ON jobs (lease_until) WHERE status IN ('queued', 'running')",
        "CREATE INDEX jobs_created ON jobs (created_at)",
        "CREATE INDEX jobs_scan ON jobs (scan_id)",
        # Scans made before the queue existed get the job they would have had (same id).
        "UPDATE scans SET status = 'failed', error_message = 'interrupted: compliance-tui was upgraded "
        "while this scan ran; scan again', finished_at = COALESCE(finished_at, updated_at, created_at) "
        "WHERE status IN ('pending', 'running')",
        """INSERT INTO jobs (id, kind, host_id, params, status, created_at, started_at, finished_at,
               attempts, error, scan_id, progress_done, progress_total, updated_at)
           SELECT id, 'scan', host_id, json_object('profile', profile), status, created_at, started_at,
               finished_at, 1, error_message, id, progress_done, progress_total, updated_at
           FROM scans WHERE origin = 'scan'""",
    ]),
    # 6. what a job found (a hardening job: each rule before and after, fixed / still failing)
    Step(sqlite=[
        "ALTER TABLE jobs ADD COLUMN result TEXT",  # JSON
    ]),
    # 7. AI explanations, cached per rule, content version, result and model; token usage per day
    Step(sqlite=[
        """CREATE TABLE ai_explanations (
            content_id TEXT NOT NULL,       -- sha256 of the datastream the rule texts came from
            rule_id TEXT NOT NULL,
            result TEXT NOT NULL,
            model TEXT NOT NULL,
            text TEXT NOT NULL,             -- Markdown as the model wrote it; never a key or a host
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            PRIMARY KEY (content_id, rule_id, result, model)
        ) WITHOUT ROWID""",
        """CREATE TABLE ai_usage (
            day TEXT NOT NULL,              -- UTC YYYY-MM-DD
            model TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,  -- requests counted from the stream (no usage sent)
            PRIMARY KEY (day, model)
        ) WITHOUT ROWID""",
    ]),
    # 8. how long each rule took to evaluate (from oscap's progress lines)
    Step(sqlite=[
        "ALTER TABLE rule_results ADD COLUMN seconds REAL",
    ]),
    # 9 (issue 14). host tags, schedules, documented exceptions; the dashboard's latest scans
    Step(sqlite=[
        "ALTER TABLE hosts ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",  # JSON list of tags
        """CREATE TABLE schedules (
            id TEXT PRIMARY KEY,            -- UUID
            target_kind TEXT NOT NULL CHECK (target_kind IN ('hosts', 'all', 'tag')),
            targets TEXT NOT NULL DEFAULT '[]',  -- JSON: host names, or the one tag
            profile TEXT NOT NULL,
            tailoring TEXT,                 -- our copy of the tailoring file
            cadence TEXT NOT NULL,          -- daily HH:MM, weekly DAY@HH:MM or cron EXPR
            tz TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
            paused INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            not_before TEXT NOT NULL,       -- slots up to here never run (creation, resume)
            last_slot TEXT,                 -- the last slot enqueued
            last_run_at TEXT,
            last_jobs INTEGER NOT NULL DEFAULT 0
        )""",
        # one row per slot that ran: the key that keeps two processes from enqueueing it twice
        """CREATE TABLE schedule_runs (
            schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
            slot TEXT NOT NULL,
            enqueued_at TEXT NOT NULL,
            enqueued_by TEXT NOT NULL,
            jobs INTEGER NOT NULL,
            PRIMARY KEY (schedule_id, slot)
        ) WITHOUT ROWID""",
        """CREATE TABLE rule_exceptions (
            id TEXT PRIMARY KEY,            -- UUID
            scope TEXT NOT NULL CHECK (scope IN ('host', 'tag', 'all')),
            host_id INTEGER REFERENCES hosts(id) ON DELETE CASCADE,
            tag TEXT,
            rule_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            accepted_by TEXT NOT NULL,
            expires TEXT NOT NULL,          -- YYYY-MM-DD, holds through that day
            created_at TEXT NOT NULL,
            CHECK ((scope = 'host') = (host_id IS NOT NULL) AND (scope = 'tag') = (tag IS NOT NULL))
        )""",
        # the latest completed scan of each host in one index seek per host
        "CREATE INDEX scans_host_completed ON scans (host_id, created_at) WHERE status = 'completed'",
        # the trend's points straight from the index (covering), in time order
        "CREATE INDEX scans_trend ON scans (created_at, host_id, score, n_pass, n_fixed, n_fail, n_error, "
        "n_unknown, id, status) WHERE status = 'completed'",
    ]),
    # 10 (issue 15). compact rule results, a few bytes each instead of 126: an integer scan key
    # (scans.seq, never reused), rule ids interned once, result and severity as small codes,
    # seconds as milliseconds. The view `rule_results` keeps the old shape for every reader; its
    # INSTEAD OF trigger interns and encodes what is inserted through it.
    Step(sqlite=[
        "ALTER TABLE scans ADD COLUMN seq INTEGER",
        "UPDATE scans SET seq = rowid",
        "CREATE UNIQUE INDEX scans_seq ON scans (seq)",
        """CREATE TRIGGER scans_seq AFTER INSERT ON scans WHEN NEW.seq IS NULL BEGIN
            UPDATE scans SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM scans) WHERE id = NEW.id;
        END""",
        "CREATE TABLE rule_names (id INTEGER PRIMARY KEY, rule_id TEXT NOT NULL UNIQUE)",
        """CREATE TABLE results (
            scan_seq INTEGER NOT NULL REFERENCES scans(seq) ON DELETE CASCADE,
            rule INTEGER NOT NULL REFERENCES rule_names(id),
            result INTEGER NOT NULL,        -- the index of the value in RESULT_CODES below
            severity INTEGER,               -- high 0, medium 1, low 2, info 3, unknown 4
            ms INTEGER,                     -- milliseconds oscap spent on the rule
            PRIMARY KEY (scan_seq, rule)
        ) WITHOUT ROWID""",
        "INSERT INTO rule_names (rule_id) SELECT DISTINCT rule_id FROM rule_results ORDER BY rule_id",
        f"""INSERT INTO results SELECT s.seq, n.id, {RESULT_CODE.format("r.result")},
            {SEVERITY_CODE.format("r.severity")}, CAST(ROUND(r.seconds * 1000) AS INTEGER)
            FROM rule_results r JOIN scans s ON s.id = r.scan_id JOIN rule_names n ON n.rule_id = r.rule_id""",
        "DROP TABLE rule_results",
        f"""CREATE VIEW rule_results (scan_id, rule_id, result, severity, seconds) AS
            SELECT s.id, n.rule_id, {RESULT_NAME.format("x.result")}, {SEVERITY_NAME.format("x.severity")},
                   x.ms / 1000.0
            FROM results x JOIN scans s ON s.seq = x.scan_seq JOIN rule_names n ON n.id = x.rule""",
        f"""CREATE TRIGGER rule_results_insert INSTEAD OF INSERT ON rule_results BEGIN
            INSERT OR IGNORE INTO rule_names (rule_id) VALUES (NEW.rule_id);
            INSERT INTO results VALUES (
                (SELECT seq FROM scans WHERE id = NEW.scan_id),
                (SELECT id FROM rule_names WHERE rule_id = NEW.rule_id),
                {RESULT_CODE.format("NEW.result")}, {SEVERITY_CODE.format("NEW.severity")},
                CAST(ROUND(NEW.seconds * 1000) AS INTEGER));
        END""",
    ]),
    # 11 (issue 17). a host's network zone; a worker started with --zone runs only its zone's jobs
    Step(sqlite=[
        "ALTER TABLE hosts ADD COLUMN zone TEXT",
        "CREATE INDEX hosts_zone ON hosts (zone)",
    ]),
    # 12 (issue 23). a count of job changes, bumped on the events PostgreSQL NOTIFYs on (a job
    # created, removed, or its state changed; progress and lease renewals do not name these
    # columns): a TUI reads it every second to see other processes' jobs (wait_for_change)
    Step(sqlite=[
        f"INSERT OR IGNORE INTO meta (key, value) VALUES ('{JOBS_CHANGED}', '0')",
        *(f"""CREATE TRIGGER jobs_changed_{name} AFTER {event} ON jobs BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{JOBS_CHANGED}';
        END""" for name, event in (("insert", "INSERT"), ("delete", "DELETE"),
                                   ("update", "UPDATE OF status, priority, cancel_requested"))),
    ]),
    # 13 (issue 28). drift alerts: a schedule's notification targets (names: their URLs are secrets
    # kept outside the store) and whether it reports runs where nothing changed; each run's
    # notification, claimed by one process (notify_owner until notify_until) and then done.
    # Runs enqueued before alerts existed have nothing to tell: 'before'.
    both(
        "ALTER TABLE schedules ADD COLUMN notify TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE schedules ADD COLUMN heartbeat {boolean} NOT NULL DEFAULT FALSE",
        "ALTER TABLE schedule_runs ADD COLUMN notify_state TEXT",  # NULL: not yet; sending, sent, quiet, failed
        "ALTER TABLE schedule_runs ADD COLUMN notify_owner TEXT",
        "ALTER TABLE schedule_runs ADD COLUMN notify_until {text}",
        "ALTER TABLE schedule_runs ADD COLUMN notify_note TEXT",
        "UPDATE schedule_runs SET notify_state = 'before'",
        "CREATE INDEX schedule_runs_to_notify ON schedule_runs (slot) "
        "WHERE notify_state IS NULL OR notify_state = 'sending'",
    ),
    # 14 (issue 27). signed evidence: each completed scan's signed record (canonical JSON, kept
    # byte for byte as signed), its Ed25519 signature (base64) and the key's fingerprint;
    # NULL: a scan stored before signing existed, or without a usable key (core/signing)
    both("ALTER TABLE scans ADD COLUMN signed_record {text}",
         "ALTER TABLE scans ADD COLUMN signature {text}",
         "ALTER TABLE scans ADD COLUMN signing_key {text}"),
    # 15 (issue 27). the action log: append-only and hash-chained (core/store/audit.py). The head
    # (last seq and hash) is a row of meta, moved in the append's transaction: a deleted last
    # entry is seen. Triggers refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE); whoever
    # may drop a trigger (the file's owner, a superuser) still can: that is what the chain is for.
    Step(sqlite=_audit_table(SQLITE) + [
        f"""CREATE TRIGGER audit_log_no_{name} BEFORE {event} ON audit_log BEGIN
            SELECT RAISE(ABORT, '{AUDIT_REFUSAL}');
        END""" for name, event in (("update", "UPDATE"), ("delete", "DELETE"))
    ], postgres=_audit_table(POSTGRES) + [
        f"""CREATE FUNCTION compliance_tui_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{AUDIT_REFUSAL}'; END $$""",
        """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION compliance_tui_audit_append_only()""",
        """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION compliance_tui_audit_append_only()""",
    ]),
    # 16 (issue 27, part 3). exceptions with approval: a request is pending and changes no score until a
    # second person approves it; rejected and revoked ones stay on record. accepted_by held who
    # added it, now the requester; every exception before this step took effect at once, so it
    # is approved, by whoever added it, when it was added.
    both(
        "ALTER TABLE rule_exceptions RENAME COLUMN accepted_by TO requested_by",
        "ALTER TABLE rule_exceptions ADD COLUMN status {text} NOT NULL DEFAULT 'approved' "
        "CHECK (status IN ('pending', 'approved', 'rejected', 'revoked'))",
        "ALTER TABLE rule_exceptions ADD COLUMN decided_by TEXT",
        "ALTER TABLE rule_exceptions ADD COLUMN decided_at {text}",
        "ALTER TABLE rule_exceptions ADD COLUMN decision_note TEXT",
        "ALTER TABLE rule_exceptions ADD COLUMN revoked_by TEXT",
        "ALTER TABLE rule_exceptions ADD COLUMN revoked_at {text}",
        "ALTER TABLE rule_exceptions ADD COLUMN revoke_note TEXT",
        "UPDATE rule_exceptions SET decided_by = requested_by, decided_at = created_at",
    ),
    # (issue 26). control views: what each rule of a content version cites (system: nist-800-53,
    # cis-controls, stigid, cce... see core/results/references.py; ref: the control id), kept with the
    # rule texts when a scan or import first stores the content, so a scan reads by control after
    # its evidence is pruned. references_read: FALSE for content stored before this step (its
    # references are read once from a scan's evidence when asked) and TRUE once they are kept.
    both(
        """CREATE TABLE rule_references (
            content_id {text} NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
            rule_id {text} NOT NULL,
            system {text} NOT NULL,
            ref TEXT NOT NULL,
            PRIMARY KEY (content_id, system, rule_id, ref)
        ){without_rowid}""",
        "ALTER TABLE contents ADD COLUMN references_read {boolean} NOT NULL DEFAULT FALSE",
    ),
]
