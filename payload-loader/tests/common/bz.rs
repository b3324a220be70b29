//! A small bzImage writer: the setup header of the x86 boot protocol over zeroed setup
//! sectors, and a protected-mode part of `payload` bytes.

/// The fields a test sets; everything else in the file is zero.
#[derive(Clone, Debug)]
pub struct TestBz {
    pub setup_sects: u8,
    pub boot_flag: u16,
    pub version: u16,
    /// The byte at 0x201: the header ends at 0x202 plus this.
    pub header_len: u8,
    pub loadflags: u8,
    pub code32_start: u32,
    pub initrd_addr_max: u32,
    pub kernel_alignment: u32,
    pub relocatable: bool,
    pub xloadflags: u16,
    pub cmdline_size: u32,
    pub pref_address: u64,
    pub init_size: u32,
    /// Bytes of the protected-mode part; syssize is written to match.
    pub payload: usize,
    /// syssize as written when `Some`, else `payload` / 16 rounded up.
    pub syssize: Option<u32>,
}

impl TestBz {
    /// Like Debian's 6.1 kernel, scaled down: protocol 2.15, 64-bit entry, above 4G allowed,
    /// relocatable, 2 MiB aligned, runs at 16 MiB, 0x80_0000 bytes of init_size.
    pub fn linux64() -> Self {
        TestBz {
            setup_sects: 1,
            boot_flag: 0xAA55,
            version: 0x020F,
            header_len: 0x6A,
            loadflags: 0x01,
            code32_start: 0x100000,
            initrd_addr_max: 0x7fff_ffff,
            kernel_alignment: 0x20_0000,
            relocatable: true,
            xloadflags: 0x7f,
            cmdline_size: 0x7ff,
            pref_address: 0x100_0000,
            init_size: 0x80_0000,
            payload: 0x1000,
            syssize: None,
        }
    }

    /// A 32-bit kernel (no xloadflags), not relocatable, protocol 2.10.
    pub fn linux32_fixed() -> Self {
        TestBz {
            version: 0x020A,
            header_len: 0x64,
            relocatable: false,
            xloadflags: 0,
            initrd_addr_max: 0x37ff_ffff,
            ..Self::linux64()
        }
    }

    pub fn setup_size(&self) -> usize {
        (match self.setup_sects {
            0 => 4,
            n => n as usize,
        } + 1)
            * 512
    }

    pub fn build(&self) -> Vec<u8> {
        let mut b = vec![0u8; self.setup_size() + self.payload];
        let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(0x1f1, &[self.setup_sects]);
        let syssize = self.syssize.unwrap_or(self.payload.div_ceil(16) as u32);
        put(0x1f4, &syssize.to_le_bytes());
        put(0x1fe, &self.boot_flag.to_le_bytes());
        put(0x200, &[0xeb, self.header_len]);
        put(0x202, b"HdrS");
        put(0x206, &self.version.to_le_bytes());
        put(0x211, &[self.loadflags]);
        put(0x214, &self.code32_start.to_le_bytes());
        put(0x22c, &self.initrd_addr_max.to_le_bytes());
        put(0x230, &self.kernel_alignment.to_le_bytes());
        put(0x234, &[self.relocatable as u8, 21]);
        put(0x236, &self.xloadflags.to_le_bytes());
        put(0x238, &self.cmdline_size.to_le_bytes());
        put(0x258, &self.pref_address.to_le_bytes());
        put(0x260, &self.init_size.to_le_bytes());
        // The protected-mode part: a recognisable pattern.
        let start = self.setup_size();
        for (i, byte) in b[start..].iter_mut().enumerate() {
            *byte = (i % 251) as u8;
        }
        if self.syssize.is_none() {
            b.resize(start + syssize as usize * 16, 0);
        }
        b
    }
}
