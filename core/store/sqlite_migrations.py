"""Numbered schema migrations; PRAGMA user_version records how many have run.

Append new migrations; never edit one that has shipped.
"""

_COUNTS = ", ".join(
    f"n_{r} INTEGER" for r in (
        "pass", "fail", "error", "unknown", "notapplicable",
        "notchecked", "notselected", "informational", "fixed",
    )
)

# Result and severity codes of the compact rule results (migration 10); never renumber them.
RESULT_CODES = ("pass", "fail", "error", "unknown", "notapplicable", "notchecked", "notselected",
                "informational", "fixed")
SEVERITY_CODES = ("high", "medium", "low", "info", "unknown")


def _encode(names: tuple[str, ...]) -> str:
    return "CASE {} " + " ".join(f"WHEN '{n}' THEN {i}" for i, n in enumerate(names)) + " END"


def _decode(names: tuple[str, ...]) -> str:
    return "CASE {} " + " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(names)) + " END"


RESULT_CODE, RESULT_NAME = _encode(RESULT_CODES), _decode(RESULT_CODES)
JOBS_CHANGED = "jobs_changed"  # the meta key of migration 12's counter
SEVERITY_CODE, SEVERITY_NAME = _encode(SEVERITY_CODES), _decode(SEVERITY_CODES)

MIGRATIONS: list[list[str]] = [
    # 1: hosts, content versions with their rule texts, scans and rule results
    [
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
    ],
    # 2: scans imported from results files produced elsewhere
    [
        "ALTER TABLE scans ADD COLUMN origin TEXT NOT NULL DEFAULT 'scan' CHECK (origin IN ('scan', 'import'))",
        "ALTER TABLE scans ADD COLUMN source_file TEXT",  # the imported file's name
        "ALTER TABLE scans ADD COLUMN source_sha256 TEXT",
        "ALTER TABLE scans ADD COLUMN result_key TEXT",  # one TestResult: id, start and end
        "ALTER TABLE scans ADD COLUMN target TEXT",  # the target name the results record
        "CREATE UNIQUE INDEX scans_imported_once ON scans (host_id, result_key) WHERE result_key IS NOT NULL",
    ],
    # 3: XCCDF tailoring per host, and what each scan ran with
    [
        "ALTER TABLE hosts ADD COLUMN tailoring_file TEXT",  # our copy under the data dir
        "ALTER TABLE scans ADD COLUMN tailoring_file TEXT",  # the tailoring's original file name
        "ALTER TABLE scans ADD COLUMN tailoring_sha256 TEXT",
        "ALTER TABLE scans ADD COLUMN base_profile_id TEXT",  # the profile the tailoring extends
    ],
    # 4: content derived for a RHEL rebuild says so
    [
        "ALTER TABLE contents ADD COLUMN derived_from TEXT",  # e.g. "RHEL 9"
    ],
    # 5: the job queue; every scan is the result of a scan job
    [
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
    ],
    # 6: what a job found (a hardening job: each rule before and after, fixed / still failing)
    [
        "ALTER TABLE jobs ADD COLUMN result TEXT",  # JSON
    ],
    # 7: AI explanations, cached per rule, content version, result and model; token usage per day
    [
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
    ],
    # 8: how long each rule took to evaluate (from oscap's progress lines)
    [
        "ALTER TABLE rule_results ADD COLUMN seconds REAL",
    ],
    # 9 (issue 14): host tags, schedules, documented exceptions; the dashboard's latest scans
    [
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
    ],
    # 10 (issue 15): compact rule results, a few bytes each instead of 126: an integer scan key
    # (scans.seq, never reused), rule ids interned once, result and severity as small codes,
    # seconds as milliseconds. The view `rule_results` keeps the old shape for every reader; its
    # INSTEAD OF trigger interns and encodes what is inserted through it.
    [
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
    ],
    # 11 (issue 17): a host's network zone; a worker started with --zone runs only its zone's jobs
    [
        "ALTER TABLE hosts ADD COLUMN zone TEXT",
        "CREATE INDEX hosts_zone ON hosts (zone)",
    ],
    # 12 (issue 23): a count of job changes, bumped on the events PostgreSQL NOTIFYs on (a job
    # created, removed, or its state changed; progress and lease renewals do not name these
    # columns): a TUI reads it every second to see other processes' jobs (wait_for_change)
    [
        f"INSERT OR IGNORE INTO meta (key, value) VALUES ('{JOBS_CHANGED}', '0')",
        *(f"""CREATE TRIGGER jobs_changed_{name} AFTER {event} ON jobs BEGIN
            UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = '{JOBS_CHANGED}';
        END""" for name, event in (("insert", "INSERT"), ("delete", "DELETE"),
                                   ("update", "UPDATE OF status, priority, cancel_requested"))),
    ],
]
