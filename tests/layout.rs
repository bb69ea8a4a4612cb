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
