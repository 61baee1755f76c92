//! Printing answers: aligned tables for people (dates as the API gives them, RFC 3339), or the
//! admin API's JSON for scripts.

use std::io::Write;

use serde_json::Value;

use crate::cli::Format;

/// What a command prints to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    pub(crate) format: Format,
}

/// A table: its headers, and one row of cells per item.
pub(crate) struct Table {
    pub(crate) headers: &'static [&'static str],
    pub(crate) rows: Vec<Vec<String>>,
}

impl Out {
    /// Prints `value`: as JSON, or as the table `table` makes of it.
    pub(crate) fn show(&self, value: &Value, table: impl FnOnce(&Value) -> Table) {
        self.show_text(value, |value| render(&table(value)));
    }

    /// Prints `value`: as JSON, or as the text `text` makes of it.
    pub(crate) fn show_text(&self, value: &Value, text: impl FnOnce(&Value) -> String) {
        match self.format {
            Format::Json => self.json(value),
            Format::Table => write(&text(value)),
        }
    }

    /// Prints `value` as JSON, pretty.
    pub(crate) fn json(&self, value: &Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
        write(&format!("{text}\n"));
    }

    /// Prints a line for people (nothing in JSON, where the answer says it).
    pub(crate) fn note(&self, line: &str) {
        if self.format == Format::Table {
            write(&format!("{line}\n"));
        }
    }
}

/// Writes to standard output. If it is closed (`guard key list | head -1`), what does not
/// fit is dropped: that is no failure of the command.
pub(crate) fn write(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// A JSON value as a cell: text as it is, lists joined by commas, nothing as `-`.
pub(crate) fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        // A rate limit.
        Value::Object(fields) if fields.contains_key("per_seconds") => {
            format!("{}/{}s", cell(&value["requests"]), cell(&value["per_seconds"]))
        }
        other => other.to_string(),
    }
}

/// The cells of `fields` of an object, in order.
pub(crate) fn cells(object: &Value, fields: &[&str]) -> Vec<String> {
    fields.iter().map(|field| cell(&object[*field])).collect()
}

/// The rows of the objects in `list`.
pub(crate) fn rows(list: &Value, fields: &[&str]) -> Vec<Vec<String>> {
    list.as_array().map_or_else(Vec::new, |items| items.iter().map(|i| cells(i, fields)).collect())
}

/// A table as text: columns as wide as their widest cell, two spaces apart.
pub(crate) fn render(table: &Table) -> String {
    let mut widths: Vec<usize> = table.headers.iter().map(|h| h.chars().count()).collect();
    for row in &table.rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> =
            cells.zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(&mut table.headers.iter().copied());
    for row in &table.rows {
        text.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let table = Table {
            headers: &["ID", "NAME"],
            rows: vec![vec!["a1".into(), "ann".into()], vec!["bbbbbb".into(), "-".into()]],
        };
        assert_eq!(render(&table), "ID      NAME\na1      ann\nbbbbbb  -\n");
        assert_eq!(cell(&serde_json::json!(["admin", "viewer"])), "admin,viewer");
        assert_eq!(cell(&Value::Null), "-");
    }
}
