//! Where a new password comes from: one line of standard input when a script pipes it
//! in, or a strong random one that is printed once.

use std::io::{BufRead, IsTerminal};

use crate::failure::Failure;

/// 16 random bytes as hex: 128 bits, typed rarely, pasted into a password manager.
const GENERATED_BYTES: usize = 16;

pub enum NewPassword {
    /// Read from standard input; not printed.
    Given(String),
    /// Made here; the caller prints it once.
    Generated(String),
}

impl NewPassword {
    pub fn as_str(&self) -> &str {
        match self {
            NewPassword::Given(p) | NewPassword::Generated(p) => p,
        }
    }
}

/// Reads the password from stdin unless stdin is a terminal or `generate` is set.
pub fn obtain(generate: bool) -> Result<NewPassword, Failure> {
    let stdin = std::io::stdin();
    if generate || stdin.is_terminal() {
        return Ok(NewPassword::Generated(tend_store::random_hex(
            GENERATED_BYTES,
        )));
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("password: cannot read standard input: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(Failure::new(
            "password: standard input gave no password; pipe one in (one line), or pass --generate-password",
        ));
    }
    Ok(NewPassword::Given(password))
}
