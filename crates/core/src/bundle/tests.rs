use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::catalog::{FieldKind, FormField, ItemSpec, Material, Requirement};
use crate::testing::promised_spec;

fn q(key: &str, options: &[&str]) -> Question {
    Question {
        key: key.into(),
        text: format!("{key}？"),
        options: options.iter().map(|o| o.to_string()).collect(),
    }
}

fn c(question: &str, equals: &str) -> Condition {
    Condition {
        question: question.into(),
        equals: equals.into(),
    }
}

fn entry(item_id: i64, when: Vec<Condition>, after: Vec<i64>) -> BundleEntry {
    BundleEntry {
        item_id,
        when,
        skip_materials: vec![],
        after,
    }
}

/// 开办餐馆: the food licence always; the public-place hygiene licence only with
/// private rooms; the fire inspection only above 300 m².
fn restaurant() -> BundleSpec {
    BundleSpec {
        name: "开办餐馆".into(),
        description: String::new(),
        questions: vec![
            q("private_rooms", &["是", "否"]),
            q("large", &["是", "否"]),
            q("prepackaged", &["是", "否"]),
        ],
        entries: vec![
            BundleEntry {
                item_id: 1,
                when: vec![],
                skip_materials: vec![MaterialSkip {
                    code: "M2".into(),
                    when: vec![c("prepackaged", "否")],
                }],
                after: vec![],
            },
            entry(2, vec![c("private_rooms", "是")], vec![]),
            entry(3, vec![c("large", "是")], vec![1]),
        ],
        combined_certificates: vec![],
    }
}

fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_questionnaire_decides_items_and_materials() {
    let b = restaurant();
    b.validate().unwrap();
    let small = choose(
        &b,
        &answers(&[
            ("private_rooms", "否"),
            ("large", "否"),
            ("prepackaged", "否"),
        ]),
    )
    .unwrap();
    assert_eq!(small.iter().map(|x| x.item_id).collect::<Vec<_>>(), [1]);
    assert_eq!(small[0].skipped_materials, ["M2"]);
    let big = choose(
        &b,
        &answers(&[
            ("private_rooms", "是"),
            ("large", "是"),
            ("prepackaged", "是"),
        ]),
    )
    .unwrap();
    assert_eq!(big.iter().map(|x| x.item_id).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(big[0].skipped_materials.is_empty());
    assert_eq!(big[2].after, [1]);
}

#[test]
fn missing_or_unknown_answers_are_named() {
    let b = restaurant();
    let Err(crate::Error::Validation(e)) =
        choose(&b, &answers(&[("private_rooms", "也许"), ("colour", "红")]))
    else {
        panic!("refused")
    };
    let keys: Vec<&String> = e.fields().keys().collect();
    assert_eq!(
        keys,
        [
            "answers.colour",
            "answers.large",
            "answers.prepackaged",
            "answers.private_rooms"
        ]
    );
}

#[test]
fn a_bundle_is_checked_whole() {
    let mut b = restaurant();
    b.entries[0].after = vec![3]; // 1 after 3 after 1
    b.entries[1].when = vec![c("nothing", "是")];
    b.entries[2].when = vec![c("large", "大概")];
    b.entries.push(entry(2, vec![], vec![]));
    b.combined_certificates = vec![CombinedCertificate {
        name: "".into(),
        item_ids: vec![1],
    }];
    let e = b.validate().unwrap_err();
    let keys: BTreeSet<&str> = e.fields().keys().map(|k| k.as_str()).collect();
    for k in [
        "entries",
        "entries[1].when[0].question",
        "entries[2].when[0].equals",
        "entries[3].item_id",
        "combined_certificates[0].name",
        "combined_certificates[0].item_ids",
    ] {
        assert!(keys.contains(k), "{k} in {keys:?}");
    }
    assert!(e.fields()["entries"].contains("循环"));
}

fn field(key: &str, kind: FieldKind, required: bool, options: &[&str]) -> FormField {
    FormField {
        key: key.into(),
        label: key.into(),
        kind,
        required,
        options: options.iter().map(|o| o.to_string()).collect(),
        help: String::new(),
    }
}

fn material(code: &str, name: &str, requirement: Requirement, rongque: bool) -> Material {
    let mut m = promised_spec().materials[0].clone();
    m.code = code.into();
    m.name = name.into();
    m.requirement = requirement;
    m.rongque = rongque;
    m.certificate_type = None;
    m
}

#[test]
fn shared_fields_are_asked_once_and_differences_reported() {
    let mut a = promised_spec();
    a.fields = vec![
        field("enterprise_name", FieldKind::Text, true, &[]),
        field("site_area", FieldKind::Number, false, &[]),
        field("kind", FieldKind::Choice, true, &["餐饮", "零售"]),
    ];
    let mut b = promised_spec();
    b.fields = vec![
        field("enterprise_name", FieldKind::Text, false, &[]),
        field("site_area", FieldKind::Number, true, &[]),
        field("kind", FieldKind::Choice, true, &["餐饮", "娱乐"]),
        field("seats", FieldKind::Number, true, &[]),
    ];
    let chosen = |id| Chosen {
        item_id: id,
        skipped_materials: vec![],
        after: vec![],
    };
    let m = merge(&[(chosen(1), &a), (chosen(2), &b)]);
    let keys: Vec<&str> = m.fields.iter().map(|f| f.field.key.as_str()).collect();
    assert_eq!(keys, ["enterprise_name", "site_area", "kind", "seats"]);
    assert!(m.fields.iter().all(|f| f.field.required));
    assert_eq!(m.fields[0].items, [1, 2]);
    assert_eq!(m.conflicts.len(), 1);
    assert_eq!(
        (m.conflicts[0].key.as_str(), m.conflicts[0].other_item),
        ("kind", 2)
    );
}

#[test]
fn materials_are_asked_once_with_their_marks_carried() {
    let mut a = promised_spec();
    a.materials = vec![
        material("M1", "营业执照", Requirement::Optional, false),
        material("M2", "从业人员健康证明", Requirement::Required, true),
        material("M3", "场所平面图", Requirement::Required, true),
    ];
    a.materials[0].certificate_type = Some("营业执照".into());
    let mut b = promised_spec();
    b.materials = vec![
        material("A1", " 营业执照", Requirement::Required, true),
        material("A2", "从业人员健康证明", Requirement::Required, false),
        material("A3", "场所平面图", Requirement::Optional, false),
    ];
    let chosen = |id| Chosen {
        item_id: id,
        skipped_materials: vec![],
        after: vec![],
    };
    let m = merge(&[(chosen(1), &a), (chosen(2), &b)]);
    assert_eq!(m.materials.len(), 3);
    let licence = &m.materials[0];
    assert!(licence.required, "required by the second item");
    assert!(licence.rongque, "the only item needing it allows 容缺");
    assert_eq!(licence.certificate_type.as_deref(), Some("营业执照"));
    assert_eq!(licence.sources.len(), 2);
    assert!(
        !m.materials[1].rongque,
        "one of the items needing it does not allow 容缺"
    );
    assert!(
        m.materials[2].rongque,
        "an item listing it as optional does not veto 容缺"
    );
}

// ---- properties ----

const KEYS: [&str; 6] = ["name", "phone", "address", "area", "kind", "seats"];
const NAMES: [&str; 6] = [
    "营业执照",
    "身份证",
    "平面图",
    "健康证明",
    "租赁合同",
    "申请表",
];

fn arb_kind() -> impl Strategy<Value = FieldKind> {
    prop_oneof![
        Just(FieldKind::Text),
        Just(FieldKind::Number),
        Just(FieldKind::Choice),
    ]
}

fn arb_spec() -> impl Strategy<Value = ItemSpec> {
    (
        proptest::collection::btree_map(
            0..KEYS.len(),
            (arb_kind(), any::<bool>(), 0..2usize),
            0..5,
        ),
        proptest::collection::btree_map(0..NAMES.len(), (0..3u8, any::<bool>()), 1..5),
    )
        .prop_map(|(fields, materials)| {
            let mut s = promised_spec();
            s.fields = fields
                .into_iter()
                .map(|(k, (kind, req, opt))| {
                    let opts: &[&str] = if kind == FieldKind::Choice {
                        [&["甲", "乙"][..], &["甲", "丙"][..]][opt]
                    } else {
                        &[]
                    };
                    field(KEYS[k], kind, req, opts)
                })
                .collect();
            s.materials = materials
                .into_iter()
                .enumerate()
                .map(|(i, (n, (r, rq)))| {
                    let req = match r {
                        0 => Requirement::Required,
                        1 => Requirement::Optional,
                        _ => Requirement::Conditional {
                            condition: "委托他人代办的".into(),
                            when: None,
                        },
                    };
                    material(&format!("M{i}"), NAMES[n], req, rq)
                })
                .collect();
            s
        })
}

proptest! {
    #[test]
    fn the_merge_asks_each_field_once_and_keeps_every_requirement(
        specs in proptest::collection::vec(arb_spec(), 1..5),
        skips in proptest::collection::vec(proptest::collection::vec(0..5usize, 0..2), 5),
    ) {
        let chosen: Vec<(Chosen, &ItemSpec)> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let skipped = skips[i]
                    .iter()
                    .filter_map(|j| s.materials.get(*j).map(|m| m.code.clone()))
                    .collect();
                (Chosen { item_id: i as i64 + 1, skipped_materials: skipped, after: vec![] }, s)
            })
            .collect();
        let m = merge(&chosen);
        // No field asked twice; no material asked twice.
        let keys: Vec<&String> = m.fields.iter().map(|f| &f.field.key).collect();
        let distinct: BTreeSet<&String> = keys.iter().copied().collect();
        prop_assert_eq!(keys.len(), distinct.len());
        let names: BTreeSet<&String> = m.materials.iter().map(|x| &x.name).collect();
        prop_assert_eq!(names.len(), m.materials.len());
        for (c, s) in &chosen {
            // Every required field of every chosen item is there, required.
            for f in s.fields.iter().filter(|f| f.required) {
                let got = m.fields.iter().find(|g| g.field.key == f.key);
                prop_assert!(got.is_some_and(|g| g.field.required && g.items.contains(&c.item_id)));
            }
            // Every material not skipped is represented exactly once, and a required one
            // stays required; a skipped one is not asked for that item.
            for x in &s.materials {
                let n = m.materials.iter().flat_map(|y| y.sources.iter())
                    .filter(|src| src.item_id == c.item_id && src.code == x.code).count();
                if c.skipped_materials.contains(&x.code) {
                    prop_assert_eq!(n, 0);
                } else {
                    prop_assert_eq!(n, 1);
                    if matches!(x.requirement, Requirement::Required) {
                        let y = m.materials.iter().find(|y| y.name == x.name.trim()).unwrap();
                        prop_assert!(y.required);
                        if !x.rongque { prop_assert!(!y.rongque); }
                    }
                }
            }
        }
        // A conflict is reported exactly when two items define a key differently.
        for key in KEYS {
            let defs: Vec<&FormField> = chosen.iter().flat_map(|(_, s)| s.fields.iter()).filter(|f| f.key == key).collect();
            let differ = defs.windows(2).any(|w| w[0].kind != w[1].kind || (w[0].kind == FieldKind::Choice && w[0].options != w[1].options))
                || defs.iter().any(|d| d.kind != defs[0].kind || (d.kind == FieldKind::Choice && d.options != defs[0].options));
            prop_assert_eq!(differ, m.conflicts.iter().any(|x| x.key == key), "key {}", key);
        }
        // Deterministic.
        prop_assert_eq!(merge(&chosen), m);
    }

    #[test]
    fn the_questionnaire_is_a_function_of_the_answers(a in 0..2usize, b in 0..2usize, p in 0..2usize) {
        let spec = restaurant();
        let yes_no = ["是", "否"];
        let ans = answers(&[("private_rooms", yes_no[a]), ("large", yes_no[b]), ("prepackaged", yes_no[p])]);
        let one = choose(&spec, &ans).unwrap();
        prop_assert_eq!(&choose(&spec, &ans).unwrap(), &one);
        let ids: Vec<i64> = one.iter().map(|x| x.item_id).collect();
        prop_assert!(ids.contains(&1));
        prop_assert_eq!(ids.contains(&2), a == 0);
        prop_assert_eq!(ids.contains(&3), b == 0);
        prop_assert_eq!(one[0].skipped_materials.is_empty(), p == 0);
        // An item waits only for items that were chosen.
        for x in &one {
            prop_assert!(x.after.iter().all(|d| ids.contains(d)));
        }
    }
}
