//! The effective configuration: command-line flags over `TEND_*` environment variables
//! over `tend.toml` over defaults. Every subcommand reads it the same way, and
//! `tend config` prints it with the place each value came from.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// The keys, as written in `tend.toml` (the environment variable is `TEND_` + the key in
/// capitals, the flag is `--` + the key with hyphens).
pub const KEYS: [&str; 14] = [
    "listen",
    "data_dir",
    "database_url",
    "secure_cookies",
    "log_format",
    "log",
    "public_url",
    "smtp_url",
    "mail_from",
    "sla_warn_percent",
    "sla_scan_seconds",
    "ping_body_limit",
    "pings_kept",
    "digest_hour",
];

const DEFAULT_CONFIG_FILE: &str = "tend.toml";
const SQLITE_FILE: &str = "tend.db";

// Layer names, as error messages put them: "… for key TEND_LISTEN in the environment",
// "… for key listen in ./tend.toml config file".
const FROM_DEFAULT: &str = "the defaults";
const FROM_FILE: &str = "config file";
const FROM_ENV: &str = "the environment";
const FROM_FLAG: &str = "the command line";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// The configuration as read, before anything is derived from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port the web server listens on.
    pub listen: String,
    /// Where the SQLite file lives.
    pub data_dir: PathBuf,
    /// Empty: SQLite in `data_dir`.
    #[serde(default)]
    pub database_url: String,
    pub secure_cookies: bool,
    pub log_format: LogFormat,
    /// A tracing filter: `info`, `warn`, `tend=debug,sqlx=warn`.
    pub log: String,
    /// Where people reach this Tend, for links in email. Empty: `http://` + `listen`.
    #[serde(default)]
    pub public_url: String,
    /// The mail server: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`. Empty: email waits in the outbox until one is set.
    #[serde(default)]
    pub smtp_url: String,
    /// The sender of every email.
    pub mail_from: String,
    /// An SLA clock warns after this share of its target (1–100).
    pub sla_warn_percent: i64,
    /// How often the SLA scan looks for warnings and breaches.
    pub sla_scan_seconds: u64,
    /// Bytes of a ping's request body that are kept; longer bodies are cut, not refused.
    pub ping_body_limit: usize,
    /// Pings kept per check; older ones leave only their hourly counts.
    pub pings_kept: i64,
    /// The local hour (0–23, in each user's timezone) the daily digest is sent.
    pub digest_hour: i64,
    /// Slack and webhook channels: `[notify.slack.<name>]`, `[notify.webhook.<name>]`,
    /// or `TEND_NOTIFY__SLACK__<NAME>__URL=…` in the environment.
    #[serde(default)]
    pub notify: NotifySettings,
}

/// The `[notify]` tables. URLs and secrets live here only, never in the database.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    #[serde(default)]
    pub slack: std::collections::BTreeMap<String, SlackChannel>,
    #[serde(default)]
    pub webhook: std::collections::BTreeMap<String, WebhookChannel>,
}

/// A Slack incoming webhook.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackChannel {
    /// `https://hooks.slack.com/services/…` (a secret).
    pub url: String,
    /// Events it hears (`check.down`, `check.*`, `sla.breach`); empty for all.
    #[serde(default)]
    pub events: Vec<String>,
    /// Client slugs it hears about; empty for all.
    #[serde(default)]
    pub clients: Vec<String>,
}

/// A generic webhook, signed with HMAC-SHA256.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChannel {
    pub url: String,
    /// The shared signing secret (at least 16 characters).
    pub secret: String,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub clients: Vec<String>,
}

impl std::fmt::Debug for SlackChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackChannel")
            .field("url", &"***")
            .field("events", &self.events)
            .field("clients", &self.clients)
            .finish()
    }
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookChannel")
            .field("url", &"***")
            .field("secret", &"***")
            .field("events", &self.events)
            .field("clients", &self.clients)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            secure_cookies: false,
            log_format: LogFormat::Text,
            log: "info".into(),
            public_url: String::new(),
            smtp_url: String::new(),
            mail_from: "Tend <tend@localhost>".into(),
            sla_warn_percent: 75,
            sla_scan_seconds: 30,
            ping_body_limit: tend_web::DEFAULT_PING_BODY_LIMIT,
            pings_kept: tend_store::checks::DEFAULT_PINGS_KEPT,
            digest_hour: 8,
            notify: NotifySettings::default(),
        }
    }
}

/// The values given on the command line; `None` means "not given here".
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secure_cookies: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Not a setting itself: where to read `tend.toml` from.
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

/// Which `tend.toml` was read, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFile {
    /// Named by `--config` or `TEND_CONFIG`.
    Given(PathBuf),
    /// `./tend.toml`, found in the working directory.
    Found(PathBuf),
    /// No `--config`, no `TEND_CONFIG`, no `./tend.toml`.
    None,
}

/// The effective configuration, and where each value came from.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub file: ConfigFile,
    /// Per key of [`KEYS`], the layer that won.
    sources: Vec<(&'static str, String)>,
}

/// A provider under a name of ours, so `tend config` can say which layer a value came
/// from and error messages name a key the way that layer spells it.
struct Named<P> {
    name: &'static str,
    spell: fn(&str) -> String,
    inner: P,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        let spell = self.spell;
        let mut metadata = self
            .inner
            .metadata()
            .interpolater(move |_: &Profile, path: &[&str]| spell(&path.join(".")));
        metadata.name = self.name.into();
        metadata
    }

    fn data(&self) -> Result<figment::value::Map<Profile, figment::value::Dict>, figment::Error> {
        self.inner.data()
    }
}

fn as_file_key(key: &str) -> String {
    key.to_string()
}

fn as_env_var(key: &str) -> String {
    format!("TEND_{}", key.to_uppercase())
}

fn as_flag(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

impl Config {
    /// Reads the configuration from the process environment and the given flags.
    pub fn load(flags: &Flags) -> Result<Self, Failure> {
        let env_config = std::env::var_os("TEND_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let file = match flags.config.clone().or(env_config) {
            Some(path) if path.is_file() => ConfigFile::Given(path),
            Some(path) => {
                return Err(Failure::new(format!(
                    "config: {} does not exist or is not a file",
                    path.display()
                )))
            }
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                ConfigFile::Found(PathBuf::from(DEFAULT_CONFIG_FILE))
            }
            None => ConfigFile::None,
        };
        let mut figment = Figment::new().merge(Named {
            name: FROM_DEFAULT,
            spell: as_file_key,
            inner: Serialized::defaults(Settings::default()),
        });
        if let ConfigFile::Given(path) | ConfigFile::Found(path) = &file {
            figment = figment.merge(Named {
                name: FROM_FILE,
                spell: as_file_key,
                inner: Toml::file_exact(path),
            });
        }
        let figment = figment
            .merge(Named {
                name: FROM_ENV,
                spell: as_env_var,
                inner: Env::prefixed("TEND_").only(&KEYS),
            })
            // Channels from the environment: TEND_NOTIFY__SLACK__OPS__URL=… is
            // notify.slack.ops.url.
            .merge(Named {
                name: FROM_ENV,
                spell: as_env_var,
                inner: Env::prefixed("TEND_NOTIFY__")
                    .split("__")
                    .map(|k| format!("notify.{k}").into()),
            })
            .merge(Named {
                name: FROM_FLAG,
                spell: as_flag,
                inner: Serialized::defaults(flags),
            });
        // Lossy: TEND_SECURE_COOKIES=1, yes or on mean true, as people write them.
        let settings: Settings = figment.extract_lossy().map_err(config_error)?;
        let sources = KEYS
            .iter()
            .map(|key| {
                let source = match figment.find_metadata(key).map(|m| m.name.as_ref()) {
                    Some(FROM_FLAG) => as_flag(key),
                    Some(FROM_ENV) => as_env_var(key),
                    Some(FROM_FILE) => match &file {
                        ConfigFile::Given(p) | ConfigFile::Found(p) => p.display().to_string(),
                        ConfigFile::None => FROM_FILE.to_string(),
                    },
                    _ => "default".to_string(),
                };
                (*key, source)
            })
            .collect();
        Ok(Self {
            settings,
            file,
            sources,
        })
    }

    /// The database to open: `database_url` when given, else `tend.db` in `data_dir`.
    pub fn database_url(&self) -> String {
        let given = self.settings.database_url.trim();
        if given.is_empty() {
            sqlite_url(&self.settings.data_dir.join(SQLITE_FILE))
        } else {
            given.to_string()
        }
    }

    /// Links in email start here.
    pub fn public_url(&self) -> String {
        let given = self.settings.public_url.trim().trim_end_matches('/');
        if given.is_empty() {
            format!("http://{}", self.settings.listen)
        } else {
            given.to_string()
        }
    }

    /// The warn share, checked.
    pub fn sla_warn(&self) -> Result<tend_domain::sla_clock::WarnShare, Failure> {
        tend_domain::sla_clock::WarnShare::percent(self.settings.sla_warn_percent)
            .map_err(|e| Failure::new(format!("sla_warn_percent: {e}")))
    }

    /// The Slack and webhook channels, checked: routes (names and subscriptions) and
    /// targets (URLs and secrets).
    pub fn notify(&self) -> Result<tend_jobs::NotifyConfig, Failure> {
        use tend_domain::notify::{ChannelKind, Route};
        let n = &self.settings.notify;
        let mut out = tend_jobs::NotifyConfig::default();
        let url_ok = |key: String, url: &str| -> Result<String, Failure> {
            let url = url.trim();
            if url.starts_with("https://") || url.starts_with("http://") {
                Ok(url.to_string())
            } else {
                Err(Failure::new(format!(
                    "{key}.url: must be an http:// or https:// URL"
                )))
            }
        };
        for (name, c) in &n.slack {
            let url = url_ok(format!("notify.slack.{name}"), &c.url)?;
            out.targets.slack.insert(name.clone(), url);
            out.routes.push(Route {
                kind: ChannelKind::Slack,
                name: name.clone(),
                events: c.events.clone(),
                clients: c.clients.clone(),
            });
        }
        for (name, c) in &n.webhook {
            let url = url_ok(format!("notify.webhook.{name}"), &c.url)?;
            if c.secret.trim().chars().count() < 16 {
                return Err(Failure::new(format!(
                    "notify.webhook.{name}.secret: must be at least 16 characters"
                )));
            }
            out.targets.webhook.insert(
                name.clone(),
                tend_jobs::WebhookTarget {
                    url,
                    secret: c.secret.trim().to_string(),
                },
            );
            out.routes.push(Route {
                kind: ChannelKind::Webhook,
                name: name.clone(),
                events: c.events.clone(),
                clients: c.clients.clone(),
            });
        }
        Ok(out)
    }

    /// The digest hour, checked (0–23).
    pub fn digest_hour(&self) -> Result<i8, Failure> {
        let h = self.settings.digest_hour;
        if (0..=23).contains(&h) {
            Ok(h as i8)
        } else {
            Err(Failure::new(format!(
                "digest_hour: {h} is not an hour of the day (0-23)"
            )))
        }
    }

    pub fn is_postgres(&self) -> bool {
        tend_store::is_postgres_url(&self.database_url())
    }

    /// Creates the directory the SQLite file goes in (nothing to do for PostgreSQL).
    pub fn prepare_storage(&self) -> Result<(), Failure> {
        if self.is_postgres() {
            return Ok(());
        }
        let dir = if self.settings.database_url.trim().is_empty() {
            Some(self.settings.data_dir.clone())
        } else {
            sqlite_path(&self.database_url()).and_then(|p| p.parent().map(Path::to_path_buf))
        };
        match dir {
            Some(dir) if !dir.as_os_str().is_empty() => {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Failure::new(format!("data_dir: cannot create {}: {e}", dir.display()))
                })
            }
            _ => Ok(()),
        }
    }

    fn source(&self, key: &str) -> &str {
        self.sources
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| s.as_str())
            .unwrap_or("default")
    }

    /// The effective configuration as TOML a user could save as `tend.toml`, each line
    /// with the layer it came from; passwords in a database URL are masked.
    pub fn render(&self) -> String {
        let s = &self.settings;
        let file = match &self.file {
            ConfigFile::Given(p) | ConfigFile::Found(p) => p.display().to_string(),
            ConfigFile::None => "none (no --config, no TEND_CONFIG, no ./tend.toml)".into(),
        };
        let database_source = if s.database_url.trim().is_empty() {
            "from data_dir".to_string()
        } else {
            self.source("database_url").to_string()
        };
        let lines = [
            ("listen", toml_string(&s.listen), self.source("listen")),
            (
                "data_dir",
                toml_string(&s.data_dir.display().to_string()),
                self.source("data_dir"),
            ),
            (
                "database_url",
                toml_string(&redact_url(&self.database_url())),
                database_source.as_str(),
            ),
            (
                "secure_cookies",
                s.secure_cookies.to_string(),
                self.source("secure_cookies"),
            ),
            (
                "log_format",
                toml_string(s.log_format.as_str()),
                self.source("log_format"),
            ),
            ("log", toml_string(&s.log), self.source("log")),
            (
                "public_url",
                toml_string(&self.public_url()),
                self.source("public_url"),
            ),
            (
                "smtp_url",
                toml_string(&redact_url(&s.smtp_url)),
                self.source("smtp_url"),
            ),
            (
                "mail_from",
                toml_string(&s.mail_from),
                self.source("mail_from"),
            ),
            (
                "sla_warn_percent",
                s.sla_warn_percent.to_string(),
                self.source("sla_warn_percent"),
            ),
            (
                "sla_scan_seconds",
                s.sla_scan_seconds.to_string(),
                self.source("sla_scan_seconds"),
            ),
            (
                "ping_body_limit",
                s.ping_body_limit.to_string(),
                self.source("ping_body_limit"),
            ),
            (
                "pings_kept",
                s.pings_kept.to_string(),
                self.source("pings_kept"),
            ),
            (
                "digest_hour",
                s.digest_hour.to_string(),
                self.source("digest_hour"),
            ),
        ];
        let width = lines
            .iter()
            .map(|(k, v, _)| k.len() + v.len() + 3)
            .max()
            .unwrap_or(0);
        let mut out = format!(
            "# Effective configuration (flags > TEND_* environment > tend.toml > defaults)\n# config file: {file}\n"
        );
        for (key, value, source) in lines {
            let line = format!("{key} = {value}");
            out.push_str(&format!("{line:<width$}  # {source}\n"));
        }
        // Channel URLs and secrets are secrets: only the names and subscriptions show.
        let list = |v: &[String]| {
            if v.is_empty() {
                "all".to_string()
            } else {
                v.join(", ")
            }
        };
        for (name, c) in &s.notify.slack {
            out.push_str(&format!(
                "# notify.slack.{name}: url set, events: {}, clients: {}\n",
                list(&c.events),
                list(&c.clients)
            ));
        }
        for (name, c) in &s.notify.webhook {
            out.push_str(&format!(
                "# notify.webhook.{name}: url and secret set, events: {}, clients: {}\n",
                list(&c.events),
                list(&c.clients)
            ));
        }
        out
    }
}

fn config_error(e: figment::Error) -> Failure {
    Failure::new(format!("configuration: {e}"))
}

/// A `sqlite://` URL for a file path; `%`, `?` and `#` are escaped because the SQLite
/// driver percent-decodes the path and splits off `?` parameters.
pub fn sqlite_url(path: &Path) -> String {
    let mut out = String::from("sqlite://");
    for c in path.display().to_string().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// The file a `sqlite:` URL names, when it names one plainly (no escapes).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !path.contains('%')).then(|| PathBuf::from(path))
}

/// A URL with its password (if any) replaced by `***`, safe to print and log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_never_shows_its_password() {
        assert_eq!(
            redact_url("postgres://tend:s3cret@db.internal:5432/tend"),
            "postgres://tend:***@db.internal:5432/tend"
        );
        assert_eq!(
            redact_url("postgres://tend@localhost/tend"),
            "postgres://tend@localhost/tend"
        );
        assert_eq!(
            redact_url("sqlite://./data/tend.db"),
            "sqlite://./data/tend.db"
        );
    }

    #[test]
    fn the_sqlite_file_sits_in_the_data_dir_with_awkward_characters_escaped() {
        assert_eq!(
            sqlite_url(Path::new("./data/tend.db")),
            "sqlite://./data/tend.db"
        );
        assert_eq!(
            sqlite_url(Path::new("/srv/50%?#/tend.db")),
            "sqlite:///srv/50%25%3F%23/tend.db"
        );
        assert_eq!(
            sqlite_path("sqlite:///srv/tend/tend.db?mode=rwc"),
            Some(PathBuf::from("/srv/tend/tend.db"))
        );
    }

    #[test]
    fn printed_values_are_valid_toml_strings() {
        assert_eq!(toml_string(r#"C:\data "x""#), r#""C:\\data \"x\"""#);
        assert_eq!(toml_string("a\u{7f}"), "\"a\\u007F\"");
    }
}
