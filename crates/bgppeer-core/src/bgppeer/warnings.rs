//! Warnings: settings that are valid but risky, each with an action the user can take.
//!
//! Every warning is at most [`MAX_LEN`] characters and has a stable wording (tests and users'
//! tooling match on it). None fires on an ordinary peer (`peerIP` and `asNumber`, or
//! `peerSelector`).

use serde_json::Value;

use super::ApiGroup;
use super::api::INT32_MAX;
use super::ip;
use super::peer::Field;
use super::rules;
use super::spec::CheckedSpec;
use calico_selector as selector;

/// The longest warning, in characters (the API server truncates longer ones).
pub const MAX_LEN: usize = 120;

/// The warning for a `peerIP` without an `asNumber`.
pub(crate) const PEER_IP_WITHOUT_AS_NUMBER: &str =
    "peerIP set without asNumber: works only if the peer is a Calico node";

/// The warning for a peering that selects no peer.
pub const NO_PEER: &str = "neither peerIP nor peerSelector (nor localWorkloadSelector) is set: this BGPPeer creates no session";

/// The warning for `maxRestartTime`.
pub(crate) const MAX_RESTART_TIME: &str = "maxRestartTime is set: a wrong value can break networking in the cluster (BIRD's default is 120s)";

/// The warning for a password.
pub(crate) const PASSWORD: &str = "password: the Secret must be in calico-node's namespace, readable by \
     calico-node, and the password at most 80 characters";

/// The warning for a `password` without `secretKeyRef`.
pub(crate) const PASSWORD_WITHOUT_SECRET: &str =
    "password has no secretKeyRef: the peering is configured without a password";

/// The warning for `nodeSelector: ""` without `node`.
pub const EMPTY_NODE_SELECTOR: &str = "nodeSelector is empty, so this peer applies to every node: \
     in YAML, quote a selector that starts with !";

/// The warning for `peerSelector: ""`.
pub const EMPTY_PEER_SELECTOR: &str = "peerSelector is empty, so it selects no node to peer with: \
     in YAML, quote a selector that starts with !";

/// The warning for `localWorkloadSelector: ""`.
pub const EMPTY_LOCAL_WORKLOAD_SELECTOR: &str = "localWorkloadSelector is empty, so it selects no \
     workload: in YAML, quote a selector that starts with !";

/// The warning for `keepOriginalNextHop: true`.
pub(crate) const KEEP_ORIGINAL_NEXT_HOP: &str =
    "keepOriginalNextHop is deprecated since Calico v3.30: use nextHopMode: Keep instead";

/// Collects the warnings for a checked spec (`raw_spec` is the spec as sent, if any).
pub(crate) fn collect(
    group: ApiGroup,
    raw_spec: Option<&Value>,
    checked: &CheckedSpec,
    warnings: &mut Vec<String>,
) {
    let spec = &checked.spec;
    // The text as written, valid or not (a selector too long to be valid still gets the
    // length warning).
    let text = |name: &str| {
        raw_spec
            .and_then(|raw| raw.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let selectors = ["nodeSelector", "peerSelector", "localWorkloadSelector"];
    let peer_ip_given = !text("peerIP").is_empty();

    let as_number_given = rules::as_number_is_set(raw_spec.and_then(|raw| raw.get("asNumber")));
    if peer_ip_given && !as_number_given && text("peerSelector").is_empty() {
        warnings.push(PEER_IP_WITHOUT_AS_NUMBER.to_owned());
    }
    if let Some(address) = spec.peer_ip.get()
        && let Some(kind) = ip::unusual_kind(address.ip)
    {
        warnings.push(format!(
            "peerIP {} is a {kind} address: BGP cannot peer with it; use the peer's unicast address",
            address.ip
        ));
    }
    let nothing_selected = ["peerIP", "peerSelector", "localWorkloadSelector"]
        .iter()
        .all(|name| !is_given(raw_spec, name));
    if nothing_selected {
        warnings.push(NO_PEER.to_owned());
    }
    for (name, value) in [
        ("asNumber", &spec.as_number),
        ("localASNumber", &spec.local_as_number),
    ] {
        if let Some(number) = value.get()
            && number.0 > INT32_MAX
        {
            warnings.push(format!(
                "{name} {number} is above {INT32_MAX}: the CRDs' int32 format rejects it on Kubernetes 1.36 and later"
            ));
        }
    }
    if group == ApiGroup::CrdV1 {
        for (field, number) in &checked.as_numbers_written_as_text {
            let name = field.name();
            warnings.push(format!(
                "{name} is a string: crd.projectcalico.org/v1 stores it only after this webhook's mutation; write {number}"
            ));
        }
    }
    for name in selectors {
        if let Some(warning) = empty_selector_warning(raw_spec, name) {
            warnings.push(warning.to_owned());
        }
        let text = text(name);
        if text.is_empty() {
            continue;
        }
        for warning in selector::warnings(text) {
            warnings.push(fit(format!("{name}: {warning}")));
        }
    }
    if spec.keep_original_next_hop == Field::Valid(true) && spec.next_hop_mode.get().is_none() {
        warnings.push(KEEP_ORIGINAL_NEXT_HOP.to_owned());
    }
    // Judged from the raw spec: an invalid secretKeyRef is already an error, and is not "no
    // secretKeyRef".
    let secret_key_ref_given = raw_spec
        .and_then(|raw| raw.get("password"))
        .and_then(|password| password.get("secretKeyRef"))
        .is_some_and(|secret_key_ref| !secret_key_ref.is_null());
    match &spec.password {
        Field::Valid(password) if password.secret_key_ref.get().is_some() => {
            warnings.push(PASSWORD.to_owned());
        }
        Field::Valid(_) if !secret_key_ref_given => {
            warnings.push(PASSWORD_WITHOUT_SECRET.to_owned());
        }
        _ => {}
    }
    if spec.max_restart_time.get().is_some() {
        warnings.push(MAX_RESTART_TIME.to_owned());
    }
    if let Some(&n) = spec.num_allowed_local_as_numbers.get()
        && n > 0
    {
        warnings.push(format!(
            "numAllowedLocalASNumbers is {n}: this disables BGP loop prevention for the peering; set it only if needed"
        ));
    }
}

/// The warning for a selector field written as `""`, which Calico reads as unset: what that
/// does, and the YAML trap that usually causes it. An unquoted selector starting with `!`
/// (`nodeSelector: !has(route-reflector)`) is a YAML tag on an empty value, so kubectl sends
/// `""`: the peer silently applies to every node, or selects no peer.
fn empty_selector_warning(raw_spec: Option<&Value>, name: &str) -> Option<&'static str> {
    let raw_spec = raw_spec?;
    if !raw_spec.get(name)?.as_str()?.is_empty() {
        return None;
    }
    match name {
        "nodeSelector" if !is_given(Some(raw_spec), "node") => Some(EMPTY_NODE_SELECTOR),
        "nodeSelector" => None,
        "peerSelector" => Some(EMPTY_PEER_SELECTOR),
        _ => Some(EMPTY_LOCAL_WORKLOAD_SELECTOR),
    }
}

/// Whether the raw spec has a non-empty string (or a value of another type) at `name`: a field
/// that failed validation still counts as given, so the "no peer" warning does not pile on.
fn is_given(raw_spec: Option<&Value>, name: &str) -> bool {
    match raw_spec.and_then(|spec| spec.get(name)) {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.is_empty(),
        Some(_) => true,
    }
}

/// Shortens a warning to [`MAX_LEN`] characters, ending with `...` when cut: a last resort for
/// warnings that quote user-chosen names, which can be long.
pub(crate) fn fit(warning: String) -> String {
    if warning.chars().count() <= MAX_LEN {
        return warning;
    }
    let mut cut: String = warning.chars().take(MAX_LEN - 3).collect();
    cut.push_str("...");
    cut
}

/// The most warnings one answer carries: the apiserver passes on 4,096 characters of warnings
/// per response before it cuts each one to 256, and 30 warnings of [`MAX_LEN`] characters fit
/// in that. A longer list keeps its first `MAX_WARNINGS - 1` and ends with one saying how many
/// more there were.
pub const MAX_WARNINGS: usize = 30;

/// Shortens `text` so that `text + suffix` is at most [`MAX_LEN`] characters, cutting `text` and
/// marking the cut with `...`; the suffix is always kept whole.
pub(crate) fn fit_with_suffix(text: &str, suffix: &str) -> String {
    let room = MAX_LEN.saturating_sub(suffix.chars().count());
    let mut out = if text.chars().count() <= room {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(room.saturating_sub(3)).collect();
        cut.push_str("...");
        cut
    };
    out.push_str(suffix);
    out
}

/// Caps a list of warnings at [`MAX_WARNINGS`], each at [`MAX_LEN`] characters; when there are
/// more, the last one kept says how many more there were.
pub(crate) fn cap(warnings: Vec<String>) -> Vec<String> {
    let total = warnings.len();
    let mut warnings: Vec<String> = if total > MAX_WARNINGS {
        warnings.into_iter().take(MAX_WARNINGS - 1).collect()
    } else {
        warnings
    };
    for warning in &mut warnings {
        if warning.chars().count() > MAX_LEN {
            *warning = fit(std::mem::take(warning));
        }
    }
    if total > MAX_WARNINGS {
        let more = total - (MAX_WARNINGS - 1);
        warnings.push(format!(
            "{} more warnings not shown",
            crate::field::thousands(more)
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_warnings_fit() {
        for warning in [
            PEER_IP_WITHOUT_AS_NUMBER,
            NO_PEER,
            MAX_RESTART_TIME,
            PASSWORD,
            PASSWORD_WITHOUT_SECRET,
            KEEP_ORIGINAL_NEXT_HOP,
        ] {
            assert!(warning.chars().count() <= MAX_LEN, "{warning}");
        }
    }

    #[test]
    fn fit_cuts_long_text() {
        let cut = fit("x".repeat(200));
        assert_eq!(cut.chars().count(), MAX_LEN);
        assert!(cut.ends_with("..."));
        assert_eq!(fit("short".to_owned()), "short");
    }

    #[test]
    fn a_suffix_is_kept_whole() {
        let suffix = " (already stored; allowed while unchanged)";
        let fitted = fit_with_suffix(&"e".repeat(500), suffix);
        assert_eq!(fitted.chars().count(), MAX_LEN);
        assert!(fitted.ends_with(&format!("...{suffix}")));
        assert_eq!(fit_with_suffix("short", suffix), format!("short{suffix}"));
    }

    #[test]
    fn warnings_are_capped_with_a_count_of_the_rest() {
        let many: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
        let capped = cap(many);
        assert_eq!(capped.len(), MAX_WARNINGS);
        assert_eq!(capped[MAX_WARNINGS - 2], format!("w{}", MAX_WARNINGS - 2));
        assert_eq!(capped[MAX_WARNINGS - 1], "971 more warnings not shown");
        let few = vec!["a".to_owned(), "x".repeat(300)];
        let capped = cap(few);
        assert_eq!(capped.len(), 2);
        assert_eq!(capped[1].chars().count(), MAX_LEN);
    }
}
