//! The registered routes are exactly the OpenAPI document's operations, so the isolation and role walks
//! (which enumerate the document) cover every route added later.
//!
//! Registered routes are read from the route registrations in `web/src` (`web::resource("…")` followed
//! by its `.route(get().to(handler))` calls, under the scope `flagent_web::configure` mounts each file
//! in); the document is the running server's. Both directions are checked, and each documented
//! operation is also asked over HTTP, which must reach a handler (not `route_not_found`, not 405).
//! Paths are compared with their parameter names and patterns erased (`/flags/{}`).

use crate::helpers::{read, spawn_app};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Routes that are not part of the API: the admin UI's pages, the Prometheus endpoint, the docs page
/// and the document itself, and the root health probe (the API's own `/api/v1/health` is documented).
const NOT_IN_THE_DOCUMENT: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/api/docs"),
    ("get", "/api/v1/openapi.json"),
];

fn web_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read web/src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            // The admin UI's pages are HTML, tested by the UI tests and browser tests.
            if path.file_name().is_some_and(|n| n != "ui") {
                files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `/flags/{flagID}/x/{key:.+}` → `/flags/{}/x/{}`.
fn erase_parameters(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The scope `flagent_web::configure` mounts a registration in: OFREP under `/ofrep/v1`, SCIM under
/// `/scim/v2`, the root operations and the browser's SSO routes at the root, everything else under
/// `/api/v1`.
fn prefix(file: &Path, function: &str) -> &'static str {
    match (file.file_name().and_then(|n| n.to_str()), function) {
        (Some("ofrep.rs"), _) => "/ofrep/v1",
        (Some("scim.rs"), _) => "/scim/v2",
        (Some("ops.rs"), "configure_root_ops") => "",
        (Some("sso.rs"), "configure_sso_browser") => "",
        _ => "/api/v1",
    }
}

/// Every (method, path) registered in `text`, a file of `web/src`.
fn registrations(file: &Path, text: &str) -> Vec<(String, String)> {
    let resource = regex::Regex::new(r#"resource\(\s*"([^"]+)"\s*\)"#).unwrap();
    let route = regex::Regex::new(r"\b(get|post|put|delete|patch|head)\(\)\s*\.to\(").unwrap();
    let function = regex::Regex::new(r"fn (configure_\w+)").unwrap();
    let mut found = Vec::new();
    let mut configure = String::new();
    let mut current: Option<String> = None;
    // Walk the tokens in the order they are written: a route belongs to the last resource named.
    let mut marks: Vec<(usize, u8, String)> = Vec::new();
    marks.extend(function.captures_iter(text).map(|c| {
        let m = c.get(1).unwrap();
        (m.start(), 0, m.as_str().to_owned())
    }));
    marks.extend(resource.captures_iter(text).map(|c| {
        let m = c.get(1).unwrap();
        (m.start(), 1, m.as_str().to_owned())
    }));
    marks.extend(route.captures_iter(text).map(|c| {
        let m = c.get(1).unwrap();
        (m.start(), 2, m.as_str().to_owned())
    }));
    marks.sort();
    for (_, kind, value) in marks {
        match kind {
            0 => {
                configure = value;
                current = None;
            }
            1 => current = Some(value),
            _ => {
                let path = current
                    .as_deref()
                    .unwrap_or_else(|| panic!("{}: a route before any resource", file.display()));
                let full = format!("{}{path}", prefix(file, &configure));
                found.push((value, erase_parameters(&full)));
            }
        }
    }
    found
}

fn registered_routes() -> BTreeSet<(String, String)> {
    let mut paths = Vec::new();
    files(&web_src(), &mut paths);
    let mut routes = BTreeSet::new();
    for file in paths {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for route in registrations(&file, &text) {
            assert!(routes.insert(route.clone()), "{route:?} registered twice");
        }
    }
    routes
}

fn documented(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            routes.insert((method.clone(), erase_parameters(path)));
        }
    }
    routes
}

#[test]
fn the_route_reader_understands_registrations() {
    let text = r#"
        fn configure_things(cfg: &mut ServiceConfig) {
            cfg.service(web::resource("/things").route(get().to(list)).route(web::post().to(add)))
               .service(
                   web::resource("/things/{id}/parts/{key:.+}")
                       .route(delete().to(remove)),
               );
        }"#;
    let found = registrations(Path::new("things.rs"), text);
    assert_eq!(
        found,
        vec![
            ("get".to_owned(), "/api/v1/things".to_owned()),
            ("post".to_owned(), "/api/v1/things".to_owned()),
            ("delete".to_owned(), "/api/v1/things/{}/parts/{}".to_owned()),
        ]
    );
}

#[tokio::test]
async fn registered_routes_equal_the_openapi_operations() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/openapi.json", app.address);
    let (status, doc) = read(app.client.get(url).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let documented = documented(&doc);
    let mut registered = registered_routes();
    for (method, path) in NOT_IN_THE_DOCUMENT {
        assert!(
            registered.remove(&((*method).to_owned(), (*path).to_owned())),
            "{method} {path} is listed as undocumented but is not registered"
        );
    }
    assert!(
        registered.len() > 80,
        "found only {} routes",
        registered.len()
    );
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unregistered: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unregistered.is_empty(),
        "registered but not in the OpenAPI document: {undocumented:#?}\n\
         documented but not registered: {unregistered:#?}"
    );

    // Each documented operation reaches a handler: without credentials it is refused or answered,
    // never "no such route" or "method not allowed".
    for (method, path) in &documented {
        let concrete = path.replace("{}", "1");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), format!("{}{concrete}", app.address))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {concrete}: {body}");
        assert!(
            !body.contains("route_not_found"),
            "{method} {concrete} reaches no handler: {body}"
        );
    }
}
