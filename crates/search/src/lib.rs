//! Catalog search (事项搜索): the published items in an in-memory tantivy index,
//! Chinese text cut into words by jieba in search mode (so that 执照 finds 营业执照),
//! each word also indexed as full pinyin and as pinyin initials (yyzz → 营业执照),
//! synonyms administrators edit (开饭店 → 餐饮) added to a query, ranked by relevance
//! and then by how often an item is applied for, with highlighted snippets.
//!
//! The index is built from the database at start and follows every change through
//! [`SearchIndex::upsert`] / [`SearchIndex::remove`]; it holds nothing that is not in
//! the database, so every server keeps its own.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};

use pinyin::ToPinyin;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    LowerCaser, NgramTokenizer, SimpleTokenizer, TextAnalyzer, TokenStream, Tokenizer,
};
use tantivy::{Index, IndexReader, IndexWriter, TantivyDocument, Term, doc};

/// One item as the index sees it.
#[derive(Debug, Clone, Default)]
pub struct ItemDoc {
    /// The item.
    pub item_id: i64,
    /// Its name.
    pub name: String,
    /// Other names people use.
    pub aliases: Vec<String>,
    /// Its materials' names.
    pub materials: Vec<String>,
    /// The department's name.
    pub department: String,
    /// The department.
    pub department_id: i64,
    /// The item's region code.
    pub region: String,
    /// 事项类型 (`license`, `payment`, …).
    pub item_type: String,
    /// Service objects (`person`, `enterprise`).
    pub objects: Vec<String>,
    /// Legal basis.
    pub legal_basis: Vec<String>,
    /// Cases received so far (ranking).
    pub popularity: u64,
}

/// Filters of a search.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only this department.
    pub department_id: Option<i64>,
    /// Only items of this region or below (a code prefix such as `4409` or `440902`).
    pub region_prefix: Option<String>,
    /// Only this item type.
    pub item_type: Option<String>,
    /// Only items for `person` or `enterprise`.
    pub object: Option<String>,
}

/// A result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// The item.
    pub item_id: i64,
    /// Its name.
    pub name: String,
    /// Its department.
    pub department: String,
    /// Where the query matched, HTML-escaped, matches in `<b>`.
    pub snippet_html: String,
    /// Relevance (BM25, lifted by popularity).
    pub score: f32,
}

struct Fields {
    item_id: Field,
    name: Field,
    aliases: Field,
    materials: Field,
    department: Field,
    legal_basis: Field,
    pinyin: Field,
    pinyin_body: Field,
    name_chars: Field,
    department_id: Field,
    region: Field,
    item_type: Field,
    object: Field,
    popularity: Field,
}

/// The index.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    synonyms: RwLock<BTreeMap<String, Vec<String>>>,
    popularity: RwLock<HashMap<i64, u64>>,
    body_label: &'static str,
}

/// A search failure (never the user's input: queries are parsed leniently).
pub type SearchError = String;

fn err(e: impl std::fmt::Display) -> SearchError {
    format!("search index: {e}")
}

/// Jieba words of `text`, in search mode (words and the words inside them).
pub fn words(text: &str) -> Vec<String> {
    let mut t = tantivy_jieba::JiebaTokenizer::new();
    let mut s = t.token_stream(text);
    let mut out = Vec::new();
    while let Some(tok) = s.next() {
        if tok.text.chars().any(|c| c.is_alphanumeric()) {
            out.push(tok.text.clone());
        }
    }
    out
}

/// Full pinyin and pinyin initials of every Chinese word of `texts`, space-separated.
pub fn pinyin_of(texts: &[&str]) -> String {
    let mut out = Vec::new();
    for t in texts {
        for w in words(t) {
            let (mut full, mut initials) = (String::new(), String::new());
            for p in w.as_str().to_pinyin().flatten() {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            if initials.chars().count() >= 2 {
                out.push(full);
                out.push(initials);
            }
        }
    }
    out.join(" ")
}

/// Full pinyin of a whole text's Chinese characters and every beginning of its
/// initials, e.g. 个体工商户设立登记 → `getigongshanghushelidengji gt gtg gtgs …
/// gtgshsldj`: people type the initials of a whole name, and the list narrows while
/// they are still typing them.
pub fn whole_pinyin(text: &str) -> String {
    let (mut full, mut initials) = (String::new(), String::new());
    for p in text.to_pinyin().flatten() {
        full.push_str(p.plain());
        initials.push_str(p.first_letter());
    }
    if initials.len() < 2 {
        return String::new();
    }
    let mut out = full;
    for n in 2..=initials.len().min(20) {
        out.push(' ');
        out.push_str(&initials[..n]);
    }
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn region_prefixes(region: &str) -> Vec<String> {
    [2, 4, 6, 9, 12]
        .into_iter()
        .filter(|n| *n <= region.len())
        .map(|n| region[..n].to_string())
        .collect()
}

impl SearchIndex {
    /// An empty index.
    pub fn new() -> Result<SearchIndex, SearchError> {
        let mut b = Schema::builder();
        let cjk = |stored: bool| {
            let o = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("jieba")
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            );
            if stored { o.set_stored() } else { o }
        };
        let latin = || {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("latin")
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let f = Fields {
            item_id: b.add_i64_field("item_id", INDEXED | STORED),
            name: b.add_text_field("name", cjk(true)),
            aliases: b.add_text_field("aliases", cjk(true)),
            materials: b.add_text_field("materials", cjk(true)),
            department: b.add_text_field("department", cjk(true)),
            legal_basis: b.add_text_field("legal_basis", cjk(false)),
            pinyin: b.add_text_field("pinyin", latin()),
            pinyin_body: b.add_text_field("pinyin_body", latin()),
            name_chars: b.add_text_field(
                "name_chars",
                TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer("chars")
                        .set_index_option(IndexRecordOption::Basic),
                ),
            ),
            department_id: b.add_i64_field("department_id", INDEXED),
            region: b.add_text_field("region", STRING),
            item_type: b.add_text_field("item_type", STRING),
            object: b.add_text_field("object", STRING),
            popularity: b.add_u64_field("popularity", STORED),
        };
        let index = Index::create_in_ram(b.build());
        index
            .tokenizers()
            .register("jieba", tantivy_jieba::JiebaTokenizer::new());
        index.tokenizers().register(
            "latin",
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .build(),
        );
        index.tokenizers().register(
            "chars",
            TextAnalyzer::builder(NgramTokenizer::new(1, 1, false).map_err(err)?)
                .filter(LowerCaser)
                .build(),
        );
        let writer = index.writer_with_num_threads(1, 15_000_000).map_err(err)?;
        let reader = index.reader().map_err(err)?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
            synonyms: RwLock::new(BTreeMap::new()),
            popularity: RwLock::new(HashMap::new()),
            body_label: "材料：",
        })
    }

    /// An empty index whose body field (`materials`) is shown under `label` in
    /// snippets (the knowledge base: its answers).
    pub fn with_body_label(label: &'static str) -> Result<SearchIndex, SearchError> {
        let mut ix = SearchIndex::new()?;
        ix.body_label = label;
        Ok(ix)
    }

    fn document(&self, d: &ItemDoc) -> TantivyDocument {
        let f = &self.f;
        let mut doc = doc!(
            f.item_id => d.item_id,
            f.name => d.name.clone(),
            f.name_chars => d.name.clone(),
            f.aliases => d.aliases.join("；"),
            f.materials => d.materials.join("；"),
            f.department => d.department.clone(),
            f.legal_basis => d.legal_basis.join("；"),
            f.department_id => d.department_id,
            f.item_type => d.item_type.clone(),
            f.popularity => d.popularity,
        );
        // The name and aliases in pinyin count for more than the materials in pinyin.
        let mut texts: Vec<&str> = vec![d.name.as_str()];
        texts.extend(d.aliases.iter().map(String::as_str));
        doc.add_text(f.pinyin, pinyin_of(&texts));
        for t in &texts {
            doc.add_text(f.pinyin, whole_pinyin(t));
        }
        let materials: Vec<&str> = d.materials.iter().map(String::as_str).collect();
        doc.add_text(f.pinyin_body, pinyin_of(&materials));
        for p in region_prefixes(&d.region) {
            doc.add_text(f.region, p);
        }
        for o in &d.objects {
            doc.add_text(f.object, o);
        }
        doc
    }

    fn commit(&self, w: &mut IndexWriter) -> Result<(), SearchError> {
        w.commit().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    /// Replace everything with `docs` (at start, or after another server changed the
    /// catalog).
    pub fn replace_all(&self, docs: &[ItemDoc]) -> Result<(), SearchError> {
        let mut w = self.writer.lock().map_err(err)?;
        w.delete_all_documents().map_err(err)?;
        for d in docs {
            w.add_document(self.document(d)).map_err(err)?;
        }
        self.commit(&mut w)
    }

    /// Add or replace one item.
    pub fn upsert(&self, d: &ItemDoc) -> Result<(), SearchError> {
        let mut w = self.writer.lock().map_err(err)?;
        w.delete_term(Term::from_field_i64(self.f.item_id, d.item_id));
        w.add_document(self.document(d)).map_err(err)?;
        self.commit(&mut w)
    }

    /// Add or replace `upserts` and take out `removals`, in one commit.
    pub fn apply(&self, upserts: &[ItemDoc], removals: &[i64]) -> Result<(), SearchError> {
        let mut w = self.writer.lock().map_err(err)?;
        for id in removals {
            w.delete_term(Term::from_field_i64(self.f.item_id, *id));
        }
        for d in upserts {
            w.delete_term(Term::from_field_i64(self.f.item_id, d.item_id));
            w.add_document(self.document(d)).map_err(err)?;
        }
        self.commit(&mut w)
    }

    /// Take an item out (suspended, cancelled).
    pub fn remove(&self, item_id: i64) -> Result<(), SearchError> {
        let mut w = self.writer.lock().map_err(err)?;
        w.delete_term(Term::from_field_i64(self.f.item_id, item_id));
        self.commit(&mut w)
    }

    /// The synonyms: a term people type → the words to search for as well.
    pub fn set_synonyms(&self, s: BTreeMap<String, Vec<String>>) {
        if let Ok(mut g) = self.synonyms.write() {
            *g = s;
        }
    }

    /// How often each item has been applied for (cases received), for ranking; items
    /// not named keep the popularity they were indexed with.
    pub fn set_popularity(&self, p: HashMap<i64, u64>) {
        if let Ok(mut g) = self.popularity.write() {
            *g = p;
        }
    }

    /// The synonyms in use.
    pub fn synonyms(&self) -> BTreeMap<String, Vec<String>> {
        self.synonyms.read().map(|g| g.clone()).unwrap_or_default()
    }

    /// Items indexed.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Documents whose name holds the jieba word `word`: one term looked up and counted,
    /// no parsing, expansion, ranking or snippets — the engine's floor, for benchmarks.
    pub fn count_name_term(&self, word: &str) -> Result<usize, SearchError> {
        let q = TermQuery::new(
            Term::from_field_text(self.f.name, word),
            IndexRecordOption::Basic,
        );
        self.reader
            .searcher()
            .search(&q, &tantivy::collector::Count)
            .map_err(err)
    }

    /// The query as searched: the text, plus the expansions of any synonym it contains.
    pub fn expand(&self, q: &str) -> String {
        let mut out = q.trim().to_string();
        if let Ok(s) = self.synonyms.read() {
            for (term, more) in s.iter() {
                if q.contains(term.as_str()) {
                    for m in more {
                        out.push(' ');
                        out.push_str(m);
                    }
                }
            }
        }
        out
    }

    /// Search: best first, at most `limit`.
    pub fn search(
        &self,
        q: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let f = &self.f;
        let text = self.expand(q);
        if text.is_empty() {
            return Ok(vec![]);
        }
        let mut parser = QueryParser::for_index(
            &self.index,
            vec![
                f.name,
                f.aliases,
                f.materials,
                f.department,
                f.legal_basis,
                f.pinyin,
                f.pinyin_body,
            ],
        );
        parser.set_field_boost(f.name, 3.0);
        parser.set_field_boost(f.aliases, 2.0);
        parser.set_field_boost(f.pinyin, 2.0);
        parser.set_field_boost(f.pinyin_body, 0.5);
        parser.set_field_boost(f.legal_basis, 0.5);
        // People's words, not query syntax: quote nothing, drop operators.
        let cleaned: String = text
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c.is_whitespace() || !c.is_ascii() {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        // A sentence ("我想问一下暂住证怎么办") is cut into its words first, each searched on
        // its own: given whole, the parser would look for the sentence as a phrase. Words
        // of one character are left out when there are longer ones (我, 想 match
        // everything).
        let lower = cleaned.to_lowercase();
        let mut terms = words(&lower);
        if terms.iter().any(|w| w.chars().count() > 1) {
            terms.retain(|w| w.chars().count() > 1 || w.is_ascii());
        }
        terms.sort();
        terms.dedup();
        let (words_query, _) = parser.parse_query_lenient(&terms.join(" "));
        // While a clerk is still typing ("食", "品经"), no word is whole yet: an item
        // whose name holds every character typed matches too, ranked below words.
        let mut chars: Vec<char> = cleaned
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        chars.sort_unstable();
        chars.dedup();
        let mut text_query: Box<dyn Query> = words_query;
        if !chars.is_empty() && chars.len() <= 12 {
            let all_chars: Vec<(Occur, Box<dyn Query>)> = chars
                .iter()
                .map(|c| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(f.name_chars, &c.to_string()),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Must, q)
                })
                .collect();
            text_query = Box::new(BooleanQuery::new(vec![
                (Occur::Should, text_query),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(BooleanQuery::new(all_chars)), 0.2)),
                ),
            ]));
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query)];
        let term = |field: Field, v: &str| -> (Occur, Box<dyn Query>) {
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, v),
                    IndexRecordOption::Basic,
                )),
            )
        };
        if let Some(d) = filters.department_id {
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_i64(f.department_id, d),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(r) = filters.region_prefix.as_deref().filter(|r| !r.is_empty()) {
            must.push(term(f.region, r));
        }
        if let Some(t) = filters.item_type.as_deref().filter(|r| !r.is_empty()) {
            must.push(term(f.item_type, t));
        }
        if let Some(o) = filters.object.as_deref().filter(|r| !r.is_empty()) {
            must.push(term(f.object, o));
        }
        let query = BooleanQuery::new(must);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(
                &query,
                &TopDocs::with_limit(limit.max(1) * 3).order_by_score(),
            )
            .map_err(err)?;
        let name_snippets = SnippetGenerator::create(&searcher, &query, f.name).map_err(err)?;
        let material_snippets =
            SnippetGenerator::create(&searcher, &query, f.materials).map_err(err)?;
        let alias_snippets = SnippetGenerator::create(&searcher, &query, f.aliases).map_err(err)?;
        let popular = self.popularity.read().map_err(err)?;
        let mut hits = Vec::new();
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(err)?;
            let get_str = |field: Field| {
                d.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let item_id = d.get_first(f.item_id).and_then(|v| v.as_i64()).unwrap_or(0);
            let popularity = popular
                .get(&item_id)
                .copied()
                .or_else(|| d.get_first(f.popularity).and_then(|v| v.as_u64()))
                .unwrap_or(0);
            let mut snippet = name_snippets.snippet_from_doc(&d).to_html();
            if !snippet.contains("<b>") {
                let a = alias_snippets.snippet_from_doc(&d).to_html();
                let m = material_snippets.snippet_from_doc(&d).to_html();
                if a.contains("<b>") {
                    snippet = format!("又称：{a}");
                } else if m.contains("<b>") {
                    snippet = format!("{}{m}", self.body_label);
                }
            }
            if snippet.is_empty() {
                snippet = escape_html(&get_str(f.name));
            }
            hits.push(Hit {
                item_id,
                name: get_str(f.name),
                department: get_str(f.department),
                snippet_html: snippet,
                score: score * (1.0 + 0.1 * (1.0 + popularity as f32).ln()),
            });
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item_id.cmp(&b.item_id)));
        hits.truncate(limit);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> Vec<ItemDoc> {
        vec![
            ItemDoc {
                item_id: 1,
                name: "食品经营许可（新办）".into(),
                aliases: vec!["餐饮许可证".into()],
                materials: vec!["营业执照".into(), "食品安全管理制度".into()],
                department: "茂名市茂南区市场监督管理局".into(),
                department_id: 10,
                region: "440902".into(),
                item_type: "license".into(),
                objects: vec!["enterprise".into()],
                legal_basis: vec!["《中华人民共和国食品安全法》第三十五条".into()],
                popularity: 120,
            },
            ItemDoc {
                item_id: 2,
                name: "个体工商户设立登记".into(),
                aliases: vec![],
                materials: vec!["经营者身份证明".into()],
                department: "茂名市茂南区市场监督管理局".into(),
                department_id: 10,
                region: "440902".into(),
                item_type: "confirmation".into(),
                objects: vec!["person".into()],
                legal_basis: vec![],
                popularity: 3,
            },
            ItemDoc {
                item_id: 3,
                name: "公共场所卫生许可（新办）".into(),
                aliases: vec![],
                materials: vec!["营业执照".into(), "卫生检测报告".into()],
                department: "茂名市电白区卫生健康局".into(),
                department_id: 20,
                region: "440904".into(),
                item_type: "license".into(),
                objects: vec!["enterprise".into(), "person".into()],
                legal_basis: vec![],
                popularity: 0,
            },
        ]
    }

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.item_id).collect()
    }

    #[test]
    fn two_character_words_pinyin_synonyms_and_filters() {
        let ix = SearchIndex::new().unwrap();
        ix.replace_all(&docs()).unwrap();
        assert_eq!(ix.len(), 3);
        // 执照 is inside 营业执照.
        let h = ix.search("执照", &Filters::default(), 10).unwrap();
        assert_eq!(ids(&h).len(), 2);
        assert!(h[0].snippet_html.contains("<b>"));
        // Initials and full pinyin.
        assert!(ids(&ix.search("yyzz", &Filters::default(), 10).unwrap()).contains(&1));
        assert_eq!(
            ids(&ix.search("weisheng", &Filters::default(), 10).unwrap()),
            [3]
        );
        // People's words through a synonym.
        assert!(
            ix.search("开饭店", &Filters::default(), 10)
                .unwrap()
                .is_empty()
        );
        ix.set_synonyms(BTreeMap::from([(
            "饭店".to_string(),
            vec!["餐饮".to_string(), "食品经营".to_string()],
        )]));
        assert_eq!(
            ids(&ix.search("开饭店", &Filters::default(), 10).unwrap())[0],
            1
        );
        // Filters.
        let by_region = Filters {
            region_prefix: Some("440904".into()),
            ..Filters::default()
        };
        assert_eq!(ids(&ix.search("执照", &by_region, 10).unwrap()), [3]);
        let persons = Filters {
            object: Some("person".into()),
            ..Filters::default()
        };
        assert_eq!(ids(&ix.search("许可", &persons, 10).unwrap()), [3]);
        let dept = Filters {
            department_id: Some(10),
            ..Filters::default()
        };
        assert_eq!(ids(&ix.search("执照", &dept, 10).unwrap()), [1]);
        // Query syntax typed by people is not an error.
        assert!(ix.search("营业执照 AND (", &Filters::default(), 10).is_ok());
    }

    #[test]
    fn a_word_still_being_typed_finds_names_holding_its_characters() {
        let ix = SearchIndex::new().unwrap();
        ix.replace_all(&docs()).unwrap();
        assert_eq!(ids(&ix.search("食", &Filters::default(), 10).unwrap()), [1]);
        assert_eq!(
            ids(&ix.search("品经", &Filters::default(), 10).unwrap()),
            [1]
        );
        assert_eq!(
            ids(&ix.search("个体工", &Filters::default(), 10).unwrap()),
            [2]
        );
        // Whole words rank above characters: 许可 is a word of items 1 and 3, and the
        // characters 许 and 可 appear in no other name.
        let h = ix.search("卫生许可", &Filters::default(), 10).unwrap();
        assert_eq!(ids(&h)[0], 3);
        assert!(h[0].snippet_html.contains("<b>"));
        // A snippet is always there, escaped, even for a pinyin match.
        let h = ix.search("gtgsh", &Filters::default(), 10).unwrap();
        assert_eq!(ids(&h), [2]);
        assert_eq!(h[0].snippet_html, "个体工商户设立登记");
    }

    #[test]
    fn a_whole_sentence_finds_the_words_in_it() {
        let ix = SearchIndex::new().unwrap();
        ix.replace_all(&docs()).unwrap();
        let h = ix
            .search("我想问一下个体户营业执照怎么办", &Filters::default(), 10)
            .unwrap();
        assert!(ids(&h).contains(&1) && ids(&h).contains(&3), "{h:?}");
        let h = ix
            .search("公共场所卫生许可需要什么", &Filters::default(), 10)
            .unwrap();
        assert_eq!(ids(&h)[0], 3);
    }

    #[test]
    fn the_index_follows_changes() {
        let ix = SearchIndex::new().unwrap();
        ix.replace_all(&docs()).unwrap();
        let mut d = docs()[1].clone();
        d.name = "个体工商户变更登记".into();
        ix.upsert(&d).unwrap();
        assert_eq!(ix.len(), 3);
        assert_eq!(
            ids(&ix.search("变更", &Filters::default(), 10).unwrap()),
            [2]
        );
        ix.remove(2).unwrap();
        assert!(
            ix.search("变更", &Filters::default(), 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn popular_items_rank_first_among_equals() {
        let ix = SearchIndex::new().unwrap();
        let mut a = docs()[0].clone();
        a.popularity = 0;
        let mut b = a.clone();
        b.item_id = 9;
        b.popularity = 10_000;
        ix.replace_all(&[a, b]).unwrap();
        assert_eq!(
            ids(&ix.search("食品经营", &Filters::default(), 10).unwrap()),
            [9, 1]
        );
    }
}
