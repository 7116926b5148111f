/// Runs `body` for every item with at most `limit` running at once, in item order of starting
/// (the apply phase ordering relies on that: memcache hosts are queued, hence started, first).
/// Results come back in item order.
public enum BoundedParallel {
    public static func map<Item: Sendable, Result: Sendable>(
        _ items: [Item], limit: Int, _ body: @escaping @Sendable (Item) async -> Result
    ) async -> [Result] {
        let limit = max(1, limit)
        return await withTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: items.count)
            var next = 0
            while next < min(limit, items.count) {
                let index = next, item = items[index]
                group.addTask { (index, await body(item)) }
                next += 1
            }
            while let (index, result) = await group.next() {
                results[index] = result
                if next < items.count {
                    let started = next, item = items[started]
                    group.addTask { (started, await body(item)) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}
