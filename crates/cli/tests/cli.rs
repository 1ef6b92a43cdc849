//! The `tend` binary as a user runs it: each test gets a fresh data directory (and, when
//! `TEND_TEST_POSTGRES_URL` is set, the PostgreSQL test gets a fresh database).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod harness {
    use super::*;

    /// Every variable `tend` reads, removed from the inherited environment so that the
    /// machine running the tests cannot change what they see.
    const TEND_VARS: [&str; 13] = [
        "TEND_PUBLIC_URL",
        "TEND_SMTP_URL",
        "TEND_MAIL_FROM",
        "TEND_SLA_WARN_PERCENT",
        "TEND_SLA_SCAN_SECONDS",
        "TEND_LISTEN",
        "TEND_DATA_DIR",
        "TEND_DATABASE_URL",
        "TEND_CONFIG",
        "TEND_SECURE_COOKIES",
        "TEND_LOG_FORMAT",
        "TEND_LOG",
        "RUST_LOG",
    ];

    /// One installation: a working directory with its own data directory.
    pub struct Tend {
        pub dir: PathBuf,
        database_url: Option<String>,
        drop_database: Option<(String, String)>,
    }

    pub struct Run {
        pub code: Option<i32>,
        pub stdout: String,
        pub stderr: String,
    }

    impl Run {
        fn from(output: Output) -> Self {
            Self {
                code: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        }

        #[track_caller]
        pub fn ok(self) -> Self {
            assert_eq!(
                self.code,
                Some(0),
                "expected success\nstdout:\n{}\nstderr:\n{}",
                self.stdout,
                self.stderr
            );
            self
        }

        /// A failure reported the way every command reports one: one `error: ` line.
        #[track_caller]
        pub fn fails(self) -> Self {
            assert_eq!(
                self.code,
                Some(1),
                "expected exit status 1\nstdout:\n{}\nstderr:\n{}",
                self.stdout,
                self.stderr
            );
            let errors: Vec<&str> = self
                .stderr
                .lines()
                .filter(|l| !l.contains(" INFO ") && !l.contains(" WARN "))
                .collect();
            assert_eq!(errors.len(), 1, "one error line, got:\n{}", self.stderr);
            assert!(errors[0].starts_with("error: "), "{}", errors[0]);
            self
        }

        pub fn error_line(&self) -> &str {
            self.stderr
                .lines()
                .find(|l| l.starts_with("error: "))
                .unwrap_or("")
        }
    }

    impl Tend {
        /// A fresh SQLite installation in a temporary directory.
        pub fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("tend-cli-{}", tend_store::random_hex(6)));
            std::fs::create_dir_all(&dir).unwrap();
            Self {
                dir,
                database_url: None,
                drop_database: None,
            }
        }

        /// A fresh PostgreSQL database on the server `TEND_TEST_POSTGRES_URL` names,
        /// created through tend_store (no psql needed); `None` when the variable is unset.
        pub fn postgres() -> Option<Self> {
            let base = std::env::var("TEND_TEST_POSTGRES_URL")
                .ok()
                .filter(|u| !u.is_empty())?;
            let name = format!("tend_t_{}", tend_store::random_hex(6));
            admin_sql(&base, &format!("CREATE DATABASE {name}"));
            let url = match base.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}"),
                None => panic!("TEND_TEST_POSTGRES_URL must end with a database name"),
            };
            let mut tend = Self::new();
            tend.database_url = Some(url);
            tend.drop_database = Some((base, name));
            Some(tend)
        }

        pub fn data_dir(&self) -> PathBuf {
            self.dir.join("data")
        }

        /// `tend ARGS` in this installation's directory, with only its own settings.
        pub fn command(&self, args: &[&str]) -> Command {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tend"));
            for var in TEND_VARS {
                cmd.env_remove(var);
            }
            cmd.current_dir(&self.dir)
                .env("TEND_DATA_DIR", self.data_dir())
                .args(args)
                .stdin(Stdio::null());
            if let Some(url) = &self.database_url {
                cmd.env("TEND_DATABASE_URL", url);
            }
            cmd
        }

        pub fn run(&self, args: &[&str]) -> Run {
            Run::from(self.command(args).output().unwrap())
        }

        pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
            let mut cmd = self.command(args);
            for (k, v) in env {
                cmd.env(k, v);
            }
            Run::from(cmd.output().unwrap())
        }

        /// `tend ARGS` with `input` piped to standard input.
        pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
            let mut child = self
                .command(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            Run::from(child.wait_with_output().unwrap())
        }

        /// Starts `tend serve` on a free port; the child is killed when the guard drops.
        pub fn serve(&self, extra: &[&str]) -> Server {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let listen = format!("127.0.0.1:{port}");
            let mut args = vec!["serve", "--listen", listen.as_str()];
            args.extend_from_slice(extra);
            let child = self
                .command(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            Server {
                child: Some(child),
                base: format!("http://{listen}"),
            }
        }
    }

    impl Drop for Tend {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
            if let Some((base, name)) = self.drop_database.take() {
                admin_sql(
                    &base,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
        }
    }

    fn admin_sql(base_url: &str, sql: &str) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let admin = tend_store::Store::connect(base_url).await.unwrap();
            if let tend_store::Db::Pg(pool) = &admin.db {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
            admin.close().await;
        });
    }

    pub struct Server {
        child: Option<Child>,
        pub base: String,
    }

    impl Server {
        /// GET `path`'s status, polling until the server answers (at most ~10 s).
        pub fn wait_for(&mut self, path: &str) -> u16 {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(2)))
                .http_status_as_error(false)
                .build()
                .into();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(response) = agent.get(&format!("{}{path}", self.base)).call() {
                    return response.status().as_u16();
                }
                if let Some(child) = self.child.as_mut() {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!("tend serve exited early with {status}");
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "tend serve did not answer within 10 s"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }

        /// Sends SIGTERM and returns the exit status and standard output.
        #[cfg(unix)]
        pub fn terminate(mut self) -> (Option<i32>, String) {
            let child = self.child.take().unwrap();
            let sent = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
            let output = child.wait_with_output().unwrap();
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
            )
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    pub fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }
}

use harness::{write, Tend};

fn add_acme(tend: &Tend) -> harness::Run {
    tend.run(&[
        "client",
        "add",
        "--name",
        "Acme Dental",
        "--slug",
        "acme-dental",
        "--timezone",
        "America/Chicago",
        "--plan",
        "GROWTH",
    ])
}

#[test]
fn a_ticket_is_opened_moved_answered_and_ranked_from_the_command_line() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let first = tend
        .run(&[
            "ticket",
            "new",
            "--client",
            "acme-dental",
            "--severity",
            "P1",
            "--title",
            "Leads stopped syncing",
        ])
        .ok();
    assert!(first.stdout.starts_with("#1\n"), "{}", first.stdout);
    assert!(
        first.stdout.contains("still missing: owner"),
        "what is missing is said at once"
    );
    tend.run(&[
        "ticket",
        "new",
        "--client",
        "acme-dental",
        "--severity",
        "P3",
        "--title",
        "Add a UTM field",
        "--blocked-by",
        "#1",
    ])
    .ok();
    let moved = tend.run(&["ticket", "status", "1", "waiting"]).ok();
    assert!(moved.stdout.contains("#1 is now waiting on client"));
    tend.run(&["ticket", "reply", "#1", "Got it, looking now"])
        .ok();
    let shown = tend.run(&["ticket", "show", "1"]).ok().stdout;
    assert!(shown.contains("[public]") && shown.contains("Got it, looking now"));
    let response = shown
        .lines()
        .find(|l| l.trim_start().starts_with("First response"))
        .unwrap_or_default();
    assert!(
        response.contains("met-in-time") && response.contains("due "),
        "{shown}"
    );
    let resolution = shown
        .lines()
        .find(|l| l.trim_start().starts_with("Resolution"))
        .unwrap_or_default();
    assert!(
        resolution.contains("paused"),
        "the resolution clock pauses while waiting: {shown}"
    );
    assert!(shown.contains("new → waiting-on-client"), "{shown}");
    let backlog = tend.run(&["backlog"]).ok().stdout;
    let first_row = backlog.lines().nth(1).unwrap_or_default();
    assert!(
        first_row.contains("#1") && first_row.contains("blocks #2"),
        "{backlog}"
    );
    let refused = tend.run(&["ticket", "status", "1", "closed"]).fails();
    assert!(
        refused.error_line().starts_with("error: status: "),
        "{}",
        refused.error_line()
    );
    let unknown = tend.run(&["ticket", "show", "99"]).fails();
    assert_eq!(unknown.error_line(), "error: there is no ticket #99");
    let no_client = tend
        .run(&["ticket", "new", "--client", "nope", "--title", "x"])
        .fails();
    assert!(no_client.error_line().contains("client"));
}

#[test]
fn a_change_is_recorded_on_a_ticket_and_its_release_goes_out_once_qa_passed() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    tend.run(&[
        "ticket",
        "new",
        "--client",
        "acme-dental",
        "--title",
        "Bookings stopped",
    ])
    .ok();
    let id = tend
        .run(&[
            "release",
            "new",
            "--client",
            "acme-dental",
            "--name",
            "November window",
            "--planned",
            "2026-11-20",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert_eq!(id, "1");
    let first = tend
        .run(&["ticket", "change", "1", "--systems", "GoHighLevel"])
        .fails();
    assert_eq!(first.error_line(), "error: what_changed: is required");
    let recorded = tend
        .run(&[
            "ticket",
            "change",
            "#1",
            "--what",
            "The booking webhook sends the rotated secret",
            "--systems",
            "GoHighLevel, Zapier",
            "--qa-before",
            "Staging booking creates a contact",
            "--qa-before-result",
            "pass",
            "--release",
            &id,
            "--notes",
            "Bookings reach your CRM again.",
        ])
        .ok()
        .stdout;
    assert!(
        recorded.starts_with("recorded the change of #1\n"),
        "{recorded}"
    );
    assert!(recorded.contains("GoHighLevel, Zapier"));
    let shown = tend.run(&["release", "show", &id]).ok().stdout;
    assert!(shown.contains("#1 Bookings stopped"), "{shown}");
    assert!(
        shown.contains("Not ready: a release goes out only when every change"),
        "{shown}"
    );
    let refused = tend.run(&["release", "mark-released", &id]).fails();
    assert!(
        refused.error_line().ends_with("#1 after release: not run"),
        "{}",
        refused.error_line()
    );
    let bad = tend
        .run(&["ticket", "change", "1", "--qa-after-result", "maybe"])
        .fails();
    assert!(
        bad.error_line().contains("qa_after_result"),
        "{}",
        bad.error_line()
    );
    tend.run(&[
        "ticket",
        "change",
        "1",
        "--qa-after",
        "Live booking creates a contact",
        "--qa-after-result",
        "pass",
    ])
    .ok();
    let ticket = tend.run(&["ticket", "show", "1"]).ok().stdout;
    assert!(
        ticket.contains("pass: Live booking creates a contact")
            && ticket.contains("Staging booking"),
        "the flags not given kept their value: {ticket}"
    );
    let released = tend.run(&["release", "mark-released", &id]).ok().stdout;
    assert!(released.contains("is released with 1 change"), "{released}");
    let list = tend
        .run(&["release", "list", "--state", "released"])
        .ok()
        .stdout;
    assert!(
        list.contains("November window") && list.contains("released"),
        "{list}"
    );
    let notes = tend.run(&["release", "notes", &id]).ok().stdout;
    assert!(
        notes.starts_with("# Release notes: Acme Dental — November window\n\nReleased "),
        "{notes}"
    );
    assert!(notes.contains("## #1 Bookings stopped"));
    assert!(notes.contains("- Verified after release: Live booking creates a contact (pass)"));
    let frozen = tend.run(&["ticket", "change", "1", "--notes", "x"]).fails();
    assert!(frozen.error_line().contains("kept as it went out"));
    let unknown = tend.run(&["release", "show", "9"]).fails();
    assert_eq!(unknown.error_line(), "error: there is no release 9");
}

#[test]
fn sla_attainment_prints_a_table_per_group_and_period() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let none = tend.run(&["sla", "attainment"]).ok();
    assert!(
        none.stdout.contains("No clock was met or missed"),
        "{}",
        none.stdout
    );
    tend.run(&[
        "ticket",
        "new",
        "--client",
        "acme-dental",
        "--severity",
        "P1",
        "--title",
        "Leads",
    ])
    .ok();
    tend.run(&["ticket", "reply", "1", "On it"]).ok();
    let out = tend
        .run(&["sla", "attainment", "--by", "client", "--period", "month"])
        .ok()
        .stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("By client, per month, "), "{out}");
    assert!(
        lines[1].starts_with("CLIENT") && lines[1].contains("FIRST RESPONSE"),
        "{out}"
    );
    let total = lines.iter().find(|l| l.contains(" total ")).unwrap_or(&"");
    assert!(
        total.starts_with("acme-dental") && total.contains("100 % (1/1)"),
        "{out}"
    );
    assert!(
        out.contains("Overall: first response 100 % (1/1), resolution —."),
        "{out}"
    );
    let severity = tend
        .run(&[
            "sla",
            "attainment",
            "--by",
            "severity",
            "--from",
            "2026-01-01",
            "--to",
            "2028-12-31",
        ])
        .ok()
        .stdout;
    assert!(severity.contains("\np1 "), "{severity}");
    let bad = tend.run(&["sla", "attainment", "--period", "day"]).fails();
    assert!(
        bad.error_line().starts_with("error: period: "),
        "{}",
        bad.error_line()
    );
    let backwards = tend
        .run(&[
            "sla",
            "attainment",
            "--from",
            "2026-05-01",
            "--to",
            "2026-04-01",
        ])
        .fails();
    assert!(backwards.error_line().contains("after it ends"));
    tend.run(&["sla", "attainment", "--client", "nope"]).fails();
}

#[test]
fn holidays_are_imported_from_an_ics_file_after_a_dry_run() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let next = jiff::Zoned::now().year() + 1;
    let ics = tend.dir.join("holidays.ics");
    std::fs::write(
        &ics,
        format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:{next}1225\r\nSUMMARY:Christmas Day\r\n\
             END:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:{next}0101\r\nDTEND;VALUE=DATE:{next}0103\r\n\
             SUMMARY:New Year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    .unwrap();
    let file = ics.to_str().unwrap();
    let dry = tend
        .run(&[
            "client",
            "holidays",
            "acme-dental",
            "--import",
            file,
            "--dry-run",
        ])
        .ok()
        .stdout;
    assert!(
        dry.starts_with("Would add 3 holidays to Acme Dental (dry run"),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("{next}-01-02")),
        "multi-day events give each day: {dry}"
    );
    let listed = tend.run(&["client", "holidays", "acme-dental"]).ok().stdout;
    assert_eq!(listed, "Acme Dental has no holidays.\n");
    let added = tend
        .run(&["client", "holidays", "acme-dental", "--import", file])
        .ok()
        .stdout;
    assert!(
        added.starts_with("Added 3 holidays to Acme Dental:"),
        "{added}"
    );
    let listed = tend.run(&["client", "holidays", "acme-dental"]).ok().stdout;
    assert!(listed.contains(&format!("{next}-12-25")) && listed.contains("Christmas Day"));
    let again = tend
        .run(&["client", "holidays", "acme-dental", "--import", file])
        .ok()
        .stdout;
    assert!(again.starts_with("Nothing to add"), "{again}");

    std::fs::write(
        &ics,
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    .unwrap();
    let bad = tend
        .run(&["client", "holidays", "acme-dental", "--import", file])
        .fails();
    assert!(
        bad.error_line().ends_with("holidays.ics: line 2: this event has no DTSTART, so it has no date; nothing was imported"),
        "{}",
        bad.error_line()
    );
    tend.run(&[
        "client",
        "holidays",
        "acme-dental",
        "--import",
        "missing.ics",
    ])
    .fails();
    tend.run(&["client", "holidays", "nope"]).fails();
}

#[test]
fn a_check_is_added_pinged_paused_and_resumed_from_the_command_line() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let added = tend
        .run(&[
            "check",
            "add",
            "--client",
            "acme-dental",
            "--name",
            "lead sync",
            "--period",
            "5m",
            "--grace",
            "1m",
        ])
        .ok();
    let url = added.stdout.trim();
    let uuid = url
        .strip_prefix("http://127.0.0.1:8080/ping/")
        .unwrap_or_else(|| panic!("a ping URL: {url}"));
    assert_eq!(uuid.len(), 36, "{url}");
    let listed = tend.run(&["check", "list"]).ok().stdout;
    assert!(
        listed.contains("lead sync") && listed.contains("every 5m") && listed.contains("new"),
        "{listed}"
    );
    let pinged = tend.run(&["ping", uuid]).ok().stdout;
    assert_eq!(pinged, "OK: lead sync is up\n");
    let failed = tend.run(&["ping", uuid, "fail"]).ok().stdout;
    assert_eq!(failed, "OK: lead sync is down\n");
    let paused = tend.run(&["check", "pause", uuid]).ok().stdout;
    assert_eq!(paused, "lead sync is paused\n");
    let listed = tend
        .run(&[
            "check",
            "list",
            "--client",
            "acme-dental",
            "--state",
            "paused",
        ])
        .ok()
        .stdout;
    assert!(listed.contains("lead sync"), "{listed}");
    let resumed = tend.run(&["check", "resume", uuid]).ok().stdout;
    assert_eq!(resumed, "lead sync is new\n");

    let bad = tend
        .run(&[
            "check",
            "add",
            "--client",
            "acme-dental",
            "--name",
            "x",
            "--period",
            "soon",
        ])
        .fails();
    assert!(bad.error_line().contains("period"), "{}", bad.error_line());
    let unknown = tend
        .run(&["ping", "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"])
        .fails();
    assert_eq!(
        unknown.error_line(),
        "error: there is no check 5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
    );
    let key = tend
        .run(&["check", "key", "--client", "acme-dental"])
        .ok()
        .stdout;
    assert_eq!(key.trim().len(), 22, "{key}");
    let bad_signal = tend.run(&["ping", uuid, "stop"]).fails();
    assert!(bad_signal.error_line().contains("not a signal"));
}

#[test]
fn an_event_stream_is_added_and_relearned_from_the_command_line() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let added = tend
        .run(&[
            "check",
            "add",
            "--client",
            "acme-dental",
            "--name",
            "new leads",
            "--events",
            "--learn-events",
            "5",
        ])
        .ok();
    let url = added.stdout.trim();
    let uuid = url
        .strip_prefix("http://127.0.0.1:8080/events/")
        .unwrap_or_else(|| panic!("an event URL: {url}"));
    assert_eq!(uuid.len(), 36, "{url}");
    let listed = tend.run(&["check", "list"]).ok().stdout;
    assert!(listed.contains("events (shape and volume)"), "{listed}");
    let relearned = tend.run(&["check", "relearn", uuid]).ok().stdout;
    assert_eq!(
        relearned,
        "new leads learns its shape again from the next 5 events\n"
    );
    // A usage error: clap refuses it with exit status 2.
    let both = tend
        .command(&[
            "check",
            "add",
            "--client",
            "acme-dental",
            "--name",
            "x",
            "--events",
            "--period",
            "5m",
        ])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
    let bad = tend
        .run(&[
            "check",
            "add",
            "--client",
            "acme-dental",
            "--name",
            "y",
            "--events",
            "--learn-events",
            "0",
        ])
        .fails();
    assert!(
        bad.error_line().contains("learn_events"),
        "{}",
        bad.error_line()
    );
    let beat = tend
        .run(&[
            "check",
            "add",
            "--client",
            "acme-dental",
            "--name",
            "nightly",
            "--period",
            "1d",
        ])
        .ok();
    let beat_uuid = beat.stdout.trim().rsplit('/').next().unwrap().to_string();
    let not_stream = tend.run(&["check", "relearn", &beat_uuid]).fails();
    assert!(
        not_stream.error_line().ends_with("not an event stream"),
        "{}",
        not_stream.error_line()
    );
}

#[test]
fn migrate_applies_the_schema_once_and_then_says_it_is_current() {
    let tend = Tend::new();
    let first = tend.run(&["migrate"]).ok();
    assert!(
        first.stdout.contains("applied 0001_foundation"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("STARTER, GROWTH and ENTERPRISE"));
    assert!(tend.data_dir().join("tend.db").is_file());
    let second = tend.run(&["migrate"]).ok();
    assert!(second.stdout.contains("is current"), "{}", second.stdout);
    assert!(!second.stdout.contains("applied"));
}

#[test]
fn a_user_added_with_a_password_on_stdin_can_be_listed_and_the_password_is_not_echoed() {
    let tend = Tend::new();
    let added = tend
        .run_with_stdin(
            &[
                "user",
                "add",
                "ana@agency.example",
                "--role",
                "owner",
                "--name",
                "Ana Silva",
            ],
            "correct horse battery staple\n",
        )
        .ok();
    assert!(added
        .stdout
        .contains("Added owner ana@agency.example (Ana Silva)"));
    assert!(!added.stdout.contains("correct horse"));
    let list = tend.run(&["user", "list"]).ok();
    let row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("ana@agency.example"))
        .expect("the user is listed");
    assert!(row.contains("Ana Silva") && row.contains("owner") && row.contains("active"));
}

#[test]
fn a_user_added_without_a_password_gets_a_generated_one_printed_once() {
    let tend = Tend::new();
    let added = tend
        .run(&[
            "user",
            "add",
            "bo@agency.example",
            "--role",
            "staff",
            "--generate-password",
        ])
        .ok();
    let password = added
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("a password line")
        .to_string();
    assert_eq!(password.len(), 32, "{password}");
    assert!(password.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(added.stdout.contains("shown once"));
    assert!(!tend.run(&["user", "list"]).ok().stdout.contains(&password));
}

#[test]
fn a_password_shorter_than_ten_characters_is_refused_and_no_user_is_added() {
    let tend = Tend::new();
    let refused = tend
        .run_with_stdin(
            &["user", "add", "cy@agency.example", "--role", "viewer"],
            "short\n",
        )
        .fails();
    assert!(
        refused.error_line().starts_with("error: password: "),
        "{}",
        refused.error_line()
    );
    assert!(!tend
        .run(&["user", "list"])
        .ok()
        .stdout
        .contains("cy@agency.example"));
}

#[test]
fn a_new_password_can_be_set_from_stdin_for_an_existing_user_only() {
    let tend = Tend::new();
    tend.run(&[
        "user",
        "add",
        "di@agency.example",
        "--role",
        "staff",
        "--generate-password",
    ])
    .ok();
    let changed = tend
        .run_with_stdin(
            &["user", "passwd", "di@agency.example"],
            "a much better password\n",
        )
        .ok();
    assert!(changed
        .stdout
        .contains("Changed the password of di@agency.example"));
    let unknown = tend
        .run_with_stdin(
            &["user", "passwd", "nobody@agency.example"],
            "a much better password\n",
        )
        .fails();
    assert!(unknown.error_line().contains("nobody@agency.example"));
}

#[test]
fn a_token_secret_is_printed_once_and_never_listed() {
    let tend = Tend::new();
    let created = tend
        .run(&[
            "token",
            "create",
            "--name",
            "Zapier sync",
            "--scope",
            "write",
        ])
        .ok();
    let secret = created
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Secret: "))
        .expect("a secret line")
        .to_string();
    assert!(secret.starts_with("tend_") && secret.len() > 30, "{secret}");
    assert!(created.stdout.contains("cannot be shown again"));

    let list = tend.run(&["token", "list"]).ok();
    assert!(list.stdout.contains("Zapier sync") && list.stdout.contains("write"));
    assert!(!list.stdout.contains(&secret), "the list shows the secret");

    tend.run(&["token", "revoke", "1"]).ok();
    assert!(tend.run(&["token", "list"]).ok().stdout.contains("revoked"));
    tend.run(&["token", "revoke", "1"]).fails();

    let owner = tend
        .run(&["token", "create", "--name", "Books", "--scope", "owner"])
        .ok();
    assert!(
        owner.stdout.contains("Created owner token"),
        "{}",
        owner.stdout
    );
    let bad = tend
        .run(&["token", "create", "--name", "X", "--scope", "admin"])
        .fails();
    assert!(
        bad.error_line().contains("read, write or owner"),
        "{}",
        bad.error_line()
    );
}

#[test]
fn a_client_added_with_a_plan_is_listed_and_shown_with_its_contract() {
    let tend = Tend::new();
    let added = add_acme(&tend).ok();
    assert!(added
        .stdout
        .contains("Created client Acme Dental (acme-dental)"));
    assert!(added.stdout.contains("monthly-retainer on GROWTH"));

    let list = tend.run(&["client", "list"]).ok();
    let row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("Acme Dental"))
        .expect("the client is listed");
    for cell in ["acme-dental", "GROWTH", "active", "America/Chicago"] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(list.stdout.contains("page 1 of 1, 1 client"));

    let show = tend.run(&["client", "show", "acme-dental"]).ok().stdout;
    for part in [
        "Acme Dental (acme-dental)",
        "monthly-retainer, billed monthly",
        "Plan GROWTH (Growth)",
        "$1,200/month, 10 h included",
        "Business hours (America/Chicago)",
        "09:00–17:00",
        "Contacts",
    ] {
        assert!(show.contains(part), "{part} in\n{show}");
    }
}

#[test]
fn a_duplicate_slug_is_refused_in_one_line_and_the_first_client_stays_alone() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let again = add_acme(&tend).fails();
    assert!(
        again.error_line().starts_with("error: slug: "),
        "{}",
        again.error_line()
    );
    assert!(tend
        .run(&["client", "list"])
        .ok()
        .stdout
        .contains("page 1 of 1, 1 client"));
}

#[test]
fn an_unknown_timezone_is_refused_naming_the_timezone_field() {
    let tend = Tend::new();
    let refused = tend
        .run(&[
            "client",
            "add",
            "--name",
            "Mars Base",
            "--timezone",
            "Mars/X",
            "--plan",
            "GROWTH",
        ])
        .fails();
    assert!(
        refused
            .error_line()
            .starts_with("error: timezone: \"Mars/X\" is not an IANA timezone"),
        "{}",
        refused.error_line()
    );
}

#[test]
fn a_client_whose_contract_cannot_be_stored_is_not_stored_either() {
    let tend = Tend::new();
    let refused = tend
        .run(&[
            "client",
            "add",
            "--name",
            "Acme Dental",
            "--timezone",
            "America/Chicago",
            "--plan",
            "PLATINUM",
        ])
        .fails();
    assert!(
        refused.error_line().contains("plan"),
        "{}",
        refused.error_line()
    );
    assert!(tend
        .run(&["client", "list"])
        .ok()
        .stdout
        .contains("No clients yet"));
}

#[test]
fn showing_a_client_that_does_not_exist_names_the_slug() {
    let tend = Tend::new();
    let missing = tend.run(&["client", "show", "nobody"]).fails();
    assert!(missing.error_line().contains("\"nobody\""));
}

#[test]
fn plan_list_shows_the_three_default_tiers_with_their_fees() {
    let tend = Tend::new();
    let out = tend.run(&["plan", "list"]).ok().stdout;
    for (code, fee) in [
        ("STARTER", "$500"),
        ("GROWTH", "$1,200"),
        ("ENTERPRISE", "$2,500"),
    ] {
        let row = out
            .lines()
            .find(|l| l.starts_with(code))
            .unwrap_or_else(|| panic!("{code} is listed:\n{out}"));
        assert!(row.contains(fee), "{fee} in {row}");
    }
    let growth = out.lines().find(|l| l.starts_with("GROWTH")).unwrap();
    assert!(growth.contains("10 h") && growth.contains("5 h / 15 h") && growth.contains("$150/h"));
}

#[test]
fn export_is_one_json_document_with_everything_about_the_client() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let out = tend.run(&["export", "--client", "acme-dental"]).ok().stdout;
    let doc: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(doc["client"]["slug"], "acme-dental");
    assert_eq!(doc["contracts"][0]["plan_code"], "GROWTH");
    assert!(!doc["audit_log"].as_array().unwrap().is_empty());

    tend.run(&["export", "--client", "acme-dental", "--output", "acme.json"])
        .ok();
    let file = std::fs::read_to_string(tend.dir.join("acme.json")).unwrap();
    let from_file: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(from_file["client"]["name"], "Acme Dental");

    tend.run(&["export", "--client", "nobody"]).fails();
}

#[test]
fn backup_writes_a_copy_and_refuses_to_overwrite_a_file() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    tend.run(&["backup", "copy.db"]).ok();
    let copy = tend.dir.join("copy.db");
    assert!(std::fs::metadata(&copy).unwrap().len() > 0);

    let refused = tend.run(&["backup", "copy.db"]).fails();
    assert!(refused.error_line().contains("already exists"));
    let nowhere = tend.run(&["backup", "no-such-dir/copy.db"]).fails();
    assert!(
        nowhere.error_line().contains("no-such-dir"),
        "{}",
        nowhere.error_line()
    );

    // The copy is a working database with the client in it.
    let restored = tend.run(&[
        "client",
        "list",
        "--database-url",
        &format!("sqlite://{}", copy.display()),
    ]);
    assert!(restored.ok().stdout.contains("acme-dental"));
}

#[test]
fn demo_fills_an_empty_database_once() {
    let tend = Tend::new();
    let demo = tend.run(&["demo"]).ok();
    assert!(demo.stdout.contains("12 clients"), "{}", demo.stdout);
    assert!(demo.stdout.contains("owner@demo.tend") && demo.stdout.contains("tend-demo-2026"));

    let list = tend.run(&["client", "list"]).ok().stdout;
    for slug in [
        "brightsmile-dental",
        "harper-academy",
        "ledgerly",
        "hale-whitmore",
    ] {
        assert!(list.contains(slug), "{slug} in\n{list}");
    }
    assert!(list.contains("page 1 of 1, 12 clients"));

    let paged = tend.run(&["client", "list", "--per-page", "5"]).ok().stdout;
    assert!(paged.contains("page 1 of 3, 12 clients"), "{paged}");
    let growth = tend
        .run(&["client", "list", "--plan", "growth"])
        .ok()
        .stdout;
    assert!(growth.contains("brightsmile-dental") && !growth.contains("ledgerly"));
    let paused = tend
        .run(&["client", "list", "--state", "paused"])
        .ok()
        .stdout;
    assert!(paused.contains("page 1 of 1, 1 client\n"), "{paused}");
    tend.run(&["client", "list", "--state", "sleeping"]).fails();

    let upgraded = tend
        .run(&["client", "show", "brightsmile-dental"])
        .ok()
        .stdout;
    assert!(upgraded.contains("STARTER from") && upgraded.contains("then GROWTH from"));
    let users = tend.run(&["user", "list"]).ok().stdout;
    for role in ["owner", "staff", "viewer"] {
        assert!(users.contains(role));
    }

    let again = tend.run(&["demo"]).fails();
    assert!(again.error_line().contains("already has 12 client(s)"));
}

#[cfg(unix)]
#[test]
fn serve_answers_healthz_and_stops_cleanly_on_sigterm() {
    let tend = Tend::new();
    let mut server = tend.serve(&[]);
    assert_eq!(server.wait_for("/healthz"), 200);
    let base = server.base.clone();
    let (code, stdout) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains(&format!("Tend is running on {base}")),
        "{stdout}"
    );
}

#[cfg(unix)]
#[test]
fn serve_with_demo_fills_an_empty_database_and_prints_how_to_sign_in() {
    let tend = Tend::new();
    let mut server = tend.serve(&["--demo"]);
    assert_eq!(server.wait_for("/healthz"), 200);
    let (code, stdout) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("sign in as owner@demo.tend with password tend-demo-2026"),
        "{stdout}"
    );
    let list = tend.run(&["client", "list"]).ok().stdout;
    assert!(list.contains("12 clients"), "{list}");
}

#[test]
fn a_taken_port_is_reported_in_one_line() {
    let tend = Tend::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let refused = tend.run(&["serve", "--listen", &addr]).fails();
    assert!(
        refused.error_line().starts_with("error: listen: "),
        "{}",
        refused.error_line()
    );
}

#[test]
fn a_flag_beats_the_environment_which_beats_tend_toml_which_beats_the_default() {
    let tend = Tend::new();
    let listen = |run: harness::Run| -> String {
        run.ok()
            .stdout
            .lines()
            .find(|l| l.starts_with("listen = "))
            .unwrap()
            .to_string()
    };
    assert!(listen(tend.run(&["config"])).contains("\"127.0.0.1:8080\""));

    write(
        &tend.dir.join("tend.toml"),
        "listen = \"127.0.0.1:7001\"\nlog_format = \"json\"\n",
    );
    let from_file = listen(tend.run(&["config"]));
    assert!(
        from_file.contains("7001") && from_file.contains("# tend.toml"),
        "{from_file}"
    );

    let env = [("TEND_LISTEN", "127.0.0.1:7002")];
    let from_env = listen(tend.run_env(&["config"], &env));
    assert!(
        from_env.contains("7002") && from_env.contains("# TEND_LISTEN"),
        "{from_env}"
    );

    // Global flags work after the subcommand and before it.
    for args in [
        ["config", "--listen", "127.0.0.1:7003"],
        ["--listen", "127.0.0.1:7003", "config"],
    ] {
        let from_flag = listen(tend.run_env(&args, &env));
        assert!(
            from_flag.contains("7003") && from_flag.contains("# --listen"),
            "{from_flag}"
        );
    }

    // Keys the higher layers leave alone still come from the file.
    let all = tend.run_env(&["config"], &env).ok().stdout;
    assert!(all.contains("log_format = \"json\""), "{all}");
}

#[test]
fn a_config_file_is_found_by_flag_or_environment_and_must_exist() {
    let tend = Tend::new();
    write(&tend.dir.join("elsewhere.toml"), "secure_cookies = true\n");
    let by_flag = tend
        .run(&["--config", "elsewhere.toml", "config"])
        .ok()
        .stdout;
    assert!(by_flag.contains("secure_cookies = true"), "{by_flag}");
    let by_env = tend
        .run_env(
            &["config"],
            &[
                ("TEND_CONFIG", "elsewhere.toml"),
                ("TEND_SECURE_COOKIES", "no"),
            ],
        )
        .ok()
        .stdout;
    assert!(by_env.contains("secure_cookies = false"), "{by_env}");

    let missing = tend.run(&["--config", "missing.toml", "config"]).fails();
    assert!(missing.error_line().contains("missing.toml"));
    write(&tend.dir.join("typo.toml"), "lissten = \"0.0.0.0:80\"\n");
    let typo = tend.run(&["--config", "typo.toml", "config"]).fails();
    assert!(
        typo.error_line().contains("lissten"),
        "{}",
        typo.error_line()
    );
}

#[test]
fn the_database_url_follows_the_data_dir_unless_given_and_hides_its_password() {
    let tend = Tend::new();
    let out = tend.run(&["config", "--data-dir", "/srv/tend"]).ok().stdout;
    assert!(
        out.contains("database_url = \"sqlite:///srv/tend/tend.db\""),
        "{out}"
    );
    let pg = tend
        .run(&[
            "config",
            "--database-url",
            "postgres://tend:hunter22@db/tend",
        ])
        .ok()
        .stdout;
    assert!(
        pg.contains("postgres://tend:***@db/tend") && !pg.contains("hunter22"),
        "{pg}"
    );
}

#[test]
fn usage_errors_keep_clap_format_and_exit_with_status_two() {
    let tend = Tend::new();
    let run = tend.run(&["client", "add", "--name", "No Plan"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("--timezone"));
    assert_eq!(tend.run(&["frobnicate"]).code, Some(2));
}

#[test]
fn every_command_has_help() {
    let tend = Tend::new();
    let top = tend.run(&["--help"]).ok().stdout;
    for command in [
        "serve",
        "migrate",
        "demo",
        "user",
        "token",
        "client",
        "plan",
        "backup",
        "export",
        "config",
        "ticket",
        "backlog",
        "release",
        "sla",
        "outbox",
        "check",
        "ping",
        "log",
        "hours",
        "close-month",
        "billing",
    ] {
        assert!(top.contains(command), "{command} in --help");
        tend.run(&[command, "--help"]).ok();
    }
    for (group, sub) in [
        ("user", "add"),
        ("user", "list"),
        ("user", "passwd"),
        ("token", "create"),
        ("token", "list"),
        ("token", "revoke"),
        ("client", "list"),
        ("client", "add"),
        ("client", "show"),
        ("plan", "list"),
        ("ticket", "new"),
        ("ticket", "list"),
        ("ticket", "show"),
        ("ticket", "reply"),
        ("ticket", "status"),
        ("ticket", "change"),
        ("release", "list"),
        ("release", "new"),
        ("release", "show"),
        ("release", "notes"),
        ("release", "mark-released"),
    ] {
        let help = tend.run(&[group, sub, "--help"]).ok().stdout;
        assert!(
            help.contains("TEND_DATA_DIR"),
            "{group} {sub} --help lists the configuration"
        );
    }
}

#[test]
fn on_postgresql_clients_are_added_and_listed_the_same_way() {
    let Some(tend) = Tend::postgres() else {
        eprintln!("TEND_TEST_POSTGRES_URL is not set; skipping the PostgreSQL run");
        return;
    };
    let migrated = tend.run(&["migrate"]).ok();
    assert!(
        migrated.stdout.contains("applied 0001_foundation"),
        "{}",
        migrated.stdout
    );
    assert!(migrated.stdout.contains("postgres://"));
    add_acme(&tend).ok();
    add_acme(&tend).fails();
    let list = tend.run(&["client", "list"]).ok().stdout;
    assert!(
        list.contains("acme-dental") && list.contains("page 1 of 1, 1 client"),
        "{list}"
    );
    let refused = tend.run(&["backup", "copy.db"]).fails();
    assert!(refused.error_line().contains("pg_dump"));
    // No SQLite file was made on the side.
    assert!(!tend.data_dir().join("tend.db").exists());
}

#[test]
fn the_sla_scan_and_the_outbox_can_be_run_by_hand() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    tend.run(&[
        "ticket",
        "new",
        "--client",
        "acme-dental",
        "--severity",
        "P1",
        "--title",
        "Checkout down",
    ])
    .ok();
    let scan = tend.run(&["sla", "scan"]).ok();
    assert!(
        scan.stdout
            .contains("1 open ticket, 2 clocks: 0 new warnings, 0 new breaches"),
        "{}",
        scan.stdout
    );
    assert_eq!(tend.run(&["outbox", "list"]).ok().stdout, "No messages.\n");
    let deliver = tend.run(&["outbox", "deliver"]).fails();
    assert!(
        deliver.error_line().contains("smtp_url"),
        "{}",
        deliver.error_line()
    );
    let retry = tend.run(&["outbox", "retry", "999"]).fails();
    assert!(
        retry.error_line().contains("not found"),
        "{}",
        retry.error_line()
    );
    for args in [
        &["outbox", "show", "999"][..],
        &["outbox", "send", "999"][..],
        &["outbox", "discard", "999", "--yes"][..],
    ] {
        let missing = tend.run(args).fails();
        assert!(
            missing.error_line().contains("there is no message 999"),
            "{args:?}: {}",
            missing.error_line()
        );
    }
    assert_eq!(
        tend.run(&["outbox", "list", "--drafts"]).ok().stdout,
        "No messages.\n"
    );
    let bad = tend
        .run_env(&["sla", "scan"], &[("TEND_SLA_WARN_PERCENT", "0")])
        .fails();
    assert!(
        bad.error_line().contains("sla_warn_percent"),
        "{}",
        bad.error_line()
    );
}

#[test]
fn a_ticket_email_is_shown_from_its_template_then_sent_to_the_contacts() {
    let tend = Tend::new();
    tend.run(&["demo"]).ok();
    let opened = tend
        .run(&[
            "ticket",
            "new",
            "--client",
            "brightsmile-dental",
            "--severity",
            "P1",
            "--title",
            "Booking reminders stopped",
        ])
        .ok();
    let number = opened
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches('#')
        .to_string();
    let shown = tend.run(&["ticket", "email", &number]).ok().stdout;
    assert!(
        shown.contains("Subject: Re: Booking reminders stopped"),
        "{shown}"
    );
    assert!(shown.contains("I'll have an update for you by"), "{shown}");
    assert!(
        shown.contains("(not sent: add --send to send it)"),
        "{shown}"
    );

    let blanks = tend
        .run(&["ticket", "email", &number, "--template", "status-update"])
        .ok()
        .stdout;
    assert!(blanks.contains("blanks to fill in"), "{blanks}");
    let refused = tend
        .run(&[
            "ticket",
            "email",
            &number,
            "--template",
            "status-update",
            "--send",
        ])
        .fails();
    assert!(
        refused.error_line().contains("[what you found]"),
        "{}",
        refused.error_line()
    );
    let unknown = tend
        .run(&["ticket", "email", &number, "--to", "eve@elsewhere.test"])
        .fails();
    assert!(
        unknown.error_line().contains("not a contact"),
        "{}",
        unknown.error_line()
    );

    let sent = tend
        .run(&["ticket", "email", &number, "--send"])
        .ok()
        .stdout;
    assert!(sent.starts_with("Emailed "), "{sent}");
    let outbox = tend.run(&["outbox", "list"]).ok().stdout;
    assert!(outbox.contains("Re: Booking reminders stopped"), "{outbox}");
}

#[test]
fn time_is_logged_against_the_hour_bank_and_the_sheet_billing_and_close_read_it() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    tend.run(&[
        "ticket",
        "new",
        "--client",
        "acme-dental",
        "--title",
        "Email sync",
    ])
    .ok();
    let first = tend
        .run(&[
            "log",
            "7h30m",
            "--ticket",
            "1",
            "--type",
            "bug-fix",
            "Investigated",
            "email sync",
        ])
        .ok()
        .stdout;
    assert!(
        first.contains("Used 7.5h of 10h, remaining 2.5h"),
        "{first}"
    );
    assert!(first.contains("Alert: 75 %"), "{first}");
    let full = tend
        .run(&["log", "150", "--ticket", "#1", "--type", "minor config"])
        .ok()
        .stdout;
    assert!(full.contains("Alert: 100 %"), "{full}");
    let asked = tend
        .run(&["log", "1h", "--ticket", "1", "--type", "bug-fix"])
        .fails();
    assert!(
        asked
            .error_line()
            .contains("--after-limit overage|defer|upgrade"),
        "{}",
        asked.error_line()
    );
    let over = tend
        .run(&[
            "log",
            "20m",
            "--ticket",
            "1",
            "--type",
            "bug-fix",
            "--after-limit",
            "overage",
        ])
        .ok()
        .stdout;
    assert!(
        over.contains("bills 30m") && over.contains("overage 0.5h"),
        "{over}"
    );
    tend.run(&[
        "log",
        "1h",
        "--ticket",
        "1",
        "--type",
        "new-feature",
        "UTM field",
    ])
    .ok();
    let bad = tend
        .run(&["log", "1h1h", "--ticket", "1", "--type", "bug-fix"])
        .fails();
    assert!(bad.error_line().contains("1h1h"), "{}", bad.error_line());
    let unknown = tend
        .run(&["log", "1h", "--ticket", "1", "--type", "gardening"])
        .fails();
    assert!(
        unknown.error_line().contains("work_type"),
        "{}",
        unknown.error_line()
    );

    let sheet = tend.run(&["hours", "--client", "acme-dental"]).ok().stdout;
    assert!(sheet.contains("remaining 0h"), "{sheet}");
    assert!(sheet.contains("RUNNING TOTAL"), "{sheet}");
    assert!(
        sheet.contains("11.5h"),
        "the running total ends at 11.5 h: {sheet}"
    );
    let csv = tend
        .run(&["hours", "--client", "acme-dental", "--csv"])
        .ok()
        .stdout;
    assert_eq!(csv.lines().count(), 5, "a header and four entries: {csv}");
    assert!(csv
        .lines()
        .nth(1)
        .unwrap_or_default()
        .contains(",Investigated email sync,included"));

    let month = jiff::Zoned::now().strftime("%Y-%m").to_string();
    let billing = tend
        .run(&["billing", "--period", &month, "--csv"])
        .ok()
        .stdout;
    let amounts: i64 = billing
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next()?.trim().parse::<i64>().ok())
        .sum();
    // $1,200 fee + 0.5 h overage at $150 + 1 h other work at $150.
    assert_eq!(amounts, 120_000 + 7_500 + 15_000, "{billing}");

    let preview = tend
        .run(&["close-month", "--dry-run", "--as-of", "2030-01-01"])
        .ok()
        .stdout;
    assert!(preview.contains("(dry run: nothing written)"), "{preview}");
    assert!(preview.contains("acme-dental"), "{preview}");
    let closed = tend.run(&["close-month"]).ok().stdout;
    assert!(
        closed.contains("closed 0 period(s)"),
        "nothing has ended yet: {closed}"
    );
    let refused = tend.run(&["close-month", "--as-of", "2030-01-01"]);
    assert_eq!(refused.code, Some(2), "--as-of only previews");
}

#[test]
fn checks_are_imported_from_a_csv_file_after_a_dry_run() {
    let tend = Tend::new();
    add_acme(&tend).ok();
    let file = tend.data_dir().join("checks.csv");
    harness::write(
        &file,
        "name,period,grace,uuid\nBackups,1d,15m,5a1c2f9e-3b47-4f7e-9a53-5a4b8f2f3e10\nLead sync,5m,1m,\n",
    );
    let path = file.to_str().unwrap();
    let preview = tend
        .run(&[
            "check",
            "import",
            "--client",
            "acme-dental",
            path,
            "--dry-run",
        ])
        .ok()
        .stdout;
    assert!(
        preview.contains("Would import 2 checks, skipped 0 (dry run: nothing written)."),
        "{preview}"
    );
    assert_eq!(
        tend.run(&["check", "list"]).ok().stdout.lines().count(),
        1,
        "nothing yet"
    );
    let done = tend
        .run(&["check", "import", "--client", "acme-dental", path])
        .ok()
        .stdout;
    assert!(
        done.contains("/ping/5a1c2f9e-3b47-4f7e-9a53-5a4b8f2f3e10"),
        "the UUID is kept: {done}"
    );
    assert!(done.contains("Imported 2 checks, skipped 0."), "{done}");
    let again = tend
        .run(&["check", "import", "--client", "acme-dental", path])
        .ok()
        .stdout;
    assert!(again.contains("Imported 0 checks, skipped 2."), "{again}");

    harness::write(&file, "name,period\nx,soon\n");
    let bad = tend
        .run(&["check", "import", "--client", "acme-dental", path])
        .fails();
    assert!(
        bad.error_line().contains("row 1 period"),
        "{}",
        bad.error_line()
    );
    let missing = tend
        .run(&["check", "import", "--client", "acme-dental", "/no/such.csv"])
        .fails();
    assert!(
        missing.error_line().contains("cannot read /no/such.csv"),
        "{}",
        missing.error_line()
    );
}
