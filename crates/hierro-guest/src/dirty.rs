//! `dirty`: a workload that keeps writing to a block of memory, so that a
//! live migration has pages to send again and again (what auto-converge is
//! for). Says `dirtying N MiB` once the whole block is written, then runs
//! until killed.

use crate::opts::Opts;

const PAGE: usize = 4096;

pub fn main(args: &[String]) -> crate::Result<()> {
    let opts = Opts::parse(args, &["mib"], &[])?;
    let mib: usize = opts.get_or("mib", 64)?;
    let mut block = vec![0u8; mib << 20];
    let mut round: u8 = 0;
    loop {
        round = round.wrapping_add(1);
        // One write per page dirties the page; the whole block each round.
        for page in block.chunks_mut(PAGE) {
            page[0] = round;
        }
        std::hint::black_box(&block);
        if round == 1 {
            // Whoever started it may go on now: all of it is dirty.
            println!("dirtying {mib} MiB");
            std::io::Write::flush(&mut std::io::stdout())?;
        }
    }
}
