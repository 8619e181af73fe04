//! A pcap file (the classic format every tool reads) for port captures.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct PcapWriter {
    out: BufWriter<File>,
    written: u64,
}

/// The file's header, and each frame's.
const FILE_HEADER: u64 = 24;
const FRAME_HEADER: u64 = 16;

impl PcapWriter {
    pub fn create(path: &Path) -> std::io::Result<PcapWriter> {
        let mut out = BufWriter::new(File::create(path)?);
        // Magic, version 2.4, GMT offset, accuracy, snap length, Ethernet.
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65535u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?;
        Ok(PcapWriter {
            out,
            written: FILE_HEADER,
        })
    }

    pub fn write(&mut self, frame: &[u8]) -> std::io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let len = frame.len().min(65535) as u32;
        self.out.write_all(&(now.as_secs() as u32).to_le_bytes())?;
        self.out.write_all(&now.subsec_micros().to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.out.write_all(&frame[..len as usize])?;
        self.written += FRAME_HEADER + u64::from(len);
        Ok(())
    }

    /// The file's size so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
