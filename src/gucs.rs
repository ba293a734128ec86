//! Every `gnsm.*` setting, in one place: a static, its registration and a getter.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Worker threads for training and batch work (1..64). Default 2: the cores of a small server;
/// N concurrent trainings use N x threads cores, so lower it on a busy machine.
pub static THREADS: GucSetting<i32> = GucSetting::<i32>::new(2);

/// Rows above which training uses a uniform reservoir sample (bounds memory and time).
pub static MAX_TRAIN_ROWS: GucSetting<i32> = GucSetting::<i32>::new(1_000_000);

/// Distinct values per column above which training refuses the column (an ID-like column).
pub static MAX_CATEGORIES: GucSetting<i32> = GucSetting::<i32>::new(1000);

/// Entries of the per-backend memo from an encoded row to its score (0 disables it).
pub static SCORE_CACHE_ROWS: GucSetting<i32> = GucSetting::<i32>::new(100_000);

/// Seconds between training progress NOTICEs (0 = none).
pub static PROGRESS_INTERVAL: GucSetting<f64> = GucSetting::<f64>::new(5.0);

/// Registers the settings; called once from `_PG_init`.
pub fn init() {
    GucRegistry::define_int_guc(
        c"gnsm.threads",
        c"Worker threads gnsm uses for training and scoring the training rows.",
        c"Range 1-64, default 2. Each training backend starts this many threads.",
        &THREADS,
        1,
        64,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gnsm.max_train_rows",
        c"Rows above which gnsm_train trains on a uniform random sample.",
        c"Range 100-100000000, default 1000000. Memory is about 4 bytes per cell plus each distinct value once.",
        &MAX_TRAIN_ROWS,
        100,
        100_000_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gnsm.max_categories",
        c"Distinct values a column may have before gnsm_train refuses it.",
        c"Range 2-100000, default 1000. A column with more values is usually an identifier, not a category.",
        &MAX_CATEGORIES,
        2,
        100_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"gnsm.score_cache_rows",
        c"Entries of the per-backend memo from a distinct row to its score.",
        c"Range 0-10000000, default 100000 (0 disables). Repeated rows then cost one network pass per statement.",
        &SCORE_CACHE_ROWS,
        0,
        10_000_000,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_float_guc(
        c"gnsm.progress_interval",
        c"Seconds between gnsm_train progress NOTICEs.",
        c"Range 0-3600, default 5; 0 disables progress messages (the final summary still comes).",
        &PROGRESS_INTERVAL,
        0.0,
        3600.0,
        GucContext::Userset,
        GucFlags::default(),
    );
    // SAFETY: called once from _PG_init on the backend thread with a static NUL-terminated prefix.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"gnsm".as_ptr()) };
}

/// Effective thread count.
pub fn threads() -> usize {
    THREADS.get().clamp(1, 64) as usize
}

/// Effective training row cap.
pub fn max_train_rows() -> usize {
    MAX_TRAIN_ROWS.get().max(100) as usize
}

/// Effective category cap.
pub fn max_categories() -> usize {
    MAX_CATEGORIES.get().max(2) as usize
}

/// Effective memo size.
pub fn score_cache_rows() -> usize {
    SCORE_CACHE_ROWS.get().max(0) as usize
}

/// Effective progress interval in seconds.
pub fn progress_interval() -> f64 {
    PROGRESS_INTERVAL.get().max(0.0)
}
