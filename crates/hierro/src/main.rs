//! `hierro`: one binary for every Hierro process and the CLI.
//!
//! Daemons: `hierro host serve`. Tools: `hierro image build`, `hierro lab`.
//! Everything else is a client verb against a host (later also a center)
//! given by `--server` / `HIERRO_SERVER`.

mod cmd;
mod output;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hierro", version, about = "Hierro virtualization platform")]
struct Cli {
    #[command(flatten)]
    conn: cmd::connect::ConnArgs,
    /// Print JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The host agent and host-level queries.
    #[command(subcommand)]
    Host(cmd::host::HostCmd),
    /// The center (vCenter analog).
    #[command(subcommand)]
    Center(cmd::center::CenterCmd),
    /// The center's inventory.
    #[command(subcommand)]
    Inventory(cmd::center_verbs::InventoryCmd),
    /// The center's users.
    #[command(subcommand)]
    User(cmd::center_verbs::UserCmd),
    /// The center's groups.
    #[command(subcommand)]
    Group(cmd::center_verbs::GroupCmd),
    /// Your API tokens on the center.
    #[command(subcommand)]
    Token(cmd::center_verbs::TokenCmd),
    /// The center's roles.
    #[command(subcommand)]
    Role(cmd::center_verbs::RoleCmd),
    /// The center's permissions.
    #[command(subcommand)]
    Permission(cmd::center_verbs::PermissionCmd),
    /// Distributed switches on the center.
    #[command(subcommand)]
    Dvs(cmd::dvs::DvsCmd),
    /// The virtual switch daemon (started and supervised by the host agent).
    Vswitchd {
        /// The control socket.
        #[arg(long, default_value = "/run/hierro/vswitchd.sock")]
        socket: std::path::PathBuf,
    },
    /// Virtual machines.
    #[command(subcommand)]
    Vm(cmd::vm::VmCmd),
    /// Datastores.
    #[command(subcommand)]
    Datastore(cmd::datastore::DatastoreCmd),
    /// A host's or VM's performance counters (CPU, memory, network, disk).
    Perf(cmd::perf::PerfCmd),
    /// Tasks (every change is one).
    #[command(subcommand)]
    Task(cmd::task::TaskCmd),
    /// Events.
    #[command(subcommand)]
    Event(cmd::task::EventCmd),
    /// The guest test image.
    #[command(subcommand)]
    Image(cmd::image::ImageCmd),
    /// A whole cluster on this machine, in network namespaces.
    #[command(subcommand)]
    Lab(cmd::lab::LabCmd),
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HIERRO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let out = output::Output { json: cli.json };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Host(c) => cmd::host::run(c, &cli.conn, out).await,
            Command::Vswitchd { socket } => {
                tokio::task::spawn_blocking(move || hierro_vswitch::run(&socket).map(|_| ()))
                    .await?
            }
            Command::Center(c) => cmd::center::run(c).await,
            Command::Inventory(c) => {
                cmd::center_verbs::inventory(c, &cli.conn.client().await?, out).await
            }
            Command::User(c) => cmd::center_verbs::user(c, &cli.conn.client().await?, out).await,
            Command::Role(c) => cmd::center_verbs::role(c, &cli.conn.client().await?, out).await,
            Command::Group(c) => cmd::center_verbs::group(c, &cli.conn.client().await?, out).await,
            Command::Token(c) => cmd::center_verbs::token(c, &cli.conn.client().await?, out).await,
            Command::Permission(c) => {
                cmd::center_verbs::permission(c, &cli.conn.client().await?, out).await
            }
            Command::Dvs(c) => cmd::dvs::run(c, &cli.conn.client().await?, out).await,
            Command::Vm(c) => cmd::vm::run(c, &cli.conn, out).await,
            Command::Datastore(c) => cmd::datastore::run(c, &cli.conn, out).await,
            Command::Perf(c) => cmd::perf::run(c, &cli.conn.client().await?, out).await,
            Command::Task(c) => cmd::task::run_task(c, &cli.conn, out).await,
            Command::Event(c) => cmd::task::run_event(c, &cli.conn, out).await,
            Command::Image(c) => cmd::image::run(c, out).await,
            Command::Lab(c) => cmd::lab::run(c, out).await,
        }
    });
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
