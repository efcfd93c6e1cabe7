-- 好差评: one rating per case (the UNIQUE key is the rule 一事一评), stored whole as
-- JSON with copies of what lists filter and sort on.
CREATE TABLE ratings (
    id            {{ID}},
    case_id       BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    item_id       BIGINT NOT NULL,
    region        {{CODE}} NOT NULL,
    window_id     BIGINT,
    staff_id      BIGINT,
    applicant_id  BIGINT NOT NULL,
    level         BIGINT NOT NULL,
    bad           BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    data          TEXT NOT NULL,
    CONSTRAINT ratings_case_id_key UNIQUE (case_id)
);
CREATE INDEX ratings_department ON ratings (department_id, at, id);
CREATE INDEX ratings_region ON ratings (region, at, id);

-- A rating link shown on the window's tablet or sent by SMS: whoever holds the token
-- may rate that one case. Only the token's SHA-256 is kept.
CREATE TABLE rating_invitations (
    token_hash {{CODE}} PRIMARY KEY,
    case_id    BIGINT NOT NULL,
    channel    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rating_invitations_case ON rating_invitations (case_id);

-- 差评整改: one task per bad rating, stored whole.
CREATE TABLE rectifications (
    id            {{ID}},
    rating_id     BIGINT NOT NULL,
    case_id       BIGINT NOT NULL,
    department_id BIGINT NOT NULL,
    region        {{CODE}} NOT NULL,
    state         TEXT NOT NULL,
    is_open       BIGINT NOT NULL,
    due           {{CODE}} NOT NULL,
    version       BIGINT NOT NULL,
    data          TEXT NOT NULL,
    CONSTRAINT rectifications_rating_id_key UNIQUE (rating_id)
);
CREATE INDEX rectifications_department ON rectifications (department_id, is_open, due, id);
CREATE INDEX rectifications_region ON rectifications (region, is_open, due, id);
CREATE INDEX rectifications_open_due ON rectifications (due, id) WHERE is_open = 1;

-- Rating rollups per department, item, window, staff member and month (window and
-- staff 0 = none). Ratings are few: each is added to its row at once.
CREATE TABLE rating_stats (
    department_id     BIGINT NOT NULL,
    item_id           BIGINT NOT NULL,
    window_id         BIGINT NOT NULL,
    staff_id          BIGINT NOT NULL,
    region            {{CODE}} NOT NULL,
    month             {{CODE}} NOT NULL,
    n1                BIGINT NOT NULL,
    n2                BIGINT NOT NULL,
    n3                BIGINT NOT NULL,
    n4                BIGINT NOT NULL,
    n5                BIGINT NOT NULL,
    invalid           BIGINT NOT NULL,
    rectified_on_time BIGINT NOT NULL,
    rectified_late    BIGINT NOT NULL,
    called_back       BIGINT NOT NULL,
    PRIMARY KEY (department_id, item_id, window_id, staff_id, month)
);
CREATE INDEX rating_stats_region ON rating_stats (region, month);

-- Warnings the sweep has marked: one row per clock and deadline, its level raised from
-- yellow to red when it passes.
CREATE TABLE warning_marks (
    subject       {{CODE}} NOT NULL,
    subject_id    BIGINT NOT NULL,
    clock         {{CODE}} NOT NULL,
    due           {{CODE}} NOT NULL,
    level         TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    window_id     BIGINT NOT NULL,
    region        {{CODE}} NOT NULL,
    month         {{CODE}} NOT NULL,
    marked_at     BIGINT NOT NULL,
    PRIMARY KEY (subject, subject_id, clock, due)
);
CREATE INDEX warning_marks_region ON warning_marks (region, month);

-- 督办: one order per overdue clock and deadline (the UNIQUE key keeps the sweep from
-- opening it twice, also with several servers).
CREATE TABLE supervision_orders (
    id            {{ID}},
    subject       {{CODE}} NOT NULL,
    subject_id    BIGINT NOT NULL,
    clock         {{CODE}} NOT NULL,
    due           {{CODE}} NOT NULL,
    department_id BIGINT NOT NULL,
    region        {{CODE}} NOT NULL,
    state         TEXT NOT NULL,
    opened_at     BIGINT NOT NULL,
    data          TEXT NOT NULL,
    CONSTRAINT supervision_orders_subject_key UNIQUE (subject, subject_id, clock, due)
);
CREATE INDEX supervision_orders_department ON supervision_orders (department_id, state, id);
CREATE INDEX supervision_orders_region ON supervision_orders (region, state, id);

-- Settings administrators change (JSON by name).
CREATE TABLE settings (
    name       {{CODE}} PRIMARY KEY,
    data       TEXT NOT NULL,
    updated_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- 千分制考核: points supervisors take off a window in a quarter (日常巡查).
CREATE TABLE assessment_deductions (
    id         {{ID}},
    window_id  BIGINT NOT NULL,
    quarter    {{CODE}} NOT NULL,
    points     BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    by_account BIGINT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX assessment_deductions_quarter ON assessment_deductions (quarter, window_id);
