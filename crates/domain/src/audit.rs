//! What a change changed, field by field, for the audit log.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Fields whose value differs between two snapshots of the same entity. A creation
/// passes an empty `before`; a deletion an empty `after`.
pub fn changed_fields(before: &[(&str, String)], after: &[(&str, String)]) -> Vec<FieldChange> {
    let lookup = |list: &[(&str, String)], field: &str| {
        list.iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.clone())
    };
    let mut fields: Vec<&str> = before.iter().chain(after).map(|(f, _)| *f).collect();
    fields.dedup();
    let mut seen = std::collections::HashSet::new();
    fields
        .into_iter()
        .filter(|f| seen.insert(*f))
        .filter_map(|field| {
            let (from, to) = (lookup(before, field), lookup(after, field));
            (from != to).then(|| FieldChange {
                field: field.to_string(),
                from,
                to,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fields_that_differ_are_recorded() {
        let before = [
            ("name", "Acme".to_string()),
            ("timezone", "UTC".to_string()),
        ];
        let after = [
            ("name", "Acme Co".to_string()),
            ("timezone", "UTC".to_string()),
        ];
        let changes = changed_fields(&before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "name");
        assert_eq!(changes[0].to.as_deref(), Some("Acme Co"));
    }

    #[test]
    fn a_creation_records_every_field_as_new() {
        let after = [("name", "Acme".to_string()), ("slug", "acme".to_string())];
        let changes = changed_fields(&[], &after);
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| c.from.is_none()));
    }
}
