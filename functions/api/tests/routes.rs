//! Every route of the management API against the local emulator (moto server), through the
//! handler exactly as Lambda calls it (payload-v2 events turned into requests by `lambda_http`):
//! the views, the changes (checked with `ListTagsOfResource`), and each route's errors: unknown
//! table, not opted in, malformed body, bad values, a boost in the past, too many boosts, no
//! caller identity, a wrong method. Each test has its own opt-in tag key and tables.

use api::Api;
use autoscaler_aws::RunConfig;
use scaling_policy::Dimension;
use serde_json::{Value, json};
use test_support::api_gateway::request;
use test_support::emulator::{clients, seed_recent, table};

struct Answer {
    status: u16,
    content_type: String,
    location: Option<String>,
    json: Value,
}

async fn api(key: &str) -> Api {
    Api {
        clients: clients().await,
        config: RunConfig {
            tag_key: key.to_owned(),
            ..RunConfig::default()
        },
    }
}

async fn call(api: &Api, method: &str, path: &str, body: Option<Value>) -> Answer {
    let body = body.map(|b| b.to_string());
    let r = api::handle(api, request(method, path, body.as_deref(), true)).await;
    let header = |h| {
        r.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let bytes: &[u8] = r.body().as_ref();
    Answer {
        status: r.status().as_u16(),
        content_type: header("content-type").unwrap_or_default(),
        location: header("location"),
        json: serde_json::from_slice(bytes).unwrap_or(Value::Null),
    }
}

/// Asserts a problem answer: its status, kind and field.
fn problem(a: &Answer, status: u16, kind: &str, field: Option<&str>) {
    assert_eq!(a.status, status, "{:#}", a.json);
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(
        a.json["type"],
        format!("urn:ddb-autoscaler:problem:{kind}"),
        "{:#}",
        a.json
    );
    assert_eq!(a.json["status"], status);
    assert!(a.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(a.json["field"].as_str(), field, "{:#}", a.json);
}

async fn tags(api: &Api, name: &str) -> Vec<(String, String)> {
    let arn = autoscaler_aws::aws::describe(&api.clients, name)
        .await
        .expect("describe")
        .arn;
    let mut t = autoscaler_aws::tags::list(&api.clients, name, &arn)
        .await
        .expect("list tags");
    t.sort();
    t
}

fn later(secs: i64) -> String {
    autoscaler_aws::now().plus_secs(secs).to_string()
}

#[tokio::test]
async fn get_tables_lists_the_opted_in_tables_with_what_each_function_would_decide() {
    let key = "api-list";
    let a = api(key).await;
    table(
        &a.clients,
        "list-hot",
        Some((10, 10)),
        &[("by-user", 5, 5)],
        &[(key, "on")],
    )
    .await;
    table(
        &a.clients,
        "list-dry",
        Some((10, 10)),
        &[],
        &[(key, "dry-run")],
    )
    .await;
    table(&a.clients, "list-off", Some((10, 10)), &[], &[(key, "off")]).await;
    table(&a.clients, "list-demand", None, &[], &[(key, "on")]).await;
    let now = autoscaler_aws::now();
    seed_recent(
        &a.clients,
        "list-hot",
        None,
        Dimension::Read,
        now,
        5,
        9.5,
        0.0,
    )
    .await;

    let r = call(&a, "GET", "/tables", None).await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    assert_eq!(r.content_type, "application/json");
    let names: Vec<&str> = r.json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["list-demand", "list-dry", "list-hot"],
        "on and dry-run only"
    );
    let hot = &r.json["tables"][2];
    assert_eq!(
        (&hot["mode"], &hot["status"]),
        (&json!("on"), &json!("decided"))
    );
    let read = &hot["parts"][0]["read"];
    assert_eq!(read["provisioned"], 10);
    assert_eq!(
        read["scale_up"],
        json!({"action": "increase", "to": 12, "reason": "above_trigger"})
    );
    assert_eq!(hot["parts"][1]["index"], "by-user");
    assert_eq!(r.json["tables"][0]["status"], "skipped", "on-demand");
}

#[tokio::test]
async fn get_table_shows_its_parts_quota_overrides_and_boosts() {
    let key = "api-one";
    let a = api(key).await;
    let tag = format!("{key}:read-max");
    table(
        &a.clients,
        "one-orders",
        Some((10, 10)),
        &[("by-user", 5, 5)],
        &[(key, "on"), (&tag, "500")],
    )
    .await;
    let r = call(&a, "GET", "/tables/one-orders", None).await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    assert_eq!(r.json["overrides"], json!({ tag.clone(): "500" }));
    let part = &r.json["parts"][0];
    assert_eq!(part["decrease_allowed_now"], true);
    assert_eq!(part["decreases_today"], 0);
    assert_eq!(part["read"]["max"], 500);
    assert_eq!(
        part["read"]["scale_up"]["reason"], "no_data",
        "no datapoints: do nothing"
    );
    assert_eq!(part["read"]["boost"], Value::Null);

    let b = call(
        &a,
        "POST",
        "/tables/one-orders/boosts",
        Some(json!({"write": 40, "from": later(60), "until": later(3600), "note": "launch"})),
    )
    .await;
    assert_eq!(b.status, 201, "{:#}", b.json);
    let r = call(&a, "GET", "/tables/one-orders", None).await;
    assert_eq!(r.json["boosts"][0]["id"], b.json["id"]);
    assert_eq!(
        r.json["parts"][0]["write"]["boost"], 40,
        "active from 5 minutes before from"
    );
    assert_eq!(
        r.json["parts"][0]["write"]["scale_up"],
        json!({"action": "increase", "to": 40, "reason": "boost"})
    );
}

#[tokio::test]
async fn unknown_and_not_opted_in_tables_are_refused_on_every_route() {
    let key = "api-refuse";
    let a = api(key).await;
    table(
        &a.clients,
        "refuse-off",
        Some((10, 10)),
        &[],
        &[(key, "off")],
    )
    .await;
    table(&a.clients, "refuse-untagged", Some((10, 10)), &[], &[]).await;
    let boost = json!({"write": 5, "from": later(60), "until": later(600)});
    for (method, suffix, body) in [
        ("GET", "", None),
        ("PUT", "/settings", Some(json!({"read-max": 5}))),
        ("PATCH", "/settings", Some(json!({"read-max": 5}))),
        ("GET", "/boosts", None),
        ("POST", "/boosts", Some(boost.clone())),
        ("GET", "/boosts/ab12", None),
        ("DELETE", "/boosts/ab12", None),
    ] {
        let r = call(
            &a,
            method,
            &format!("/tables/refuse-nope{suffix}"),
            body.clone(),
        )
        .await;
        problem(&r, 404, "unknown-table", Some("name"));
        for name in ["refuse-off", "refuse-untagged"] {
            let r = call(&a, method, &format!("/tables/{name}{suffix}"), body.clone()).await;
            problem(&r, 409, "not-opted-in", Some("name"));
        }
    }
    assert_eq!(
        tags(&a, "refuse-off").await,
        [(key.to_owned(), "off".to_owned())],
        "nothing written"
    );
}

#[tokio::test]
async fn put_replaces_the_overrides_and_patch_merges() {
    let key = "api-settings";
    let a = api(key).await;
    let k = |s: &str| format!("{key}:{s}");
    table(
        &a.clients,
        "settings-orders",
        Some((10, 10)),
        &[("by-user", 5, 5)],
        &[
            (key, "dry-run"),
            ("team", "x"),
            (&k("target"), "60"),
            (&k("read-max"), "500"),
        ],
    )
    .await;
    let r = call(
        &a,
        "PUT",
        "/tables/settings-orders/settings",
        Some(json!({"read-max": 800, "indexes": {"by-user": {"write-min": 2}}})),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    assert_eq!(
        r.json["set"],
        json!({ k("read-max"): "800", k("index:by-user:write-min"): "2" })
    );
    assert_eq!(r.json["removed"], json!([k("target")]));
    let s = |pairs: &[(&str, &str)]| {
        let mut v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        tags(&a, "settings-orders").await,
        s(&[
            (key, "dry-run"),
            ("team", "x"),
            (&k("read-max"), "800"),
            (&k("index:by-user:write-min"), "2")
        ])
    );

    let r = call(
        &a,
        "PATCH",
        "/tables/settings-orders/settings",
        Some(json!({"read-max": null, "target": 70})),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.json);
    assert_eq!(
        tags(&a, "settings-orders").await,
        s(&[
            (key, "dry-run"),
            ("team", "x"),
            (&k("target"), "70"),
            (&k("index:by-user:write-min"), "2")
        ])
    );
}

#[tokio::test]
async fn invalid_settings_name_the_field_and_write_nothing() {
    let key = "api-bad-settings";
    let a = api(key).await;
    table(
        &a.clients,
        "bad-settings",
        Some((10, 10)),
        &[("by-user", 5, 5)],
        &[(key, "on")],
    )
    .await;
    let before = tags(&a, "bad-settings").await;
    let path = "/tables/bad-settings/settings";
    for (method, body, status, kind, field) in [
        (
            "PUT",
            json!({"read-max": "500"}),
            400,
            "malformed-body",
            "/read-max",
        ),
        ("PUT", json!([1, 2]), 400, "malformed-body", ""),
        (
            "PATCH",
            json!({"indexes": {"by-user": {"read-max": "x"}}}),
            400,
            "malformed-body",
            "/indexes/by-user/read-max",
        ),
        (
            "PUT",
            json!({"read-min": 900, "read-max": 100}),
            422,
            "invalid-settings",
            "/read-min",
        ),
        (
            "PUT",
            json!({"target": 95}),
            422,
            "invalid-settings",
            "/target",
        ),
        (
            "PUT",
            json!({"raed-max": 5}),
            422,
            "invalid-settings",
            "/raed-max",
        ),
        (
            "PUT",
            json!({"read-max": 0}),
            422,
            "invalid-settings",
            "/read-max",
        ),
        (
            "PATCH",
            json!({"indexes": {"gone": {"read-max": 5}}}),
            422,
            "invalid-settings",
            "/indexes/gone",
        ),
        (
            "PATCH",
            json!({"indexes": {"by-user": {"write-min": 9, "write-max": 3}}}),
            422,
            "invalid-settings",
            "/indexes/by-user/write-min",
        ),
    ] {
        let r = call(&a, method, path, Some(body.clone())).await;
        problem(&r, status, kind, Some(field));
    }
    let r = call(&a, "PUT", path, Some(json!({"target": 95}))).await;
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("\"{key}:target\" = \"95\"")),
        "the functions' own message: {:#}",
        r.json
    );
    assert_eq!(
        tags(&a, "bad-settings").await,
        before,
        "nothing was written"
    );
}

#[tokio::test]
async fn boosts_are_created_read_and_deleted() {
    let key = "api-boosts";
    let a = api(key).await;
    table(
        &a.clients,
        "boost-orders",
        Some((10, 10)),
        &[("by-user", 5, 5)],
        &[(key, "on")],
    )
    .await;
    let body = json!({"index": "by-user", "read": 30, "from": later(3600), "until": later(7200), "note": "launch @ 14:00"});
    let r = call(&a, "POST", "/tables/boost-orders/boosts", Some(body)).await;
    assert_eq!(r.status, 201, "{:#}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/tables/boost-orders/boosts/{id}").as_str())
    );
    assert_eq!(
        (&r.json["state"], &r.json["read"], &r.json["write"]),
        (&json!("scheduled"), &json!(30), &Value::Null)
    );
    let key_of_tag = format!("{key}:boost:{id}");
    assert_eq!(r.json["tag"]["key"], key_of_tag.as_str());
    assert!(
        tags(&a, "boost-orders")
            .await
            .iter()
            .any(|(k, v)| *k == key_of_tag && *v == r.json["tag"]["value"])
    );

    let got = call(
        &a,
        "GET",
        &format!("/tables/boost-orders/boosts/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (got.status, &got.json["note"]),
        (200, &json!("launch @ 14:00"))
    );
    let list = call(&a, "GET", "/tables/boost-orders/boosts", None).await;
    assert_eq!(list.json["boosts"].as_array().map(Vec::len), Some(1));
    let del = call(
        &a,
        "DELETE",
        &format!("/tables/boost-orders/boosts/{id}"),
        None,
    )
    .await;
    assert_eq!((del.status, &del.json["id"]), (200, &json!(id)));
    assert!(
        !tags(&a, "boost-orders")
            .await
            .iter()
            .any(|(k, _)| *k == key_of_tag)
    );
    let gone = call(
        &a,
        "GET",
        &format!("/tables/boost-orders/boosts/{id}"),
        None,
    )
    .await;
    problem(&gone, 404, "unknown-boost", Some("id"));
    let gone = call(
        &a,
        "DELETE",
        &format!("/tables/boost-orders/boosts/{id}"),
        None,
    )
    .await;
    problem(&gone, 404, "unknown-boost", Some("id"));
}

#[tokio::test]
async fn bad_boosts_name_the_field() {
    let key = "api-bad-boosts";
    let a = api(key).await;
    let max = format!("{key}:write-max");
    table(
        &a.clients,
        "bad-boosts",
        Some((10, 10)),
        &[],
        &[(key, "on"), (&max, "100")],
    )
    .await;
    let path = "/tables/bad-boosts/boosts";
    for (body, status, kind, field) in [
        (
            json!({"write": 5, "from": later(-7200), "until": later(-3600)}),
            422,
            "invalid-boost",
            "/until",
        ),
        (
            json!({"write": 5, "from": later(600), "until": later(60)}),
            422,
            "invalid-boost",
            "/until",
        ),
        (
            json!({"write": 500, "from": later(60), "until": later(600)}),
            422,
            "invalid-boost",
            "/write",
        ),
        (
            json!({"from": later(60), "until": later(600)}),
            422,
            "invalid-boost",
            "/read",
        ),
        (
            json!({"write": 5, "from": later(60), "until": later(600), "index": "nope"}),
            422,
            "invalid-boost",
            "/index",
        ),
        (
            json!({"write": 5, "from": later(60), "until": later(600), "note": "{json}"}),
            422,
            "invalid-boost",
            "/note",
        ),
        (
            json!({"write": "5", "from": later(60), "until": later(600)}),
            400,
            "malformed-body",
            "/write",
        ),
        (
            json!({"write": 5, "from": "tomorrow", "until": later(600)}),
            400,
            "malformed-body",
            "/from",
        ),
        (
            json!({"write": 5, "until": later(600)}),
            400,
            "malformed-body",
            "/from",
        ),
        (
            json!({"write": 5, "from": later(60), "until": later(600), "extra": 1}),
            400,
            "malformed-body",
            "/extra",
        ),
    ] {
        let r = call(&a, "POST", path, Some(body.clone())).await;
        problem(&r, status, kind, Some(field));
    }
    let r = call(&a, "GET", "/tables/bad-boosts/boosts/NOT_AN_ID", None).await;
    problem(&r, 400, "bad-path-parameter", Some("id"));
}

#[tokio::test]
async fn a_sixth_boost_is_refused() {
    let key = "api-six";
    let a = api(key).await;
    table(
        &a.clients,
        "six-orders",
        Some((10, 10)),
        &[],
        &[(key, "on")],
    )
    .await;
    for i in 0..5 {
        let body = json!({"write": 5 + i, "from": later(60), "until": later(600)});
        let r = call(&a, "POST", "/tables/six-orders/boosts", Some(body)).await;
        assert_eq!(r.status, 201, "{:#}", r.json);
    }
    let r = call(
        &a,
        "POST",
        "/tables/six-orders/boosts",
        Some(json!({"write": 9, "from": later(60), "until": later(600)})),
    )
    .await;
    problem(&r, 409, "too-many-boosts", None);
    assert_eq!(
        tags(&a, "six-orders").await.len(),
        6,
        "the opt-in tag and five boosts"
    );
}

#[tokio::test]
async fn the_fiftieth_tag_is_the_last() {
    let key = "api-fifty";
    let a = api(key).await;
    let filler: Vec<(String, String)> =
        (0..49).map(|i| (format!("t{i}"), "x".to_owned())).collect();
    let mut all: Vec<(&str, &str)> = filler
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push((key, "on"));
    table(&a.clients, "fifty-tags", Some((10, 10)), &[], &all).await;
    let r = call(
        &a,
        "POST",
        "/tables/fifty-tags/boosts",
        Some(json!({"write": 5, "from": later(60), "until": later(600)})),
    )
    .await;
    problem(&r, 409, "too-many-tags", None);
    let r = call(
        &a,
        "PATCH",
        "/tables/fifty-tags/settings",
        Some(json!({"read-max": 5})),
    )
    .await;
    problem(&r, 409, "too-many-tags", None);
}

#[tokio::test]
async fn no_identity_wrong_methods_and_unknown_routes() {
    let a = api("api-routes").await;
    let r = api::handle(&a, request("GET", "/tables", None, false)).await;
    assert_eq!(r.status(), 403);
    let r = call(&a, "DELETE", "/tables/some-table", None).await;
    problem(&r, 405, "method-not-allowed", None);
    let r = api::handle(
        &a,
        request("POST", "/tables/some-table/settings", Some("{}"), true),
    )
    .await;
    assert_eq!(
        r.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("PUT, PATCH")
    );
    let r = call(&a, "GET", "/nothing-here", None).await;
    problem(&r, 404, "unknown-route", None);
    let r = call(&a, "GET", "/tables/x", None).await;
    problem(&r, 400, "bad-path-parameter", Some("name"));
}
