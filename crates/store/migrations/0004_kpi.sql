-- KPIs per window and staff member (千分制 window assessment, 窗口考核): the statistics
-- changes and rollups gain the receiving window and staff member (0 = none: online,
-- agent). Rollup rows made before this are kept, counted under window and staff 0.
ALTER TABLE case_stat_deltas ADD COLUMN window_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE case_stat_deltas ADD COLUMN staff_id BIGINT NOT NULL DEFAULT 0;
CREATE TABLE case_stats_by_window (
    department_id BIGINT NOT NULL,
    item_id       BIGINT NOT NULL,
    window_id     BIGINT NOT NULL,
    staff_id      BIGINT NOT NULL,
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
    PRIMARY KEY (department_id, item_id, window_id, staff_id, month, channel)
);
INSERT INTO case_stats_by_window (department_id, item_id, window_id, staff_id, month, channel, received, decided,
    approved, on_time, working_days, immediate, refused, withdrawn, terminated)
SELECT department_id, item_id, 0, 0, month, channel, received, decided, approved, on_time, working_days, immediate,
    refused, withdrawn, terminated FROM case_stats;
DROP TABLE case_stats;
ALTER TABLE case_stats_by_window RENAME TO case_stats;
