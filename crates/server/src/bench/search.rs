//! Catalog search at scale: index build time and query latency over a generated
//! catalog of N items (the demo county's 49 real guides, multiplied across the
//! country's regions and departments with their names varied), against the search
//! engine's own floor measured in the same run: one term looked up and counted.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use tongban_search::{Filters, ItemDoc, SearchIndex};

use super::rng::Rng;

/// What people type: words, pinyin, initials, synonyms, a half-typed word, a phrase.
pub const QUERIES: &[&str] = &[
    "营业执照",
    "执照",
    "yyzz",
    "开饭店",
    "食品经营许可",
    "出生登记",
    "weisheng",
    "不动产登记",
    "社保卡",
    "个体工商户",
    "gtgsh",
    "医师执业",
    "消防验收",
    "我想开个饭店",
    "食",
    "退休",
];

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct SearchBench {
    /// Items indexed.
    pub docs: usize,
    /// Building the whole index, seconds.
    pub build_seconds: f64,
    /// Items indexed per second.
    pub docs_per_second: f64,
    /// Searches run.
    pub queries: u64,
    /// Full searches per second, one thread.
    pub queries_per_second: f64,
    /// Full search latency, ms.
    pub p50_ms: f64,
    /// Full search latency, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// The floor: one name term counted, p50 ms.
    pub floor_p50_ms: f64,
    /// The floor, p99 ms.
    pub floor_p99_ms: f64,
}

const REGIONS: &[&str] = &[
    "440902", "440904", "440981", "440982", "440983", "440100", "440300", "440500", "441900",
    "442000", "110105", "310115", "320506", "330106", "370303", "420106", "510107", "610113",
];

/// The demo county's guides as index documents.
pub fn demo_documents() -> anyhow::Result<Vec<ItemDoc>> {
    let v: serde_json::Value = serde_json::from_str(crate::demo::DATA)?;
    let names: std::collections::BTreeMap<&str, &str> = v["departments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["key"].as_str()?, d["name"].as_str()?)))
        .collect();
    let mut out = Vec::new();
    for (i, it) in v["items"].as_array().into_iter().flatten().enumerate() {
        let spec: tongban_core::catalog::ItemSpec = serde_json::from_value(it["spec"].clone())?;
        let dept = it["department"].as_str().unwrap_or_default();
        out.push(tongban_web::search::doc_of(
            i as i64 + 1,
            1,
            "440902",
            tongban_core::catalog::ItemType::License,
            &spec,
            names.get(dept).copied().unwrap_or_default(),
        ));
    }
    Ok(out)
}

/// `n` documents: each a real guide of the demo county, placed in a region and given a
/// department and a variant name, so that there are many near-duplicates, as in a
/// provincial catalog.
pub fn documents(base: &[ItemDoc], n: usize, seed: u64) -> Vec<ItemDoc> {
    let mut rng = Rng::new(seed);
    let variants = [
        "",
        "（变更）",
        "（延续）",
        "（注销）",
        "（补证）",
        "（新办）",
    ];
    (0..n)
        .map(|i| {
            let b = &base[rng.below(base.len() as u64) as usize];
            let region = REGIONS[rng.below(REGIONS.len() as u64) as usize];
            let mut d = b.clone();
            d.item_id = i as i64 + 1;
            d.region = format!("{region}{:03}", rng.below(30));
            d.region.truncate(if rng.chance(0.7) { 6 } else { 9 });
            d.department_id = rng.below(5_000) as i64 + 1;
            d.name = format!(
                "{}{}",
                b.name,
                variants[rng.below(variants.len() as u64) as usize]
            );
            d.popularity = rng.below(10_000);
            d
        })
        .collect()
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Build an index of `docs` and run the queries for `seconds` each round.
pub fn run(docs: Vec<ItemDoc>, seconds: u64) -> anyhow::Result<SearchBench> {
    let n = docs.len();
    let ix = SearchIndex::new().map_err(|e| anyhow::anyhow!(e))?;
    ix.set_synonyms(
        [
            ("饭店", vec!["餐饮", "食品经营"]),
            ("社保", vec!["社会保障"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
        .collect(),
    );
    let t = Instant::now();
    ix.replace_all(&docs).map_err(|e| anyhow::anyhow!(e))?;
    let build = t.elapsed().as_secs_f64();
    drop(docs);
    let filters = [
        Filters::default(),
        Filters {
            region_prefix: Some("4409".into()),
            ..Filters::default()
        },
        Filters {
            object: Some("enterprise".into()),
            ..Filters::default()
        },
    ];
    let mut full = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut floor = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let deadline = Instant::now() + Duration::from_secs(seconds.max(1));
    let started = Instant::now();
    let mut i = 0usize;
    while Instant::now() < deadline {
        let q = QUERIES[i % QUERIES.len()];
        let f = &filters[(i / QUERIES.len()) % filters.len()];
        let t = Instant::now();
        let hits = ix.search(q, f, 20).map_err(|e| anyhow::anyhow!(e))?;
        full.record(t.elapsed().as_micros().max(1) as u64)?;
        std::hint::black_box(hits);
        i += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let floor_deadline = Instant::now() + Duration::from_secs((seconds / 3).max(1));
    let words = ["执照", "许可", "登记", "出生", "食品"];
    let mut j = 0usize;
    while Instant::now() < floor_deadline {
        let t = Instant::now();
        std::hint::black_box(
            ix.count_name_term(words[j % words.len()])
                .map_err(|e| anyhow::anyhow!(e))?,
        );
        floor.record(t.elapsed().as_micros().max(1) as u64)?;
        j += 1;
    }
    Ok(SearchBench {
        docs: n,
        build_seconds: build,
        docs_per_second: n as f64 / build.max(1e-9),
        queries: i as u64,
        queries_per_second: i as f64 / elapsed.max(1e-9),
        p50_ms: ms(&full, 0.5),
        p99_ms: ms(&full, 0.99),
        max_ms: full.max() as f64 / 1000.0,
        floor_p50_ms: ms(&floor, 0.5),
        floor_p99_ms: ms(&floor, 0.99),
    })
}

/// The report's section.
pub fn markdown(b: &SearchBench) -> String {
    format!(
        "## Catalog search\n\n\
         An in-memory index of {docs} generated items (the demo county's 49 guides spread over 18 regions and 5,000 \
         departments with name variants), built with `replace_all` as a server does at start or on a rebuild; then, \
         on one thread, full searches as the API runs them (synonyms, jieba words, pinyin and initials, characters of \
         names, filters, popularity, snippets; top 20) cycling through {nq} queries people type (`营业执照`, `yyzz`, \
         `开饭店`, `食`, …) and three filter sets. The floor is one name term looked up and counted by the same engine.\n\n\
         | figure | value |\n|---|---|\n\
         | index build | {build:.1} s ({dps:.0} items/s) |\n\
         | searches | {qps:.0} /s on one thread ({n} run) |\n\
         | search latency | p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms |\n\
         | floor (one term counted) | p50 {f50:.3} ms, p99 {f99:.3} ms |\n\
         | full search / floor (p99) | {ratio:.1}× |\n\n",
        docs = b.docs,
        nq = QUERIES.len(),
        build = b.build_seconds,
        dps = b.docs_per_second,
        qps = b.queries_per_second,
        n = b.queries,
        p50 = b.p50_ms,
        p99 = b.p99_ms,
        max = b.max_ms,
        f50 = b.floor_p50_ms,
        f99 = b.floor_p99_ms,
        ratio = b.p99_ms / b.floor_p99_ms.max(1e-6),
    )
}
