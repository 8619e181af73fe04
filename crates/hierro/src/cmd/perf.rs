//! `hierro perf OBJECT`: a host's or VM's performance counters over a chart
//! interval (PowerCLI's Get-Stat), one row per sample or average.

use hierro_api::ObjectKind;
use hierro_client::Client;

use crate::output::Output;

#[derive(clap::Args)]
pub struct PerfCmd {
    /// A VM or host, by inventory id or name.
    object: String,
    /// The last hour as sampled, or the averages of the past day, week,
    /// month or year.
    #[arg(long, default_value = "realtime", value_parser = ["realtime", "day", "week", "month", "year"])]
    interval: String,
    /// Only the newest N rows.
    #[arg(long)]
    last: Option<usize>,
}

pub async fn run(cmd: PerfCmd, c: &Client, out: Output) -> anyhow::Result<()> {
    let object = match super::find(c, ObjectKind::Vm, &cmd.object).await {
        Ok(o) => o,
        Err(_) => super::find(c, ObjectKind::Host, &cmd.object)
            .await
            .map_err(|_| anyhow::anyhow!("no VM or host {:?}", cmd.object))?,
    };
    let mut series = c.perf_series(&object.id, Some(&cmd.interval)).await?;
    if let Some(n) = cmd.last {
        let skip = series.times.len().saturating_sub(n);
        series.times.drain(..skip);
        for v in series.values.values_mut() {
            v.drain(..skip.min(v.len()));
        }
    }
    let columns = [
        ("cpu.usage", 1.0),
        ("mem.consumed", 1.0 / (1024.0 * 1024.0)),
        ("net.received", 1.0),
        ("net.transmitted", 1.0),
        ("disk.read", 1.0),
        ("disk.write", 1.0),
    ];
    out.show(
        &series,
        &[
            "TIME",
            "CPU %",
            "MEM MiB",
            "NET RX KBps",
            "NET TX KBps",
            "DISK R KBps",
            "DISK W KBps",
        ],
        |s| {
            s.times
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let time = chrono::DateTime::from_timestamp(*t, 0)
                        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default();
                    let mut row = vec![time];
                    for (counter, scale) in columns {
                        let v = s.values.get(counter).and_then(|v| v[i]);
                        row.push(v.map_or("-".into(), |v| format!("{:.1}", v * scale)));
                    }
                    row
                })
                .collect()
        },
    );
    Ok(())
}
