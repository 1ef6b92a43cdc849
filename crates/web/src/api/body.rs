//! JSON request bodies read onto the domain's drafts.
//!
//! A body is a JSON object whose keys are the draft's fields. Unknown keys and values
//! of the wrong type are reported by field name (a mistyped field must not be dropped
//! in silence), numbers are accepted where the draft keeps text (`"stabilization_weeks":
//! 4`), and `null` means "the default". The same merge serves PUT (onto an empty draft)
//! and PATCH (onto the stored value, as in RFC 7396 JSON Merge Patch).

use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use tend_domain::FieldErrors;

use crate::problem::Problem;

/// The top-level object of a request body.
pub struct Body(Map<String, Value>);

impl Body {
    pub fn object(value: Value) -> Result<Self, Problem> {
        match value {
            Value::Object(map) => Ok(Body(map)),
            other => Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                format!(
                    "the request body must be a JSON object, not {}",
                    kind_of(&other)
                ),
            )),
        }
    }

    /// Removes a key that is not a field of the draft (an embedded object, an option).
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key).filter(|v| !v.is_null())
    }

    /// Removes a key whose value must itself be an object (an embedded draft); any
    /// other value is recorded as an error under the key.
    pub fn take_object(&mut self, key: &str, errors: &mut FieldErrors) -> Option<Body> {
        match self.take(key)? {
            Value::Object(map) => Some(Body(map)),
            other => {
                errors.add(key, format!("must be an object, not {}", kind_of(&other)));
                None
            }
        }
    }

    /// Merges the body onto `base`; problems are recorded in `errors` under
    /// `prefix.field` (or `field` when the prefix is empty) and give `None`.
    pub fn onto<D: Serialize + DeserializeOwned>(
        self,
        base: &D,
        prefix: &str,
        errors: &mut FieldErrors,
    ) -> Option<D> {
        let name = |key: &str| {
            if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            }
        };
        // Drafts are structs of strings, booleans and string maps, which always
        // serialise to an object; anything else is reported rather than assumed.
        let Ok(Value::Object(mut fields)) = serde_json::to_value(base) else {
            errors.add(&name("body"), "could not be read");
            return None;
        };
        let known: Vec<String> = fields.keys().cloned().collect();
        let before = errors.iter().count();
        for (key, value) in self.0 {
            let Some(current) = fields.get_mut(&key) else {
                errors.add(
                    &name(&key),
                    format!("is not a field here (known: {})", known.join(", ")),
                );
                continue;
            };
            match coerce(current, value) {
                Ok(Some(value)) => merge(current, value),
                Ok(None) => {
                    fields.remove(&key);
                }
                Err(message) => errors.add(&name(&key), message),
            }
        }
        if errors.iter().count() > before {
            return None;
        }
        match serde_json::from_value(Value::Object(fields)) {
            Ok(draft) => Some(draft),
            Err(e) => {
                errors.add(&name("body"), e.to_string());
                None
            }
        }
    }
}

/// A body value in the shape the draft keeps (`None` for null: back to the default).
fn coerce(current: &Value, value: Value) -> Result<Option<Value>, String> {
    match (current, value) {
        (_, Value::Null) => Ok(None),
        (Value::String(_), Value::String(s)) => Ok(Some(Value::String(s))),
        (Value::String(_), Value::Number(n)) => Ok(Some(Value::String(n.to_string()))),
        (Value::String(_), other) => Err(format!("must be a string, not {}", kind_of(&other))),
        (Value::Bool(_), Value::Bool(b)) => Ok(Some(Value::Bool(b))),
        (Value::Bool(_), other) => Err(format!("must be true or false, not {}", kind_of(&other))),
        (Value::Object(_), Value::Object(map)) => {
            let mut out = Map::new();
            for (key, value) in map {
                let value = match value {
                    Value::Null => Value::Null,
                    Value::String(s) => Value::String(s),
                    Value::Number(n) => Value::String(n.to_string()),
                    other => {
                        return Err(format!(
                            "\"{key}\" must be a string, not {}",
                            kind_of(&other)
                        ))
                    }
                };
                out.insert(key, value);
            }
            Ok(Some(Value::Object(out)))
        }
        (Value::Object(_), other) => Err(format!("must be an object, not {}", kind_of(&other))),
        // Lists of strings (a maintenance window's check UUIDs).
        (Value::Array(_), Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(Value::String(s)),
                other => Err(format!("must list strings, not {}", kind_of(&other))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|items| Some(Value::Array(items))),
        (current, other) => Err(format!(
            "must be {}, not {}",
            kind_of(current),
            kind_of(&other)
        )),
    }
}

/// RFC 7396 merge: objects merge key by key (a null key is removed), anything else
/// replaces.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else {
                    merge(target.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Adds `more` to `errors`, each field moved under `prefix` when one is given
/// (`plan` -> `contract.plan`, for a draft embedded in another body).
pub fn absorb(errors: &mut FieldErrors, prefix: &str, more: &FieldErrors) {
    for e in more.iter() {
        if prefix.is_empty() {
            errors.add(&e.field, e.message.clone());
        } else {
            errors.add(&format!("{prefix}.{}", e.field), e.message.clone());
        }
    }
}

/// Ok with the value when nothing was recorded, else the 422 problem listing them all.
pub fn finish<T>(value: Option<T>, errors: FieldErrors) -> Result<T, Problem> {
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ if errors.is_empty() => Err(Problem::validation(&FieldErrors::single(
            "body",
            "could not be read",
        ))),
        _ => Err(Problem::validation(&errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tend_domain::client::ClientDraft;
    use tend_domain::plan::PlanDraft;

    fn body(v: Value) -> Body {
        Body::object(v).unwrap()
    }

    #[test]
    fn a_patch_changes_only_the_fields_it_names_and_null_restores_the_default() {
        let stored = ClientDraft {
            name: "Acme".into(),
            notes: "old".into(),
            owner_email: "a@b.co".into(),
            ..Default::default()
        };
        let mut errors = FieldErrors::new();
        let patched = body(json!({"notes": "new", "owner_email": null}))
            .onto(&stored, "", &mut errors)
            .unwrap();
        assert!(errors.is_empty());
        assert_eq!(
            (
                patched.name.as_str(),
                patched.notes.as_str(),
                patched.owner_email.as_str()
            ),
            ("Acme", "new", "")
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_named() {
        let mut errors = FieldErrors::new();
        let out = body(json!({"nmae": "x", "notes": ["a"], "timezone": "UTC"})).onto(
            &ClientDraft::default(),
            "client",
            &mut errors,
        );
        assert!(out.is_none());
        assert!(errors.get("client.nmae").unwrap().contains("not a field"));
        assert!(errors
            .get("client.notes")
            .unwrap()
            .contains("must be a string"));
        assert!(errors.get("client.timezone").is_none());
    }

    #[test]
    fn numbers_are_accepted_where_the_draft_keeps_text_and_maps_merge_by_key() {
        let mut base = PlanDraft::default();
        base.targets.insert("p0_response".into(), "4h".into());
        base.targets.insert("p3_resolution".into(), "5bd".into());
        let mut errors = FieldErrors::new();
        let out = body(
            json!({"monthly_fee": 1200, "targets": {"p0_response": "2h", "p3_resolution": null}}),
        )
        .onto(&base, "", &mut errors)
        .unwrap();
        assert_eq!(out.monthly_fee, "1200");
        assert_eq!(
            out.targets.get("p0_response").map(String::as_str),
            Some("2h")
        );
        assert!(!out.targets.contains_key("p3_resolution"));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        assert_eq!(Body::object(json!([1])).err().unwrap().status, 422);
    }
}
