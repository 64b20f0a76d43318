//! `ddb-autoscaler boost` end to end against the local emulator, and the active boost as
//! `status` and `plan` show it: the built binary, tables in moto, a tag key of its own.

mod common;

use common::{cli, clients, json, run, table};
use serde_json::Value;

fn later(secs: i64) -> String {
    autoscaler_aws::now().plus_secs(secs).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_boost_added_by_the_cli_is_shown_by_status_and_plan_and_removed() {
    let c = clients().await;
    let k = "cli-test-boost";
    table(&c, "bo-orders", Some((10, 10)), &[], &[(k, "on")]).await;
    table(&c, "bo-off", Some((10, 10)), &[], &[(k, "off")]).await;

    let added = json(cli(k).args([
        "boost",
        "add",
        "--table",
        "bo-orders",
        "--write",
        "40",
        "--from",
        &later(120),
        "--until",
        &later(3600),
        "--note",
        "launch day",
        "--json",
    ]));
    let id = added["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        (&added["write"], &added["read"], &added["state"]),
        (&Value::from(40), &Value::Null, &Value::from("active")),
        "in force from 5 minutes before from: {added:#}"
    );

    let status = json(cli(k).args(["status", "--json"]));
    let t = &status["targets"][0];
    assert_eq!(t["table"], "bo-orders");
    assert_eq!(t["write"]["boost"], 40, "{t:#}");
    assert_eq!(t["write"]["scale_up"]["reason"], "boost");
    assert_eq!(t["write"]["scale_up"]["to"], 40);
    assert_eq!(status["boosts"][0]["id"], id.as_str());
    let text = String::from_utf8_lossy(&run(cli(k).arg("status"), true).stdout).into_owned();
    assert!(
        text.contains(&format!("boost on bo-orders: {id}: write 40")),
        "{text}"
    );

    let plan = json(cli(k).args(["plan", "--direction", "up", "--json"]));
    let d = plan["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dimension"] == "write")
        .expect("a write decision")
        .clone();
    assert_eq!(
        (&d["reason"], &d["to"], &d["numbers"]["boost"]),
        (&Value::from("boost"), &Value::from(40), &Value::from(40))
    );

    let list = json(cli(k).args(["boost", "list", "--table", "bo-orders", "--json"]));
    assert_eq!(list["boosts"].as_array().map(Vec::len), Some(1));
    run(
        cli(k).args(["boost", "remove", "--table", "bo-orders", "--id", &id]),
        true,
    );
    let list = json(cli(k).args(["boost", "list", "--table", "bo-orders", "--json"]));
    assert_eq!(list["boosts"], Value::Array(vec![]));
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_boosts_name_the_table_and_the_field() {
    let c = clients().await;
    let k = "cli-test-boost-refused";
    table(&c, "br-orders", Some((10, 10)), &[], &[(k, "on")]).await;
    table(&c, "br-off", Some((10, 10)), &[], &[(k, "off")]).await;
    let stderr =
        |args: &[&str]| String::from_utf8_lossy(&run(cli(k).args(args), false).stderr).into_owned();
    let past = stderr(&[
        "boost",
        "add",
        "--table",
        "br-orders",
        "--write",
        "5",
        "--from",
        &later(-7200),
        "--until",
        &later(-60),
    ]);
    assert!(
        past.contains("br-orders") && past.contains("until") && past.contains("in the past"),
        "{past}"
    );
    let off = stderr(&[
        "boost",
        "add",
        "--table",
        "br-off",
        "--write",
        "5",
        "--from",
        &later(60),
        "--until",
        &later(600),
    ]);
    assert!(
        off.contains("br-off") && off.contains("not opted in"),
        "{off}"
    );
    let gone = stderr(&["boost", "remove", "--table", "br-orders", "--id", "abc123"]);
    assert!(gone.contains("no boost \"abc123\""), "{gone}");
}
