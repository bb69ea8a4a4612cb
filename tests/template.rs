//! `template.yaml` against the code: what the template promises operators must be what the
//! functions do.

use std::time::Duration;

use bucketlink::budget;
use bucketlink_testkit::sam::template;
use serde_json::Value;

fn timeout(template: &Value, function: &str) -> Duration {
    let seconds = template["Resources"][function]["Properties"]["Timeout"].as_u64().unwrap_or_else(|| panic!("{function} has a Timeout"));
    Duration::from_secs(seconds)
}

#[test]
fn each_function_times_out_after_its_budget_and_before_its_caller() {
    let t = template();
    let api_gateway = Duration::from_secs(30);
    for (function, budget) in [("IntegrationsFunction", budget::ATTACH.max(budget::IMPORT)), ("SignUrlFunction", budget::SIGN)] {
        let limit = timeout(&t, function);
        assert!(limit > budget && limit < api_gateway, "{function}: Timeout {limit:?}, budget {budget:?}");
    }
    // A sweep batch: ten messages, `CONCURRENCY` at a time, each within ATTACH; or a dispatch.
    let rounds = 10u32.div_ceil(bucketlink::sweep::CONCURRENCY as u32);
    let revalidate = timeout(&t, "RevalidateFunction");
    assert!(revalidate > budget::ATTACH * rounds && revalidate > budget::DISPATCH, "{revalidate:?}");
    let visibility = t["Resources"]["SweepQueue"]["Properties"]["VisibilityTimeout"].as_u64().unwrap();
    assert!(Duration::from_secs(visibility) >= revalidate * 6, "Lambda wants six times the consumer's timeout");
    assert!(timeout(&t, "PrevalidateFunction") > budget::INSPECTION * 3);
}

#[test]
fn the_sweep_and_its_queue_agree_on_the_last_attempt() {
    let t = template();
    let redrive = &t["Resources"]["SweepQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"];
    let variable = &t["Globals"]["Function"]["Environment"]["Variables"]["BUCKETLINK_SWEEP_MAX_RECEIVES"];
    assert_eq!(redrive, variable, "both are the SweepMaxReceiveCount parameter");
    assert_eq!(redrive["Ref"], "SweepMaxReceiveCount");
}

#[test]
fn status_changes_are_published_from_the_stream_until_they_are() {
    let t = template();
    assert_eq!(t["Resources"]["Table"]["Properties"]["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    let source = &t["Resources"]["StatusEventsFunction"]["Properties"]["Events"]["TableStream"]["Properties"];
    assert_eq!(source["FunctionResponseTypes"], serde_json::json!(["ReportBatchItemFailures"]));
    assert_eq!(source["MaximumRetryAttempts"], -1, "retried until published");
    assert!(source["DestinationConfig"]["OnFailure"]["Destination"].is_object(), "what the stream drops is set aside");
    let alarm = &t["Resources"]["StatusEventsOwedAlarm"]["Properties"];
    assert_eq!(alarm["MetricName"], "IteratorAge");
}

/// The actions the provider role allows `function`'s own code: statements bound to another
/// function by `lambda:SourceFunctionArn` do not count.
fn actions_of(template: &Value, function: &str) -> std::collections::BTreeSet<String> {
    let statements = template["Resources"]["ProviderRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap();
    statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .filter(|s| {
            let bound = &s["Condition"]["ArnEquals"]["lambda:SourceFunctionArn"]["Fn::Sub"];
            bound.is_null() || bound.as_str().is_some_and(|arn| arn.ends_with(&format!("${{AWS::StackName}}-{function}")))
        })
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => vec![],
        })
        .collect()
}

#[test]
fn each_function_may_do_only_what_it_uses_and_never_assume_our_own_roles() {
    let t = template();
    for (function, resource) in [("integrations", "IntegrationsFunction"), ("revalidate", "RevalidateFunction"), ("prevalidate", "PrevalidateFunction")] {
        assert_eq!(t["Resources"][resource]["Properties"]["FunctionName"]["Fn::Sub"], format!("${{AWS::StackName}}-{function}"), "{resource}");
    }
    let of = |f: &str| {
        actions_of(&t, f).into_iter().filter(|a| a.starts_with("dynamodb:") || a.starts_with("sqs:Send") || a.starts_with("sqs:Change")).collect::<Vec<_>>()
    };
    assert_eq!(of("sign-url"), ["dynamodb:GetItem"], "sign-url reads one item");
    assert!(of("revalidate").contains(&"dynamodb:Scan".to_owned()));
    for function in ["integrations", "prevalidate", "sign-url"] {
        assert!(!of(function).contains(&"dynamodb:Scan".to_owned()), "only the sweep scans, not {function}");
        assert!(!of(function).contains(&"sqs:SendMessage".to_owned()), "only the sweep queues, not {function}");
    }
    let statements = t["Resources"]["ProviderRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap();
    // One Deny either way: for every role of our account, or for all but the principals a
    // migration moves to.
    let choice = statements.iter().find_map(|s| s["Fn::If"].as_array()).expect("the Deny, by migration");
    assert_eq!(choice[0], "TakesAnotherPrincipal");
    for deny in &choice[1..] {
        assert_eq!(
            (deny["Effect"].as_str(), deny["Action"].as_str(), &deny["Condition"]["StringEquals"]["aws:ResourceAccount"]),
            (Some("Deny"), Some("sts:AssumeRole"), &serde_json::json!({"Ref": "AWS::AccountId"}))
        );
    }
    assert_eq!(choice[2]["Resource"], "*");
    assert_eq!(choice[1]["NotResource"].as_array().map(Vec::len), Some(2));
}

#[test]
fn no_tenant_or_customer_can_starve_the_web_app() {
    let t = template();
    let sign = &t["Resources"]["SignUrlFunction"]["Properties"]["ReservedConcurrentExecutions"];
    assert_eq!(sign["Fn::If"][1]["Ref"], "SignUrlReservedConcurrency", "{sign}");
    for (function, source) in [("RevalidateFunction", "SweepBatch"), ("PrevalidateFunction", "ObjectNotifications")] {
        let scaling = &t["Resources"][function]["Properties"]["Events"][source]["Properties"]["ScalingConfig"]["MaximumConcurrency"];
        assert!(scaling["Ref"].is_string(), "{function} has a maximum concurrency: {scaling}");
    }
    assert_eq!(t["Globals"]["Function"]["Environment"]["Variables"]["BUCKETLINK_IMPORT_ROWS_PER_MINUTE"]["Ref"], "ImportRowsPerMinute");
}

/// A metric a dashboard widget or an alarm names: its name and its dimensions' names.
fn catalogued(name: &str, mut dimensions: Vec<String>, at: &str) {
    let (_, expected) = bucketlink::telemetry::CATALOGUE.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{at}: {name} is not a metric we emit"));
    let mut wanted: Vec<String> = expected.iter().map(|d| d.to_string()).chain(["Function".to_owned()]).collect();
    wanted.sort();
    dimensions.sort();
    assert_eq!(dimensions, wanted, "{at}: {name}'s dimensions");
}

#[test]
fn the_dashboard_and_the_alarms_use_the_metrics_the_functions_emit() {
    let t = template();
    let functions = ["integrations", "sign-url", "revalidate", "prevalidate", "status-events"];
    let text = t["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"].as_str().expect("a dashboard body");
    let body: Value = serde_json::from_str(&text.replace("${AWS::Region}", "us-east-1")).expect("the dashboard body is JSON");
    let mut on_dashboard = std::collections::BTreeSet::new();
    for widget in body["widgets"].as_array().unwrap() {
        let mut previous: Vec<Value> = Vec::new();
        for entry in widget["properties"]["metrics"].as_array().unwrap() {
            let items = entry.as_array().unwrap();
            if let Some(expression) = items[0]["expression"].as_str() {
                // SEARCH('{bucketlink,<dimensions>} MetricName="<name>"', ...)
                let schema = expression.split('{').nth(1).unwrap().split('}').next().unwrap();
                let mut parts = schema.split(',');
                assert_eq!(parts.next(), Some("bucketlink"), "{expression}");
                let name = expression.split("MetricName=\"").nth(1).unwrap().split('"').next().unwrap();
                catalogued(name, parts.map(str::to_owned).collect(), expression);
                on_dashboard.insert(name.to_owned());
                continue;
            }
            // ["namespace", "name", "dim", "value", ..., {options}], with "." for "as above" and "..." for "all as above".
            let mut resolved: Vec<Value> = if items[0] == "..." { previous.clone() } else { Vec::new() };
            if items[0] != "..." {
                for (i, item) in items.iter().enumerate().filter(|(_, v)| v.is_string()) {
                    resolved.push(if item == "." { previous[i].clone() } else { item.clone() });
                }
            }
            assert_eq!(resolved[0], "bucketlink");
            let name = resolved[1].as_str().unwrap();
            let dimensions: Vec<String> = resolved[2..].chunks(2).map(|pair| pair[0].as_str().unwrap().to_owned()).collect();
            let function = resolved[2..].chunks(2).find(|pair| pair[0] == "Function").map(|pair| pair[1].as_str().unwrap().to_owned()).unwrap();
            assert!(functions.contains(&function.as_str()), "{function}");
            catalogued(name, dimensions, "dashboard");
            on_dashboard.insert(name.to_owned());
            previous = resolved;
        }
    }
    let all: std::collections::BTreeSet<String> = bucketlink::telemetry::CATALOGUE.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_dashboard, all, "the dashboard shows every metric");

    let mut alarmed = std::collections::BTreeSet::new();
    for (name, resource) in t["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let p = &resource["Properties"];
        let mut metrics: Vec<&Value> = p["Metrics"].as_array().into_iter().flatten().filter_map(|m| m.get("MetricStat").map(|s| &s["Metric"])).collect();
        if p["Namespace"].is_string() {
            metrics.push(p);
        }
        for metric in metrics.into_iter().filter(|m| m["Namespace"] == "bucketlink") {
            let dimensions: Vec<String> = metric["Dimensions"].as_array().unwrap().iter().map(|d| d["Name"].as_str().unwrap().to_owned()).collect();
            let function = metric["Dimensions"].as_array().unwrap().iter().find(|d| d["Name"] == "Function").unwrap()["Value"].as_str().unwrap();
            assert!(functions.contains(&function), "{name}: {function}");
            catalogued(metric["MetricName"].as_str().unwrap(), dimensions, name);
            alarmed.insert(name.clone());
        }
    }
    let expected = ["AssumeRoleFaultsAlarm", "EventsLateAlarm", "EventsOwedAlarm", "FailingShareJumpAlarm", "SignUrlLatencyAlarm"];
    assert_eq!(alarmed.iter().map(String::as_str).collect::<Vec<_>>(), expected);

    // The runbook has a row for every alarm of the template.
    let readme = std::fs::read_to_string(bucketlink_testkit::emulator::workspace_root().join("README.md")).unwrap();
    for (name, resource) in t["Resources"].as_object().unwrap() {
        if resource["Type"] == "AWS::CloudWatch::Alarm" {
            assert!(readme.contains(&format!("`{name}`")), "the runbook has no row for {name}");
        }
    }
}
