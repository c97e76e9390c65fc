//! String interning: group names and firmware versions repeat across a million devices, so
//! devices hold a `u32` and the text is stored once.

use std::collections::HashMap;

/// Maps each distinct string to a dense `u32` and back.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    texts: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    /// The id of `text`, adding it when new.
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        // More than 4 billion distinct names cannot occur in one account's registry.
        let id = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    /// The id of `text` if it was interned.
    #[must_use]
    pub fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// The text of `id` (empty for an id this interner never issued).
    #[must_use]
    pub fn text(&self, id: u32) -> &str {
        self.texts.get(id as usize).map_or("", |t| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_same_id() {
        let mut names = Interner::default();
        let a = names.intern("fw-1.2");
        let b = names.intern("fw-1.3");
        assert_ne!(a, b);
        assert_eq!(names.intern("fw-1.2"), a);
        assert_eq!(names.text(b), "fw-1.3");
        assert_eq!(names.get("nope"), None);
    }
}
