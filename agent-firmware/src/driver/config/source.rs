//! Where a key of `agent.toml` is written: byte spans to lines and columns, and to dotted keys.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The text of a configuration file and, when it is valid TOML, its spanned tables.
pub(super) struct Source<'a> {
    text: &'a str,
    table: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            text,
            table: DeTable::parse(text).ok(),
        }
    }

    /// 1-based line and column of a byte offset.
    pub(super) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// The dotted key written at `span` (the key itself or its value), or the innermost table
    /// around it.
    pub(super) fn key_at(&self, span: &Range<usize>) -> Option<String> {
        let mut path = Vec::new();
        find(self.table.as_ref()?.get_ref(), span, &mut path).then(|| path.join("."))
    }

    /// The span of the dotted `key`'s value, when the file sets it.
    pub(super) fn span_of(&self, key: &str) -> Option<Range<usize>> {
        let mut table = self.table.as_ref()?.get_ref();
        let mut parts = key.split('.').peekable();
        while let Some(part) = parts.next() {
            let value = table.get(part)?;
            if parts.peek().is_none() {
                return Some(value.span());
            }
            match value.get_ref() {
                DeValue::Table(inner) => table = inner,
                _ => return None,
            }
        }
        None
    }
}

/// Pushes onto `path` the keys leading to `span` in `table`; false when it is not there.
/// A table's own span does not always cover its keys (`[server]` then keys below), so the
/// keys are searched before the table.
fn find(table: &DeTable<'_>, span: &Range<usize>, path: &mut Vec<String>) -> bool {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        if contains(&key.span(), span) {
            return true;
        }
        let found = match value.get_ref() {
            DeValue::Table(inner) => find(inner, span, path) || contains(&value.span(), span),
            _ => contains(&value.span(), span),
        };
        if found {
            return true;
        }
        path.pop();
    }
    false
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end && outer.start < outer.end
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "thing = \"a\"\n\n[server]\nhost = \"h\"\nport = 99999\n";

    #[test]
    fn spans_become_lines_and_dotted_keys() {
        let source = Source::new(TEXT);
        let port = source.span_of("server.port").expect("port is set");
        assert_eq!(source.position(port.start), (5, 8));
        assert_eq!(source.key_at(&port).as_deref(), Some("server.port"));
        let thing = source.span_of("thing").expect("thing is set");
        assert_eq!(source.position(thing.start).0, 1);
        assert_eq!(source.key_at(&thing).as_deref(), Some("thing"));
        assert_eq!(source.span_of("server.anchor"), None);
        assert_eq!(source.span_of("thing.inner"), None);
    }

    #[test]
    fn invalid_toml_still_has_positions() {
        let source = Source::new("a = \n");
        assert_eq!(source.key_at(&(0..1)), None);
        assert_eq!(source.position(100), (2, 1));
    }
}
