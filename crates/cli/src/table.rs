//! Plain-text tables for list commands: a header and columns padded to line up.

/// A table built row by row; `render` pads every column to its widest cell.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(width(cell));
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                line.push_str(cell);
                if i + 1 < columns {
                    let pad = widths[i] - width(cell) + 2;
                    line.push_str(&" ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Display width, counted in characters (names may carry accents; no wide glyphs here).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// A stored instant (UTC milliseconds) as `2026-03-01 14:05 UTC`.
pub fn utc_minute(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => ms.to_string(),
    }
}

/// `-` for a missing value, so columns never look shifted.
pub fn or_dash(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => "-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_under_their_headers() {
        let mut t = Table::new(&["NAME", "PLAN"]);
        t.row(vec!["Brightsmile Dental Group".into(), "GROWTH".into()]);
        t.row(vec!["Ledgerly".into(), "ENTERPRISE".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        let column = lines[0].find("PLAN").unwrap();
        assert_eq!(lines[1].find("GROWTH"), Some(column));
        assert_eq!(lines[2].find("ENTERPRISE"), Some(column));
    }

    #[test]
    fn instants_are_shown_to_the_minute_in_utc() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
    }
}
