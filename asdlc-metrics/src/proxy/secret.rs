//! The secrets the proxy holds — credentials it sends upstream, the token it
//! requires of its own clients — kept out of `Debug`, error messages and
//! logs, and compared in constant time.

use subtle::ConstantTimeEq as _;

/// What a redacted secret is shown as.
pub(crate) const REDACTED: &str = "***";

/// A secret string. Its `Debug` is `***`: a config printed with `{:?}` (or
/// logged by a caller) shows that there is a secret, never its value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the secret, in time that depends on the
    /// lengths only, never on where the first differing byte is: a client
    /// guessing the token learns nothing from how long a refusal takes.
    /// (`subtle`'s comparison: audited, and kept opaque to the optimiser.)
    pub(crate) fn matches(&self, candidate: &[u8]) -> bool {
        bool::from(self.0.as_bytes().ct_eq(candidate))
    }

    /// `text` with every occurrence of the secret replaced by [`REDACTED`]:
    /// an upstream may quote the credentials it refused (vmauth does).
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, REDACTED)
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// How the proxy authenticates to its upstream (vmauth, a cluster's
/// vmselect behind an auth front, a hosted Prometheus API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// HTTP basic auth, from the upstream URL's userinfo.
    Basic {
        /// Not secret; shown in `Debug`.
        username: String,
        password: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
}

impl Credentials {
    /// Adds the `Authorization` header (reqwest marks it sensitive, so its
    /// own debug output hides it too).
    pub(crate) fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Credentials::Basic { username, password } => {
                request.basic_auth(username, Some(password.expose()))
            }
            Credentials::Bearer(token) => request.bearer_auth(token.expose()),
        }
    }

    /// `text` without the secret part of the credentials: the password
    /// both as it is and as the `Basic` header carries it
    /// (`base64(user:password)`, which vmauth quotes when it refuses it).
    pub(crate) fn redact(&self, text: &str) -> String {
        match self {
            Credentials::Basic { username, password } => {
                let header = Secret::new(base64(&format!("{username}:{}", password.expose())));
                header.redact(&password.redact(text))
            }
            Credentials::Bearer(token) => token.redact(text),
        }
    }
}

/// Standard base64 with padding (RFC 4648), as in a `Basic` header.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(text.len().div_ceil(3) * 4);
    for chunk in text.as_bytes().chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let bits = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `url` with any userinfo (`user:password@`) replaced by [`REDACTED`], for
/// messages about a URL that may not even parse.
pub(crate) fn redact_userinfo(url: &str) -> String {
    // Without a scheme (`user:pw@vm:8428`, a common slip) the authority
    // starts at the beginning.
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => format!(
            "{}{REDACTED}{}",
            &url[..scheme_end],
            &url[scheme_end + at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        let basic = Credentials::Basic {
            username: "grafana".into(),
            password: secret,
        };
        let shown = format!("{basic:?}");
        assert!(
            shown.contains("grafana") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn matches_only_the_exact_secret() {
        let token = Secret::new("s3cret");
        assert!(token.matches(b"s3cret"));
        for other in [&b"s3creT"[..], b"s3cre", b"s3crett", b"", b"S3CRET"] {
            assert!(!token.matches(other), "{other:?}");
        }
    }

    #[test]
    fn encodes_base64_as_basic_auth_does() {
        assert_eq!(base64(""), "");
        assert_eq!(base64("f"), "Zg==");
        assert_eq!(base64("fo"), "Zm8=");
        assert_eq!(base64("foo"), "Zm9v");
        assert_eq!(
            base64("Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        let basic = Credentials::Basic {
            username: "Aladdin".into(),
            password: Secret::new("open sesame"),
        };
        assert_eq!(
            basic.redact(r#"token "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" or open sesame"#),
            r#"token "Basic ***" or ***"#
        );
    }

    #[test]
    fn redacts_the_secret_and_userinfo() {
        let token = Secret::new("abc");
        assert_eq!(
            token.redact(r#"cannot find the provided auth token "Bearer abc""#),
            r#"cannot find the provided auth token "Bearer ***""#
        );
        assert_eq!(Secret::new("").redact("text"), "text");
        assert_eq!(
            redact_userinfo("http://u:p@ss@vm:8428/select/0"),
            "http://***@vm:8428/select/0"
        );
        assert_eq!(redact_userinfo("http://vm:8428/a@b"), "http://vm:8428/a@b");
        assert_eq!(redact_userinfo("u:p@vm:8428"), "***@vm:8428");
    }
}
