//! Printable notices (文书), A4 with print CSS: 收件通知书, 受理通知书, 补齐补正通知书,
//! 不予受理通知书, 容缺受理承诺书, 送达回执. Each carries the case number, dates and
//! deadlines, the department, and a QR code (SVG) of the case's public tracking page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use qrcode::QrCode;
use qrcode::render::svg;
use tongban_core::Error;
use tongban_core::case::{CommitmentStatus, Delivery, MaterialStatus, NoticeKind};
use tongban_core::usecase::cases::get_case;

use super::{PageResult, SignedIn, date, render, time};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    title: String,
    number: String,
    addressee: String,
    paragraphs: Vec<String>,
    table_title: String,
    table: Vec<(String, String)>,
    signatures: Vec<String>,
    issued: String,
    qr: String,
    track_url: String,
}

/// A notice's title, paragraphs, table (title and rows) and signature lines.
type Parts = (
    &'static str,
    Vec<String>,
    &'static str,
    Vec<(String, String)>,
    Vec<String>,
);

/// The QR code of `text` as an SVG element.
pub fn qr_svg(text: &str) -> String {
    QrCode::new(text.as_bytes())
        .map(|c| {
            c.render::<svg::Color>()
                .min_dimensions(110, 110)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default()
}

/// One notice of a case.
pub async fn notice(
    State(s): State<AppState>,
    SignedIn(v): SignedIn,
    headers: HeaderMap,
    Path((id, kind)): Path<(i64, String)>,
) -> PageResult {
    let a = v.actor.clone();
    let yellow = s.settings.yellow_days;
    let (cv, dept) = s
        .read(move |tx, env| {
            let cv = get_case(tx, &a, env, id, yellow)?;
            let d = tx.department(cv.case.department_id)?;
            Ok((cv, d))
        })
        .await?;
    let c = &cv.case;
    let department = dept.map(|d| d.name).unwrap_or_default();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let track_url = format!("http://{host}/track/{}", c.number.as_str());
    let addressee = format!("{}：", c.applicant.name);
    let received = c
        .received_at
        .map(|t| date(tongban_core::time::china_date(t)));
    let missing = || Error::NotFound { entity: "文书" };
    let materials_table = || -> Vec<(String, String)> {
        c.materials
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    match &m.status {
                        MaterialStatus::Provided {
                            electronic: true, ..
                        } => "已提交（电子）".to_string(),
                        MaterialStatus::Provided { .. } => "已提交（纸质）".to_string(),
                        MaterialStatus::Shared { certificate_no } => {
                            format!("免提交（电子证照 {certificate_no}）")
                        }
                        MaterialStatus::Rongque => "容缺后补".to_string(),
                        MaterialStatus::NotProvided => "未提交".to_string(),
                    },
                )
            })
            .collect()
    };
    let mut on = c.updated_at;
    let (title, paragraphs, table_title, table, signatures): Parts = match kind.as_str() {
        "receipt" => {
            let received = received.clone().ok_or_else(missing)?;
            on = c.received_at.unwrap_or(on);
            let acceptance = c.clocks.acceptance.as_ref().map(|k| date(k.deadline));
            (
                "收件通知书",
                vec![
                    format!(
                        "你（单位）于 {received} 提交的“{}”申请材料已收到，办件编号为 {}。",
                        c.item_name,
                        c.number.as_str()
                    ),
                    match acceptance {
                        Some(d) => format!(
                            "本机关将在 {d} 前作出是否受理的决定；材料不全或不符合法定形式的，将一次性告知需补正的全部内容。"
                        ),
                        None => "本事项为即办件，当场办理。".to_string(),
                    },
                    "可扫描右下方二维码或凭办件编号查询办理进度。".to_string(),
                ],
                "收取材料清单",
                materials_table(),
                vec!["收件人（签名）：".into(), "申请人（签名）：".into()],
            )
        }
        "acceptance" => {
            let accepted = c.accepted_at.ok_or_else(missing)?;
            on = accepted;
            let due = c
                .clocks
                .promised
                .as_ref()
                .map(|k| date(k.deadline))
                .unwrap_or_default();
            (
                "受理通知书",
                vec![
                    format!(
                        "你（单位）于 {} 提出的“{}”申请，经审查，申请材料齐全、符合法定形式，本机关决定予以受理。",
                        received.clone().unwrap_or_default(),
                        c.item_name
                    ),
                    format!(
                        "受理日期：{}。本机关承诺在 {} 前作出决定（现场踏勘、专家评审、听证等特别程序所需时间不计算在内）。",
                        date(tongban_core::time::china_date(accepted)),
                        due
                    ),
                ],
                "",
                vec![],
                vec![],
            )
        }
        "correction" => {
            let n = c
                .notices
                .iter()
                .rev()
                .find(|n| n.kind == NoticeKind::Correction)
                .ok_or_else(missing)?;
            on = n.issued_at;
            (
                "补齐补正材料通知书",
                vec![
                    format!(
                        "你（单位）于 {} 提出的“{}”申请（办件编号 {}），经审查，申请材料不齐全或者不符合法定形式。",
                        received.clone().unwrap_or_default(),
                        c.item_name,
                        c.number.as_str()
                    ),
                    "现一次性告知需补齐补正的全部内容如下，请补正后再次提交。补正期间不计算在承诺时限内。".to_string(),
                ],
                "需补齐补正的内容",
                n.items
                    .iter()
                    .map(|i| {
                        let name = c
                            .materials
                            .iter()
                            .find(|m| m.code == i.target)
                            .map(|m| m.name.clone())
                            .unwrap_or_else(|| i.target.trim_start_matches("form.").to_string());
                        (name, i.problem.clone())
                    })
                    .collect(),
                vec![],
            )
        }
        "refusal" => {
            let r = c.refusal.as_ref().ok_or_else(missing)?;
            on = r.at;
            (
                "不予受理通知书",
                vec![
                    format!(
                        "你（单位）于 {} 提出的“{}”申请（办件编号 {}），经审查，本机关决定不予受理。",
                        received.clone().unwrap_or_default(),
                        c.item_name,
                        c.number.as_str()
                    ),
                    format!("理由：{}", r.reason),
                    format!("依据：{}", r.legal_basis),
                    "如不服本决定，可以自收到本通知书之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。".to_string(),
                ],
                "",
                vec![],
                vec![],
            )
        }
        "commitment" => {
            let k = c.commitments.first().ok_or_else(missing)?;
            on = k.signed_at;
            let names: Vec<String> = k
                .materials
                .iter()
                .map(|code| {
                    c.materials
                        .iter()
                        .find(|m| &m.code == code)
                        .map(|m| m.name.clone())
                        .unwrap_or_else(|| code.clone())
                })
                .collect();
            (
                "容缺受理承诺书",
                vec![
                    format!(
                        "本人（单位）申请办理“{}”（办件编号 {}），因下列次要材料暂缺，申请容缺受理。",
                        c.item_name,
                        c.number.as_str()
                    ),
                    format!(
                        "本人（单位）承诺于 {} 前补交下列材料，并对所提交材料的真实性负责。逾期未补交的，同意按规定终止或暂停办理，并记入信用记录。",
                        date(k.due)
                    ),
                    match k.status {
                        CommitmentStatus::Open => String::new(),
                        CommitmentStatus::Fulfilled => {
                            "（已于期限内补交，承诺已销号。）".to_string()
                        }
                        CommitmentStatus::Breached => "（逾期未补交，已记为失信。）".to_string(),
                    },
                ],
                "容缺材料",
                names
                    .into_iter()
                    .map(|n| (n, format!("{} 前补交", date(k.due))))
                    .collect(),
                vec!["承诺人（签名/盖章）：".into(), "受理人（签名）：".into()],
            )
        }
        "delivery" => {
            let d = c.delivery.as_ref().ok_or_else(missing)?;
            on = match d {
                Delivery::Pickup { at, .. } => *at,
                Delivery::Post { posted_at, .. } => *posted_at,
            };
            let result = c
                .result
                .as_ref()
                .map(|r| format!("{} {}", r.title, r.number))
                .unwrap_or_default();
            let (how, when, who) = match d {
                Delivery::Pickup {
                    signed_by,
                    signer_id,
                    at,
                } => (
                    "窗口领取".to_string(),
                    time(*at),
                    format!(
                        "{signed_by}{}",
                        signer_id
                            .as_ref()
                            .map(|i| format!("（{i}）"))
                            .unwrap_or_default()
                    ),
                ),
                Delivery::Post {
                    carrier,
                    tracking_number,
                    posted_at,
                    ..
                } => (
                    format!("邮寄（{carrier} {tracking_number}）"),
                    time(*posted_at),
                    String::new(),
                ),
            };
            (
                "送达回执",
                vec![format!(
                    "办件编号 {} “{}”的办理结果已送达。",
                    c.number.as_str(),
                    c.item_name
                )],
                "",
                vec![
                    ("送达文书".into(), result),
                    ("送达方式".into(), how),
                    ("送达时间".into(), when),
                    ("受送达人".into(), who),
                ],
                vec!["受送达人（签名）：".into(), "送达人（签名）：".into()],
            )
        }
        _ => return Err(Error::NotFound { entity: "文书" }.into()),
    };
    Ok(render(&NoticePage {
        title: title.into(),
        number: c.number.as_str().into(),
        addressee,
        paragraphs: paragraphs.into_iter().filter(|p| !p.is_empty()).collect(),
        table_title: table_title.into(),
        table,
        signatures,
        issued: format!(
            "{}　{}",
            department,
            date(tongban_core::time::china_date(on))
        ),
        qr: qr_svg(&track_url),
        track_url,
    }))
}
