//! Kubernetes name rules: DNS-1123 subdomains, qualified names (label and annotation keys), label
//! values and Secret data keys.
//!
//! The messages are Kubernetes' own (`k8s.io/apimachinery/pkg/util/validation`), word for word,
//! because users already know them from `kubectl`. Each function returns every problem it finds;
//! an empty list means the value is valid. Hand-written matchers replace the regular expressions so
//! that the crate needs no regex engine and cannot be made to backtrack.

/// Longest DNS-1123 subdomain (and Secret data key), in bytes.
pub(crate) const DNS1123_SUBDOMAIN_MAX_LEN: usize = 253;

/// Longest name part of a qualified name, and longest label value, in bytes.
pub(crate) const QUALIFIED_NAME_MAX_LEN: usize = 63;

const DNS1123_SUBDOMAIN_FMT: &str =
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
     alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and \
     must start and end with an alphanumeric character";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric \
     characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_KEY_MSG: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

/// Go's `validation.RegexError`: the message, examples and the regular expression.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut out = String::from(msg);
    out.push_str(" (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(example);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(fmt);
    out.push_str("')");
    out
}

/// Go's `validation.MaxLenError`.
fn max_len_error(max: usize) -> String {
    format!("must be no more than {max} characters")
}

/// The message for a string that is not a DNS-1123 subdomain (without the length part).
pub(crate) fn dns1123_subdomain_message() -> String {
    regex_error(
        DNS1123_SUBDOMAIN_MSG,
        DNS1123_SUBDOMAIN_FMT,
        &["example.com"],
    )
}

/// Whether `value` matches `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
/// (Calico's `nameRegex`), ignoring length.
pub(crate) fn matches_dns1123_subdomain(value: &str) -> bool {
    !value.is_empty() && value.split('.').all(is_dns1123_label_shape)
}

/// One dot-separated part: lower-case alphanumerics and `-`, alphanumeric at both ends.
fn is_dns1123_label_shape(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

/// Whether `value` is a valid DNS-1123 subdomain: [`dns1123_subdomain`] without building any
/// message, so that checking a valid name allocates nothing.
pub(crate) fn is_dns1123_subdomain(value: &str) -> bool {
    value.len() <= DNS1123_SUBDOMAIN_MAX_LEN && matches_dns1123_subdomain(value)
}

/// Kubernetes' `IsDNS1123Subdomain`: at most 253 bytes and [`matches_dns1123_subdomain`].
pub(crate) fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LEN {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LEN));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(dns1123_subdomain_message());
    }
    errs
}

/// Whether `value` matches `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn matches_qualified_name_part(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Kubernetes' `IsQualifiedName`: an optional DNS-1123 subdomain prefix and `/`, then a name of at
/// most 63 characters. Used for label keys and (lower-cased) annotation keys.
pub(crate) fn qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let examples = ["MyName", "my.name", "123-abc"];
    let mut parts = value.split('/');
    let (prefix, name) = match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, _) => (None, name),
        (Some(prefix), Some(name), None) => (Some(prefix), name),
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &examples)
            ));
            return errs;
        }
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            errs.push("prefix part must be non-empty".to_owned());
        } else {
            errs.extend(
                dns1123_subdomain(prefix)
                    .into_iter()
                    .map(|msg| format!("prefix part {msg}")),
            );
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > QUALIFIED_NAME_MAX_LEN {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LEN)
        ));
    }
    if !matches_qualified_name_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &examples)
        ));
    }
    errs
}

/// Kubernetes' `IsValidLabelValue`: empty, or at most 63 characters of the qualified-name shape.
pub(crate) fn label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > QUALIFIED_NAME_MAX_LEN {
        errs.push(max_len_error(QUALIFIED_NAME_MAX_LEN));
    }
    if !value.is_empty() && !matches_qualified_name_part(value) {
        errs.push(regex_error(
            LABEL_VALUE_MSG,
            &format!("({QUALIFIED_NAME_FMT})?"),
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Kubernetes' `IsConfigMapKey` (also used for Secret data keys): at most 253 characters of
/// `[-._a-zA-Z0-9]`, and not `.`, `..` or starting with `..`.
pub(crate) fn config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LEN {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LEN));
    }
    let shaped = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !shaped {
        errs.push(regex_error(
            CONFIG_KEY_MSG,
            CONFIG_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if errs.is_empty() {
        if value == "." {
            errs.push("must not be '.'".to_owned());
        } else if value == ".." {
            errs.push("must not be '..'".to_owned());
        } else if value.starts_with("..") {
            errs.push("must not start with '..'".to_owned());
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_subdomains() {
        for ok in [
            "a",
            "my-node",
            "rack1.host-2",
            "0",
            "a.b.c",
            &"x".repeat(253),
        ] {
            assert!(dns1123_subdomain(ok).is_empty(), "{ok}");
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "node 2",
            "-a",
            "a-",
            "a..b",
            ".a",
            "a.",
            "a_b",
            "é",
            &"x".repeat(254),
        ] {
            assert!(!dns1123_subdomain(bad).is_empty(), "{bad}");
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
        assert_eq!(
            dns1123_subdomain(&"x".repeat(254)),
            vec!["must be no more than 253 characters"]
        );
    }

    #[test]
    fn subdomain_message_is_kubernetes_text() {
        assert_eq!(
            dns1123_subdomain("Bad")[0],
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
             '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', \
             regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
    }

    #[test]
    fn qualified_names() {
        for ok in [
            "app",
            "projectcalico.org/Label",
            "a/B",
            "my_label.x-1",
            &"x".repeat(63),
        ] {
            assert!(qualified_name(ok).is_empty(), "{ok}");
        }
        assert_eq!(qualified_name("/a"), vec!["prefix part must be non-empty"]);
        assert_eq!(
            qualified_name("a/").len(),
            2,
            "empty name: non-empty and regex"
        );
        assert!(qualified_name("a/b/c")[0].starts_with("a qualified name must consist"));
        assert!(
            qualified_name("ProjectCalico.org/label")[0].starts_with("prefix part a lowercase")
        );
        assert_eq!(
            qualified_name(&"x".repeat(64))[0],
            "name part must be no more than 63 characters"
        );
        assert!(qualified_name(".mylabel")[0].contains(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start \
             and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', \
             regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        ));
        assert!(!qualified_name("my!nvalid-label").is_empty());
    }

    #[test]
    fn label_values() {
        assert!(label_value("").is_empty());
        assert!(label_value("MyValue_1.x").is_empty());
        assert!(label_value(&"x".repeat(63)).is_empty());
        assert_eq!(label_value(&"x".repeat(64)).len(), 1);
        assert_eq!(label_value("-a").len(), 1);
    }

    #[test]
    fn config_map_keys() {
        for ok in ["password", "rr-password", "KEY_NAME", "key.name", ".hidden"] {
            assert!(config_map_key(ok).is_empty(), "{ok}");
        }
        assert_eq!(config_map_key("."), vec!["must not be '.'"]);
        assert_eq!(config_map_key(".."), vec!["must not be '..'"]);
        assert_eq!(config_map_key("..a"), vec!["must not start with '..'"]);
        assert_eq!(config_map_key("a/b").len(), 1);
        assert_eq!(config_map_key("").len(), 1);
    }
}
