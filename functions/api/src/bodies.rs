//! Request bodies, read into what `autoscaler_aws::manage` takes, with a `400` problem naming
//! the field (a JSON Pointer) for anything that is not the shape `openapi.yaml` documents.
//! Values are not judged here: the settings become tags and go through the functions' own
//! parser, and a boost through `Boost::check_new` and the limits, so the rules live in one place.
//!
//! **Settings** (`PUT`/`PATCH /tables/{name}/settings`): an object whose names are the
//! settings' tag names (`read-max`, `target`, ...) with numbers, and `indexes`, an object of GSI
//! name to such an object. `read-max: 500` becomes the tag `<prefix>:read-max` = `500`, and
//! `indexes.by-customer.read-max` the tag `<prefix>:index:by-customer:read-max`. In a `PATCH`
//! (a JSON merge patch), `null` removes a setting.
//!
//! **Boost** (`POST /tables/{name}/boosts`): `read`, `write` (whole units), `from`, `until`
//! (RFC 3339), `index` (a GSI, or the table when left out) and `note`.

use autoscaler_aws::manage::OverrideChange;
use lambda_http::Body;
use scaling_policy::{Boost, Timestamp, boost};
use serde_json::{Map, Number, Value};

use crate::problem::Problem;

/// One override change and the body field it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The tag key and its new value (`None`: remove).
    pub change: OverrideChange,
    /// The JSON Pointer of its field in the body.
    pub pointer: String,
}

fn object(body: &Body) -> Result<Map<String, Value>, Problem> {
    let bytes: &[u8] = body.as_ref();
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Problem::bad_body("", "the body must be a JSON object")),
        Err(e) => Err(Problem::bad_body("", format!("the body is not JSON: {e}"))),
    }
}

/// `name` as one JSON Pointer token (RFC 6901: `~` is `~0`, `/` is `~1`).
fn token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// A number as a tag value: whole numbers without a fraction (`5`, not `5.0`).
fn number_text(n: &Number) -> String {
    match n.as_f64() {
        Some(x) if !n.is_u64() && !n.is_i64() && x.fract() == 0.0 && x.abs() < 1e15 => {
            format!("{}", x as i64)
        }
        _ => n.to_string(),
    }
}

/// A whole number, as JSON Schema's `integer` counts them (`4822` and `4822.0` alike).
fn whole(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        let x = v.as_f64()?;
        (x.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&x)).then_some(x as u64)
    })
}

/// The override changes a settings body asks for, under `prefix`. `replace` (`PUT`) takes
/// numbers only; a `PATCH` also takes `null` (remove).
pub fn settings(prefix: &str, body: &Body, replace: bool) -> Result<Vec<Change>, Problem> {
    let mut out = Vec::new();
    let mut add = |key: String, pointer: String, value: &Value| -> Result<(), Problem> {
        let value = match value {
            Value::Number(n) => Some(number_text(n)),
            Value::Null if !replace => None,
            _ => {
                let what = if replace {
                    "a number"
                } else {
                    "a number or null"
                };
                return Err(Problem::bad_body(pointer, format!("expected {what}")));
            }
        };
        out.push(Change {
            change: (key, value),
            pointer,
        });
        Ok(())
    };
    for (name, value) in object(body)? {
        if name == "indexes" {
            let Value::Object(indexes) = value else {
                return Err(Problem::bad_body(
                    "/indexes",
                    "expected an object of GSI name to settings",
                ));
            };
            for (index, settings) in indexes {
                let at = format!("/indexes/{}", token(&index));
                if !boost::valid_name(&index) {
                    return Err(Problem::bad_body(
                        at,
                        format!("{index:?} is not a GSI name"),
                    ));
                }
                let Value::Object(settings) = settings else {
                    return Err(Problem::bad_body(at, "expected an object of settings"));
                };
                for (setting, value) in settings {
                    let pointer = format!("{at}/{}", token(&setting));
                    if setting.contains(':') || setting == "indexes" {
                        return Err(Problem::bad_body(pointer, "not a setting"));
                    }
                    add(format!("{prefix}:index:{index}:{setting}"), pointer, &value)?;
                }
            }
        } else {
            let pointer = format!("/{}", token(&name));
            if name.contains(':') {
                return Err(Problem::bad_body(
                    pointer,
                    "not a setting (index settings go under indexes)",
                ));
            }
            add(format!("{prefix}:{name}"), pointer, &value)?;
        }
    }
    Ok(out)
}

/// The boost a `POST` body announces, with the id `id`.
pub fn boost(body: &Body, id: String) -> Result<Boost, Problem> {
    let fields = object(body)?;
    if let Some(name) = fields
        .keys()
        .find(|k| !["index", "read", "write", "from", "until", "note"].contains(&k.as_str()))
    {
        return Err(Problem::bad_body(
            format!("/{}", token(name)),
            "unknown field (index, read, write, from, until, note)",
        ));
    }
    let units = |name: &str| match fields.get(name) {
        None => Ok(None),
        Some(v) => whole(v).map(Some).ok_or_else(|| {
            Problem::bad_body(
                format!("/{name}"),
                "expected a whole number of capacity units",
            )
        }),
    };
    let time = |name: &str| match fields.get(name) {
        Some(Value::String(s)) => Timestamp::parse_rfc3339(s).ok_or_else(|| {
            Problem::bad_body(
                format!("/{name}"),
                format!("{s:?} is not an RFC 3339 date-time"),
            )
        }),
        Some(_) => Err(Problem::bad_body(
            format!("/{name}"),
            "expected an RFC 3339 date-time string",
        )),
        None => Err(Problem::bad_body(format!("/{name}"), "required")),
    };
    let text = |name: &str| match fields.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Problem::bad_body(format!("/{name}"), "expected a string")),
    };
    Ok(Boost {
        id,
        index: text("index")?,
        read: units("read")?,
        write: units("write")?,
        from: time("from")?,
        until: time("until")?,
        note: text("note")?.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> Body {
        Body::Text(s.to_owned())
    }

    #[test]
    fn settings_become_override_tags_with_their_fields() {
        let changes = settings(
            "ddb-autoscaler",
            &body(r#"{"read-max": 500, "target": 60.0, "indexes": {"by-customer": {"write-min": 2, "target": 55.5}}}"#),
            true,
        )
        .unwrap();
        let mut got: Vec<(&str, Option<&str>, &str)> = changes
            .iter()
            .map(|c| {
                (
                    c.change.0.as_str(),
                    c.change.1.as_deref(),
                    c.pointer.as_str(),
                )
            })
            .collect();
        got.sort_unstable();
        assert_eq!(
            got,
            [
                (
                    "ddb-autoscaler:index:by-customer:target",
                    Some("55.5"),
                    "/indexes/by-customer/target"
                ),
                (
                    "ddb-autoscaler:index:by-customer:write-min",
                    Some("2"),
                    "/indexes/by-customer/write-min"
                ),
                ("ddb-autoscaler:read-max", Some("500"), "/read-max"),
                ("ddb-autoscaler:target", Some("60"), "/target"),
            ]
        );
        let patch = settings("p", &body(r#"{"read-max": null}"#), false).unwrap();
        assert_eq!(patch[0].change, ("p:read-max".to_owned(), None));
    }

    #[test]
    fn malformed_settings_name_the_field() {
        for (text, replace, field) in [
            ("[1]", true, ""),
            ("nope", true, ""),
            (r#"{"read-max": "500"}"#, true, "/read-max"),
            (r#"{"read-max": null}"#, true, "/read-max"),
            (r#"{"index:x:read-max": 5}"#, true, "/index:x:read-max"),
            (r#"{"indexes": []}"#, true, "/indexes"),
            (r#"{"indexes": {"a/b": {}}}"#, false, "/indexes/a~1b"),
            (
                r#"{"indexes": {"by-customer": {"read-max": true}}}"#,
                false,
                "/indexes/by-customer/read-max",
            ),
        ] {
            let p = settings("p", &body(text), replace).unwrap_err();
            assert_eq!((p.status, p.field.as_deref()), (400, Some(field)), "{text}");
        }
    }

    #[test]
    fn boost_bodies() {
        let b = boost(
            &body(r#"{"write": 2000, "from": "2026-12-01T13:45:00Z", "until": "2026-12-01T17:00:00+01:00", "note": "launch"}"#),
            "ab12".into(),
        )
        .unwrap();
        assert_eq!(
            (b.read, b.write, b.index.as_deref()),
            (None, Some(2000), None)
        );
        assert_eq!(b.until.to_string(), "2026-12-01T16:00:00Z");
        let b = boost(
            &body(r#"{"read": 4822.0, "from": "2026-12-01T13:45:00Z", "until": "2026-12-01T16:00:00Z"}"#),
            "ab12".into(),
        )
        .unwrap();
        assert_eq!(
            b.read,
            Some(4822),
            "a JSON Schema integer may be written 4822.0"
        );
        for (text, field) in [
            (r#"{"write": 1, "until": "2026-12-01T16:00:00Z"}"#, "/from"),
            (
                r#"{"write": -1, "from": "2026-12-01T13:45:00Z", "until": "2026-12-01T16:00:00Z"}"#,
                "/write",
            ),
            (
                r#"{"write": 1, "from": "13:45", "until": "2026-12-01T16:00:00Z"}"#,
                "/from",
            ),
            (
                r#"{"write": 1, "from": "2026-12-01T13:45:00Z", "until": 5}"#,
                "/until",
            ),
            (r#"{"wirte": 1}"#, "/wirte"),
            (
                r#"{"read": null, "write": 1, "from": "2026-12-01T13:45:00Z", "until": "2026-12-01T16:00:00Z"}"#,
                "/read",
            ),
            (
                r#"{"write": 1, "from": "2026-12-01T13:45:00Z", "until": "2026-12-01T16:00:00Z", "note": 3}"#,
                "/note",
            ),
        ] {
            let p = boost(&body(text), "x".into()).unwrap_err();
            assert_eq!((p.status, p.field.as_deref()), (400, Some(field)), "{text}");
        }
    }
}
