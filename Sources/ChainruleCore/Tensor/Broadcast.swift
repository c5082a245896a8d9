/// NumPy broadcasting: aligning shapes from the right, sizes must be equal or 1.
public enum Broadcast {
    /// The broadcast shape of `a` and `b`, or nil when some aligned sizes differ and neither is 1.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = Array(repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if x == y || y == 1 {
                result[i] = x
            } else if x == 1 {
                result[i] = y
            } else {
                return nil
            }
        }
        return result
    }

    /// For each element of `target` (row-major), the index of the element of a tensor of
    /// shape `source` that broadcasting places there. `source` must broadcast to `target`.
    public static func sourceIndices(from source: [Int], to target: [Int]) -> [Int] {
        let count = target.reduce(1, *)
        if source == target { return Array(0..<count) }
        let offset = target.count - source.count
        let sourceStrides = strides(of: source)
        // Stride of each target axis in the source: 0 where the source repeats.
        var step = Array(repeating: 0, count: target.count)
        for axis in source.indices where source[axis] != 1 {
            step[axis + offset] = sourceStrides[axis]
        }
        var result = [Int]()
        result.reserveCapacity(count)
        var index = Array(repeating: 0, count: target.count)
        var position = 0
        for _ in 0..<count {
            result.append(position)
            // Advance the multi-index like an odometer.
            var axis = target.count - 1
            while axis >= 0 {
                index[axis] += 1
                position += step[axis]
                if index[axis] < target[axis] { break }
                position -= step[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// `tensor` repeated to `target` (which it must broadcast to).
    public static func expand(_ tensor: Tensor, to target: [Int]) -> Tensor {
        if tensor.shape == target { return tensor }
        let map = sourceIndices(from: tensor.shape, to: target)
        return Tensor(shape: target, scalars: map.map { tensor.scalars[$0] })
    }

    /// The adjoint of ``expand(_:to:)``: sums a gradient of the broadcast shape back onto `source`.
    public static func reduce(_ gradient: Tensor, to source: [Int]) -> Tensor {
        if gradient.shape == source { return gradient }
        let map = sourceIndices(from: source, to: gradient.shape)
        var result = Tensor.zeros(source)
        for (i, j) in map.enumerated() { result.scalars[j] += gradient.scalars[i] }
        return result
    }

    /// Applies `combine` elementwise after broadcasting both operands to `shape`.
    public static func zip(_ a: Tensor, _ b: Tensor, to shape: [Int],
                           _ combine: (Double, Double) -> Double) -> Tensor {
        if a.shape == shape && b.shape == shape { return a.zipMap(b, combine) }
        if b.count == 1 && a.shape == shape {
            let y = b.scalars[0]
            return a.map { combine($0, y) }
        }
        if a.count == 1 && b.shape == shape {
            let x = a.scalars[0]
            return b.map { combine(x, $0) }
        }
        let left = sourceIndices(from: a.shape, to: shape)
        let right = sourceIndices(from: b.shape, to: shape)
        var scalars = [Double](repeating: 0, count: left.count)
        for i in scalars.indices { scalars[i] = combine(a.scalars[left[i]], b.scalars[right[i]]) }
        return Tensor(shape: shape, scalars: scalars)
    }
}
