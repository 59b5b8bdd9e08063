//! Error texts in plain words, shared by the modules that report system errors to users. Pure.

/// `text` without the ` (os error N)` that std appends to the system's message (`Connection
/// refused (os error 111)`): the number means nothing to a user.
pub(crate) fn without_os_error_code(text: &str) -> &str {
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::without_os_error_code;

    #[test]
    fn only_a_trailing_os_error_code_is_dropped() {
        assert_eq!(
            without_os_error_code("Connection refused (os error 111)"),
            "Connection refused"
        );
        assert_eq!(without_os_error_code("no code here"), "no code here");
        assert_eq!(
            without_os_error_code("a (os error 2) in the middle"),
            "a (os error 2) in the middle"
        );
    }
}
