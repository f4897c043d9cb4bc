//! The ingest queue and its writer: group commit. Requests hand their rows to one writer task per node,
//! which writes every request waiting at that moment in one transaction and then answers each of them.
//!
//! Invariant: a request is answered `Ok` only after the transaction holding its rows committed, so an
//! acknowledged item survives a crash of the server.
//! Invariant: the queue holds at most its capacity in bytes (an estimate of each row's size); a request
//! that does not fit is refused at once ([`Queue::submit`] answers `Full`), so memory stays bounded
//! under any overload.

use flagent_storage::entities::{event, exposure};
use flagent_storage::{Db, GroupTx, NewCrash, StorageError};
use flagent_types::TenantScope;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// What one request hands the writer.
#[derive(Default)]
pub(crate) struct Rows {
    pub(crate) events: Vec<event::Model>,
    pub(crate) exposures: Vec<exposure::Model>,
    /// Crash reports (each also has its `$crash` event in `events`).
    pub(crate) crashes: Vec<NewCrash>,
}

impl Rows {
    /// The bytes these rows hold while queued (an estimate: the fixed columns and the texts).
    pub(crate) fn weight(&self) -> usize {
        let events: usize = self
            .events
            .iter()
            .map(|e| 96 + e.event_key.len() + e.properties.as_ref().map_or(0, String::len))
            .sum();
        let crashes: usize = self
            .crashes
            .iter()
            .map(|c| {
                let flags: usize = c.flags.iter().map(|(f, v)| 32 + f.len() + v.len()).sum();
                let texts = c.platform.len() + c.error_type.len() + c.message.len();
                256 + texts + c.top_frames.len() + c.app_version.len() + c.frames.len() + flags
            })
            .sum();
        events + self.exposures.len() * 64 + crashes
    }

    fn len(&self) -> usize {
        self.events.len() + self.exposures.len() + self.crashes.len()
    }
}

/// Why a submission was not committed.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The queue is full.
    Full,
    /// The transaction failed (or the writer is gone).
    Failed(String),
}

struct Job {
    scope: TenantScope,
    rows: Rows,
    _permit: OwnedSemaphorePermit,
    done: oneshot::Sender<Result<(), String>>,
}

/// The node's ingest queue.
pub(crate) struct Queue {
    jobs: mpsc::UnboundedSender<Job>,
    room: Arc<Semaphore>,
}

impl Queue {
    /// Starts the writer over `db`: at most `capacity_bytes` queued, at most `batch_rows` rows per
    /// transaction (a single request larger than that still goes in one).
    pub(crate) fn start(db: Db, capacity_bytes: usize, batch_rows: usize) -> Queue {
        let (jobs, incoming) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(db, incoming, batch_rows));
        Queue {
            jobs,
            room: Arc::new(Semaphore::new(capacity_bytes)),
        }
    }

    /// Queues `rows` of `scope`'s tenant and waits until they are committed.
    pub(crate) async fn submit(&self, scope: &TenantScope, rows: Rows) -> Result<(), Refused> {
        if rows.len() == 0 {
            return Ok(());
        }
        let weight = u32::try_from(rows.weight()).map_err(|_| Refused::Full)?;
        let permit = self
            .room
            .clone()
            .try_acquire_many_owned(weight)
            .map_err(|_| Refused::Full)?;
        let (done, answer) = oneshot::channel();
        let job = Job {
            scope: scope.clone(),
            rows,
            _permit: permit,
            done,
        };
        self.jobs
            .send(job)
            .map_err(|_| Refused::Failed("the ingest writer has stopped".to_owned()))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(Refused::Failed(err)),
            Err(_) => Err(Refused::Failed("the ingest writer has stopped".to_owned())),
        }
    }

    /// Bytes free in the queue.
    pub(crate) fn room(&self) -> usize {
        self.room.available_permits()
    }
}

/// Takes every job waiting (up to `batch_rows` rows), commits them together, answers them, repeats.
async fn write_loop(db: Db, mut incoming: mpsc::UnboundedReceiver<Job>, batch_rows: usize) {
    while let Some(first) = incoming.recv().await {
        let mut rows = first.rows.len();
        let mut jobs = vec![first];
        while rows < batch_rows {
            match incoming.try_recv() {
                Ok(job) => {
                    rows += job.rows.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let result = commit(&db, &mut jobs).await.map_err(|err| {
            tracing::warn!(error = %err, jobs = jobs.len(), "an ingest commit failed");
            err.to_string()
        });
        for job in jobs {
            // A requester that has gone away no longer needs the answer.
            let _ = job.done.send(result.clone());
        }
    }
}

/// Writes every job's rows in one transaction, tenant by tenant (one run of inserts per tenant): events,
/// exposures, then crash reports with their groups and per-variant counts. A failed write is rolled
/// back at once, so no lock outlives it.
async fn commit(db: &Db, jobs: &mut [Job]) -> Result<(), StorageError> {
    jobs.sort_by_key(|job| job.scope.tenant_id().0);
    let mut group = db.begin_group().await?;
    match write(&mut group, jobs).await {
        Ok(()) => group.commit().await,
        Err(err) => {
            let _ = group.rollback().await;
            Err(err)
        }
    }
}

async fn write(group: &mut GroupTx, jobs: &mut [Job]) -> Result<(), StorageError> {
    let mut start = 0;
    while start < jobs.len() {
        let tenant = jobs[start].scope.tenant_id();
        let end = jobs[start..]
            .iter()
            .position(|job| job.scope.tenant_id() != tenant)
            .map_or(jobs.len(), |n| start + n);
        let mut rows = Rows::default();
        for job in &mut jobs[start..end] {
            rows.events.append(&mut job.rows.events);
            rows.exposures.append(&mut job.rows.exposures);
            rows.crashes.append(&mut job.rows.crashes);
        }
        let scoped = group.scoped(&jobs[start].scope).await?;
        scoped.insert_events(rows.events).await?;
        scoped.insert_exposures(rows.exposures).await?;
        // Groups are written in fingerprint order (`record_crashes`), after the inserts above.
        scoped.record_crashes(rows.crashes).await?;
        start = end;
    }
    Ok(())
}
