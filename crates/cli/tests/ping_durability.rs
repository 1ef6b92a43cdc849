//! A ping answered 2xx is durable: `tend serve` is killed with SIGKILL while threads
//! keep pinging it, then started again on the same database, and every ping that got
//! a 2xx must be there. Each ping carries a unique body, so the check is exact (no
//! counting, nothing that depends on timing: the kill comes after a fixed number of
//! answers, while the load is still running).

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Pinging threads, one check each.
const THREADS: usize = 8;
/// Answers received before the kill.
const KILL_AFTER: usize = 400;

struct Install {
    dir: std::path::PathBuf,
    database_url: Option<String>,
}

impl Install {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tend"));
        for (key, _) in std::env::vars() {
            if key.starts_with("TEND_") || key == "RUST_LOG" {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(&self.dir)
            .env("TEND_DATA_DIR", self.dir.join("data"))
            .env("TEND_LOG", "warn")
            .args(args)
            .stdin(Stdio::null());
        if let Some(url) = &self.database_url {
            cmd.env("TEND_DATABASE_URL", url);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "tend {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `tend serve --no-jobs` on a free port, answering once this returns.
    fn serve(&self) -> (Child, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = self
            .command(&[
                "serve",
                "--no-jobs",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/healthz")).call().is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tend serve exited early with {status}");
            }
            assert!(Instant::now() < deadline, "tend serve did not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        (child, base)
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Pings `uuid` with bodies `"{thread}-{i}"` until the server stops answering; returns
/// the bodies that were answered 200.
fn pinger(
    base: String,
    uuid: String,
    thread: usize,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut acked = Vec::new();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let body = format!("{thread}-{i}");
        match agent
            .post(&format!("{base}/ping/{uuid}"))
            .send(body.as_str())
        {
            Ok(r) if r.status().as_u16() == 200 => {
                acked.push(body);
                answered.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => panic!("ping answered {}", r.status()),
            // The server is gone: the load ends here.
            Err(_) => break,
        }
    }
    acked
}

fn every_answered_ping_survives_a_sigkill(install: Install) {
    install.run(&["migrate"]);
    install.run(&[
        "client",
        "add",
        "--name",
        "Acme",
        "--slug",
        "acme",
        "--timezone",
        "UTC",
        "--plan",
        "GROWTH",
    ]);
    let uuids: Vec<String> = (0..THREADS)
        .map(|i| {
            let url = install.run(&[
                "check",
                "add",
                "--client",
                "acme",
                "--name",
                &format!("job {i}"),
                "--period",
                "1h",
                "--grace",
                "1h",
            ]);
            url.trim().rsplit('/').next().unwrap().to_string()
        })
        .collect();

    let (mut server, base) = install.serve();
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = uuids
        .iter()
        .enumerate()
        .map(|(t, uuid)| {
            let (base, uuid) = (base.clone(), uuid.clone());
            let (answered, stop) = (answered.clone(), stop.clone());
            std::thread::spawn(move || pinger(base, uuid, t, answered, stop))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while answered.load(Ordering::Relaxed) < KILL_AFTER {
        assert!(Instant::now() < deadline, "the pings were not answered");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Child::kill sends SIGKILL: no shutdown code runs.
    server.kill().unwrap();
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total >= KILL_AFTER);

    // Started again on the same database, it serves, and holds every answered ping.
    let (mut again, base) = install.serve();
    let ok = ureq::get(&format!("{base}/ping/{}", uuids[0]))
        .call()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let stored = stored_bodies(&install, &uuids);
    let missing: Vec<&String> = acked
        .iter()
        .flatten()
        .filter(|b| !stored.lock().unwrap().contains(*b))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {total} answered pings were lost: {missing:?}",
        missing.len()
    );
    again.kill().unwrap();
    again.wait().unwrap();
}

/// The bodies of every ping stored for these checks, read from the database.
fn stored_bodies(install: &Install, uuids: &[String]) -> Mutex<std::collections::HashSet<String>> {
    let url = match &install.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}/tend.db", install.dir.join("data").display()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = tend_store::Store::connect(&url).await.unwrap();
        let mut bodies = std::collections::HashSet::new();
        for uuid in uuids {
            let check = store.check(uuid).await.unwrap();
            for n in 1.. {
                let request = tend_domain::page::PageRequest::new(Some(n), Some(200));
                let page = store.check_pings(check.id, request).await.unwrap();
                if page.items.is_empty() {
                    break;
                }
                bodies.extend(page.items.into_iter().map(|p| p.body));
            }
        }
        store.close().await;
        Mutex::new(bodies)
    })
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tend-crash-{}", tend_store::random_hex(6)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_ping_answered_2xx_survives_a_sigkill_on_sqlite() {
    every_answered_ping_survives_a_sigkill(Install {
        dir: temp_dir(),
        database_url: None,
    });
}

#[test]
fn every_ping_answered_2xx_survives_a_sigkill_on_postgres() {
    let Some(base) = std::env::var("TEND_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return;
    };
    let name = format!("tend_t_{}", tend_store::random_hex(6));
    admin_sql(&base, &format!("CREATE DATABASE {name}"));
    let (server, _) = base
        .rsplit_once('/')
        .expect("URL ends with a database name");
    every_answered_ping_survives_a_sigkill(Install {
        dir: temp_dir(),
        database_url: Some(format!("{server}/{name}")),
    });
    admin_sql(
        &base,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
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
