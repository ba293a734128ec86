//! Per-call-site state in `flinfo->fn_extra` (pg_jsonschema's `compiled/callsite.rs` pattern):
//! a call site resolves its state on its first row and keeps it for the rest of the statement;
//! when the key the state was made for changes (another model name or other model bytes in the
//! next row), it is resolved again. The state lives in Rust's heap and is dropped by a reset
//! callback on `fn_mcxt`, the memory context that dies with the statement's expression state.
//!
//! The only way to reach the state is [`with_state`], which lends it to a closure: the borrow
//! cannot outlive the call, so no reference into memory owned by `fn_mcxt` escapes.

use pgrx::pg_sys;
use std::ffi::c_void;

/// What one call site keeps: the key its state was resolved for, and the state.
struct Slot<T> {
    key: String,
    state: T,
}

/// Runs `body` with this call site's state for `key`, creating it with `init` on the first call
/// and again whenever `key` differs from the one the stored state was made for. `body` also gets
/// the statement-lifetime memory context, for look-ups that must live as long as the state.
pub fn with_state<T: 'static, R>(
    fcinfo: pg_sys::FunctionCallInfo,
    key: &str,
    init: impl FnOnce() -> T,
    body: impl FnOnce(&mut T, pg_sys::MemoryContext) -> R,
) -> R {
    // SAFETY: Postgres passes every V1 function a valid fcinfo whose flinfo stays valid for the
    // whole call; fn_mcxt is the context flinfo itself lives in.
    let (flinfo, mcxt) = unsafe {
        let flinfo = (*fcinfo).flinfo;
        (flinfo, (*flinfo).fn_mcxt)
    };
    // SAFETY: fn_extra is either NULL or a `Slot<T>` this function stored for this very flinfo
    // (one Rust function per call site, so one T); it stays alive until fn_mcxt is reset, which
    // cannot happen during this call.
    let slot = unsafe { ((*flinfo).fn_extra as *mut Slot<T>).as_mut() };
    match slot {
        Some(slot) if slot.key == key => body(&mut slot.state, mcxt),
        Some(slot) => {
            // another model for this row: resolve again, in place (the reset callback stays)
            slot.state = init();
            slot.key = key.to_string();
            body(&mut slot.state, mcxt)
        }
        None => {
            let slot = Box::into_raw(Box::new(Slot { key: key.to_string(), state: init() }));
            // SAFETY: mcxt is a live context; the callback struct is allocated in it, so it lives
            // exactly as long as the registration, and `drop_slot::<T>` matches the boxed type.
            unsafe {
                let cb = pg_sys::MemoryContextAllocZero(mcxt, std::mem::size_of::<pg_sys::MemoryContextCallback>())
                    as *mut pg_sys::MemoryContextCallback;
                (*cb).func = Some(drop_slot::<T>);
                (*cb).arg = slot.cast();
                pg_sys::MemoryContextRegisterResetCallback(mcxt, cb);
                (*flinfo).fn_extra = slot.cast();
            }
            // SAFETY: `slot` came from Box::into_raw just above and is freed only by the callback.
            body(unsafe { &mut (*slot).state }, mcxt)
        }
    }
}

/// Memory-context reset callback that drops a call site's boxed `Slot<T>`.
///
/// # Safety
///
/// `arg` must be the pointer `Box::into_raw` returned for a `Slot<T>` in [`with_state`], and the
/// callback must run at most once (Postgres runs each registered reset callback once).
unsafe extern "C-unwind" fn drop_slot<T>(arg: *mut c_void) {
    // SAFETY: the caller's contract above: `arg` is our boxed Slot<T>, dropped exactly once.
    drop(unsafe { Box::from_raw(arg as *mut Slot<T>) });
}
