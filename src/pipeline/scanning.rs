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
//! Either way a scanner error or panic gives `None`, and the phase refuses the
//! request: it fails closed and the decision event is still recorded.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::policy::Bundle;
use crate::scan::{Finding, Scanner};

/// Bytes of prompt text (all segments of a request together) up to which the scan runs
/// on the request's worker. 16 KiB is about 16 µs of prose and under 1 ms of the
/// densest text.
pub(super) const INLINE_SCAN_BYTES: usize = 16 * 1024;

/// The slots for scans off the workers: one per core the process may use.
pub(super) fn scan_slots() -> Semaphore {
    Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from))
}

/// The findings of each text, in order; `None` when the scanner failed or panicked on
/// any of them. The texts come back with the findings (a large scan moves them to
/// another thread).
pub(super) async fn scan_texts(
    bundle: &Arc<Bundle>,
    texts: Vec<String>,
    slots: &Semaphore,
) -> (Vec<String>, Option<Vec<Vec<Finding>>>) {
    if texts.iter().map(String::len).sum::<usize>() <= INLINE_SCAN_BYTES {
        let findings = scan_all(bundle.scanner(), &texts);
        return (texts, findings);
    }
    // The semaphore is never closed; if it were, refusing is the closed failure.
    let Ok(_slot) = slots.acquire().await else {
        return (Vec::new(), None);
    };
    let bundle = Arc::clone(bundle);
    let scan = tokio::task::spawn_blocking(move || {
        let findings = scan_all(bundle.scanner(), &texts);
        (texts, findings)
    });
    scan.await.unwrap_or_else(|_| (Vec::new(), None))
}

/// Every text through the scanner, a panic caught as a failure. The scanner's per-thread
/// buffers are taken out for a scan and given back after, so one lost to a panic is
/// simply made again.
fn scan_all(scanner: &Scanner, texts: &[String]) -> Option<Vec<Vec<Finding>>> {
    catch_unwind(AssertUnwindSafe(|| {
        texts
            .iter()
            .map(|text| scanner.scan(text).ok())
            .collect::<Option<Vec<_>>>()
    }))
    .ok()
    .flatten()
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
        let slots = Semaphore::new(1);
        let (back, findings) = scan_texts(&bundle, texts.clone(), &slots).await;
        assert!(
            polled.load(Ordering::SeqCst),
            "the worker stayed in the scan"
        );
        assert_eq!(back, texts);
        let expected = texts
            .iter()
            .map(|t| bundle.scanner().scan(t))
            .collect::<Result<Vec<_>, _>>()?;
        assert_eq!(findings.as_ref(), Some(&expected));
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
        let slots = Semaphore::new(0);
        let (_, findings) = scan_texts(&bundle, texts, &slots).await;
        assert!(
            !polled.load(Ordering::SeqCst),
            "the scan handed the worker over"
        );
        assert_eq!(
            findings.map(|f| f.iter().map(Vec::len).collect()),
            Some(vec![4, 12])
        );
        Ok(())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_large_scan_waits_for_a_free_slot() -> anyhow::Result<()> {
        let bundle = bundle()?;
        let slots = Semaphore::new(1);
        let held = slots.try_acquire()?;
        let scan = scan_texts(&bundle, vec![LINE.repeat(1_000)], &slots);
        tokio::pin!(scan);
        // Polled while the only slot is taken, the scan does not start.
        assert!(futures_poll_once(scan.as_mut()).await.is_none());
        drop(held);
        let (_, findings) = scan.await;
        assert_eq!(findings.map(|f| f[0].len()), Some(4_000));
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
