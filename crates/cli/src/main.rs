//! `tend`: the one binary. Reads the configuration, then runs the web server or one of
//! the commands that set up and look after the installation.

mod checks;
mod cli;
mod clients;
mod config;
mod database;
mod demo;
mod failure;
mod holidays;
mod hours;
mod logging;
mod maintenance;
mod outbox;
mod password;
mod plans;
mod releases;
mod serve;
mod sla;
mod table;
mod tickets;
mod tokens;
mod users;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{
    CheckCommand, Cli, ClientCommand, Command, MaintenanceCommand, OutboxCommand, PlanCommand,
    ReleaseCommand, SlaCommand, TicketCommand, TokenCommand, UserCommand,
};
use crate::config::Config;
use crate::failure::Failure;

fn main() -> ExitCode {
    // Usage errors are clap's: its message, exit status 2.
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let config = Config::load(&cli.global.flags())?;
    if let Command::Config = cli.command {
        // Needs no database and no logging: works even when those are misconfigured.
        return emit(&config.render());
    }
    logging::init(&config)?;
    let serving = matches!(cli.command, Command::Serve { .. });
    let runtime = if serving {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        // One command, one connection at a time: a single thread is plenty.
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .map_err(|e| Failure::new(format!("cannot start the async runtime: {e}")))?;
    let output = runtime.block_on(dispatch(cli.command, &config))?;
    emit(&output)
}

/// Runs one command; what it returns is printed on standard output.
async fn dispatch(command: Command, config: &Config) -> Result<String, Failure> {
    match command {
        Command::Config => Ok(config.render()),
        Command::Serve { demo, no_jobs } => serve::run(config, demo, !no_jobs)
            .await
            .map(|()| String::new()),
        Command::Sla(SlaCommand::Scan) => {
            let store = database::open(config, true).await?;
            let result = outbox::scan(config, &store).await;
            store.close().await;
            result
        }
        Command::Outbox(command) => {
            let store = database::open(config, true).await?;
            let result = match command {
                OutboxCommand::List {
                    trouble,
                    drafts,
                    limit,
                } => outbox::list(&store, trouble, drafts, limit).await,
                OutboxCommand::Show { id } => outbox::show(&store, id).await,
                OutboxCommand::Send {
                    id,
                    subject,
                    body_file,
                } => outbox::send(&store, id, subject, body_file).await,
                OutboxCommand::Discard { id, yes } => outbox::discard(&store, id, yes).await,
                OutboxCommand::Deliver => outbox::deliver(config, &store).await,
                OutboxCommand::Retry { id } => outbox::retry(&store, id).await,
            };
            store.close().await;
            result
        }
        Command::Check(command) => {
            let store = database::open(config, true).await?;
            let result = check(&store, command, config).await;
            store.close().await;
            result
        }
        Command::Ping { uuid, signal } => {
            let store = database::open(config, true).await?;
            let result = checks::ping(
                &store,
                &uuid,
                signal.as_deref(),
                config.settings.pings_kept.max(1),
            )
            .await;
            store.close().await;
            result
        }
        Command::Migrate => database::migrate(config).await,
        Command::Backup { file } => database::backup(config, &file).await,
        command => {
            let store = database::open(config, true).await?;
            let result = with_store(command, &store).await;
            store.close().await;
            result
        }
    }
}

async fn with_store(command: Command, store: &tend_store::Store) -> Result<String, Failure> {
    match command {
        Command::Demo => {
            let report = demo::load(store).await?;
            let mut out = format!(
                "Loaded demo data: {} users, {} clients, {} contacts, {} contracts, {} tickets.\n",
                report.users, report.clients, report.contacts, report.contracts, report.tickets
            );
            if !report.existing_users.is_empty() {
                out.push_str(&format!(
                    "Left existing users as they were: {}.\n",
                    report.existing_users.join(", ")
                ));
            }
            out.push_str(&format!(
                "Run `tend serve` and {}; maya@ and leo@demo.tend (staff) and sam@demo.tend (viewer) use the same password.\n",
                demo::sign_in_hint()
            ));
            Ok(out)
        }
        Command::User(UserCommand::Add {
            email,
            role,
            name,
            generate_password,
        }) => users::add(store, &email, &role, name.as_deref(), generate_password).await,
        Command::User(UserCommand::List) => users::list(store).await,
        Command::User(UserCommand::Passwd {
            email,
            generate_password,
        }) => users::passwd(store, &email, generate_password).await,
        Command::Token(TokenCommand::Create { name, scope }) => {
            tokens::create(store, &name, &scope).await
        }
        Command::Token(TokenCommand::List) => tokens::list(store).await,
        Command::Token(TokenCommand::Revoke { id }) => tokens::revoke(store, id).await,
        Command::Client(ClientCommand::List {
            search,
            plan,
            state,
            page,
            per_page,
        }) => {
            clients::list(
                store,
                clients::ListArgs {
                    search,
                    plan,
                    state,
                    page,
                    per_page,
                },
            )
            .await
        }
        Command::Client(ClientCommand::Add {
            name,
            slug,
            timezone,
            plan,
            owner,
        }) => {
            clients::add(
                store,
                clients::AddArgs {
                    name,
                    slug,
                    timezone,
                    plan,
                    owner,
                },
            )
            .await
        }
        Command::Client(ClientCommand::Show { slug }) => clients::show(store, &slug).await,
        Command::Client(ClientCommand::Holidays {
            slug,
            import,
            dry_run,
        }) => holidays::run(store, &slug, import.as_deref(), dry_run).await,
        Command::Sla(SlaCommand::Attainment {
            by,
            period,
            from,
            to,
            client,
        }) => sla::attainment(store, &by, &period, from, to, client).await,
        Command::Plan(PlanCommand::List) => plans::list(store).await,
        Command::Ticket(TicketCommand::New {
            client,
            title,
            severity,
            source,
            description,
            owner,
            blocked_by,
            expected_outcome,
            next_action,
        }) => {
            let draft = tend_domain::ticket::TicketDraft {
                client,
                title,
                severity: severity.unwrap_or_default(),
                source,
                description: description.unwrap_or_default(),
                owner_email: owner.unwrap_or_default(),
                blocked_by: blocked_by.unwrap_or_default(),
                expected_outcome: expected_outcome.unwrap_or_default(),
                next_action: next_action.unwrap_or_default(),
                ..Default::default()
            };
            tickets::new(store, draft).await
        }
        Command::Ticket(TicketCommand::List {
            client,
            status,
            severity,
            all,
            incomplete,
            page,
        }) => {
            tickets::list(
                store,
                tickets::ListArgs {
                    client,
                    status,
                    severity,
                    all,
                    incomplete,
                    page,
                },
            )
            .await
        }
        Command::Ticket(TicketCommand::Show { number }) => tickets::show(store, &number).await,
        Command::Ticket(TicketCommand::Reply {
            number,
            text,
            internal,
        }) => tickets::reply(store, &number, &text, internal).await,
        Command::Ticket(TicketCommand::Email {
            number,
            template,
            to,
            send,
        }) => tickets::email(store, &number, &template, &to, send).await,
        Command::Ticket(TicketCommand::Status { number, status }) => {
            tickets::status(store, &number, &status).await
        }
        Command::Ticket(TicketCommand::Change(args)) => releases::change(store, args).await,
        Command::Release(command) => release(store, command).await,
        Command::Maintenance(command) => maintenance_command(store, command).await,
        Command::Backlog {
            client,
            breaching_within,
        } => tickets::backlog(store, client.as_deref(), breaching_within).await,
        Command::Export { client, output } => {
            clients::export(store, &client, output.as_deref()).await
        }
        Command::Log {
            duration,
            ticket,
            work_type,
            date,
            after_limit,
            note,
        } => {
            let args = hours::LogArgs {
                duration,
                ticket,
                work_type,
                note,
                date,
                after_limit,
            };
            hours::log(store, args).await
        }
        Command::Hours {
            client,
            period,
            csv,
        } => hours::hours(store, &client, period.as_deref(), csv).await,
        Command::CloseMonth { dry_run, as_of } => {
            hours::close_month(store, dry_run, as_of.as_deref()).await
        }
        Command::Billing { period, csv } => hours::billing(store, &period, csv).await,
        Command::Config
        | Command::Serve { .. }
        | Command::Migrate
        | Command::Backup { .. }
        | Command::Sla(SlaCommand::Scan)
        | Command::Check(_)
        | Command::Ping { .. }
        | Command::Outbox(_) => Err(Failure::new("internal: command dispatched twice")),
    }
}

async fn check(
    store: &tend_store::Store,
    command: CheckCommand,
    config: &Config,
) -> Result<String, Failure> {
    match command {
        CheckCommand::Add {
            client,
            name,
            slug,
            workflow,
            criticality,
            events: true,
            learn_events,
            ..
        } => {
            let draft = tend_domain::event_stream::EventStreamDraft {
                client,
                name,
                slug: slug.unwrap_or_default(),
                workflow: workflow.unwrap_or_default(),
                criticality: criticality.unwrap_or_default(),
                learn_events: learn_events.unwrap_or_default(),
                events_kept: String::new(),
            };
            checks::add_events(store, draft, &config.public_url()).await
        }
        CheckCommand::Add {
            client,
            name,
            slug,
            workflow,
            criticality,
            period,
            cron,
            tz,
            grace,
            events: false,
            learn_events: _,
            probe,
        } => {
            let draft = tend_domain::check::CheckDraft {
                probe: probe.into_draft(),
                client,
                name,
                slug: slug.unwrap_or_default(),
                workflow: workflow.unwrap_or_default(),
                criticality: criticality.unwrap_or_default(),
                period: period.unwrap_or_default(),
                cron: cron.unwrap_or_default(),
                timezone: tz.unwrap_or_default(),
                grace: grace.unwrap_or_default(),
            };
            checks::add(store, draft, &config.public_url()).await
        }
        CheckCommand::List { client, state } => {
            checks::list(store, client.as_deref(), state.as_deref()).await
        }
        CheckCommand::Key { client } => checks::key(store, &client).await,
        CheckCommand::Pause { uuid } => checks::set_paused(store, &uuid, true).await,
        CheckCommand::Resume { uuid } => checks::set_paused(store, &uuid, false).await,
        CheckCommand::Import {
            client,
            file,
            format,
            dry_run,
        } => {
            checks::import(
                store,
                &client,
                &file,
                format.as_deref(),
                dry_run,
                &config.public_url(),
            )
            .await
        }
        CheckCommand::Relearn { uuid } => checks::relearn(store, &uuid).await,
        CheckCommand::ResolveOnRecovery { uuid, setting } => {
            maintenance::resolve_on_recovery(store, &uuid, setting == "on").await
        }
    }
}

async fn maintenance_command(
    store: &tend_store::Store,
    command: MaintenanceCommand,
) -> Result<String, Failure> {
    match command {
        MaintenanceCommand::Add {
            client,
            checks,
            once,
            starts,
            ends,
            days,
            from,
            until,
            cron,
            duration,
            tz,
            reason,
        } => {
            let kind = if once || starts.is_some() || ends.is_some() {
                "once"
            } else if cron.is_some() {
                "cron"
            } else {
                "weekly"
            };
            let draft = tend_domain::maintenance::WindowDraft {
                client,
                checks,
                kind: kind.into(),
                starts: starts.unwrap_or_default(),
                ends: ends.unwrap_or_default(),
                days: days.unwrap_or_default(),
                from: from.unwrap_or_default(),
                until: until.unwrap_or_default(),
                cron: cron.unwrap_or_default(),
                duration: duration.unwrap_or_default(),
                timezone: tz.unwrap_or_default(),
                reason: reason.unwrap_or_default(),
            };
            maintenance::add(store, draft).await
        }
        MaintenanceCommand::List { client, ended } => {
            maintenance::list(store, client.as_deref(), ended).await
        }
        MaintenanceCommand::End { id } => maintenance::end(store, id).await,
    }
}

async fn release(store: &tend_store::Store, command: ReleaseCommand) -> Result<String, Failure> {
    match command {
        ReleaseCommand::List { client, state } => {
            releases::list(store, client.as_deref(), state.as_deref()).await
        }
        ReleaseCommand::New {
            client,
            name,
            planned,
        } => {
            let draft = tend_domain::change::ReleaseDraft {
                client,
                name,
                planned_for: planned.unwrap_or_default(),
            };
            releases::new(store, draft).await
        }
        ReleaseCommand::Show { id } => releases::show(store, &id).await,
        ReleaseCommand::Notes { id } => releases::notes(store, &id).await,
        ReleaseCommand::MarkReleased { id } => releases::mark_released(store, &id).await,
    }
}

/// Writes a command's output. A closed pipe (`tend client list | head -3`) is not an
/// error worth reporting.
fn emit(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(format!(
            "cannot write to standard output: {e}"
        ))),
        _ => Ok(()),
    }
}
