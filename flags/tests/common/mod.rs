//! What the flags crate's service-boundary tests share.

use flagent_flags::NewFlag;

/// A flag with the `boolean` template (`on` and `off`), keyed `key`.
pub(crate) fn new_flag(key: &str) -> NewFlag {
    NewFlag {
        key: Some(key.to_owned()),
        description: format!("{key} flag"),
        template: Some("boolean".to_owned()),
        bucketing: None,
        salt: None,
    }
}
