//! The shape of a workflow's JSON events and drift against it.
//!
//! A shape maps field paths to JSON types: `lead.email` → string, `items[]` → object
//! (the elements of the array `items`), `items[].sku` → string. An event stream learns
//! its shape from its first [`DEFAULT_LEARN_EVENTS`] events ([`LearnedShape::learn`]);
//! a field seen in at least [`KNOWN_PERCENT`] % of them is *known*, any other field
//! seen while learning is *optional*. Every later event is compared with the learned
//! shape ([`drift`]):
//!
//! - **missing**: a known field is absent while its parent object is present (a field
//!   inside an absent object is not reported again; array elements may be absent, as an
//!   array may be empty);
//! - **type changed**: a learned field (known or optional) arrives with a type never
//!   seen for it while learning (`null` included: a field that turns `null` is drift);
//! - **renamed**: a known field is missing and, in the same event under the same
//!   parent, a field never seen while learning appears with one of the missing field's
//!   types or a similar name ([`similar_names`]: one name holds the other, or an edit
//!   distance of at most a third of the name, at least 2, ignoring case, `_`, `-` and
//!   spaces). When several new fields qualify, one with a matching type and the
//!   closest name wins.
//!
//! New fields that do not pair with a missing one are additive changes and are not
//! reported. Reading an event is bounded: [`MAX_DEPTH`] levels, [`MAX_FIELDS`] paths
//! and the first [`MAX_ARRAY_ITEMS`] elements of each array.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Events a stream learns from unless configured otherwise.
pub const DEFAULT_LEARN_EVENTS: u32 = 20;
/// The fewest and most learning events a stream may be configured with.
pub const MIN_LEARN_EVENTS: u32 = 1;
pub const MAX_LEARN_EVENTS: u32 = 1_000;
/// A field seen in at least this share of the learning events is known.
pub const KNOWN_PERCENT: u32 = 80;
/// Nesting levels read; deeper values count as their container's type only.
pub const MAX_DEPTH: usize = 8;
/// Paths read from one event; the rest of the event is not read.
pub const MAX_FIELDS: usize = 300;
/// Paths a learned shape holds.
pub const MAX_LEARNED_FIELDS: usize = 1_000;
/// Array elements read per array.
pub const MAX_ARRAY_ITEMS: usize = 50;
/// Longest path kept; longer keys are cut.
pub const MAX_PATH_CHARS: usize = 200;

/// A JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JsonType {
    String,
    Number,
    Bool,
    Null,
    Object,
    Array,
}

impl JsonType {
    pub const ALL: [JsonType; 6] = [
        JsonType::String,
        JsonType::Number,
        JsonType::Bool,
        JsonType::Null,
        JsonType::Object,
        JsonType::Array,
    ];

    pub fn of(value: &Value) -> Self {
        match value {
            Value::String(_) => JsonType::String,
            Value::Number(_) => JsonType::Number,
            Value::Bool(_) => JsonType::Bool,
            Value::Null => JsonType::Null,
            Value::Object(_) => JsonType::Object,
            Value::Array(_) => JsonType::Array,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Bool => "bool",
            JsonType::Null => "null",
            JsonType::Object => "object",
            JsonType::Array => "array",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The types a field had, as a small set ("string or null").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TypeSet(u8);

impl TypeSet {
    pub fn one(t: JsonType) -> Self {
        Self(t.bit())
    }
    pub fn insert(&mut self, t: JsonType) {
        self.0 |= t.bit();
    }
    pub fn contains(self, t: JsonType) -> bool {
        self.0 & t.bit() != 0
    }
    pub fn union(self, other: TypeSet) -> Self {
        Self(self.0 | other.0)
    }
    /// Whether every type of `self` is in `other`.
    pub fn within(self, other: TypeSet) -> bool {
        self.0 & !other.0 == 0
    }
    pub fn intersects(self, other: TypeSet) -> bool {
        self.0 & other.0 != 0
    }
    pub fn iter(self) -> impl Iterator<Item = JsonType> {
        JsonType::ALL.into_iter().filter(move |t| self.contains(*t))
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Display for TypeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.iter().map(JsonType::as_str).collect();
        f.write_str(&names.join(" or "))
    }
}

impl Serialize for TypeSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(JsonType::as_str))
    }
}

impl<'de> Deserialize<'de> for TypeSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut set = TypeSet::default();
        for name in names {
            match JsonType::parse(&name) {
                Some(t) => set.insert(t),
                None => {
                    return Err(serde::de::Error::custom(format!(
                        "\"{name}\" is not a JSON type"
                    )))
                }
            }
        }
        Ok(set)
    }
}

/// The field paths of one event and their types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventShape {
    pub fields: BTreeMap<String, TypeSet>,
    /// The event had more than [`MAX_FIELDS`] paths; the rest was not read.
    pub truncated: bool,
}

/// Reads the shape of one event. The top-level value itself is not a field; a
/// top-level array's elements are `[]`.
pub fn shape_of(value: &Value) -> EventShape {
    let mut shape = EventShape::default();
    walk_children(value, "", 0, &mut shape);
    shape
}

fn child_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| !matches!(c, '.' | '[' | ']' | '"') && !c.is_control());
    let part = if plain {
        key.to_string()
    } else {
        // Keys that would make the path ambiguous are quoted: `a["b.c"]`.
        format!("[{}]", Value::String(key.to_string()))
    };
    let joined = if parent.is_empty() || !plain {
        format!("{parent}{part}")
    } else {
        format!("{parent}.{part}")
    };
    joined.chars().take(MAX_PATH_CHARS).collect()
}

fn record(path: String, value: &Value, depth: usize, shape: &mut EventShape) {
    if !shape.fields.contains_key(&path) && shape.fields.len() >= MAX_FIELDS {
        shape.truncated = true;
        return;
    }
    shape
        .fields
        .entry(path.clone())
        .or_default()
        .insert(JsonType::of(value));
    walk_children(value, &path, depth + 1, shape);
}

fn walk_children(value: &Value, path: &str, depth: usize, shape: &mut EventShape) {
    if depth >= MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                record(child_path(path, key), child, depth, shape);
            }
        }
        Value::Array(items) => {
            let elements: String = format!("{path}[]").chars().take(MAX_PATH_CHARS).collect();
            for item in items.iter().take(MAX_ARRAY_ITEMS) {
                record(elements.clone(), item, depth, shape);
            }
        }
        _ => {}
    }
}

/// The parent path of a field: `lead.email` → `lead`, `items[].sku` → `items[]`,
/// `items[]` → `items`, `email` → `` (top level).
pub fn parent_path(path: &str) -> &str {
    if let Some(stripped) = path.strip_suffix("[]") {
        return stripped;
    }
    // A quoted key ends in `"]`; its parent is what precedes its `["`.
    if path.ends_with("\"]") {
        if let Some(i) = path.rfind("[\"") {
            return &path[..i];
        }
    }
    match path.rfind('.') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The last segment of a path: `lead.email` → `email`.
pub fn field_name(path: &str) -> &str {
    let parent = parent_path(path);
    path[parent.len()..].trim_start_matches('.')
}

/// How often a field appeared while learning and with which types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStats {
    pub seen: u32,
    pub types: TypeSet,
}

/// A stream's learned shape: how many learning events it has read and what each field
/// looked like in them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedShape {
    pub events: u32,
    pub fields: BTreeMap<String, FieldStats>,
}

/// Whether a learned field is expected in every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Known,
    Optional,
}

/// One learned field, for the shape table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearnedField {
    pub path: String,
    pub types: String,
    pub presence: Presence,
    /// Share of the learning events that had it, in whole percent.
    pub seen_percent: u32,
}

impl LearnedShape {
    /// Adds one learning event.
    pub fn learn(&mut self, event: &EventShape) {
        self.events = self.events.saturating_add(1);
        for (path, types) in &event.fields {
            if !self.fields.contains_key(path) && self.fields.len() >= MAX_LEARNED_FIELDS {
                continue;
            }
            let stats = self.fields.entry(path.clone()).or_default();
            stats.seen = stats.seen.saturating_add(1);
            stats.types = stats.types.union(*types);
        }
    }

    /// Whether learning is over for a stream that learns from `learn_events` events.
    pub fn is_learned(&self, learn_events: u32) -> bool {
        self.events >= learn_events.max(MIN_LEARN_EVENTS)
    }

    fn presence(&self, stats: &FieldStats) -> Presence {
        let events = u64::from(self.events.max(1));
        if u64::from(stats.seen) * 100 >= events * u64::from(KNOWN_PERCENT) {
            Presence::Known
        } else {
            Presence::Optional
        }
    }

    fn is_known(&self, path: &str) -> bool {
        self.fields
            .get(path)
            .is_some_and(|s| self.presence(s) == Presence::Known)
    }

    /// The learned fields in path order, for the UI and the API.
    pub fn table(&self) -> Vec<LearnedField> {
        let events = self.events.max(1);
        self.fields
            .iter()
            .map(|(path, stats)| LearnedField {
                path: path.clone(),
                types: stats.types.to_string(),
                presence: self.presence(stats),
                seen_percent: (u64::from(stats.seen) * 100 / u64::from(events)) as u32,
            })
            .collect()
    }
}

/// What kind of drift a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    Missing,
    TypeChanged,
    Renamed,
}

impl DriftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Missing => "missing",
            DriftKind::TypeChanged => "type-changed",
            DriftKind::Renamed => "renamed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            DriftKind::Missing,
            DriftKind::TypeChanged,
            DriftKind::Renamed,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// One difference between an event and the learned shape, written for a side-by-side
/// diff: `expected` is the learned side, `actual` what the event had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: DriftKind,
    /// The learned field.
    pub path: String,
    /// The field that replaced it, for a rename.
    pub new_path: Option<String>,
    /// "lead.email: string".
    pub expected: String,
    /// "(missing)", "lead.phone: number", "lead.e_mail: string".
    pub actual: String,
}

impl Finding {
    /// Names the drift, so the same drift in many events is one drift: it is alerted
    /// once.
    pub fn signature(&self) -> String {
        match self.kind {
            DriftKind::Missing => format!("missing {}", self.path),
            DriftKind::TypeChanged => format!("type {} {}", self.path, self.actual),
            DriftKind::Renamed => format!(
                "renamed {} {}",
                self.path,
                self.new_path.as_deref().unwrap_or_default()
            ),
        }
    }

    /// One line for an alert: "lead.email (string) is missing".
    pub fn sentence(&self) -> String {
        match self.kind {
            DriftKind::Missing => format!("{} is missing", self.expected),
            DriftKind::TypeChanged => {
                format!("{} changed type: now {}", self.expected, self.actual)
            }
            DriftKind::Renamed => format!("{} looks renamed to {}", self.expected, self.actual),
        }
    }
}

fn described(path: &str, types: TypeSet) -> String {
    format!("{path}: {types}")
}

/// Letters and digits of a name, lowercased: `E-Mail` and `e_mail` read alike.
fn normalised(name: &str) -> Vec<char> {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .take(64)
        .collect()
}

/// Levenshtein distance, on names already cut to 64 characters.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// How far apart two normalised names are: 1 when one holds the other (`email`,
/// `emailAddress`), else their edit distance.
fn name_distance(a: &[char], b: &[char]) -> usize {
    let holds = |long: &[char], short: &[char]| {
        !short.is_empty() && long.windows(short.len()).any(|w| w == short)
    };
    if a == b {
        0
    } else if holds(a, b) || holds(b, a) {
        1
    } else {
        edit_distance(a, b)
    }
}

/// Whether two field names look like the same name written differently: one holds
/// the other, or they are at most a third of the longer name apart (at least 2 edits
/// allowed), ignoring case, `_`, `-` and spaces.
pub fn similar_names(a: &str, b: &str) -> bool {
    let (a, b) = (normalised(a), normalised(b));
    let allowed = (a.len().max(b.len()) / 3).max(2);
    name_distance(&a, &b) <= allowed
}

/// Compares one event with a learned shape.
pub fn drift(learned: &LearnedShape, event: &EventShape) -> Vec<Finding> {
    let present_object = |path: &str| {
        path.is_empty()
            || event
                .fields
                .get(path)
                .is_some_and(|t| t.contains(JsonType::Object))
    };
    let missing: Vec<(&String, &FieldStats)> = learned
        .fields
        .iter()
        .filter(|(path, _)| {
            learned.is_known(path)
                && !path.ends_with("[]")
                && !event.fields.contains_key(path.as_str())
                && present_object(parent_path(path))
        })
        .collect();
    // New fields whose parent was learned (a new object counts once, not per child).
    let added: Vec<(&String, &TypeSet)> = event
        .fields
        .iter()
        .filter(|(path, _)| {
            let parent = parent_path(path);
            !learned.fields.contains_key(path.as_str())
                && (parent.is_empty() || learned.fields.contains_key(parent))
        })
        .collect();
    let mut used = BTreeSet::new();
    let mut findings = Vec::new();
    for (path, stats) in missing {
        let name = normalised(field_name(path));
        let best = added
            .iter()
            .filter(|(new, types)| {
                !used.contains(new.as_str())
                    && parent_path(new) == parent_path(path)
                    && (types.intersects(stats.types)
                        || similar_names(field_name(path), field_name(new)))
            })
            .min_by_key(|(new, types)| {
                (
                    !types.intersects(stats.types),
                    name_distance(&name, &normalised(field_name(new))),
                )
            });
        match best {
            Some((new, types)) => {
                used.insert(new.as_str());
                findings.push(Finding {
                    kind: DriftKind::Renamed,
                    path: path.clone(),
                    new_path: Some((*new).clone()),
                    expected: described(path, stats.types),
                    actual: described(new, **types),
                });
            }
            None => findings.push(Finding {
                kind: DriftKind::Missing,
                path: path.clone(),
                new_path: None,
                expected: described(path, stats.types),
                actual: "(missing)".into(),
            }),
        }
    }
    for (path, types) in &event.fields {
        if let Some(stats) = learned.fields.get(path) {
            if !types.within(stats.types) {
                findings.push(Finding {
                    kind: DriftKind::TypeChanged,
                    path: path.clone(),
                    new_path: None,
                    expected: described(path, stats.types),
                    actual: described(path, *types),
                });
            }
        }
    }
    findings
}

/// The body of a drift alert: what was expected and what happened.
pub fn drift_alert(findings: &[Finding], learn_events: u32, event_n: i64, at: &str) -> String {
    let mut body = format!(
        "Expected: events shaped like the first {learn_events} (the same fields with the same types).\n\
         What happened: event #{event_n}, received {at}, differs:\n"
    );
    for f in findings {
        body.push_str(&format!("- {}\n", f.sentence()));
    }
    body.push_str(
        "If the change is intended, relearn the shape on the check's page; otherwise fix the \
         workflow step that builds the event.",
    );
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn learned_from(events: &[Value]) -> LearnedShape {
        let mut shape = LearnedShape::default();
        for e in events {
            shape.learn(&shape_of(e));
        }
        shape
    }

    fn lead(email: Value) -> Value {
        json!({
            "lead": {"email": email, "name": "Ann", "phone": "+15550100"},
            "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1}],
            "source": "typeform"
        })
    }

    #[test]
    fn a_shape_lists_field_paths_and_types() {
        let shape = shape_of(&lead(json!("ann@example.com")));
        let got: Vec<(String, String)> = shape
            .fields
            .iter()
            .map(|(p, t)| (p.clone(), t.to_string()))
            .collect();
        let want = [
            ("items", "array"),
            ("items[]", "object"),
            ("items[].qty", "number"),
            ("items[].sku", "string"),
            ("lead", "object"),
            ("lead.email", "string"),
            ("lead.name", "string"),
            ("lead.phone", "string"),
            ("source", "string"),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        );
        assert!(!shape.truncated);
    }

    #[test]
    fn odd_keys_are_quoted_and_paths_know_their_parents() {
        let shape = shape_of(&json!({"a.b": {"c": 1}, "": true}));
        assert!(shape.fields.contains_key("[\"a.b\"]"), "{shape:?}");
        assert!(shape.fields.contains_key("[\"a.b\"].c"), "{shape:?}");
        assert!(shape.fields.contains_key("[\"\"]"), "{shape:?}");
        assert_eq!(parent_path("lead.email"), "lead");
        assert_eq!(parent_path("items[].sku"), "items[]");
        assert_eq!(parent_path("items[]"), "items");
        assert_eq!(parent_path("email"), "");
        assert_eq!(parent_path("[\"a.b\"].c"), "[\"a.b\"]");
        assert_eq!(parent_path("[\"a.b\"]"), "");
        assert_eq!(field_name("lead.email"), "email");
    }

    #[test]
    fn an_event_like_the_learning_events_shows_no_drift() {
        let learned = learned_from(&vec![lead(json!("a@b.c")); 20]);
        assert!(learned.is_learned(20));
        assert!(!learned.is_learned(21));
        assert!(drift(&learned, &shape_of(&lead(json!("x@y.z")))).is_empty());
        // An empty array is fine: elements may be absent.
        let mut empty = lead(json!("a@b.c"));
        empty["items"] = json!([]);
        assert!(drift(&learned, &shape_of(&empty)).is_empty());
        // A new field alone is an additive change, not drift.
        let mut more = lead(json!("a@b.c"));
        more["utm"] = json!("spring");
        assert!(drift(&learned, &shape_of(&more)).is_empty());
    }

    #[test]
    fn a_missing_known_field_is_reported_once_per_absent_object() {
        let learned = learned_from(&vec![lead(json!("a@b.c")); 20]);
        let mut event = lead(json!("a@b.c"));
        event["lead"].as_object_mut().unwrap().remove("phone");
        let findings = drift(&learned, &shape_of(&event));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].kind, DriftKind::Missing);
        assert_eq!(findings[0].expected, "lead.phone: string");
        assert_eq!(findings[0].actual, "(missing)");
        assert_eq!(findings[0].signature(), "missing lead.phone");
        // Without `lead`, only `lead` is missing, not each of its fields.
        let mut event = lead(json!("a@b.c"));
        event.as_object_mut().unwrap().remove("lead");
        let findings = drift(&learned, &shape_of(&event));
        assert_eq!(
            findings.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["lead"]
        );
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let mut events = vec![lead(json!("a@b.c")); 15];
        let mut with_coupon = lead(json!("a@b.c"));
        with_coupon["coupon"] = json!("SPRING");
        events.extend(vec![with_coupon; 5]);
        let learned = learned_from(&events);
        let table = learned.table();
        let coupon = table.iter().find(|f| f.path == "coupon").unwrap();
        assert_eq!(
            (coupon.presence, coupon.seen_percent),
            (Presence::Optional, 25)
        );
        assert!(drift(&learned, &shape_of(&lead(json!("a@b.c")))).is_empty());
        // Seen in 80 % of the learning events is known.
        let mut events = vec![lead(json!("a@b.c")); 4];
        let mut no_source = lead(json!("a@b.c"));
        no_source.as_object_mut().unwrap().remove("source");
        events.push(no_source.clone());
        let learned = learned_from(&events);
        let findings = drift(&learned, &shape_of(&no_source));
        assert_eq!(findings[0].path, "source");
    }

    #[test]
    fn a_changed_type_is_drift_and_null_counts() {
        let learned = learned_from(&vec![lead(json!("a@b.c")); 20]);
        let findings = drift(&learned, &shape_of(&lead(json!(42))));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].kind, DriftKind::TypeChanged);
        assert_eq!(findings[0].expected, "lead.email: string");
        assert_eq!(findings[0].actual, "lead.email: number");
        let findings = drift(&learned, &shape_of(&lead(Value::Null)));
        assert_eq!(findings[0].actual, "lead.email: null");
        // A field learned as string or null may be either.
        let mut events = vec![lead(json!("a@b.c")); 10];
        events.push(lead(Value::Null));
        let learned = learned_from(&events);
        assert!(drift(&learned, &shape_of(&lead(Value::Null))).is_empty());
    }

    #[test]
    fn a_field_that_disappears_as_another_appears_looks_renamed() {
        let learned = learned_from(&vec![lead(json!("a@b.c")); 20]);
        let mut event = lead(json!("a@b.c"));
        let l = event["lead"].as_object_mut().unwrap();
        let email = l.remove("email").unwrap();
        l.insert("e_mail".into(), email);
        l.insert("score".into(), json!(7));
        let findings = drift(&learned, &shape_of(&event));
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.kind, DriftKind::Renamed);
        assert_eq!(f.new_path.as_deref(), Some("lead.e_mail"));
        assert_eq!(f.expected, "lead.email: string");
        assert_eq!(f.actual, "lead.e_mail: string");
        assert_eq!(f.signature(), "renamed lead.email lead.e_mail");
        assert_eq!(
            f.sentence(),
            "lead.email: string looks renamed to lead.e_mail: string"
        );
        // Several candidates: the closest name wins.
        let mut event = lead(json!("a@b.c"));
        let l = event["lead"].as_object_mut().unwrap();
        l.remove("email");
        l.insert("city".into(), json!("Austin"));
        l.insert("emailAddress".into(), json!("a@b.c"));
        let findings = drift(&learned, &shape_of(&event));
        assert_eq!(findings[0].new_path.as_deref(), Some("lead.emailAddress"));
        // A different type and an unlike name is not a rename: missing, and the new
        // field is additive.
        let mut event = lead(json!("a@b.c"));
        let l = event["lead"].as_object_mut().unwrap();
        l.remove("email");
        l.insert("score".into(), json!(7));
        let findings = drift(&learned, &shape_of(&event));
        assert_eq!(findings[0].kind, DriftKind::Missing);
        // A rename across parents is not paired.
        let mut event = lead(json!("a@b.c"));
        event["lead"].as_object_mut().unwrap().remove("email");
        event["email"] = json!("a@b.c");
        assert_eq!(
            drift(&learned, &shape_of(&event))[0].kind,
            DriftKind::Missing
        );
    }

    #[test]
    fn similar_names_ignore_case_and_separators() {
        assert!(similar_names("firstName", "first_name"));
        assert!(similar_names("email", "e-mail"));
        assert!(similar_names("phone", "phone2"));
        assert!(!similar_names("email", "score"));
    }

    #[test]
    fn reading_is_bounded() {
        let mut deep = json!("leaf");
        for _ in 0..50 {
            deep = json!({ "x": deep });
        }
        let shape = shape_of(&deep);
        assert_eq!(shape.fields.len(), MAX_DEPTH);
        let wide: serde_json::Map<String, Value> =
            (0..1_000).map(|i| (format!("f{i}"), json!(i))).collect();
        let shape = shape_of(&Value::Object(wide));
        assert_eq!(shape.fields.len(), MAX_FIELDS);
        assert!(shape.truncated);
    }

    #[test]
    fn learned_shapes_round_trip_as_json() {
        let learned = learned_from(&[lead(json!("a@b.c")), lead(Value::Null)]);
        let text = serde_json::to_string(&learned).unwrap();
        assert!(text.contains("[\"string\",\"null\"]"), "{text}");
        let back: LearnedShape = serde_json::from_str(&text).unwrap();
        assert_eq!(back, learned);
        assert!(serde_json::from_str::<LearnedShape>(
            r#"{"events":1,"fields":{"a":{"seen":1,"types":["text"]}}}"#
        )
        .is_err());
    }

    #[test]
    fn the_alert_says_what_was_expected_and_what_happened() {
        let learned = learned_from(&vec![lead(json!("a@b.c")); 20]);
        let findings = drift(&learned, &shape_of(&lead(json!(1))));
        let body = drift_alert(&findings, 20, 23, "2026-11-22 10:00:00 UTC");
        assert!(body.starts_with("Expected: events shaped like the first 20"));
        assert!(body.contains("event #23, received 2026-11-22 10:00:00 UTC"));
        assert!(body.contains("- lead.email: string changed type: now lead.email: number"));
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "\\PC{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(12, 256, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map("[a-z.\\[\\]\"_]{0,6}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_learner_never_panics_and_stays_bounded(events in prop::collection::vec(any_json(), 1..8)) {
            let mut learned = LearnedShape::default();
            for e in &events {
                let shape = shape_of(e);
                prop_assert!(shape.fields.len() <= MAX_FIELDS);
                prop_assert!(shape.fields.keys().all(|p| p.chars().count() <= MAX_PATH_CHARS));
                let _ = drift(&learned, &shape);
                learned.learn(&shape);
            }
            prop_assert!(learned.fields.len() <= MAX_LEARNED_FIELDS);
            let text = serde_json::to_string(&learned).unwrap();
            prop_assert_eq!(serde_json::from_str::<LearnedShape>(&text).unwrap(), learned);
        }

        #[test]
        fn an_event_never_drifts_from_a_shape_learned_on_itself(event in any_json()) {
            let shape = shape_of(&event);
            let mut learned = LearnedShape::default();
            learned.learn(&shape);
            prop_assert_eq!(drift(&learned, &shape), Vec::<Finding>::new());
        }

        #[test]
        fn the_learner_never_panics_on_any_parsed_text(raw in "\\PC{0,200}") {
            if let Ok(value) = serde_json::from_str::<Value>(&raw) {
                let _ = drift(&LearnedShape::default(), &shape_of(&value));
            }
        }
    }
}
