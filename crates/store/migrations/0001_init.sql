-- Tongban schema, version 1. One source for both backends; `migrate.rs` replaces the
-- tokens: {{ID}} is the auto-numbered primary key (SQLite rowid / PostgreSQL identity),
-- {{CODE}} is text compared byte-wise (region codes, dates and keys sort and prefix-match
-- the same on both backends: PostgreSQL gets COLLATE "C"), {{CLUSTERED}} stores a
-- table in its primary key's order (SQLite WITHOUT ROWID; nothing on PostgreSQL),
-- {{BLOB}} is bytes (SQLite BLOB, PostgreSQL BYTEA).
-- Instants are BIGINT milliseconds since 1970 (UTC); dates are 'YYYY-MM-DD' text;
-- booleans are 0/1; aggregates that are read whole are JSON text.

-- 区划 (GB/T 2260).
CREATE TABLE regions (
    code    {{CODE}} PRIMARY KEY,
    name    TEXT NOT NULL,
    parent  {{CODE}},
    level   TEXT NOT NULL
);

-- 部门 (实施主体).
CREATE TABLE departments (
    id          {{ID}},
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    credit_code {{CODE}} NOT NULL,
    region      {{CODE}} NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    CONSTRAINT departments_credit_code_key UNIQUE (credit_code)
);
CREATE INDEX departments_region ON departments (region);

-- 大厅 and 窗口.
CREATE TABLE halls (
    id            {{ID}},
    name          TEXT NOT NULL,
    region        {{CODE}} NOT NULL,
    address       TEXT NOT NULL,
    phone         TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments (id)
);
CREATE TABLE windows (
    id       {{ID}},
    hall_id  BIGINT NOT NULL REFERENCES halls (id),
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    theme    TEXT
);

-- 申请人: natural persons by ID number, legal persons by credit code.
CREATE TABLE applicants (
    id                   {{ID}},
    kind                 TEXT NOT NULL,
    name                 TEXT NOT NULL,
    identifier           {{CODE}} NOT NULL,
    phone                TEXT NOT NULL,
    legal_representative TEXT,
    bar_reason           TEXT,
    bar_since            BIGINT,
    created_at           BIGINT NOT NULL,
    CONSTRAINT applicants_identifier_key UNIQUE (identifier)
);

-- Accounts (staff and applicants). immediate_departments is a JSON array of ids.
CREATE TABLE accounts (
    id                    {{ID}},
    username              {{CODE}} NOT NULL,
    name                  TEXT NOT NULL,
    role                  TEXT NOT NULL,
    department_id         BIGINT REFERENCES departments (id),
    region                {{CODE}},
    applicant_id          BIGINT REFERENCES applicants (id),
    window_id             BIGINT REFERENCES windows (id),
    immediate_departments TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    active                BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    CONSTRAINT accounts_username_key UNIQUE (username)
);

-- Sessions: only the SHA-256 of a token is stored.
CREATE TABLE sessions (
    token_hash  {{CODE}} PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    csrf        TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Sign-in attempts, for throttling (key: 'u:<username>' or 'a:<address>').
CREATE TABLE login_attempts (
    id   {{ID}},
    key  {{CODE}} NOT NULL,
    ok   BIGINT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX login_attempts_key_at ON login_attempts (key, at);

-- 基本目录.
CREATE TABLE basic_items (
    code        {{CODE}} PRIMARY KEY,
    name        TEXT NOT NULL,
    item_type   TEXT NOT NULL,
    legal_basis TEXT NOT NULL
);

-- 实施清单: the item; its content lives in versions.
CREATE TABLE items (
    id                {{ID}},
    code              {{CODE}} NOT NULL,
    basic_code        {{CODE}} NOT NULL REFERENCES basic_items (code),
    item_type         TEXT NOT NULL,
    department_id     BIGINT NOT NULL REFERENCES departments (id),
    region            {{CODE}} NOT NULL,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    published_version BIGINT,
    draft_version     BIGINT,
    updated_at        BIGINT NOT NULL,
    CONSTRAINT items_code_key UNIQUE (code)
);
CREATE INDEX items_region ON items (region, id);
CREATE INDEX items_department ON items (department_id, id);

-- Versions: a published version is never updated (the store refuses it).
CREATE TABLE item_versions (
    item_id      BIGINT NOT NULL REFERENCES items (id),
    version      BIGINT NOT NULL,
    state        TEXT NOT NULL,
    spec         TEXT NOT NULL,
    published_at BIGINT,
    PRIMARY KEY (item_id, version)
);

-- 工作日历: one row per year's notice (JSON of CalendarYear).
CREATE TABLE calendar_years (
    year       BIGINT PRIMARY KEY,
    data       TEXT NOT NULL,
    updated_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Counters that go up on a change other servers must notice ('calendar').
CREATE TABLE revisions (
    name  {{CODE}} PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Daily case-number serials per county-level region.
CREATE TABLE case_serials (
    region {{CODE}} NOT NULL,
    day    {{CODE}} NOT NULL,
    last   BIGINT NOT NULL,
    PRIMARY KEY (region, day)
);

-- 办件: the whole aggregate as JSON in `data`, LZ4-compressed (a case's JSON is about
-- 3 KB and compresses to about half: rows of half a page instead of a whole one, fewer
-- pages written per commit, and on PostgreSQL a row small enough not to be TOASTed and
-- compressed again); the columns beside it are copies for filtering and sorting,
-- rewritten on every save.
-- due_sort is the due date, or '9999-12-31' when no clock runs, so that the inbox
-- orders by (due_sort, id) and pages by keyset on the same index.
CREATE TABLE cases (
    id              {{ID}},
    number          {{CODE}} NOT NULL,
    item_id         BIGINT NOT NULL REFERENCES items (id),
    item_name       TEXT NOT NULL,
    processing_type TEXT NOT NULL,
    department_id   BIGINT NOT NULL,
    region          {{CODE}} NOT NULL,
    applicant_id    BIGINT NOT NULL,
    applicant_name  TEXT NOT NULL,
    applicant_kind  TEXT NOT NULL,
    agent_account   BIGINT,
    channel         TEXT NOT NULL,
    state           TEXT NOT NULL,
    is_open         BIGINT NOT NULL,
    due_date        {{CODE}},
    due_clock       TEXT,
    due_provisional BIGINT NOT NULL,
    any_provisional BIGINT NOT NULL,
    due_sort        {{CODE}} NOT NULL,
    rongque_due     {{CODE}},
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    data            {{BLOB}} NOT NULL
);
-- Case numbers are unique by construction (region, day and the serial above); no
-- UNIQUE constraint, so that the table can be distributed by id (a distributed engine
-- accepts unique keys only when they contain the distribution column).
CREATE INDEX cases_number ON cases (number);
-- Indexes are what a transition pays for: only the two inbox indexes contain a column
-- that changes (due_sort), and they hold open cases only. The others are on columns
-- that never change after the case is created.
CREATE INDEX cases_department_open ON cases (department_id, state, due_sort, id) WHERE is_open = 1;
CREATE INDEX cases_region_open ON cases (region, due_sort, id) WHERE is_open = 1;
CREATE INDEX cases_department_created ON cases (department_id, created_at, id);
CREATE INDEX cases_region_created ON cases (region, created_at, id);
CREATE INDEX cases_applicant ON cases (applicant_id, created_at, id);
CREATE INDEX cases_agent ON cases (agent_account, created_at, id) WHERE agent_account IS NOT NULL;
CREATE INDEX cases_rongque ON cases (rongque_due, id) WHERE is_open = 1 AND rongque_due IS NOT NULL;
CREATE INDEX cases_provisional ON cases (id) WHERE is_open = 1 AND any_provisional = 1;

-- 办件日志: every step, append-only.
CREATE TABLE case_events (
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    actor_id   BIGINT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    reason     TEXT,
    data       TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
){{CLUSTERED}};

-- Leases over periodic jobs: several servers on one database run each job once per
-- period (see JobStore). Instants in milliseconds; 0 = never.
CREATE TABLE job_leases (
    name        {{CODE}} PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    next_run_at BIGINT NOT NULL,
    last_run_at BIGINT,
    last_note   TEXT NOT NULL
);

-- Statistics rollups (core::stats). Every transition appends its change to
-- case_stat_deltas (an insert: no row is shared between transactions, so concurrent
-- writers never wait on one another or deadlock); a periodic job folds the deltas into
-- case_stats. A query sums both, so figures are current to the last commit.
CREATE TABLE case_stat_deltas (
    id            {{ID}},
    department_id BIGINT NOT NULL,
    item_id       BIGINT NOT NULL,
    month         {{CODE}} NOT NULL,
    channel       TEXT NOT NULL,
    received      BIGINT NOT NULL,
    decided       BIGINT NOT NULL,
    approved      BIGINT NOT NULL,
    on_time       BIGINT NOT NULL,
    working_days  BIGINT NOT NULL,
    immediate     BIGINT NOT NULL,
    refused       BIGINT NOT NULL,
    withdrawn     BIGINT NOT NULL,
    terminated    BIGINT NOT NULL
);
CREATE TABLE case_stats (
    department_id BIGINT NOT NULL,
    item_id       BIGINT NOT NULL,
    month         {{CODE}} NOT NULL,
    channel       TEXT NOT NULL,
    received      BIGINT NOT NULL,
    decided       BIGINT NOT NULL,
    approved      BIGINT NOT NULL,
    on_time       BIGINT NOT NULL,
    working_days  BIGINT NOT NULL,
    immediate     BIGINT NOT NULL,
    refused       BIGINT NOT NULL,
    withdrawn     BIGINT NOT NULL,
    terminated    BIGINT NOT NULL,
    PRIMARY KEY (department_id, item_id, month, channel)
);

-- 一件事 bundles, stored whole (JSON of core::bundle::Bundle with its versions).
CREATE TABLE bundles (
    id         {{ID}},
    code       {{CODE}} NOT NULL,
    region     {{CODE}} NOT NULL,
    name       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    data       TEXT NOT NULL,
    CONSTRAINT bundles_code_key UNIQUE (code)
);
CREATE INDEX bundles_region ON bundles (region, id);

-- An applicant's bundle case and the child case of each item.
CREATE TABLE bundle_cases (
    id           {{ID}},
    bundle_id    BIGINT NOT NULL REFERENCES bundles (id),
    applicant_id BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    data         TEXT NOT NULL
);
CREATE TABLE bundle_children (
    case_id        BIGINT PRIMARY KEY,
    bundle_case_id BIGINT NOT NULL
);
