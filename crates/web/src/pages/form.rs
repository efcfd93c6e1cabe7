//! Forms posted by the pages: URL-encoded or multipart (with uploads), read only
//! after the CSRF token is checked; and the Chinese names of the fields for messages.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header;
use tongban_core::Error;

use super::{PageError, SignedIn, Viewer};
use crate::files::MAX_FILE_BYTES;
use crate::state::AppState;

/// Most files in one form.
pub const MAX_FILES: usize = 20;

/// One uploaded file in a form.
pub struct Upload {
    /// The form field.
    pub field: String,
    /// The name the browser gave.
    pub name: String,
    /// The content.
    pub bytes: Bytes,
}

/// A form's values and files.
#[derive(Default)]
pub struct FormData {
    /// Text fields in order (a name may repeat).
    pub fields: Vec<(String, String)>,
    /// Files (empty file inputs are left out).
    pub files: Vec<Upload>,
}

impl FormData {
    /// The first value of `k`, trimmed ("" when absent).
    pub fn text(&self, k: &str) -> String {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The first value of `k`, trimmed, if present and not empty.
    pub fn opt(&self, k: &str) -> Option<String> {
        Some(self.text(k)).filter(|v| !v.is_empty())
    }

    /// Every value of `k`.
    pub fn all(&self, k: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    /// Fields named `prefix<suffix>`: (suffix, value), non-empty values only.
    pub fn prefixed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.fields.iter().filter_map(move |(n, v)| {
            n.strip_prefix(prefix)
                .map(|k| (k, v.trim()))
                .filter(|(_, v)| !v.is_empty())
        })
    }
}

/// A form posted by a signed-in user, its CSRF token checked.
pub struct PageForm {
    /// Who posted it.
    pub viewer: Viewer,
    /// What was posted.
    pub data: FormData,
}

impl FromRequest<AppState> for PageForm {
    type Rejection = PageError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let SignedIn(viewer) = SignedIn::from_request_parts(&mut parts, s).await?;
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let req = Request::from_parts(parts, body);
        let mut data = FormData::default();
        if multipart {
            let mut m = Multipart::from_request(req, s)
                .await
                .map_err(|_| Error::field("form", "表单格式有误，请刷新页面后重试"))?;
            loop {
                let field = match m.next_field().await {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => {
                        return Err(too_large_or_bad(&e.body_text()).into());
                    }
                };
                let name = field.name().unwrap_or("").to_string();
                match field.file_name().map(str::to_string) {
                    Some(file_name) => {
                        let bytes = field
                            .bytes()
                            .await
                            .map_err(|e| too_large_or_bad(&e.body_text()))?;
                        if bytes.is_empty() && file_name.is_empty() {
                            continue; // a file input left empty
                        }
                        if bytes.len() > MAX_FILE_BYTES {
                            return Err(
                                Error::field(name, "文件过大，单个文件不得超过 10 MB").into()
                            );
                        }
                        if data.files.len() >= MAX_FILES {
                            return Err(Error::field(name, "一次最多上传 20 个文件").into());
                        }
                        data.files.push(Upload {
                            field: name,
                            name: file_name,
                            bytes,
                        });
                    }
                    None => {
                        let text = field
                            .text()
                            .await
                            .map_err(|e| too_large_or_bad(&e.body_text()))?;
                        data.fields.push((name, text));
                    }
                }
            }
        } else {
            let bytes = Bytes::from_request(req, s)
                .await
                .map_err(|e| too_large_or_bad(&e.body_text()))?;
            data.fields = form_urlencoded::parse(&bytes).into_owned().collect();
        }
        if data.text("_csrf") != viewer.csrf {
            return Err(Error::forbidden(
                "页面已过期或来源不明（CSRF 校验未通过），请刷新页面后重试",
            )
            .into());
        }
        Ok(PageForm { viewer, data })
    }
}

fn too_large_or_bad(detail: &str) -> Error {
    if detail.contains("length limit") || detail.contains("too large") {
        Error::field("form", "提交的内容过大（合计不得超过 50 MB）")
    } else {
        Error::field("form", "表单内容不完整，请刷新页面后重试")
    }
}

/// The Chinese name of a field path, for messages.
pub fn field_label(path: &str) -> String {
    let known = [
        ("applicant.identifier", "证件号码"),
        ("applicant.name", "申请人姓名/名称"),
        ("applicant.phone", "联系电话"),
        ("applicant.kind", "申请人类型"),
        ("applicant.legal_representative", "法定代表人"),
        ("applicant", "申请人"),
        ("authorization", "委托书编号"),
        ("rongque_due", "容缺补交期限"),
        ("reason", "理由"),
        ("legal_basis", "法律依据"),
        ("opinion", "意见"),
        ("days", "延长天数"),
        ("procedure", "特别程序"),
        ("items", "需补正的内容"),
        ("number", "证照编号/文号"),
        ("valid_until", "有效期至"),
        ("summary", "结果摘要"),
        ("signed_by", "签收人"),
        ("signer_id_number", "签收人身份证号码"),
        ("carrier", "邮寄单位"),
        ("tracking_number", "邮件号"),
        ("commitment", "容缺承诺"),
        ("username", "用户名"),
        ("password", "密码"),
        ("spec", "事项内容"),
        ("form", "表单"),
        ("materials", "申请材料"),
    ];
    if let Some(k) = path.strip_prefix("form.") {
        return format!("表单项“{k}”");
    }
    for (k, label) in known {
        if path == k {
            return label.to_string();
        }
    }
    for (k, label) in known {
        if path.starts_with(k) {
            return format!("{label}（{path}）");
        }
    }
    path.to_string()
}
