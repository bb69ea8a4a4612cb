//! `template.yaml` as data: the harness serves the HTTP API from the template's own routes and
//! CORS settings, so what runs locally is what the template deploys.

use std::process::Command;

use serde_json::Value;

use crate::emulator::workspace_root;

/// The template as JSON, read by cfn-lint's own decoder (it knows `!Ref`, `!GetAtt`, ...).
pub fn template() -> Value {
    let root = workspace_root();
    let setup = Command::new("bash").arg(root.join("infra/local/setup.sh")).status().expect("setup");
    assert!(setup.success());
    let out = Command::new(root.join(".venv/bin/python"))
        .args(["-c", "import json, sys\nfrom cfnlint.decode import decode\nt, errors = decode(sys.argv[1])\nassert not errors, errors\nprint(json.dumps(t))"])
        .arg(root.join("template.yaml"))
        .output()
        .expect("run cfn-lint's decoder");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the template as JSON")
}

/// One `HttpApi` event of a function: `method` (or `ANY`) on `path` (with `{name}` segments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    /// The function's binary (`BuildProperties.Binary`).
    pub binary: String,
}

impl Route {
    /// The route key API Gateway puts in the event, and the path parameters, when `method path`
    /// takes this route.
    pub fn matches(&self, method: &str, path: &str) -> Option<Vec<(String, String)>> {
        if self.method != "ANY" && self.method != method {
            return None;
        }
        let ours: Vec<&str> = self.path.split('/').collect();
        let theirs: Vec<&str> = path.split('/').collect();
        if ours.len() != theirs.len() {
            return None;
        }
        let mut parameters = Vec::new();
        for (a, b) in ours.iter().zip(&theirs) {
            match a.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
                Some(name) if !b.is_empty() => parameters.push((name.to_owned(), (*b).to_owned())),
                _ if a == b => {}
                _ => return None,
            }
        }
        Some(parameters)
    }

    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Every `HttpApi` route of the template's functions.
pub fn routes(template: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    for resource in template["Resources"].as_object().into_iter().flat_map(|r| r.values()) {
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_default();
        for event in resource["Properties"]["Events"].as_object().into_iter().flat_map(|e| e.values()) {
            if event["Type"] == "HttpApi" {
                let p = &event["Properties"];
                routes.push(Route {
                    method: p["Method"].as_str().unwrap_or("ANY").to_ascii_uppercase(),
                    path: p["Path"].as_str().unwrap_or_default().to_owned(),
                    binary: binary.to_owned(),
                });
            }
        }
    }
    routes
}

/// The HTTP API's CORS settings (`CorsConfiguration`), but for its origins, which are a parameter.
#[derive(Clone, Debug)]
pub struct Cors {
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub max_age: u64,
}

pub fn api_cors(template: &Value) -> Cors {
    let cors = &template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"];
    let list = |field: &str| cors[field].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    Cors { allow_methods: list("AllowMethods"), allow_headers: list("AllowHeaders"), max_age: cors["MaxAge"].as_u64().unwrap_or(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_takes_its_method_and_path_and_names_its_parameters() {
        let route = Route { method: "POST".into(), path: "/integrations/{id}/validate".into(), binary: "integrations".into() };
        assert_eq!(route.matches("POST", "/integrations/01J/validate"), Some(vec![("id".into(), "01J".into())]));
        assert_eq!(route.matches("GET", "/integrations/01J/validate"), None);
        assert_eq!(route.matches("POST", "/integrations//validate"), None);
        assert_eq!(route.matches("POST", "/integrations/01J/validate/x"), None);
        let any = Route { method: "ANY".into(), path: "/integrations".into(), binary: "integrations".into() };
        assert_eq!(any.matches("DELETE", "/integrations"), Some(vec![]));
    }
}
