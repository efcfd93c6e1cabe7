-- PostgreSQL only: the columns of a case that never change after its receipt, and
-- the five indexes on them, move to an insert-only table beside `cases`.
--
-- Every save of a case changes a column of the two inbox indexes (state, due_sort), so
-- on PostgreSQL no save is a HOT update: each writes a new row version, and a new
-- entry into every index of the table, whether the indexed columns changed or not.
-- With the five indexes on `cases` that was seven or eight index insertions per
-- lifecycle step; with them here it is three (the key and the two inbox indexes while
-- the case is open), and the key row is written once, with its case. Measured on the
-- benchmark's lifecycle (64 clients, same hour, alternating builds): 14.1–14.4 k
-- transitions/s at 125–128 µs of the machine's CPU each, against 11.9–12.5 k at
-- 141–147 µs without this migration.
-- SQLite updates only the indexes whose columns a statement sets, which these never
-- are, so it keeps its one table.
--
-- The key row is written only by `insert_shared_case`, in its case's transaction, and
-- cases are never deleted: no foreign key (its check would lock the case row the
-- transaction had just written, as 0007 says of events). The columns stay in `cases`
-- too, for the pages that list cases without these indexes (the inbox).
CREATE TABLE case_keys (
    id            BIGINT PRIMARY KEY,
    number        {{CODE}} NOT NULL,
    department_id BIGINT NOT NULL,
    region        {{CODE}} NOT NULL,
    applicant_id  BIGINT NOT NULL,
    agent_account BIGINT,
    created_at    BIGINT NOT NULL
);
INSERT INTO case_keys (id, number, department_id, region, applicant_id, agent_account, created_at)
    SELECT id, number, department_id, region, applicant_id, agent_account, created_at FROM cases;
CREATE INDEX case_keys_number ON case_keys (number);
CREATE INDEX case_keys_department_created ON case_keys (department_id, created_at, id);
CREATE INDEX case_keys_region_created ON case_keys (region, created_at, id);
CREATE INDEX case_keys_applicant ON case_keys (applicant_id, created_at, id);
CREATE INDEX case_keys_agent ON case_keys (agent_account, created_at, id) WHERE agent_account IS NOT NULL;
DROP INDEX cases_number;
DROP INDEX cases_department_created;
DROP INDEX cases_region_created;
DROP INDEX cases_applicant;
DROP INDEX cases_agent;
