//! The backends a config or a flag can name. Choosing and opening one is the caller's (the
//! CLI's `backend.rs`, the web page's flex): this crate only reads the name.

squiggle_model::named_enum! {
    /// A backend the user can name with `--backend` or `[train] backend`.
    ///
    /// Every variant exists whatever the cargo features, so the flag's help and errors are the
    /// same everywhere; naming one that was not compiled in is a clear error, not a parse error.
    pub enum Backend as "backend" {
        /// Burn's maintained pure-Rust CPU backend (SIMD, multi-threaded). The default.
        Flex = "flex",
        /// The ndarray CPU backend. Deprecated in Burn 0.22 and removed in 0.23.
        Ndarray = "ndarray",
        /// The GPU through wgpu (Vulkan, Metal, DX12); Mesa's software Vulkan driver where
        /// there is no GPU (slow, but the same numbers).
        Wgpu = "wgpu",
    }
}
