import Foundation
import PortcullisCore
import Testing

@Suite("Locked")
struct LockedTests {
    /// Four threads, released together, each add 1 many times through a
    /// read-then-write that would lose updates without the lock; the total
    /// must come out exact.
    @Test("Updates from several threads at once are never lost")
    func exclusiveAcrossThreads() {
        let counter = Locked((total: 0, inside: 0, overlapped: false))
        let threads = 4
        let rounds = 100_000
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                start.wait()
                for _ in 0..<rounds {
                    counter.withLock { state in
                        state.inside += 1
                        if state.inside > 1 { state.overlapped = true }
                        let seen = state.total
                        state.total = seen + 1
                        state.inside -= 1
                    }
                }
                group.leave()
            }
            thread.start()
        }
        for _ in 0..<threads { start.signal() }
        group.wait()
        let result = counter.value
        #expect(result.total == threads * rounds)
        #expect(result.overlapped == false)
    }

    @Test("The value reads back what was written, and a throwing body leaves the lock free")
    func valueAndThrow() {
        struct Refused: Error {}
        let locked = Locked([1, 2])
        locked.value = [3]
        #expect(locked.value == [3])
        #expect(throws: Refused.self) { try locked.withLock { _ in throw Refused() } }
        #expect(locked.withLock { $0.count } == 1)
    }
}
