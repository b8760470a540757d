//! A real `vmauth`: an authenticating front that routes each user (bearer
//! token or basic auth) to its `url_prefix`, the way a VictoriaMetrics
//! cluster's vmselect is usually exposed. Killed when dropped.

use crate::daemon::{Daemon, workdir};
use crate::tools::VMAUTH;

/// A running `vmauth`; dropping it kills the process.
#[derive(Debug)]
pub struct VmAuth {
    daemon: Daemon,
    _dir: tempfile::TempDir,
}

impl VmAuth {
    /// Starts one that sends requests carrying `Authorization: Bearer
    /// <token>` to `url_prefix`, and refuses every other (this version:
    /// 401 without credentials, 400 with unknown ones).
    ///
    /// # Errors
    /// When the config cannot be written, or as [`Daemon::start`].
    pub async fn bearer(token: &str, url_prefix: &str) -> Result<VmAuth, String> {
        Self::start(&format!(
            "users:\n  - bearer_token: {token:?}\n    url_prefix: {url_prefix:?}\n"
        ))
        .await
    }

    /// Starts one with `auth_config` (vmauth's `-auth.config` YAML).
    ///
    /// # Errors
    /// When the config cannot be written, or as [`Daemon::start`].
    pub async fn start(auth_config: &str) -> Result<VmAuth, String> {
        let (dir, config) = workdir("vmauth-", "auth.yml", auth_config)?;
        let daemon = Daemon::start(VMAUTH, dir.path(), |addr| {
            vec![
                format!("-httpListenAddr={addr}"),
                format!("-auth.config={}", config.display()),
                "-loggerLevel=WARN".to_owned(),
            ]
        })
        .await?;
        Ok(VmAuth { daemon, _dir: dir })
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        self.daemon.url()
    }
}
