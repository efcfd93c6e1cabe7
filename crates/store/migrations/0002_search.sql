-- Catalog search (tongban-search): every server keeps its own in-memory index and
-- follows the catalog through revisions. Each change to an item stamps it with the
-- next value of the 'catalog' revision, so a server that holds revision N reindexes
-- exactly the items with search_rev > N. 'search_rebuild' goes up when an
-- administrator asks every server to rebuild from scratch; 'synonyms' when the
-- synonyms change.
ALTER TABLE items ADD COLUMN search_rev BIGINT NOT NULL DEFAULT 0;
CREATE INDEX items_search_rev ON items (search_rev);

-- 同义词: a term people type → the words searched for as well (JSON array).
CREATE TABLE search_synonyms (
    term       TEXT PRIMARY KEY,
    words      TEXT NOT NULL,
    updated_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
