//! `madoguchi admin set-password` and `admin reset-totp`: staff credentials from the command
//! line. The new password is read from standard input — never from a flag, which would land
//! in the shell history and the process list. On a terminal it is asked twice without echo;
//! from a pipe (scripts, CI) the first line is taken as it is (only the line ending removed).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use madoguchi_core::{App, CoreError};

/// Reads the new password: twice without echo on a terminal, else one line of stdin.
fn read_new_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(
            "新しいパスワード（8文字以上。長い文も使えます。画面には表示されません）: ",
        )?;
        let second = rpassword::prompt_password("確認のため、もう一度入力してください: ")?;
        if first != second {
            anyhow::bail!("2回の入力が一致しません。");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok(line.to_string())
}

/// Prints a validation error's message and returns exit code 2; other errors propagate.
fn refused(e: CoreError) -> anyhow::Result<ExitCode> {
    match e {
        CoreError::Validation(errors) => {
            for e in &errors {
                eprintln!("{}", e.message);
            }
            Ok(ExitCode::from(2))
        }
        other => Err(other.into()),
    }
}

/// `admin set-password <login>`.
pub async fn set_password(app: &App, login: &str) -> anyhow::Result<ExitCode> {
    let password = match read_new_password() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    match madoguchi_core::auth::set_staff_password(app, login, &password, "cli").await {
        Ok(()) => {
            println!(
                "{login}: password set; all sessions ended (the authenticator app is kept — `admin reset-totp` to replace it)"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(e),
    }
}

/// `admin reset-totp <login>`.
pub async fn reset_totp(app: &App, login: &str) -> anyhow::Result<ExitCode> {
    match madoguchi_core::auth::reset_totp(app, login, "cli").await {
        Ok(()) => {
            println!(
                "{login}: authenticator app and recovery codes removed; all sessions ended. They enrol again at their next sign-in."
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refused(e),
    }
}
