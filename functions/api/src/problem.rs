//! Errors as `application/problem+json` (RFC 9457): a `type` URI per kind of problem
//! (`urn:ddb-autoscaler:problem:<kind>`), a `title`, the HTTP `status`, a `detail` in the words
//! of the code that refused (the settings parser's messages are the functions' own), and where
//! the fault is: `field`, a JSON Pointer into the request body (`in: body`, e.g.
//! `/indexes/by-customer/read-max`) or the name of a path parameter (`in: path`).
//!
//! | status | kinds |
//! |---|---|
//! | 400 | `malformed-body` (not JSON, wrong types, unknown fields), `bad-path-parameter` |
//! | 403 | `no-caller-identity` (the request context has no IAM identity) |
//! | 404 | `unknown-route`, `unknown-table`, `unknown-boost` |
//! | 405 | `method-not-allowed` (with `Allow`) |
//! | 409 | `not-opted-in`, `too-many-boosts`, `too-many-tags` |
//! | 422 | `invalid-settings`, `invalid-boost` (valid JSON, values the rules refuse) |
//! | 502 | `aws-error`, `tags-partly-changed` (with `written`: the tag keys written before the failure) |

use autoscaler_aws::Error;
use autoscaler_aws::ErrorKind;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use scaling_policy::ConfigError;
use serde::Serialize;

use crate::bodies::Change;

/// Prefix of every problem `type`.
pub const TYPE_PREFIX: &str = "urn:ddb-autoscaler:problem:";

/// Every kind of problem and its status (the `type` enum of `openapi.yaml`).
pub const KINDS: &[(&str, u16)] = &[
    ("malformed-body", 400),
    ("bad-path-parameter", 400),
    ("no-caller-identity", 403),
    ("unknown-route", 404),
    ("unknown-table", 404),
    ("unknown-boost", 404),
    ("method-not-allowed", 405),
    ("not-opted-in", 409),
    ("too-many-boosts", 409),
    ("too-many-tags", 409),
    ("invalid-settings", 422),
    ("invalid-boost", 422),
    ("aws-error", 502),
    ("tags-partly-changed", 502),
];

/// One problem, ready to be answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `urn:ddb-autoscaler:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, the same for every problem of the kind.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What exactly is wrong.
    pub detail: String,
    /// Where: a JSON Pointer into the body, or a path parameter's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `body` or `path`, when `field` is set.
    #[serde(rename = "in", skip_serializing_if = "Option::is_none")]
    pub location: Option<&'static str>,
    /// `tags-partly-changed`: the tag keys written before the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<Vec<String>>,
    /// `method-not-allowed`: the methods the path has (the `Allow` header).
    #[serde(skip)]
    pub allow: Option<String>,
}

impl Problem {
    fn new(status: u16, kind: &str, title: &'static str, detail: impl Into<String>) -> Self {
        debug_assert!(
            KINDS.contains(&(kind, status)),
            "{kind} {status} is not in KINDS"
        );
        Self {
            kind: format!("{TYPE_PREFIX}{kind}"),
            title,
            status,
            detail: detail.into(),
            field: None,
            location: None,
            written: None,
            allow: None,
        }
    }

    fn at(mut self, location: &'static str, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self.location = Some(location);
        self
    }

    /// The problem as a response.
    pub fn response(&self) -> Response<Body> {
        let body = serde_json::to_string(self).unwrap_or_default();
        let mut r = Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header(header::CONTENT_TYPE, "application/problem+json");
        if let Some(allow) = &self.allow {
            r = r.header(header::ALLOW, allow.as_str());
        }
        r.body(Body::Text(body)).unwrap_or_default()
    }

    /// No route has this path.
    pub fn unknown_route(path: &str) -> Self {
        Self::new(
            404,
            "unknown-route",
            "No such route",
            format!("no route for {path:?}"),
        )
    }

    /// The path exists, not with this method.
    pub fn method_not_allowed(method: &str, path: &str, allow: &[&str]) -> Self {
        let mut p = Self::new(
            405,
            "method-not-allowed",
            "Method not allowed",
            format!(
                "{path} does not take {method} (it takes {})",
                allow.join(", ")
            ),
        );
        p.allow = Some(allow.join(", "));
        p
    }

    /// A path parameter that cannot be what it names.
    pub fn bad_path(parameter: &str, detail: String) -> Self {
        Self::new(400, "bad-path-parameter", "Bad path parameter", detail).at("path", parameter)
    }

    /// A body that is not what the route takes (`pointer`: where in it).
    pub fn bad_body(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(400, "malformed-body", "Malformed request body", detail).at("body", pointer)
    }

    /// The request context carries no IAM identity.
    pub fn no_identity() -> Self {
        Self::new(
            403,
            "no-caller-identity",
            "No caller identity",
            "the request context has no IAM identity: the API's routes must use IAM (SigV4) authorisation",
        )
    }

    /// The problem an error of `autoscaler_aws` makes, `changes` telling which body field each
    /// settings tag came from.
    pub fn from_error(e: &Error, changes: &[Change]) -> Self {
        let detail = autoscaler_aws::error::chain(e);
        match e {
            Error::Aws {
                kind: ErrorKind::NotFound,
                operation: "DescribeTable",
                ..
            } => Self::new(404, "unknown-table", "Unknown table", detail).at("path", "name"),
            Error::NotOptedIn { .. } => {
                Self::new(409, "not-opted-in", "Table not opted in", detail).at("path", "name")
            }
            Error::UnknownBoost { .. } => {
                Self::new(404, "unknown-boost", "Unknown boost", detail).at("path", "id")
            }
            Error::Config { source, .. } => config_problem(source, detail, changes),
            Error::TagsPartlyChanged { written, .. } => {
                let mut p = Self::new(502, "tags-partly-changed", "Tags partly changed", detail);
                p.written = Some(written.clone());
                p
            }
            _ => Self::new(502, "aws-error", "AWS call failed", detail),
        }
    }
}

/// The body field a settings tag came from, else the tag key itself.
fn pointer(key: &str, changes: &[Change]) -> String {
    changes
        .iter()
        .find(|c| c.change.0 == key)
        .map_or_else(|| key.to_owned(), |c| c.pointer.clone())
}

fn config_problem(source: &ConfigError, detail: String, changes: &[Change]) -> Problem {
    let settings = |field: String| {
        Problem::new(422, "invalid-settings", "Invalid settings", detail.clone()).at("body", field)
    };
    match source {
        ConfigError::TooManyBoosts { .. } => {
            Problem::new(409, "too-many-boosts", "Too many boosts", detail)
        }
        ConfigError::TooManyTags { .. } => {
            Problem::new(409, "too-many-tags", "Too many tags", detail)
        }
        ConfigError::Boost { field, .. } => {
            Problem::new(422, "invalid-boost", "Invalid boost", detail)
                .at("body", format!("/{field}"))
        }
        ConfigError::BadTagValue { key, .. } | ConfigError::UnknownTag { key, .. } => {
            settings(pointer(key, changes))
        }
        ConfigError::UnknownIndex { index, .. } => settings(format!("/indexes/{index}")),
        ConfigError::Contradiction { keys, .. } => settings(
            keys.first()
                .map_or_else(String::new, |k| pointer(k, changes)),
        ),
    }
}
