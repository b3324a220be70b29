//! The takeover's portable half: which APs still have to stop and how long
//! to wait for them (`stop`), and the copies the copy stub makes, with the
//! memory baton still occupies (`copy_plan`). The machine half, which
//! orders these steps on the registers, is `machine::takeover`.

pub mod copy_plan;
pub mod stop;
