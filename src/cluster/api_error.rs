//! A failed API request in plain words: what was asked, of which server, what it answered, and
//! what to do about it. Pure (formats a [`kube::Error`]); used by every command that talks to
//! the API server, so that no error reaches the user as a Debug dump.

use kube::Error;

/// The most bytes of an answer's own message quoted (an HTML error page from a proxy can be
/// long).
const MAX_QUOTED: usize = 300;

/// What was being asked of the API server.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The RBAC verb: `list`, `get`, `create`, `update`, `patch`.
    pub verb: &'a str,
    /// The resource as RBAC and kubectl name it, with its group: `bgppeers.crd.projectcalico.org`,
    /// `nodes`.
    pub resource: &'a str,
    /// The namespace, for a namespaced resource.
    pub namespace: Option<&'a str>,
    /// The API server's URL.
    pub server: &'a str,
}

/// One sentence about a failed request: `https://10.0.0.1:6443 refused to list
/// bgppeers.crd.projectcalico.org (403 Forbidden: ...): the account needs the RBAC verb "list"
/// on bgppeers.crd.projectcalico.org`.
pub fn plain(error: &Error, request: &Request<'_>) -> String {
    let Request {
        verb,
        resource,
        namespace,
        server,
    } = *request;
    let target = match namespace {
        Some(namespace) => format!("{resource} in namespace {namespace}"),
        None => resource.to_owned(),
    };
    let status = match error {
        Error::Api(status) => status,
        other => {
            return format!(
                "cannot reach the API server at {server} to {verb} {target}: {}",
                root_cause(other)
            );
        }
    };
    let code = status.code;
    // kube fills in this reason when the body is not a Kubernetes `Status` (a proxy's page).
    if status.reason == "Failed to parse error data" {
        return format!(
            "{server} answered HTTP {code} to the request to {verb} {target}, with a body that is \
             not a Kubernetes Status: {}; is this URL the API server?",
            quoted(&status.message)
        );
    }
    let reason = if status.reason.is_empty() {
        String::new()
    } else {
        format!(" {}", status.reason)
    };
    let message = quoted(&status.message);
    match code {
        401 => format!(
            "{server} did not accept the credentials to {verb} {target} (401{reason}: {message}): \
             the kubeconfig's token or certificate is missing, wrong or expired"
        ),
        403 => format!(
            "{server} refused to {verb} {target} (403{reason}: {message}): the account needs the \
             RBAC verb \"{verb}\" on {target}"
        ),
        404 => format!(
            "{server} does not serve {resource} (404{reason}: {message}): its CRD or API group is \
             not installed"
        ),
        _ => format!("{server} could not {verb} {target} ({code}{reason}: {message})"),
    }
}

/// What finally went wrong under a transport error, in the system's words without its
/// ` (os error N)` suffix (`Connection refused`, a TLS verification failure): the levels above it
/// are the client library's own wrapping (`ServiceError: client error (Connect)`), which tells a
/// user nothing.
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut root = error;
    while let Some(cause) = root.source() {
        root = cause;
    }
    crate::plain::without_os_error_code(&root.to_string()).to_owned()
}

/// An answer's message, cut at [`MAX_QUOTED`] bytes on a character boundary.
fn quoted(message: &str) -> String {
    let message = message.trim();
    if message.len() <= MAX_QUOTED {
        return message.to_owned();
    }
    let mut end = MAX_QUOTED;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    const LIST: Request<'static> = Request {
        verb: "list",
        resource: "bgppeers.crd.projectcalico.org",
        namespace: None,
        server: "https://10.0.0.1:6443/",
    };

    fn api(code: u16, reason: &str, message: &str) -> Error {
        let mut status = Status::failure(message, reason).with_code(code);
        status.message = message.to_owned();
        Error::Api(status.boxed())
    }

    #[test]
    fn forbidden_names_the_missing_rbac() {
        let error = api(
            403,
            "Forbidden",
            "bgppeers.crd.projectcalico.org is forbidden: User \"x\" cannot list",
        );
        assert_eq!(
            plain(&error, &LIST),
            "https://10.0.0.1:6443/ refused to list bgppeers.crd.projectcalico.org (403 Forbidden: \
             bgppeers.crd.projectcalico.org is forbidden: User \"x\" cannot list): the account \
             needs the RBAC verb \"list\" on bgppeers.crd.projectcalico.org"
        );
        let secrets = Request {
            resource: "secrets",
            namespace: Some("calico-system"),
            ..LIST
        };
        assert!(
            plain(&error, &secrets)
                .ends_with("needs the RBAC verb \"list\" on secrets in namespace calico-system")
        );
    }

    #[test]
    fn a_body_that_is_not_a_status_is_quoted_short_and_never_dumped() {
        let page = format!("<html>{}</html>", "x".repeat(2000));
        let error = api(502, "Failed to parse error data", &page);
        let text = plain(&error, &LIST);
        assert!(
            text.starts_with(
                "https://10.0.0.1:6443/ answered HTTP 502 to the request to list \
                 bgppeers.crd.projectcalico.org, with a body that is not a Kubernetes Status: <html>xx"
            ),
            "{text}"
        );
        assert!(text.len() < 600, "{}", text.len());
        assert!(!text.contains("Status {"), "{text}");
        let text = plain(&api(401, "Unauthorized", "Unauthorized"), &LIST);
        assert!(text.contains("(401 Unauthorized: Unauthorized)"), "{text}");
        let text = plain(&api(500, "InternalError", "etcd"), &LIST);
        assert_eq!(
            text,
            "https://10.0.0.1:6443/ could not list bgppeers.crd.projectcalico.org (500 InternalError: etcd)"
        );
    }
}
