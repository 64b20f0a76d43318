//! `openapi.yaml` against the implementation: a divergence fails here.
//! - its paths and methods are exactly [`api::routes::ROUTES`];
//! - the settings bodies name exactly the settings the functions' parser knows
//!   (`scaling_policy::config::Setting::ALL`), the reasons and actions are the policy's, and the
//!   problem types are [`api::problem::KINDS`];
//! - the response schemas list exactly the fields the handler answers with (real answers
//!   from the emulator: a table with a GSI and a boost, a settings change, a problem).
//!
//! schemathesis (`tests/schemathesis.rs`) then checks every answer against the schemas.

use std::collections::BTreeSet;

use api::Api;
use autoscaler_aws::RunConfig;
use scaling_policy::Reason;
use scaling_policy::config::Setting;
use serde_json::{Value, json};
use test_support::api_gateway::request;
use test_support::emulator::{clients, table};
use yaml_rust2::{Yaml, YamlLoader};

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(r) => r.parse::<f64>().map_or(Value::Null, Value::from),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::from(s.as_str()),
        Yaml::Boolean(b) => Value::from(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        other => panic!("unexpected key {other:?}"),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn doc() -> Value {
    let text = include_str!("../openapi.yaml");
    let docs = YamlLoader::load_from_str(text).expect("openapi.yaml is YAML");
    to_json(&docs[0])
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "no schema {name}");
    s
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_paths_are_the_routes() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                documented.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    let implemented: BTreeSet<(String, String)> = api::routes::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, implemented);
}

#[test]
fn the_settings_reasons_actions_and_problems_are_the_code_s() {
    let doc = doc();
    let settings: BTreeSet<String> = Setting::ALL
        .iter()
        .map(|s| s.tag_name().to_owned())
        .collect();
    let per_index: BTreeSet<String> = Setting::ALL
        .iter()
        .filter(|s| s.per_index())
        .map(|s| s.tag_name().to_owned())
        .collect();
    for name in ["SettingValues", "SettingValuesPatch"] {
        assert_eq!(
            names(&schema(&doc, name)["properties"]),
            per_index,
            "{name}"
        );
    }
    for name in ["Settings", "SettingsPatch"] {
        let mut want = settings.clone();
        want.insert("indexes".to_owned());
        assert_eq!(names(&schema(&doc, name)["properties"]), want, "{name}");
    }
    let verdict = &schema(&doc, "Verdict")["properties"];
    let reasons: BTreeSet<String> = Reason::ALL.iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(strings(&verdict["reason"]["enum"]), reasons);
    assert_eq!(
        strings(&verdict["action"]["enum"]),
        ["decrease", "increase", "keep"].map(String::from).into()
    );
    let kinds: BTreeSet<String> = api::problem::KINDS
        .iter()
        .map(|(k, _)| format!("{}{k}", api::problem::TYPE_PREFIX))
        .collect();
    assert_eq!(
        strings(&schema(&doc, "Problem")["properties"]["type"]["enum"]),
        kinds
    );
    // Every status a problem can have is documented on some route, with problem+json.
    for (kind, status) in api::problem::KINDS {
        let documented = doc["paths"].as_object().unwrap().values().any(|item| {
            item.as_object()
                .unwrap()
                .values()
                .any(|op| op["responses"].get(status.to_string()).is_some())
        });
        assert!(
            documented || *status == 405,
            "{kind}: status {status} is on no route"
        );
    }
}

/// The fields of `value` are exactly the schema's properties, all required (recursively
/// through `$ref`s to object schemas).
fn same_fields(doc: &Value, schema_name: &str, value: &Value) {
    let s = schema(doc, schema_name);
    let props = &s["properties"];
    let got = names(value);
    assert_eq!(got, names(props), "{schema_name}: answer {value:#}");
    assert_eq!(
        strings(&s["required"]),
        names(props),
        "{schema_name}: every field is required"
    );
    for (field, prop) in props.as_object().expect("properties") {
        let target = prop["$ref"]
            .as_str()
            .or_else(|| prop["items"]["$ref"].as_str());
        let Some(target) = target.and_then(|r| r.strip_prefix("#/components/schemas/")) else {
            continue;
        };
        match &value[field] {
            Value::Array(items) => items.iter().for_each(|i| same_fields(doc, target, i)),
            v @ Value::Object(_) => same_fields(doc, target, v),
            _ => {}
        }
    }
}

async fn call(api: &Api, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let r = api::handle(api, request(method, path, body.as_deref(), true)).await;
    serde_json::from_slice(r.body().as_ref()).expect("JSON")
}

#[tokio::test]
async fn the_response_schemas_are_what_the_handler_answers() {
    let doc = doc();
    let key = "doc-check";
    let a = Api {
        clients: clients().await,
        config: RunConfig {
            tag_key: key.to_owned(),
            ..RunConfig::default()
        },
    };
    table(
        &a.clients,
        "doc-orders",
        Some((10, 10)),
        &[("by-user", 5, 5)],
        &[(key, "on")],
    )
    .await;
    let later = |s| autoscaler_aws::now().plus_secs(s).to_string();
    let boost = call(
        &a,
        "POST",
        "/tables/doc-orders/boosts",
        Some(json!({"write": 9, "from": later(60), "until": later(600)})),
    )
    .await;
    same_fields(&doc, "Boost", &boost);
    let written = call(
        &a,
        "PUT",
        "/tables/doc-orders/settings",
        Some(json!({"read-max": 50})),
    )
    .await;
    same_fields(&doc, "Written", &written);
    let table = call(&a, "GET", "/tables/doc-orders", None).await;
    assert_eq!(
        table["parts"].as_array().map(Vec::len),
        Some(2),
        "{table:#}"
    );
    same_fields(&doc, "Table", &table);
    let tables = call(&a, "GET", "/tables", None).await;
    same_fields(&doc, "Tables", &tables);
    let boosts = call(&a, "GET", "/tables/doc-orders/boosts", None).await;
    same_fields(&doc, "Boosts", &boosts);
    // A problem has the required fields, and nothing the schema does not name.
    let problem = call(
        &a,
        "PUT",
        "/tables/doc-orders/settings",
        Some(json!({"target": 95})),
    )
    .await;
    let s = schema(&doc, "Problem");
    let got = names(&problem);
    assert!(
        strings(&s["required"]).is_subset(&got) && got.is_subset(&names(&s["properties"])),
        "{problem:#}"
    );
}

#[test]
fn the_template_routes_every_route_to_the_function() {
    let text = include_str!("../../../template.yaml");
    let docs = YamlLoader::load_from_str(text).expect("template.yaml is YAML");
    let events = to_json(&docs[0]["Resources"]["ApiFunction"]["Properties"]["Events"]);
    let routed: BTreeSet<(String, String)> = events
        .as_object()
        .expect("ApiFunction has events")
        .values()
        .map(|e| {
            assert_eq!(e["Type"], "HttpApi", "{e}");
            let p = &e["Properties"];
            (
                p["Method"].as_str().unwrap_or_default().to_owned(),
                p["Path"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let implemented: BTreeSet<(String, String)> = api::routes::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(routed, implemented);
}
