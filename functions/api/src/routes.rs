//! The routes: which request is which, from its method and raw path alone (API Gateway passes
//! the path as the client sent it, so the handler does not depend on the gateway's route
//! matching, and the in-process test server needs none). [`ROUTES`] is the list the OpenAPI
//! document and the template are checked against.
//!
//! A path that matches no route is `404`; a route asked with another method is `405` with an
//! `Allow` header; a path parameter that cannot be a table name (DynamoDB's 3-255 of
//! `a-z A-Z 0-9 _ - .`) or a boost id is `400`, before AWS is asked anything.

use scaling_policy::boost::{self, MAX_ID_CHARS};

use crate::problem::Problem;

/// Every route: method and path template, as in `openapi.yaml` and `template.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/tables"),
    ("GET", "/tables/{name}"),
    ("PUT", "/tables/{name}/settings"),
    ("PATCH", "/tables/{name}/settings"),
    ("GET", "/tables/{name}/boosts"),
    ("POST", "/tables/{name}/boosts"),
    ("GET", "/tables/{name}/boosts/{id}"),
    ("DELETE", "/tables/{name}/boosts/{id}"),
];

/// A request, routed, with its path parameters checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /tables`
    Tables,
    /// `GET /tables/{name}`
    Table(String),
    /// `PUT` (`replace`) or `PATCH /tables/{name}/settings`
    Settings {
        /// The table.
        name: String,
        /// `PUT`: the body is the whole set of overrides.
        replace: bool,
    },
    /// `GET /tables/{name}/boosts`
    Boosts(String),
    /// `POST /tables/{name}/boosts`
    NewBoost(String),
    /// `GET /tables/{name}/boosts/{id}`
    Boost {
        /// The table.
        name: String,
        /// The boost.
        id: String,
    },
    /// `DELETE /tables/{name}/boosts/{id}`
    DeleteBoost {
        /// The table.
        name: String,
        /// The boost.
        id: String,
    },
}

/// `%XX` escapes decoded; `None` when an escape is malformed or the result is not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `segments` fit `template` (`{x}` matches any one non-empty segment).
fn fits(template: &str, segments: &[&str]) -> bool {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    parts.len() == segments.len()
        && parts
            .iter()
            .zip(segments)
            .all(|(p, s)| (p.starts_with('{') && !s.is_empty()) || p == s)
}

/// Routes `method` `path`, or the problem to answer with.
pub fn route(method: &str, path: &str) -> Result<Route, Problem> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let templates: Vec<&(&str, &str)> = ROUTES.iter().filter(|(_, t)| fits(t, &segments)).collect();
    let Some((_, template)) = templates.iter().find(|(m, _)| *m == method) else {
        if templates.is_empty() {
            return Err(Problem::unknown_route(path));
        }
        let allow: Vec<&str> = templates.iter().map(|(m, _)| *m).collect();
        return Err(Problem::method_not_allowed(method, path, &allow));
    };
    let name = || -> Result<String, Problem> {
        let raw = segments.get(1).copied().unwrap_or_default();
        match percent_decode(raw) {
            Some(n) if boost::valid_name(&n) => Ok(n),
            _ => Err(Problem::bad_path(
                "name",
                format!("{raw:?} is not a table name (3-255 of a-z A-Z 0-9 _ - .)"),
            )),
        }
    };
    let id = || -> Result<String, Problem> {
        let raw = segments.get(3).copied().unwrap_or_default();
        match percent_decode(raw) {
            Some(i) if boost::valid_id(&i) => Ok(i),
            _ => Err(Problem::bad_path(
                "id",
                format!(
                    "{raw:?} is not a boost id (1-{MAX_ID_CHARS} lowercase letters and digits)"
                ),
            )),
        }
    };
    Ok(match (method, *template) {
        ("GET", "/tables") => Route::Tables,
        ("GET", "/tables/{name}") => Route::Table(name()?),
        (m, "/tables/{name}/settings") => Route::Settings {
            name: name()?,
            replace: m == "PUT",
        },
        ("GET", "/tables/{name}/boosts") => Route::Boosts(name()?),
        ("POST", "/tables/{name}/boosts") => Route::NewBoost(name()?),
        ("GET", "/tables/{name}/boosts/{id}") => Route::Boost {
            name: name()?,
            id: id()?,
        },
        _ => Route::DeleteBoost {
            name: name()?,
            id: id()?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_routes() {
        let n = || "orders".to_owned();
        for (method, path, want) in [
            ("GET", "/tables", Route::Tables),
            ("GET", "/tables/orders", Route::Table(n())),
            (
                "PUT",
                "/tables/orders/settings",
                Route::Settings {
                    name: n(),
                    replace: true,
                },
            ),
            (
                "PATCH",
                "/tables/orders/settings",
                Route::Settings {
                    name: n(),
                    replace: false,
                },
            ),
            ("GET", "/tables/orders/boosts", Route::Boosts(n())),
            ("POST", "/tables/orders/boosts", Route::NewBoost(n())),
            (
                "GET",
                "/tables/orders/boosts/ab12",
                Route::Boost {
                    name: n(),
                    id: "ab12".into(),
                },
            ),
            (
                "DELETE",
                "/tables/orders/boosts/ab12",
                Route::DeleteBoost {
                    name: n(),
                    id: "ab12".into(),
                },
            ),
            ("GET", "/tables/my%2Etable", Route::Table("my.table".into())),
        ] {
            assert_eq!(route(method, path), Ok(want), "{method} {path}");
        }
    }

    #[test]
    fn wrong_paths_methods_and_parameters() {
        assert_eq!(route("GET", "/nope").unwrap_err().status, 404);
        assert_eq!(route("GET", "/tables/").unwrap_err().status, 404);
        assert_eq!(
            route("GET", "/tables/orders/settings/x")
                .unwrap_err()
                .status,
            404
        );
        let p = route("DELETE", "/tables/orders").unwrap_err();
        assert_eq!((p.status, p.allow.as_deref()), (405, Some("GET")));
        let p = route("POST", "/tables/orders/settings").unwrap_err();
        assert_eq!((p.status, p.allow.as_deref()), (405, Some("PUT, PATCH")));
        let p = route("GET", "/tables/a%2Fb").unwrap_err();
        assert_eq!((p.status, p.field.as_deref()), (400, Some("name")));
        let p = route("GET", "/tables/ab").unwrap_err();
        assert_eq!(p.status, 400, "too short for a table name");
        let p = route("GET", "/tables/orders/boosts/AB").unwrap_err();
        assert_eq!((p.status, p.field.as_deref()), (400, Some("id")));
        assert_eq!(route("GET", "/tables/%zz").unwrap_err().status, 400);
    }
}
