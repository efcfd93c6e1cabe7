//! The Maoming demo data (`crates/server/demo/maoming.json`) is loaded into the core types
//! and checked the way the platform would check an administrator's input: regions sit
//! under their parents, credit codes pass GB 32100, halls belong to real departments,
//! every implementation item passes `ItemSpec::validate`, and the catalog as a whole meets
//! the seed targets (即办件 ≥ 1/3, 最多跑一次 ≥ 85 %).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;
use tongban_core::catalog::{BasicItem, FieldKind, ItemSpec, ProcessingType, Requirement};
use tongban_core::identity::{CreditCode, Phone};
use tongban_core::region::RegionCode;

const DEMO: &str = include_str!("../../server/demo/maoming.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    regions: Vec<DemoRegion>,
    departments: Vec<DemoDepartment>,
    halls: Vec<DemoHall>,
    basic_items: Vec<BasicItem>,
    items: Vec<DemoItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRegion {
    code: String,
    name: String,
    parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoDepartment {
    key: String,
    name: String,
    short_name: String,
    credit_code: String,
    region: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoHall {
    name: String,
    region: String,
    address: String,
    phone: String,
    department: String,
    windows: Vec<DemoWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoWindow {
    name: String,
    kind: String,
    #[serde(default)]
    theme: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoItem {
    basic_code: String,
    department: String,
    spec: ItemSpec,
}

/// The three levels of the demo and the region each one's departments sit in.
const LEVELS: [(&str, &str); 3] = [("city", "440900"), ("mn", "440902"), ("db", "440904")];
/// The department kinds that implement items (the `zwfw` bureau runs the halls).
const ITEM_KINDS: [&str; 6] = ["scjg", "wjj", "zjj", "zrzy", "rsj", "gaj"];
const ALL_KINDS: [&str; 7] = ["zwfw", "scjg", "wjj", "zjj", "zrzy", "rsj", "gaj"];

fn demo() -> Demo {
    serde_json::from_str(DEMO).unwrap_or_else(|e| panic!("maoming.json does not load: {e}"))
}

fn region_code(s: &str, what: &str) -> RegionCode {
    RegionCode::parse(s).unwrap_or_else(|e| panic!("{what}: region code {s:?} is invalid: {e}"))
}

/// The level part of a department key (`mn-scjg` → `mn`) and the kind part (`scjg`).
fn split_key(key: &str) -> (&str, &str) {
    key.split_once('-')
        .unwrap_or_else(|| panic!("department key {key:?} is not `level-kind`"))
}

#[test]
fn every_region_code_parses_and_sits_under_its_parent() {
    let d = demo();
    let mut codes = BTreeMap::new();
    for r in &d.regions {
        assert!(!r.name.trim().is_empty(), "region {} has no name", r.code);
        let code = region_code(&r.code, &r.name);
        assert!(
            codes.insert(r.code.clone(), code).is_none(),
            "region code {} appears twice",
            r.code
        );
    }
    let roots: Vec<_> = d.regions.iter().filter(|r| r.parent.is_none()).collect();
    assert_eq!(roots.len(), 1, "exactly one top region, got {roots:?}");
    for r in &d.regions {
        let Some(parent) = &r.parent else { continue };
        let parent_code = codes.get(parent).unwrap_or_else(|| {
            panic!(
                "region {} {} names parent {parent}, which is not listed",
                r.code, r.name
            )
        });
        codes[&r.code]
            .check_parent(parent_code)
            .unwrap_or_else(|e| panic!("region {} {} under {parent}: {e}", r.code, r.name));
    }
}

#[test]
fn the_demo_covers_five_levels_with_towns_and_villages_under_both_districts() {
    let d = demo();
    let codes: Vec<_> = d
        .regions
        .iter()
        .map(|r| region_code(&r.code, &r.name))
        .collect();
    for county in ["440902", "440904"] {
        let county = region_code(county, "county");
        let towns: Vec<_> = codes
            .iter()
            .filter(|c| c.as_str().len() == 9 && county.contains(c))
            .collect();
        assert!(
            towns.len() >= 2,
            "county {county} needs at least 2 towns, has {towns:?}"
        );
        for town in towns {
            let villages = codes
                .iter()
                .filter(|c| c.as_str().len() == 12 && town.contains(c))
                .count();
            assert!(
                villages >= 1,
                "town {town} needs at least one village or community"
            );
        }
    }
}

#[test]
fn every_department_has_a_valid_unique_credit_code_in_an_existing_region() {
    let d = demo();
    let regions: BTreeSet<_> = d.regions.iter().map(|r| r.code.as_str()).collect();
    let mut codes = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for dep in &d.departments {
        assert!(
            keys.insert(dep.key.as_str()),
            "department key {} appears twice",
            dep.key
        );
        assert!(
            !dep.name.trim().is_empty() && !dep.short_name.trim().is_empty(),
            "department {} needs a name and a short name",
            dep.key
        );
        let cc = CreditCode::parse(&dep.credit_code).unwrap_or_else(|e| {
            panic!(
                "{} ({}): credit code {} is invalid: {e}",
                dep.name, dep.key, dep.credit_code
            )
        });
        assert!(
            cc.as_str().starts_with("11"),
            "{}: a government body's credit code starts with 11, got {}",
            dep.name,
            cc.as_str()
        );
        assert_eq!(
            cc.region_part(),
            dep.region,
            "{}: the credit code's region part must be the department's region",
            dep.name
        );
        assert!(
            codes.insert(cc.as_str().to_string()),
            "{}: credit code {} is used twice",
            dep.name,
            dep.credit_code
        );
        assert!(
            regions.contains(dep.region.as_str()),
            "{}: region {} is not in the demo's regions",
            dep.name,
            dep.region
        );
        let (level, kind) = split_key(&dep.key);
        let expected_region = LEVELS
            .iter()
            .find(|(l, _)| *l == level)
            .unwrap_or_else(|| panic!("{}: unknown level {level:?}", dep.key))
            .1;
        assert_eq!(
            dep.region, expected_region,
            "{}: level {level} lives in {expected_region}",
            dep.key
        );
        assert!(
            ALL_KINDS.contains(&kind),
            "{}: unknown department kind {kind:?}",
            dep.key
        );
    }
    for (level, _) in LEVELS {
        for kind in ALL_KINDS {
            let key = format!("{level}-{kind}");
            assert!(keys.contains(key.as_str()), "department {key} is missing");
        }
    }
}

#[test]
fn every_hall_sits_in_its_departments_region_and_has_the_windows_it_needs() {
    let d = demo();
    let regions: BTreeSet<_> = d.regions.iter().map(|r| r.code.as_str()).collect();
    let deps: BTreeMap<_, _> = d.departments.iter().map(|x| (x.key.as_str(), x)).collect();
    let mut names = BTreeSet::new();
    for h in &d.halls {
        assert!(
            names.insert(h.name.as_str()),
            "hall {} appears twice",
            h.name
        );
        assert!(
            !h.address.trim().is_empty(),
            "hall {} has no address",
            h.name
        );
        Phone::parse(&h.phone)
            .unwrap_or_else(|e| panic!("hall {}: phone {:?} is invalid: {e}", h.name, h.phone));
        assert!(
            regions.contains(h.region.as_str()),
            "hall {}: region {} not listed",
            h.name,
            h.region
        );
        let dep = deps.get(h.department.as_str()).unwrap_or_else(|| {
            panic!(
                "hall {}: department {} does not exist",
                h.name, h.department
            )
        });
        assert!(
            h.department.ends_with("-zwfw"),
            "hall {} is run by the 政务服务数据管理局, not {}",
            h.name,
            h.department
        );
        let dep_region = region_code(&dep.region, &dep.name);
        let hall_region = region_code(&h.region, &h.name);
        assert!(
            dep_region.contains(&hall_region),
            "hall {} in {} is outside its department's region {}",
            h.name,
            h.region,
            dep.region
        );
        assert!(!h.windows.is_empty(), "hall {} has no windows", h.name);
        let mut window_names = BTreeSet::new();
        for w in &h.windows {
            assert!(
                window_names.insert(w.name.as_str()),
                "hall {}: window {} twice",
                h.name,
                w.name
            );
            match w.kind.as_str() {
                "themed" => assert!(
                    w.theme.as_deref().is_some_and(|t| !t.trim().is_empty()),
                    "hall {}: themed window {} needs a theme",
                    h.name,
                    w.name
                ),
                "acceptance" | "issuance" | "professional" => assert!(
                    w.theme.is_none(),
                    "hall {}: only themed windows carry a theme ({})",
                    h.name,
                    w.name
                ),
                other => panic!(
                    "hall {}: window {} has unknown kind {other:?}",
                    h.name, w.name
                ),
            }
        }
        if hall_region.as_str().len() == 6 {
            for kind in ["acceptance", "issuance", "themed", "professional"] {
                assert!(
                    h.windows.iter().any(|w| w.kind == kind),
                    "政务服务中心 {} needs a {kind} window",
                    h.name
                );
            }
        } else {
            assert!(
                h.windows.iter().any(|w| w.kind == "acceptance"),
                "便民服务中心 {} needs an acceptance window",
                h.name
            );
        }
    }
    for (_, region) in LEVELS {
        assert!(
            d.halls.iter().any(|h| h.region == region),
            "no 政务服务中心 in region {region}"
        );
    }
    assert!(
        d.halls.iter().any(|h| h.region.len() == 9),
        "the demo needs a town-level 便民服务中心"
    );
}

#[test]
fn every_basic_item_validates_and_has_a_unique_code() {
    let d = demo();
    let mut codes = BTreeSet::new();
    for b in &d.basic_items {
        if let Err(e) = b.validate() {
            panic!("basic item {} ({}) is invalid: {e}", b.name, b.code);
        }
        assert!(
            codes.insert(b.code.as_str()),
            "basic code {} is used twice",
            b.code
        );
        assert!(
            d.items.iter().any(|i| i.basic_code == b.code),
            "basic item {} ({}) is implemented nowhere",
            b.name,
            b.code
        );
    }
}

#[test]
fn every_demo_item_passes_catalog_validation() {
    let d = demo();
    let deps: BTreeSet<_> = d.departments.iter().map(|x| x.key.as_str()).collect();
    let basics: BTreeSet<_> = d.basic_items.iter().map(|b| b.code.as_str()).collect();
    let mut failures = Vec::new();
    for it in &d.items {
        let s = &it.spec;
        assert!(
            deps.contains(it.department.as_str()),
            "{}: department {} does not exist",
            s.name,
            it.department
        );
        assert!(
            !it.department.ends_with("-zwfw"),
            "{}: items are implemented by line departments, not the 政务服务数据管理局",
            s.name
        );
        assert!(
            basics.contains(it.basic_code.as_str()),
            "{}: basic code {} does not exist",
            s.name,
            it.basic_code
        );
        if let Err(e) = s.validate() {
            failures.push(format!("{} @ {}: {e}", s.name, it.department));
        }
        assert!(
            !s.location.trim().is_empty(),
            "{}: 办理地点 is empty",
            s.name
        );
        Phone::parse(&s.phone)
            .unwrap_or_else(|e| panic!("{}: phone {:?} is invalid: {e}", s.name, s.phone));
    }
    assert!(
        failures.is_empty(),
        "items failing ItemSpec::validate:\n{}",
        failures.join("\n")
    );
}

/// Keys in `orig` that the typed value dropped (ignored by serde): a typo in the demo file.
fn ignored_keys(orig: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
    match (orig, typed) {
        (Value::Object(o), Value::Object(t)) => {
            for (k, v) in o {
                let p = format!("{path}.{k}");
                match t.get(k) {
                    Some(tv) => ignored_keys(v, tv, &p, out),
                    None => {
                        let empty = matches!(v, Value::Null)
                            || v.as_array().is_some_and(|a| a.is_empty())
                            || v.as_str().is_some_and(|s| s.is_empty());
                        if !empty {
                            out.push(p);
                        }
                    }
                }
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            for (i, (ov, tv)) in o.iter().zip(t).enumerate() {
                ignored_keys(ov, tv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_demo_file_has_no_keys_the_item_spec_silently_ignores() {
    let raw: Value = serde_json::from_str(DEMO).expect("maoming.json is JSON");
    let d = demo();
    let mut out = Vec::new();
    for (i, (orig, it)) in raw["items"]
        .as_array()
        .expect("items array")
        .iter()
        .zip(&d.items)
        .enumerate()
    {
        let typed = serde_json::to_value(&it.spec).expect("ItemSpec serializes");
        ignored_keys(&orig["spec"], &typed, &format!("items[{i}].spec"), &mut out);
    }
    assert!(
        out.is_empty(),
        "keys ItemSpec does not know (typos?): {out:?}"
    );
}

#[test]
fn the_catalog_meets_the_seed_targets_for_immediate_items_and_visits() {
    let d = demo();
    let n = d.items.len();
    assert!(n >= 36, "the demo needs at least 36 items, has {n}");
    let immediate = d
        .items
        .iter()
        .filter(|i| i.spec.processing_type == ProcessingType::Immediate)
        .count();
    assert!(
        immediate * 3 >= n,
        "即办件 must be at least 1/3 of items: {immediate} of {n}"
    );
    let at_most_once = d.items.iter().filter(|i| i.spec.visits <= 1).count();
    assert!(
        at_most_once * 100 >= n * 85,
        "最多跑一次 must be at least 85 %: {at_most_once} of {n}"
    );
}

#[test]
fn items_are_spread_over_every_department_kind_and_level() {
    let d = demo();
    for kind in ITEM_KINDS {
        let count = d
            .items
            .iter()
            .filter(|i| split_key(&i.department).1 == kind)
            .count();
        assert!(
            count >= 2,
            "department kind {kind} needs at least 2 items, has {count}"
        );
    }
    for (level, _) in LEVELS {
        let count = d
            .items
            .iter()
            .filter(|i| split_key(&i.department).0 == level)
            .count();
        assert!(count >= 1, "level {level} implements no item");
    }
    let mut depts_per_basic: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in &d.items {
        depts_per_basic
            .entry(&i.basic_code)
            .or_default()
            .insert(&i.department);
    }
    assert!(
        depts_per_basic.values().any(|s| s.len() >= 2),
        "some basic item should be implemented by two departments"
    );
}

#[test]
fn enough_items_use_rongque_and_machine_checked_conditional_materials() {
    let d = demo();
    let rongque = d
        .items
        .iter()
        .filter(|i| i.spec.materials.iter().any(|m| m.rongque))
        .count();
    assert!(
        rongque >= 8,
        "at least 8 items need a 容缺 material, have {rongque}"
    );
    let ruled = d
        .items
        .iter()
        .filter(|i| {
            i.spec.materials.iter().any(|m| {
                matches!(
                    &m.requirement,
                    Requirement::Conditional { when: Some(_), .. }
                )
            })
        })
        .count();
    assert!(
        ruled >= 5,
        "at least 5 items need a conditional material with a rule, have {ruled}"
    );
}

#[test]
fn shared_field_keys_mean_the_same_thing_in_every_item() {
    let d = demo();
    let mut seen: BTreeMap<&str, (FieldKind, &str, &str)> = BTreeMap::new();
    for i in &d.items {
        for f in &i.spec.fields {
            match seen.get(f.key.as_str()) {
                None => {
                    seen.insert(&f.key, (f.kind, &f.label, &i.spec.name));
                }
                Some((kind, label, first)) => {
                    assert_eq!(
                        (*kind, *label),
                        (f.kind, f.label.as_str()),
                        "field {} differs between {first} and {}",
                        f.key,
                        i.spec.name
                    );
                }
            }
        }
    }
    for key in [
        "applicant_name",
        "id_number",
        "phone",
        "by_agent",
        "enterprise_name",
        "credit_code",
    ] {
        let users = d
            .items
            .iter()
            .filter(|i| i.spec.fields.iter().any(|f| f.key == key))
            .count();
        assert!(
            users >= 2,
            "field {key} should be shared by several items, used by {users}"
        );
    }
}
