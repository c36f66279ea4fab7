import Foundation

/// Work handed from any thread to the one thread that drains it: a JS
/// worker's calls, or the jobs of a task a blocked worker runs itself.
///
/// The consumer takes everything queued at once, so a burst costs one lock
/// round trip, not one per item. A producer signals only when the consumer
/// sleeps, and after releasing the lock, so a busy consumer costs it no
/// system call and a woken one does not block at once on the lock its
/// waker still holds.
final class HandOffQueue<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private var closed = false
    private var sleeping = false

    /// Queues `item` and runs `accepted` under the lock (bookkeeping that
    /// must happen before the consumer can take it); returns false, queuing
    /// nothing, once the queue is closed.
    func push(_ item: Item, accepted: () -> Void = {}) -> Bool {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return false
        }
        items.append(item)
        accepted()
        let wake = sleeping
        sleeping = false
        condition.unlock()
        if wake { condition.signal() }
        return true
    }

    /// Refuses further items; the consumer still takes what is queued.
    func close() {
        condition.lock()
        closed = true
        let wake = sleeping
        sleeping = false
        condition.unlock()
        if wake { condition.signal() }
    }

    /// Accepts items again after ``close()``, for a consumer that serves
    /// one producer after another.
    func reopen() {
        condition.lock()
        closed = false
        condition.unlock()
    }

    /// Blocks until something is queued or the queue is closed, then moves
    /// everything queued into the empty `batch`. Returns false when the
    /// queue is closed and empty: the consumer is done.
    func takeAll(into batch: inout [Item]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed {
            sleeping = true
            condition.wait()
        }
        sleeping = false
        guard !items.isEmpty else { return false }
        swap(&batch, &items)
        return true
    }

    /// Takes the first queued item, without waiting, when `taking` accepts it.
    func takeFirst(if taking: (Item) -> Bool) -> Item? {
        condition.lock()
        defer { condition.unlock() }
        guard let first = items.first, taking(first) else { return nil }
        return items.removeFirst()
    }

    /// Moves everything queued into the empty `batch` without waiting;
    /// returns false when nothing was queued.
    func takeQueued(into batch: inout [Item]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !items.isEmpty else { return false }
        swap(&batch, &items)
        return true
    }
}
