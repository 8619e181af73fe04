use std::path::PathBuf;

use clap::Subcommand;

use crate::output::Output;

#[derive(Subcommand)]
pub enum ImageCmd {
    /// Build the guest test image (kernel, initramfs); cached until its inputs change.
    /// scripts/build-image.sh builds the static guest binary and calls this.
    Build {
        /// The static `hierro-guest` binary.
        #[arg(long)]
        guest_bin: PathBuf,
        #[arg(long, default_value = "image")]
        out: PathBuf,
        /// Scratch space; the kernel package is kept here.
        #[arg(long, default_value = "target/image-work")]
        work: PathBuf,
    },
}

pub async fn run(cmd: ImageCmd, out: Output) -> anyhow::Result<()> {
    let ImageCmd::Build {
        guest_bin,
        out: out_dir,
        work,
    } = cmd;
    let opts = hierro_image::BuildOptions {
        guest_bin,
        out_dir,
        work_dir: work,
    };
    let info = tokio::task::spawn_blocking(move || hierro_image::build(&opts)).await??;
    if out.json {
        println!("{}", serde_json::to_string_pretty(&info.manifest)?);
    } else {
        println!(
            "{} {} and {} (kernel {} {})",
            if info.cached { "up to date:" } else { "built" },
            info.vmlinuz.display(),
            info.initrd.display(),
            info.manifest.kernel.package,
            info.manifest.kernel.version
        );
    }
    Ok(())
}
