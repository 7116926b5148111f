import Foundation

/// Opens a TCP connection with a deadline (connect(2) alone may hang for minutes on a silent network).
enum TCPConnector {
    static func connect(host: String, port: Int, deadline: Deadline,
                        makeError: (String) -> SSHError) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw makeError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var failures: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let address = describe(current.pointee)
            let fd = socket(current.pointee.ai_family, current.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue),
                            current.pointee.ai_protocol)
            if fd < 0 {
                failures.append("\(address): socket: \(String(cString: strerror(errno)))")
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var noDelay: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            if let failure = finishConnect(fd, current.pointee, deadline) {
                failures.append("\(address): \(failure)")
                close(fd)
                if deadline.expired { break }
                continue
            }
            return fd
        }
        throw makeError(failures.joined(separator: "; "))
    }

    /// nil on success, else why not.
    private static func finishConnect(_ fd: Int32, _ info: addrinfo, _ deadline: Deadline) -> String? {
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return nil }
        guard errno == EINPROGRESS else { return String(cString: strerror(errno)) }
        while true {
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&descriptor, 1, deadline.remainingMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { return "connect timed out after \(describeSeconds(deadline.seconds))" }
            break
        }
        var socketError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
        return socketError == 0 ? nil : String(cString: strerror(socketError))
    }

    private static func describe(_ info: addrinfo) -> String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = getnameinfo(info.ai_addr, info.ai_addrlen, &host, socklen_t(host.count),
                                 &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
        guard status == 0 else { return "?" }
        func text(_ chars: [CChar]) -> String {
            String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let name = text(host), port = text(service)
        return name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)"
    }
}
