//! The worker pool that scores one map at a time: its 20 network passes run in parallel on
//! `gnsm.threads` threads. Kept per backend (building a pool costs thread start-ups on every
//! call otherwise) and rebuilt when the setting changes; its threads are started with signals
//! blocked (`fit::build_pool`) and never call Postgres.

use crate::fit::build_pool;
use crate::gucs;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    static POOL: RefCell<Option<(usize, Rc<rayon::ThreadPool>)>> = const { RefCell::new(None) };
}

/// The backend's map-scoring pool, sized by `gnsm.threads` now.
pub fn scoring_pool() -> Rc<rayon::ThreadPool> {
    let threads = gucs::threads();
    POOL.with(|cell| {
        let mut slot = cell.borrow_mut();
        match slot.as_ref() {
            Some((n, pool)) if *n == threads => pool.clone(),
            _ => {
                let pool = Rc::new(build_pool(threads));
                *slot = Some((threads, pool.clone()));
                pool
            }
        }
    })
}
