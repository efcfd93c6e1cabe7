//! Spreadsheet downloads: the bytes with a type and a file name browsers keep (Chinese
//! names included, as RFC 6266 `filename*`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tongban_core::Error;
use tongban_core::table::{Sheet, Workbook};
use tongban_sheets::Format;

/// A file to download.
pub fn attachment(bytes: Vec<u8>, name: &str, mime: &str) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A workbook as a download in `format`, named `stem` + the day + extension.
pub fn workbook(
    wb: &Workbook,
    format: Format,
    stem: &str,
    day: chrono::NaiveDate,
) -> Result<Response, Error> {
    let bytes = tongban_sheets::write(wb, format).map_err(Error::Store)?;
    Ok(attachment(
        bytes,
        &format!("{stem}-{}.{}", day.format("%Y%m%d"), format.extension()),
        format.mime(),
    ))
}

/// One sheet as an XLSX download.
pub fn sheet_xlsx(s: Sheet, stem: &str, day: chrono::NaiveDate) -> Result<Response, Error> {
    workbook(&Workbook { sheets: vec![s] }, Format::Xlsx, stem, day)
}

/// A format named in a request (`xlsx`, `zip` for a ZIP of CSVs).
pub fn format_param(v: Option<&str>) -> Result<Format, Error> {
    match v.unwrap_or("xlsx") {
        "xlsx" => Ok(Format::Xlsx),
        "zip" | "csv" => Ok(Format::CsvZip),
        _ => Err(Error::field(
            "format",
            "格式须为 xlsx 或 zip（每个工作表一个 CSV）",
        )),
    }
}
