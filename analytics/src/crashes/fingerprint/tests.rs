//! Tests of fingerprints: what groups together, what splits, which frames count, and the hash itself.

use super::{Frame, TOP_FRAMES, fingerprint, in_app};
use sha2::{Digest, Sha256};

/// A JavaScript report of the checkout bug, from a build with bundle hash `hash`, at `line`.
fn checkout_js(hash: &str, line: u32) -> Vec<(String, String)> {
    vec![
        (
            "Checkout.pay".to_owned(),
            format!("https://cdn.example.com/static/js/main.{hash}.js:{line}:17"),
        ),
        ("Array.forEach".to_owned(), "<anonymous>".to_owned()),
        (
            "dispatch".to_owned(),
            "https://cdn.example.com/node_modules/react-dom/cjs/react-dom.js:3:4".to_owned(),
        ),
        (
            "submit".to_owned(),
            format!(
                "https://cdn.example.com/static/js/main.{hash}.js:{}:2",
                line + 40
            ),
        ),
    ]
}

fn hash_of(error_type: &str, frames: &[(String, String)]) -> String {
    let pairs: Vec<(&str, &str)> = frames
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    fingerprint(error_type, &pairs).hash
}

#[test]
fn the_same_bug_groups_across_lines_bundle_hashes_and_addresses() {
    let first = hash_of("TypeError", &checkout_js("3f2a9c1b", 12));
    assert_eq!(first, hash_of("TypeError", &checkout_js("9e8d7c6b", 120)));
    assert_eq!(
        first,
        hash_of(" TypeError ", &checkout_js("0a1b2c3d4e5f", 7))
    );
    let native = |address: &str, offset: u32| {
        vec![
            (
                format!("crash_in_parser {address}"),
                format!("/home/ci-{offset}/shop/src/parse.c:{offset}"),
            ),
            (
                format!("main + {offset}"),
                "/usr/src/app/src/main.c".to_owned(),
            ),
        ]
    };
    assert_eq!(
        hash_of("SIGSEGV", &native("0x7ffde3a1b2c4", 12)),
        hash_of("SIGSEGV", &native("0x55d0c0ffee00", 98))
    );
}

#[test]
fn another_error_type_or_other_top_frames_split() {
    let frames = checkout_js("3f2a9c1b", 12);
    let type_error = hash_of("TypeError", &frames);
    assert_ne!(type_error, hash_of("RangeError", &frames));
    let mut other = frames.clone();
    other[0].0 = "Checkout.refund".to_owned();
    assert_ne!(type_error, hash_of("TypeError", &other));
    let mut other_file = frames.clone();
    other_file[0].1 = "https://cdn.example.com/static/js/admin.3f2a9c1b.js:12:17".to_owned();
    assert_ne!(type_error, hash_of("TypeError", &other_file));
}

#[test]
fn system_frames_do_not_count_while_app_frames_exist() {
    let frames = checkout_js("3f2a9c1b", 12);
    let f = fingerprint(
        "TypeError",
        &frames
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        f.frames,
        vec![
            Frame {
                function: "Checkout.pay".into(),
                file: "js/main.js".into()
            },
            Frame {
                function: "submit".into(),
                file: "js/main.js".into()
            },
        ]
    );
    // Another library frame in between changes nothing.
    let mut more = frames.clone();
    more.insert(1, ("java.lang.Thread.run".into(), "Thread.java".into()));
    assert_eq!(hash_of("TypeError", &frames), hash_of("TypeError", &more));
}

#[test]
fn when_no_frame_is_in_app_every_frame_counts() {
    let frames = [
        ("java.lang.Integer.parseInt", "Integer.java:652"),
        ("android.os.Handler.dispatchMessage", "Handler.java:106"),
    ];
    let f = fingerprint("java.lang.NumberFormatException", &frames);
    assert_eq!(f.frames.len(), 2);
    assert_eq!(f.frames[0].file, "Integer.java");
    let other = [("java.lang.Long.parseLong", "Long.java:700")];
    assert_ne!(
        f.hash,
        fingerprint("java.lang.NumberFormatException", &other).hash
    );
}

#[test]
fn only_the_top_five_frames_count_and_bare_addresses_are_skipped() {
    let mut frames: Vec<(String, String)> = (0..TOP_FRAMES)
        .map(|k| (format!("step_{k}"), "src/flow.rs".to_owned()))
        .collect();
    let top = hash_of("Panic", &frames);
    frames.push(("deeper".into(), "src/deeper.rs".into()));
    assert_eq!(
        top,
        hash_of("Panic", &frames),
        "a sixth frame does not count"
    );
    frames.insert(2, ("0x7ffde3a1b2c4".into(), String::new()));
    assert_eq!(
        top,
        hash_of("Panic", &frames),
        "an unsymbolicated frame is skipped"
    );
    frames.insert(0, ("step_new".into(), "src/flow.rs".into()));
    assert_ne!(top, hash_of("Panic", &frames));
}

#[test]
fn in_app_frames_are_those_outside_system_and_library_namespaces() {
    for (function, file) in [
        ("java.util.ArrayList.get", "ArrayList.java"),
        ("javax.servlet.http.HttpServlet.service", ""),
        ("kotlin.collections.CollectionsKt.first", ""),
        ("android.view.View.performClick", "View.java"),
        ("dalvik.system.NativeStart.main", ""),
        ("__pthread_kill", "/usr/lib/system/libsystem_kernel.dylib"),
        ("-[UIApplication sendAction:to:from:forEvent:]", "UIKitCore"),
        ("__CFRUNLOOP_IS_CALLING_OUT", "CoreFoundation"),
        ("render", "webpack:///./node_modules/react-dom/index.js"),
        (
            "processTicksAndRejections",
            "node:internal/process/task_queues",
        ),
        ("Array.map", "<anonymous>"),
        ("<anonymous>", "app.js"),
        (
            "std::panicking::begin_panic",
            "library/std/src/panicking.rs",
        ),
        ("core::result::unwrap_failed", ""),
        ("<core::pin::Pin<P> as core::future::Future>::poll", ""),
        ("tokio::runtime::task::harness::poll", ""),
    ] {
        assert!(
            !in_app(function, file),
            "{function} in {file} is not the app's"
        );
    }
    for (function, file) in [
        ("com.example.shop.Checkout.pay", "Checkout.kt"),
        ("shop::checkout::pay", "src/checkout.rs"),
        ("-[CheckoutController pay:]", "CheckoutController.m"),
        (
            "Checkout.pay",
            "https://cdn.example.com/static/js/main.3f2a9c1b.js",
        ),
        ("javaLikeName", "src/java.ts"),
    ] {
        assert!(in_app(function, file), "{function} in {file} is the app's");
    }
}

#[test]
fn the_hash_is_sha_256_of_the_error_type_and_frames_as_json() {
    let f = fingerprint(
        "TypeError",
        &[("Checkout.pay:12", "/srv/app/static/js/main.3f2a9c1b.js")],
    );
    let expected = Sha256::digest(br#"["TypeError",[["Checkout.pay","js/main.js"]]]"#);
    let expected: String = expected.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(f.hash, expected);
    assert_eq!(f.hash.len(), 64);
    // A frameless report is fingerprinted by its error type alone.
    let bare = Sha256::digest(br#"["TypeError",[]]"#);
    let bare: String = bare.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(fingerprint("TypeError", &[]).hash, bare);
    // The parts cannot run into each other.
    assert_ne!(
        fingerprint("a", &[("bc", "")]).hash,
        fingerprint("ab", &[("c", "")]).hash
    );
}
