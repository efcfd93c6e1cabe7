use super::*;

const DEMO: &str = include_str!("../../../../server/demo/maoming.json");

fn demo() -> (Vec<BasicItem>, Vec<ItemOut>) {
    let v: serde_json::Value = serde_json::from_str(DEMO).unwrap();
    let basic: Vec<BasicItem> = serde_json::from_value(v["basic_items"].clone()).unwrap();
    let depts: BTreeMap<String, String> = v["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["key"].as_str().unwrap().to_string(),
                d["credit_code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let items = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, it)| ItemOut {
            code: format!("TEST-{i:03}"),
            basic_code: it["basic_code"].as_str().unwrap().to_string(),
            department: depts[it["department"].as_str().unwrap()].clone(),
            status: if i % 7 == 3 {
                ItemStatus::Suspended
            } else {
                ItemStatus::Active
            },
            published: i % 2 == 0,
            spec: serde_json::from_value(it["spec"].clone()).unwrap(),
        })
        .collect();
    (basic, items)
}

fn bundle() -> BundleOut {
    BundleOut {
        code: "440902-YJS-001".into(),
        region: "440902".into(),
        published: true,
        spec: BundleSpec {
            name: "开办餐馆".into(),
            description: "开一家餐馆需要的许可，一次办好".into(),
            questions: vec![
                Question {
                    key: "rooms".into(),
                    text: "是否设包间".into(),
                    options: vec!["是".into(), "否".into()],
                },
                Question {
                    key: "chain".into(),
                    text: "是否连锁".into(),
                    options: vec!["是".into(), "否".into()],
                },
            ],
            entries: vec![
                BundleEntry {
                    item_id: 1,
                    when: vec![],
                    skip_materials: vec![MaterialSkip {
                        code: "M03".into(),
                        when: vec![Condition {
                            question: "chain".into(),
                            equals: "是".into(),
                        }],
                    }],
                    after: vec![],
                },
                BundleEntry {
                    item_id: 2,
                    when: vec![Condition {
                        question: "rooms".into(),
                        equals: "是".into(),
                    }],
                    skip_materials: vec![],
                    after: vec![1],
                },
            ],
            combined_certificates: vec![CombinedCertificate {
                name: "综合许可证".into(),
                item_ids: vec![1, 2],
            }],
        },
    }
}

fn codes() -> BTreeMap<i64, String> {
    BTreeMap::from([(1, "TEST-000".to_string()), (2, "TEST-001".to_string())])
}

#[test]
fn every_demo_item_and_a_bundle_survive_a_round_trip_through_the_sheets() {
    let (basic, items) = demo();
    let wb = write_catalog(&basic, &items, &[bundle()], &codes());
    assert_eq!(
        wb.sheets
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        LAYOUT.iter().map(|l| l.name).collect::<Vec<_>>()
    );
    let back = read_catalog(&wb).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        back.basic_items
            .iter()
            .map(|(_, b)| b.clone())
            .collect::<Vec<_>>(),
        basic
    );
    assert_eq!(back.items.len(), items.len());
    for (a, b) in items.iter().zip(&back.items) {
        assert_eq!(a.spec, b.spec, "{}", a.code);
        assert_eq!(
            (&a.code, &a.basic_code, &a.department),
            (&b.code, &b.basic_code, &b.department)
        );
        assert_eq!((a.status, a.published), (b.status, b.publish));
    }
    let ids: BTreeMap<String, i64> = codes().into_iter().map(|(k, v)| (v, k)).collect();
    assert_eq!(back.bundles[0].resolve(&ids).unwrap(), bundle().spec);
    // Written again, the same workbook.
    let again: Vec<ItemOut> = back
        .items
        .iter()
        .map(|r| ItemOut {
            code: r.code.clone(),
            basic_code: r.basic_code.clone(),
            department: r.department.clone(),
            status: r.status,
            published: r.publish,
            spec: r.spec.clone(),
        })
        .collect();
    assert_eq!(write_catalog(&basic, &again, &[bundle()], &codes()), wb);
}

fn sheet_mut<'a>(wb: &'a mut Workbook, name: &str) -> &'a mut Sheet {
    wb.sheets.iter_mut().find(|s| s.name == name).unwrap()
}

fn col(name: &str, column: &str) -> usize {
    layout(name)
        .columns
        .iter()
        .position(|c| c.name == column)
        .unwrap()
}

#[test]
fn errors_in_five_rows_are_all_reported_by_cell() {
    let (basic, items) = demo();
    let mut wb = write_catalog(&basic, &items, &[], &codes());
    // Five rows broken in five ways, on three sheets.
    let it = sheet_mut(&mut wb, sheet::ITEMS);
    it.rows[0][col(sheet::ITEMS, "办件类型")] = "加急件".into();
    it.rows[1][col(sheet::ITEMS, "承诺时限")] = "三天".into();
    it.rows[2][col(sheet::ITEMS, "承诺时限")] = "999".into();
    let m = sheet_mut(&mut wb, sheet::MATERIALS);
    m.rows[3][col(sheet::MATERIALS, "材料名称")] = "其他材料".into();
    m.rows[4][col(sheet::MATERIALS, "实施编码")] = "NO-SUCH-ITEM".into();
    let e = read_catalog(&wb).unwrap_err();
    let f = e.fields();
    assert_eq!(f.len(), 5, "{e}");
    assert!(f["事项!J2"].starts_with("办件类型：须为以下之一"), "{e}");
    assert!(f["事项!L3"].contains("整数"), "{e}");
    assert!(
        f["事项!L4"].starts_with("承诺时限：承诺时限不能超过法定时限"),
        "{e}"
    );
    assert!(f["材料!C5"].contains("兜底"), "{e}");
    assert!(f["材料!A6"].contains("没有这个实施编码"), "{e}");
}

#[test]
fn unknown_sheets_and_columns_and_missing_columns_are_named() {
    let (basic, items) = demo();
    let mut wb = write_catalog(&basic, &items[..2], &[], &codes());
    wb.sheets.push(Sheet::new("Sheet1", &["a"]));
    let it = sheet_mut(&mut wb, sheet::ITEMS);
    let i = col(sheet::ITEMS, "事项名称");
    it.header[i] = "名称".into();
    let e = read_catalog(&wb).unwrap_err();
    let f = e.fields();
    assert!(f["Sheet1!A1"].contains("不认识的工作表"), "{e}");
    assert!(
        f[&format!("事项!{}1", crate::table::column_letters(i))].contains("不认识的列“名称”"),
        "{e}"
    );
    assert!(f.values().any(|v| v.contains("缺少“事项名称”列")), "{e}");
    // Nothing to import.
    let e = read_catalog(&Workbook::default()).unwrap_err();
    assert!(e.fields()["事项!A1"].contains("没有"));
}

#[test]
fn spreadsheet_numbers_labels_and_codes_are_read_alike() {
    let (basic, items) = demo();
    let mut wb = write_catalog(&basic, &items[..1], &[], &codes());
    let it = sheet_mut(&mut wb, sheet::ITEMS);
    it.rows[0][col(sheet::ITEMS, "法定时限")] = "20.0".into();
    it.rows[0][col(sheet::ITEMS, "办件类型")] = "promised".into();
    it.rows[0][col(sheet::ITEMS, "服务对象")] = "法人，自然人".into();
    it.rows[0][col(sheet::ITEMS, "可代办")] = "".into();
    let r = read_catalog(&wb).unwrap();
    assert_eq!(r.items[0].spec.legal_limit_days, 20);
    assert_eq!(r.items[0].spec.processing_type, ProcessingType::Promised);
    assert_eq!(
        r.items[0].spec.service_objects,
        [ServiceObject::Enterprise, ServiceObject::Person]
    );
    assert!(!r.items[0].spec.agent_allowed);
}

#[test]
fn a_bundle_naming_an_unknown_item_is_reported_on_its_cell() {
    let wb = write_catalog(&[], &[], &[bundle()], &codes());
    let r = read_catalog(&wb).unwrap();
    let e = r.bundles[0]
        .resolve(&BTreeMap::from([("TEST-000".to_string(), 1)]))
        .unwrap_err();
    // TEST-001 is the second entry's item and one of the combined certificate's.
    assert!(e.fields()["一件事事项!B3"].contains("TEST-001"), "{e}");
    assert!(e.fields()["多证合一!C2"].contains("TEST-001"), "{e}");
    assert_eq!(
        r.bundles[0].locate("spec.questions[1].options"),
        "一件事问题!D3"
    );
    assert_eq!(
        r.bundles[0].locate("entries[0].skip_materials[0].when"),
        "一件事免交材料!D2"
    );
    assert_eq!(r.bundles[0].locate("name"), "一件事!C2");
}

/// docs/IMPORT.md carries the layout between two markers; `TONGBAN_WRITE_DOCS=1 cargo
/// test` rewrites it from the code.
#[test]
fn docs_import_md_shows_the_layout_the_code_reads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/IMPORT.md");
    let doc = std::fs::read_to_string(path).expect("docs/IMPORT.md");
    let (begin, end) = ("<!-- layout:begin -->\n", "<!-- layout:end -->");
    let a = doc.find(begin).expect("begin marker") + begin.len();
    let b = doc.find(end).expect("end marker");
    let want = layout_markdown();
    if std::env::var("TONGBAN_WRITE_DOCS").as_deref() == Ok("1") {
        std::fs::write(path, format!("{}{want}{}", &doc[..a], &doc[b..])).unwrap();
        return;
    }
    assert_eq!(
        &doc[a..b],
        want,
        "run TONGBAN_WRITE_DOCS=1 cargo test -p tongban-core docs_import"
    );
}
