//! A team of compute threads that wait for the next kernel spinning, not sleeping.
//!
//! A training step calls a few kernels with a little of Burn's bookkeeping between them; on a
//! batch of a `1-[64]-1` network each kernel is tens of microseconds of work. Rayon's idle
//! workers go to sleep within microseconds, and waking one costs a system call and a
//! scheduling delay of the same order as the kernel (measured on a 2-core VM: two threads
//! were *slower* than one, a quarter of the time in the kernel's scheduler). The team's
//! helpers instead spin for [`SPIN`] after each kernel, so the next one, a few microseconds
//! later, starts on every core at once; only a helper idle for longer parks.
//!
//! Work is handed out block by block from one atomic word, so a helper that arrives late
//! (or never: parked, or descheduled) only takes fewer blocks: the caller takes every block
//! no helper took, and waits only for blocks a helper has started. The caller takes blocks
//! from the front and the helpers from the back, so consecutive kernels of a step tend to give
//! a block's rows to the same core: the backward pass then reads the activations the forward
//! pass left in that core's cache instead of fetching them from the other's (with one counter,
//! blocks landed on cores at random, and two threads gave 1.5× one on `1-[64]-1`). Which
//! thread computes a block never changes its result.
//!
//! A kernel takes one helper fewer than the rayon pool it is called from has threads (the
//! caller is the other), so `--threads` and `RAYON_NUM_THREADS` size it (helpers are started
//! as a pool that size first asks for them), and one kernel runs at a time: a second caller
//! meanwhile (two playgrounds of `squiggle serve`) computes its blocks itself.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, TryLockError};
use std::time::{Duration, Instant};

/// How long a helper spins for the next kernel before it parks: longer than the bookkeeping
/// between two kernels of a step, short enough that an idle process stops using the cores
/// at once.
const SPIN: Duration = Duration::from_micros(300);

/// A helper's stack: the kernels' blocks use the heap, never deep recursion.
const STACK: usize = 256 << 10;

/// Claims a kernel can have: the front and back counters share the state's low 32 bits. A
/// kernel of more blocks is claimed in units of several consecutive blocks.
const MAX_UNITS: usize = u16::MAX as usize;

/// One kernel: `count` blocks, each `f(block)`. The closure lives on the caller's stack for
/// as long as the caller is in [`Team::run`].
#[derive(Clone, Copy)]
struct Job {
    f: *const (dyn Fn(usize) + Sync),
    count: usize,
    /// Blocks a claim takes (consecutive): 1 unless `count` exceeds [`MAX_UNITS`].
    per_unit: usize,
    /// Helpers that take part (those numbered below it).
    helpers: usize,
}

impl Job {
    /// Claims (units) of the kernel.
    fn units(&self) -> usize {
        self.count.div_ceil(self.per_unit)
    }

    /// Runs the blocks of `unit` with `f`.
    fn run_unit(&self, unit: usize, f: &(dyn Fn(usize) + Sync)) {
        let first = unit * self.per_unit;
        (first..(first + self.per_unit).min(self.count)).for_each(f);
    }
}

// SAFETY: `f` points to a `Sync` closure; helpers call it only while the caller that owns it
// waits in `Team::run` for every block a helper claimed (see `Team::run`).
unsafe impl Send for Job {}

struct Shared {
    /// The kernel's generation (high 32 bits), its first unclaimed unit (the next 16) and one
    /// past its last (the low 16): a unit is claimed by a compare-and-swap that also checks
    /// the generation, so a helper still holding the previous kernel's job can never claim one
    /// of the next's units.
    state: AtomicU64,
    /// The current kernel (read under the lock, with its generation).
    job: Mutex<(u32, Option<Job>)>,
    /// Units finished in the current kernel.
    done: AtomicUsize,
    /// Helpers parked, and where they park.
    parked: AtomicUsize,
    park: Mutex<()>,
    wake: Condvar,
}

impl Shared {
    /// No kernel yet (generation 0, nothing to claim), no helper parked.
    fn new() -> Self {
        Shared {
            state: AtomicU64::new(0),
            job: Mutex::new((0, None)),
            done: AtomicUsize::new(0),
            parked: AtomicUsize::new(0),
            park: Mutex::new(()),
            wake: Condvar::new(),
        }
    }
}

/// The helpers and the lock that lets one kernel run at a time.
pub(crate) struct Team {
    shared: &'static Shared,
    /// Helpers started (held through a kernel, so that one runs at a time).
    caller: Mutex<usize>,
}

impl Team {
    /// The process's team (its helpers are started as kernels ask for them).
    pub(crate) fn get() -> &'static Team {
        static TEAM: OnceLock<Team> = OnceLock::new();
        TEAM.get_or_init(|| {
            let shared: &'static Shared = Box::leak(Box::new(Shared::new()));
            Team {
                shared,
                caller: Mutex::new(0),
            }
        })
    }

    /// Threads that compute a kernel called here (the caller and its helpers): the size of
    /// the rayon pool it is called from.
    pub(crate) fn threads(&self) -> usize {
        rayon::current_num_threads()
    }

    /// Runs `f(0)`, …, `f(count − 1)` on the caller and the helpers; returns when all have
    /// finished.
    pub(crate) fn run(&self, count: usize, f: &(dyn Fn(usize) + Sync)) {
        // A kernel of one block has nothing to share: no lock, no helper started for it.
        if count < 2 {
            return (0..count).for_each(f);
        }
        let mut started = match self.caller.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            // Another kernel is running: this one is computed here alone.
            Err(TryLockError::WouldBlock) => return (0..count).for_each(f),
        };
        let wanted = self.threads().saturating_sub(1);
        // A helper that cannot be started is simply not there.
        while *started < wanted {
            let (shared, index) = (self.shared, *started);
            let spawned = std::thread::Builder::new()
                .name(format!("squiggle-team-{index}"))
                .stack_size(STACK)
                .spawn(move || help(shared, index));
            if spawned.is_err() {
                break;
            }
            *started += 1;
        }
        let helpers = wanted.min(*started);
        if helpers == 0 {
            return (0..count).for_each(f);
        }
        let shared = self.shared;
        // SAFETY: only the lifetime is erased. Helpers call `f` only for a unit they claim
        // with this kernel's generation, and this function returns only once every claimed
        // unit is done (`done == units` below), so no call outlives the borrow of `f`.
        let f_static: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(f) };
        let job = Job {
            f: f_static,
            count,
            per_unit: count.div_ceil(MAX_UNITS),
            helpers,
        };
        let units = job.units();
        let generation = {
            let mut current = shared.job.lock().unwrap_or_else(|p| p.into_inner());
            let generation = current.0.wrapping_add(1);
            shared.done.store(0, Ordering::SeqCst);
            *current = (generation, Some(job));
            shared
                .state
                .store(pack(generation, 0, units), Ordering::SeqCst);
            generation
        };
        if shared.parked.load(Ordering::SeqCst) > 0 {
            let _park = shared.park.lock().unwrap_or_else(|p| p.into_inner());
            shared.wake.notify_all();
        }
        while let Some(unit) = claim(shared, generation, End::Front) {
            job.run_unit(unit, f);
            shared.done.fetch_add(1, Ordering::Release);
        }
        // Every unit is claimed; wait for those the helpers are computing.
        while shared.done.load(Ordering::Acquire) < units {
            std::hint::spin_loop();
        }
        drop(started);
    }
}

/// The state word of kernel `generation` whose units `front..back` are unclaimed.
fn pack(generation: u32, front: usize, back: usize) -> u64 {
    (u64::from(generation) << 32) | ((front as u64) << 16) | back as u64
}

/// Which end of the unclaimed units a thread takes from: the caller the front, helpers the
/// back.
#[derive(Clone, Copy)]
enum End {
    Front,
    Back,
}

/// Claims the next unit of kernel `generation` from `end`, if any is left.
fn claim(shared: &Shared, generation: u32, end: End) -> Option<usize> {
    let mut state = shared.state.load(Ordering::Acquire);
    loop {
        let g = (state >> 32) as u32;
        let (front, back) = (
            (state >> 16) as usize & MAX_UNITS,
            state as usize & MAX_UNITS,
        );
        if g != generation || front >= back {
            return None;
        }
        let (unit, next) = match end {
            End::Front => (front, pack(generation, front + 1, back)),
            End::Back => (back - 1, pack(generation, front, back - 1)),
        };
        match shared
            .state
            .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return Some(unit),
            Err(now) => state = now,
        }
    }
}

/// The life of helper `index`: wait for a kernel (spinning, then parked), take its blocks if
/// it takes part, repeat.
fn help(shared: &'static Shared, index: usize) {
    let mut seen = 0u32;
    loop {
        let started = Instant::now();
        let mut spins = 0u32;
        while (shared.state.load(Ordering::Acquire) >> 32) as u32 == seen {
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(256) {
                std::hint::spin_loop();
                continue;
            }
            if started.elapsed() < SPIN {
                // Let a thread of Burn's own pool have the core if it wants it.
                std::thread::yield_now();
                continue;
            }
            let mut park = shared.park.lock().unwrap_or_else(|p| p.into_inner());
            shared.parked.fetch_add(1, Ordering::SeqCst);
            while (shared.state.load(Ordering::SeqCst) >> 32) as u32 == seen {
                park = shared.wake.wait(park).unwrap_or_else(|p| p.into_inner());
            }
            shared.parked.fetch_sub(1, Ordering::SeqCst);
        }
        let (generation, job) = *shared.job.lock().unwrap_or_else(|p| p.into_inner());
        seen = generation;
        let Some(job) = job.filter(|job| index < job.helpers) else {
            continue;
        };
        while let Some(unit) = claim(shared, generation, End::Back) {
            // SAFETY: the unit was claimed under the job's own generation, so its caller is
            // still in `Team::run`, waiting for this unit: the closure is alive.
            let f = unsafe { &*job.f };
            job.run_unit(unit, f);
            shared.done.fetch_add(1, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_runs_once_whoever_takes_it() {
        let team = Team::get();
        for count in [0, 1, 2, 3, 17, 1000, MAX_UNITS + 1, 2 * MAX_UNITS + 3] {
            for _ in 0..if count > 1000 { 3 } else { 50 } {
                let hits: Vec<AtomicUsize> = (0..count).map(|_| AtomicUsize::new(0)).collect();
                team.run(count, &|i| {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                });
                assert!(
                    hits.iter().all(|h| h.load(Ordering::Relaxed) == 1),
                    "{count}"
                );
            }
        }
    }

    #[test]
    fn the_caller_claims_from_the_front_and_helpers_from_the_back() {
        let shared = Shared::new();
        shared.state.store(pack(7, 0, 4), Ordering::SeqCst);
        let order: Vec<_> = [End::Front, End::Back, End::Back, End::Front, End::Back]
            .into_iter()
            .map(|end| claim(&shared, 7, end))
            .collect();
        assert_eq!(order, [Some(0), Some(3), Some(2), Some(1), None]);
        shared.state.store(pack(7, 0, 4), Ordering::SeqCst);
        assert_eq!(
            claim(&shared, 6, End::Front),
            None,
            "another kernel's generation"
        );
    }

    #[test]
    fn a_kernel_takes_as_many_threads_as_the_pool_it_is_called_from() {
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let names = Mutex::new(std::collections::BTreeSet::new());
                    for _ in 0..200 {
                        Team::get().run(64, &|_| {
                            let name = std::thread::current().name().map(str::to_string);
                            names.lock().unwrap().insert(name);
                            std::thread::sleep(Duration::from_micros(20));
                        });
                    }
                    names.into_inner().unwrap()
                })
        };
        assert_eq!(on(1).len(), 1);
        let three = on(3);
        assert!(
            three.len() <= 3
                && three
                    .iter()
                    .filter(|n| n
                        .as_deref()
                        .is_some_and(|n| n.starts_with("squiggle-team-")))
                    .count()
                    >= 1,
            "{three:?}"
        );
    }

    #[test]
    fn kernels_after_a_pause_and_from_several_callers_still_run_every_block() {
        let team = Team::get();
        std::thread::sleep(SPIN * 3);
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..200 {
                        team.run(8, &|i| {
                            total.fetch_add(i + 1, Ordering::Relaxed);
                        });
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 3 * 200 * 36);
    }
}
