import NIOCore
import NIOPosix

/// Flushes the connections written during one pass of an event loop
/// together, once that pass has handled every ready socket, instead of
/// one by one as each answer or forwarded request is written.
///
/// On loopback every flush hands bytes straight to the peer and wakes it;
/// on a busy machine the woken peer then preempts the loop in the middle
/// of its pass, once per write. Writing a pass's bytes back to back lets
/// one wake-up serve them all. The bytes leave in the same pass, before
/// the loop waits for new events, so no answer waits for more traffic.
///
/// Unchecked `Sendable`: each instance belongs to one event loop thread
/// (it is kept per thread) and is only touched there.
final class DeferredFlushes: @unchecked Sendable {
    private static let perLoop = ThreadSpecificVariable<DeferredFlushes>()

    private var channels: [Channel] = []
    private var armed = false

    /// Flushes `channel` at the end of the current pass of its event loop;
    /// called from any other thread, flushes it now.
    static func flush(_ channel: Channel) {
        guard channel.eventLoop.inEventLoop else {
            channel.flush()
            return
        }
        let batch: DeferredFlushes
        if let existing = perLoop.currentValue {
            batch = existing
        } else {
            batch = DeferredFlushes()
            perLoop.currentValue = batch
        }
        batch.channels.append(channel)
        guard !batch.armed else { return }
        batch.armed = true
        // A task queued from the loop itself runs after the events of the
        // current pass, without waking anything.
        channel.eventLoop.assumeIsolated().execute { batch.run() }
    }

    private func run() {
        armed = false
        var due = channels
        channels.removeAll(keepingCapacity: true)
        for channel in due { channel.flush() }
        due.removeAll()
    }
}
