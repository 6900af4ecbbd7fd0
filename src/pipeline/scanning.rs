//! Where the inspect phase runs the scanner.
//!
//! A short prompt is scanned on the async worker that serves the request: it costs
//! microseconds, less than handing it to another thread. A large body is scanned on
//! tokio's blocking pool instead. The scanner reads dense text at tens of MB/s, so a
//! 4 MB body of customer records takes a worker for over 100 ms; with one worker per
//! core, two such bodies would stall every other request on the gateway, health
//! checks included. A semaphore with one slot per core bounds how many large scans run
//! at once; a request waiting for a slot waits without holding a worker.
//!
//! The texts' fingerprint, another pass over every byte, is taken where they are
//! scanned. A large body's JSON is parsed there too ([`off_worker`]). Either way a scanner error or panic gives `None`, and the phase refuses the
//! request: it fails closed and the decision event is still recorded.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::audit::Fingerprinter;
use crate::policy::Bundle;
use crate::scan::{Finding, Scanner};

/// Bytes of prompt text (all segments of a request together) up to which the scan runs
/// on the request's worker. 16 KiB is about 16 µs of prose and under 1 ms of the
/// densest text.
pub(super) const INLINE_SCAN_BYTES: usize = 16 * 1024;

/// The slots for scans off the workers: one per core the process may use.
pub(super) fn scan_slots() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(
        std::thread::available_parallelism().map_or(1, usize::from),
    ))
}

/// What inspect learns from the texts of a request.
#[derive(Debug, PartialEq)]
pub(super) struct Scanned {
    /// The findings of each text, in order.
    pub findings: Vec<Vec<Finding>>,
    /// The keyed fingerprint of the texts (see [`Fingerprinter::fingerprint`]).
    pub fingerprint: String,
    /// The bytes of all the texts.
    pub bytes: usize,
}

/// Scans each text and fingerprints them all; `None` when the scanner failed or
/// panicked on any of them. Over [`INLINE_SCAN_BYTES`], on the blocking pool: the
/// fingerprint is a pass over every byte too.
pub(super) async fn scan_texts(
    bundle: &Arc<Bundle>,
    fingerprinter: &Fingerprinter,
    texts: Vec<String>,
    slots: &Arc<Semaphore>,
) -> Option<Scanned> {
    if texts.iter().map(String::len).sum::<usize>() <= INLINE_SCAN_BYTES {
        return scan_all(bundle.scanner(), fingerprinter, &texts);
    }
    let bundle = Arc::clone(bundle);
    let fingerprinter = fingerprinter.clone();
    off_worker(slots, move || {
        scan_all(bundle.scanner(), &fingerprinter, &texts)
    })
    .await
    .flatten()
}

/// Runs `work` on the blocking pool once one of `slots` is free; `None` if it panicked.
/// The slot goes with the work: a request dropped meanwhile (the client went away)
/// frees it only when the work ends. The semaphore is never closed; if it were, `None`
/// (the caller refuses the request) is the closed failure.
pub(super) async fn off_worker<T: Send + 'static>(
    slots: &Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let slot = Arc::clone(slots).acquire_owned().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let done = catch_unwind(AssertUnwindSafe(work)).ok();
        drop(slot);
        done
    })
    .await
    .ok()
    .flatten()
}

/// Every text through the scanner, a panic caught as a failure. The scanner's per-thread
/// buffers are taken out for a scan and given back after, so one lost to a panic is
/// simply made again.
fn scan_all(scanner: &Scanner, fingerprinter: &Fingerprinter, texts: &[String]) -> Option<Scanned> {
    let findings = catch_unwind(AssertUnwindSafe(|| {
        texts
            .iter()
            .map(|text| scanner.scan(text).ok())
            .collect::<Option<Vec<_>>>()
    }))
    .ok()
    .flatten()?;
    Some(Scanned {
        findings,
        fingerprint: fingerprinter.fingerprint(texts.iter().map(String::as_str)),
        bytes: texts.iter().map(String::len).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySource;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn bundle() -> anyhow::Result<Arc<Bundle>> {
        Ok(Arc::new(Bundle::load(&PolicySource::bundled())?))
    }

    /// A task that records whether the runtime polled it.
    fn witness() -> Arc<AtomicBool> {
        let polled = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&polled);
        tokio::spawn(async move { flag.store(true, Ordering::SeqCst) });
        polled
    }

    const LINE: &str =
        "Jane Doe <jane.doe@example.com>, SSN 123-45-6789, card 4111 1111 1111 1111.\n";

    // On a one-thread runtime, the witness task can only run while the scan is off
    // this thread.
    #[tokio::test(flavor = "current_thread")]
    async fn a_large_body_is_scanned_off_the_worker_with_the_same_findings() -> anyhow::Result<()> {
        let bundle = bundle()?;
        let texts = vec![LINE.repeat(4_000), "my SSN is 078-05-1120".to_owned()];
        assert!(texts[0].len() > INLINE_SCAN_BYTES);
        let polled = witness();
        let slots = Arc::new(Semaphore::new(1));
        let fingerprinter = Fingerprinter::with_key(b"k");
        let scanned = scan_texts(&bundle, &fingerprinter, texts.clone(), &slots).await;
        assert!(
            polled.load(Ordering::SeqCst),
            "the worker stayed in the scan"
        );
        let expected = texts
            .iter()
            .map(|t| bundle.scanner().scan(t))
            .collect::<Result<Vec<_>, _>>()?;
        assert_eq!(
            scanned,
            Some(Scanned {
                findings: expected.clone(),
                fingerprint: fingerprinter.fingerprint(texts.iter().map(String::as_str)),
                bytes: texts[0].len() + texts[1].len(),
            })
        );
        assert_eq!(expected[0].len(), 4_000 * 4);
        assert_eq!(expected[1].len(), 1);
        assert_eq!(slots.available_permits(), 1, "the slot is given back");
        Ok(())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_short_prompt_is_scanned_in_place() -> anyhow::Result<()> {
        let bundle = bundle()?;
        let texts = vec![LINE.to_owned(), LINE.repeat(3)];
        assert!(texts.iter().map(String::len).sum::<usize>() <= INLINE_SCAN_BYTES);
        let polled = witness();
        // No slot is free: a scan that needed one would never finish.
        let slots = Arc::new(Semaphore::new(0));
        let scanned = scan_texts(&bundle, &Fingerprinter::with_key(b"k"), texts, &slots).await;
        assert!(
            !polled.load(Ordering::SeqCst),
            "the scan handed the worker over"
        );
        assert_eq!(
            scanned.map(|s| s.findings.iter().map(Vec::len).collect()),
            Some(vec![4, 12])
        );
        Ok(())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_large_scan_waits_for_a_free_slot() -> anyhow::Result<()> {
        let bundle = bundle()?;
        let slots = Arc::new(Semaphore::new(1));
        let held = slots.try_acquire()?;
        let fingerprinter = Fingerprinter::with_key(b"k");
        let scan = scan_texts(&bundle, &fingerprinter, vec![LINE.repeat(1_000)], &slots);
        tokio::pin!(scan);
        // Polled while the only slot is taken, the scan does not start.
        assert!(futures_poll_once(scan.as_mut()).await.is_none());
        drop(held);
        let scanned = scan.await;
        assert_eq!(scanned.map(|s| s.findings[0].len()), Some(4_000));
        Ok(())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_request_keeps_its_slot_until_its_scan_ends() -> anyhow::Result<()> {
        let bundle = bundle()?;
        let slots = Arc::new(Semaphore::new(1));
        let fingerprinter = Fingerprinter::with_key(b"k");
        let texts = vec![LINE.repeat(4_000)];
        let mut scan = Box::pin(scan_texts(&bundle, &fingerprinter, texts, &slots));
        // Started: the slot is taken and the scan runs on the blocking pool.
        assert!(futures_poll_once(scan.as_mut()).await.is_none());
        assert_eq!(slots.available_permits(), 0);
        drop(scan);
        assert_eq!(
            slots.available_permits(),
            0,
            "freed while the scan still runs"
        );
        // The scan ends by itself and gives the slot back.
        let _slot = slots.acquire().await?;
        Ok(())
    }

    /// Polls `future` once: its output if it was ready.
    async fn futures_poll_once<F: Future + Unpin>(mut future: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
                std::task::Poll::Ready(out) => Some(out),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
