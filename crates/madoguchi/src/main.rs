//! `madoguchi`: one binary with subcommands (`serve`, `worker`, `migrate`, `token`, `audit`,
//! `print-config`). See `madoguchi --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = madoguchi::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(madoguchi::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
