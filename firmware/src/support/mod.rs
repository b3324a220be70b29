//! The helpers every stage shares: reading physical memory (`phys`), the
//! frame allocator (`frames`), text from firmware (`text`, `quote`), time
//! (`calibration`, `timeline`) and how a run ends (`exit`).

pub mod calibration;
pub mod exit;
pub mod frames;
pub mod phys;
pub mod quote;
pub mod text;
pub mod timeline;
