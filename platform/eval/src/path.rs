//! Property paths into an evaluation context: `a.b`, `items[0]`, `items[-1]`.
//!
//! A path is parsed once, when a constraint is compiled, and resolved many times without allocating.
//! Invariant: a flat top-level key wins over the path, so a context holding `{"user.email": …}` is read
//! by the property `user.email` before `user` → `email` is tried.

use serde_json::{Map, Value};

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// An object key.
    Key(String),
    /// An array index; negative counts from the end (`-1` is the last element).
    Index(i64),
}

/// A parsed property path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    raw: String,
    steps: Vec<Step>,
}

/// Why a path is not valid; the caller words the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidPath;

impl Path {
    /// Parses `a.b[0].c[-1]`: keys separated by dots, each optionally followed by bracketed indexes.
    pub(crate) fn parse(raw: &str) -> Result<Path, InvalidPath> {
        if raw.is_empty() {
            return Err(InvalidPath);
        }
        let mut steps = Vec::new();
        for part in raw.split('.') {
            parse_part(part, &mut steps)?;
        }
        Ok(Path {
            raw: raw.to_owned(),
            steps,
        })
    }

    /// The path as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.raw
    }

    /// The value the path names in `context`, if any; `None` when any step is missing.
    pub(crate) fn resolve<'c>(&self, context: Option<&'c Map<String, Value>>) -> Option<&'c Value> {
        let object = context?;
        if let Some(flat) = object.get(&self.raw) {
            return Some(flat);
        }
        let mut steps = self.steps.iter();
        let mut current = match steps.next() {
            Some(Step::Key(key)) => object.get(key)?,
            _ => return None,
        };
        for step in steps {
            current = match step {
                Step::Key(key) => current.as_object()?.get(key)?,
                Step::Index(index) => element(current.as_array()?, *index)?,
            };
        }
        Some(current)
    }
}

/// Parses one dot-separated part: a key and zero or more `[n]` indexes.
fn parse_part(part: &str, steps: &mut Vec<Step>) -> Result<(), InvalidPath> {
    let (key, mut rest) = match part.find('[') {
        Some(at) => part.split_at(at),
        None => (part, ""),
    };
    if key.is_empty() || !key.chars().all(is_key_char) {
        return Err(InvalidPath);
    }
    steps.push(Step::Key(key.to_owned()));
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or(InvalidPath)?;
        let close = inner.find(']').ok_or(InvalidPath)?;
        let (digits, after) = inner.split_at(close);
        if digits.is_empty() || digits.starts_with('+') {
            return Err(InvalidPath);
        }
        let index = digits.parse::<i64>().map_err(|_| InvalidPath)?;
        steps.push(Step::Index(index));
        rest = after.strip_prefix(']').ok_or(InvalidPath)?;
    }
    Ok(())
}

/// Whether a character may appear in a key of a path.
fn is_key_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !matches!(c, '.' | '[' | ']' | '{' | '}' | '"')
}

/// The element at `index` (negative counts from the end), if it exists.
fn element(items: &[Value], index: i64) -> Option<&Value> {
    let at = if index < 0 {
        let back = usize::try_from(index.unsigned_abs()).ok()?;
        items.len().checked_sub(back)?
    } else {
        usize::try_from(index).ok()?
    };
    items.get(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolve(path: &str, context: &Value) -> Option<Value> {
        let parsed = Path::parse(path).ok()?;
        parsed.resolve(context.as_object()).cloned()
    }

    #[test]
    fn parse_malformed_path_returns_error() {
        for bad in [
            "", ".", "a.", ".a", "a..b", "a[", "a[]", "a[x]", "a[0", "[0]", "a[0]b", "a b", "{a}",
            "a[+1]",
        ] {
            assert_eq!(Path::parse(bad), Err(InvalidPath), "{bad:?}");
        }
    }

    #[test]
    fn resolve_nested_indexed_and_flat_paths_finds_values() {
        let context = json!({"a": {"b": [1, {"c": "x"}]}, "items": [10, 20, 30], "a.b": "flat"});
        assert_eq!(resolve("a.b[1].c", &context), Some(json!("x")));
        assert_eq!(resolve("items[0]", &context), Some(json!(10)));
        assert_eq!(resolve("items[-1]", &context), Some(json!(30)));
        assert_eq!(resolve("items[-3]", &context), Some(json!(10)));
        assert_eq!(resolve("items[-4]", &context), None);
        assert_eq!(resolve("items[3]", &context), None);
        assert_eq!(resolve("a.b", &context), Some(json!("flat")));
        assert_eq!(resolve("items.x", &context), None);
    }
}
