//! Password hashing with argon2id and the password policy.
//!
//! Invariant: a password is stored only as an argon2id PHC string; checking an unknown email spends the
//! same work as checking a known one, so response time does not reveal which emails have accounts.
//! Invariant: argon2 runs on threads of its own (one per core, under Linux's `SCHED_IDLE` policy), never
//! on the async workers nor tokio's blocking pool, so a burst of sign-ins neither stalls the requests
//! (evaluations) those workers serve nor holds a core for a scheduler time slice when a request thread
//! wakes: the kernel preempts a hashing thread at once and gives it only the CPU nothing else wants.
//! On a saturated machine sign-ins slow down; evaluations do not. At most [`MAX_QUEUED`] hashes wait; further
//! callers wait asynchronously for room.

use crate::AuthError;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, mpsc};
use tokio::sync::{Semaphore, oneshot};

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most bytes a password may have (argon2 accepts more, but nobody types more).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Checks `password` against the policy.
pub fn check_password_policy(password: &str) -> Result<(), AuthError> {
    let reason = if password.chars().count() < MIN_PASSWORD_CHARS {
        format!("a password needs at least {MIN_PASSWORD_CHARS} characters")
    } else if password.len() > MAX_PASSWORD_BYTES {
        format!("a password has at most {MAX_PASSWORD_BYTES} bytes")
    } else if password.trim().is_empty() {
        "a password cannot be only spaces".to_owned()
    } else {
        return Ok(());
    };
    Err(AuthError::InvalidInput {
        field: "password",
        reason,
    })
}

/// Most hashes queued or running at once.
const MAX_QUEUED: usize = 256;

/// A unit of hashing work.
type Work = Box<dyn FnOnce() + Send>;

/// The hashing threads and the room left in their queue.
struct Pool {
    queue: mpsc::Sender<Work>,
    room: Semaphore,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (queue, work) = mpsc::channel::<Work>();
        let work = Arc::new(Mutex::new(work));
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        for i in 0..threads {
            let work = work.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("flagent-argon2-{i}"))
                .spawn(move || hashing_thread(&work));
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a password hashing thread");
            }
        }
        Pool {
            queue,
            room: Semaphore::new(MAX_QUEUED),
        }
    })
}

/// One hashing thread: lowers its own priority, then runs work until the queue closes.
fn hashing_thread(work: &Mutex<mpsc::Receiver<Work>>) {
    lower_priority();
    loop {
        let next = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// `SCHED_IDLE` for the current thread (Linux; the lowest priority elsewhere); where that is refused,
/// hashing still works at normal priority.
fn lower_priority() {
    #[cfg(unix)]
    {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        let lowered = set_thread_priority_and_policy(
            thread_native_id(),
            thread_priority::ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        );
        if let Err(error) = lowered {
            tracing::warn!(
                ?error,
                "could not lower the password hashing thread's priority"
            );
        }
    }
}

/// Runs `work` on a hashing thread.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    let failed = |what: &str| AuthError::Unexpected(anyhow::anyhow!("password hashing {what}"));
    let pool = pool();
    let _room = pool
        .room
        .acquire()
        .await
        .map_err(|_| failed("pool closed"))?;
    let (done, result) = oneshot::channel();
    let job: Work = Box::new(move || {
        let _ = done.send(work());
    });
    pool.queue
        .send(job)
        .map_err(|_| failed("threads are gone"))?;
    result.await.map_err(|_| failed("task failed"))
}

/// Hashes `password` with argon2id and a random salt, as a PHC string, on a hashing thread.
pub async fn hash_password(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    off_the_workers(move || hash_blocking(&password)).await?
}

/// Whether `password` matches the stored PHC string `hash` (a malformed hash matches nothing), checked
/// on a hashing thread; a failed task matches nothing.
pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    off_the_workers(move || verify_blocking(&password, &hash))
        .await
        .unwrap_or(false)
}

/// Spends the work of one verification, for a login whose email has no password to check.
pub async fn verify_nothing(password: &str) {
    let password = password.to_owned();
    let _ = off_the_workers(move || {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let dummy = DUMMY.get_or_init(|| hash_blocking("not a real password").unwrap_or_default());
        verify_blocking(&password, dummy)
    })
    .await;
}

fn hash_blocking(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Unexpected(anyhow::anyhow!("hashing a password failed: {e}")))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").await.unwrap();
        let b = hash_password("correct horse battery").await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &a).await);
        assert!(!verify_password("correct horse batterY", &a).await);
        assert!(!verify_password("anything", "not a phc string").await);
    }

    /// On a single-threaded runtime, a task hashing inline would hold the only thread until it is done;
    /// on the hashing threads, the runtime keeps running other tasks meanwhile.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_and_verifying_leave_the_async_worker_free() {
        let hash = hash_password("correct horse battery").await.unwrap();
        let hashing = tokio::spawn(async { hash_password("another long password").await });
        let verifying = tokio::spawn(async move { verify_password("wrong one here", &hash).await });
        let mut turns = 0u64;
        while !(hashing.is_finished() && verifying.is_finished()) {
            turns += 1;
            tokio::task::yield_now().await;
        }
        assert!(
            turns > 100,
            "the worker ran only {turns} turns while hashing"
        );
        assert!(hashing.await.unwrap().is_ok());
        assert!(!verifying.await.unwrap());
    }

    #[test]
    fn policy_names_the_problem() {
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy("          ").is_err());
        assert!(check_password_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password_policy("long enough password").is_ok());
    }

    /// The hashing threads run under `SCHED_IDLE` (policy 5), so the kernel runs request threads first.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_the_lowest_priority() {
        hash_password("correct horse battery").await.unwrap();
        let mut policies = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let dir = task.unwrap().path();
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if !comm.starts_with("flagent-argon2") {
                continue;
            }
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            // Fields after the command's closing parenthesis; the policy is the 41st field of the line.
            let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
            policies.push(fields[38].parse::<i32>().unwrap());
        }
        assert!(!policies.is_empty(), "no hashing thread found");
        assert!(
            policies.iter().all(|&p| p == 5),
            "scheduling policies {policies:?}"
        );
    }
}
