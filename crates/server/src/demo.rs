//! The demo county: 茂名市 with 茂南区 and 电白区, their departments, halls, 49 real
//! items, one account per role and a few cases in flight. Loaded on an empty database
//! through the same use cases the API uses, so it passes every rule a real import would.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use tongban_core::actor::{Actor, Role};
use tongban_core::calendar::Calendar;
use tongban_core::case::{
    Action, ApplicantInput, ApplicantKind, Application, Channel, MaterialInput, MaterialLine,
};
use tongban_core::catalog::{BasicItem, ItemSpec, Requirement};
use tongban_core::org::{Account, NewDepartment};
use tongban_core::region::{Region, RegionCode};
use tongban_core::store::{NewWindow, Tx};
use tongban_core::usecase::Env;
use tongban_core::usecase::cases::{act, receive_case};
use tongban_core::usecase::catalog::{NewItem, create_basic_item, create_item, publish};
use tongban_core::usecase::org::{
    NewHall, NewRegion, NewStaff, Registration, create_department, create_hall, create_region,
    create_staff, register,
};
use tongban_core::{Error, Result};

/// The demo data file.
pub(crate) const DATA: &str = include_str!("../demo/maoming.json");

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "Tongban2026";

#[derive(Deserialize)]
struct Data {
    regions: Vec<RegionRow>,
    departments: Vec<DeptRow>,
    halls: Vec<HallRow>,
    basic_items: Vec<BasicItem>,
    items: Vec<ItemRow>,
}

#[derive(Deserialize)]
struct RegionRow {
    code: String,
    name: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
struct DeptRow {
    key: String,
    name: String,
    short_name: String,
    credit_code: String,
    region: String,
}

#[derive(Deserialize)]
struct HallRow {
    name: String,
    region: String,
    address: String,
    phone: String,
    department: String,
    windows: Vec<NewWindow>,
}

#[derive(Deserialize)]
struct ItemRow {
    basic_code: String,
    department: String,
    spec: ItemSpec,
}

/// A demo staff account.
struct StaffSeed {
    username: &'static str,
    name: &'static str,
    role: Role,
    department: &'static str,
    region: Option<&'static str>,
    /// A window of the 茂南 hall.
    window: Option<&'static str>,
    immediate: &'static [&'static str],
    description: &'static str,
}

const fn staff(
    username: &'static str,
    name: &'static str,
    role: Role,
    department: &'static str,
    description: &'static str,
) -> StaffSeed {
    StaffSeed {
        username,
        name,
        role,
        department,
        region: None,
        window: None,
        immediate: &[],
        description,
    }
}

/// One account per role (DOMAIN §1), in 茂名市 and 茂南区.
const STAFF: &[StaffSeed] = &[
    staff(
        "catalog",
        "王事项",
        Role::CatalogAdmin,
        "city-zwfw",
        "茂名市政数局 事项管理员",
    ),
    StaffSeed {
        window: Some("综合受理1号窗口"),
        immediate: &["mn-scjg", "mn-wjj", "mn-zjj", "mn-zrzy", "mn-rsj", "mn-gaj"],
        ..staff(
            "clerk",
            "李晓华",
            Role::AcceptanceClerk,
            "mn-zwfw",
            "茂南区政务服务中心 综合受理1号窗口（即办件已授权）",
        )
    },
    StaffSeed {
        window: Some("综合出件窗口"),
        ..staff(
            "issuer",
            "陈出件",
            Role::IssuanceClerk,
            "mn-zwfw",
            "茂南区政务服务中心 综合出件窗口",
        )
    },
    staff(
        "reviewer",
        "赵审查",
        Role::DeptReviewer,
        "mn-scjg",
        "茂南区市场监管局 审查员",
    ),
    staff(
        "approver",
        "钱科长",
        Role::DeptApprover,
        "mn-scjg",
        "茂南区市场监管局 审批人",
    ),
    staff(
        "wjj-reviewer",
        "孙卫健",
        Role::DeptApprover,
        "mn-wjj",
        "茂南区卫健局 审批人",
    ),
    staff(
        "supervisor",
        "周监察",
        Role::Supervisor,
        "city-zwfw",
        "茂名市 效能监察",
    ),
    staff(
        "operator",
        "吴话务",
        Role::HotlineOperator,
        "city-zwfw",
        "12345 话务员",
    ),
    staff(
        "unit",
        "郑承办",
        Role::HandlingUnit,
        "mn-wjj",
        "茂南区卫健局 承办单位",
    ),
    staff(
        "unit-zjj",
        "钱住建",
        Role::HandlingUnit,
        "mn-zjj",
        "茂南区住建局 承办单位（路灯、环卫）",
    ),
    StaffSeed {
        region: Some("440902100218"),
        ..staff(
            "agent",
            "冯代办",
            Role::Agent,
            "mn-zwfw",
            "金塘镇牙象村 代办员",
        )
    },
];

/// A demo account, as printed at start-up.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Who, where.
    pub description: String,
}

/// The demo person (a valid resident ID number).
pub const DEMO_PERSON_ID: &str = "440902199003153219";
/// The demo enterprise (a valid credit code).
pub const DEMO_ENTERPRISE_CODE: &str = "91440902MA4W5X7Q7W";

fn err(e: impl std::fmt::Display) -> Error {
    Error::Store(format!("demo data: {e}"))
}

/// True when the database has no regions yet (a fresh install).
pub fn is_empty(tx: &mut dyn Tx) -> Result<bool> {
    Ok(tx.regions(None)?.is_empty())
}

/// Load the demo county. `hash` is the PHC string of [`DEMO_PASSWORD`].
pub fn load(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    cal: &Calendar,
    hash: &str,
) -> Result<Vec<DemoAccount>> {
    let data: Data = serde_json::from_str(DATA).map_err(err)?;
    let env = Env { now, cal };

    // The top region and the first administrator are the bootstrap; everything else
    // goes through the use cases as that administrator.
    let top = data
        .regions
        .iter()
        .find(|r| r.parent.is_none())
        .ok_or_else(|| err("no top region"))?;
    let top_code = RegionCode::parse(&top.code).map_err(err)?;
    tx.insert_region(&Region {
        level: top_code.level(),
        code: top_code.clone(),
        name: top.name.clone(),
        parent: None,
    })?;
    let province_admin = Actor {
        region: Some(top_code),
        ..Actor::system()
    };
    let province_admin = Actor {
        role: Role::SysAdmin,
        name: "安装程序".into(),
        ..province_admin
    };
    for r in data.regions.iter().filter(|r| r.parent.is_some()) {
        create_region(
            tx,
            &province_admin,
            &NewRegion {
                code: r.code.clone(),
                name: r.name.clone(),
                parent: r.parent.clone().unwrap_or_default(),
            },
        )?;
    }
    let mut dept = BTreeMap::new();
    for d in &data.departments {
        let made = create_department(
            tx,
            &province_admin,
            &NewDepartment {
                name: d.name.clone(),
                short_name: d.short_name.clone(),
                credit_code: d.credit_code.clone(),
                region: d.region.clone(),
            },
        )?;
        dept.insert(d.key.clone(), made.id);
    }
    let id_of = |k: &str| {
        dept.get(k)
            .copied()
            .ok_or_else(|| err(format!("unknown department {k}")))
    };
    let mut windows = BTreeMap::new();
    for h in &data.halls {
        let made = create_hall(
            tx,
            &province_admin,
            &NewHall {
                name: h.name.clone(),
                region: h.region.clone(),
                address: h.address.clone(),
                phone: h.phone.clone(),
                department_id: id_of(&h.department)?,
                windows: h.windows.clone(),
            },
        )?;
        for w in made.windows {
            windows.insert((h.name.clone(), w.name.clone()), w.id);
        }
    }

    // The city's system administrator: the first account.
    let mut admin = Account {
        id: 0,
        username: "admin".into(),
        name: "系统管理员".into(),
        role: Role::SysAdmin,
        department_id: Some(id_of("city-zwfw")?),
        region: Some(RegionCode::parse("440900").map_err(err)?),
        applicant_id: None,
        window_id: None,
        immediate_departments: vec![],
        password_hash: hash.to_string(),
        active: true,
        created_at: now,
    };
    admin.id = tx.insert_account(&admin)?;
    let admin = admin.actor();
    let mut accounts = vec![DemoAccount {
        username: "admin".into(),
        role: Role::SysAdmin,
        description: "茂名市 系统管理员".into(),
    }];

    let hall_mn = "茂名市茂南区政务服务中心";
    let win = |h: &str, w: &str| windows.get(&(h.to_string(), w.to_string())).copied();
    let mut by_name = BTreeMap::new();
    for st in STAFF {
        let imm: Vec<i64> = st
            .immediate
            .iter()
            .map(|k| id_of(k))
            .collect::<Result<_>>()?;
        let made = create_staff(
            tx,
            &admin,
            &env,
            &NewStaff {
                username: st.username.into(),
                name: st.name.into(),
                role: st.role,
                department_id: id_of(st.department)?,
                region: st.region.map(str::to_string),
                window_id: st.window.and_then(|w| win(hall_mn, w)),
                immediate_departments: imm,
                password: DEMO_PASSWORD.into(),
            },
            hash,
        )?;
        by_name.insert(st.username, made.actor());
        accounts.push(DemoAccount {
            username: st.username.into(),
            role: st.role,
            description: st.description.into(),
        });
    }

    // The catalog, published.
    let catalog = by_name
        .get("catalog")
        .cloned()
        .ok_or_else(|| err("catalog admin"))?;
    for b in &data.basic_items {
        create_basic_item(tx, &catalog, b)?;
    }
    let mut items = BTreeMap::new();
    for i in &data.items {
        let made = create_item(
            tx,
            &catalog,
            &env,
            &NewItem {
                basic_code: i.basic_code.clone(),
                department_id: id_of(&i.department)?,
                code: None,
                spec: i.spec.clone(),
            },
        )?;
        publish(tx, &catalog, &env, made.item.id)?;
        items.insert(
            (i.department.clone(), i.spec.name.clone()),
            (made.item.id, i.spec.clone()),
        );
    }

    // 一件事一次办: three real bundles of 茂南区, published.
    let item_id = |dept: &str, name: &str| {
        items
            .get(&(dept.to_string(), name.to_string()))
            .map(|(id, _)| *id)
            .ok_or_else(|| err(format!("bundle item {dept} {name}")))
    };
    for spec in demo_bundles(&item_id)? {
        let made = tongban_core::usecase::bundles::create_bundle(
            tx,
            &catalog,
            &env,
            &tongban_core::usecase::bundles::NewBundle {
                code: spec.0.into(),
                region: "440902".into(),
                spec: spec.1,
            },
        )?;
        tongban_core::usecase::bundles::publish_bundle(tx, &catalog, &env, made.bundle.id)?;
    }

    // 同义词: the words people use for what the catalog calls otherwise.
    let synonyms = [
        ("饭店", &["餐饮", "食品经营"][..]),
        ("餐馆", &["餐饮", "食品经营"]),
        ("小卖部", &["食品经营", "个体工商户"]),
        ("开店", &["个体工商户", "营业执照"]),
        ("开公司", &["企业设立", "营业执照"]),
        ("生孩子", &["出生", "新生儿"]),
        ("上户口", &["户口", "出生登记"]),
        ("买房", &["不动产", "转移登记"]),
        ("卖房", &["不动产", "转移登记"]),
        ("社保", &["社会保障", "社会保险"]),
    ];
    tongban_core::usecase::search::save_synonyms(
        tx,
        &catalog,
        &env,
        &tongban_core::usecase::search::Synonyms {
            synonyms: synonyms
                .iter()
                .map(|(t, w)| (t.to_string(), w.iter().map(|x| x.to_string()).collect()))
                .collect(),
        },
    )?;

    // 12345: the centre's region, the dispatch catalogue, a few knowledge-base answers,
    // and an Open311 key for trying the GeoReport API.
    let operator = by_name
        .get("operator")
        .cloned()
        .ok_or_else(|| err("operator"))?;
    demo_hotline(tx, &admin, &operator, &env, &id_of)?;

    // Two applicants with accounts.
    let (person, _) = register(
        tx,
        &env,
        &Registration {
            kind: ApplicantKind::Person,
            identifier: DEMO_PERSON_ID.into(),
            name: "张伟".into(),
            phone: "13800138000".into(),
            legal_representative: None,
            password: DEMO_PASSWORD.into(),
        },
        hash,
    )?;
    accounts.push(DemoAccount {
        username: DEMO_PERSON_ID.into(),
        role: Role::Applicant,
        description: "申请人 张伟（自然人）".into(),
    });
    register(
        tx,
        &env,
        &Registration {
            kind: ApplicantKind::Enterprise,
            identifier: DEMO_ENTERPRISE_CODE.into(),
            name: "茂名市好味餐饮管理有限公司".into(),
            phone: "0668-2281234".into(),
            legal_representative: Some("张伟".into()),
            password: DEMO_PASSWORD.into(),
        },
        hash,
    )?;
    accounts.push(DemoAccount {
        username: DEMO_ENTERPRISE_CODE.into(),
        role: Role::Applicant,
        description: "申请人 茂名市好味餐饮管理有限公司（法人）".into(),
    });

    // A few cases in flight, so that every role's inbox has something in it.
    let clerk = by_name.get("clerk").cloned().ok_or_else(|| err("clerk"))?;
    let reviewer = by_name
        .get("reviewer")
        .cloned()
        .ok_or_else(|| err("reviewer"))?;
    let food = items
        .get(&("mn-scjg".to_string(), "食品经营许可（新办）".to_string()))
        .cloned()
        .ok_or_else(|| err("food item"))?;
    let enterprise = ApplicantInput {
        kind: ApplicantKind::Enterprise,
        identifier: DEMO_ENTERPRISE_CODE.into(),
        name: "茂名市好味餐饮管理有限公司".into(),
        phone: "0668-2281234".into(),
        legal_representative: Some("张伟".into()),
    };
    let earlier = Env {
        now: now - Duration::days(3),
        cal,
    };
    let received = receive_case(
        tx,
        &clerk,
        &earlier,
        &full_application(food.0, &food.1, Channel::Window, enterprise.clone()),
    )?;
    let accepted = receive_case(
        tx,
        &clerk,
        &earlier,
        &full_application(food.0, &food.1, Channel::Window, enterprise),
    )?;
    act(tx, &reviewer, &earlier, accepted.id, &Action::Accept, None)?;
    let _ = (received, person);
    Ok(accounts)
}

/// The demo Open311 `api_key` (for trying the API; issue real ones with
/// `POST /api/v1/admin/open311-keys`).
pub const DEMO_OPEN311_KEY: &str = "demo-open311-key-maoming";

fn demo_hotline(
    tx: &mut dyn Tx,
    admin: &tongban_core::actor::Actor,
    operator: &tongban_core::actor::Actor,
    env: &Env,
    id_of: &dyn Fn(&str) -> Result<i64>,
) -> Result<()> {
    use tongban_core::hotline::OrderType;
    use tongban_core::hotline::kb::{ArticleInput, Attribute, Datatype};
    use tongban_core::usecase::hotline::{
        CategoryInput, HotlineSettings, create_category, save_article, save_settings,
    };
    save_settings(
        tx,
        admin,
        env,
        &HotlineSettings {
            region: "440900".into(),
            deadlines: Default::default(),
            hours: Default::default(),
        },
    )?;
    let cat = |code: &str,
               name: &str,
               group: &str,
               t: OrderType,
               unit: Option<&str>,
               keywords: &[&str],
               attributes: Vec<Attribute>|
     -> Result<CategoryInput> {
        Ok(CategoryInput {
            code: code.into(),
            name: name.into(),
            description: format!("{name}类诉求"),
            group: group.into(),
            default_type: t,
            unit: unit.map(id_of).transpose()?,
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            attributes,
            active: true,
        })
    };
    let light_attrs = vec![
        Attribute {
            code: "pole".into(),
            description: "灯杆编号（灯杆上的喷码）".into(),
            datatype: Datatype::String,
            required: true,
            values: vec![],
        },
        Attribute {
            code: "kind".into(),
            description: "故障情况".into(),
            datatype: Datatype::Singlevaluelist,
            required: false,
            values: vec![
                ("off".into(), "不亮".into()),
                ("flicker".into(), "闪烁".into()),
                ("day".into(), "白天常亮".into()),
            ],
        },
    ];
    let mut ids = Vec::new();
    for c in [
        cat(
            "road-light",
            "路灯故障",
            "城市管理",
            OrderType::Report,
            Some("mn-zjj"),
            &["路灯", "灯不亮"],
            light_attrs,
        )?,
        cat(
            "sanitation",
            "环境卫生",
            "城市管理",
            OrderType::Request,
            Some("mn-zjj"),
            &["垃圾", "清运", "卫生"],
            vec![],
        )?,
        cat(
            "food-safety",
            "食品安全",
            "市场监管",
            OrderType::Complaint,
            Some("mn-scjg"),
            &["餐馆", "过期", "食物中毒"],
            vec![],
        )?,
        cat(
            "medical",
            "医疗卫生服务",
            "卫生健康",
            OrderType::Complaint,
            Some("mn-wjj"),
            &["医院", "诊所", "医生"],
            vec![],
        )?,
        cat(
            "noise",
            "噪音扰民",
            "社会治安",
            OrderType::Complaint,
            Some("mn-gaj"),
            &["噪音", "广场舞", "施工"],
            vec![],
        )?,
        cat(
            "policy",
            "政策咨询",
            "政务服务",
            OrderType::Consultation,
            None,
            &["怎么办", "需要什么材料"],
            vec![],
        )?,
    ] {
        ids.push(create_category(tx, operator, &c)?.id);
    }
    let day = env.today();
    for (title, keywords, body, cat) in [
        (
            "居住证怎么办理",
            &["居住证", "暂住证"][..],
            "在茂名居住满半年、有合法稳定就业或住所的，可携带居民身份证、租房合同或单位证明，到居住地派出所或政务服务中心公安窗口申领居住证，也可在“粤省事”小程序网上申请，一般 15 个工作日内发证。",
            5,
        ),
        (
            "新生儿入户需要哪些材料",
            &["新生儿", "上户口", "出生登记"],
            "凭《出生医学证明》、父母双方居民身份证、户口簿和结婚证，到父亲或母亲户口所在地派出所办理出生登记；也可通过“一件事一次办”的“新生儿出生”一次办好出生登记、医保参保和社保卡申领。",
            5,
        ),
        (
            "开餐馆要办哪些证",
            &["开饭店", "餐饮", "食品经营许可"],
            "开办餐馆一般需要营业执照和食品经营许可证，设有包间等公共场所的还需公共场所卫生许可，面积较大的需消防验收。可在政务服务中心“一件事一次办”窗口选择“开办餐馆”一次申请。",
            5,
        ),
        (
            "路灯不亮怎么报修",
            &["路灯", "报修"],
            "请告知路灯所在道路和灯杆上的编号，12345 将派单给住建部门，一般 3 个工作日内修复。",
            0,
        ),
    ] {
        save_article(
            tx,
            operator,
            env,
            None,
            &ArticleInput {
                title: title.into(),
                keywords: keywords.iter().map(|k| k.to_string()).collect(),
                body: body.into(),
                category_id: ids.get(cat).copied(),
                valid_from: day,
                valid_until: None,
            },
            None,
        )?;
    }
    tongban_core::usecase::hotline::add_open311_key(
        tx,
        admin,
        env,
        "演示客户端",
        &tongban_web::auth::token_hash(DEMO_OPEN311_KEY),
    )?;
    Ok(())
}

fn yes_no(key: &str, text: &str) -> tongban_core::bundle::Question {
    tongban_core::bundle::Question {
        key: key.into(),
        text: text.into(),
        options: vec!["是".into(), "否".into()],
    }
}

fn when(question: &str, equals: &str) -> Vec<tongban_core::bundle::Condition> {
    vec![tongban_core::bundle::Condition {
        question: question.into(),
        equals: equals.into(),
    }]
}

/// The demo's bundles: 开办餐馆, 新生儿出生, 二手房买卖 (茂南区).
fn demo_bundles(
    item_id: &dyn Fn(&str, &str) -> Result<i64>,
) -> Result<Vec<(&'static str, tongban_core::bundle::BundleSpec)>> {
    use tongban_core::bundle::{BundleEntry, BundleSpec, MaterialSkip};
    let food = item_id("mn-scjg", "食品经营许可（新办）")?;
    let hygiene = item_id("mn-wjj", "公共场所卫生许可（新办）")?;
    let fire = item_id("mn-zjj", "特殊建设工程消防验收")?;
    let birth = item_id("mn-gaj", "出生登记（新生儿入户）")?;
    let fertility = item_id("mn-wjj", "生育登记")?;
    let card = item_id("mn-rsj", "社会保障卡申领")?;
    let transfer = item_id("mn-zrzy", "国有建设用地使用权及房屋所有权转移登记")?;
    let mortgage = item_id("mn-zrzy", "不动产抵押权首次登记")?;
    let entry = |item_id, when, after| BundleEntry {
        item_id,
        when,
        skip_materials: vec![],
        after,
    };
    Ok(vec![
        (
            "440902-YJS-001",
            BundleSpec {
                name: "开办餐馆".into(),
                description: "餐饮服务经营者开业：食品经营许可，设有包间、歌舞等公共场所的办理卫生许可，大型场所的消防验收，一次申请、并联审批、统一出件。".into(),
                questions: vec![
                    yes_no("public_place", "是否设有包间、歌舞厅等公共场所？"),
                    yes_no("large_site", "经营场所建筑面积是否超过 1000 平方米？"),
                    yes_no("existing_layout", "是否沿用已备案的经营布局和操作流程（连锁门店）？"),
                ],
                entries: vec![
                    BundleEntry {
                        item_id: food,
                        when: vec![],
                        skip_materials: vec![MaterialSkip {
                            code: "M03".into(),
                            when: when("existing_layout", "是"),
                        }],
                        after: vec![],
                    },
                    entry(hygiene, when("public_place", "是"), vec![]),
                    entry(fire, when("large_site", "是"), vec![]),
                ],
                combined_certificates: vec![],
            },
        ),
        (
            "440902-YJS-002",
            BundleSpec {
                name: "新生儿出生".into(),
                description: "新生儿出生后的入户、生育登记和社会保障卡申领，一次办好。".into(),
                questions: vec![
                    yes_no("fertility_registered", "孕期是否已办理生育登记？"),
                    yes_no("social_card", "是否为新生儿申领社会保障卡？"),
                ],
                entries: vec![
                    entry(birth, vec![], vec![]),
                    entry(fertility, when("fertility_registered", "否"), vec![]),
                    // The card needs the child's registered residence (户口) first.
                    entry(card, when("social_card", "是"), vec![birth]),
                ],
                combined_certificates: vec![],
            },
        ),
        (
            "440902-YJS-003",
            BundleSpec {
                name: "二手房买卖".into(),
                description: "存量房转移登记；贷款购房的同时办理抵押登记（转移登记后办理）。".into(),
                questions: vec![yes_no("loan", "是否贷款购房？")],
                entries: vec![
                    entry(transfer, vec![], vec![]),
                    entry(mortgage, when("loan", "是"), vec![transfer]),
                ],
                combined_certificates: vec![],
            },
        ),
    ])
}

/// An application for `spec` that hands in every material and fills every required field.
pub fn full_application(
    item_id: i64,
    spec: &ItemSpec,
    channel: Channel,
    applicant: ApplicantInput,
) -> Application {
    let mut form = BTreeMap::new();
    for f in spec.fields.iter().filter(|f| f.required) {
        let v = match f.kind {
            tongban_core::catalog::FieldKind::Choice => {
                f.options.first().cloned().unwrap_or_default()
            }
            tongban_core::catalog::FieldKind::YesNo => "false".into(),
            tongban_core::catalog::FieldKind::Number => "100".into(),
            tongban_core::catalog::FieldKind::Date => "2026-12-01".into(),
            tongban_core::catalog::FieldKind::IdNumber => DEMO_PERSON_ID.into(),
            tongban_core::catalog::FieldKind::CreditCode => DEMO_ENTERPRISE_CODE.into(),
            tongban_core::catalog::FieldKind::Phone => "13800138000".into(),
            tongban_core::catalog::FieldKind::Text | tongban_core::catalog::FieldKind::Address => {
                "茂名市茂南区油城五路 88 号".into()
            }
        };
        form.insert(f.key.clone(), v);
    }
    let materials = spec
        .materials
        .iter()
        .filter(|m| matches!(m.requirement, Requirement::Required))
        .map(|m| MaterialLine {
            code: m.code.clone(),
            input: MaterialInput::Provided {
                electronic: false,
                files: vec![],
            },
        })
        .collect();
    Application {
        item_id,
        channel,
        form,
        materials,
        rongque_due: None,
        submit: true,
        authorization: None,
        applicant: Some(applicant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_store::Backend;
    use tongban_store::testing::fresh;

    #[test]
    fn the_demo_loads_through_the_use_cases_on_an_empty_database() {
        let t = fresh(Backend::Sqlite).unwrap();
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, 1, 0, 0).unwrap();
        let accounts =
            t.db.write_blocking(move |tx| {
                let cal = Calendar::builtin();
                load(
                    tx,
                    now,
                    &cal,
                    "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
                )
            })
            .unwrap();
        let roles: std::collections::BTreeSet<Role> = accounts.iter().map(|a| a.role).collect();
        for r in Role::ASSIGNABLE {
            assert!(roles.contains(&r), "no demo account for {r:?}");
        }
        let (items, regions) =
            t.db.read_blocking(|tx| {
                Ok((
                    tx.items(&tongban_core::store::ItemFilter {
                        published_only: true,
                        limit: 200,
                        ..Default::default()
                    })?
                    .len(),
                    tx.regions(None)?.len(),
                ))
            })
            .unwrap();
        assert!(items >= 30, "{items} items");
        assert!(regions >= 5);
    }
}
