-- 12345: work orders stored whole (JSON) with copies of what lists filter and sort on.
CREATE TABLE work_orders (
    id          {{ID}},
    number      {{CODE}} NOT NULL,
    state       TEXT NOT NULL,
    is_open     BIGINT NOT NULL,
    region      {{CODE}} NOT NULL,
    lead        BIGINT,
    category_id BIGINT NOT NULL,
    order_type  TEXT NOT NULL,
    source      TEXT NOT NULL,
    month       {{CODE}} NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    data        TEXT NOT NULL,
    CONSTRAINT work_orders_number_key UNIQUE (number)
);
CREATE INDEX work_orders_open ON work_orders (state, id) WHERE is_open = 1;
CREATE INDEX work_orders_lead ON work_orders (lead, is_open, id);
CREATE INDEX work_orders_region ON work_orders (region, created_at, id);
CREATE INDEX work_orders_month ON work_orders (month, region);

-- Units other than the lead an order was sent to (协办), for the unit's inbox.
CREATE TABLE work_order_units (
    order_id   BIGINT NOT NULL,
    unit       BIGINT NOT NULL,
    PRIMARY KEY (order_id, unit)
);
CREATE INDEX work_order_units_unit ON work_order_units (unit, order_id);

-- Daily work-order serials.
CREATE TABLE work_order_serials (
    day  {{CODE}} PRIMARY KEY,
    last BIGINT NOT NULL
);

-- 派单目录: categories (Open311 services), stored whole.
CREATE TABLE hotline_categories (
    id     {{ID}},
    code   {{CODE}} NOT NULL,
    active BIGINT NOT NULL,
    data   TEXT NOT NULL,
    CONSTRAINT hotline_categories_code_key UNIQUE (code)
);

-- 知识库 articles with their versions, stored whole.
CREATE TABLE kb_articles (
    id         {{ID}},
    region     {{CODE}} NOT NULL,
    withdrawn  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX kb_articles_region ON kb_articles (region, id);

-- Open311 API keys (only their SHA-256).
CREATE TABLE open311_keys (
    key_hash   {{CODE}} PRIMARY KEY,
    name       TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
