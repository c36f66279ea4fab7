/// A value kept in one heap box that its copies share until one of them
/// changes it (copy on write).
///
/// For the many-field values that are copied far more often than they
/// change (a session, a request, the plugin's request object): copying one
/// costs a single reference count, where copying its fields one by one
/// cost one for every string, list and object among them. Reads go through
/// ``value``; a change through it first gives this copy a box of its own
/// when another copy shares the box.
///
/// The box is unchecked `Sendable` and has no dynamic exclusivity checks:
/// it is only changed through a copy that holds the sole reference to it,
/// so no access can overlap a change.
@frozen
public struct CopyOnWrite<Value: Sendable>: Sendable {
    @usableFromInline
    final class Box: @unchecked Sendable {
        @usableFromInline @exclusivity(unchecked) var value: Value

        @inlinable
        init(_ value: Value) { self.value = value }
    }

    @usableFromInline
    var box: Box

    /// Boxes `value`.
    @inlinable
    public init(_ value: Value) {
        box = Box(value)
    }

    /// The value; changing it copies the box first when it is shared.
    @inlinable
    public var value: Value {
        get { box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
            yield &box.value
        }
    }
}

extension CopyOnWrite: Equatable where Value: Equatable {
    /// Equal when the values are; copies that share a box are equal without comparing.
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.box === rhs.box || lhs.box.value == rhs.box.value
    }
}
