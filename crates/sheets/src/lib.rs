//! Spreadsheet files to and from [`Workbook`]s: XLSX (read with calamine, written with
//! rust_xlsxwriter), a ZIP of one CSV per sheet, or one CSV (one sheet).
//!
//! What a bureau's files look like in practice is handled here: a CSV saved by Excel on
//! a Chinese Windows is GB18030 (GBK) without a byte-order mark, and one saved as
//! "CSV UTF-8" starts with one; a ZIP made by Windows' Explorer names its entries in GBK;
//! numbers typed into Excel come back as decimals (`5.0`); the old binary `.xls` is
//! refused with a hint to save as `.xlsx`. CSV is written as UTF-8 with a byte-order
//! mark so that Excel opens it right.

use std::io::{Cursor, Read, Write};

use calamine::{Data, Reader};
use tongban_core::table::{Sheet, Workbook};

/// A file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML workbook.
    Xlsx,
    /// A ZIP holding one `<sheet>.csv` per sheet.
    CsvZip,
    /// One CSV file: one sheet.
    Csv,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::CsvZip => "zip",
            Format::Csv => "csv",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::CsvZip => "application/zip",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Why a file could not be read (in Chinese, for the person who sent it).
pub type SheetsError = String;

/// The largest file accepted (after decompression, per sheet and in all).
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;
/// The most rows of one sheet.
pub const MAX_ROWS: usize = 200_000;

/// Tell a file's format from its first bytes.
pub fn detect(bytes: &[u8]) -> Result<Format, SheetsError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 后再上传".into());
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|_| "文件已损坏：不是有效的 ZIP/XLSX 文件".to_string())?;
        let xlsx = zip
            .file_names()
            .any(|n| n.is_ok_and(|n| n == "[Content_Types].xml"));
        return Ok(if xlsx { Format::Xlsx } else { Format::CsvZip });
    }
    if bytes.is_empty() {
        return Err("文件是空的".into());
    }
    if bytes.contains(&0) {
        return Err("不认识的文件格式：请上传 .xlsx、.csv 或装有 .csv 的 .zip".into());
    }
    Ok(Format::Csv)
}

/// Read a file. A single CSV becomes the sheet `csv_sheet` (e.g. the file's name
/// without `.csv`).
pub fn read(bytes: &[u8], csv_sheet: &str) -> Result<Workbook, SheetsError> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!("文件超过 {} MB", MAX_BYTES / 1024 / 1024));
    }
    match detect(bytes)? {
        Format::Xlsx => read_xlsx(bytes),
        Format::CsvZip => read_csv_zip(bytes),
        Format::Csv => Ok(Workbook {
            sheets: vec![read_csv(csv_sheet, bytes)?],
        }),
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono_midnight() => t.date().to_string(),
            Some(t) => t.to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn chrono_midnight() -> chrono::NaiveTime {
    chrono::NaiveTime::MIN
}

/// Drop empty cells at the ends of rows and empty rows at the end of a sheet.
fn tidy(mut grid: Vec<Vec<String>>) -> Vec<Vec<String>> {
    for r in &mut grid {
        while r.last().is_some_and(|c| c.trim().is_empty()) {
            r.pop();
        }
    }
    while grid.last().is_some_and(|r| r.is_empty()) {
        grid.pop();
    }
    grid
}

fn sheet_of(name: &str, grid: Vec<Vec<String>>) -> Result<Sheet, SheetsError> {
    let mut grid = tidy(grid);
    if grid.len() > MAX_ROWS + 1 {
        return Err(format!("工作表“{name}”超过 {MAX_ROWS} 行"));
    }
    let header = if grid.is_empty() {
        vec![]
    } else {
        grid.remove(0)
    };
    Ok(Sheet {
        name: name.trim().to_string(),
        header: header.into_iter().map(|h| h.trim().to_string()).collect(),
        rows: grid,
    })
}

fn read_xlsx(bytes: &[u8]) -> Result<Workbook, SheetsError> {
    let mut wb =
        calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("无法读取 XLSX 文件：{e}"))?;
    let mut sheets = Vec::new();
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| format!("无法读取工作表“{name}”：{e}"))?;
        let mut grid = Vec::new();
        if let Some((end_r, end_c)) = range.end() {
            if end_r as usize > MAX_ROWS + 1 {
                return Err(format!("工作表“{name}”超过 {MAX_ROWS} 行"));
            }
            // The range starts at the first cell holding something; rows and columns
            // are counted from A1 all the same.
            for r in 0..=end_r {
                let row: Vec<String> = (0..=end_c)
                    .map(|c| range.get_value((r, c)).map(cell_text).unwrap_or_default())
                    .collect();
                grid.push(row);
            }
        }
        sheets.push(sheet_of(&name, grid)?);
    }
    Ok(Workbook { sheets })
}

/// Text of a file that may be UTF-8 (with or without a byte-order mark) or GB18030.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// Read one CSV as the sheet `name`.
pub fn read_csv(name: &str, bytes: &[u8]) -> Result<Sheet, SheetsError> {
    let text = decode(bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("“{name}”第 {} 行无法读取：{e}", i + 1))?;
        grid.push(rec.iter().map(str::to_string).collect());
        if grid.len() > MAX_ROWS + 1 {
            return Err(format!("工作表“{name}”超过 {MAX_ROWS} 行"));
        }
    }
    sheet_of(name, grid)
}

fn entry_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(raw).0.into_owned(),
    }
}

fn read_csv_zip(bytes: &[u8]) -> Result<Workbook, SheetsError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| "文件已损坏：不是有效的 ZIP 文件".to_string())?;
    let mut sheets = Vec::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| format!("ZIP 中第 {} 个文件无法读取：{e}", i + 1))?;
        let name = entry_name(f.name_raw());
        let base = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
        if f.is_dir() || base.starts_with('.') || name.starts_with("__MACOSX") {
            continue;
        }
        let Some(stem) = base
            .strip_suffix(".csv")
            .or_else(|| base.strip_suffix(".CSV"))
        else {
            return Err(format!("ZIP 中的“{name}”不是 .csv 文件"));
        };
        let mut buf = Vec::new();
        f.by_ref()
            .take(MAX_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("“{name}”无法解压：{e}"))?;
        total += buf.len() as u64;
        if total > MAX_BYTES {
            return Err(format!("解压后超过 {} MB", MAX_BYTES / 1024 / 1024));
        }
        sheets.push(read_csv(stem, &buf)?);
    }
    if sheets.is_empty() {
        return Err("ZIP 中没有 .csv 文件".into());
    }
    Ok(Workbook { sheets })
}

/// Write one sheet as CSV: UTF-8 with a byte-order mark, CRLF line ends.
pub fn write_csv(s: &Sheet) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let _ = w.write_record(&s.header);
        for r in &s.rows {
            let _ = w.write_record(r);
        }
        let _ = w.flush();
    }
    out
}

/// Write a workbook as a ZIP of one CSV per sheet.
pub fn write_csv_zip(wb: &Workbook) -> Result<Vec<u8>, SheetsError> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for s in &wb.sheets {
        z.start_file(format!("{}.csv", s.name), opts)
            .map_err(|e| e.to_string())?;
        z.write_all(&write_csv(s)).map_err(|e| e.to_string())?;
    }
    Ok(z.finish().map_err(|e| e.to_string())?.into_inner())
}

/// A cell written as a number in XLSX: short integers without a leading zero (longer
/// digit strings, such as ID numbers and credit codes, stay text: a spreadsheet would
/// round them).
fn as_number(v: &str) -> Option<f64> {
    if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if v.len() > 1 && v.starts_with('0') {
        return None;
    }
    v.parse().ok()
}

/// Write a workbook as XLSX: a bold, frozen header row, readable column widths,
/// wrapped multi-line cells.
pub fn write_xlsx(wb: &Workbook) -> Result<Vec<u8>, SheetsError> {
    use rust_xlsxwriter::{Format as Fmt, Workbook as Xw};
    let mut x = Xw::new();
    let bold = Fmt::new().set_bold().set_background_color(0xDDEBF7);
    let wrap = Fmt::new().set_text_wrap();
    for s in &wb.sheets {
        let ws = x.add_worksheet();
        ws.set_name(&s.name).map_err(|e| e.to_string())?;
        let mut widths: Vec<usize> = s.header.iter().map(|h| h.chars().count() * 2 + 2).collect();
        for (c, h) in s.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(|e| e.to_string())?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            let rr = (r + 1) as u32;
            for (c, v) in row.iter().enumerate() {
                let cc = c as u16;
                if widths.len() <= c {
                    widths.resize(c + 1, 8);
                }
                let longest = v.lines().map(|l| l.chars().count()).max().unwrap_or(0);
                widths[c] = widths[c].max((longest * 2).min(60));
                if v.is_empty() {
                    continue;
                }
                let r = match as_number(v) {
                    Some(n) => ws.write_number(rr, cc, n).map(|_| ()),
                    None if v.contains('\n') => {
                        ws.write_string_with_format(rr, cc, v, &wrap).map(|_| ())
                    }
                    None => ws.write_string(rr, cc, v).map(|_| ()),
                };
                r.map_err(|e| e.to_string())?;
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w).clamp(8, 60) as f64)
                .map_err(|e| e.to_string())?;
        }
        ws.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    }
    x.save_to_buffer().map_err(|e| e.to_string())
}

/// Write a workbook in a format.
pub fn write(wb: &Workbook, f: Format) -> Result<Vec<u8>, SheetsError> {
    match f {
        Format::Xlsx => write_xlsx(wb),
        Format::CsvZip => write_csv_zip(wb),
        Format::Csv => Ok(wb.sheets.first().map(write_csv).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> Workbook {
        Workbook {
            sheets: vec![
                Sheet {
                    name: "事项".into(),
                    header: vec![
                        "实施编码".into(),
                        "法定时限".into(),
                        "设定依据".into(),
                        "信用代码".into(),
                    ],
                    rows: vec![
                        vec![
                            "11440902MB-1-00".into(),
                            "20".into(),
                            "《食品安全法》第三十五条\n《食品经营许可管理办法》第二条".into(),
                            "114409027079706123".into(),
                        ],
                        vec![
                            "X-2".into(),
                            "0".into(),
                            "含,逗号和\"引号\"".into(),
                            "007".into(),
                        ],
                    ],
                },
                Sheet {
                    name: "材料".into(),
                    header: vec!["实施编码".into(), "材料名称".into()],
                    rows: vec![vec!["X-2".into(), "营业执照".into()]],
                },
            ],
        }
    }

    #[test]
    fn xlsx_round_trips_text_numbers_and_long_digit_strings() {
        let bytes = write_xlsx(&book()).unwrap();
        assert_eq!(detect(&bytes).unwrap(), Format::Xlsx);
        assert_eq!(read(&bytes, "x").unwrap(), book());
    }

    #[test]
    fn a_zip_of_csvs_round_trips() {
        let bytes = write_csv_zip(&book()).unwrap();
        assert_eq!(detect(&bytes).unwrap(), Format::CsvZip);
        assert_eq!(read(&bytes, "x").unwrap(), book());
    }

    #[test]
    fn a_gbk_csv_from_excel_and_a_utf8_one_with_a_bom_read_alike() {
        let text = "实施编码,材料名称\r\nX-2,营业执照\r\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(text.as_bytes());
        let a = read(&gbk, "材料").unwrap();
        let b = read(&bom, "材料").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.sheets[0], book().sheets[1]);
        assert_eq!(
            read_csv("材料", &write_csv(&book().sheets[1])).unwrap(),
            book().sheets[1]
        );
    }

    #[test]
    fn old_xls_files_and_garbage_are_refused_with_a_reason() {
        assert!(
            detect(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0])
                .unwrap_err()
                .contains("另存为")
        );
        assert!(detect(b"PK\x03\x04garbage").unwrap_err().contains("损坏"));
        assert!(detect(b"").unwrap_err().contains("空"));
        assert!(detect(b"\x89PNG\r\n\x1a\n\0\0").is_err());
    }
}
