//! Tests of frame normalisation: each kind of noise on its own, and what must survive it.

use super::{file, function};

/// Checks that every input normalises to `expected`.
fn all_become(normalise: fn(&str) -> String, inputs: &[&str], expected: &str) {
    for input in inputs {
        assert_eq!(normalise(input), expected, "normalising {input:?}");
    }
}

#[test]
fn addresses_and_offsets_are_removed_from_functions() {
    all_become(
        function,
        &[
            "crash_handler",
            "crash_handler 0x7ffde3a1b2c4",
            "crash_handler+0x1a",
            "crash_handler + 0x1a",
            "0x00007ffde3a1b2c4 crash_handler",
            "crash_handler + 52",
            "crash_handler+52",
            "  crash_handler\t",
        ],
        "crash_handler",
    );
    // A name that merely contains "0x" keeps it.
    assert_eq!(function("parse0x1"), "parse0x1");
    assert_eq!(function("hex_0xzz"), "hex_0xzz");
    // A pure address is nothing.
    assert_eq!(function("0x7ffde3a1b2c4"), "");
}

#[test]
fn line_and_column_numbers_are_removed_but_paths_and_selectors_kept() {
    all_become(function, &["render", "render:12", "render:12:34"], "render");
    assert_eq!(function("std::vec::Vec<T>::push"), "std::vec::Vec<T>::push");
    assert_eq!(
        function("-[AppDelegate application:didFinishLaunchingWithOptions:]"),
        "-[AppDelegate application:didFinishLaunchingWithOptions:]"
    );
}

#[test]
fn java_and_kotlin_lambdas_and_anonymous_classes_lose_their_numbers() {
    all_become(
        function,
        &[
            "com.example.Checkout$$Lambda$123/0x0000000800c0b440.accept",
            "com.example.Checkout$$Lambda$7/1283928880.accept",
            "com.example.Checkout$$Lambda/0x000001f8010c8000.accept",
            "com.example.Checkout$$Lambda.accept",
        ],
        "com.example.Checkout$$Lambda.accept",
    );
    all_become(
        function,
        &[
            "com.example.Checkout$pay$lambda$12",
            "com.example.Checkout$pay$lambda$0",
            "com.example.Checkout$pay$lambda-3",
        ],
        "com.example.Checkout$pay$lambda",
    );
    all_become(
        function,
        &[
            "com.example.Cart.lambda$total$0",
            "com.example.Cart.lambda$total$17",
        ],
        "com.example.Cart.lambda$total",
    );
    assert_eq!(function("com.example.Cart$1.run"), "com.example.Cart.run");
    // A `$` before letters is part of the name.
    assert_eq!(
        function("com.example.Cart$Item.price"),
        "com.example.Cart$Item.price"
    );
}

#[test]
fn swift_and_objective_c_blocks_and_closures_lose_their_numbers() {
    all_become(
        function,
        &[
            "__34-[CheckoutController pay:]_block_invoke",
            "__34-[CheckoutController pay:]_block_invoke_3",
            "__34-[CheckoutController pay:]_block_invoke.12",
        ],
        "__34-[CheckoutController pay:]_block_invoke",
    );
    all_become(
        function,
        &[
            "closure #1 in CheckoutController.pay()",
            "closure #2 in CheckoutController.pay()",
        ],
        "closure in CheckoutController.pay()",
    );
}

#[test]
fn rust_symbol_hashes_are_removed() {
    assert_eq!(
        function("shop::checkout::pay::h0123456789abcdef"),
        "shop::checkout::pay"
    );
    // Not sixteen hex digits: part of the name.
    assert_eq!(function("shop::checkout::hello"), "shop::checkout::hello");
}

#[test]
fn user_data_in_functions_becomes_placeholders() {
    all_become(
        function,
        &[
            "load_order_550e8400-e29b-41d4-a716-446655440000",
            "load_order_6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
        ],
        "load_order_<uuid>",
    );
    all_become(
        function,
        &["cache_user_12345", "cache_user_9876543210"],
        "cache_user_<n>",
    );
    // Short digit runs are names.
    assert_eq!(function("decode_utf8_base64"), "decode_utf8_base64");
    assert_eq!(function("render_2024"), "render_2024");
}

#[test]
fn bundle_hashes_query_strings_and_line_numbers_are_removed_from_files() {
    all_become(
        file,
        &[
            "https://cdn.example.com/static/js/main.3f2a9c1b.js",
            "https://cdn.example.com/static/js/main.9e8d7c6b.js:1:2345",
            "https://cdn.example.com/static/js/main.js?v=12#top",
            "https://cdn.example.com:8443/assets/v2/static/js/main.3f2a9c1b4e5d6f708192.js",
            "(https://cdn.example.com/static/js/main.3f2a9c1b.js:1:2)",
        ],
        "js/main.js",
    );
    assert_eq!(file("/assets/index-3f2a9c1b.js"), "assets/index.js");
    assert_eq!(file("/static/js/2.3f2a9c1b.chunk.js"), "js/2.chunk.js");
    assert_eq!(file("/static/js/3f2a9c1b4e.js"), "js/<hash>.js");
    // Words and versions are not hashes.
    assert_eq!(
        file("/lib/react-dom.production.min.js"),
        "lib/react-dom.production.min.js"
    );
    assert_eq!(file("/lib/jquery-3.7.1.min.js"), "lib/jquery-3.7.1.min.js");
    assert_eq!(file("/lib/polyfills.es2015.js"), "lib/polyfills.es2015.js");
}

#[test]
fn absolute_paths_keep_their_last_two_components() {
    all_become(
        file,
        &[
            "/home/alice/shop/src/checkout/pay.rs",
            "/builds/ci-runner-7/shop/src/checkout/pay.rs:88:5",
            "C:\\Users\\bob\\shop\\src\\checkout\\pay.rs",
            "~/shop/src/checkout/pay.rs",
            "file:///Users/carol/shop/src/checkout/pay.rs",
            "webpack:///./src/checkout/pay.rs",
        ],
        "checkout/pay.rs",
    );
    // Relative paths are the same on every machine, so they are kept whole.
    assert_eq!(file("./src/checkout/pay.rs"), "src/checkout/pay.rs");
    assert_eq!(file("CheckoutActivity.kt"), "CheckoutActivity.kt");
    assert_eq!(file("node:internal/timers:569:17"), "node:internal/timers");
    assert_eq!(file("<anonymous>"), "<anonymous>");
    assert_eq!(file(""), "");
    assert_eq!(file("https://example.com"), "");
}

#[test]
fn normalising_twice_changes_nothing_more() {
    for input in [
        "com.example.Checkout$$Lambda$123/0x0000000800c0b440.accept",
        "closure #1 in CheckoutController.pay() + 52",
        "load_order_550e8400-e29b-41d4-a716-446655440000:12:3",
        "weird \u{0}\u{7} text  with  spaces",
        "ünïcödé::fünctiön::h0123456789abcdef",
    ] {
        let once = function(input);
        assert_eq!(function(&once), once, "{input:?}");
    }
    for input in [
        "https://cdn.example.com/static/js/main.3f2a9c1b.js:1:2345?x=1",
        "C:\\Users\\bob\\shop\\src\\checkout\\pay.rs",
        "/static/js/3f2a9c1b4e.js",
    ] {
        let once = file(input);
        assert_eq!(file(&once), once, "{input:?}");
    }
}
