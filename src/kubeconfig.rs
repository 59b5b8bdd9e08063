//! Finding the cluster the way `kubectl` does, for the commands that talk to one (`audit`,
//! `explain --kubeconfig`): `--kubeconfig PATH`, else the files listed in `$KUBECONFIG` (merged,
//! first one wins), else `~/.kube/config`, else the pod's service account; `--context NAME`
//! picks a context other than the current one. Reads files and the environment (I/O).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

/// Where the connection settings came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--kubeconfig PATH`.
    Flag(PathBuf),
    /// The files listed in `$KUBECONFIG`.
    Env(String),
    /// `~/.kube/config`.
    Home(PathBuf),
    /// The pod's service account.
    InCluster,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag(path) | Origin::Home(path) => write!(f, "kubeconfig {}", path.display()),
            Origin::Env(value) => write!(f, "the kubeconfig files in KUBECONFIG ({value})"),
            Origin::InCluster => f.write_str("the pod's service account"),
        }
    }
}

/// Why no connection settings could be found or used. Each message says what was tried.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// A kubeconfig was found but cannot be read or used (or lacks the context asked for).
    #[error("{}", kubeconfig_message(.origin, .cause))]
    Kubeconfig {
        /// Which kubeconfig.
        origin: Origin,
        /// What is wrong with it (in the message, in plain words: not a separate cause).
        cause: KubeconfigError,
    },
    /// `--context` was given but there is no kubeconfig to find it in.
    #[error(
        "--context {0:?} needs a kubeconfig, and there is none: pass --kubeconfig or set KUBECONFIG"
    )]
    ContextWithoutKubeconfig(String),
    /// No kubeconfig, and not running in a pod.
    #[error(
        "cannot find the cluster: no --kubeconfig, KUBECONFIG is not set, {home} does not exist, \
         and this is not a pod with a service account ({in_cluster})"
    )]
    Nothing {
        /// The default kubeconfig path looked at.
        home: String,
        /// Why the in-cluster configuration failed.
        in_cluster: String,
    },
}

/// The client configuration of the cluster to talk to, and where it came from.
pub async fn discover(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<(kube::Config, Origin), DiscoveryError> {
    let env = std::env::var_os("KUBECONFIG").filter(|value| !value.is_empty());
    let home = std::env::home_dir().map(|home| home.join(".kube").join("config"));
    discover_with(kubeconfig, context, env, home).await
}

/// [`discover`] with the environment passed in (tests).
async fn discover_with(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    env: Option<OsString>,
    home: Option<PathBuf>,
) -> Result<(kube::Config, Origin), DiscoveryError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let (origin, loaded) = if let Some(path) = kubeconfig {
        (
            Origin::Flag(path.to_path_buf()),
            Kubeconfig::read_from(path),
        )
    } else if let Some(value) = env {
        (
            Origin::Env(value.to_string_lossy().into_owned()),
            read_list(&value),
        )
    } else if let Some(path) = home.as_deref().filter(|path| path.exists()) {
        (
            Origin::Home(path.to_path_buf()),
            Kubeconfig::read_from(path),
        )
    } else {
        if let Some(context) = context {
            return Err(DiscoveryError::ContextWithoutKubeconfig(context.to_owned()));
        }
        return match kube::Config::incluster() {
            Ok(config) => Ok((config, Origin::InCluster)),
            Err(error) => Err(DiscoveryError::Nothing {
                home: home.map_or_else(
                    || "~/.kube/config".to_owned(),
                    |path| path.display().to_string(),
                ),
                in_cluster: error.to_string(),
            }),
        };
    };
    let used = |cause| DiscoveryError::Kubeconfig {
        origin: origin.clone(),
        cause,
    };
    let config = kube::Config::from_custom_kubeconfig(loaded.map_err(used)?, &options)
        .await
        .map_err(used)?;
    Ok((config, origin))
}

/// The files of a `KUBECONFIG` value (separated as `PATH` is), merged as kubectl merges them.
fn read_list(value: &OsString) -> Result<Kubeconfig, KubeconfigError> {
    std::env::split_paths(value)
        .filter(|path| !path.as_os_str().is_empty())
        .try_fold(Kubeconfig::default(), |merged, path| {
            merged.merge(Kubeconfig::read_from(&path)?)
        })
}

/// A kubeconfig problem in plain words, naming the file once: kube's own message for an
/// unreadable file quotes the path again (`failed to read kubeconfig from '"/x"'`) and ends with
/// its cause, which it also exposes as its source.
fn kubeconfig_message(origin: &Origin, error: &KubeconfigError) -> String {
    match (error, origin) {
        (KubeconfigError::ReadConfig(io, path), Origin::Env(_)) => format!(
            "cannot read the kubeconfig {} (listed in KUBECONFIG): {io}",
            path.display()
        ),
        (KubeconfigError::ReadConfig(io, path), _) => {
            format!("cannot read the kubeconfig {}: {io}", path.display())
        }
        (other, _) => format!("reading {origin}: {}", plain(other)),
    }
}

/// A kubeconfig problem in plain words, with its cause.
fn plain(error: &KubeconfigError) -> String {
    match error {
        KubeconfigError::LoadContext(name) => {
            format!("it has no context named {name:?}; see `kubectl config get-contexts`")
        }
        KubeconfigError::CurrentContextNotSet => {
            "it sets no current-context; pass --context NAME".to_owned()
        }
        KubeconfigError::ReadConfig(io, path) => {
            format!("cannot read {}: {io}", path.display())
        }
        other => {
            // Each level on one line: the YAML parser's errors go on to quote the lines around
            // the problem, and a kubeconfig's lines hold tokens and keys.
            let first_line = |error: &dyn std::error::Error| {
                let text = error.to_string();
                let line = text.lines().next().unwrap_or_default();
                line.strip_prefix("error: ").unwrap_or(line).to_owned()
            };
            let mut text = first_line(other);
            let mut cause = std::error::Error::source(other);
            while let Some(inner) = cause {
                let more = first_line(inner);
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                cause = inner.source();
            }
            text.replace(": error: ", ": ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, server: &str, contexts: &[&str], current: &str) -> PathBuf {
        let mut text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c-{name}\n  cluster:\n    server: {server}\n\
             users:\n- name: u-{name}\n  user: {{}}\ncontexts:\n"
        );
        for context in contexts {
            text.push_str(&format!(
                "- name: {context}\n  context:\n    cluster: c-{name}\n    user: u-{name}\n"
            ));
        }
        if !current.is_empty() {
            text.push_str(&format!("current-context: {current}\n"));
        }
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[tokio::test]
    async fn flag_then_env_list_then_home() {
        let dir = tempfile::tempdir().unwrap();
        let flag = write(dir.path(), "flag", "http://127.0.0.1:1", &["f"], "f");
        let first = write(dir.path(), "first", "http://127.0.0.1:2", &["one"], "one");
        let second = write(dir.path(), "second", "http://127.0.0.1:3", &["two"], "two");
        let home = write(dir.path(), "home", "http://127.0.0.1:4", &["h"], "h");
        let list = std::env::join_paths([&first, &second]).unwrap();

        let (config, origin) =
            discover_with(Some(&flag), None, Some(list.clone()), Some(home.clone()))
                .await
                .unwrap();
        assert_eq!(origin, Origin::Flag(flag.clone()));
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:1/");

        // The list is merged: the first file's current-context wins, the second's contexts can
        // be chosen.
        let (config, origin) = discover_with(None, None, Some(list.clone()), Some(home.clone()))
            .await
            .unwrap();
        assert!(matches!(origin, Origin::Env(_)));
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:2/");
        let (config, _) = discover_with(None, Some("two"), Some(list), Some(home.clone()))
            .await
            .unwrap();
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:3/");

        let (config, origin) = discover_with(None, None, None, Some(home.clone()))
            .await
            .unwrap();
        assert_eq!(origin, Origin::Home(home));
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:4/");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_kubeconfig_is_said_on_one_line_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nsecret-token-line\n").unwrap();
        let error = discover_with(Some(&path), None, None, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("reading kubeconfig {}: ", path.display())),
            "{error}"
        );
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(!error.contains("secret-token-line"), "{error}");
    }

    #[tokio::test]
    async fn errors_say_what_was_tried_in_plain_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "k", "http://127.0.0.1:1", &["a"], "a");
        let error = discover_with(Some(&path), Some("nope"), None, None)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "reading kubeconfig {}: it has no context named \"nope\"; see `kubectl config get-contexts`",
                path.display()
            )
        );
        let missing = dir.path().join("missing");
        let error = discover_with(Some(&missing), None, None, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!(
                "cannot read the kubeconfig {}: ",
                missing.display()
            )),
            "{error}"
        );
        assert_eq!(
            error.matches(&*missing.display().to_string()).count(),
            1,
            "{error}"
        );
        let error = discover_with(None, Some("a"), None, Some(missing.clone()))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("--context \"a\" needs a kubeconfig"),
            "{error}"
        );
        let error = discover_with(None, None, None, Some(missing.clone()))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("cannot find the cluster: no --kubeconfig, KUBECONFIG is not set, "),
            "{error}"
        );
        assert!(
            !error.contains("Error {") && !error.contains("Os {"),
            "{error}"
        );
    }
}
