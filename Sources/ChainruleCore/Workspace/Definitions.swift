/// The workspace's definitions, in the order their names were first defined, found by name
/// through one table of small numbers: an entry is stored once, in a flat list, and a new
/// name costs one probe of the table (``claim(_:)``).
public struct Definitions: Sendable, RandomAccessCollection {
    private var list: [Workspace.Entry] = []
    private var slots: [String: Int32] = [:]

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { list.count }
    public subscript(position: Int) -> Workspace.Entry { list[position] }

    /// The definition of `name`, if there is one.
    /// A name whose place is reserved but not yet filled (``claim(_:)``) has none.
    public subscript(name: String) -> Workspace.Entry? {
        guard let slot = slots[name], Int(slot) < list.count else { return nil }
        return list[Int(slot)]
    }

    public func contains(_ name: String) -> Bool {
        guard let slot = slots[name] else { return false }
        return Int(slot) < list.count
    }

    /// Every definition (in definition order).
    public var values: [Workspace.Entry] { list }

    /// The names, in the order they were first defined.
    public var names: Names { Names(list: list) }

    /// The names of some definitions, read in place.
    public struct Names: RandomAccessCollection, Sendable {
        let list: [Workspace.Entry]
        public var startIndex: Int { 0 }
        public var endIndex: Int { list.count }
        public subscript(position: Int) -> String { list[position].name }
    }

    mutating func reserveCapacity(_ count: Int) {
        list.reserveCapacity(count)
        slots.reserveCapacity(count)
    }

    /// Replaces the definition of `entry.name`, or adds it after the others.
    mutating func put(_ entry: Workspace.Entry) {
        if let slot = slots[entry.name] {
            list[Int(slot)] = entry
        } else {
            slots[entry.name] = Int32(truncatingIfNeeded: list.count)
            list.append(entry)
        }
    }

    /// The position of `name`'s definition, if it has one.
    func position(of name: String) -> Int? {
        guard let slot = slots[name], Int(slot) < list.count else { return nil }
        return Int(slot)
    }

    /// Changes the elements of the leaf value of the definition at `position` in place (no
    /// copy once the value's storage is its own).
    mutating func updateValue(at position: Int, _ body: (UnsafeMutableBufferPointer<Double>) -> Void) {
        guard list[position].value != nil else { return }
        list[position].value?.scalars.withUnsafeMutableBufferPointer { body($0) }
    }

    /// The position of `name`'s definition, reserving the next one when `name` is new (one
    /// probe of the table either way); a reserved position is filled by ``fill(_:)`` or
    /// given back by ``release(_:)``.
    mutating func claim(_ name: String) -> (position: Int, isNew: Bool) {
        let next = Int32(truncatingIfNeeded: list.count)
        let slot = Definitions.settle(&slots[name, default: next])
        return (Int(slot), slot == next)
    }

    /// Fills the position ``claim(_:)`` reserved for a new name.
    mutating func fill(_ entry: Workspace.Entry) {
        list.append(entry)
    }

    /// Gives back the position ``claim(_:)`` reserved for `name`, which was not defined after all.
    mutating func release(_ name: String) {
        slots[name] = nil
    }

    private static func settle(_ slot: inout Int32) -> Int32 { slot }
}
