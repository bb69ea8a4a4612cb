//! The library's layout is what the README says: its code map names every module of
//! `shared/src`, the modules it calls pure import no AWS crate and no I/O and depend only on
//! pure modules, and no two modules depend on each other (directly or around a cycle).

use std::collections::{BTreeMap, BTreeSet};

use bucketlink_testkit::emulator::workspace_root;

/// Each top-level module of `shared/src` and the top-level modules its shipped code (not its
/// tests) uses through `crate::`.
fn modules() -> BTreeMap<String, (BTreeSet<String>, String)> {
    let src = workspace_root().join("shared/src");
    let mut modules = BTreeMap::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).unwrap().flatten() {
                files.push((path.file_name().unwrap().to_string_lossy().into_owned(), inner.path()));
            }
        } else if path.file_name().is_some_and(|n| n != "lib.rs") {
            files.push((path.file_stem().unwrap().to_string_lossy().into_owned(), path));
        }
    }
    for (module, path) in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let shipped = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
        let deps: BTreeSet<String> = shipped
            .split("crate::")
            .skip(1)
            .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
            .filter(|dep| !dep.is_empty() && *dep != module)
            .collect();
        let entry = modules.entry(module).or_insert_with(|| (BTreeSet::new(), String::new()));
        entry.0.extend(deps);
        entry.1.push_str(&shipped);
    }
    modules
}

/// The backticked names between `start` and `end` in the README's row for `shared/`.
fn listed(start: &str, end: &str) -> BTreeSet<String> {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let row = readme.lines().find(|l| l.starts_with("| `shared/` |")).expect("the code map's shared/ row");
    let part = row.split(start).nth(1).unwrap().split(end).next().unwrap();
    // What a module is, in parentheses after its name, may name other things: drop it.
    let (mut names, mut depth) = (String::new(), 0);
    for c in part.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if depth == 0 => names.push(c),
            _ => {}
        }
    }
    names.split('`').skip(1).step_by(2).map(|name| name.split("::").next().unwrap().to_owned()).collect()
}

#[test]
fn the_code_map_names_every_module() {
    let modules = modules();
    let mut named = listed("**Pure**", "**Failures and budgets**");
    named.extend(listed("**Failures and budgets**", "**With I/O**"));
    named.extend(listed("**With I/O**", "| Lambda"));
    let existing: BTreeSet<String> = modules.keys().cloned().collect();
    let unnamed: Vec<&String> = existing.difference(&named).collect();
    assert!(unnamed.is_empty(), "modules the README's code map does not name: {unnamed:?}");
    let ghosts: Vec<&String> = named.difference(&existing).collect();
    assert!(ghosts.is_empty(), "the code map names modules that do not exist: {ghosts:?}");
}

#[test]
fn pure_modules_do_no_io_and_use_only_pure_modules() {
    let modules = modules();
    let pure = listed("**Pure**", "**Failures and budgets**");
    for name in &pure {
        let (deps, text) = &modules[name];
        for io in ["aws_sdk_", "aws_config", "aws_smithy", "aws_runtime", "reqwest", "tokio::", "std::net", "std::fs"] {
            assert!(!text.contains(io), "{name} is listed as pure but uses {io}");
        }
        let impure: Vec<&String> = deps.iter().filter(|d| !pure.contains(*d)).collect();
        assert!(impure.is_empty(), "{name} is listed as pure but uses {impure:?}");
    }
}

#[test]
fn no_module_depends_on_itself_around_a_cycle() {
    let modules = modules();
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'a>(name: &'a str, modules: &'a BTreeMap<String, (BTreeSet<String>, String)>, path: &mut Vec<&'a str>, done: &mut BTreeSet<&'a str>) {
        if done.contains(name) {
            return;
        }
        if let Some(at) = path.iter().position(|m| *m == name) {
            panic!("a cycle: {} -> {name}", path[at..].join(" -> "));
        }
        path.push(name);
        for dep in modules.get(name).map(|(d, _)| d.iter()).into_iter().flatten() {
            visit(dep, modules, path, done);
        }
        path.pop();
        done.insert(name);
    }
    let mut done = BTreeSet::new();
    for name in modules.keys() {
        visit(name, &modules, &mut Vec::new(), &mut done);
    }
}

/// Every dependency a crate of the workspace declares is used by its code (the test command's
/// check for unused dependencies): the crate's library name, from `cargo metadata`, appears in
/// its sources as a path or an import.
#[test]
fn every_declared_dependency_is_used() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args(["metadata", "--format-version", "1", "--offline"])
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let lib_name = |package: &str| {
        packages
            .iter()
            .find(|p| p["name"] == package)
            .and_then(|p| p["targets"].as_array()?.iter().find(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "lib" || k == "proc-macro"))))
            .and_then(|t| t["name"].as_str())
            .map(|n| n.replace('-', "_"))
            .unwrap_or_else(|| package.replace('-', "_"))
    };
    let members: Vec<&serde_json::Value> = packages.iter().filter(|p| metadata["workspace_members"].as_array().unwrap().contains(&p["id"])).collect();
    let mut unused = Vec::new();
    for member in members {
        let dir = std::path::Path::new(member["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf();
        let mut sources = String::new();
        let mut pending = vec![dir.clone()];
        while let Some(path) = pending.pop() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() && !p.ends_with("target") {
                    pending.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    sources.push_str(&std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        for dependency in member["dependencies"].as_array().unwrap() {
            let name = dependency["rename"].as_str().map(|r| r.replace('-', "_")).unwrap_or_else(|| lib_name(dependency["name"].as_str().unwrap()));
            let used = [format!("{name}::"), format!("use {name}"), format!("{name}!")].iter().any(|p| sources.contains(p.as_str()));
            if !used {
                unused.push(format!("{}: {}", member["name"].as_str().unwrap(), dependency["name"].as_str().unwrap()));
            }
        }
    }
    assert!(unused.is_empty(), "declared but never used: {unused:?}");
}
