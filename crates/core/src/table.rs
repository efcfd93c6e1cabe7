//! Spreadsheets as the domain sees them: named sheets of text cells under a header row.
//! The bytes (XLSX, CSV) are another crate's business (`tongban-sheets`); here a cell
//! is a string and a row is numbered as the person sees it in the spreadsheet (the
//! header is row 1).

use serde::{Deserialize, Serialize};

/// One sheet: a header row and the rows under it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    /// Its name (the tab, or the CSV file's name without `.csv`).
    pub name: String,
    /// Row 1.
    pub header: Vec<String>,
    /// Rows 2, 3, … (trailing empty rows already dropped).
    pub rows: Vec<Vec<String>>,
}

impl Sheet {
    /// A sheet with a header and no rows.
    pub fn new(name: &str, header: &[&str]) -> Sheet {
        Sheet {
            name: name.to_string(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: vec![],
        }
    }

    /// The row number people see for `rows[i]`.
    pub fn row_number(i: usize) -> usize {
        i + 2
    }
}

/// A workbook: sheets in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workbook {
    /// The sheets.
    pub sheets: Vec<Sheet>,
}

impl Workbook {
    /// The sheet called `name`.
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets.iter().find(|s| s.name.trim() == name)
    }
}

/// The spreadsheet letters of a 0-based column: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letters(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A cell's address as spreadsheets write it: `材料!C5`.
pub fn cell_ref(sheet: &str, column: usize, row: usize) -> String {
    format!("{sheet}!{}{row}", column_letters(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_spreadsheets_do() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(cell_ref("材料", 2, 5), "材料!C5");
    }
}
