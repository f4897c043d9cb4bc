//! Normalising one stack frame's function name and file, so that the same code gives the same text
//! whatever build, run or machine reported it: memory addresses, offsets, line and column numbers,
//! generated-code numbering (Java and Kotlin lambdas, anonymous classes, Swift and Objective-C blocks
//! and closures, Rust symbol hashes), JavaScript bundle hashes, query strings and machine-specific path
//! prefixes are removed, and user data (UUIDs, runs of five or more digits) becomes a placeholder.
//!
//! Invariant: pure and total: any text gives some text, and normalising twice changes nothing more.

/// Digits in a run that is replaced by [`NUMBER`].
const LONG_DIGITS: usize = 5;
/// What a UUID becomes.
const UUID: &str = "<uuid>";
/// What a long run of digits becomes.
const NUMBER: &str = "<n>";
/// What a file name that is all bundle hash becomes.
const HASH: &str = "<hash>";

/// A frame's function name, normalised.
pub(crate) fn function(raw: &str) -> String {
    let text = strip_java_lambdas(&clean(raw));
    let text = strip_addresses(&text);
    let text = strip_numbering(&text);
    let text = strip_rust_hash(&text);
    let text = strip_line_numbers(&text);
    squeeze(&placeholders(&text))
}

/// A frame's file, normalised: a URL or absolute path keeps its last two components, a relative path
/// all of them.
pub(crate) fn file(raw: &str) -> String {
    let text = clean(raw).replace('\\', "/");
    let text = text.split(['?', '#']).next().unwrap_or("").trim();
    let text = text.trim_start_matches('(').trim_end_matches(')');
    let text = strip_line_numbers(&strip_addresses(text));
    let text = squeeze(&text);
    let (path, absolute) = path_of(&text);
    let mut parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if absolute && parts.len() > 2 {
        parts.drain(..parts.len() - 2);
    }
    let Some(name) = parts.pop() else {
        return String::new();
    };
    let name = strip_bundle_hash(name);
    parts.push(&name);
    placeholders(&parts.join("/"))
}

/// Control characters become spaces.
fn clean(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Runs of whitespace become one space; none at either end.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The end of the run of bytes from `start` that satisfy `keep`.
fn run(b: &[u8], start: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut end = start;
    while end < b.len() && keep(b[end]) {
        end += 1;
    }
    end
}

/// Copies `text` to a new string, letting `skip` drop or replace what starts at each byte: it returns
/// the end of the dropped part and what to write instead.
fn rewrite(
    text: &str,
    skip: impl Fn(&[u8], usize, &str) -> Option<(usize, &'static str)>,
) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if let Some((end, instead)) = skip(b, i, &out) {
            out.push_str(instead);
            i = end;
            continue;
        }
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    out
}

/// Removes `0x…` addresses (with the `+` of an offset such as `+0x1a`) and a trailing decimal offset
/// (`-[Foo bar] + 52`).
fn strip_addresses(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let starts = b[i] == b'0'
            && b.get(i + 1).is_some_and(|x| matches!(x, b'x' | b'X'))
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            && (i == 0 || !is_ident(b[i - 1]));
        let end = run(b, i + 2, |x| x.is_ascii_hexdigit());
        if starts && !b.get(end).is_some_and(|x| is_ident(*x)) {
            let kept = out.trim_end().strip_suffix('+').map(|s| s.trim_end().len());
            if let Some(len) = kept {
                out.truncate(len);
            }
            i = end;
            continue;
        }
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    strip_decimal_offset(&out)
}

/// `name + 52` → `name`.
fn strip_decimal_offset(text: &str) -> String {
    let trimmed = text.trim_end();
    let digits = trimmed.trim_end_matches(|c: char| c.is_ascii_digit());
    match digits.trim_end().strip_suffix('+') {
        Some(before) if digits.len() < trimmed.len() => before.trim_end().to_owned(),
        _ => text.to_owned(),
    }
}

/// `$$Lambda$123/0x…` and `$$Lambda/0x…` → `$$Lambda`, `$lambda-0` → `$lambda`.
fn strip_java_lambdas(text: &str) -> String {
    rewrite(text, |b, i, _| {
        let rest = &b[i..];
        if rest.starts_with(b"$$Lambda") {
            let mut end = i + 8;
            if b.get(end) == Some(&b'$') {
                end = run(b, end + 1, |x| x.is_ascii_digit());
            }
            if matches!(b.get(end), Some(b'/' | b'.')) {
                let id = end + 1;
                let hex = b.get(id) == Some(&b'0') && matches!(b.get(id + 1), Some(b'x' | b'X'));
                let stop = if hex {
                    run(b, id + 2, |x| x.is_ascii_hexdigit())
                } else {
                    run(b, id, |x| x.is_ascii_digit())
                };
                if stop > id {
                    end = stop;
                }
            }
            return Some((end, "$$Lambda"));
        }
        if rest.starts_with(b"lambda-") && b.get(i + 7).is_some_and(u8::is_ascii_digit) {
            return Some((run(b, i + 7, |x| x.is_ascii_digit()), "lambda"));
        }
        None
    })
}

/// Generated numbering: `$1` (anonymous classes, javac's `lambda$name$0`, Kotlin's `$lambda$12`),
/// `block_invoke_3` and `block_invoke.3`, Swift's `closure #2`.
fn strip_numbering(text: &str) -> String {
    let text = rewrite(text, |b, i, _| {
        let digits = |from: usize| {
            let end = run(b, from, |x| x.is_ascii_digit());
            (end > from && !b.get(end).is_some_and(|x| x.is_ascii_alphabetic())).then_some(end)
        };
        match b[i] {
            b'$' => digits(i + 1).map(|end| (end, "")),
            b' ' if b.get(i + 1) == Some(&b'#') => digits(i + 2).map(|end| (end, "")),
            b'_' | b'.' if b[..i].ends_with(b"block_invoke") => digits(i + 1).map(|end| (end, "")),
            _ => None,
        }
    });
    squeeze(&text)
}

/// Rust's legacy symbol hash: `path::to::func::h0123456789abcdef` → `path::to::func`.
fn strip_rust_hash(text: &str) -> String {
    let b = text.as_bytes();
    if let Some(at) = text.rfind("::h") {
        let hash = &b[at + 3..];
        if hash.len() == 16 && hash.iter().all(u8::is_ascii_hexdigit) {
            return text[..at].to_owned();
        }
    }
    text.to_owned()
}

/// Removes `:12` and `:12:34` after a name (never `::`, and never a colon before letters).
fn strip_line_numbers(text: &str) -> String {
    rewrite(text, |b, i, out| {
        if b[i] != b':' || out.ends_with(':') || !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let end = run(b, i + 1, |x| x.is_ascii_digit());
        let joined = b
            .get(end)
            .is_some_and(|x| is_ident(*x) || (*x == b':' && b.get(end + 1) == Some(&b':')));
        (!joined).then_some((end, ""))
    })
}

/// UUIDs become [`UUID`], runs of [`LONG_DIGITS`] or more digits [`NUMBER`].
fn placeholders(text: &str) -> String {
    rewrite(text, |b, i, _| {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if boundary && is_uuid(&b[i..]) {
            return Some((i + 36, UUID));
        }
        let starts_run = i == 0 || !b[i - 1].is_ascii_digit();
        let end = run(b, i, |x| x.is_ascii_digit());
        (starts_run && end - i >= LONG_DIGITS).then_some((end, NUMBER))
    })
}

/// Whether `b` starts with a UUID (8-4-4-4-12 hex digits) not followed by another alphanumeric.
fn is_uuid(b: &[u8]) -> bool {
    const DASHES: [usize; 4] = [8, 13, 18, 23];
    b.len() >= 36
        && (0..36).all(|k| {
            if DASHES.contains(&k) {
                b[k] == b'-'
            } else {
                b[k].is_ascii_hexdigit()
            }
        })
        && !b.get(36).is_some_and(u8::is_ascii_alphanumeric)
}

/// The path part of a file or URL, and whether it is absolute (a URL, `/…`, `~/…` or `C:/…`).
fn path_of(text: &str) -> (&str, bool) {
    if let Some((_, rest)) = text.split_once("://") {
        let path = if rest.starts_with('/') {
            rest
        } else {
            rest.find('/').map_or("", |slash| &rest[slash..])
        };
        return (path, true);
    }
    let b = text.as_bytes();
    let drive = b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/';
    let absolute = text.starts_with('/') || text.starts_with("~/") || drive;
    let path = if drive { &text[2..] } else { text };
    (path, absolute)
}

/// Whether a piece of a file name looks like a build's content hash: six or more letters and digits
/// with at least one digit, all hexadecimal unless there are at least eight.
fn is_hash(piece: &str) -> bool {
    piece.len() >= 6
        && piece.bytes().all(|b| b.is_ascii_alphanumeric())
        && piece.bytes().any(|b| b.is_ascii_digit())
        && (piece.bytes().all(|b| b.is_ascii_hexdigit()) || piece.len() >= 8)
}

/// `main.3f2a9c1b.js` → `main.js`, `index-3f2a9c1b.js` → `index.js`, `2.3f2a9c1b.chunk.js` →
/// `2.chunk.js`; the extension is kept.
fn strip_bundle_hash(name: &str) -> String {
    let pieces: Vec<&str> = name.split('.').collect();
    if pieces.len() < 2 {
        return name.to_owned();
    }
    let (extension, stem) = pieces.split_last().unwrap_or((&"", &[]));
    let mut kept: Vec<String> = Vec::new();
    for (k, piece) in stem.iter().enumerate() {
        let unhashed = match piece.rsplit_once('-') {
            Some((before, hash)) if !before.is_empty() && is_hash(hash) => before,
            _ => piece,
        };
        match (k, is_hash(unhashed)) {
            (0, true) => kept.push(HASH.to_owned()),
            (_, true) => {}
            _ => kept.push(unhashed.to_owned()),
        }
    }
    kept.push((*extension).to_owned());
    kept.join(".")
}

#[cfg(test)]
mod tests;
