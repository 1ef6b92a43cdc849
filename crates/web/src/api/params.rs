//! What a request says outside its body: query parameters and path segments. They are
//! read strictly: an unknown or malformed parameter is a 400 problem naming it, never
//! silently ignored (a mistyped filter must not return everything).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use tend_domain::page::PageRequest;
use tend_domain::FieldErrors;

use crate::problem::{ApiQuery, Problem, ProblemField};

/// The query string as name/value pairs, with the errors found while reading them.
pub struct Params {
    pairs: Vec<(String, String)>,
    errors: FieldErrors,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiQuery(pairs) =
            ApiQuery::<Vec<(String, String)>>::from_request_parts(parts, state).await?;
        Ok(Params {
            pairs,
            errors: FieldErrors::new(),
        })
    }
}

impl Params {
    /// Records every parameter that is not in `known`, or that is given twice.
    pub fn allow(&mut self, known: &[&str]) -> &mut Self {
        for (i, (name, _)) in self.pairs.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                self.errors.add(
                    name,
                    format!("is not a parameter here (known: {})", known.join(", ")),
                );
            } else if self.pairs[..i].iter().any(|(n, _)| n == name) {
                self.errors.add(name, "is given more than once");
            }
        }
        self
    }

    /// A parameter's trimmed value; an empty value counts as absent.
    pub fn text(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A parameter read with `parse`; a failure is recorded under the parameter's name.
    pub fn parsed<T, E: std::fmt::Display>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let raw = self.text(name)?;
        self.errors.check(name, parse(&raw))
    }

    /// Records an error found after reading (an owner email no user has, say).
    pub fn reject(&mut self, name: &str, message: impl Into<String>) {
        self.errors.add(name, message);
    }

    /// `page` (from 1) and `per_page` (1 to 200, default 25; larger asks get 200).
    pub fn page(&mut self) -> PageRequest {
        let number = |raw: &str| {
            raw.parse::<u32>()
                .map_err(|_| format!("\"{raw}\" is not a whole number"))
        };
        let page = self.parsed("page", number);
        let per_page = self.parsed("per_page", number);
        PageRequest::new(page, per_page)
    }

    /// Ok when every parameter was understood, else a 400 problem listing each one.
    pub fn finish(&mut self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let errors = std::mem::take(&mut self.errors);
        let mut problem = Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("the query string is not understood: {}", errors.summary()),
        );
        problem.errors = errors
            .iter()
            .map(|e| ProblemField {
                field: e.field.clone(),
                message: e.message.clone(),
            })
            .collect();
        Err(problem)
    }
}

/// The one path parameter of a route (a slug, a plan code or an id), as text; axum's
/// own rejection (bad percent-encoding) becomes a problem document.
pub struct PathText(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(text)| PathText(text))
            .map_err(|r| Problem::bad_request(r.body_text()))
    }
}

/// A numeric id from a path; anything else names nothing, so it is a 404 that says why.
pub fn parse_id(raw: &str, what: &str) -> Result<i64, Problem> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("{what} not found: \"{raw}\" is not a {what} id (ids are positive whole numbers)"),
            )
        })
}
