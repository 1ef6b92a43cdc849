//! Tend's rules and types as plain data and functions: no IO, no async, no database.
//!
//! Every value that arrives from outside (a form, a JSON body, a CLI flag) is parsed
//! into one of these types once; code past the edge never re-checks it.

pub mod attainment;
pub mod audit;
pub mod backlog;
pub mod business_time;
pub mod calendar;
pub mod change;
pub mod check;
pub mod check_import;
pub mod client;
pub mod completeness;
pub mod contact;
pub mod contract;
pub mod delivery;
pub mod dependency;
pub mod digest;
pub mod email;
pub mod event_stream;
pub mod field_errors;
pub mod forecast;
pub mod hour_alerts;
pub mod ics;
pub mod ledger;
pub mod maintenance;
pub mod message_template;
pub mod minutes;
pub mod money;
pub mod month_close;
pub mod notify;
pub mod page;
pub mod payload_shape;
pub mod ping_url;
pub mod plan;
pub mod probe;
pub mod recipients;
pub mod role;
pub mod rounding;
pub mod sla_clock;
pub mod sla_notice;
pub mod sla_target;
pub mod slug;
pub mod ticket;
pub mod ticket_clocks;
pub mod timezone;
pub mod uptime;
pub mod volume;
pub mod work_type;

pub use field_errors::FieldErrors;
