//! Just enough ELF64 (little-endian) reading for the image build: a kernel
//! module's `.modinfo` section, and whether a binary is statically linked.

use anyhow::{bail, Context, Result};

pub struct Elf<'a> {
    data: &'a [u8],
}

impl<'a> Elf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Elf<'a>> {
        // Magic, ELFCLASS64, ELFDATA2LSB.
        if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 || data[5] != 1 {
            bail!("not a 64-bit little-endian ELF file");
        }
        Ok(Elf { data })
    }

    fn bytes(&self, off: u64, len: u64) -> Result<&'a [u8]> {
        let start = usize::try_from(off)?;
        let end = start
            .checked_add(usize::try_from(len)?)
            .context("ELF offset overflow")?;
        self.data.get(start..end).context("ELF file truncated")
    }

    fn u16(&self, off: u64) -> Result<u16> {
        Ok(u16::from_le_bytes(self.bytes(off, 2)?.try_into()?))
    }

    fn u32(&self, off: u64) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(off, 4)?.try_into()?))
    }

    fn u64(&self, off: u64) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes(off, 8)?.try_into()?))
    }

    /// The contents of the section named `name`, if any.
    pub fn section(&self, name: &str) -> Result<Option<&'a [u8]>> {
        let (shoff, shentsize, shnum, shstrndx) = (
            self.u64(0x28)?,
            self.u16(0x3A)?,
            self.u16(0x3C)?,
            self.u16(0x3E)?,
        );
        // Section header fields: sh_name at 0, sh_offset at 0x18, sh_size at 0x20.
        let header = |i: u16| shoff + u64::from(i) * u64::from(shentsize);
        let strtab = self.bytes(
            self.u64(header(shstrndx) + 0x18)?,
            self.u64(header(shstrndx) + 0x20)?,
        )?;
        for i in 0..shnum {
            let name_off = self.u32(header(i))? as usize;
            let sec_name = strtab
                .get(name_off..)
                .and_then(|s| s.split(|b| *b == 0).next());
            if sec_name == Some(name.as_bytes()) {
                return Ok(Some(self.bytes(
                    self.u64(header(i) + 0x18)?,
                    self.u64(header(i) + 0x20)?,
                )?));
            }
        }
        Ok(None)
    }

    /// True if the binary asks for a dynamic loader (has a PT_INTERP segment).
    pub fn is_dynamic(&self) -> Result<bool> {
        let (phoff, phentsize, phnum) = (self.u64(0x20)?, self.u16(0x36)?, self.u16(0x38)?);
        const PT_INTERP: u32 = 3;
        for i in 0..phnum {
            if self.u32(phoff + u64::from(i) * u64::from(phentsize))? == PT_INTERP {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A field of a kernel module's `.modinfo` section (NUL-separated `key=value`).
pub fn modinfo(module: &[u8], key: &str) -> Result<Option<String>> {
    let Some(info) = Elf::parse(module)?.section(".modinfo")? else {
        bail!("no .modinfo section");
    };
    let prefix = format!("{key}=");
    Ok(info
        .split(|b| *b == 0)
        .find_map(|entry| entry.strip_prefix(prefix.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned()))
}
